"""PyTorch reference for the quality benchmark: the same recipe trained by PyTorch.

2-D toys (``--data ring8`` / ``grid25``):

The same architecture (MLPs z(2) → hidden ReLU → 2 and 2 → hidden (Leaky)ReLU → 1, PyTorch's
default Linear init as tinygan's), the same loop (Goodfellow / Arjovsky / Gulrajani
Algorithm 1 as in tinygan.gan.loops, including WGAN's 100-critic-step warm-up), the same
optimiser, minibatch, linear learning-rate decay and step budget as the tinygan default
recipe of :func:`tinygan.gan.config.make_config`, and the samples scored by the same
``tinygan.metrics.mode_metrics`` on 2,500 samples.  Data come from tinygan's toy sampler
(its own seeded stream), so only the training engine differs.

    python benchmarks/torch_reference.py --model gan --data ring8 --seeds 3

Digits (``--model dcgan --data mnist``): the DCGAN pair of ``tinygan.gan.models`` for
28 × 28 rebuilt layer by layer in PyTorch (z(100) → ConvT 7×7 → 2·ngf → ConvT 4/2 → ngf →
ConvT 4/2 → 1, batch norm + ReLU, Tanh; D: Conv 4/2 → ndf → Conv 4/2 → 2·ndf + BN → Conv
7×7 → 1, LeakyReLU 0.2; N(0, 0.02) init), tinygan's default digit recipe as
``make_config`` resolves it (today Adam 1.6e-3 for G and 8e-4 for D, β (0.5, 0.99), k = 1,
m = 32, 2,500 steps, the moving average of G, non-saturating loss), the same shuffled minibatches
(tinygan's ``ImageStream``), and 2,000 samples in eval mode scored by
``tinygan.gan.outputs.digit_metrics`` (classifier Fréchet distance, class coverage):

    python benchmarks/torch_reference.py --model dcgan --data mnist --seeds 3

``--set KEY=VALUE ...`` trains a recipe that differs from the default in the options
named (e.g. ``--set betas=0.5,0.99``), as ``tinygan train`` would with the same flags, so
that a screened change is measured in both engines before it becomes a default.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def _mlp(torch, sizes, act):
    layers = []
    for a, b in zip(sizes[:-2], sizes[1:-1]):
        layers += [torch.nn.Linear(a, b),
                   torch.nn.LeakyReLU(0.2) if act == "leaky_relu" else torch.nn.ReLU()]
    layers.append(torch.nn.Linear(sizes[-2], sizes[-1]))
    return torch.nn.Sequential(*layers)


def _gan_d_step_then_g_loss(torch, G, D, od, real, noise, real_label=1.0):
    """One D step of Algorithm 1 (ascend V(D, G), from logits; D's target for data is
    ``real_label``, < 1 under one-sided label smoothing), then G's non-saturating loss
    −log D(G(z)) on fresh noise, as tinygan.gan.steps; the caller steps G."""
    import torch.nn.functional as F
    x, fake = real(), G(noise()).detach()
    lr_, lf = D(x), D(fake)
    loss = (F.binary_cross_entropy_with_logits(lr_, torch.full_like(lr_, real_label))
            + F.binary_cross_entropy_with_logits(lf, torch.zeros_like(lf)))
    od.zero_grad()
    loss.backward()
    od.step()
    lf = D(G(noise()))
    return F.binary_cross_entropy_with_logits(lf, torch.ones_like(lf))


def train_torch(model: str, data: str, seed: int, steps: int = None, **options) -> dict:
    """One PyTorch run of tinygan's default recipe for ``model`` on ``data``."""
    import torch

    from tinygan.data.toy import get_dataset
    from tinygan.gan.config import make_config
    from tinygan.gan.loops import critic_iterations
    from tinygan.metrics import mode_metrics
    cfg = make_config(model, data=data, seed=seed, steps=steps, **options)
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    ds = get_dataset(data)
    rng = np.random.default_rng([seed, 0xDA7A])
    G = _mlp(torch, (cfg.z_dim, *cfg.hidden, 2), "relu")
    D = _mlp(torch, (2, *cfg.hidden, 1), cfg.d_activation)

    def opt(params, lr):
        if cfg.optimizer == "adam":
            return torch.optim.Adam(params, lr=lr, betas=cfg.betas)
        if cfg.optimizer == "rmsprop":
            return torch.optim.RMSprop(params, lr=lr, alpha=cfg.alpha)
        return torch.optim.SGD(params, lr=lr, momentum=cfg.momentum)
    og, od = opt(G.parameters(), cfg.lr), opt(D.parameters(), cfg.lr_of_d)
    m, T = cfg.batch_size, cfg.steps

    def real():
        return torch.from_numpy(ds.sample(m, rng).astype(np.float32))

    def noise():
        return torch.randn(m, cfg.z_dim)
    cpu0 = time.process_time()
    for step in range(T):
        frac = 1 - step / T if cfg.lr_decay == "linear" else 1.0
        for o, lr in ((og, cfg.lr), (od, cfg.lr_of_d)):
            for g in o.param_groups:
                g["lr"] = lr * frac
        if model == "gan":
            loss_g = _gan_d_step_then_g_loss(torch, G, D, od, real, noise,
                                             cfg.real_label)
        else:
            n = critic_iterations(step, cfg.n_critic, cfg.critic_warmup) \
                if model == "wgan" else cfg.n_critic
            for _ in range(n):
                x, fake = real(), G(noise()).detach()
                loss = D(fake).mean() - D(x).mean()
                if model == "wgan-gp":
                    eps = torch.rand(m, 1)
                    xh = (eps * x + (1 - eps) * fake).requires_grad_(True)
                    (grad,) = torch.autograd.grad(D(xh).sum(), xh, create_graph=True)
                    loss = loss + cfg.gp_lambda * ((grad.norm(dim=1) - 1) ** 2).mean()
                od.zero_grad()
                loss.backward()
                od.step()
                if model == "wgan":
                    with torch.no_grad():
                        for p in D.parameters():
                            p.clamp_(-cfg.clip, cfg.clip)
            loss_g = -D(G(noise())).mean()
        og.zero_grad()
        loss_g.backward()
        og.step()
    cpu = time.process_time() - cpu0
    with torch.no_grad():
        z = np.random.default_rng([seed, 0x5A3B]).standard_normal((2500, cfg.z_dim),
                                                                  dtype=np.float32)
        samples = G(torch.from_numpy(z)).numpy()
    if not np.isfinite(samples).all():
        return {"model": model, "data": data, "seed": seed, "finite": False, "cpu_s": cpu}
    r = mode_metrics(samples, ds.centers, ds.std)
    return {"model": model, "data": data, "seed": seed, "steps": T, "cpu_s": round(cpu, 1),
            "modes": r["modes"], "modes_strict": r["modes_strict"],
            "high_quality": r["high_quality"]}


def _dcgan_pair(torch, cfg):
    """tinygan's 28 × 28 DCGAN pair (``tinygan.gan.models``), in PyTorch."""
    nn = torch.nn
    g2, g1, d1, d2 = 2 * cfg.ngf, cfg.ngf, cfg.ndf, 2 * cfg.ndf
    G = nn.Sequential(
        nn.ConvTranspose2d(cfg.z_dim, g2, 7, 1, 0, bias=False), nn.BatchNorm2d(g2), nn.ReLU(),
        nn.ConvTranspose2d(g2, g1, 4, 2, 1, bias=False), nn.BatchNorm2d(g1), nn.ReLU(),
        nn.ConvTranspose2d(g1, 1, 4, 2, 1, bias=False), nn.Tanh())
    D = nn.Sequential(
        nn.Conv2d(1, d1, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
        nn.Conv2d(d1, d2, 4, 2, 1, bias=False), nn.BatchNorm2d(d2), nn.LeakyReLU(0.2),
        nn.Conv2d(d2, 1, 7, 1, 0, bias=False), nn.Flatten())

    def init(m):  # DCGAN §4, as tinygan.nn.init.dcgan_init_
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    G.apply(init)
    D.apply(init)
    return G, D


def train_torch_dcgan(seed: int, steps: int = None, data_dir: str = None, **options) -> dict:
    """One PyTorch run of tinygan's default DCGAN recipe on digits, scored by tinygan."""
    import torch
    from torch.optim.swa_utils import update_bn

    from tinygan.data.mnist import find_mnist_dir
    from tinygan.gan.averaging import ema_decay_at, statistics_noise
    from tinygan.gan.config import make_config
    from tinygan.gan.outputs import digit_metrics
    from tinygan.gan.sample import SAMPLE_SEED_TAG
    from tinygan.gan.streams import make_data
    data_dir = data_dir or find_mnist_dir()  # as the demo: $TINYGAN_DATA, ../shared/data/mnist, …
    cfg = make_config("dcgan", data="mnist", data_dir=data_dir, seed=seed, steps=steps,
                      **options)
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    stream = make_data(cfg)
    G, D = _dcgan_pair(torch, cfg)
    og = torch.optim.Adam(G.parameters(), lr=cfg.lr, betas=cfg.betas)
    od = torch.optim.Adam(D.parameters(), lr=cfg.lr_of_d, betas=cfg.betas)
    # the recipe's moving average of G (tinygan.gan.averaging.GeneratorEMA: the same
    # warm-up), what the run samples from when it keeps one
    ema = copy.deepcopy(G) if cfg.ema else None
    m = cfg.batch_size
    cpu0 = time.process_time()
    for step in range(cfg.steps):
        loss_g = _gan_d_step_then_g_loss(torch, G, D, od, lambda: torch.from_numpy(stream.next(m)),
                                         lambda: torch.randn(m, cfg.z_dim, 1, 1),
                                         cfg.real_label)
        og.zero_grad()
        loss_g.backward()
        og.step()
        if ema is not None:
            beta = ema_decay_at(cfg.ema, step)
            with torch.no_grad():
                for avg, p in zip(ema.parameters(), G.parameters()):
                    avg.mul_(beta).add_(p, alpha=1.0 - beta)
    cpu = time.process_time() - cpu0

    def scored(net):  # as tinygan.gan.sample.generate: eval mode, 500 at a time
        net.eval()
        rng = np.random.default_rng([seed, SAMPLE_SEED_TAG])
        with torch.no_grad():
            samples = np.concatenate([net(torch.from_numpy(rng.standard_normal(
                (500, cfg.z_dim, 1, 1), dtype=np.float32))).numpy() for _ in range(4)])
        return digit_metrics(samples, "mnist", data_dir)

    extra = {}
    if ema is not None:
        # GeneratorEMA.sampler: the average's batch-norm statistics measured on itself, on
        # the same fixed noise; G's copied statistics (the library before) scored beside it
        for avg, b in zip(ema.buffers(), G.buffers()):
            avg.copy_(b)
        extra["frechet_bn_copied"] = scored(ema).get("frechet")
        update_bn([torch.from_numpy(z) for z in statistics_noise(
            lambda n: (n, cfg.z_dim, 1, 1), "float32")], ema)
    metrics = scored(ema if ema is not None else G)
    return {"model": "dcgan", "data": "mnist", "seed": seed, "steps": cfg.steps, "ema": cfg.ema,
            "cpu_s": round(cpu, 1), **{k: metrics.get(k) for k in
                                       ("frechet", "classes_covered", "min_class_share")},
            **extra}


# The recipe options both PyTorch trainers above read from the config; any other option
# would be accepted by make_config and then silently not trained with, so --set refuses it.
SETTABLE = ("lr", "lr_d", "betas", "batch_size", "hidden", "d_activation", "ngf", "ndf",
            "lr_decay", "ema", "z_dim", "n_critic", "clip", "gp_lambda", "label_smoothing")


def _recipe_option(text: str):
    """'betas=0.5,0.99' → ('betas', (0.5, 0.99)); numbers become numbers."""
    key, sep, value = text.partition("=")
    if not sep or key not in SETTABLE:
        raise ValueError(f"expected KEY=VALUE with KEY one of {', '.join(SETTABLE)}, "
                         f"got {text!r}")

    def number(v):
        try:
            return int(v)
        except ValueError:
            try:
                return float(v)
            except ValueError:
                return v
    parts = [number(v) for v in value.split(",")]
    return key, (tuple(parts) if key in ("betas", "hidden") else parts[0])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="gan", choices=("gan", "dcgan", "wgan", "wgan-gp"))
    p.add_argument("--data", default="ring8", choices=("ring8", "grid25", "mnist"))
    p.add_argument("--data-dir", default=None, help="MNIST IDX folder (default: found)")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--first-seed", type=int, default=0,
                   help="seeds first-seed … first-seed + seeds − 1 (to run them side by side)")
    p.add_argument("--steps", type=int, default=None, help="default: the recipe's")
    p.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE",
                   help=f"recipe options that differ from the default, as make_config takes "
                        f"them, e.g. betas=0.5,0.99 ndf=128 (only {', '.join(SETTABLE)}: "
                        f"the ones this reference reads)")
    args = p.parse_args(argv)
    if (args.model == "dcgan") != (args.data == "mnist"):
        p.error("--model dcgan goes with --data mnist, and only it")
    try:
        options = dict(_recipe_option(text) for text in args.set)
    except ValueError as e:
        p.error(f"--set: {e}")
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        if args.model == "dcgan":
            result = train_torch_dcgan(seed, args.steps, args.data_dir, **options)
        else:
            result = train_torch(args.model, args.data, seed, args.steps, **options)
        if options:
            result["options"] = options
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
