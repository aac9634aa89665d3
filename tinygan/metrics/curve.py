"""Coverage of a curve by 2-D samples: the mode protocol carried over to the swiss roll.

The swiss roll has no modes: its data are points c(t) of a curve, t uniform on [t0, t1],
blurred by N(0, σ² I).  The VEEGAN / PacGAN protocol of :mod:`tinygan.metrics.mixture`
becomes, with the curve cut into K segments of equal width in t (of equal probability
under the data, since t is uniform):

* a sample is **high quality** when it lies within 3 σ of the curve (its distance to the
  nearest point of a dense polyline through c(t)).  Where the curve is straight on the
  scale of σ the offset of a data point is a 1-D N(0, σ²), so 99.7 % of data points are;
* a segment is **captured** (``segments``) when at least one high-quality sample's nearest
  curve point lies in it, and counts as **strict** (``segments_strict``) when it receives
  at least ``strict_share`` (20 %) of its uniform share N/K of the N samples;
* ``kl`` is KL(p̂ ‖ U) of the high-quality samples' histogram over the K segments: 0 when
  they spread along the curve as the data do, log K when all sit in one segment.

A generator that keeps to one stretch of the roll scores a high ``high_quality`` and few
segments (the analogue of mode collapse); one that smears over the plane, the reverse.
"""
from __future__ import annotations

import numpy as np

from .mixture import _as_points, _checked_samples, _coverage, assign_to_modes

__all__ = ["nearest_on_curve", "curve_metrics"]

# Samples per block of the nearest-point search: a (block, M) matrix of squared distances,
# 512 × 8,192 doubles = 32 MiB at most.
_BLOCK = 512


def nearest_on_curve(samples, points):
    """Index of the nearest of the curve's ``points`` (M, 2) and the distance to it, for
    every sample (N, 2): :func:`~tinygan.metrics.mixture.assign_to_modes` with the points
    as the modes, in blocks of samples."""
    samples = np.asarray(samples, np.float64)
    parts = [assign_to_modes(samples[start:start + _BLOCK], points)
             for start in range(0, max(len(samples), 1), _BLOCK)]
    return tuple(np.concatenate(arrays) for arrays in zip(*parts))


def curve_metrics(samples, curve_t, curve_points, std: float, n_segments: int = 20,
                  n_std: float = 3.0, strict_share: float = 0.2) -> dict:
    """Segments captured, strict segments, high-quality fraction and KL to uniform (module doc).

    ``curve_t`` (M,) increasing parameter values and ``curve_points`` (M, 2) the noiseless
    curve at them, dense against ``std`` (e.g. ``SwissRoll.curve()``); ``std`` the data's
    noise.  Returns a JSON-able dict: ``segments``, ``segments_strict``, ``high_quality``
    (fraction in [0, 1]), ``kl`` (nats; NaN when no sample is high quality), ``counts``
    (high-quality samples per segment), ``n_segments`` and ``n_samples``.
    """
    who = "curve_metrics"
    points = _as_points(curve_points, "curve_points", 2, who)
    t = np.asarray(curve_t, dtype=np.float64).reshape(-1)
    if len(t) != len(points) or len(t) < 2 or not (np.diff(t) > 0).all():
        raise ValueError(f"{who}: curve_t must be {len(points)} increasing values, "
                         f"one per curve point, got shape {t.shape}")
    if int(n_segments) != n_segments or n_segments < 1:
        raise ValueError(f"{who}: n_segments must be a positive integer, got {n_segments!r}")
    samples = _checked_samples(samples, 2, std, who)
    k = int(n_segments)
    nearest, dist = nearest_on_curve(samples, points)
    good = dist <= n_std * std
    segment = np.minimum(((t[nearest] - t[0]) / (t[-1] - t[0]) * k).astype(np.int64), k - 1)
    counts = np.bincount(segment[good], minlength=k)
    return _coverage(counts, len(samples), strict_share, "segments")
