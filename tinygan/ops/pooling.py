"""2-D pooling: average, max and adaptive average (PyTorch's ``F.avg_pool2d``,
``F.max_pool2d``, ``F.adaptive_avg_pool2d``).

DCGAN's first rule (Radford et al. 2015, §3; MATH.md §2) replaces these with strided
convolutions; they are here so that the rule can be compared with what it replaced.

Both are compositions of differentiable ops, so their gradients can be differentiated
again (a pooled critic under WGAN-GP's penalty):

* average pooling is a convolution of each channel with a constant kernel of 1/(kh·kw)
  (:func:`~tinygan.ops.conv.conv2d` on (N·C, 1, H, W)); ``count_include_pad=False``
  divides each window's sum by its count of real pixels instead;
* max pooling takes the kh·kw strided views of the (−∞-padded) input, one per position
  in the window, stacks them and reduces with ``max(dim=0)``, whose gradient goes to the
  first maximal position in row-major window order — PyTorch's choice.
"""
from __future__ import annotations

from .. import backend as B
from ..autograd import Tensor
from ._util import constant
from .conv import _pair, conv2d, conv_output_size
from .shape import getitem, pad, reshape, stack

__all__ = ["avg_pool2d", "max_pool2d", "adaptive_avg_pool2d"]


def _window(who, x, kernel_size, stride, padding, ceil_mode):
    """Checked (kernel, stride, padding, output size) of a 2-D pooling of ``x``."""
    if not isinstance(x, Tensor) or x.ndim != 4:
        raise ValueError(f"{who}: expected input (N, C, H, W), got "
                         f"{getattr(x, 'shape', type(x).__name__)}")
    if ceil_mode:
        raise ValueError(f"{who}: ceil_mode=True is not supported")
    k = _pair(kernel_size, "kernel_size", who)
    s = k if stride is None or stride == [] else _pair(stride, "stride", who)
    p = _pair(padding, "padding", who)
    if min(k) <= 0 or min(s) <= 0 or min(p) < 0 or p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(f"{who}: need kernel and stride > 0 and 0 <= padding <= kernel / 2, "
                         f"got kernel {k}, stride {s}, padding {p}")
    out = tuple(conv_output_size(n, kk, ss, pp) for n, kk, ss, pp in zip(x.shape[2:], k, s, p))
    if min(out) <= 0:
        raise ValueError(f"{who}: input {x.shape} padded by {p} is smaller than the kernel {k}")
    return k, s, p, out


def avg_pool2d(x: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    k, s, p, (oh, ow) = _window("avg_pool2d", x, kernel_size, stride, padding, ceil_mode)
    n, c, h, w = x.shape
    mod = B.array_module(x.data)
    ones = constant(mod.ones((1, 1) + k, dtype=x.dtype))
    sums = conv2d(reshape(x, (n * c, 1, h, w)), ones, stride=s, padding=p)
    if count_include_pad:
        out = sums * (1.0 / (k[0] * k[1]))
    else:
        counts = conv2d(constant(mod.ones((1, 1, h, w), dtype=x.dtype)), ones, stride=s,
                        padding=p)
        out = sums / counts
    return reshape(out, (n, c, oh, ow))


def max_pool2d(x: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False) -> Tensor:
    if _pair(dilation, "dilation", "max_pool2d") != (1, 1):
        raise ValueError("max_pool2d: only dilation=1 is supported")
    if return_indices:
        raise ValueError("max_pool2d: return_indices=True is not supported")
    k, s, p, (oh, ow) = _window("max_pool2d", x, kernel_size, stride, padding, ceil_mode)
    if p != (0, 0):
        x = pad(x, (p[1], p[1], p[0], p[0]), value=float("-inf"))
    views = [getitem(x, (slice(None), slice(None),
                         slice(i, i + s[0] * (oh - 1) + 1, s[0]),
                         slice(j, j + s[1] * (ow - 1) + 1, s[1])))
             for i in range(k[0]) for j in range(k[1])]
    return stack(views, 0).max(dim=0).values


def adaptive_avg_pool2d(x: Tensor, output_size) -> Tensor:
    """Average over equal windows that tile the input into ``output_size`` (None keeps that
    dim); sizes that do not divide the input's (PyTorch's overlapping windows) are refused."""
    if not isinstance(x, Tensor) or x.ndim != 4:
        raise ValueError(f"adaptive_avg_pool2d: expected input (N, C, H, W), got "
                         f"{getattr(x, 'shape', type(x).__name__)}")
    size = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 2
    out = tuple(n if o is None else int(o) for n, o in zip(x.shape[2:], size))
    if min(out) <= 0 or x.shape[2] % out[0] or x.shape[3] % out[1]:
        raise ValueError(f"adaptive_avg_pool2d: output size {out} must divide the input's "
                         f"{x.shape[2:]} (windows of unequal size are not supported)")
    kernel = (x.shape[2] // out[0], x.shape[3] // out[1])
    return avg_pool2d(x, kernel, kernel)
