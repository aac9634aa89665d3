"""RMSprop (Hinton, Coursera lecture 6e), written as PyTorch computes it.

Step with gradient g:

    g ← g + λ θ                                   (weight_decay λ)
    s ← α s + (1 − α) g²                          (square_avg)
    centered:  ḡ ← ḡ + (1 − α)(g − ḡ),  d = sqrt(s − ḡ²) + ε
    otherwise: d = sqrt(s) + ε
    momentum μ > 0:  b ← μ b + g / d,  θ ← θ − lr · b
    otherwise:       θ ← θ − lr · g / d

The WGAN paper (Arjovsky et al., 2017, Algorithm 1) trains the critic with
RMSprop, lr 5e-5.
"""
from __future__ import annotations

from .. import backend as B
from .adam import lerp_
from .optimizer import Optimizer


class RMSprop(Optimizer):
    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    def _validate(self, group):
        self._check_common(group)
        self._check(0.0 <= group["alpha"] <= 1.0, "alpha", group["alpha"], "must be in [0, 1]")
        self._check(group["momentum"] >= 0, "momentum", group["momentum"], "must be >= 0")

    def _update(self, p, g, state, group):
        lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
        wd, mu = float(group["weight_decay"]), float(group["momentum"])
        xp = B.array_module(p)
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(p)
        # created when first needed (also when momentum or centering is switched on
        # mid-run), and only then: no zeros allocated on the other steps
        if mu > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = xp.zeros_like(p)
        if group["centered"] and "grad_avg" not in state:
            state["grad_avg"] = xp.zeros_like(p)
        state["step"] += 1

        def update(p, g, s, *extra):
            extra = list(extra)
            if wd != 0:
                g = g + wd * p
            s *= alpha
            s += (1.0 - alpha) * g * g
            if group["centered"]:
                gbar = extra.pop(0)
                lerp_(gbar, g, 1.0 - alpha)
                avg = xp.sqrt(s - gbar * gbar)
            else:
                avg = xp.sqrt(s)
            avg += eps
            if mu > 0:
                buf = extra.pop(0)
                buf *= mu
                buf += g / avg
                p -= lr * buf
            else:
                p -= lr * g / avg

        # Elementwise: step() runs it on slices on the host threads, with the one-thread
        # update's bits (ops/_util.elementwise_jobs_on_threads).
        arrays = [p, g, state["square_avg"]]
        if group["centered"]:
            arrays.append(state["grad_avg"])
        if mu > 0:
            arrays.append(state["momentum_buffer"])
        return update, tuple(arrays)
