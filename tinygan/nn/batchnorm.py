"""``BatchNorm1d`` and ``BatchNorm2d`` layers (DCGAN §3 uses them in G and D).

The math lives in :func:`tinygan.ops.batchnorm.batch_norm`; the layer owns
γ (``weight``, init 1) and β (``bias``, init 0) as Parameters, and the running
mean / variance / batch count as *buffers* — saved by ``state_dict`` but never
seen by an optimiser.  Behaviour follows PyTorch's ``_BatchNorm``:

* training mode normalises with batch statistics and updates the running
  estimates (``momentum=None`` gives a cumulative average, factor 1/n);
* evaluation mode normalises with the running estimates;
* ``track_running_stats=False`` keeps no estimates and always uses the batch.
"""
from __future__ import annotations

from .. import backend as B
from ..autograd import Tensor
from ..ops.batchnorm import batch_norm
from ._dtype import check_input_dtype
from .module import Module, Parameter


class _BatchNorm(Module):
    _layout = ""        # shown in error messages, e.g. "(N, C, H, W)"
    _ndims = ()         # accepted input ranks

    def __init__(self, num_features: int, eps: float = 1e-5, momentum=0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None, dtype=None):
        super().__init__()
        who = type(self).__name__
        if int(num_features) != num_features or num_features <= 0:
            raise ValueError(f"{who}: num_features must be a positive integer, "
                             f"got {num_features!r}")
        if eps <= 0:
            raise ValueError(f"{who}: eps must be positive, got {eps}")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{who}: momentum must be in [0, 1] or None, got {momentum}")
        self.num_features = int(num_features)
        self.eps, self.momentum = float(eps), momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        xp, dt, c = B.xp(), B.default_dtype(), self.num_features
        if self.affine:
            self.weight = Parameter(xp.ones((c,), dtype=dt))
            self.bias = Parameter(xp.zeros((c,), dtype=dt))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", Tensor(xp.zeros((c,), dtype=dt)))
            self.register_buffer("running_var", Tensor(xp.ones((c,), dtype=dt)))
            self.register_buffer("num_batches_tracked", Tensor(xp.zeros((), dtype="int64")))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self._made_on(device, dtype)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def _name(self) -> str:
        return f"{type(self).__name__}({self.num_features})"

    def _check_input(self, x: Tensor) -> None:
        if x.ndim not in self._ndims or x.shape[1] != self.num_features:
            raise ValueError(f"{self._name()}: expected input of shape {self._layout} with "
                             f"C = {self.num_features}, got shape {x.shape}")
        check_input_dtype(self._name(), x,
                          self.weight if self.weight is not None else self.running_mean)

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor):
            x = Tensor(x)
        self._check_input(x)
        use_batch = self.training or not self.track_running_stats
        if use_batch and x.numel() // x.shape[1] <= 1:
            raise ValueError(f"{self._name()}: expected more than 1 value per channel when "
                             f"training, got input of shape {x.shape}")
        factor = 0.0
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            if self.momentum is None:  # cumulative moving average, as PyTorch
                factor = 1.0 / float(self.num_batches_tracked.data.item())
            else:
                factor = self.momentum
        # With tracking, running stats are updated in training and used in eval.
        return batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                          training=use_batch, momentum=factor, eps=self.eps, name=self._name())

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L) inputs; statistics per feature C."""
    _layout = "(N, C) or (N, C, L)"
    _ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W) inputs; statistics per channel C over N, H, W."""
    _layout = "(N, C, H, W)"
    _ndims = (4,)
