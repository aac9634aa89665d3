"""Samples of a generator: :func:`generate` (host arrays) and ``tinygan sample`` (files)."""
from __future__ import annotations

import os

import numpy as np

from .. import backend as B
from ..autograd import Tensor, no_grad
from .checkpoint import CHECKPOINT, load_checkpoint
from .config import ConfigError, TrainConfig

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


def sample_to_file(checkpoint: str, n: int, out: str, seed: int = 0,
                   backend: str = "numpy") -> str:
    """Rebuild G from a run's checkpoint, draw ``n`` samples, write ``out`` (.npy or .png)."""
    from .factory import build_models
    from .outputs import plot_samples
    if os.path.isdir(checkpoint):
        checkpoint = os.path.join(checkpoint, CHECKPOINT)
    if not os.path.exists(checkpoint):
        raise ConfigError(f"no checkpoint at {checkpoint}")
    ext = os.path.splitext(out)[1].lower()
    if ext not in (".npy", ".png"):
        raise ConfigError(f"--out must end in .npy or .png, got {out!r}")
    ckpt = load_checkpoint(checkpoint)
    cfg = TrainConfig.from_dict(ckpt["config"])
    B.set_backend(backend)
    if cfg.is_image:
        shape = (1, 28, 28)  # MNIST and Fashion-MNIST
    else:
        from ..data.toy import get_dataset
        shape = (get_dataset(cfg.data).dim,)
    G, _ = build_models(cfg, shape)
    G.load_state_dict(ckpt["G"])
    samples = generate(G, n, seed)
    if os.path.dirname(out):
        os.makedirs(os.path.dirname(out), exist_ok=True)
    if ext == ".npy":
        np.save(out, samples)
        return out
    return plot_samples(cfg, samples, out, f"{cfg.model} on {cfg.data}: {n} samples")
