"""What acts between a loop's steps without changing its algorithm: the learning-rate
schedule and the exponential moving average of the generator's weights.

* the learning rate decays linearly to exactly 0 after the last step,
  lr(step) = lr0 · (1 − step / steps) (``--lr-decay linear``): the same schedule as
  instance noise's σ, :func:`tinygan.gan.loops.linear_decay`.
* :class:`GeneratorEMA` — θ_EMA ← β_t · θ_EMA + (1 − β_t) · θ after every generator step
  (Yazıcı et al. 2019, "The unusual effectiveness of averaging in GAN training", eq. 2;
  ``--ema β``), with the warm-up β_t = min(β, (1 + t) / (10 + t)) of TensorFlow's
  ``ExponentialMovingAverage(num_updates=t)``: without it θ_EMA starts at the random θ_0
  and keeps β^t of it — 53 % after 625 steps at β = 0.999, and the 10-epoch DCGAN on
  digits sampled from that average scored a Fréchet distance of 624 where G scored 56
  (benchmarks/QUALITY.md, digits ablation).  The average is used for sampling and
  evaluation only; training goes on with θ.  Its batch-norm running statistics are
  measured on the average itself before it is sampled or saved
  (:func:`tinygan.optim.swa_utils.update_bn` on a fixed set of noise vectors: the
  "standing statistics" of Brock et al. 2019, appendix "BatchNorm statistics and
  sampling"), not copied from G: the averaged weights are shorter than G's — averaging
  weights that turn shrinks them — so G's statistics over-normalise the average's
  activations and its digits fade (on two DCGAN seeds of ten the Fréchet distance was
  24.4 and 23.6 with G's statistics, 20.0 and 18.5 with its own; QUALITY.md, "The
  average's batch-norm statistics").
* :func:`after_each_step` — wraps a loop's records so that both act after each step,
  before the record is handed on (a checkpoint taken for that record holds them).
"""
from __future__ import annotations

import copy

from .. import backend as B
from ..optim.swa_utils import update_bn
from .loops import linear_decay

__all__ = ["GeneratorEMA", "after_each_step", "ema_decay_at", "statistics_noise"]

# The noise the average's batch-norm statistics are measured on: fixed, so the statistics are
# a function of the averaged weights alone (a resumed run measures the same ones).  2,048
# vectors: the DCGAN's Fréchet distance on digits moved by ≤ 0.2 between four such sets, and
# by 0.1 from 2,048 to 6,400 vectors — against up to 3 between draws of its 2,000 samples.
STATS_SEED_TAG = 0x57A7
STATS_SAMPLES, STATS_BATCH = 2048, 256


def statistics_noise(noise_shape, dtype=None):
    """The fixed noise batches an average's batch-norm statistics are measured on:
    ``STATS_SAMPLES`` vectors of ``noise_shape(n)`` from ``backend.host_randn``, in batches of
    ``STATS_BATCH`` (drawn when first read: for a generator without batch norm, never)."""
    noise = B.host_randn(noise_shape(STATS_SAMPLES), STATS_SEED_TAG, dtype=dtype)
    for start in range(0, STATS_SAMPLES, STATS_BATCH):
        yield noise[start:start + STATS_BATCH]


def ema_decay_at(decay: float, step: int) -> float:
    """β_t = min(β, (1 + t) / (10 + t)): the average's decay for the update after generator
    step ``t`` (0, 1, …), the warm-up of the module docstring."""
    return min(decay, (1.0 + step) / (10.0 + step))


class GeneratorEMA:
    """An exponential moving average of a generator's parameters (a separate copy of G)."""

    def __init__(self, G, decay: float):
        if not 0 < decay < 1:
            raise ValueError(f"GeneratorEMA: decay must be in (0, 1), got {decay!r}")
        self.decay = float(decay)
        self.model = copy.deepcopy(G)  # θ_EMA starts at θ_0 (no random numbers drawn)
        self.model.eval()
        self._stats_current = False  # the batch-norm statistics were G's, not measured

    def decay_at(self, step: int) -> float:
        """β_t = min(β, (1 + t) / (10 + t)) for the update after generator step ``t`` (0, 1, …)."""
        return ema_decay_at(self.decay, step)

    def update(self, G, step: int) -> None:
        """θ_EMA ← β_t θ_EMA + (1 − β_t) θ after step ``step``, in place.  β_t depends only on
        the step, so a resumed run averages on exactly as an uninterrupted one."""
        beta = self.decay_at(step)
        for avg, p in zip(self.model.parameters(), G.parameters()):
            avg.data *= beta
            avg.data += (1.0 - beta) * p.data
        self._stats_current = False

    def sampler(self):
        """The averaged generator, ready to sample: its batch-norm running statistics measured
        on itself (module docstring) since the last update.  A generator without batch norm
        is returned as it is."""
        if not self._stats_current:
            dtype = next(iter(self.model.parameters())).data.dtype
            update_bn(statistics_noise(self.model.noise_shape, dtype), self.model)
            self._stats_current = True
        return self.model

    def state_dict(self) -> dict:
        """The average's weights and its own statistics (what ``tinygan sample`` draws from)."""
        return self.sampler().state_dict()

    def load_state_dict(self, state) -> None:
        self.model.load_state_dict(state)
        self._stats_current = True  # saved by state_dict(): measured on these weights


def after_each_step(records, *, start: int, steps: int, optimizers=(), ema=None, G=None):
    """The loop's records, with each ``(optimizer, lr0)`` in ``optimizers`` set to
    :func:`~tinygan.gan.loops.linear_decay` before every step and ``ema`` updated from ``G`` after it.

    The learning rate of step ``start`` is set before the loop takes its first step, so a
    resumed run continues the schedule where it stopped.
    """
    schedules = [(opt, linear_decay(lr0, steps)) for opt, lr0 in optimizers]

    def set_lr(step):
        for opt, lr in schedules:
            for group in opt.param_groups:
                group["lr"] = lr(step)

    set_lr(start)
    step = start
    for record in records:
        if schedules:
            record["lr"] = schedules[0][1](step)  # G's rate in the step just taken
        if ema is not None:
            ema.update(G, step)
        step += 1
        set_lr(step)
        yield record
