"""Where a run's batches come from: host data streams and the loops' ``real()`` / ``noise()``.

Data arrive on the host (NumPy) from a seeded, resumable stream — a toy
distribution sampled on the fly, or shuffled minibatches of a finite image set
— and :class:`DataSource` moves each batch to the device as a Tensor.
:class:`NoiseSource` draws z ~ N(0, I) on the device from the backend's seeded
generator.  Both are the zero-argument callables a loop in
:mod:`tinygan.gan.loops` takes.
"""
from __future__ import annotations

import numpy as np

from .. import backend as B
from ..autograd import Tensor
from .config import ConfigError, TrainConfig

__all__ = ["ToyStream", "ImageStream", "make_data", "DataSource", "NoiseSource",
           "DATA_SEED_TAG"]

DATA_SEED_TAG = 0xDA7A  # the data stream's host generator: independent of every other stream


class ToyStream:
    """Fresh samples of a toy distribution from a seeded host generator (resumable)."""

    def __init__(self, dataset, seed: int):
        self.dataset = dataset
        self.rng = np.random.default_rng([int(seed), DATA_SEED_TAG])
        self.shape = (dataset.dim,)

    def next(self, m: int) -> np.ndarray:
        return self.dataset.sample(m, self.rng)

    def state_dict(self) -> dict:
        return {"kind": "toy", "bit_generator": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        self.rng.bit_generator.state = state["bit_generator"]


class ImageStream:
    """Shuffled minibatches of a finite image set (``tinygan.data.DataLoader``, resumable)."""

    def __init__(self, images: np.ndarray, batch_size: int, seed: int):
        from ..data.loader import DataLoader
        self.loader = DataLoader(images, batch_size, shuffle=True, drop_last=True, seed=seed)
        self.shape, self.n = tuple(images.shape[1:]), len(images)

    def next(self, m: int) -> np.ndarray:
        if m != self.loader.batch_size:
            raise ValueError(f"ImageStream: batches have {self.loader.batch_size} rows, "
                             f"asked for {m}")
        return self.loader.next_batch()

    def state_dict(self) -> dict:
        return {"kind": "images", "loader": self.loader.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.loader.load_state_dict(state["loader"])


def make_data(cfg: TrainConfig):
    """The host data stream of ``cfg.data`` (a toy sampler or a shuffled image iterator)."""
    if not cfg.is_image:
        from ..data.toy import get_dataset
        return ToyStream(get_dataset(cfg.data), cfg.seed)
    from ..data.mnist import DataError, load_mnist
    try:
        images, _ = load_mnist(cfg.data_dir, "train", download=cfg.download, dataset=cfg.data,
                               deadline=cfg.download_timeout)
    except (DataError, OSError) as exc:
        # one line for the command line: the data folder/download is the user's input
        raise ConfigError(f"cannot load {cfg.data}: {exc}".replace("\n", " ")) from None
    if cfg.resize is not None:
        from ..data.resize import resize_images
        images = resize_images(images, cfg.resize)
    if len(images) < cfg.batch_size:
        raise ConfigError(f"--batch-size {cfg.batch_size} is larger than the {len(images)} "
                          f"training images of {cfg.data}")
    return ImageStream(images, cfg.batch_size, cfg.seed)


class DataSource:
    """``real()``: the next m samples of a host stream, moved to the device.  Counts them
    (``seen``) for the samples/s figure."""

    def __init__(self, stream, m: int):
        self.stream, self.m, self.seen = stream, int(m), 0

    def __call__(self) -> Tensor:
        self.seen += self.m
        return Tensor(B.to_device(self.stream.next(self.m)))


class NoiseSource:
    """``noise()``: m fresh z ~ N(0, I) of the generator's noise shape, drawn on the device."""

    def __init__(self, G, m: int):
        self.shape = G.noise_shape(int(m))

    def __call__(self) -> Tensor:
        return Tensor._make(B.randn(self.shape), False, None)
