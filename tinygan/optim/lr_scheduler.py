"""Learning-rate schedules with PyTorch's names and behaviour (``torch.optim.lr_scheduler``).

A scheduler sets ``param_groups[i]["lr"]`` of its optimiser; call ``scheduler.step()``
once per epoch or iteration, after ``optimizer.step()``.  As in PyTorch, creating one
already applies the factor of step 0, the first group's rate is kept as
``group["initial_lr"]``, and ``last_epoch`` counts the steps taken.  Each rate is computed
in closed form from ``initial_lr`` and the step count (PyTorch chains some of them step by
step; the two agree to rounding).  ``tinygan train`` needs none of this: its recipes'
linear decay is ``--lr-decay linear`` (``tinygan.gan.averaging.after_each_step``).
"""
from __future__ import annotations

import math

from .._validate import positive_int

__all__ = ["LRScheduler", "LambdaLR", "StepLR", "MultiStepLR", "ExponentialLR", "LinearLR",
           "CosineAnnealingLR"]


class LRScheduler:
    def __init__(self, optimizer, last_epoch: int = -1):
        if not hasattr(optimizer, "param_groups"):
            raise TypeError(f"{type(self).__name__}: expected an optimizer, got "
                            f"{type(optimizer).__name__}")
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(f"{type(self).__name__}: resuming at last_epoch={last_epoch} "
                               f"needs 'initial_lr' in every parameter group")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def factor(self, epoch: int) -> float:
        """The rate at step ``epoch`` as a multiple of the initial rate."""
        raise NotImplementedError

    def get_last_lr(self) -> list:
        return list(self._last_lr)

    def step(self) -> None:
        self.last_epoch += 1
        for i, (group, base) in enumerate(zip(self.optimizer.param_groups, self.base_lrs)):
            group["lr"] = self._rate(i, base, self.last_epoch)
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _rate(self, group: int, base: float, epoch: int) -> float:
        """The rate of parameter group ``group`` at step ``epoch``."""
        return base * self.factor(epoch)

    def state_dict(self) -> dict:
        """Everything but the optimiser and functions (which cannot be saved), as PyTorch."""
        return {k: v for k, v in self.__dict__.items()
                if k != "optimizer" and not callable(v) and k != "lr_lambdas"}

    def load_state_dict(self, state: dict) -> None:
        self.__dict__.update(state)


class LambdaLR(LRScheduler):
    """rate = initial_lr · lr_lambda(step) (one function, or one per parameter group)."""

    def __init__(self, optimizer, lr_lambda, last_epoch: int = -1):
        n = len(optimizer.param_groups)
        lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * n
        if len(lambdas) != n or not all(callable(f) for f in lambdas):
            raise ValueError(f"LambdaLR: expected a function or {n} functions (one per "
                             f"parameter group), got {lr_lambda!r}")
        self.lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def _rate(self, group, base, epoch):
        return base * self.lr_lambdas[group](epoch)


class StepLR(LRScheduler):
    """rate = initial_lr · γ^⌊step / step_size⌋."""

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        self.step_size = positive_int(step_size, "step_size", "StepLR")
        self.gamma = float(gamma)
        super().__init__(optimizer, last_epoch)

    def factor(self, epoch):
        return self.gamma ** (epoch // self.step_size)


class MultiStepLR(LRScheduler):
    """rate = initial_lr · γ^(the number of milestones ≤ step)."""

    def __init__(self, optimizer, milestones, gamma: float = 0.1, last_epoch: int = -1):
        self.milestones, self.gamma = sorted(int(m) for m in milestones), float(gamma)
        super().__init__(optimizer, last_epoch)

    def factor(self, epoch):
        return self.gamma ** sum(1 for m in self.milestones if m <= epoch)


class ExponentialLR(LRScheduler):
    """rate = initial_lr · γ^step."""

    def __init__(self, optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = float(gamma)
        super().__init__(optimizer, last_epoch)

    def factor(self, epoch):
        return self.gamma ** epoch


class LinearLR(LRScheduler):
    """The factor goes linearly from ``start_factor`` to ``end_factor`` over ``total_iters``
    steps, then stays (e.g. ``LinearLR(opt, 1.0, 0.0, n)``: a linear decay to 0)."""

    def __init__(self, optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1):
        if not 0 < start_factor <= 1 or not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1] and end_factor in "
                             f"[0, 1], got {start_factor} and {end_factor}")
        self.start_factor, self.end_factor = float(start_factor), float(end_factor)
        self.total_iters = int(total_iters)
        super().__init__(optimizer, last_epoch)

    def factor(self, epoch):
        t = min(epoch, self.total_iters) / self.total_iters if self.total_iters else 1.0
        return self.start_factor + (self.end_factor - self.start_factor) * t


class CosineAnnealingLR(LRScheduler):
    """rate = η_min + (initial_lr − η_min)·(1 + cos(π·step / T_max)) / 2 (Loshchilov &
    Hutter 2017, without restarts)."""

    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):
        self.T_max, self.eta_min = int(T_max), float(eta_min)
        super().__init__(optimizer, last_epoch)

    def _rate(self, group, base, epoch):
        return self.eta_min + (base - self.eta_min) * (1 + math.cos(math.pi * epoch /
                                                                    self.T_max)) / 2
