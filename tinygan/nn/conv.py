"""``Conv2d`` and ``ConvTranspose2d`` layers (PyTorch shapes, weight layouts and default init).

The arithmetic lives in :mod:`tinygan.ops.conv`; these Modules own the
parameters, validate the input against the layer's configuration (so the
error names the layer), and initialise like PyTorch's ``_ConvNd``:
weight ~ kaiming_uniform(a=√5), i.e. U(±1/sqrt(fan_in)), bias ~ U(±1/sqrt(fan_in)),
with fan_in = weight.shape[1]·KH·KW.  For ConvTranspose2d the weight is
(in, out, KH, KW), so PyTorch's fan_in is out_channels·KH·KW; we keep that
quirk so initial weights are distributed exactly as in PyTorch.
"""
from __future__ import annotations

import math

from .._validate import positive_int as _positive_int
from ..autograd import Tensor
from ..backend import default_dtype, xp
from ..ops.conv import (_check_hyper, _pair, conv2d, conv_output_size, conv_transpose2d,
                        conv_transpose_output_size)
from . import init
from ._dtype import check_input_dtype
from .module import Module, Parameter


def _fmt(pair):
    return str(pair[0]) if pair[0] == pair[1] else f"({pair[0]}, {pair[1]})"


def _only_plain(who, dilation, groups, padding_mode):
    """PyTorch's arguments that tinygan's convolutions take at their default only: another
    value is refused in one line, never ignored."""
    if _pair(dilation, "dilation", who) != (1, 1):
        raise ValueError(f"{who}: dilation={dilation!r} is not supported (only 1)")
    if groups != 1:
        raise ValueError(f"{who}: groups={groups!r} is not supported (only 1)")
    if padding_mode != "zeros":
        raise ValueError(f"{who}: padding_mode={padding_mode!r} is not supported (only 'zeros')")


def _padding_of(padding, kernel_size, stride, who):
    """padding as an (h, w) pair; PyTorch's 'valid' (none) and 'same' (stride 1: the output
    keeps the input's size, which takes KH // 2 on each side, so an odd kernel)."""
    if padding == "valid":
        return (0, 0)
    if padding == "same":
        if stride != (1, 1):
            raise ValueError(f"{who}: padding='same' needs stride 1, got stride {stride}")
        if kernel_size[0] % 2 == 0 or kernel_size[1] % 2 == 0:
            raise ValueError(f"{who}: padding='same' with the even kernel {kernel_size} pads "
                             f"one side more than the other, which is not supported")
        return (kernel_size[0] // 2, kernel_size[1] // 2)
    if isinstance(padding, str):
        raise ValueError(f"{who}: padding must be an int, a pair, 'valid' or 'same', "
                         f"got {padding!r}")
    return _pair(padding, "padding", who)


class _ConvBase(Module):
    transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding,
                 output_padding, bias, device=None, dtype=None):
        super().__init__()
        who = type(self).__name__
        self.in_channels = _positive_int(in_channels, "in_channels", who)
        self.out_channels = _positive_int(out_channels, "out_channels", who)
        self.kernel_size = _pair(kernel_size, "kernel_size", who)
        if min(self.kernel_size) <= 0:
            raise ValueError(f"{who}: kernel_size must be positive, got {kernel_size!r}")
        self.stride = _pair(stride, "stride", who)
        self.padding = _padding_of(padding, self.kernel_size, self.stride, who)
        self.output_padding = _pair(output_padding, "output_padding", who)
        _check_hyper(who, self.stride, self.padding, self.output_padding)
        kh, kw = self.kernel_size
        shape = ((self.in_channels, self.out_channels, kh, kw) if self.transposed
                 else (self.out_channels, self.in_channels, kh, kw))
        self.weight = Parameter(xp().zeros(shape, dtype=default_dtype()))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))  # fan_in from weight.shape[1]
        if bias:
            self.bias = Parameter(xp().zeros((self.out_channels,), dtype=default_dtype()))
            init.default_bias_(self.bias, self.weight)
        else:
            self.register_parameter("bias", None)
        self._made_on(device, dtype)

    def _name(self):
        s = (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
             f"k={_fmt(self.kernel_size)}, s={_fmt(self.stride)}, p={_fmt(self.padding)}")
        if self.transposed and any(self.output_padding):
            s += f", op={_fmt(self.output_padding)}"
        return s + ")"

    def _check_input(self, x):
        if not isinstance(x, Tensor):
            raise TypeError(f"{self._name()}: expected a Tensor, got {type(x).__name__}")
        if x.ndim != 4:
            raise ValueError(f"{self._name()}: expected a 4-D input (N, {self.in_channels}, H, W),"
                             f" got shape {x.shape}")
        if x.shape[1] != self.in_channels:
            raise ValueError(f"{self._name()}: expected input with {self.in_channels} channels, "
                             f"got shape {x.shape}")
        check_input_dtype(self._name(), x, self.weight)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if any(self.padding):
            s += f", padding={self.padding}"
        if self.transposed and any(self.output_padding):
            s += f", output_padding={self.output_padding}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv2d(_ConvBase):
    """y = conv2d(x, W) + b; x (N, in, H, W) -> (N, out, OH, OW), W (out, in, KH, KW).

    OH = floor((H + 2·padding − KH) / stride) + 1 (MATH.md §2).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None):
        _only_plain(type(self).__name__, dilation, groups, padding_mode)
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, 0, bias,
                         device, dtype)

    def output_shape(self, h: int, w: int):
        """(OH, OW) for an H×W input."""
        return tuple(conv_output_size(n, k, s, p) for n, k, s, p in
                     zip((h, w), self.kernel_size, self.stride, self.padding))

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x)
        (kh, kw), (ph, pw) = self.kernel_size, self.padding
        if x.shape[2] + 2 * ph < kh or x.shape[3] + 2 * pw < kw:
            raise ValueError(f"{self._name()}: input of shape {x.shape} is smaller than the "
                             f"kernel {kh}x{kw} (even with padding {self.padding})")
        return conv2d(x, self.weight, self.bias, self.stride, self.padding)


class ConvTranspose2d(_ConvBase):
    """The adjoint of Conv2d (a "fractionally-strided" convolution, DCGAN §3):
    x (N, in, H, W) -> (N, out, OH, OW), W (in, out, KH, KW) as PyTorch,
    OH = (H − 1)·stride − 2·padding + KH + output_padding (MATH.md §2).
    """

    transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None):
        _only_plain(type(self).__name__, dilation, groups, padding_mode)
        if isinstance(padding, str):  # PyTorch's ConvTranspose2d takes no 'same' / 'valid'
            raise ValueError(f"{type(self).__name__}: padding must be an int or a pair, got "
                             f"{padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding,
                         output_padding, bias, device, dtype)

    def output_shape(self, h: int, w: int):
        """(OH, OW) for an H×W input."""
        return tuple(conv_transpose_output_size(n, k, s, p, op) for n, k, s, p, op in
                     zip((h, w), self.kernel_size, self.stride, self.padding,
                         self.output_padding))

    def _output_padding_for(self, x, output_size):
        """The output_padding that gives ``output_size`` (PyTorch's ``forward(x, output_size)``:
        a strided convolution maps several input sizes to one output size, and this picks which
        one to map back to), checked to lie in [0, stride)."""
        size = tuple(int(s) for s in output_size)[-2:]
        if len(size) != 2:
            raise ValueError(f"{self._name()}: output_size must end in (H, W), got {output_size!r}")
        pads = []
        for n, out, k, s, p in zip(x.shape[2:], size, self.kernel_size, self.stride,
                                   self.padding):
            smallest = conv_transpose_output_size(n, k, s, p, 0)
            if not smallest <= out < smallest + s:
                raise ValueError(f"{self._name()}: output_size {size} is out of reach for input "
                                 f"{x.shape}: each side must lie in [{smallest}, {smallest + s})")
            pads.append(out - smallest)
        return tuple(pads)

    def forward(self, x: Tensor, output_size=None) -> Tensor:
        self._check_input(x)
        output_padding = (self.output_padding if output_size is None
                          else self._output_padding_for(x, output_size))
        oh, ow = (conv_transpose_output_size(n, k, s, p, op) for n, k, s, p, op in
                  zip(x.shape[2:], self.kernel_size, self.stride, self.padding, output_padding))
        if oh <= 0 or ow <= 0:
            raise ValueError(f"{self._name()}: input of shape {x.shape} gives an empty output "
                             f"{oh}x{ow}")
        return conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                output_padding)
