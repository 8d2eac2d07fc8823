"""mlimages: from a list of image URLs to a trained, fine-tuned CNN.

``ls mlimages/`` shows the stages; a stage with more than one module is a folder (the
one-line-per-module map is ARCHITECTURE.md):

* ``errors``    MlimagesError, the root of every exception; ``defaults``: shared constants
* ``image``     LabeledImage: open, fix channels, resize, HWC -> CHW
* ``listfile``  the one reader/writer of ``path label`` lists and label_def.txt
* ``label``     class-per-folder tree -> list files, splits, verification
* ``mean``      list -> mean image (.npy + .png + .json); the one ``mean.npy`` reader
* ``gather``    URL lists -> validated downloads + manifest
* ``loader``    asyncio batch loader (a Chainer iterator); pure, seeded transforms
* ``models``    the networks by name; the article's layer-size arithmetic
* ``training``  ``mlimages train``: the run, its output folder, device, monitor, fine-tuning,
  distributed
* ``evaluate``  a training output folder + a labelled list -> per-class figures, confusion
  matrix, the most confident mistakes (files and pictures); TTA
* ``predict``   a training output folder -> top-k classes of images, folders and lists
* ``info``      versions, BLAS kernel, CUDA, and known-slow set-ups
* ``demo``      the demo, its generated task and the one fake image host
* ``cli``       the command line: parse, call one library function, print
* ``compat``    ``import mlimages.compat`` before ``import chainer`` in your own scripts
* ``_chainer``  the one place that imports chainer (NumPy 2 / Python 3.12 bridge); ``_fs``
  atomic writes

Importing ``mlimages`` does not import Chainer; the stages that need it do.
"""

__version__ = "0.1.0"
