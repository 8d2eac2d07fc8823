"""The pretrained weights mlimages knows by name, where they come from, and where they are kept.

Imports nothing but the error root: the CLI lists the models and ``train`` tells a name from
a path without loading NumPy or Chainer.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from mlimages.errors import MlimagesError

#: The cache folder's environment variable; unset: :data:`DEFAULT_HOME`.
HOME_ENV = "MLIMAGES_HOME"
DEFAULT_HOME = "~/.cache/mlimages"
#: A base URL that replaces each model's own folder (a mirror, or the tests' 127.0.0.1 server):
#: the file is fetched from ``$MLIMAGES_PRETRAINED_URL/<file>`` and checked against the same sha1.
URL_ENV = "MLIMAGES_PRETRAINED_URL"


class PretrainedError(MlimagesError, OSError):
    """A pretrained model that cannot be had: the download failed, or the file is not the one
    the registry names (its size or sha1 differ); the message says how to place it by hand."""


class UnknownModel(MlimagesError, ValueError):
    """A name that is not in :data:`MODELS`; the message lists the names."""


@dataclass(frozen=True)
class PretrainedModel:
    """One set of trained weights.

    Attributes:
        name: what ``pretrained fetch`` and ``train --init-model`` take.
        arch: the network of :mod:`mlimages.models` its layers fit.
        url: where the file is published.  sha1: its SHA-1 (hex), checked before any use.
        size: its length in bytes when a source states it, else None (the server's
            Content-Length is checked instead; the sha1 decides either way).
        approx: the size for people ("233 MB").
        licence: what its publisher says about use.  note: its figures, as published.
        source: the page that states the URL, the sha1 and the licence.
    """

    name: str
    arch: str
    url: str
    sha1: str
    size: "int | None"
    approx: str
    licence: str
    note: str
    source: str

    @property
    def file(self):
        """The file's name (the last part of its URL), in the cache and on a mirror."""
        return self.url.rpartition("/")[2]


# Source of both entries: Caffe's model zoo readmes (front matter: caffemodel_url, sha1,
# license; body: the top-1 figure and the licence sentence), read 2026-12-02 from
#   https://github.com/BVLC/caffe/blob/master/models/bvlc_alexnet/readme.md
#   https://github.com/BVLC/caffe/blob/master/models/bvlc_reference_caffenet/readme.md
# ("license: unrestricted", "This model is released for unrestricted use."; an older Caffe
# page called the same weights non-commercial, after ImageNet's terms of access). Neither
# readme states the byte size: size is None and the sha1 pins the file. CaffeNet differs from
# AlexNet only in the order of pooling and normalisation, so both fit our `alex` layer by layer.
_CAFFE = "http://dl.caffe.berkeleyvision.org/"
_ZOO = "https://github.com/BVLC/caffe/tree/master/models/"
_LICENCE = ("released for unrestricted use (Caffe model zoo); trained on ImageNet, "
            "whose terms of access are for non-commercial research")

MODELS = {m.name: m for m in (
    PretrainedModel("bvlc_alexnet", "alex", _CAFFE + "bvlc_alexnet.caffemodel",
                    "9116a64c0fbe4459d18f4bb6b56d647b63920377", None, "233 MB", _LICENCE,
                    "57.1 % top-1 on ILSVRC 2012 val (centre crop)", _ZOO + "bvlc_alexnet"),
    PretrainedModel("bvlc_reference_caffenet", "alex",
                    _CAFFE + "bvlc_reference_caffenet.caffemodel",
                    "4c8d77deb20ea792f84eb5e6d0a11ca0a8660a46", None, "233 MB", _LICENCE,
                    "57.4 % top-1 on ILSVRC 2012 val (centre crop)",
                    _ZOO + "bvlc_reference_caffenet"),
)}


def is_name(value):
    """True when ``value`` names a model of :data:`MODELS` (a path to a file never does: give
    ``./bvlc_alexnet`` for a file of that name in the working folder)."""
    return isinstance(value, str) and value in MODELS


def get(name):
    """The model called ``name``.

    Raises:
        UnknownModel: no such name (the message lists the known ones).
    """
    if name not in MODELS:
        raise UnknownModel(f"no pretrained model {name!r}; the known ones are "
                           f"{', '.join(MODELS)} (`mlimages pretrained list`)")
    return MODELS[name]


def home():
    """The cache folder: ``$MLIMAGES_HOME``, else ``~/.cache/mlimages`` (made when needed)."""
    return Path(os.environ.get(HOME_ENV) or DEFAULT_HOME).expanduser()


def url_of(model):
    """Where ``model`` is downloaded from: under ``$MLIMAGES_PRETRAINED_URL`` when set."""
    base = os.environ.get(URL_ENV)
    return f"{base.rstrip('/')}/{model.file}" if base else model.url
