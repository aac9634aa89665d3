"""What a run shows: sample figures, the loss curves, and the metrics of its samples."""
from __future__ import annotations

import json
import os

import numpy as np

from .. import backend as B
from ..autograd import Tensor, no_grad
from .config import TrainConfig

__all__ = ["sample_metrics", "digit_metrics", "real_digit_floor", "plot_samples", "critic_on_grid", "write_outputs",
           "METRICS"]

METRICS = "metrics.jsonl"


def critic_on_grid(D, probability: bool):
    """A host function evaluating D(x) = σ(logit) (GAN) or the critic f(x) (WGAN) on host points."""
    def f(points):
        was = D.training
        D.eval()
        try:
            with no_grad():
                x = Tensor(B.to_device(np.asarray(points, dtype=np.float32)))
                out = B.to_numpy(D(x).data)[:, 0].astype(np.float64)
                return 0.5 * (1.0 + np.tanh(0.5 * out)) if probability else out  # σ, overflow-free
        finally:
            D.train(was)
    return f


DIGIT_SIZE = (28, 28)  # the digit classifier's input (tinygan.metrics.frechet.DigitClassifier)


def digit_metrics(samples: np.ndarray, data: str = "mnist", data_dir=None) -> dict:
    """Classifier Fréchet distance of host images to the held-out (test) digits, and class
    coverage: the features and predictions of tinygan's digit classifier
    (:func:`tinygan.metrics.get_classifier`, trained once on the training split and cached).

    The classifier reads 28×28 digits: samples of another size (a run with ``--resize``)
    are resampled to 28×28 bilinearly first, by the rule that resized the data, and the
    result says so (``resized_from``: the samples' height and width).  Their FD is then
    that of the resampled samples — comparable between runs of one size, not with 28×28
    runs, since the two resamplings blur the digits.

    Returns ``frechet``, ``classes_covered``, ``class_kl``, ``histogram``, ``min_class_share``
    and ``n_samples``; ``{"finite": False}`` for non-finite samples, and ``{"error": ...}``
    when the test split or the labels are not at hand.
    """
    from ..data.mnist import DataError, load_mnist
    from ..data.resize import resize_images
    from ..metrics import class_coverage, classifier_frechet_distance, get_classifier
    if not np.isfinite(samples).all():
        return {"finite": False}
    resized = {}
    if samples.ndim == 4 and samples.shape[-2:] != DIGIT_SIZE:
        resized = {"resized_from": list(samples.shape[-2:])}
        samples = resize_images(samples, DIGIT_SIZE)
    try:
        clf = get_classifier(data_dir, data)
        test, _ = load_mnist(data_dir, "test", dataset=data)
    except (DataError, OSError) as exc:
        return {"error": f"no digit metrics: {exc}".replace("\n", " ")}
    cov = class_coverage(samples, clf)
    hist = cov["histogram"]
    return {"frechet": classifier_frechet_distance(samples, test, clf),
            "classes_covered": cov["classes_covered"], "class_kl": cov["kl"],
            "histogram": hist, "min_class_share": min(hist) / max(sum(hist), 1),
            "n_samples": int(len(samples)), **resized}


def real_digit_floor(data: str = "mnist", data_dir=None, n: int = 2000, seed: int = 0) -> dict:
    """The real-vs-real floor of :func:`digit_metrics`: ``n`` random training digits scored
    against the held-out digits by the same classifier (what a perfect generator gets)."""
    from ..data.mnist import load_mnist
    images, _ = load_mnist(data_dir, "train", dataset=data)
    pick = np.random.default_rng(seed).permutation(len(images))[:n]
    return digit_metrics(images[pick], data, data_dir)


def sample_metrics(cfg: TrainConfig, samples: np.ndarray) -> dict:
    """The data kind's quality metrics of host samples: mode coverage for the 2-D mixtures,
    coverage of the curve for the swiss roll, W1 for 1-D data, classifier Fréchet distance
    and class coverage for digits."""
    if cfg.is_image:
        return digit_metrics(samples, cfg.data, cfg.data_dir)
    from ..data.toy import get_dataset
    dataset = get_dataset(cfg.data)
    if not np.isfinite(samples).all():
        return {"finite": False}
    if dataset.dim == 2 and dataset.centers is not None:
        from ..metrics import mode_metrics
        return mode_metrics(samples, dataset.centers, dataset.std)
    if dataset.dim == 2:
        from ..metrics import curve_metrics
        return curve_metrics(samples, *dataset.curve(), dataset.std)
    # 1-D: W1 to as many fresh data points, beside W1 between two such draws (the floor a
    # perfect G would score, from the sample size alone), and the samples' moments
    from ..metrics import wasserstein1_1d
    rng = np.random.default_rng([cfg.seed, 7])
    real, other = (dataset.sample(len(samples), rng)[:, 0] for _ in range(2))
    x = samples[:, 0].astype(np.float64)
    return {"wasserstein1": float(wasserstein1_1d(x, real)),
            "wasserstein1_real_vs_real": float(wasserstein1_1d(other, real)),
            "mean": float(x.mean()), "std": float(x.std())}


def plot_samples(cfg: TrainConfig, samples: np.ndarray, path: str, title: str,
                 critic=None) -> str:
    """One figure of host samples: an image grid, or points over the toy data's modes (with
    the discriminator/critic's landscape behind them when ``critic`` is given)."""
    from .. import plots
    if cfg.is_image:
        plots.save_image_grid(samples, path)
        return path
    from ..data.toy import get_dataset
    dataset = get_dataset(cfg.data)
    if dataset.dim == 2:
        curve = dataset.curve(1024)[1] if dataset.centers is None else None
        plots.plot_2d(samples, path, centers=dataset.centers, critic_fn=critic, title=title,
                      curve=curve)
    else:
        d_fn = None if critic is None else (lambda x: critic(np.reshape(x, (-1, 1))))
        plots.plot_1d(samples, path, density_fn=getattr(dataset, "density", None), d_fn=d_fn,
                      title=title)
    return path


def write_outputs(cfg: TrainConfig, out_dir: str, step: int, D, samples: np.ndarray,
                  tag: str, final: bool) -> dict:
    """Sample figure ``samples{tag}.png``; at the end also ``losses.png`` and the summary."""
    figures = []
    if cfg.figures:
        critic = None if cfg.is_image else critic_on_grid(D, probability=not cfg.is_wasserstein)
        shown = samples[:64] if cfg.is_image else samples
        figures.append(plot_samples(cfg, shown, os.path.join(out_dir, f"samples{tag}.png"),
                                    f"{cfg.model} on {cfg.data}, step {step}", critic))
        metrics = os.path.join(out_dir, METRICS)
        if final and os.path.exists(metrics):
            from .. import plots
            with open(metrics) as f:
                rows = [json.loads(line) for line in f if line.strip()]
            rows = [r for r in rows if "event" not in r]
            plots.plot_losses(rows, os.path.join(out_dir, "losses.png"))
            figures.append(os.path.join(out_dir, "losses.png"))
    if not final:
        return {}
    return {"model": cfg.model, "data": cfg.data, "steps": step, "seed": cfg.seed,
            "metrics": sample_metrics(cfg, samples), "figures": figures}
