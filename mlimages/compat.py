"""Make ``import chainer`` work on NumPy 2 and Python >= 3.12, for your own scripts.

Chainer 7.8.1 (the last release) does not import on current stacks as shipped: it reads
``numpy.sctypes`` (gone in NumPy 2) and imports ``numpy.distutils`` and ``pkg_resources`` for
advisory checks (gone on Python >= 3.12 and in setuptools >= 81). Importing this module first
bridges both, without editing anything installed::

    import mlimages.compat  # noqa: F401  (before chainer)
    import chainer

Chainer's own ``examples/imagenet/train_imagenet.py`` runs this way on our lists and mean. The
names ``chainer``, ``F``, ``L``, ``training`` and ``extensions`` are also available from here.
How the bridge works: :mod:`mlimages._chainer`, which every stage of mlimages imports Chainer
through.
"""

from mlimages._chainer import F, L, chainer, extensions, training  # noqa: F401

__all__ = ["chainer", "F", "L", "training", "extensions"]
