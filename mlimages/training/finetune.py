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
  fresh random initialisation. :func:`load_init_model` (``--init-model``) does both, reading
  only the arrays that fit, and refuses a file of which no layer fits.
* :func:`freeze` disables updates of named layers; :func:`scale_pretrained_lr` gives pretrained
  layers a smaller learning rate.
"""

from pathlib import Path
from typing import NamedTuple

import numpy

from mlimages._chainer import chainer
from mlimages.training.caffe import read_caffemodel
from mlimages.training.npz import NpzArchive, NpzError
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
def read_weights(path, want=None):
    """Read trained weights into {"layer/param": numpy array}.

    Args:
        path: a ``.npz`` written by ``save_npz`` (a network, an ``L.Classifier`` or a
            trainer snapshot) or a Caffe ``.caffemodel``. An ``.npz`` is read without pickle,
            its headers checked before any array (:class:`mlimages.training.npz.NpzArchive`).
        want: {"layer/param": shape} of the network (:func:`model_arrays`): when given, only
            the arrays of these names and shapes are read; the others come back as their
            :class:`~mlimages.training.npz.Header` (shape and dtype, no data), so a file's
            arrays of other shapes, whatever size they declare, are never loaded.

    Returns:
        dict of "conv1/W"-style names to arrays (or Headers). Caffe weights are already
        converted to this package's input (RGB, scaled by 1/255), see
        :func:`mlimages.training.caffe.read_caffemodel`.

    Raises:
        FinetuneError: no such file, or not a plain-array ``.npz`` (or ``.caffemodel``).
    """
    path = Path(path)
    if not path.is_file():
        raise FinetuneError(f"no weights file {path}; give a model.npz written by "
                            "`mlimages train` or a Caffe .caffemodel")
    if path.suffix == ".caffemodel":
        return read_caffemodel(path)
    try:
        with NpzArchive(path) as archive:
            headers = archive.headers
            return {name: archive[key] if want is None or want.get(name) == headers[key].shape
                    else headers[key] for name, key in _network_names(archive.keys()).items()}
    except NpzError as e:
        raise FinetuneError(f"cannot use the weights {path}: {e.detail}") from None


def _network_names(keys):
    """{name relative to the network: name in the file}, for the network's own arrays."""
    for prefix in _NPZ_PREFIXES:
        inner = {k[len(prefix):]: k for k in keys if k.startswith(prefix)}
        if inner:
            return inner
    return {k: k for k in keys}


def load_init_model(model, path):
    """Load the weights file ``path`` (``--init-model``) into ``model`` by layer and shape.

    Only the arrays of the network's names and shapes are read from the file.

    Returns:
        LoadReport.

    Raises:
        FinetuneError: the file cannot be read, an array of the right shape is not real
            numbers, or not one layer of the file fits the network (it would train from
            scratch, and ``--freeze`` would freeze random weights).
    """
    want = {name: numpy.shape(a) for name, a in model_arrays(model).items()}
    weights = read_weights(path, want)
    try:
        report = load_matching(model, weights)
    except FinetuneError as e:
        raise FinetuneError(f"--init-model {path}: {e}") from None
    if not report.loaded:
        raise FinetuneError(_nothing_matched(path, model, weights, report))
    return report


def _nothing_matched(path, model, weights, report):
    found = sorted(_group(weights))
    differ = (f"; shapes differ in {', '.join(report.reinitialised)}"
              if report.reinitialised else "")
    return (f"--init-model {path}: nothing in it matches the network, which would train "
            f"from scratch: the file's layers are {', '.join(found) or 'none'}, the "
            f"network's are {', '.join(layer_names(model))}{differ}; give the model.npz of a "
            "run with the same --arch (another class count re-initialises the last layer only)")


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
        _check_real(layer, given[layer])
        merged.update({f"{layer}/{n}": numpy.asarray(given[layer][n]) for n in arrays})
        loaded.append(layer)
    chainer.serializers.NpzDeserializer(merged).load(model)
    unused = sorted(set(given) - set(mine))
    return LoadReport(loaded, reinit, fresh, unused, shapes)


def _check_real(layer, arrays):
    """Refuse weights of a complex, string or other non-real dtype (before copying any)."""
    for name, value in arrays.items():
        dtype = value.dtype if hasattr(value, "dtype") else numpy.asarray(value).dtype
        if dtype.kind not in "biuf":
            raise FinetuneError(f"{layer}/{name} has dtype {dtype}; a network's weights are "
                                "real numbers (float32): is this a weights file?")


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
