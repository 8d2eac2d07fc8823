"""``mlimages train``: a Chainer Trainer run, and everything that run needs.

* ``options``      TrainOptions, FinetuneOptions and their errors (no Chainer import)
* ``run``          :func:`train`: wires the others into one Trainer run; its result
* ``summary``      the lines printed when a run ends
* ``inputs``       lists, label definitions, mean, crop, device, snapshot: checked; the loaders
* ``imagesize``    the image size and resize mode, from the mean's .json and the flags
* ``preflight``    every listed file looked for before the first iteration
* ``device``       the CPU or a CUDA GPU, checked (``GpuError`` says what to install)
* ``rundir``       the output folder: what a run writes, whose it is, reading a run back
* ``snapshots``    trainer snapshots: written, found, loaded back (``--resume``)
* ``runmodels``    the model files: written whole, the current and the best; which one to use
* ``best``         ``model_best.npz`` by a validation figure; ``--patience``
* ``npz``          the one reader of ``.npz`` files (model, snapshots, weights): no pickle
* ``metrics``      validation figures as means over images
* ``report``       the epoch rows and the start line, from the log (no Chainer import)
* ``screen``       what a run prints: the start line, a row per epoch, a progress bar
* ``plots``        curves.png (loss and accuracy by epoch, the best epoch marked)
* ``monitor``      Trainer extensions: log CSV, plots, NaN stop, RNG state, triggers
* ``finetune``     weights from ``model.npz`` or Caffe, by layer and shape; freezing
* ``caffe``        Caffe files: ``.caffemodel`` weights and ``.binaryproto`` means
* ``distributed``  ``--distributed``: ChainerMN over MPI

``options`` and ``report`` import no Chainer; ``mlimages.training.run`` is what the CLI uses.
"""
