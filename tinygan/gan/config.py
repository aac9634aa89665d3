"""Training configuration: one dataclass, two recipes of defaults per model.

``make_config(model, data=..., **overrides)`` fills every option the user did
not set (``None``) from the run's recipe, then checks the combination; bad input
raises :class:`ConfigError`, whose one-line message the command line prints.

* ``recipe="paper"``: each paper's settings — :data:`PAPER_DEFAULTS` (per model)
  and :func:`data_defaults` (per data kind) — exactly as published.
* ``recipe="default"`` (the default): the paper's settings, except where
  :data:`TOY_RECIPES` (the 2-D toys) and :data:`IMAGE_RECIPES` (digits) replace some of
  them with named options measured to train better in the same CPU time — <= 3
  CPU-minutes on the toys (benchmarks/QUALITY.md).  The method stays the paper's:
  the same loss and loop, WGAN's clipping, WGAN-GP's penalty, instance noise's σ.

Options beyond the papers (all off in the paper recipe): ``lr_d`` — D's own learning
rate, the two time-scale update rule (Heusel et al. 2017); ``lr_decay="linear"`` —
both rates decay linearly to 0 at the last step (``lr_decay_steps``);
``ema`` — sample and evaluate with an exponential moving average of G's weights
(Yazıcı et al. 2019); ``d_activation`` — the MLP critic's nonlinearity.

Sources of the defaults:

* ``gan`` — Goodfellow et al. 2014, Algorithm 1: k = 1, SGD with momentum
  (their MNIST run: lr 0.1, momentum 0.5, minibatch 100), non-saturating
  generator loss (paper §3).
* ``dcgan`` — Radford et al. 2015 §4: Adam lr 2e-4, β1 = 0.5, minibatch 128,
  N(0, 0.02) init, z of 100 dims.
* ``wgan`` — Arjovsky et al. 2017, Algorithm 1: RMSProp lr 5e-5, c = 0.01,
  n_critic = 5, m = 64; 100 critic steps for the first 25 generator steps and
  every 500th (their reference code).
* ``wgan-gp`` — Gulrajani et al. 2017, Algorithm 1: λ = 10, n_critic = 5,
  Adam lr 1e-4, β = (0.5, 0.9) (their code; the paper's table also lists β1 = 0), m = 64.
  Their 2-D toy script (``gan_toy.py``) used λ = 0.1 and m = 256, so toy data
  defaults to those.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Optional

from .._validate import betas_problem, is_positive_int, is_unit_fraction

MODELS = ("gan", "dcgan", "wgan", "wgan-gp")
TOY_DATA = ("ring8", "grid25", "swissroll", "gaussian1d")
IMAGE_DATA = ("mnist", "fashion-mnist")
DATASETS = TOY_DATA + IMAGE_DATA
ARCHS = ("mlp", "dcgan")
OPTIMIZERS = ("sgd", "adam", "rmsprop")
BACKENDS = ("numpy", "cupy")
LR_DECAYS = ("none", "linear")
ACTIVATIONS = ("relu", "leaky_relu")


class ConfigError(ValueError):
    """A bad option or combination of options (the CLI prints it on one line, exit code 2)."""


@dataclass
class TrainConfig:
    """Every knob of a training run.  ``None`` means "the paper's default" until resolved."""

    model: str = "gan"
    recipe: Optional[str] = None          # "default" (trains on its defaults) or "paper"
    data: Optional[str] = None           # default: mnist for dcgan, ring8 otherwise
    data_dir: Optional[str] = None
    download: bool = False
    steps: Optional[int] = None           # generator iterations (Algorithm 1's n)
    epochs: Optional[float] = None        # alternative to steps for image data
    batch_size: Optional[int] = None      # m
    optimizer: Optional[str] = None
    lr: Optional[float] = None            # G's learning rate (and D's unless lr_d is set)
    lr_d: Optional[float] = None          # D's / the critic's learning rate (TTUR); None: lr
    lr_decay: Optional[str] = None        # "linear": lr · (1 − step/span), or "none"
    lr_decay_steps: Optional[int] = None  # the span: lr reaches 0 here (default: all the steps)
    ema: Optional[float] = None           # decay β of the EMA of G's weights (0: off)
    betas: Optional[tuple] = None         # Adam
    momentum: Optional[float] = None      # SGD
    alpha: float = 0.99                   # RMSProp decay
    k: Optional[int] = None               # D steps per G step (GAN, DCGAN)
    n_critic: Optional[int] = None        # critic steps per G step (WGAN, WGAN-GP)
    critic_warmup: bool = True            # WGAN: 100 critic steps early on and every 500th
    clip: float = 0.01                    # WGAN weight clipping c
    gp_lambda: Optional[float] = None     # WGAN-GP λ
    instance_noise: float = 0.0           # σ0 (GAN, DCGAN); True: the data's σ0 (bare flag)
    noise_anneal_steps: Optional[int] = None  # σ reaches 0 here (default: all the steps)
    saturating: bool = False              # minimax generator loss instead of non-saturating
    label_smoothing: float = 0.0          # α: D's target for data is 1 − α (one-sided; GAN, DCGAN)
    d_dropout: float = 0.0                # p of a Dropout after each of D's activations (GAN, DCGAN)
    arch: Optional[str] = None
    d_activation: Optional[str] = None    # the MLP discriminator's / critic's activation
    g_first_layer: str = "conv"           # DCGAN G's first layer: "conv" (1×1 → k×k) or "linear"
    z_dim: Optional[int] = None
    hidden: Optional[tuple] = None        # MLP widths (G and D)
    ngf: Optional[int] = None             # DCGAN widths (G's and D's base channels)
    ndf: Optional[int] = None
    seed: int = 0
    backend: str = "numpy"
    out: Optional[str] = None
    log_every: int = 50
    sample_every: int = 1000              # 0: only at the end
    checkpoint_every: int = 500
    n_samples: Optional[int] = None       # rows of samples.npy
    progress: Optional[bool] = None       # None: a bar only on a terminal
    figures: bool = True                  # PNGs in the run folder (tests switch them off)
    threads: Optional[int] = None         # CPU threads of BLAS/OpenMP (None: the library's)
    download_timeout: float = 60.0        # --download: overall deadline in seconds
    resize: Optional[int] = None          # image data resampled to resize × resize (bilinear)
    history: list = field(default_factory=list)  # changed on resume: {resumed_at, lr: [old, new]}
    data_shape: Optional[list] = None     # (C, H, W) or (dim,): set by the run from its data
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d.pop("extra", None)  # the command line's bookkeeping, not a setting of the run
        for key in ("betas", "hidden"):
            if d[key] is not None:
                d[key] = list(d[key])
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        if not isinstance(d, dict):
            raise ConfigError(f"a run's config must be a JSON object, got {type(d).__name__}")
        known = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        # a run saved before recipes existed was trained on the papers' settings
        d = {"recipe": "paper", **{k: v for k, v in d.items() if k in known}}
        for key in ("betas", "hidden"):
            if d.get(key) is not None:
                d[key] = tuple(d[key])
        return cls(**d)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @property
    def is_image(self) -> bool:
        return self.data in IMAGE_DATA

    @property
    def lr_of_d(self) -> float:
        """D's learning rate: ``lr_d``, or G's ``lr`` when no separate one is set."""
        return self.lr if self.lr_d is None else self.lr_d

    @property
    def real_label(self) -> float:
        """D's target for data: 1, or 1 − α under one-sided label smoothing."""
        return 1.0 - self.label_smoothing

    @property
    def is_wasserstein(self) -> bool:
        return self.model in ("wgan", "wgan-gp")


# Per-model paper defaults (see the module docstring for the sources).
PAPER_DEFAULTS = {
    "gan": dict(optimizer="sgd", lr=0.1, momentum=0.5, betas=(0.5, 0.999), batch_size=100, k=1),
    "dcgan": dict(optimizer="adam", lr=2e-4, betas=(0.5, 0.999), momentum=0.0, batch_size=128,
                  k=1),
    "wgan": dict(optimizer="rmsprop", lr=5e-5, betas=(0.5, 0.999), momentum=0.0, batch_size=64,
                 n_critic=5),
    "wgan-gp": dict(optimizer="adam", lr=1e-4, betas=(0.5, 0.9), momentum=0.0, batch_size=64,
                    n_critic=5),
}


def default_data(model: str) -> str:
    return "mnist" if model == "dcgan" else "ring8"


def data_defaults(model: str, data: str) -> dict:
    """The paper recipe's defaults that depend on the kind of data (toy vectors or images)."""
    image = data in IMAGE_DATA
    d = {
        "z_dim": 100 if image else 2,
        "steps": 2000 if image else 5000,
        # The 2-D toy default is 3 × 512 ReLU; the images' MLP is the original
        # paper's two 1200-unit layers; DCGAN is the default image model for
        # every loss except plain GAN (whose paper used MLPs).
        "hidden": (1200, 1200) if image else (512, 512, 512),
        "d_activation": "leaky_relu" if image else "relu",
        "arch": "dcgan" if model == "dcgan" or (image and model != "gan") else "mlp",
        "gp_lambda": 10.0 if image else 0.1,
        "n_samples": 2000 if image else 2500,  # 2,000 digits: the held-out set; 2,500: VEEGAN/PacGAN
        "lr_decay": "none",
        "ema": 0.0,
        "ngf": 64,  # Radford et al.'s base width (their Fig. 1: 64·8 … 64 channels)
        "ndf": 64,
    }
    if model == "wgan-gp" and not image:
        d["batch_size"] = 256  # Gulrajani's gan_toy.py
    return d


RECIPES = ("default", "paper")

# The default recipe on the 2-D toys (measured in benchmarks/QUALITY.md: each run <= 3
# CPU-minutes at 1 thread).  Every entry is a named option that keeps the paper's method:
# Adam (Kingma & Ba 2015) instead of SGD 0.1, which collapses GAN on ring8 to one point and
# diverges on grid25; for WGAN, RMSProp at 5e-4 for G and the paper's 5e-5 for the
# critic (``lr_d``, TTUR): the paper's 5e-5 for both leaves the samples between the modes
# (3 % high quality after 5,000 steps), and 5e-4 for both saturates the clipped critic —
# each step moves a weight by up to ≈ 5e-4, a twentieth of the clipping range, so most
# weights sit at ±c and the critic stays flat — which held 4.6 strict modes / 27.6 % high
# quality on ring8 (seeds 0–4), where the critic at 5e-5 held 6.2 / 59.8 % (QUALITY.md,
# "Clipped WGAN's critic rate"); the
# learning rate decayed linearly to 0 (``--lr-decay linear``: in the learning curves of
# QUALITY.md the high-quality fraction rises as the rate falls); minibatches of 256;
# 3 × 256 MLPs (3 × 512 cost 2.3× the time and did worse on grid25 in the same CPU time);
# LeakyReLU(0.2) in GAN's D (DCGAN's rule for D): over seeds 0–4 it held 19.6 strict modes
# of grid25 and 7.8 of ring8, where ReLU held 11.0 and 6.2 (QUALITY.md, "LeakyReLU in D");
# for GAN, Adam's β2 = 0.99 (the second-moment average of the last ≈ 100 steps, as
# Karras et al. 2018 train their GANs, and DCGAN's default here) and 10,000 steps (≈ 145
# CPU-s; 8,000 on grid25, TOY_DATA_RECIPES): over seeds 0–4, ring8 8 / 97.6 % and grid25
# 24.6 strict / 93.0 % high quality, where β2 = 0.999 for 6,000 steps held 7.8 / 96.2 %
# and 22.0 / 90.9 % (QUALITY.md, "Adam's β2 on the toys"); a LeakyReLU critic for WGAN.
# WGAN-GP: Adam at 2e-3 and 3 × 128 MLPs for 3,500 steps —
# at 1e-3 (3 × 256, 2,000 steps) grid25 held 12.8 strict modes / 27 % high quality over 5
# seeds; doubling the rate alone gave 25 / 80 % (seed 0) but ≈ 200 CPU-s, over the 3-minute
# budget, and half the width buys 1.75× the steps in less time (≈ 150 CPU-s): 25 strict
# on every seed (QUALITY.md, "WGAN-GP's rate").  The moving average of G (``--ema``) is
# off: at β = 0.999 it matched G's own samples for GAN and lost every mode for WGAN and
# WGAN-GP (QUALITY.md; measured before the average had its warm-up, see
# tinygan.gan.averaging); with the warm-up, clipped WGAN's average scored 0.3–4.6 points of
# high quality below G on every seed of ring8 and grid25 (QUALITY.md, "Clipped WGAN on
# today's engine").
TOY_RECIPES = {
    "gan": dict(optimizer="adam", lr=1e-3, betas=(0.5, 0.99), batch_size=256,
                hidden=(256, 256, 256), d_activation="leaky_relu", steps=10000,
                lr_decay="linear"),
    "wgan": dict(optimizer="rmsprop", lr=5e-4, lr_d=5e-5, batch_size=256,
                 hidden=(256, 256, 256), d_activation="leaky_relu", steps=3000,
                 lr_decay="linear"),
    "wgan-gp": dict(optimizer="adam", lr=2e-3, betas=(0.5, 0.9), batch_size=256,
                    hidden=(128, 128, 128), steps=3500, lr_decay="linear"),
}
# What one data set changes in a model's toy recipe.  The plain GAN on grid25 runs 8,000
# steps: over seeds 0–4 it then held 24.6 strict modes / 93.0 % high quality, against 23.0
# / 90.9 % for 10,000 and 24.0 / 86.4 % for 6,000, where on ring8 10,000 held all 8 strict
# on every seed and 8,000 lost modes on one (6 strict) (QUALITY.md, "Adam's β2 on the
# toys"; chosen on the same five seeds that measured it — on seeds 5–9, which chose
# nothing, 23.8 / 91.0 %).
TOY_DATA_RECIPES = {("gan", "grid25"): dict(steps=8000)}
# What instance noise changes in the toy GAN's default recipe.  D keeps ReLU: LeakyReLU(0.2)
# in D (Radford et al.'s rule for DCGAN's D, the plain toy GAN's default) held more modes
# without noise — grid25 16, 22, 20, 25, 15 strict against ReLU's 11, 12, 12, 11, 9 (seeds
# 0–4), ring8 8, 8, 8, 8, 7 against 8, 3, 7, 6, 7 — but with noise it lost them: grid25 at
# σ0 = 0.5 14 and 12 strict / 32 and 31 % high quality against ReLU's 25 / 85 and 25 / 87 %
# (seeds 0–1; 0.2 and 0.3 did no better) (benchmarks/QUALITY.md, "LeakyReLU in D").
# It also keeps Adam's β2 = 0.999 and 6,000 steps, the plain GAN's recipe before β2 = 0.99:
# with β2 = 0.99 instance noise on grid25 held 21 and 25 strict / 64.4 and 79.5 % (seeds
# 0–1) against 25 / 85.0 and 86.7 % (QUALITY.md, "Adam's β2 on the toys").
TOY_INSTANCE_NOISE_RECIPES = {"gan": dict(d_activation="relu", betas=(0.5, 0.999),
                                          steps=6000)}
# What one data set changes in that recipe.  On grid25 instance noise runs 10,000 steps
# (≈ 2.5 CPU-minutes; σ still annealed to 0 over the whole run): over seeds 0–4 it held
# 24.8 strict modes / 90.5 % high quality, where 6,000 held 23.4 / 84.6 % and 8,000 24.4 /
# 87.5 %; on seeds 5–9, which chose nothing, all 25 strict on every seed at 88.7 %
# (QUALITY.md, "Instance noise's length on grid25").
# On the 1-D Gaussian D keeps LeakyReLU: with ReLU and noise two seeds of five ended with
# D ≈ 0.5 over the whole data range from step ≈ 600 on (its units off there), G stuck
# beside the data (W1 0.44 and 0.35 against a floor of 0.01–0.02), where LeakyReLU's seeds
# 0–4 gave 0.036–0.154 (mean 0.083); one mode has none to lose (QUALITY.md, "The other
# data").
TOY_INSTANCE_NOISE_DATA_RECIPES = {("gan", "grid25"): dict(steps=10000),
                                   ("gan", "gaussian1d"): dict(d_activation="leaky_relu")}

# σ0 of a bare ``--instance-noise`` (``instance_noise=True``), by data set; σ is annealed
# linearly from σ0 to 0 over the run.  Over seeds 0–4 (benchmarks/QUALITY.md, "Instance
# noise's σ0"): on grid25, whose modes are 2 apart, σ0 = 0.5 held all 25 modes strict on
# every seed (87.6 % high quality; 20–25, mean 23.4 / 84.6 %, on the rounding of the Linear
# op since, QUALITY.md), where 0.2 held 11–25 (17.4 on average) and 1.0 still
# blurred the grid late in the run (6–12 strict, seeds 0–1).  On ring8, whose neighbouring
# modes are 1.53 apart, 0.3 held all 8 strict on every seed at 95.9 % high quality, where
# 0.2 lost a mode on one seed (7.8, 96.6 %) and 0.5 cost two points (94.4 %, seeds 0–2).
# Other data, images too: 0.2 (not measured against other values).
INSTANCE_NOISE_SIGMA0 = {"ring8": 0.3, "grid25": 0.5}
INSTANCE_NOISE_OTHERWISE = 0.2


def instance_noise_sigma0(value, data: str):
    """``value`` of ``instance_noise`` as the run uses it: the bare flag (``True``) becomes
    the σ0 of ``data`` (:data:`INSTANCE_NOISE_SIGMA0`), a number stays itself."""
    if value is True:
        return INSTANCE_NOISE_SIGMA0.get(data, INSTANCE_NOISE_OTHERWISE)
    return value

# The default recipe on images.  DCGAN: minibatches of 32 instead of the paper's 128, and
# 2,500 steps (10 epochs of the shared 8,000-digit subset).  In the same 10 epochs (same
# CPU time, ≈ 4 CPU-minutes) the classifier Fréchet distance fell from 56 (m = 128, 625
# steps) to 41 (m = 64) and 36 (m = 32) (benchmarks/QUALITY.md, digits ablation): in a
# budget of epochs, more and smaller steps buy more than larger batches.  WGAN-GP: the
# paper's recipe at half the width (ngf = ndf = 32) for 2,500 steps: each step (5 critic
# steps with a double backward) costs about a quarter of the full width's, and the FD
# fell 114 → 46 → 25 at steps 750, 1,500, 2,250 (26 at 3,000), 2,250 steps taking 14.5
# CPU-minutes beside another run (benchmarks/QUALITY.md, digits).  DCGAN's G also learns at
# twice D's rate (separate rates: TTUR, Heusel et al. 2017): with both at 2e-4 D wins early
# (D(x) ≈ 0.9 and D(G(z)) ≈ 0.05 at step 1,000), and in the same 2,500 steps the FD fell
# 38.9 → 27.5 with G at 4e-4 and D at 2e-4 (seed 0; both at 4e-4: 29.5; G 8e-4: 28.4; a
# slower D alone, 1e-4: 36.0).  Both rates doubled again, 8e-4 and 4e-4, and sampling from
# the moving average of G (``--ema 0.999``, with its warm-up) brought the 3-seed mean from
# 26.0 to 22.4 (G alone 23.3; benchmarks/QUALITY.md, digits ablation); three more seeds on
# another host gave 27.9 (G alone 26.2), so over six runs the average's share (+0.45 FD)
# is within the seeds' spread; ten more paired seeds on today's engine gave the average
# 24.9 and G 26.1 (the average better on six; 0.6 better over all sixteen): kept.  Since
# the average measures its own batch-norm statistics (tinygan.gan.averaging; G's were
# copied before, which faded its digits on some seeds) ten seeds score 21.5 where the same
# runs scored 22.2 (two seeds −4.4 and −5.1), G alone 24.7, and PyTorch's average 21.7
# where it scored 23.0 (five seeds; QUALITY.md, "The average's batch-norm statistics").
# Faster rates, screened again on today's recipe (the screen of 3 Dec ran with β2 0.999 and
# G's statistics copied into the average): both doubled once more, G at 1.6e-3 and D at
# 8e-4, still two to one: ten seeds 21.5 → 19.3 (better on seven, every class ≥ 5.0 %),
# PyTorch's five 21.7 → 20.5; 1.2e-3 / 6e-4 gave 20.9 (ten seeds), 2.4e-3 / 1.2e-3 19.5
# against 18.7 on seeds 0–4 (QUALITY.md, "Faster rates, screened again").
# Not adopted: one-sided label smoothing 0.1 (``--label-smoothing``; 25.4 against the
# default's 25.8 on seeds 0–4), nor dropout 0.3 in D (``--d-dropout``; 23.2 against 24.9
# on seeds 0–9, per seed −15.2 … +5.3; with the average's own statistics 21.6 against
# 21.5).  Not adopted: D twice
# as wide as G (ndf = 128), which lowered tinygan's FD (31.6, 25.4, 26.8, 27.4 → 21.3, 26.0,
# 23.6, 21.4, seeds 0–3, for 2.3× the CPU time) but not PyTorch's on the same recipe (28.9,
# 21.9 → 35.0, 26.6, seeds 0–1); on β2 = 0.99 it gave tinygan 17.4, 19.4, 32.9 and PyTorch
# 28.9, 20.4, 19.6 (seeds 0–2; means 23.2 and 23.0 against ndf = 64's 24.4 and 23.7 on the
# same seeds): seed noise, the same in both engines, not a better recipe.
# Adam's β2 = 0.99 instead of 0.999 (the second-moment average of the last ≈ 100 steps
# instead of ≈ 1,000, as Karras et al. 2018 train their GANs): tinygan 31.6, 25.4, 26.8,
# 27.4, 26.0 → 23.7, 25.0, 24.5, 27.1, 18.8 (seeds 0–4, every seed better; mean 27.4 →
# 23.8), PyTorch on the same recipe 28.9, 21.9, 21.3 → 22.1, 25.1, 24.0 (mean 24.0 → 23.7,
# a narrower spread) (benchmarks/QUALITY.md, digits ablation).
# WGAN (clipping):
# the paper's recipe (RMSProp, c = 0.01, n_critic = 5 with the 100-step warm-up, m = 64) at
# half the width and RMSProp at 4e-4 instead of 5e-5, for 2,500 steps: the paper's own
# settings took 40.6 CPU-minutes for 2,000 steps to FD 74.5; at half width the rate was
# what moved it — 2e-4: 52.6 (51.2 after 5,000 steps), 4e-4: 45.0 and 42.6, 8e-4: 43.2 and
# 43.5 (seeds 0 and 1), each run ≈ 10.5 CPU-minutes (benchmarks/QUALITY.md, digits).
# The plain GAN on images (Goodfellow et al.'s MLPs, 1200 × 1200 here): their SGD at 0.1
# with momentum 0.5 collapsed to one class (FD 1279, seed 0).  DCGAN's image recipe on the
# MLPs (Adam, G at 8e-4 and D at 4e-4, β (0.5, 0.99), m = 32, the moving average of G) for
# 20 epochs, 5,000 steps (≈ 4.6 CPU-minutes): FD 11.0, 11.0, 7.5, 8.8, 13.5 (seeds 0–4,
# mean 10.4, every class ≥ 5.9 %), where 10 epochs gave 90.8 and 54.6 (seeds 0, 1), m = 64
# for the same 20 epochs 22.0, the rates halved 310, and Adam at 2e-4 with β2 0.999,
# m = 64, 2,500 steps 344 with two classes missing (seed 0; benchmarks/QUALITY.md, "The
# other data").
IMAGE_RECIPES = {
    "gan": dict(optimizer="adam", batch_size=32, steps=5000, lr=8e-4, lr_d=4e-4,
                betas=(0.5, 0.99), ema=0.999),
    "dcgan": dict(batch_size=32, steps=2500, lr=1.6e-3, lr_d=8e-4, betas=(0.5, 0.99),
                  ema=0.999),
    "wgan": dict(ngf=32, ndf=32, lr=4e-4, steps=2500),
    "wgan-gp": dict(ngf=32, ndf=32, steps=2500),
}


def recipe_defaults(model: str, data: str, recipe: str = "default",
                    instance_noise: float = 0.0) -> dict:
    """Every default of ``model`` on ``data`` under ``recipe`` ("default" or "paper"), with
    instance noise of σ0 ``instance_noise`` (0: off)."""
    d = dict(PAPER_DEFAULTS[model])
    d.update(data_defaults(model, data))
    if recipe == "default":
        d.update((IMAGE_RECIPES if data in IMAGE_DATA else TOY_RECIPES).get(model, {}))
        d.update(TOY_DATA_RECIPES.get((model, data), {}))
        if instance_noise and data not in IMAGE_DATA:
            d.update(TOY_INSTANCE_NOISE_RECIPES.get(model, {}))
            d.update(TOY_INSTANCE_NOISE_DATA_RECIPES.get((model, data), {}))
    return d


def describe_defaults(model: str, recipe: str = "default") -> dict:
    """Defaults of ``model`` for the help text: option → value (or 'images X, toy Y')."""
    toy, img = recipe_defaults(model, "ring8", recipe), recipe_defaults(model, "mnist", recipe)
    for d in (toy, img):
        d.setdefault("lr_d", d["lr"])
    out = {}
    for key in set(toy) | set(img):
        t, i = toy.get(key), img.get(key)
        if key in ("ngf", "ndf"):  # DCGAN widths: images only (--arch dcgan)
            out[key] = i
            continue
        out[key] = t if t == i else f"{_show(i)} images, {_show(t)} toy"
    return out


def _show(value) -> str:
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)


def make_config(model: str, **options) -> TrainConfig:
    """A resolved, validated :class:`TrainConfig`; ``options`` equal to None are defaults."""
    if model not in MODELS:
        raise ConfigError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    options = {k: v for k, v in options.items() if v is not None}
    if "hidden" in options:
        options["hidden"] = tuple(options["hidden"])
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ConfigError(f"unknown option(s): {', '.join(unknown)}")
    cfg = TrainConfig(model=model, **options)
    cfg.extra = {"explicit": sorted(options)}  # what the caller set (applicability, resume)
    return resolve(cfg)


def resolve(cfg: TrainConfig) -> TrainConfig:
    """A copy of ``cfg`` with the ``None`` fields filled from the defaults, validated."""
    cfg = dataclasses.replace(cfg, extra=dict(cfg.extra))
    if cfg.model not in MODELS:
        raise ConfigError(f"unknown model {cfg.model!r}; choose one of {', '.join(MODELS)}")
    if cfg.data is None:
        cfg.data = default_data(cfg.model)
    if cfg.data not in DATASETS:
        raise ConfigError(f"unknown data {cfg.data!r}; choose one of {', '.join(DATASETS)}")
    if cfg.recipe is None:
        cfg.recipe = "default"
    if cfg.recipe not in RECIPES:
        raise ConfigError(f"unknown recipe {cfg.recipe!r}; choose one of {', '.join(RECIPES)}")
    cfg.instance_noise = instance_noise_sigma0(cfg.instance_noise, cfg.data)
    defaults = recipe_defaults(cfg.model, cfg.data, cfg.recipe, cfg.instance_noise)
    if cfg.lr is not None:
        defaults.pop("lr_d", None)  # a given --lr sets D's rate too unless --lr-d is given
    if cfg.epochs is not None:
        defaults.pop("steps")  # steps come from the epochs once the data size is known
    for key, value in defaults.items():
        if getattr(cfg, key) is None:
            setattr(cfg, key, value)
    if cfg.betas is not None:
        cfg.betas = tuple(float(b) for b in cfg.betas)
    if cfg.hidden is not None:
        cfg.hidden = tuple(int(h) for h in cfg.hidden)
    validate(cfg)
    return cfg


def _positive(cfg, name, kind=int, allow_none=False):
    v = getattr(cfg, name)
    if v is None and allow_none:
        return
    flag = f"--{name.replace('_', '-')}"
    if kind is int:
        if not is_positive_int(v):
            raise ConfigError(f"{flag} must be a positive integer, got {v!r}")
    elif isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
        raise ConfigError(f"{flag} must be a positive number, got {v!r}")


# Sizes beyond these cannot be allocated on any machine this runs on (a 2**31-wide layer
# is 16 GiB of float32 weights alone); refusing them names the option instead of failing
# inside NumPy with a MemoryError.
SIZE_CEILING = {"resize": 1 << 12, "batch_size": 1 << 20, "z_dim": 1 << 16, "ngf": 1 << 12, "ndf": 1 << 12,
                "n_samples": 1 << 24, "hidden": 1 << 16, "steps": 1 << 40, "threads": 1 << 10}

# option -> (what it needs, the test): an option the user set that cannot act is refused
APPLIES = {
    "momentum": ("--optimizer sgd", lambda c: c.optimizer == "sgd"),
    "betas": ("--optimizer adam", lambda c: c.optimizer == "adam"),
    "alpha": ("--optimizer rmsprop", lambda c: c.optimizer == "rmsprop"),
    "data_dir": ("image data (mnist, fashion-mnist)", lambda c: c.is_image),
    "download": ("image data (mnist, fashion-mnist)", lambda c: c.is_image),
    "resize": ("image data (mnist, fashion-mnist)", lambda c: c.is_image),
    "hidden": ("--arch mlp", lambda c: c.arch == "mlp"),
    "d_activation": ("--arch mlp", lambda c: c.arch == "mlp"),
    "ngf": ("--arch dcgan", lambda c: c.arch == "dcgan"),
    "g_first_layer": ("--arch dcgan", lambda c: c.arch == "dcgan"),
    "ndf": ("--arch dcgan", lambda c: c.arch == "dcgan"),
    "k": ("the gan or dcgan model", lambda c: c.model in ("gan", "dcgan")),
    "saturating": ("the gan or dcgan model", lambda c: c.model in ("gan", "dcgan")),
    "label_smoothing": ("the gan or dcgan model", lambda c: c.model in ("gan", "dcgan")),
    "d_dropout": ("the gan or dcgan model", lambda c: c.model in ("gan", "dcgan")),
    "noise_anneal_steps": ("--instance-noise", lambda c: c.instance_noise > 0),
    "lr_decay_steps": ("--lr-decay linear", lambda c: c.lr_decay == "linear"),
    "n_critic": ("the wgan or wgan-gp model", lambda c: c.is_wasserstein),
    "clip": ("the wgan model", lambda c: c.model == "wgan"),
    "critic_warmup": ("the wgan model", lambda c: c.model == "wgan"),
    "gp_lambda": ("the wgan-gp model", lambda c: c.model == "wgan-gp"),
}


def given_options(cfg: TrainConfig) -> list:
    """The options the user set: the command line's list, or (from Python) the fields away
    from their dataclass default."""
    explicit = cfg.extra.get("explicit") if isinstance(cfg.extra, dict) else None
    if explicit is not None:
        return list(explicit)
    fields = TrainConfig.__dataclass_fields__
    return [f for f in fields if f not in ("extra", "history", "model", "data_shape")
            and getattr(cfg, f) is not None and getattr(cfg, f) != fields[f].default]


def check_applicable(cfg: TrainConfig, given) -> None:
    """Refuse options that do nothing for this model/data/optimiser (no silent ignoring)."""
    for name in given:
        if name in APPLIES and not APPLIES[name][1](cfg):
            raise ConfigError(f"--{name.replace('_', '-')} applies only to "
                              f"{APPLIES[name][0]}; this run is {cfg.model} on {cfg.data} with "
                              f"{cfg.optimizer}" + (f", --arch {cfg.arch}" if cfg.arch else ""))


def _ceilings(cfg: TrainConfig) -> None:
    for name, ceiling in SIZE_CEILING.items():
        value = getattr(cfg, name)
        values = value if isinstance(value, tuple) else (value,)
        if any(v is not None and not isinstance(v, bool) and isinstance(v, (int, float))
               and v > ceiling for v in values):
            raise ConfigError(f"--{name.replace('_', '-')} {value!r} is beyond what can be "
                              f"allocated (at most {ceiling:,})")


def validate(cfg: TrainConfig) -> None:
    if cfg.steps is not None and cfg.epochs is not None:
        raise ConfigError("give either --steps or --epochs, not both")
    if cfg.epochs is not None and not cfg.is_image:
        raise ConfigError(f"--epochs needs a finite dataset; {cfg.data!r} is sampled on the fly, "
                          f"use --steps")
    for name in ("batch_size", "z_dim", "ngf", "ndf", "log_every", "checkpoint_every",
                 "n_samples"):
        _positive(cfg, name)
    _positive(cfg, "steps", allow_none=cfg.epochs is not None)
    _positive(cfg, "threads", allow_none=True)
    _positive(cfg, "resize", allow_none=True)
    _positive(cfg, "download_timeout", kind=float)
    if isinstance(cfg.seed, bool) or not isinstance(cfg.seed, int) or not 0 <= cfg.seed < 2**63:
        raise ConfigError(f"--seed must be an integer >= 0, got {cfg.seed!r}")
    _ceilings(cfg)
    _positive(cfg, "epochs", kind=float, allow_none=True)
    _positive(cfg, "noise_anneal_steps", allow_none=True)
    _positive(cfg, "lr_decay_steps", allow_none=True)
    for name in ("lr", "clip"):
        _positive(cfg, name, kind=float)
    _positive(cfg, "lr_d", kind=float, allow_none=True)
    if cfg.lr_decay not in LR_DECAYS:
        raise ConfigError(f"--lr-decay must be one of {', '.join(LR_DECAYS)}, "
                          f"got {cfg.lr_decay!r}")
    if not is_unit_fraction(cfg.ema):
        raise ConfigError(f"--ema must be a decay in [0, 1) (0: off), got {cfg.ema!r}")
    if cfg.g_first_layer not in ("conv", "linear"):
        raise ConfigError(f"--g-first-layer must be conv or linear, got {cfg.g_first_layer!r}")
    if cfg.d_activation not in ACTIVATIONS:
        raise ConfigError(f"--d-activation must be one of {', '.join(ACTIVATIONS)}, "
                          f"got {cfg.d_activation!r}")
    if cfg.model in ("gan", "dcgan"):
        _positive(cfg, "k")
    else:
        _positive(cfg, "n_critic")
    if isinstance(cfg.sample_every, bool) or int(cfg.sample_every) != cfg.sample_every \
            or cfg.sample_every < 0:
        raise ConfigError(f"--sample-every must be a non-negative integer, "
                          f"got {cfg.sample_every!r}")
    if cfg.gp_lambda is None or cfg.gp_lambda < 0:
        raise ConfigError(f"--gp-lambda must be non-negative, got {cfg.gp_lambda!r}")
    if cfg.instance_noise < 0:
        raise ConfigError(f"--instance-noise must be non-negative, got {cfg.instance_noise!r}")
    for name in ("label_smoothing", "d_dropout"):
        if not is_unit_fraction(getattr(cfg, name)):
            raise ConfigError(f"--{name.replace('_', '-')} must be in [0, 1) (0: off), "
                              f"got {getattr(cfg, name)!r}")
    if cfg.instance_noise > 0 and cfg.model not in ("gan", "dcgan"):
        raise ConfigError(f"--instance-noise is an option of the gan and dcgan models, "
                          f"not {cfg.model}")
    if cfg.optimizer not in OPTIMIZERS:
        raise ConfigError(f"unknown optimizer {cfg.optimizer!r}; choose one of "
                          f"{', '.join(OPTIMIZERS)}")
    if cfg.backend not in BACKENDS and cfg.backend != "standin":  # standin: tests only
        raise ConfigError(f"unknown backend {cfg.backend!r}; choose one of {', '.join(BACKENDS)}")
    if cfg.arch not in ARCHS:
        raise ConfigError(f"unknown architecture {cfg.arch!r}; choose one of {', '.join(ARCHS)}")
    if cfg.arch == "dcgan" and not cfg.is_image:
        raise ConfigError(f"the {'dcgan model' if cfg.model == 'dcgan' else 'dcgan architecture'}"
                          f" is an image model; data {cfg.data!r} is not images (use --data "
                          f"mnist or fashion-mnist, or --arch mlp with another model)")
    if cfg.model == "dcgan" and cfg.arch != "dcgan":
        raise ConfigError("the dcgan model uses --arch dcgan; for an MLP GAN use the gan model")
    if cfg.hidden is not None and (len(cfg.hidden) == 0
                                   or not all(map(is_positive_int, cfg.hidden))):
        raise ConfigError(f"--hidden must list positive widths, got {cfg.hidden!r}")
    if cfg.betas is not None and betas_problem(cfg.betas) is not None:
        raise ConfigError(f"--betas must be two numbers in [0, 1), got {cfg.betas!r}")
    if cfg.momentum is not None and not 0 <= cfg.momentum < 1:
        raise ConfigError(f"--momentum must be in [0, 1), got {cfg.momentum!r}")
