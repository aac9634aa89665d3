"""PoolTuner: a run keeps its host pool's threads working only while they make it faster.

A run's thread count is fixed at its start (``--threads``, or the idle cores): it sets how
the batch, the products and the elementwise passes are sliced, and so the bits, and it is
stored so that a resume is exact.  But the machine can fill up after the start.  When
another process takes a core, tinygan's second thread gets only part of one, and the
step waits for the slice it holds: on the 2-core Intel Xeon of benchmarks/README.md the
DCGAN-28 step went from 253 ms at 1 thread to 320 ms at 2 with one core busy, where idle
it is 229 → 204 ms.  Who runs the slices can change without changing a bit
(backend.pause_pool), so the tuner measures which is faster and keeps that.
"""
from __future__ import annotations

from .. import backend as B

__all__ = ["PoolTuner"]


class PoolTuner:
    """Every ``period`` iterations, a probe of 4 iterations — pool, paused, pool, paused —
    and then, until the next probe, the pool paused if the faster paused iteration beat
    the faster pool iteration by more than ``margin`` (the minimum of two, so that one
    unusual iteration, e.g. WGAN's 100-critic-step ones, cannot decide); else the pool on.

    ``before()`` sets the mode of the next iteration, ``after(seconds)`` records how long
    it took.  Inactive (never pauses) with one host thread or another backend than NumPy.
    """

    PROBE = 4

    def __init__(self, period: int = 50, margin: float = 0.03):
        if period <= self.PROBE:
            raise ValueError(f"PoolTuner: period must exceed the {self.PROBE}-iteration "
                             f"probe, got {period}")
        self.period, self.margin = int(period), float(margin)
        self.active = B.host_threads() > 1 and B.get_backend() == "numpy"
        self.iterations = self.paused_iterations = 0
        self._paused = False          # the mode between probes
        self._times = {False: [], True: []}

    def before(self) -> None:
        if not self.active:
            return
        p = self.iterations % self.period
        paused = (p % 2 == 1) if p < self.PROBE else self._paused
        B.pause_pool(paused)

    def after(self, seconds: float) -> None:
        if not self.active:
            return
        p = self.iterations % self.period
        paused = B.pool_paused()
        self.paused_iterations += paused
        self.iterations += 1
        if p < self.PROBE:
            self._times[paused].append(float(seconds))
        if p == self.PROBE - 1:  # the probe is complete: decide until the next one
            self._paused = min(self._times[True]) < (1.0 - self.margin) * min(self._times[False])
            self._times = {False: [], True: []}

    def close(self) -> None:
        """The pool back on (a paused pool outlives no run)."""
        if self.active:
            B.pause_pool(False)

    @property
    def paused_fraction(self) -> float:
        return self.paused_iterations / self.iterations if self.iterations else 0.0
