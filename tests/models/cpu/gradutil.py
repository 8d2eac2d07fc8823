"""The one forward-and-backward helper of the fast CPU functions' tests."""

from mlimages._chainer import chainer


def forward_backward(function, *inputs, gy):
    """``(y, *input gradients)`` of ``function(*inputs)`` with ``gy`` as the output gradient;
    ``None`` inputs (an absent bias) are left out of the call and of the gradients."""
    xs = [chainer.Variable(a.copy()) for a in inputs if a is not None]
    y = function(*xs)
    y.grad = gy.copy()
    y.backward()
    return (y.array,) + tuple(v.grad for v in xs)
