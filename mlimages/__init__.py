"""mlimages: from a list of image URLs to a trained, fine-tuned CNN.

``ls mlimages/`` shows the stages; a stage with more than one module is a folder (the
one-line-per-module map is ARCHITECTURE.md):

* ``errors``    MlimagesError, the root of every exception; ``defaults``: shared constants
* ``image``     LabeledImage: open, fix channels, resize, HWC -> CHW
* ``listfile``  the one reader/writer of ``path label`` lists and label_def.txt
* ``label``     class-per-folder tree -> list files, splits, verification
* ``mean``      list -> mean image (.npy + .png + .json); the one ``mean.npy`` reader
* ``audit``     tree or lists -> duplicate groups, leaks across splits and classes, quality
  flags, audit.json, CSVs and report.html
* ``gather``    URL lists -> validated downloads + manifest
* ``loader``    asyncio batch loader (a Chainer iterator); pure, seeded transforms
* ``models``    the networks by name; the article's layer-size arithmetic
* ``training``  ``mlimages train``: the run, its output folder, device, monitor, fine-tuning,
  distributed
* ``evaluate``  a training output folder + a labelled list -> per-class figures, confusion
  matrix, the most confident mistakes (files and pictures); TTA
* ``predict``   a training output folder -> top-k classes of images, folders and lists
* ``pretrained``  ImageNet weights by name (Caffe's AlexNets): registry, resumed and checked
  download, the cache folder ($MLIMAGES_HOME), the .npz ``train --init-model NAME`` loads
* ``export``    a training output folder -> an ONNX model (onnx_chainer; mean, scaling and
  softmax inside), checked against Chainer with onnxruntime
* ``info``      versions, BLAS kernel, CUDA, and known-slow set-ups
* ``demo``      the demo, its generated task and the one fake image host
* ``cli``       the command line: parse, call one library function, print
* ``compat``    ``import mlimages.compat`` before ``import chainer`` in your own scripts
* ``_chainer``  the one place that imports chainer (NumPy 2 / Python 3.12 bridge); ``_fs``
  atomic writes; ``_mpi`` MPI for ``--distributed`` (gather, train): one abort-on-error

Importing ``mlimages`` does not import Chainer; the stages that need it do. It adds one
finder to ``sys.meta_path`` that only warns: a script that then imports Chainer where Chainer
cannot import by itself is told to ``import mlimages.compat`` first.
"""

__version__ = "0.1.0"


class _ChainerImportHint:
    """A hint, not a fix: when a script imports Chainer after ``import mlimages`` on a stack
    where Chainer 7 cannot import by itself (NumPy 2, Python >= 3.12) and the bridge was not
    loaded, warn once that ``import mlimages.compat`` comes first. It changes no import:
    ``find_spec`` always returns None, and it steps aside once the bridge is loaded."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name == "chainer" and "mlimages._chainer" not in _sys.modules and _needs_bridge():
            import warnings
            warnings.warn("Chainer 7 does not import on NumPy 2 or Python >= 3.12 as shipped: "
                          "put `import mlimages.compat` before `import chainer` (README, "
                          "Troubleshooting)", UserWarning,
                          stacklevel=2)
        return None


def _needs_bridge():
    if _sys.version_info >= (3, 12):
        return True
    try:
        from importlib.metadata import version
        return int(version("numpy").split(".")[0]) >= 2
    except Exception:  # no metadata (a vendored NumPy): say nothing rather than guess
        return False


import sys as _sys  # noqa: E402

if not any(f is _ChainerImportHint for f in _sys.meta_path):
    _sys.meta_path.insert(0, _ChainerImportHint)
