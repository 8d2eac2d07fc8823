"""The views of one image the network is shown: the centre crop, or test-time augmentation.

Each view is made by the loader's own preprocessing (:func:`mlimages.loader.transforms.place`:
the image flipped, then cropped; the mean cropped at the same place, unflipped; / 255), so
``none`` is exactly what the evaluation loader (and so training's validation) feeds:

* ``none``: the centre crop;
* ``flip``: the centre crop and its mirror;
* ``10crop``: the 4 corner crops and the centre crop, each also mirrored (the classic
  oversample of Caffe and Chainer's examples). With images the size of the crop the five
  crops coincide, and ``10crop`` answers as ``flip`` does.
"""

import numpy

from mlimages.evaluate.options import TTA_MODES
from mlimages.image import ImageSpec, open_image
from mlimages.loader.transforms import CropParams, chw_array, crop_params, place

#: How many views each mode makes.
TTA_VIEWS = {"none": 1, "flip": 2, "10crop": 10}


def view_params(size, crop, mode):
    """The views of ``mode`` for an image of ``size`` x ``size`` and crops of ``crop``.

    Returns:
        CropParams: the loader's record of crops, for V = ``TTA_VIEWS[mode]`` views: int64
        (V,) tops and lefts, bool (V,) flips; the unflipped views come first.

    Raises:
        ValueError: an unknown mode (the message lists the modes).
    """
    if mode not in TTA_MODES:
        raise ValueError(f"tta={mode!r}: choose one of {', '.join(TTA_MODES)}")
    centre = crop_params(0, 0, 0, 1, size, crop, train=False)
    if mode == "10crop":
        far = size - crop
        places = [(0, 0), (0, far), (far, 0), (far, far), (int(centre.tops[0]),
                                                            int(centre.lefts[0]))]
    else:
        places = [(int(centre.tops[0]), int(centre.lefts[0]))]
    flips = (False, True) if mode != "none" else (False,)
    tops, lefts, flipped = zip(*[(t, l, f) for f in flips for t, l in places])
    return CropParams(numpy.array(tops, numpy.int64), numpy.array(lefts, numpy.int64),
                 numpy.array(flipped, bool))


def read_chw(path, size, resize):
    """The image at ``path`` as training reads it (the loader's :func:`chw_array`): uint8
    (3, size, size) RGB, contiguous.

    Raises:
        mlimages.image.ImageError: it cannot be read.
    """
    return chw_array(open_image(path, ImageSpec(size=size, resize=resize)))


def make_views(chw, mean, crop, views):
    """The network inputs of one image.

    Args:
        chw: uint8 (C, S, S).  mean: float32 (C, S, S) or (C, 1, 1).  crop (int): view side.
        views (CropParams): from :func:`view_params`.

    Returns:
        float32 (V, C, crop, crop): each ``(flip(chw) - mean)`` crop, times 1/255.
    """
    out = numpy.empty((len(views.tops), chw.shape[0], crop, crop), numpy.float32)
    for v, (top, left, flip) in enumerate(zip(*views)):
        place(out[v], chw, mean, top, left, flip, crop)
    return out

