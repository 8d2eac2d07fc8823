"""Facts every stage shares, written once: sizes, resize modes, network names.

Imports nothing, so the CLI can build any parser (choices, defaults) without loading a stage.
"""

#: How an image is brought to SIZE x SIZE (see :class:`mlimages.image.ImageSpec`):
#: ``downscale`` keeps the whole image, shorter side to SIZE, then the centre square;
#: ``crop`` takes the centre square without scaling (zero padding where the image is
#: smaller); ``squash`` resizes ignoring the aspect ratio.
RESIZE_MODES = ("downscale", "crop", "squash")

#: The side images are resized to before cropping, in mean, the loader, train and predict.
DEFAULT_SIZE = 256

#: The resize mode of mean, the loader, train and predict (must agree between them).
DEFAULT_RESIZE = "downscale"

#: The registered networks (:data:`mlimages.models.ARCHS`; a test keeps the registry to these
#: names). Written here so that building the parser does not import Chainer.
ARCH_NAMES = ("alex", "alexbn", "small")

#: The network ``train`` and ``inspect`` use when none is named.
DEFAULT_ARCH = "alex"
