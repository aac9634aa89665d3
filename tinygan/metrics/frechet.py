"""Image metrics: a Fréchet distance on the features of a digit classifier trained with
tinygan itself, and class coverage.

Fréchet distance (Heusel et al., 2017, the "FID" formula, here on our own
classifier's features instead of Inception's): for Gaussians fitted to two
feature sets, N(μ_a, Σ_a) and N(μ_b, Σ_b),

    d² = ‖μ_a − μ_b‖² + Tr(Σ_a + Σ_b − 2 (Σ_a Σ_b)^{1/2}).

Tr((Σ_a Σ_b)^{1/2}) equals Tr((Σ_a^{1/2} Σ_b Σ_a^{1/2})^{1/2}), and the
matrix inside is symmetric PSD, so two symmetric eigendecompositions
(``numpy.linalg.eigh``) give it stably — no scipy ``sqrtm``, no complex
round-off.

The classifier is a small MLP (784 → 256 → 128 → 10, ReLU); its 128-d
penultimate activations are the features.  ``train_classifier`` trains it with
``tinygan.optim.Adam`` in a few seconds; ``get_classifier`` caches the
weights (``tinygan.save``) under the cache folder keyed by a fingerprint of
the training data, so later calls load them.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import time
import warnings
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from .. import backend as B
from .. import nn
from ..autograd import Tensor, no_grad
from ..data.loader import DataLoader
from ..nn import functional as F

__all__ = ["frechet_distance", "feature_statistics", "frechet_distance_from_stats",
           "DigitClassifier", "train_classifier", "get_classifier", "classifier_features",
           "classifier_predict", "classifier_frechet_distance", "class_coverage", "accuracy"]

_ARCH_VERSION = "mlp-784-256-128-10-v1"


# ---------------------------------------------------------------- Fréchet distance
def _psd_sqrt(m):
    w, v = np.linalg.eigh(m)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def feature_statistics(feats):
    """Mean (D,) and covariance (D, D) of features (N, D), in float64."""
    f = np.asarray(B.to_numpy(feats), dtype=np.float64)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"feature_statistics: features must have shape (N, D) with N ≥ 2, "
                         f"got {f.shape}")
    return f.mean(axis=0), np.cov(f, rowvar=False).reshape(f.shape[1], f.shape[1])


def frechet_distance_from_stats(mu_a, sigma_a, mu_b, sigma_b) -> float:
    """d² between N(mu_a, sigma_a) and N(mu_b, sigma_b) (see module doc)."""
    mu_a, mu_b = np.asarray(mu_a, np.float64), np.asarray(mu_b, np.float64)
    sigma_a, sigma_b = np.asarray(sigma_a, np.float64), np.asarray(sigma_b, np.float64)
    if mu_a.shape != mu_b.shape or sigma_a.shape != sigma_b.shape \
            or sigma_a.shape != mu_a.shape * 2:
        raise ValueError(f"frechet_distance: means {mu_a.shape}, {mu_b.shape} and covariances "
                         f"{sigma_a.shape}, {sigma_b.shape} do not describe Gaussians of one "
                         f"dimension")
    root_a = _psd_sqrt(sigma_a)
    inner = root_a @ sigma_b @ root_a
    inner = 0.5 * (inner + inner.T)  # symmetrise away round-off before eigh
    tr_cross = np.sqrt(np.clip(np.linalg.eigvalsh(inner), 0.0, None)).sum()
    diff = mu_a - mu_b
    d2 = diff @ diff + np.trace(sigma_a) + np.trace(sigma_b) - 2.0 * tr_cross
    return float(max(d2, 0.0))


def frechet_distance(feats_a, feats_b) -> float:
    """Fréchet distance d² between Gaussians fitted to feature sets (N_a, D) and (N_b, D)."""
    fa, fb = feature_statistics(feats_a), feature_statistics(feats_b)
    if fa[0].shape != fb[0].shape:
        raise ValueError(f"frechet_distance: features have {fa[0].shape[0]} and "
                         f"{fb[0].shape[0]} dimensions")
    return frechet_distance_from_stats(fa[0], fa[1], fb[0], fb[1])


# ---------------------------------------------------------------- the classifier
class DigitClassifier(nn.Module):
    """MLP on 28×28 images in [−1, 1]: 784 → 256 → 128 (features) → 10 logits."""

    def __init__(self, in_features: int = 784, hidden=(256, 128), n_classes: int = 10):
        super().__init__()
        self.in_features, self.n_classes = int(in_features), int(n_classes)
        self.body = nn.Sequential(nn.Linear(in_features, hidden[0]), nn.ReLU(),
                                  nn.Linear(hidden[0], hidden[1]), nn.ReLU())
        self.head = nn.Linear(hidden[1], n_classes)

    def _flat(self, x: Tensor) -> Tensor:
        if x.ndim < 2 or int(np.prod(x.shape[1:])) != self.in_features:
            raise ValueError(f"DigitClassifier: expected images of shape (N, 1, 28, 28) or "
                             f"(N, {self.in_features}), got {x.shape}")
        return x.reshape(x.shape[0], self.in_features)

    def features(self, x: Tensor) -> Tensor:
        return self.body(self._flat(x))

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))


@contextlib.contextmanager
def _global_rng_untouched():
    """Building Linear layers draws from the global generator; put its state back afterwards
    so that evaluating a GAN mid-run does not change the run's random stream (exact resume).
    (CuPy's generator state cannot be read back, so there it is left as is.)"""
    state = B.get_rng_state()
    saved = state if "bit_generator" in state else None
    try:
        yield
    finally:
        if saved is not None:
            B.set_rng_state(saved)


@contextlib.contextmanager
def _blas_threads(n):
    """Limit host BLAS to ``n`` threads while the classifier runs (``None``: leave it as is).

    Its matrices are small (batch 128 × 784 × 256): one thread is as fast as two, and
    multithreaded OpenBLAS on a busy 2-core machine was measured 20–30× slower.
    """
    if n is None:
        yield
        return
    with threadpool_limits(limits=int(n), user_api="blas"):
        yield


def _new_classifier(in_features: int, n_classes: int = 10, seed: int = 0) -> DigitClassifier:
    """A DigitClassifier initialised with PyTorch's default Linear init U(±1/sqrt(fan_in))
    drawn from a private host generator seeded by ``seed``."""
    with _global_rng_untouched():
        model = DigitClassifier(in_features=in_features, n_classes=n_classes)
    rng = np.random.default_rng(seed)
    for m in model.modules():
        if isinstance(m, nn.Linear):
            bound = 1.0 / np.sqrt(m.in_features)
            for p in (m.weight, m.bias):
                p.data = B.to_device(rng.uniform(-bound, bound, p.shape).astype(p.dtype))
    return model


def _as_images(images, who):
    x = np.asarray(B.to_numpy(images.data if isinstance(images, Tensor) else images))
    if x.ndim != 4 and x.ndim != 2:
        raise ValueError(f"{who}: images must have shape (N, C, H, W) or (N, D), got {x.shape}")
    return x.astype(np.float32, copy=False)


def train_classifier(images, labels, epochs: int = 8, batch_size: int = 128, lr: float = 2e-3,
                     seed: int = 0, verbose: bool = False,
                     blas_threads: int | None = 1) -> DigitClassifier:
    """Train a :class:`DigitClassifier` with Adam on host arrays (images in [−1, 1]).

    About 5 s for the 8,000 training digits of the shared subset on one CPU core
    (single-threaded BLAS), ≈ 94.5 % accuracy on its 2,000 test digits.  Runs on the
    active backend; returns the model in eval mode.  ``blas_threads`` caps the host BLAS
    pool during training (None: leave it as it is).
    """
    from ..optim import Adam
    x = _as_images(images, "train_classifier")
    y = np.asarray(B.to_numpy(labels)).astype(np.int64).reshape(-1)
    if len(x) != len(y):
        raise ValueError(f"train_classifier: {len(x)} images but {len(y)} labels")
    model = _new_classifier(int(np.prod(x.shape[1:])), int(max(10, y.max() + 1)), seed)
    opt = Adam(model.parameters(), lr=lr)
    loader = DataLoader((x, y), batch_size, shuffle=True, drop_last=False, seed=seed)
    start = time.perf_counter()
    with _blas_threads(blas_threads):
        _fit(model, opt, loader, epochs, verbose, start)
    return model.eval()


def _fit(model, opt, loader, epochs, verbose, start):
    """Minibatch Adam on the mean cross-entropy, one pass over the loader per epoch."""
    for epoch in range(epochs):
        total, count = 0.0, 0
        for xb, yb in loader:
            loss = F.cross_entropy(model(Tensor(xb)), B.to_device(yb))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, count = total + loss.item() * len(xb), count + len(xb)
        if verbose:
            print(f"classifier epoch {epoch + 1}/{epochs}: loss {total / count:.4f} "
                  f"({time.perf_counter() - start:.1f} s)")


def _batched(classifier, images, fn, batch_size):
    x = _as_images(images, "classifier")
    out = []
    with no_grad(), _blas_threads(1):
        for start in range(0, len(x), batch_size):
            out.append(B.to_numpy(fn(classifier, Tensor(x[start:start + batch_size])).data))
    return np.concatenate(out) if out else np.zeros((0,))


def classifier_features(classifier, images, batch_size: int = 1000) -> np.ndarray:
    """Penultimate activations (N, 128) as a host float32 array."""
    return _batched(classifier, images, lambda m, t: m.features(t), batch_size)


def classifier_predict(classifier, images, batch_size: int = 1000) -> np.ndarray:
    """Predicted class (N,) int64."""
    logits = _batched(classifier, images, lambda m, t: m(t), batch_size)
    return logits.argmax(axis=1).astype(np.int64)


def accuracy(classifier, images, labels) -> float:
    return float((classifier_predict(classifier, images) == np.asarray(labels)).mean())


def classifier_frechet_distance(images_a, images_b, classifier, batch_size: int = 1000) -> float:
    """Fréchet distance between two image sets on the classifier's features."""
    return frechet_distance(classifier_features(classifier, images_a, batch_size),
                            classifier_features(classifier, images_b, batch_size))


def class_coverage(images, classifier, n_classes: int = 10) -> dict:
    """Fraction of the classes that the classifier predicts at least once, and the histogram.

    Returns ``coverage`` (in [0, 1]), ``classes_covered``, ``histogram`` (counts per
    class) and ``kl`` — KL of the predicted-class histogram to uniform (0 = balanced).
    """
    pred = classifier_predict(classifier, images)
    counts = np.bincount(pred, minlength=n_classes)[:n_classes]
    p = counts[counts > 0] / max(counts.sum(), 1)
    return {"coverage": float((counts > 0).sum() / n_classes),
            "classes_covered": int((counts > 0).sum()),
            "histogram": counts.tolist(),
            "kl": float((p * np.log(p * n_classes)).sum()) if counts.sum() else float("nan")}


# ---------------------------------------------------------------- cached classifier
def _fingerprint(images, labels, **config) -> str:
    h = hashlib.sha256()
    h.update(_ARCH_VERSION.encode())
    h.update(repr(sorted(config.items())).encode())
    h.update(np.ascontiguousarray(images).tobytes())
    h.update(np.ascontiguousarray(labels).tobytes())
    return h.hexdigest()[:16]


def get_classifier(data_dir=None, dataset: str = "mnist", cache_path=None, epochs: int = 8,
                   lr: float = 2e-3, batch_size: int = 128, seed: int = 0,
                   download: bool = False, verbose: bool = False):
    """The digit classifier for ``dataset``'s training split, trained once and then cached.

    Weights live in ``cache_path`` (default ``<cache>/classifiers/<dataset>-<fingerprint>.npz``,
    the fingerprint covering the training images, labels, architecture and settings), written
    with ``tinygan.save`` and read back with ``tinygan.load``.
    """
    from ..data.mnist import cache_dir, load_mnist
    from ..serialization import load, save
    images, labels = load_mnist(data_dir, "train", download=download, dataset=dataset)
    if cache_path is None:
        tag = _fingerprint(images, labels, epochs=epochs, lr=lr, batch_size=batch_size,
                           seed=seed)
        cache_path = cache_dir() / "classifiers" / f"{dataset}-{tag}.npz"
    cache_path = Path(cache_path)
    if cache_path.is_file():
        model = _new_classifier(int(np.prod(images.shape[1:])))
        try:
            model.load_state_dict(load(cache_path)["state_dict"])
            return model.eval()
        except (ValueError, KeyError, TypeError) as exc:  # damaged or stale cache: retrain
            if verbose:
                print(f"ignoring unreadable classifier cache {cache_path}: {exc}")
    model = train_classifier(images, labels, epochs=epochs, batch_size=batch_size, lr=lr,
                             seed=seed, verbose=verbose)
    try:  # a read-only cache (a shared data folder) costs a retrain next time, not the run
        os.makedirs(cache_path.parent, exist_ok=True)
        save({"state_dict": model.state_dict(), "arch": _ARCH_VERSION, "dataset": dataset},
             cache_path)
    except OSError as exc:
        warnings.warn(f"could not cache the digit classifier at {cache_path}: {exc}; "
                      f"it is retrained on the next call", stacklevel=2)
    return model
