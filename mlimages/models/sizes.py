"""The article's size calculation, as a tool: what each layer does to the input size.

A convolution or pooling layer with kernel F, stride S and padding P turns an N x N input into
an output of side (N + 2P - F) / S + 1.  When the division is not exact, the network does not
fit the input: Chainer's convolutions floor it (the last rows and columns are never seen),
its max pooling ceils it (``cover_all``: a window hangs over the edge).  The output of the last
pooling layer, flattened (channels x side x side), is the input size of the first fully
connected layer: 256 x 6 x 6 = 9216 for AlexNet at 227.

The layers are not declared twice: :func:`trace` runs the registered network once at its own
``insize`` (batch 1, stopping before the first fully connected layer) and records each
convolution and pooling function it calls; :func:`inspect_size` then replays the arithmetic
for any input size.  ``mlimages inspect`` prints the result; ``train`` calls
:func:`check_crop` before anything is trained.
"""

from fractions import Fraction
from typing import NamedTuple

import numpy

from mlimages._chainer import chainer, L
from mlimages.models import get_arch
from mlimages.errors import MlimagesError


class SizeError(MlimagesError, ValueError):
    """An input (crop) size that does not fit an architecture."""


class Layer(NamedTuple):
    """One convolution or pooling step of a network (square kernels).

    Attributes: name ("conv1", "pool1"), kind ("conv" or "pool"), ksize (F), stride (S),
    pad (P), dilate, cover_all (True: Chainer rounds up, False: down), channels (output),
    params (weights + biases; 0 for pooling).
    """

    name: str
    kind: str
    ksize: int
    stride: int
    pad: int
    dilate: int
    cover_all: bool
    channels: int
    params: int


class Dense(NamedTuple):
    """A fully connected layer: name, input size, output size, parameters."""

    name: str
    in_size: int
    out_size: int
    params: int


class Row(NamedTuple):
    """A layer applied to an input of side ``insize``.

    Attributes: layer (Layer), insize (N), exact (Fraction: (N + 2P - F)/S + 1),
    outsize (the int Chainer computes), fits (exact is a whole number >= 1).
    """

    layer: Layer
    insize: int
    exact: Fraction
    outsize: int
    fits: bool


class SizeReport(NamedTuple):
    """What :func:`inspect_size` found.

    Attributes: arch, insize, rows (list of Row), flat (int: channels x side x side reaching the
    first fully connected layer, 0 when a layer's output is empty), dense (list of Dense),
    fits (bool), nearest (sizes that fit: the nearest below and above, either may be None).
    """

    arch: str
    insize: int
    rows: list
    flat: int
    dense: list
    fits: bool
    nearest: tuple


class _Stop(MlimagesError):
    """Raised by the tracing hook at the first fully connected layer."""


class _LinkWatcher(chainer.LinkHook):
    """Names each convolution as it runs and stops the forward pass at the first Linear link,
    which spares initialising the large fully connected weights (AlexNet's fc6 alone has
    37.7 million) only to read off one number."""

    name = "mlimages-sizes-links"

    def __init__(self, model):
        self.paths = {id(link): path.lstrip("/") for path, link in model.namedlinks()}
        self.current = None
        self.flat_shape = None

    def forward_preprocess(self, args):
        if isinstance(args.link, L.Linear):
            self.flat_shape = args.args[0].shape
            raise _Stop()
        self.current = self.paths.get(id(args.link))


class _FunctionRecorder(chainer.FunctionHook):
    """Records every convolution and pooling function called, in order."""

    name = "mlimages-sizes-functions"

    def __init__(self, links):
        self.links = links
        self.layers = []

    def forward_preprocess(self, function, in_data):
        layer = _layer_of(function, in_data, self.links.current, self.layers)
        if layer is not None:
            self.layers.append(layer)


def _layer_of(fn, in_data, link_name, seen):
    """A Layer for a convolution or pooling FunctionNode, else None."""
    kind = type(fn).__name__
    channels = in_data[0].shape[1]
    # mlimages.models.cpu's nodes carry the same geometry attributes as Chainer's
    if kind in ("Convolution2DFunction", "Convolution2D"):
        w = in_data[1]
        bias = in_data[2].size if len(in_data) > 2 else 0
        return Layer(link_name, "conv", w.shape[2], fn.sy, fn.ph, fn.dy, fn.cover_all,
                     w.shape[0], int(w.size + bias))
    if kind in ("MaxPoolingND", "MaxPooling2D") and fn.ndim == 2:
        geometry = fn.ksize[0], fn.stride[0], fn.pad[0]
    elif hasattr(fn, "kh") and hasattr(fn, "sy"):  # the Pooling2D subclasses
        geometry = fn.kh, fn.sy, fn.ph
    else:
        return None
    # Named after the convolution before it, as Caffe does (AlexNet: pool1, pool2, pool5).
    previous = next((x.name for x in reversed(seen) if x.kind == "conv"), "")
    number = previous.lstrip("abcdefghijklmnopqrstuvwxyz_/") if previous else ""
    name = f"pool{number or 1 + sum(x.kind == 'pool' for x in seen)}"
    return Layer(name, "pool", *geometry, 1, fn.cover_all, channels, 0)


def trace(arch, n_classes=1000):
    """Run a fresh ``arch`` network once at its ``insize`` and return its layers.

    Returns:
        (list of Layer, list of (name, out_size) of its Linear links in order).
    """
    model = get_arch(arch)(n_classes)
    x = numpy.zeros((1, 3, model.insize, model.insize), numpy.float32)
    links = _LinkWatcher(model)
    functions = _FunctionRecorder(links)
    with chainer.using_config("train", False), chainer.no_backprop_mode():
        with links, functions:
            try:
                model(x)
            except _Stop:
                pass
    dense = [(path.lstrip("/"), link.out_size) for path, link in model.namedlinks(skipself=True)
             if isinstance(link, L.Linear)]
    return functions.layers, dense


def apply_layers(layers, insize):
    """The article's arithmetic over ``layers`` for a square input of side ``insize``.

    Returns:
        list of Row; it stops after the first layer whose output is empty.
    """
    rows, n = [], insize
    for layer in layers:
        span = layer.dilate * (layer.ksize - 1) + 1
        exact = Fraction(n + 2 * layer.pad - span, layer.stride) + 1
        out = chainer.utils.conv.get_conv_outsize(
            n, layer.ksize, layer.stride, layer.pad, cover_all=layer.cover_all, d=layer.dilate)
        rows.append(Row(layer, n, exact, out, exact.denominator == 1 and exact >= 1))
        if out < 1:
            break
        n = out
    return rows


def _fits(layers, insize):
    rows = apply_layers(layers, insize)
    return len(rows) == len(layers) and all(r.fits for r in rows)


def nearest_fits(layers, insize, span=256):
    """The nearest input sizes below and above ``insize`` (within ``span``) that fit."""
    below = next((n for n in range(insize - 1, max(insize - span, 0), -1)
                  if _fits(layers, n)), None)
    above = next((n for n in range(insize + 1, insize + span) if _fits(layers, n)), None)
    return below, above


def inspect_size(arch, insize=None, n_classes=1000, traced=None):
    """Size table of ``arch`` for an input of side ``insize`` (default: the model's own).

    Args:
        arch (str): a registered architecture name.
        insize (int): input side in pixels (the crop size).
        n_classes (int): outputs of the last layer (only changes its parameter count).
        traced: the result of :func:`trace`, to avoid tracing twice.

    Returns:
        SizeReport.
    """
    insize = get_arch(arch).insize if insize is None else int(insize)
    if insize < 1:
        raise SizeError(f"input size must be at least 1 pixel, got {insize}")
    layers, linears = traced or trace(arch, n_classes)
    rows = apply_layers(layers, insize)
    fits = len(rows) == len(layers) and all(r.fits for r in rows)
    complete = len(rows) == len(layers) and rows[-1].outsize >= 1
    flat = layers[-1].channels * rows[-1].outsize ** 2 if complete else 0
    dense, n_in = [], flat
    for name, out in linears:
        dense.append(Dense(name, n_in, out, n_in * out + out))
        n_in = out
    nearest = (None, None) if fits else nearest_fits(layers, insize)
    return SizeReport(arch, insize, rows, flat, dense, fits, nearest)


def _why(report):
    """The first layer where ``report`` stops fitting, in the article's terms."""
    for row in report.rows:
        if row.fits:
            continue
        layer = row.layer
        value = f"{float(row.exact):g}"
        formula = (f"(N + 2P - F)/S + 1 = ({row.insize} + 2*{layer.pad} - {layer.ksize})"
                   f"/{layer.stride} + 1 = {value}")
        if row.exact < 1:
            return f"at {layer.name}, {formula}: the input is smaller than the {layer.ksize}x{layer.ksize} window"
        left = (row.insize + 2 * layer.pad - layer.dilate * (layer.ksize - 1) - 1) % layer.stride
        if layer.cover_all:
            effect = (f"Chainer's {layer.kind} rounds it up to {row.outsize} (cover_all), so the "
                      f"last window hangs {layer.stride - left} pixel(s) over the edge")
        else:
            effect = (f"Chainer's {layer.kind} floors it to {row.outsize}, so the last {left} "
                      "pixel row(s) and column(s) are never seen")
        return f"at {layer.name}, {formula} is not a whole number ({effect})"
    return ""


def describe_misfit(report):
    """One paragraph: why ``report.insize`` does not fit and which sizes do."""
    below, above = report.nearest
    near = " and ".join(str(n) for n in (below, above) if n is not None) or "none nearby"
    return (f"input size {report.insize} does not fit {report.arch}: {_why(report)}. "
            f"Nearest sizes that fit: {near} "
            f"(see `mlimages inspect --arch {report.arch} --insize {report.insize}`).")


def check_crop(arch, crop, traced=None):
    """Raise SizeError (why, in the article's terms, and the nearest sizes that fit) unless
    a ``crop`` x ``crop`` input passes every layer of ``arch`` exactly.  Returns the report."""
    report = inspect_size(arch, crop, traced=traced)
    if not report.fits:
        raise SizeError(describe_misfit(report))
    return report


def format_report(report):
    """The report as a text table, one line per layer, then the fully connected part."""
    lines = [f"{report.arch} at input {report.insize}x{report.insize}:",
             f"{'layer':<7} {'F':>3} {'S':>2} {'P':>2} {'N':>5}  {'(N+2P-F)/S+1':>13} "
             f"{'out':>5} {'ch':>5} {'params':>11}  note"]
    for row in report.rows:
        layer = row.layer
        note = "" if row.fits else (
            "input smaller than the window" if row.exact < 1 else
            "NOT EXACT: Chainer " + ("rounds up" if layer.cover_all else "floors"))
        lines.append(f"{layer.name:<7} {layer.ksize:>3} {layer.stride:>2} {layer.pad:>2} "
                     f"{row.insize:>5}  {float(row.exact):>13g} {row.outsize:>5} "
                     f"{layer.channels:>5} {layer.params:>11,}  {note}".rstrip())
    if report.flat:
        last = report.rows[-1]
        lines.append(f"flattened: {last.layer.channels} x {last.outsize} x {last.outsize} = "
                     f"{report.flat} inputs to the first fully connected layer")
        for dense in report.dense:
            lines.append(f"{dense.name:<7} {dense.in_size:>6} -> {dense.out_size:<6} "
                         f"{dense.params:>11,} params")
        total = sum(r.layer.params for r in report.rows) + sum(d.params for d in report.dense)
        lines.append(f"parameters in convolution and fully connected layers: {total:,}")
    lines.append("fits: every division is exact" if report.fits else describe_misfit(report))
    return "\n".join(lines)
