"""``Linear``: y = x Wᵀ + b, weight of shape (out_features, in_features) as in PyTorch."""
from __future__ import annotations

import math

from ..backend import default_dtype, xp
from ..ops import linear
from . import init
from ._dtype import check_input_dtype
from .module import Module, Parameter


class Linear(Module):
    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__()
        for name, v in (("in_features", in_features), ("out_features", out_features)):
            if int(v) != v or v <= 0:
                raise ValueError(f"Linear: {name} must be a positive integer, got {v!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight = Parameter(xp().zeros((out_features, in_features), dtype=default_dtype()))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))  # PyTorch's Linear default
        if bias:
            self.bias = Parameter(xp().zeros((out_features,), dtype=default_dtype()))
            init.default_bias_(self.bias, self.weight)
        else:
            self.register_parameter("bias", None)
        self._made_on(device, dtype)

    def forward(self, x):
        if x.ndim < 2 or x.shape[-1] != self.in_features:
            raise ValueError(f"Linear({self.in_features}, {self.out_features}): expected input "
                             f"of shape (N, {self.in_features}), got {x.shape}")
        check_input_dtype(f"Linear({self.in_features}, {self.out_features})", x, self.weight)
        return linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"{self.in_features}, {self.out_features}, bias={self.bias is not None}"
