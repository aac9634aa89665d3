"""Stochastic gradient descent with optional (Nesterov) momentum and weight decay.

PyTorch's formulation (``torch.optim.SGD``), step t with gradient g:

    g ← g + λ θ                                  (weight_decay λ)
    b ← g                          at the first step,
    b ← μ b + (1 − τ) g            afterwards     (momentum μ, dampening τ)
    g ← g + μ b  (Nesterov)   or   g ← b
    θ ← θ − lr · g

Note the momentum buffer is *not* scaled by lr (unlike Sutskever et al.),
which is what makes trajectories match PyTorch's.  Goodfellow et al. (2014)
trained the original GAN with SGD + momentum (MATH.md §1).
"""
from __future__ import annotations

from .optimizer import Optimizer


class SGD(Optimizer):
    def __init__(self, params, lr: float, momentum: float = 0.0, dampening: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      nesterov=nesterov, weight_decay=weight_decay))

    def _validate(self, group):
        self._check_common(group)
        self._check(group["momentum"] >= 0, "momentum", group["momentum"], "must be >= 0")
        if group["nesterov"]:
            self._check(group["momentum"] > 0 and group["dampening"] == 0, "nesterov", True,
                        f"needs momentum > 0 and dampening = 0, got momentum="
                        f"{group['momentum']}, dampening={group['dampening']}")

    def _update(self, p, g, state, group):
        lr, mu, wd = float(group["lr"]), float(group["momentum"]), float(group["weight_decay"])
        if wd != 0:
            g = g + wd * p  # a new array: the caller's gradient stays untouched
        if mu != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= mu
                buf += (1.0 - float(group["dampening"])) * g
            g = g + mu * buf if group["nesterov"] else buf
        p -= lr * g
