"""The networks, by name.  Each returns logits; ``L.Classifier`` adds loss and accuracy.

Every model class takes the class count as its only constructor argument and declares its
input size as the class attribute ``insize`` (the crop the loader must produce).
"""

from mlimages._chainer import L
from mlimages.models.alex import Alex
from mlimages.models.alexbn import AlexBN
from mlimages.models.small import Small
from mlimages.errors import MlimagesError

ARCHS = {
    "alex": Alex,
    "alexbn": AlexBN,
    "small": Small,
}


class ModelError(MlimagesError, ValueError):
    """An unknown architecture name, or a class count that cannot be built."""


def get_arch(name):
    """Return the model class registered as ``name``; raises ModelError naming the choices."""
    try:
        return ARCHS[name]
    except KeyError:
        raise ModelError(f"unknown architecture {name!r}; choose one of: "
                         + ", ".join(sorted(ARCHS))) from None


def build_classifier(arch, n_classes):
    """``L.Classifier`` around a fresh ``arch`` network with ``n_classes`` outputs.

    Returns:
        chainer.links.Classifier: ``predictor`` is the network; calling it with (x, t)
        returns the softmax cross-entropy loss and reports ``loss`` and ``accuracy``.
    """
    if n_classes < 2:
        raise ModelError(f"{arch}: need at least 2 classes to classify, got {n_classes}")
    return L.Classifier(get_arch(arch)(n_classes))
