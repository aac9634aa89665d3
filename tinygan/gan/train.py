"""The plumbing every GAN loop shares, written once: :class:`Trainer` and :func:`train`.

A loop in :mod:`tinygan.gan.loops` only says what its paper's algorithm says
(draw noise and data, compute a loss, take a step); the trainer does the rest:

* the run folder: ``config.json``, ``metrics.jsonl`` (one JSON object per
  logged step), ``checkpoint.npz``, ``samples.npy`` and the figures;
* a progress bar with live losses (tqdm; silent when stderr is not a terminal);
* periodic checkpoints holding both networks, both optimisers, the step, the
  RNG state of the backend (noise z, instance noise, interpolation ε), the
  state of the host data stream (toy-data generator or minibatch iterator) and
  the config — enough for ``--resume`` to continue *bit-identically* on CPU;
* a finiteness check of every recorded loss at every step: a NaN/inf stops the
  run with :class:`TrainingDiverged`, naming the step, and the last good
  checkpoint stays in place (nothing is saved after the divergence).

Data arrive on the host (NumPy) and are moved to the device with
``backend.to_device``; generated samples come back with ``backend.to_numpy``.
Samples for figures and ``samples.npy`` use noise from their own host
generator, so drawing them never changes the training's random stream.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import time

import numpy as np

from .. import backend as B
from ..autograd import Tensor, no_grad
from ..serialization import load, save
from .config import ConfigError, TrainConfig, default_data, resolve
from .models import (DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator,
                     MLPImageDiscriminator, MLPImageGenerator)

__all__ = ["Trainer", "TrainingDiverged", "train", "build_models", "build_optimizer",
           "make_data", "generate", "load_checkpoint", "frozen", "CHECKPOINT", "METRICS",
           "CONFIG", "SAMPLES"]

CHECKPOINT, METRICS, CONFIG, SAMPLES = "checkpoint.npz", "metrics.jsonl", "config.json", \
    "samples.npy"
_DATA_SEED_TAG, _SAMPLE_SEED_TAG = 0xDA7A, 0x5A3B  # independent host streams per purpose


class TrainingDiverged(RuntimeError):
    """A loss became NaN/inf; ``step``: the generator step, ``checkpoint``: the file kept."""

    def __init__(self, message, step, checkpoint):
        super().__init__(message)
        self.step, self.checkpoint = step, checkpoint


@contextlib.contextmanager
def frozen(module):
    """Hold ``module``'s weights fixed: inside, its parameters get no gradient.

    The generator's step differentiates *through* D but must not move it
    (Algorithm 1 updates θ_g only); freezing also saves D's weight gradients.
    Call ``backward`` inside the block (requires_grad is read during backward).
    """
    params = list(module.parameters())
    flags = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad = False
    try:
        yield module
    finally:
        for p, f in zip(params, flags):
            p.requires_grad = f


# ---------------------------------------------------------------- data on the host
class ToyStream:
    """Fresh samples of a toy distribution from a seeded host generator (resumable)."""

    def __init__(self, dataset, seed: int):
        self.dataset = dataset
        self.rng = np.random.default_rng([int(seed), _DATA_SEED_TAG])
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
        images, _ = load_mnist(cfg.data_dir, "train", download=cfg.download, dataset=cfg.data)
    except (DataError, OSError) as exc:
        # one line for the command line: the data folder/download is the user's input
        raise ConfigError(f"cannot load {cfg.data}: {exc}".replace("\n", " ")) from None
    if len(images) < cfg.batch_size:
        raise ConfigError(f"--batch-size {cfg.batch_size} is larger than the {len(images)} "
                          f"training images of {cfg.data}")
    return ImageStream(images, cfg.batch_size, cfg.seed)


# ---------------------------------------------------------------- models and optimisers
def build_models(cfg: TrainConfig, data_shape: tuple):
    """(G, D) for the config: MLPs on vectors / flattened images, or the DCGAN pair."""
    if not cfg.is_image:
        (dim,) = data_shape
        return (MLPGenerator(cfg.z_dim, dim, cfg.hidden, "relu"),
                MLPDiscriminator(dim, cfg.hidden, "relu"))
    if cfg.arch == "mlp":
        return (MLPImageGenerator(cfg.z_dim, data_shape, cfg.hidden, "relu"),
                MLPImageDiscriminator(data_shape, cfg.hidden, "leaky_relu"))
    channels, size, _ = data_shape
    # WGAN-GP's critic has no batch norm (Gulrajani et al. §4); WGAN kept DCGAN's.
    return (DCGANGenerator(cfg.z_dim, channels, size, cfg.ngf),
            DCGANDiscriminator(channels, size, cfg.ndf, batch_norm=cfg.model != "wgan-gp"))


def build_optimizer(cfg: TrainConfig, params):
    from .. import optim
    if cfg.optimizer == "sgd":
        return optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum)
    if cfg.optimizer == "adam":
        return optim.Adam(params, lr=cfg.lr, betas=cfg.betas)
    return optim.RMSprop(params, lr=cfg.lr, alpha=cfg.alpha)


def generate(G, n: int, seed: int, batch: int = 500) -> np.ndarray:
    """``n`` host samples of G from its own seeded noise (eval mode: no state changes)."""
    rng = np.random.default_rng([int(seed), _SAMPLE_SEED_TAG])
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


def _host_json(obj):
    return json.dumps(obj, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o))


# ---------------------------------------------------------------- the trainer
class Trainer:
    """State and services of one run.  Loops use: ``G, D, opt_g, opt_d, cfg, m``,
    :meth:`iterations`, :meth:`noise`, :meth:`real`, :meth:`update`, :meth:`record`,
    :meth:`sigma`.
    """

    def __init__(self, cfg: TrainConfig, G, D, opt_g, opt_d, data, out_dir: str):
        self.cfg, self.G, self.D, self.opt_g, self.opt_d, self.data = cfg, G, D, opt_g, opt_d, data
        self.out_dir, self.m = out_dir, cfg.batch_size
        self.step = 0                  # generator updates done so far
        self.last_checkpoint = None    # step of the last good checkpoint on disk
        self._values = {}
        self._bar = None
        self._log_clock = (time.perf_counter(), 0, 0)  # time, step, real samples seen
        self.real_seen = 0

    def path(self, name):
        return os.path.join(self.out_dir, name)

    # ------------------------------------------------------------ what loops call
    def noise(self, m: int = None) -> Tensor:
        """m fresh noise vectors z ~ N(0, I), drawn on the device from the seeded backend RNG."""
        return Tensor._make(B.randn(self.G.noise_shape(m or self.m)), False, None)

    def real(self, m: int = None) -> Tensor:
        """m fresh data samples, moved from the host to the device."""
        m = m or self.m
        self.real_seen += m
        return Tensor(B.to_device(self.data.next(m)))

    def sigma(self) -> float:
        """Instance-noise σ at this step: linear from σ0 to 0 over ``noise_anneal_steps``."""
        cfg = self.cfg
        if not cfg.instance_noise:
            return 0.0
        span = cfg.noise_anneal_steps or cfg.steps
        return cfg.instance_noise * max(0.0, 1.0 - self.step / span)

    @staticmethod
    def update(optimizer, loss: Tensor) -> None:
        """One gradient step on ``loss`` (zero the gradients, backprop, step)."""
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    def record(self, **values) -> None:
        """Values of this iteration to check and log (Tensors or numbers)."""
        self._values = values

    def iterations(self):
        """The loop's ``for step in trainer.iterations():`` — Algorithm 1's n iterations.

        Starts after the last completed step (so a resumed run continues), and
        after each iteration checks the recorded losses, logs, checkpoints and
        draws sample figures when due.
        """
        for step in range(self.step, self.cfg.steps):
            self._values = {}
            yield step
            self.step = step + 1
            self._after_step()

    # ------------------------------------------------------------ after each iteration
    def _after_step(self):
        cfg, step = self.cfg, self.step
        values = {k: (float(v.item()) if isinstance(v, Tensor) else float(v))
                  for k, v in self._values.items()}
        bad = [k for k, v in values.items() if not math.isfinite(v)]
        if bad:
            self._diverged(step, ", ".join(f"{k} = {values[k]}" for k in bad))
        last = step == cfg.steps
        if self._bar is not None:
            self._bar.update(1)
        if step % cfg.log_every == 0 or last or step == 1:
            self._log(step, values)
        if step % cfg.checkpoint_every == 0 or last:
            self.save_checkpoint()
        if cfg.sample_every and step % cfg.sample_every == 0 and not last:
            self._figures(samples=generate(self.G, 64 if cfg.is_image else cfg.n_samples,
                                           cfg.seed), tag=f"_{step:06d}", final=False)

    def _diverged(self, step, what):
        where = (f"the last good checkpoint (step {self.last_checkpoint}) is kept at "
                 f"{self.path(CHECKPOINT)}" if self.last_checkpoint is not None
                 else "no checkpoint was written")
        msg = (f"training diverged at step {step}: {what}. Stopped; {where}. Try a smaller "
               f"--lr (now {self.cfg.lr}).")
        self._append_metrics({"step": step, "event": "diverged", "message": msg})
        raise TrainingDiverged(msg, step, self.path(CHECKPOINT) if self.last_checkpoint
                               is not None else None)

    def _log(self, step, values):
        now = time.perf_counter()
        t0, s0, r0 = self._log_clock
        dt = max(now - t0, 1e-9)
        row = {"step": step, **values,
               "samples_per_s": (self.real_seen - r0) / dt, "it_per_s": (step - s0) / dt}
        self._log_clock = (now, step, self.real_seen)
        self._append_metrics(row)
        if self._bar is not None:
            self._bar.set_postfix({k: f"{v:.4g}" for k, v in values.items()}, refresh=False)

    def _append_metrics(self, row):
        with open(self.path(METRICS), "a") as f:
            f.write(json.dumps(row) + "\n")

    # ------------------------------------------------------------ checkpoints
    def save_checkpoint(self):
        """Write ``checkpoint.npz`` (atomic); refuse non-finite weights, keeping the old file."""
        for name, net in (("G", self.G), ("D", self.D)):
            total = sum(float(p.data.sum()) for p in net.parameters())
            if not math.isfinite(total):
                self._diverged(self.step, f"the weights of {name} are no longer finite")
        save({"format": "tinygan-gan-run", "step": self.step,
              "config": self.cfg.to_dict(),
              "G": self.G.state_dict(), "D": self.D.state_dict(),
              "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
              "rng": _host_json(B.get_rng_state()),
              "data": _host_json(self.data.state_dict())},
             self.path(CHECKPOINT))
        self.last_checkpoint = self.step

    def restore(self, ckpt: dict) -> None:
        """Continue from a checkpoint dict (see :meth:`save_checkpoint`)."""
        self.G.load_state_dict(ckpt["G"])
        self.D.load_state_dict(ckpt["D"])
        self.opt_g.load_state_dict(ckpt["opt_g"])
        self.opt_d.load_state_dict(ckpt["opt_d"])
        B.set_rng_state(json.loads(ckpt["rng"]))
        self.data.load_state_dict(json.loads(ckpt["data"]))
        self.step = self.last_checkpoint = int(ckpt["step"])
        # forget log rows written after the checkpoint by the interrupted run
        if os.path.exists(self.path(METRICS)):
            with open(self.path(METRICS)) as f:
                rows = [line for line in f if line.strip()
                        and json.loads(line).get("step", 0) <= self.step]
            with open(self.path(METRICS), "w") as f:
                f.writelines(rows)

    # ------------------------------------------------------------ running and outputs
    def run(self, loop):
        """Run ``loop(self)`` to ``cfg.steps``, then write samples.npy, figures, summary.json."""
        progress = self.cfg.progress
        if progress is None:
            progress = sys.stderr.isatty()  # quiet in non-interactive use
        from tqdm.auto import tqdm
        with tqdm(total=self.cfg.steps, initial=self.step, disable=not progress,
                  desc=f"{self.cfg.model} on {self.cfg.data}", unit="step",
                  dynamic_ncols=True) as bar:
            self._bar = bar
            self._log_clock = (time.perf_counter(), self.step, self.real_seen)
            try:
                loop(self)
            finally:
                self._bar = None
        samples = generate(self.G, self.cfg.n_samples, self.cfg.seed)
        np.save(self.path(SAMPLES), samples)
        summary = self._figures(samples, tag="", final=True)
        with open(self.path("summary.json"), "w") as f:
            json.dump(summary, f, indent=2)
        return summary

    def _figures(self, samples, tag, final):
        """Sample figure (and, at the end, loss curves and the metrics summary)."""
        return write_outputs(self, samples, tag, final)


# ---------------------------------------------------------------- entry point
def load_checkpoint(path: str) -> dict:
    ckpt = load(path)
    if not isinstance(ckpt, dict) or ckpt.get("format") != "tinygan-gan-run":
        raise ConfigError(f"{path} is not a tinygan training checkpoint")
    return ckpt


def _resolve_steps(cfg: TrainConfig, data) -> None:
    if cfg.epochs is not None:
        # one epoch = every training image seen once by D: k (or n_critic) minibatches
        # of m images per generator step
        per_step = cfg.batch_size * (cfg.k if cfg.model in ("gan", "dcgan") else cfg.n_critic)
        cfg.steps = max(1, math.ceil(cfg.epochs * data.n / per_step))
        cfg.epochs = None


def train(cfg: TrainConfig, resume: bool = False, loop=None) -> dict:
    """Train ``cfg`` into ``cfg.out``; ``resume`` continues its checkpoint.  Returns the summary.

    Raises :class:`ConfigError` for bad options and :class:`TrainingDiverged`
    when a loss stops being finite.
    """
    from .loops import LOOPS
    if cfg.out is None:
        cfg.out = os.path.join("runs", f"{cfg.model}-{cfg.data or default_data(cfg.model)}")
    ckpt_path = os.path.join(cfg.out, CHECKPOINT)
    ckpt = None
    if resume:
        if not os.path.exists(ckpt_path):
            raise ConfigError(f"--resume: no checkpoint at {ckpt_path}")
        ckpt = load_checkpoint(ckpt_path)
        cfg = _merge_resume(TrainConfig.from_dict(ckpt["config"]), cfg)
    elif os.path.exists(ckpt_path):
        raise ConfigError(f"{cfg.out} already holds a run (checkpoint.npz); pass --resume to "
                          f"continue it, or choose another --out")
    cfg = resolve(cfg)
    B.set_backend(cfg.backend)
    # Reuse freed host blocks instead of fresh page-faulting mmaps every step (glibc only;
    # opt out with TINYGAN_NO_MALLOC_TUNE=1); see backend.tune_host_allocator.
    B.tune_host_allocator()
    B.manual_seed(cfg.seed)
    data = make_data(cfg)
    _resolve_steps(cfg, data)
    os.makedirs(cfg.out, exist_ok=True)
    G, D = build_models(cfg, data.shape)
    trainer = Trainer(cfg, G, D, build_optimizer(cfg, G.parameters()),
                      build_optimizer(cfg, D.parameters()), data, cfg.out)
    if ckpt is not None:
        trainer.restore(ckpt)
        if trainer.step > cfg.steps:
            raise ConfigError(f"--resume: the checkpoint is at step {trainer.step}, beyond "
                              f"--steps {cfg.steps}")
    else:
        for name in (METRICS,):
            if os.path.exists(trainer.path(name)):
                os.remove(trainer.path(name))
        trainer.save_checkpoint()  # step 0: a good checkpoint exists from the start
    with open(trainer.path(CONFIG), "w") as f:
        f.write(cfg.to_json() + "\n")
    summary = trainer.run(loop or LOOPS[cfg.model])
    summary["out"] = cfg.out
    return summary


# options a resumed run may change; everything else must match the checkpoint
_RESUMABLE = ("steps", "epochs", "out", "log_every", "sample_every", "checkpoint_every",
              "progress", "figures", "data_dir", "download", "n_samples")


def _merge_resume(saved: TrainConfig, given: TrainConfig) -> TrainConfig:
    """The checkpoint's config, with the options a resumed run may change taken from ``given``.

    ``given.extra["explicit"]`` names the options the user set; any other one
    that differs from the checkpoint is an error (a resumed run keeps its settings).
    """
    if given.model != saved.model:
        raise ConfigError(f"--resume: the checkpoint in {given.out} was trained as "
                          f"{saved.model}, not {given.model}")
    explicit = given.extra.get("explicit") if isinstance(given.extra, dict) else None
    from_python = explicit is None
    if from_python:  # called from Python: fields away from their dataclass default count
        fields = TrainConfig.__dataclass_fields__
        explicit = [f for f in fields if f != "extra" and getattr(given, f) is not None
                    and getattr(given, f) != fields[f].default]
    for name in explicit:
        value = getattr(given, name)
        if name in _RESUMABLE:
            setattr(saved, name, value)
        elif name != "model" and value != getattr(saved, name):
            raise ConfigError(f"--resume: option {name} = {value!r} differs from the "
                              f"checkpoint's {getattr(saved, name)!r}; a resumed run keeps "
                              f"its settings")
    if given.epochs is not None:
        saved.steps = None
    saved.extra = {}
    return saved


# ---------------------------------------------------------------- figures and summary
def _plots():
    try:
        from .. import plots
    except ImportError:  # figures are optional extras of a run, never a reason to fail it
        return None
    return plots


def _critic_on_grid(D, probability: bool):
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


def sample_metrics(cfg: TrainConfig, samples: np.ndarray) -> dict:
    """The data kind's quality metrics of host samples (mode coverage for the 2-D mixtures)."""
    if cfg.is_image:
        return {}
    from ..data.toy import get_dataset
    dataset = get_dataset(cfg.data)
    if not np.isfinite(samples).all():
        return {"finite": False}
    if dataset.dim == 2 and dataset.centers is not None:
        from ..metrics import mode_metrics
        out = mode_metrics(samples, dataset.centers, dataset.std)
        return {k: v for k, v in out.items() if k != "counts"} | {"counts": list(out["counts"])}
    if dataset.dim == 1:
        from ..metrics import wasserstein1_1d
        real = dataset.sample(len(samples), np.random.default_rng([cfg.seed, 7]))
        return {"wasserstein1": float(wasserstein1_1d(samples[:, 0], real[:, 0]))}
    return {}


def write_outputs(trainer: Trainer, samples: np.ndarray, tag: str, final: bool) -> dict:
    """Sample figure ``samples{tag}.png``; at the end also ``losses.png`` and the summary."""
    cfg = trainer.cfg
    plots = _plots() if cfg.figures else None
    figures = []
    if plots is not None:
        path = trainer.path(f"samples{tag}.png")
        if cfg.is_image:
            plots.save_image_grid(samples[:64], path)
        else:
            from ..data.toy import get_dataset
            dataset = get_dataset(cfg.data)
            title = f"{cfg.model} on {cfg.data}, step {trainer.step}"
            critic = _critic_on_grid(trainer.D, probability=not cfg.is_wasserstein)
            if dataset.dim == 2:
                plots.plot_2d(samples, path, centers=dataset.centers, critic_fn=critic,
                              title=title)
            else:
                plots.plot_1d(samples, path, density_fn=getattr(dataset, "density", None),
                              d_fn=lambda x: critic(np.reshape(x, (-1, 1))), title=title)
        figures.append(path)
        if final and os.path.exists(trainer.path(METRICS)):
            with open(trainer.path(METRICS)) as f:
                rows = [json.loads(line) for line in f if line.strip()]
            rows = [r for r in rows if "event" not in r]
            plots.plot_losses(rows, trainer.path("losses.png"))
            figures.append(trainer.path("losses.png"))
    if not final:
        return {}
    return {"model": cfg.model, "data": cfg.data, "steps": trainer.step, "seed": cfg.seed,
            "metrics": sample_metrics(cfg, samples), "figures": figures}


# ---------------------------------------------------------------- `tinygan sample`
def sample_to_file(checkpoint: str, n: int, out: str, seed: int = 0,
                   backend: str = "numpy") -> str:
    """Rebuild G from a run's checkpoint, draw ``n`` samples, write ``out`` (.npy or .png)."""
    if os.path.isdir(checkpoint):
        checkpoint = os.path.join(checkpoint, CHECKPOINT)
    if not os.path.exists(checkpoint):
        raise ConfigError(f"no checkpoint at {checkpoint}")
    ext = os.path.splitext(out)[1].lower()
    if ext not in (".npy", ".png"):
        raise ConfigError(f"--out must end in .npy or .png, got {out!r}")
    try:
        ckpt = load_checkpoint(checkpoint)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {checkpoint}: {exc}") from None
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
    plots = _plots()
    if plots is None:
        raise ConfigError("writing a .png needs matplotlib; use a .npy file")
    if cfg.is_image:
        plots.save_image_grid(samples, out)
    else:
        from ..data.toy import get_dataset
        dataset = get_dataset(cfg.data)
        if dataset.dim == 2:
            plots.plot_2d(samples, out, centers=dataset.centers,
                          title=f"{cfg.model} on {cfg.data}: {n} samples")
        else:
            plots.plot_1d(samples, out, density_fn=getattr(dataset, "density", None),
                          title=f"{cfg.model} on {cfg.data}: {n} samples")
    return out
