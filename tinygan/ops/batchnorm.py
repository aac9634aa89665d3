"""Batch normalisation (Ioffe & Szegedy, 2015), the functional form behind BatchNorm1d/2d.

For an input of shape (N, C) or (N, C, *spatial) the statistics are taken per
channel C over every other axis (m = N·H·W values per channel):

    μ = (1/m) Σ x,   σ² = (1/m) Σ (x − μ)²        (biased: used to normalise)
    x̂ = (x − μ) / sqrt(σ² + ε),   y = γ x̂ + β      (paper, Algorithm 1)

Training mode also updates the running estimates in place, as PyTorch does,
with the *unbiased* variance σ²·m/(m−1):

    running ← (1 − momentum)·running + momentum·statistic

Evaluation mode normalises with the running estimates instead (Algorithm 2).

Backward (paper §3, simplified): with ĝ = γ·∂L/∂y = ∂L/∂x̂,

    ∂L/∂x = (1/sqrt(σ² + ε)) · (ĝ − mean(ĝ) − x̂ · mean(ĝ · x̂))
    ∂L/∂γ = Σ ∂L/∂y · x̂,      ∂L/∂β = Σ ∂L/∂y

(means and sums per channel).  In evaluation mode μ, σ² are constants, so
only ∂L/∂x = γ · ∂L/∂y / sqrt(running_var + ε) remains.

The forward runs on raw arrays in a few passes.  The backward has two
paths computing the same formula: when the graph of the backward is not
recorded (ordinary training) it runs fused on arrays from the saved
per-channel μ and 1/σ (x − μ is recomputed from the input, one cheap pass,
rather than kept alive from forward to backward: it is as large as the
input, 58 MiB over a DCGAN-64 step); under ``create_graph=True`` (double backprop, e.g. WGAN-GP) it rebuilds
μ, σ², x̂ from the input with differentiable Tensor ops, so the gradient can
itself be differentiated.

With host threads (``backend.set_num_threads``) the array passes of the forward and
of the fused backward run on batch slices, one per thread; the per-channel sums are
partial sums per slice, added in slice order (:func:`_channel_sums`), so the bits
depend on the thread count but never on timing.
"""
from __future__ import annotations

from .. import backend as B
from ..autograd import Function, Tensor, is_grad_enabled
from ._util import batch_slices_for_threads, channel_rows, channel_sum, constant, sum_in_order
from .reduce import mean, sum
from .shape import reshape


def _stat_axes(ndim):
    """Every axis except the channel axis 1."""
    return (0,) + tuple(range(2, ndim))


def _param_shape(ndim, c):
    """Shape that broadcasts a per-channel vector over (N, C, ...)."""
    return (1, c) + (1,) * (ndim - 2)


def _channel_sum(a):
    """Σ a per channel, shaped to broadcast over ``a`` (ops/_util.channel_sum)."""
    return channel_sum(a).reshape(_param_shape(a.ndim, a.shape[1]))


def _channel_dot(a, b):
    """Σ a·b per channel: einsum on the (N·H·W, C) matrices sums the products without
    materialising them (0.59 ms against 0.90 for (a·b).sum on DCGAN-28's 64×64×14×14
    activation, cold caches, 2-core AMD EPYC)."""
    ra, rb = channel_rows(a), channel_rows(b)
    if ra is None or rb is None:
        return (a * b).sum(axis=_stat_axes(a.ndim), keepdims=True)
    return B.array_module(a).einsum("ij,ij->j", ra, rb).reshape(
        _param_shape(a.ndim, a.shape[1]))


class _BatchNormBase(Function):
    """Shared bookkeeping: which of (x, weight, bias) were passed as inputs."""

    def _split(self, arrays):
        it = iter(arrays)
        x = next(it)
        w = next(it) if self.has_weight else None
        b = next(it) if self.has_bias else None
        return x, w, b

    def _input_tensors(self):
        x, w, _ = self._split(self.inputs)
        return x, w

    def _backward_context(self):
        """(x, γ, the statistics axes, the per-channel broadcast shape, (C,)) for backward."""
        x, w = self._input_tensors()
        return x, w, _stat_axes(x.ndim), _param_shape(x.ndim, x.shape[1]), (x.shape[1],)

    def _pack(self, gx, gw, gb):
        """Gradients in the order of the inputs (None where not needed)."""
        out = [gx if self.needs_input_grad[0] else None]
        k = 1
        if self.has_weight:
            out.append(gw if self.needs_input_grad[k] else None)
            k += 1
        if self.has_bias:
            out.append(gb if self.needs_input_grad[k] else None)
        return tuple(out)


class BatchNormTrain(_BatchNormBase):
    """Normalise with the batch's own statistics (and differentiate through them)."""

    def forward(self, *arrays):
        x, w, b = self._split(arrays)
        pshape = _param_shape(x.ndim, x.shape[1])
        m = x.size // x.shape[1]
        xp = B.array_module(x)
        slices = _slices(x)
        # Two passes (μ, then the mean of (x − μ)²), not E[x²] − μ²: that difference
        # cancels catastrophically in float32 when |μ| >> σ.
        mu = _channel_sums(slices, lambda i, j: (_channel_sum(x[i:j]),))[0]
        mu /= m
        y = xp.empty_like(x)  # x − μ first, then y in the same buffer

        def centred_square_sum(i, j):
            xc = y[i:j]
            xp.subtract(x[i:j], mu, out=xc)
            return (_channel_dot(xc, xc),)

        var = _channel_sums(slices, centred_square_sum)[0]  # biased σ²
        var /= m
        invstd = 1.0 / xp.sqrt(var + self.eps)
        # Keep only the per-channel μ and 1/σ (not x − μ or x̂, each as large as x):
        # the fused backward recomputes x − μ from the input.
        self.mu, self.invstd = mu, invstd
        # Hand the batch statistics to batch_norm() for the running estimates
        # (also under no_grad, when this Function object is not kept).
        self.stats["mean"], self.stats["var"] = mu.reshape(-1), var.reshape(-1)
        scale = invstd if w is None else invstd * w.reshape(pshape)
        shift = None if b is None else b.reshape(pshape)

        def affine(i, j):  # y = (x − μ)·(γ/σ) + β, in place
            y[i:j] *= scale
            if shift is not None:
                y[i:j] += shift

        _run(slices, affine)
        return y

    def backward(self, g):
        x, w, axes, pshape, c = self._backward_context()
        if not is_grad_enabled():
            return self._pack(*self._fused_backward(g.data, w))
        # Differentiable path: rebuild x̂ and 1/σ from x so that the result
        # depends on x (and γ) through recorded ops.
        mu = mean(x, axes, keepdims=True)
        xc = x - mu
        invstd = (mean(xc * xc, axes, keepdims=True) + self.eps) ** -0.5
        xhat = xc * invstd
        gx = None
        if self.needs_input_grad[0]:
            gw = g * reshape(w, pshape) if w is not None else g  # ĝ = ∂L/∂x̂
            gx = invstd * (gw - mean(gw, axes, keepdims=True)
                           - xhat * mean(gw * xhat, axes, keepdims=True))
        ggamma = reshape(sum(g * xhat, axes), c) if self.has_weight else None
        gbeta = reshape(sum(g, axes), c) if self.has_bias else None
        return self._pack(gx, ggamma, gbeta)

    def _fused_backward(self, g, w):
        """The same formula on arrays, from the saved μ and 1/σ (x̂ = (x − μ)/σ)."""
        x = self.inputs[0].data
        pshape = _param_shape(g.ndim, g.shape[1])
        m = g.size // g.shape[1]
        invstd, mu = self.invstd, self.mu
        xp = B.array_module(g)
        slices = _slices(g)
        xc = xp.empty_like(g)  # x − μ, recomputed; becomes gx's buffer

        def sums(i, j):
            xp.subtract(x[i:j], mu, out=xc[i:j])
            return _channel_sum(g[i:j]), _channel_dot(g[i:j], xc[i:j])

        sum_g, sum_gx = _channel_sums(slices, sums)
        sum_gx *= invstd  # Σ g·x̂
        gx = None
        if self.needs_input_grad[0]:
            # γ/σ · (g − mean(g) − x̂·mean(g·x̂)); γ factors out of both means.
            xhat_coef = sum_gx * invstd * (-1.0 / m)
            mean_g = sum_g * (1.0 / m)
            scale = invstd if w is None else invstd * w.data.reshape(pshape)

            def input_grad(i, j):
                gs = xc[i:j]
                gs *= xhat_coef
                gs += g[i:j]
                gs -= mean_g
                gs *= scale

            _run(slices, input_grad)
            gx = constant(xc)
        ggamma = constant(sum_gx.reshape(-1)) if self.has_weight else None
        gbeta = constant(sum_g.reshape(-1)) if self.has_bias else None
        return gx, ggamma, gbeta


def _slices(x):
    """Batch slices for the host threads, or the whole batch as one slice."""
    return batch_slices_for_threads(x) or [(0, x.shape[0])]


def _run(slices, body):
    """``body(start, stop)`` for every slice, on the host threads."""
    B.parallel_for(lambda p: body(*slices[p]), len(slices))


def _channel_sums(slices, partial_sums):
    """Per-channel sums over the whole batch from ``partial_sums(start, stop)`` (a tuple
    of arrays per slice), added in slice order."""
    return sum_in_order(len(slices), lambda p: partial_sums(*slices[p]))


class BatchNormEval(_BatchNormBase):
    """Normalise with fixed (running) statistics: an affine map per channel."""

    def forward(self, *arrays):
        x, w, b = self._split(arrays)
        pshape = _param_shape(x.ndim, x.shape[1])
        rm = self.running_mean.astype(x.dtype, copy=False)
        invstd = 1.0 / B.array_module(x).sqrt(self.running_var.astype(x.dtype) + self.eps)
        scale = invstd if w is None else invstd * w
        shift = -rm * scale
        if b is not None:
            shift = shift + b
        # Copies of the (C,) statistics: a later training step updates the buffers in
        # place, and this graph's backward must still see the values used here.
        self.invstd, self.mu = invstd.reshape(pshape), rm.reshape(pshape).copy()
        y = x * scale.reshape(pshape)
        y += shift.reshape(pshape)
        return y

    def backward(self, g):
        x, w, axes, pshape, c = self._backward_context()
        invstd = constant(self.invstd)
        gx = ggamma = gbeta = None
        if self.needs_input_grad[0]:
            gx = g * (invstd * reshape(w, pshape)) if w is not None else g * invstd
        if self.has_weight and self.needs_input_grad[1]:
            xhat = (x - constant(self.mu)) * invstd
            ggamma = reshape(sum(g * xhat, axes), c)
        if self.has_bias:
            gbeta = reshape(sum(g, axes), c)
        return self._pack(gx, ggamma, gbeta)


def _check_param(t, name, c, who):
    if t is None:
        return None
    data = t.data if isinstance(t, Tensor) else t
    if tuple(data.shape) != (c,):
        raise ValueError(f"{who}: {name} must have shape ({c},) for an input with {c} "
                         f"channels, got {tuple(data.shape)}")
    return t


def batch_norm(x: Tensor, running_mean=None, running_var=None, weight=None, bias=None,
               training: bool = False, momentum=0.1, eps: float = 1e-5,
               name: str = "batch_norm") -> Tensor:
    """Batch-normalise ``x`` of shape (N, C) or (N, C, ...) per channel.

    ``running_mean``/``running_var`` are Tensors (a module's buffers) of shape
    (C,), updated in place when ``training`` (pass None to keep none; then
    ``training`` must be True).  ``momentum`` is the weight of the new batch's
    statistic (PyTorch convention; the layer passes 1/n for a cumulative
    average).  ``name`` is used in error messages (the layer passes e.g. "BatchNorm2d(64)").
    """
    if not isinstance(x, Tensor):
        x = Tensor(x)
    if x.ndim < 2:
        raise ValueError(f"{name}: expected an input of shape (N, C) or (N, C, ...), "
                         f"got shape {x.shape}")
    c = x.shape[1]
    for t, label in ((running_mean, "running_mean"), (running_var, "running_var"),
                     (weight, "weight"), (bias, "bias")):
        _check_param(t, label, c, name)
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{name}: give both running_mean and running_var, or neither")
    if eps <= 0:
        raise ValueError(f"{name}: eps must be positive, got {eps}")
    inputs = [x] + [t for t in (weight, bias) if t is not None]
    flags = dict(has_weight=weight is not None, has_bias=bias is not None, eps=float(eps))

    if not training:
        if running_mean is None:
            raise ValueError(f"{name}: evaluation mode needs running_mean and running_var")
        return BatchNormEval.apply(*inputs, running_mean=_data(running_mean),
                                   running_var=_data(running_var), **flags)

    m = x.numel() // c if c else 0
    if m <= 1:
        # One value per channel: σ² = 0 and x̂ = 0 — an error in PyTorch too.
        raise ValueError(f"{name}: expected more than 1 value per channel when training, "
                         f"got input of shape {x.shape} ({m} value(s) per channel)")
    stats = {}
    out = BatchNormTrain.apply(*inputs, stats=stats, **flags)
    if running_mean is not None:
        if momentum is None:
            raise ValueError(f"{name}: momentum=None (cumulative average) is resolved by the "
                             f"BatchNorm layer; pass the factor 1/num_batches to batch_norm")
        _update_running(running_mean, running_var, stats["mean"], stats["var"], m,
                        float(momentum))
    return out


def _data(t):
    return t.data if isinstance(t, Tensor) else t


def _update_running(running_mean, running_var, mu, var, m, momentum):
    """running ← (1 − momentum)·running + momentum·stat, in place (unbiased variance)."""
    rm, rv = _data(running_mean), _data(running_var)
    rm *= 1.0 - momentum
    rm += momentum * mu.astype(rm.dtype, copy=False)
    rv *= 1.0 - momentum
    rv += (momentum * m / (m - 1)) * var.astype(rv.dtype, copy=False)
