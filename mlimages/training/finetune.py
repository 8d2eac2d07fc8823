"""Fine-tuning: start from trained weights, re-initialise the head, freeze the lower layers.

The article's central lesson: with a few hundred images per class, do not train AlexNet from
scratch; take a network trained on ImageNet, replace the last layer for your classes and train
only the top, so that no error propagates into the pretrained lower layers.

* :func:`read_weights` reads ``model.npz`` files written by ``mlimages train`` (or any
  Chainer ``save_npz`` of a Chain, a Classifier or a trainer snapshot) and Caffe
  ``.caffemodel`` files (AlexNet/CaffeNet layer names map onto ours one to one; the reading
  is :mod:`mlimages.training.caffe`).
* :func:`load_matching` copies them into a network layer by layer, where every array of a layer
  has the same shape; layers whose shapes differ (the head, for another class count) keep their
  fresh random initialisation.
* :func:`freeze` disables updates of named layers; :func:`scale_pretrained_lr` gives pretrained
  layers a smaller learning rate.
"""

from pathlib import Path
from typing import NamedTuple

import numpy

from mlimages._chainer import chainer
from mlimages.training.caffe import read_caffemodel
from mlimages.training.options import FinetuneError, FinetuneOptions  # noqa: F401 (re-exported)

# Prefixes under which a network's own arrays sit in other npz layouts.
_NPZ_PREFIXES = ("updater/model:main/predictor/", "predictor/")


class LoadReport(NamedTuple):
    """What :func:`load_matching` did, by layer name.

    Attributes:
        loaded: layers whose arrays were all copied.
        reinitialised: layers present in both whose shapes differ; they keep fresh weights.
        fresh: layers of the network the weights file does not have.
        unused: layers of the weights file the network does not have.
        shapes: {layer: (shapes in the file, shapes in the network)} for the reinitialised.
    """

    loaded: list
    reinitialised: list
    fresh: list
    unused: list
    shapes: dict


# ------------------------------------------------------------------ reading weights
def read_weights(path):
    """Read trained weights into {"layer/param": numpy array}.

    Args:
        path: a ``.npz`` written by ``save_npz`` (a network, an ``L.Classifier`` or a
            trainer snapshot) or a Caffe ``.caffemodel``.

    Returns:
        dict of "conv1/W"-style names to float32 arrays. Caffe weights are already converted
        to this package's input (RGB, scaled by 1/255), see
        :func:`mlimages.training.caffe.read_caffemodel`.
    """
    path = Path(path)
    if not path.is_file():
        raise FinetuneError(f"no weights file {path}; give a model.npz written by "
                            "`mlimages train` or a Caffe .caffemodel")
    if path.suffix == ".caffemodel":
        return read_caffemodel(path)
    try:
        with numpy.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError) as e:
        raise FinetuneError(f"cannot read weights {path}: {e}; expected a .npz from "
                            "`mlimages train` (model.npz) or a .caffemodel") from None
    return _strip_prefix(arrays)


def _strip_prefix(arrays):
    """Keep only the network's own arrays, named relative to the network."""
    for prefix in _NPZ_PREFIXES:
        inner = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
        if inner:
            return inner
    return arrays


# ------------------------------------------------------------------ applying weights
def model_arrays(model):
    """The network's state as {"layer/param": array}: parameters and persistents (e.g. the
    running statistics of BatchNormalization), as ``save_npz`` would write them."""
    serializer = chainer.serializers.DictionarySerializer()
    serializer.save(model)
    return dict(serializer.target)


def _group(arrays):
    """{"a/b/W": x} -> {"a/b": {"W": x}}."""
    layers = {}
    for key, value in arrays.items():
        layer, _, name = key.rpartition("/")
        layers.setdefault(layer, {})[name] = value
    return layers


def load_matching(model, weights):
    """Copy ``weights`` into ``model`` layer by layer where every shape matches.

    Args:
        model (chainer.Chain): the network, with initialised parameters (run it once).
        weights (dict): "layer/param" -> array, from :func:`read_weights`.

    Returns:
        LoadReport.
    """
    uninitialised = sorted(name.lstrip("/") for name, p in model.namedparams(include_uninit=True)
                           if p.array is None)
    if uninitialised:
        raise FinetuneError(f"{', '.join(uninitialised)}: not initialised yet; run the "
                            "network once on a batch before loading weights")
    own = model_arrays(model)
    mine, given = _group(own), _group(weights)
    merged = dict(own)
    loaded, reinit, fresh, shapes = [], [], [], {}
    order = {name: i for i, name in enumerate(layer_names(model))}
    for layer, arrays in sorted(mine.items(), key=lambda item: order.get(item[0], len(order))):
        if layer not in given:
            fresh.append(layer)
            continue
        want = {n: numpy.shape(a) for n, a in arrays.items()}
        have = {n: numpy.shape(given[layer][n]) for n in arrays if n in given[layer]}
        if have != want:
            reinit.append(layer)
            shapes[layer] = (have, want)
            continue
        merged.update({f"{layer}/{n}": numpy.asarray(given[layer][n]) for n in arrays})
        loaded.append(layer)
    chainer.serializers.NpzDeserializer(merged).load(model)
    unused = sorted(set(given) - set(mine))
    return LoadReport(loaded, reinit, fresh, unused, shapes)


def layer_names(model):
    """Names of the network's layers, in declaration order (which is the forward order:
    every network in ``mlimages.models`` declares its layers from input to output)."""
    return [name for name, value in vars(model).items() if isinstance(value, chainer.Link)]


def frozen_layers(model, opts):
    """The layer names ``opts.freeze`` / ``opts.freeze_until`` select, validated."""
    names = layer_names(model)
    chosen = list(opts.freeze)
    if opts.freeze_until:
        if opts.freeze_until not in names:
            raise FinetuneError(f"--freeze-until {opts.freeze_until}: no such layer; the "
                                "network's layers are " + ", ".join(names))
        chosen += names[:names.index(opts.freeze_until) + 1]
    unknown = [n for n in chosen if n not in names]
    if unknown:
        raise FinetuneError(f"--freeze {','.join(unknown)}: no such layer; the network's "
                            "layers are " + ", ".join(names))
    if chosen and set(chosen) >= set(names):
        raise FinetuneError("--freeze covers every layer: nothing would be trained; leave at "
                            "least the last layer (" + names[-1] + ") unfrozen")
    return [n for n in names if n in set(chosen)]


def freeze(model, names):
    """Stop updates of the named layers (weights, biases and weight decay alike).

    Call it after ``optimizer.setup``: it switches off the update rules that setup creates.
    Chainer still computes the gradients of frozen layers (it has no per-parameter switch for
    that); the optimizer skips them, so the frozen weights stay identical bit for bit.
    """
    for name in names:
        if any(p.update_rule is None for p in model[name].params(include_uninit=True)):
            raise FinetuneError(f"freeze {name}: the optimizer is not set up yet; call "
                                "freeze() after optimizer.setup(model)")
        model[name].disable_update()


class _ScaleGrad:
    """Update-rule hook: multiplies a parameter's gradient (weight decay included) by
    ``scale``, which for (momentum) SGD is the same as a learning rate ``scale`` times
    smaller, and follows the optimizer's learning-rate schedule."""

    name = "mlimages_pretrained_lr_scale"
    timing = "pre"

    def __init__(self, scale):
        self.scale = scale

    def __call__(self, rule, param):
        if param.grad is not None:
            param.grad *= self.scale


def scale_pretrained_lr(model, names, scale):
    """Give the named layers ``scale`` times the learning rate (after ``optimizer.setup``)."""
    if scale == 1:
        return
    for name in names:
        for param in model[name].params():
            param.update_rule.add_hook(_ScaleGrad(scale))
