"""mlimages: from a list of image URLs to a trained, fine-tuned CNN.

The package is one module per pipeline stage (see ARCHITECTURE.md):

* ``image``    LabeledImage: open, fix channels, resize, HWC -> CHW
* ``listfile`` the one reader/writer of ``path label`` lists and label_def.txt
* ``label``    class-per-folder tree -> list files, splits, verification
* ``gather``   URL lists -> validated downloads + manifest
* ``mean``     list -> mean image (.npy + .png)
* ``loader``   asyncio batch loader (a Chainer iterator)
* ``train``    Chainer Trainer wiring (``monitor``: its extensions); ``models`` the networks
* ``finetune`` start from trained (or Caffe) weights, freeze layers
* ``sizes``    the article's layer-size arithmetic (``mlimages inspect``)
* ``predict``  a training output folder -> top-k classes of images
* ``info``     versions, BLAS kernel, CUDA, and known-slow set-ups
* ``_chainer`` the one place that imports chainer (NumPy 2 / Python 3.12 bridge)
* ``cli``      the command line: parse, call one library function, print

Importing ``mlimages`` does not import Chainer; the stages that need it do.
"""

__version__ = "0.1.0"
