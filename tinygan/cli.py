"""The ``tinygan`` command line (also ``python -m tinygan``).

    tinygan train MODEL [options]     MODEL: gan, dcgan, wgan, wgan-gp
    tinygan sample CHECKPOINT -n N --out FILE(.png|.npy)
    tinygan demo [--out DIR] [--quick] [--workers N]

Each model has its own ``--help`` (``tinygan train wgan --help``) showing that
paper's defaults.  Bad options print one line, ``tinygan: error: ...``, and
exit with status 2; a diverged run (NaN/inf loss) exits with status 1.
"""
from __future__ import annotations

import argparse
import math
import sys

from ._validate import betas_problem, is_positive_int
from .gan.config import (ACTIVATIONS, ARCHS, BACKENDS, DATASETS, INSTANCE_NOISE_OTHERWISE,
                         INSTANCE_NOISE_SIGMA0, LR_DECAYS, MODELS, OPTIMIZERS, RECIPES,
                         TOY_DATA_RECIPES, TOY_INSTANCE_NOISE_DATA_RECIPES,
                         TOY_INSTANCE_NOISE_RECIPES, ConfigError, TrainConfig,
                         describe_defaults)

EXIT_BAD_OPTION, EXIT_DIVERGED = 2, 1

_MODEL_HELP = {
    "gan": "Goodfellow et al. 2014, Algorithm 1 (MLPs; --instance-noise for Sønderby et al.)",
    "dcgan": "Radford et al. 2015: convolutional GAN on images",
    "wgan": "Arjovsky et al. 2017: Wasserstein GAN with weight clipping",
    "wgan-gp": "Gulrajani et al. 2017: Wasserstein GAN with gradient penalty",
}


class UsageError(Exception):
    """A command-line mistake: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but errors are one line (no usage block) and raise instead of exiting."""

    def error(self, message):
        raise UsageError(message)


def _number(kind, ok, what: str):
    """An argparse type: a ``kind`` (int or float) for which ``ok(value)`` holds."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text}")
        return value
    return parse


_positive_int = _number(int, is_positive_int, "a positive integer")
_non_negative_int = _number(int, lambda v: v >= 0, "an integer >= 0")
_positive_float = _number(float, lambda v: 0 < v < math.inf, "a positive number")
_non_negative_float = _number(float, lambda v: 0 <= v < math.inf, "a number >= 0")
_unit_float = _number(float, lambda v: 0 <= v < 1, "a number in [0, 1)")


def _int_list(text):
    try:  # an empty entry ("256,,256") is refused, not skipped: it may be a lost width
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated widths like 512,512,512, "
                                         f"got {text!r}") from None
    if not values or not all(map(is_positive_int, values)):
        raise argparse.ArgumentTypeError(f"widths must be positive integers, got {text!r}")
    return values


def _betas(text):
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if betas_problem(values) is not None:
        raise argparse.ArgumentTypeError(f"expected two numbers in [0, 1) like 0.5,0.999, "
                                         f"got {text!r}")
    return values


def _both(model: str):
    """``both(key)``: "default: X" — with what one toy data set or ``--instance-noise``
    changes (config.TOY_DATA_RECIPES, TOY_INSTANCE_NOISE_RECIPES and
    TOY_INSTANCE_NOISE_DATA_RECIPES) — and "; --recipe paper: Y" where the paper's differs."""
    d, paper = describe_defaults(model, "default"), describe_defaults(model, "paper")
    noise = TOY_INSTANCE_NOISE_RECIPES.get(model, {})

    def per_data(table):
        return {data: opts for (m, data), opts in table.items() if m == model}
    by_data, noise_by_data = per_data(TOY_DATA_RECIPES), per_data(TOY_INSTANCE_NOISE_DATA_RECIPES)

    def both(key, show=str):
        here, there = show(d[key]), show(paper[key])
        notes = [f"{show(opts[key])} on {data}" for data, opts in by_data.items() if key in opts]
        if key in noise:
            notes.append(f"{show(noise[key])} on the toys with --instance-noise")
        notes += [f"{show(opts[key])} on {data} with --instance-noise"
                  for data, opts in noise_by_data.items() if key in opts]
        note = f" ({'; '.join(notes)})" if notes else ""
        return (f"default: {here}{note}"
                + ("" if here == there else f"; --recipe paper: {there}"))
    return both


def _bare_sigma0() -> str:
    """The bare --instance-noise's σ0 per data, for the help text: '0.5 on grid25, else 0.2'."""
    named = ", ".join(f"{v} on {k}" for k, v in INSTANCE_NOISE_SIGMA0.items())
    return f"{named}, else {INSTANCE_NOISE_OTHERWISE}"


def _csv(v):
    return ",".join(map(str, v)) if isinstance(v, tuple) else str(v)


def _add_train_options(p: argparse.ArgumentParser, model: str) -> None:
    both = _both(model)
    gan_like = model in ("gan", "dcgan")
    p.add_argument("--recipe", choices=RECIPES, default=None,
                   help="default: settings measured to train well on this data in minutes "
                        "(benchmarks/QUALITY.md); paper: the paper's exact settings. Each "
                        "option below lists both (default: default)")
    p.add_argument("--data", choices=DATASETS, default=None,
                   help="training data (default: mnist for dcgan, ring8 otherwise)")
    p.add_argument("--data-dir", default=None,
                   help="folder with the four MNIST-format IDX files (default for MNIST: "
                        "the first found of $TINYGAN_DATA, ../shared/data/mnist and the "
                        "cache ~/.cache/tinygan/mnist, as tinygan demo looks; with "
                        "--download, the cache)")
    p.add_argument("--download", action="store_true",
                   help="download missing MNIST/Fashion-MNIST files (checksums verified)")
    p.add_argument("--resize", metavar="N", type=_positive_int, default=None,
                   help="resample the images to N×N (bilinear), e.g. 32 or 64 for a DCGAN of "
                        "that size on 28×28 digits (default: the data's own size)")
    p.add_argument("--download-timeout", metavar="SECONDS", type=_positive_float, default=None,
                   help="overall deadline of --download, all mirrors included (default: 60)")
    length = p.add_mutually_exclusive_group()
    length.add_argument("--steps", type=_positive_int, default=None,
                        help=f"generator iterations ({both('steps')})")
    length.add_argument("--epochs", type=_positive_float, default=None,
                        help="length in passes of D over the training images (images only)")
    p.add_argument("--batch-size", type=_positive_int, default=None,
                   help=f"minibatch size m ({both('batch_size')})")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default=None,
                   help=f"optimiser of both networks ({both('optimizer')})")
    p.add_argument("--lr", "--lr-g", dest="lr", type=_positive_float, default=None,
                   help=f"learning rate of G, and of D unless --lr-d is given ({both('lr')})")
    p.add_argument("--lr-d", type=_positive_float, default=None,
                   help=f"learning rate of D / the critic: separate rates are the two "
                        f"time-scale update rule, TTUR (Heusel et al. 2017) ({both('lr_d')})")
    p.add_argument("--lr-decay", choices=LR_DECAYS, default=None,
                   help=f"linear: both rates decay linearly to exactly 0 at the last step, "
                        f"lr·(1 − step/steps) ({both('lr_decay')})")
    p.add_argument("--lr-decay-steps", type=_positive_int, default=None,
                   help="steps over which the rates reach 0 (default: all the steps; fixed "
                        "by the first run, so a resumed run keeps its schedule)")
    p.add_argument("--ema", metavar="BETA", type=_unit_float, default=None,
                   help=f"sample and evaluate with an exponential moving average of G's "
                        f"weights, θ_EMA ← β·θ_EMA + (1−β)·θ after every step (Yazıcı et al. "
                        f"2019); 0 = off ({both('ema')})")
    p.add_argument("--betas", type=_betas, default=None,
                   help=f"Adam betas ({both('betas', _csv)})")
    p.add_argument("--momentum", type=_non_negative_float, default=None,
                   help=f"SGD momentum ({both('momentum')})")
    if gan_like:
        p.add_argument("--k", type=_positive_int, default=None,
                       help=f"discriminator steps per generator step ({both('k')})")
        p.add_argument("--instance-noise", metavar="SIGMA0", type=_non_negative_float,
                       nargs="?", const=True, default=None,
                       help=f"add N(0, σ²) to D's real and fake inputs, σ annealed linearly "
                            f"from SIGMA0 to 0 (Sønderby et al. 2017); a bare --instance-noise "
                            f"is the data's SIGMA0: {_bare_sigma0()} (default: 0, off)")
        p.add_argument("--noise-anneal-steps", type=_positive_int, default=None,
                       help="steps over which σ reaches 0 (default: all the steps)")
        p.add_argument("--saturating", action="store_true", default=None,
                       help="minimax generator loss log(1 − D(G(z))) instead of −log D(G(z))")
        p.add_argument("--label-smoothing", metavar="ALPHA", type=_unit_float, default=None,
                       help="one-sided label smoothing: D's target for data is 1 − ALPHA, "
                            "for G(z) still 0 (Salimans et al. 2016, §3.4) (default: 0, off)")
        p.add_argument("--d-dropout", metavar="P", type=_unit_float, default=None,
                       help="a Dropout(P) after each of D's activations, as Goodfellow et al. "
                            "(2014, §5) trained their discriminator (default: 0, off)")
    else:
        p.add_argument("--n-critic", type=_positive_int, default=None,
                       help=f"critic steps per generator step ({both('n_critic')}"
                            + (", 100 for the first 25 and every 500th generator step)"
                               if model == "wgan" else ")"))
    if model == "wgan":
        p.add_argument("--clip", type=_positive_float, default=None,
                       help="critic weights clipped to [-c, c] (default: 0.01)")
        p.add_argument("--no-warmup", dest="critic_warmup", action="store_false", default=None,
                       help="always n_critic critic steps (skip the 100-step rule)")
    if model == "wgan-gp":
        p.add_argument("--gp-lambda", type=_non_negative_float, default=None,
                       help=f"gradient-penalty weight λ of the two-sided penalty "
                            f"(λ·(‖∇f‖ − 1)²) ({both('gp_lambda')}; 0.1 is Gulrajani's 2-D "
                            f"toy script)")
    p.add_argument("--arch", choices=ARCHS, default=None,
                   help=f"network family ({both('arch')})")
    p.add_argument("--hidden", type=_int_list, default=None,
                   help=f"MLP hidden widths, G's and D's: width and depth "
                        f"({both('hidden', _csv)})")
    p.add_argument("--d-activation", choices=ACTIVATIONS, default=None,
                   help=f"activation of the MLP discriminator / critic "
                        f"({both('d_activation')})")
    p.add_argument("--z-dim", type=_positive_int, default=None,
                   help=f"noise dimension ({both('z_dim')})")
    p.add_argument("--ngf", type=_positive_int, default=None,
                   help=f"DCGAN generator base width ({both('ngf')})")
    p.add_argument("--g-first-layer", choices=("conv", "linear"), default=None,
                   help="DCGAN generator's first layer: conv (a transposed convolution of the "
                        "1×1 noise, the paper's figure) or linear (Linear + BatchNorm1d, "
                        "reshaped; the paper's §3 projection) (default: conv)")
    p.add_argument("--ndf", type=_positive_int, default=None,
                   help=f"DCGAN discriminator base width ({both('ndf')})")
    p.add_argument("--seed", type=_non_negative_int, default=None, help="random seed (default: 0)")
    p.add_argument("--threads", type=_positive_int, default=None, metavar="N",
                   help="CPU threads of tinygan's own pool, the BLAS on one thread in each "
                        "(default: the cores idle when the run starts). Stored in the run, so "
                        "a resume keeps it")
    p.add_argument("--backend", choices=BACKENDS, default=None,
                   help="array library (default: numpy; cupy needs an NVIDIA GPU)")
    p.add_argument("--out", default=None,
                   help="run folder (default: runs/MODEL-DATA)")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its checkpoint")
    p.add_argument("--log-every", type=_positive_int, default=None,
                   help="steps between metrics.jsonl rows (default: 50)")
    p.add_argument("--sample-every", type=_non_negative_int, default=None,
                   help="steps between sample figures, 0 = only at the end (default: 1000)")
    p.add_argument("--checkpoint-every", type=_positive_int, default=None,
                   help="steps between checkpoints (default: 500)")
    p.add_argument("--n-samples", type=_positive_int, default=None,
                   help="rows of samples.npy, also the samples summary.json's metrics are "
                        "computed on (default: 2500 toy, 2000 images)")
    p.add_argument("--progress", dest="progress", action="store_true", default=None,
                   help="force the progress bar on (default: only on a terminal)")
    p.add_argument("--quiet", dest="progress", action="store_false",
                   help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tinygan", description="The classic GAN family on a from-scratch "
                     "NumPy/CuPy engine.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    train = sub.add_parser("train", help="train a model",
                           description="Train MODEL; `tinygan train MODEL --help` lists its "
                                       "options and the paper's defaults.")
    models = train.add_subparsers(dest="model", metavar="MODEL", parser_class=_Parser)
    models.required = True
    for model in MODELS:
        p = models.add_parser(model, help=_MODEL_HELP[model], description=_MODEL_HELP[model],
                              formatter_class=argparse.RawDescriptionHelpFormatter)
        _add_train_options(p, model)
    sample = sub.add_parser("sample", help="draw samples from a trained generator")
    sample.add_argument("checkpoint", help="checkpoint.npz of a run (or its folder)")
    sample.add_argument("-n", type=_positive_int, default=64, help="number of samples (default 64)")
    sample.add_argument("--out", required=True, help="output file: .png (grid/scatter) or .npy")
    sample.add_argument("--seed", type=_non_negative_int, default=0, help="noise seed (default: 0)")
    sample.add_argument("--backend", choices=BACKENDS, default="numpy",
                        help="array library (default: numpy)")
    demo = sub.add_parser("demo", help="train the GAN family on built-in data (a few minutes)")
    demo.add_argument("--out", default="tinygan-demo", help="output folder (default: tinygan-demo)")
    demo.add_argument("--quick", action="store_true", help="a much shorter smoke run")
    demo.add_argument("--workers", type=_positive_int, default=None,
                      help="runs trained at a time, one process and one thread each "
                           "(default: the idle cores; 1 with --quick); the results do not "
                           "depend on it")
    return parser


_NOT_CONFIG = ("command", "model", "resume")


def config_from_args(args) -> TrainConfig:
    """The options the user gave (argparse leaves the others None), unresolved.

    ``cfg.extra["explicit"]`` lists them, so that ``--resume`` can tell a
    changed setting from a default.
    """
    options = {k: v for k, v in vars(args).items() if k not in _NOT_CONFIG and v is not None}
    if not options.get("download"):
        options.pop("download", None)
    cfg = TrainConfig(model=args.model, **options)
    cfg.extra = {"explicit": sorted(options)}
    return cfg


def _cmd_train(args) -> int:
    from .gan.train import train
    cfg = config_from_args(args)
    summary = train(cfg, resume=args.resume)
    print(f"done: {summary['steps']} steps; run folder {summary['out']}")
    metrics = summary.get("metrics") or {}
    if "modes" in metrics:
        print(f"modes captured {metrics['modes']}/{metrics['n_modes']} "
              f"(strict {metrics['modes_strict']}), high quality "
              f"{100 * metrics['high_quality']:.1f}%")
    elif "segments" in metrics:
        print(f"segments of the curve captured {metrics['segments']}/{metrics['n_segments']} "
              f"(strict {metrics['segments_strict']}), high quality "
              f"{100 * metrics['high_quality']:.1f}%")
    elif "wasserstein1" in metrics:
        print(f"Wasserstein-1 to the data {metrics['wasserstein1']:.4f} (two draws of the data: "
              f"{metrics['wasserstein1_real_vs_real']:.4f}); samples' mean "
              f"{metrics['mean']:.3f}, std {metrics['std']:.3f}")
    elif metrics.get("frechet") is not None:
        resized = ("" if "resized_from" not in metrics else
                   " (resampled from {}×{} to the classifier's 28×28)".format(
                       *metrics["resized_from"]))
        print(f"classifier Fréchet distance {metrics['frechet']:.1f} on {metrics['n_samples']} "
              f"samples{resized}, {metrics['classes_covered']}/10 classes")
    print(f"training time: {summary['cpu_s']:.1f} CPU-s, {summary['wall_s']:.1f} s wall")
    return 0


def _cmd_sample(args) -> int:
    from .gan.sample import sample_to_file
    path = sample_to_file(args.checkpoint, args.n, args.out, seed=args.seed, backend=args.backend)
    print(f"wrote {args.n} samples to {path}")
    return 0


def _cmd_demo(args) -> int:
    from .demo import run_demo
    run_demo(args.out, quick=args.quick, workers=args.workers)
    return 0


def main(argv=None) -> int:
    """Entry point of the ``tinygan`` script; returns the exit status."""
    from .backend import BackendError
    from .gan.run import RunInterrupted, TrainingDiverged
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return {"train": _cmd_train, "sample": _cmd_sample, "demo": _cmd_demo}[args.command](args)
    except (UsageError, ConfigError, BackendError) as exc:
        lines = str(exc).strip().splitlines() or [type(exc).__name__]
        print(f"tinygan: error: {lines[0]}", file=sys.stderr)
        return EXIT_BAD_OPTION
    except TrainingDiverged as exc:
        print(f"tinygan: {exc}", file=sys.stderr)
        return EXIT_DIVERGED
    except MemoryError:
        print("tinygan: error: not enough memory for this run; lower --batch-size, --hidden, "
              "--z-dim or --ngf/--ndf", file=sys.stderr)
        return EXIT_BAD_OPTION
    except OSError as exc:  # the file system said no: disk full, permissions, a vanished file
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"tinygan: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_OPTION
    except RunInterrupted as exc:
        print(f"tinygan: {exc}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("tinygan: interrupted; the last checkpoint is kept (continue with --resume)",
              file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
