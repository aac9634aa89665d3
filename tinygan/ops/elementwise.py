"""Elementwise arithmetic with broadcasting.

Binary ops broadcast like NumPy; their backward sums the gradient back to
each input's shape (``sum_to``).  Every backward is written with
differentiable ops, so second derivatives work.
"""
from __future__ import annotations

from .. import backend as B
from ..autograd import Function, Tensor
from ._util import as_tensor, constant, map_on_threads, split_pays
from .shape import sum_to


def broadcast_shape(sa, sb, who: str):
    """NumPy's broadcast of two shapes, or a ValueError naming the op and both shapes."""
    out = []
    for i in range(1, max(len(sa), len(sb)) + 1):
        x = sa[-i] if i <= len(sa) else 1
        y = sb[-i] if i <= len(sb) else 1
        if x != y and x != 1 and y != 1:
            raise ValueError(f"{who}: shapes {tuple(sa)} and {tuple(sb)} cannot be broadcast "
                             f"together")
        out.append(x if y == 1 else y)
    return tuple(out[::-1])


def _check_broadcast(a: Tensor, b: Tensor, who: str):
    broadcast_shape(a.shape, b.shape, who)


def _same_shape_on_threads(a, b) -> bool:
    """Whether a binary pass runs on the host threads: one shape and dtype (no
    broadcast; e.g. the backward's gradient-accumulation adds and activation masks) and
    large enough to split (ops/_util.split_pays).  Elementwise, so the bits are the
    one-thread pass's."""
    return a.shape == b.shape and a.dtype == b.dtype and split_pays(a)


def _binary(fn_cls, a, b, who):
    if not isinstance(a, Tensor):
        a = as_tensor(a, b)
    b = as_tensor(b, a)
    _check_broadcast(a, b, who)
    return fn_cls.apply(a, b)


class Add(Function):
    def forward(self, a, b):
        if _same_shape_on_threads(a, b):
            return map_on_threads(B.array_module(a).add, a, b)
        return a + b

    def backward(self, g):
        a, b = self.inputs
        ga = sum_to(g, a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(g, b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Sub(Function):
    def forward(self, a, b):
        if _same_shape_on_threads(a, b):
            return map_on_threads(B.array_module(a).subtract, a, b)
        return a - b

    def backward(self, g):
        a, b = self.inputs
        ga = sum_to(g, a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(neg(g), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Mul(Function):
    def forward(self, a, b):
        if _same_shape_on_threads(a, b):
            return map_on_threads(B.array_module(a).multiply, a, b)
        return a * b

    def backward(self, g):
        a, b = self.inputs
        ga = sum_to(g * b, a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(g * a, b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    def forward(self, a, b):
        return a / b

    def backward(self, g):
        a, b = self.inputs
        ga = sum_to(g / b, a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(neg(g) * a / (b * b), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Neg(Function):
    def forward(self, x):
        return -x

    def backward(self, g):
        return neg(g)


class PowScalar(Function):
    """x ** p for a constant exponent p:  d/dx = p x^(p-1)."""

    def forward(self, x):
        return x ** self.p

    def backward(self, g):
        (x,) = self.inputs
        if self.p == 0:  # x**0 is constant; 0 * x**(-1) would give NaN at x = 0
            return g * 0.0
        if self.p == 2:
            return g * (x * 2.0)
        return g * (pow(x, self.p - 1) * float(self.p))


class Exp(Function):
    def forward(self, x):
        return B.array_module(x).exp(x)

    def backward(self, g):
        return g * self.output


class Log(Function):
    def forward(self, x):
        return B.array_module(x).log(x)

    def backward(self, g):
        return g / self.inputs[0]


class Sqrt(Function):
    def forward(self, x):
        return B.array_module(x).sqrt(x)

    def backward(self, g):
        return g / (self.output * 2.0)


class Abs(Function):
    def forward(self, x):
        return B.array_module(x).abs(x)

    def backward(self, g):
        x = self.inputs[0].data
        return g * constant(B.array_module(x).sign(x))


class Clip(Function):
    """Clamp to [lo, hi]; the gradient passes only where x is strictly inside."""

    def forward(self, x):
        return B.array_module(x).clip(x, self.lo, self.hi)

    def backward(self, g):
        x = self.inputs[0].data
        inside = B.array_module(x).ones(x.shape, dtype=bool)
        if self.lo is not None:
            inside &= x >= self.lo
        if self.hi is not None:
            inside &= x <= self.hi
        return g * constant(inside.astype(x.dtype))


class Maximum(Function):
    """Elementwise max; at ties the gradient is split evenly (as PyTorch does)."""

    def forward(self, a, b):
        return B.array_module(a).maximum(a, b)

    def backward(self, g):
        a, b = self.inputs
        wa = (a.data > b.data).astype(g.dtype) + (a.data == b.data).astype(g.dtype) * 0.5
        wa = constant(wa)
        ga = sum_to(g * wa, a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(g * (1.0 - wa), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Cast(Function):
    def forward(self, x):
        self.in_dtype = x.dtype
        return x.astype(self.dtype)

    def backward(self, g):
        return cast(g, self.in_dtype)


def add(a, b) -> Tensor:
    return _binary(Add, a, b, "add")


def sub(a, b) -> Tensor:
    return _binary(Sub, a, b, "sub")


def mul(a, b) -> Tensor:
    return _binary(Mul, a, b, "mul")


def div(a, b) -> Tensor:
    return _binary(Div, a, b, "div")


def neg(x: Tensor) -> Tensor:
    return Neg.apply(x)


def pow(x: Tensor, p) -> Tensor:  # noqa: A001 - mirrors the operator
    """``x ** p``; ``p`` a number (tensor exponents go through exp/log)."""
    if isinstance(p, Tensor):
        return exp(log(x) * p)
    # A NumPy/CuPy scalar exponent is not "weak" like a Python float (NEP 50):
    # float32 ** float64(2) would silently give float64.
    p = _py_scalar(p)
    if p == 1:
        return x
    return PowScalar.apply(x, p=p)


def exp(x: Tensor) -> Tensor:
    return Exp.apply(x)


def log(x: Tensor) -> Tensor:
    return Log.apply(x)


def sqrt(x: Tensor) -> Tensor:
    return Sqrt.apply(x)


def abs(x: Tensor) -> Tensor:  # noqa: A001
    return Abs.apply(x)


def _py_scalar(v):
    """A NumPy/CuPy scalar bound as a Python number, so it cannot promote float32 (NEP 50)."""
    return v.item() if hasattr(v, "item") else v


def clip(x: Tensor, lo=None, hi=None) -> Tensor:
    lo, hi = _py_scalar(lo), _py_scalar(hi)
    if lo is None and hi is None:
        raise ValueError("clip: give lo, hi or both")
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"clip: lo={lo} is larger than hi={hi}")
    return Clip.apply(x, lo=lo, hi=hi)


def maximum(a, b) -> Tensor:
    return _binary(Maximum, a, b, "maximum")


def minimum(a, b) -> Tensor:
    return neg(maximum(neg(as_tensor(a, b) if not isinstance(a, Tensor) else a),
                       neg(as_tensor(b, a))))


def cast(x: Tensor, dtype) -> Tensor:
    if x.dtype == dtype:
        return x
    return Cast.apply(x, dtype=dtype)


class Where(Function):
    """``cond ? a : b``; the gradient flows only to the side that was selected.

    Written as a select rather than ``a·m + b·(1−m)``, so an inf/NaN on the
    unselected side (``where(x > 0, log(x), 0)``) cannot leak into the result.
    """

    def forward(self, a, b):
        return B.array_module(a).where(self.cond, a, b)

    def backward(self, g):
        a, b = self.inputs
        zero = constant(B.array_module(g.data).zeros((), dtype=g.dtype))
        ga = sum_to(where(self.cond, g, zero), a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(where(self.cond, zero, g), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


def where(condition, a, b) -> Tensor:
    """Select ``a`` where ``condition`` else ``b`` (condition is not differentiated)."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = Tensor(a)
    ref = a if isinstance(a, Tensor) else b
    a, b = as_tensor(a, ref), as_tensor(b, ref)
    cond = condition.data if isinstance(condition, Tensor) else condition
    mod = B.array_module(ref.data)
    if not B.is_array(cond):
        cond = mod.asarray(cond)
    elif B.array_module(cond) is not mod:  # a host mask for device data: explicit transfer
        cond = mod.asarray(B.to_numpy(cond))
    if cond.dtype != bool:
        cond = cond.astype(bool)
    shape = broadcast_shape(a.shape, b.shape, "where")
    broadcast_shape(tuple(cond.shape), shape, "where (condition)")
    return Where.apply(a, b, cond=cond)


def _compare(op):
    def compare(a: Tensor, b) -> Tensor:
        b = b.data if isinstance(b, Tensor) else b
        return constant(op(a.data, b))
    return compare


import operator as _operator  # noqa: E402

lt = _compare(_operator.lt)
le = _compare(_operator.le)
gt = _compare(_operator.gt)
ge = _compare(_operator.ge)
eq = _compare(_operator.eq)
ne = _compare(_operator.ne)


def rsqrt(x: Tensor) -> Tensor:
    """1 / sqrt(x)."""
    return pow(x, -0.5)


class Sign(Function):
    """−1, 0 or 1 per element.  Piecewise constant: its gradient is 0 everywhere (PyTorch's
    choice at 0 as well), so it stays in the graph as PyTorch's does."""

    def forward(self, x):
        return B.array_module(x).sign(x)

    def backward(self, g):
        return constant(B.array_module(g.data).zeros_like(g.data))  # not g·0: NaN·0 = NaN


def sign(x: Tensor) -> Tensor:
    return Sign.apply(x)


def lerp(start: Tensor, end, weight) -> Tensor:
    """start + weight·(end − start), PyTorch's ``torch.lerp`` (weight a number or a tensor)."""
    return add(start, mul(weight, sub(end, start)))


def masked_fill(x: Tensor, mask, value) -> Tensor:
    """``x`` with ``value`` where ``mask`` is true (PyTorch's ``masked_fill``); the gradient
    flows to ``x`` where the mask is false."""
    return where(mask, value, x)
