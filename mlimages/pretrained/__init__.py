"""Pretrained weights by name: ``mlimages pretrained list|fetch`` and ``train --init-model NAME``.

    registry.py   the known models (name, the arch they fit, URL, sha1, licence, source), the
                  cache folder ($MLIMAGES_HOME) and the URL override ($MLIMAGES_PRETRAINED_URL);
                  imports nothing heavy
    download.py   HTTP into FILE.part: resumed (Range), a tqdm bar, size and sha1 checked, renamed
    store.py      the cache folder: fetch (lock, download or check, convert to .npz once),
                  init_weights (what --init-model loads)

This package imports only :mod:`.registry` (no NumPy): ``from mlimages.pretrained.store import
fetch`` for the rest.
"""

from mlimages.pretrained.registry import (MODELS, PretrainedError, PretrainedModel,  # noqa: F401
                                          UnknownModel, get, is_name)

__all__ = ["MODELS", "PretrainedError", "PretrainedModel", "UnknownModel", "get", "is_name"]
