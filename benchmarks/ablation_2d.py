"""One 2-D ablation run per call, printed as one JSON line (benchmarks/QUALITY.md, Ablation).

    python benchmarks/ablation_2d.py model=gan data=grid25 steps=6000 noise=0.2 evals=3

It drives the library's own pieces — models, loops, data stream, the learning-rate schedule
and moving average of ``tinygan.gan.averaging``, ``mode_metrics`` — outside ``train``, so
that a screen can change what the CLI does not expose (dropout in D, unclipped biases, a
scaled critic input, an early stop) and score G and its moving average side by side.

Keys (defaults in ``DEFAULTS``):
  model     gan, wgan or wgan-gp              data      ring8 or grid25
  steps     generator steps                   batch     minibatch size m
  hidden    G's and D's widths, e.g. 256,256  gact/dact G's / D's activation
  opt       adam, rmsprop or sgd (momentum 0.5)  lr_g, lr_d, b1, b2   rates, Adam's betas
  decay     1: both rates decay linearly to 0   ema     β of the moving average of G (0: off)
  seed      random seed                       evals     points of the learning curve (0: none)
  zdim      noise dimension                   stop      end after this many steps, the
                                                        schedules still spanning ``steps``
                                                        (a screen of the early phase)
  cpu_limit end after this many CPU seconds (0: none)
  gan only:     k (D steps per G step), noise (instance noise σ0, annealed linearly to 0),
                ddrop (dropout of this p after each of D's hidden activations, as
                Goodfellow et al. 2014 §5 trained theirs)
  wgan only:    n_critic, clip (c), warmup (the 100-critic-step rule), clipb (0: clip the
                weight matrices only, not the biases), xscale (the critic sees x / xscale, so
                that a clipped first layer's kinks, |b| / ‖w‖ from the origin, can reach the
                modes; 1: none)
  wgan-gp only: n_critic, gp (λ)

Output: the keys, ``cpu``/``wall`` seconds, ``done`` (steps run), ``raw`` (G's strict modes,
modes, high-quality fraction), ``ema_m`` (the same for the moving average, or null) and, with
``evals``, ``curve`` rows (step, CPU s, strict, HQ of the average — of G when ema=0 —,
strict, HQ of G).
"""
import json
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

from tinygan import backend as B, nn, optim  # noqa: E402
from tinygan.data.toy import get_dataset  # noqa: E402
from tinygan.gan import steps as gan_steps  # noqa: E402
from tinygan.gan.averaging import GeneratorEMA, after_each_step  # noqa: E402
from tinygan.gan.loops import LOOPS, linear_decay  # noqa: E402
from tinygan.gan.models import MLPDiscriminator, MLPGenerator  # noqa: E402
from tinygan.gan.sample import generate  # noqa: E402
from tinygan.gan.streams import DataSource, NoiseSource, ToyStream  # noqa: E402
from tinygan.metrics import mode_metrics  # noqa: E402

DEFAULTS = dict(model="gan", data="ring8", steps=2000, batch=256, hidden="512,512,512",
                gact="relu", dact="relu", opt="adam", lr_g=1e-3, lr_d=1e-3, b1=0.5, b2=0.999,
                decay=1, ema=0.999, k=1, n_critic=5, clip=0.01, gp=0.1, noise=0.0, seed=0,
                evals=0, zdim=2, warmup=1, cpu_limit=0, clipb=1, stop=0, ddrop=0.0,
                xscale=1.0)
# keys that only one model reads: setting one for another model is refused, not ignored
MODEL_KEYS = {"gan": {"k", "noise", "ddrop"},
              "wgan": {"n_critic", "clip", "warmup", "clipb", "xscale"},
              "wgan-gp": {"n_critic", "gp"}}
CHOICES = {"model": tuple(MODEL_KEYS), "opt": ("adam", "rmsprop", "sgd"),
           "gact": ("relu", "leaky_relu", "tanh"), "dact": ("relu", "leaky_relu", "tanh"),
           "data": ("ring8", "grid25")}  # the 2-D sets with modes to score


TYPE_NAMES = {int: "an integer", float: "a number", str: "a word"}


def fail(message):
    print(f"ablation_2d.py: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def parse(argv):
    """key=value arguments -> the settings, each checked against DEFAULTS' type."""
    if any(arg in ("-h", "--help") for arg in argv):
        print(__doc__)
        raise SystemExit(0)
    a, given = dict(DEFAULTS), set()
    for arg in argv:
        key, sep, value = arg.partition("=")
        if not sep or key not in a:
            fail(f"expected key=value with a key of {', '.join(DEFAULTS)}; got {arg!r}")
        try:
            a[key] = type(DEFAULTS[key])(value)
        except ValueError:
            fail(f"{key}={value!r}: expected {TYPE_NAMES[type(DEFAULTS[key])]}")
        if key in CHOICES and a[key] not in CHOICES[key]:
            fail(f"{key}={value!r}: expected one of {', '.join(CHOICES[key])}")
        given.add(key)
    foreign = sorted((given & set().union(*MODEL_KEYS.values())) - MODEL_KEYS[a["model"]])
    if foreign:
        fail(f"model={a['model']} does not use {', '.join(foreign)}")
    try:
        a["widths"] = tuple(int(h) for h in a["hidden"].split(","))
    except ValueError:
        fail(f"hidden={a['hidden']!r}: expected widths separated by commas, e.g. 256,256,256")
    if a["steps"] < 1 or a["evals"] < 0 or a["evals"] > a["steps"]:
        fail(f"need steps >= 1 and 0 <= evals <= steps; got steps={a['steps']}, "
             f"evals={a['evals']}")
    return a


def clip_weight_matrices(module, c):
    """WGAN's clipping of the weight matrices only (clipb=0): the biases stay free."""
    for p in module.parameters():
        if p.data.ndim > 1:
            p.data = np.clip(p.data, -c, c)


class InputScale(nn.Module):
    """x -> x / s in front of the critic (xscale)."""

    def __init__(self, s):
        super().__init__()
        self.s = s

    def forward(self, x):
        return x * (1.0 / self.s)


def build(a):
    """G, D, their optimisers and the loop of the settings ``a``."""
    B.manual_seed(a["seed"])
    ds = get_dataset(a["data"])
    G = MLPGenerator(a["zdim"], 2, a["widths"], a["gact"])
    D = MLPDiscriminator(2, a["widths"], a["dact"], dropout=a["ddrop"])
    if a["xscale"] != 1.0:
        D = nn.Sequential(InputScale(a["xscale"]), *D)

    def optimizer(params, lr):
        if a["opt"] == "adam":
            return optim.Adam(params, lr=lr, betas=(a["b1"], a["b2"]))
        if a["opt"] == "rmsprop":
            return optim.RMSprop(params, lr=lr)
        return optim.SGD(params, lr=lr, momentum=0.5)

    opt_g, opt_d = optimizer(G.parameters(), a["lr_g"]), optimizer(D.parameters(), a["lr_d"])
    stream = ToyStream(ds, a["seed"])
    real, noise = DataSource(stream, a["batch"]), NoiseSource(G, a["batch"])
    T, model = a["steps"], a["model"]
    if model == "gan":
        opts = dict(k=a["k"], sigma=linear_decay(a["noise"], T) if a["noise"] else None)
    elif model == "wgan":
        opts = dict(n_critic=a["n_critic"], clip=a["clip"], warmup=bool(a["warmup"]))
    else:
        opts = dict(n_critic=a["n_critic"], gp_lambda=a["gp"])
    loop = LOOPS[model](G, D, opt_g, opt_d, real, noise, steps=T, **opts)
    return ds, G, (opt_g, opt_d), loop


def main(argv=None):
    a = parse(sys.argv[1:] if argv is None else argv)
    B.set_num_threads(1)
    if not a["clipb"]:
        gan_steps.clip_weights = clip_weight_matrices  # critic_step looks it up per call
    try:
        ds, G, (opt_g, opt_d), loop = build(a)
    except ValueError as e:  # a value the library refuses (a width, a rate, a dropout p)
        fail(str(e))
    ema = GeneratorEMA(G, a["ema"]) if a["ema"] > 0 else None
    schedule = [(opt_g, a["lr_g"]), (opt_d, a["lr_d"])] if a["decay"] else ()
    records = after_each_step(loop, start=0, steps=a["steps"], optimizers=schedule, ema=ema,
                              G=G)

    def evaluate(model):
        s = generate(model, 2500, a["seed"])
        if not np.isfinite(s).all():
            return dict(modes=0, modes_strict=0, high_quality=0.0)
        r = mode_metrics(s, ds.centers, ds.std)
        return {k: r[k] for k in ("modes", "modes_strict", "high_quality")}

    curve, every = [], a["steps"] // a["evals"] if a["evals"] else 0
    cpu, t0, w0 = 0.0, time.process_time(), time.time()
    done = 0
    for done, _ in enumerate(records, start=1):
        if every and done % every == 0:
            cpu += time.process_time() - t0  # the evaluations are not training time
            averaged, own = evaluate(ema.sampler() if ema else G), evaluate(G)
            curve.append((done, round(cpu, 1), averaged["modes_strict"],
                          round(averaged["high_quality"], 3), own["modes_strict"],
                          round(own["high_quality"], 3)))
            t0 = time.process_time()
        if a["cpu_limit"] and cpu + time.process_time() - t0 > a["cpu_limit"]:
            break
        if a["stop"] and done >= a["stop"]:  # a screen: the schedules still span all steps
            break
    cpu += time.process_time() - t0
    out = {k: v for k, v in a.items() if k != "widths"}
    out.update(cpu=round(cpu, 1), wall=round(time.time() - w0, 1), done=done)
    out["raw"] = evaluate(G)
    out["ema_m"] = evaluate(ema.sampler()) if ema else None
    if curve:
        out["curve"] = curve
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
