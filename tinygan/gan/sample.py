"""Samples of a generator: :func:`generate` (host arrays) and ``tinygan sample`` (files)."""
from __future__ import annotations

import os

import numpy as np

from .. import backend as B
from ..autograd import Tensor, no_grad
from .checkpoint import CHECKPOINT, load_checkpoint, nonfinite_entries
from .config import ConfigError, TrainConfig, resolve

__all__ = ["generate", "sample_to_file", "SAMPLE_SEED_TAG"]

SAMPLE_SEED_TAG = 0x5A3B  # sampling's own host generator: drawing never moves the training's


def generate(G, n: int, seed: int, batch: int = 500) -> np.ndarray:
    """``n`` host samples of G from its own seeded noise (eval mode: no state changes)."""
    rng = np.random.default_rng([int(seed), SAMPLE_SEED_TAG])
    was_training = G.training
    G.eval()
    out = []
    try:
        with no_grad():
            for start in range(0, n, batch):
                z = rng.standard_normal(G.noise_shape(min(batch, n - start)), dtype=np.float32)
                out.append(B.to_numpy(G(Tensor(B.to_device(z))).data))
    finally:
        G.train(was_training)
    return np.concatenate(out, axis=0)


def _generator(cfg: TrainConfig, ckpt: dict, path: str):
    """The run's G with the checkpoint's weights — the moving average ``G_ema`` when the run
    kept one (``--ema``: what the run itself sampled and evaluated), else ``G``.  The data
    shape is stored in the config by every run; checkpoints written before it was are
    MNIST-sized (1×28×28) for images."""
    from .factory import build_models
    if cfg.data_shape is not None:
        shape = tuple(int(v) for v in cfg.data_shape)
    elif cfg.is_image:
        shape = (1, 28, 28)
    else:
        from ..data.toy import get_dataset
        shape = (get_dataset(cfg.data).dim,)
    try:
        G, _ = build_models(cfg, shape)
        G.load_state_dict(ckpt["G"])  # both must fit the config: a mismatch is a damaged file
        if "G_ema" in ckpt:
            G.load_state_dict(ckpt["G_ema"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"checkpoint {path}: its generator does not match its config "
                          f"({exc})".replace("\n", " ")) from None
    return G


def sample_to_file(checkpoint: str, n: int, out: str, seed: int = 0,
                   backend: str = "numpy") -> str:
    """Rebuild G from a run's checkpoint, draw ``n`` samples, write ``out`` (.npy or .png)."""
    from .outputs import plot_samples
    if os.path.isdir(checkpoint):
        checkpoint = os.path.join(checkpoint, CHECKPOINT)
    if not os.path.exists(checkpoint):
        raise ConfigError(f"no checkpoint at {checkpoint}")
    ext = os.path.splitext(out)[1].lower()
    if os.path.isdir(out):
        raise ConfigError(f"--out {out} is a folder; name a .npy or .png file")
    if ext not in (".npy", ".png"):
        raise ConfigError(f"--out must end in .npy or .png, got {out!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"--seed must be an integer >= 0, got {seed!r}")
    ckpt = load_checkpoint(checkpoint)
    try:
        cfg = resolve(TrainConfig.from_dict(ckpt["config"]))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"checkpoint {checkpoint}: its config is not valid ({exc})") from None
    bad = [f"{part}.{name}" for part in ("G", "G_ema") if part in ckpt
           for name in nonfinite_entries(ckpt[part])]
    if bad:
        raise ConfigError(f"checkpoint {checkpoint}: the generator's weights are not finite "
                          f"({', '.join(bad[:3])}); it cannot be sampled")
    B.set_backend(backend)
    G = _generator(cfg, ckpt, checkpoint)
    samples = generate(G, n, seed)
    if os.path.dirname(out):
        os.makedirs(os.path.dirname(out), exist_ok=True)
    if ext == ".npy":
        np.save(out, samples)
        return out
    return plot_samples(cfg, samples, out, f"{cfg.model} on {cfg.data}: {n} samples")
