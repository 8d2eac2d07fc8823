"""``mlimages train``: a Chainer Trainer run, and everything that run needs.

* ``run``          :func:`train` (options, inputs, model, optimizer, extensions, the run)
* ``monitor``      Trainer extensions: log CSV, plots, NaN stop, RNG state, triggers
* ``finetune``     weights from ``model.npz`` or Caffe, by layer and shape; freezing
* ``distributed``  ``--distributed``: ChainerMN over MPI

Importing this package imports Chainer; ``mlimages.training.run`` is what the CLI uses.
"""
