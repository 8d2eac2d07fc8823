"""``mlimages train``: a Chainer Trainer run, and everything that run needs.

* ``options``      TrainOptions, FinetuneOptions and their errors (no Chainer import)
* ``run``          :func:`train`: wires the others into one Trainer run; its result and summary
* ``inputs``       lists, label definitions, mean, crop, device, snapshot: checked; the loaders
* ``device``       the CPU or a CUDA GPU, checked (``GpuError`` says what to install)
* ``rundir``       the output folder: what a run writes, snapshots, reading a run back
* ``npz``          the one reader of ``.npz`` files (model, snapshots, weights): no pickle
* ``monitor``      Trainer extensions: log CSV, plots, NaN stop, RNG state, triggers
* ``finetune``     weights from ``model.npz`` or Caffe, by layer and shape; freezing
* ``caffe``        Caffe files: ``.caffemodel`` weights and ``.binaryproto`` means
* ``distributed``  ``--distributed``: ChainerMN over MPI

Every module but ``options`` imports Chainer; ``mlimages.training.run`` is what the CLI uses.
"""
