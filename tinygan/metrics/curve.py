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

from .mixture import _as_points, kl_to_uniform

__all__ = ["nearest_on_curve", "curve_metrics"]

# Samples per block of the nearest-point search: a (block, M) matrix of squared distances,
# 512 × 8,192 doubles = 32 MiB at most.
_BLOCK = 512


def nearest_on_curve(samples, points):
    """Index of the nearest of the curve's ``points`` (M, 2) and the distance to it, for
    every sample (N, 2)."""
    samples, points = np.asarray(samples, np.float64), np.asarray(points, np.float64)
    sq_points = (points ** 2).sum(1)
    nearest = np.empty(len(samples), dtype=np.int64)
    dist = np.empty(len(samples))
    for start in range(0, len(samples), _BLOCK):
        block = samples[start:start + _BLOCK]
        # ‖x − p‖² = ‖x‖² − 2 x·p + ‖p‖², as assign_to_modes
        sq = (block ** 2).sum(1)[:, None] - 2.0 * block @ points.T + sq_points[None, :]
        idx = sq.argmin(axis=1)
        nearest[start:start + len(block)] = idx
        dist[start:start + len(block)] = np.sqrt(np.maximum(sq[np.arange(len(block)), idx], 0))
    return nearest, dist


def curve_metrics(samples, curve_t, curve_points, std: float, n_segments: int = 20,
                  n_std: float = 3.0, strict_share: float = 0.2) -> dict:
    """Segments captured, strict segments, high-quality fraction and KL to uniform (module doc).

    ``curve_t`` (M,) increasing parameter values and ``curve_points`` (M, 2) the noiseless
    curve at them, dense against ``std`` (e.g. ``SwissRoll.curve()``); ``std`` the data's
    noise.  Returns a JSON-able dict: ``segments``, ``segments_strict``, ``high_quality``
    (fraction in [0, 1]), ``kl`` (nats; NaN when no sample is high quality), ``counts``
    (high-quality samples per segment), ``n_segments`` and ``n_samples``.
    """
    points = _as_points(curve_points, "curve_points", 2)
    t = np.asarray(curve_t, dtype=np.float64).reshape(-1)
    samples = _as_points(samples, "samples", 2)
    if len(t) != len(points) or len(t) < 2 or not (np.diff(t) > 0).all():
        raise ValueError(f"curve_metrics: curve_t must be {len(points)} increasing values, "
                         f"one per curve point, got shape {t.shape}")
    if not std > 0:
        raise ValueError(f"curve_metrics: std must be positive, got {std!r}")
    if int(n_segments) != n_segments or n_segments < 1:
        raise ValueError(f"curve_metrics: n_segments must be a positive integer, "
                         f"got {n_segments!r}")
    if len(samples) == 0:
        raise ValueError("curve_metrics: no samples")
    if not np.isfinite(samples).all():
        raise ValueError("curve_metrics: samples contain NaN or inf")
    n, k = len(samples), int(n_segments)
    nearest, dist = nearest_on_curve(samples, points)
    good = dist <= n_std * std
    segment = np.minimum(((t[nearest] - t[0]) / (t[-1] - t[0]) * k).astype(np.int64), k - 1)
    counts = np.bincount(segment[good], minlength=k)
    return {
        "segments": int((counts > 0).sum()),
        "segments_strict": int((counts >= strict_share * n / k).sum()),
        "high_quality": float(counts.sum() / n),
        "kl": kl_to_uniform(counts),
        "counts": counts.tolist(),
        "n_segments": k,
        "n_samples": n,
    }
