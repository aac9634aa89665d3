"""Which moving average of G to sample DCGAN's digits from: several averages of one run.

    python benchmarks/ema_screen.py --seeds 0 1            # the default DCGAN recipe on digits

Each seed trains the default DCGAN recipe (``tinygan train dcgan --data mnist``) once,
through the library's ``train()``, at one thread.  Beside the run's own average (the
recipe's ``--ema``) the loop keeps further averages of G's weights that never touch the
training — so every average is scored on the *same* run, an exact comparison:

* ``ema β``: :class:`tinygan.gan.averaging.GeneratorEMA` at decay β, with its warm-up
  β_t = min(β, (1 + t) / (10 + t)).  The warm-up caps β_t at 0.9964 after 2,500 steps, so
  every β above that averages a 2,500-step run alike (about its last 300 steps).
* ``from k, β``: the plain average θ̄ ← β·θ̄ + (1 − β)·θ, started as a copy of G at step k
  (no warm-up): a longer window that leaves out the early, poor weights.

Every average is sampled with its own batch-norm statistics, as the run samples its own
(:meth:`tinygan.gan.averaging.GeneratorEMA.sampler`), and every generator is scored as the
run is (``tinygan.gan.outputs.digit_metrics``: the classifier Fréchet distance of 2,000
samples in eval mode against the held-out digits).
One JSON line per seed.  Figures, not tests (benchmarks/QUALITY.md, digits ablation).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
from tinygan.gan.averaging import GeneratorEMA  # noqa: E402  (after the path is set)
from tinygan.gan.loops import gan_loop  # noqa: E402

EMA_DECAYS = (0.99, 0.995)
LATE_AVERAGES = ((1000, 0.999), (500, 0.9995))  # (first step, β)


class LateAverage:
    """θ̄ ← β·θ̄ + (1 − β)·θ from step ``start`` on, θ̄ starting as a copy of G there: the
    library's GeneratorEMA, created late and with its decay held at β (no warm-up)."""

    def __init__(self, start: int, decay: float):
        self.start, self.decay, self.average = start, decay, None

    def sampler(self):
        """The average's generator, ready to sample (GeneratorEMA.sampler: its own batch-norm
        statistics); None while the run has not reached ``start``."""
        return None if self.average is None else self.average.sampler()

    def update(self, G, step: int) -> None:
        if step < self.start:
            return
        if self.average is None:
            self.average = GeneratorEMA(G, self.decay)   # θ̄ = θ at step ``start``
            self.average.decay_at = lambda t: self.decay  # a plain average from here on
            return
        self.average.update(G, step)


class Itself:
    """G as it is at the end (no average), scored beside the averages."""

    def __init__(self, G):
        self.G = G

    def sampler(self):
        return self.G

    def update(self, G, step: int) -> None:
        pass


def loop_keeping(averages: dict, decays=EMA_DECAYS, late=LATE_AVERAGES):
    """A loop like gan_loop that also updates ``averages`` (name → object with update(G, t))."""
    def loop(G, D, opt_g, opt_d, real, noise, *, steps, start=0, **options):
        averages["G"] = Itself(G)
        for beta in decays:
            averages[f"ema {beta}"] = GeneratorEMA(G, beta)
        for first, beta in late:
            averages[f"from {first}, {beta}"] = LateAverage(first, beta)
        step = start
        for record in gan_loop(G, D, opt_g, opt_d, real, noise, steps=steps, start=start,
                               **options):
            for average in averages.values():
                average.update(G, step)
            step += 1
            yield record
    return loop


def screen(seed: int, data_dir: str, steps: int = None, decays=EMA_DECAYS,
           late=LATE_AVERAGES) -> dict:
    from tinygan.gan.config import make_config
    from tinygan.gan.outputs import digit_metrics
    from tinygan.gan.sample import generate
    from tinygan.gan.train import train
    averages = {}
    with tempfile.TemporaryDirectory() as out:
        cfg = make_config("dcgan", data="mnist", data_dir=data_dir, seed=seed, threads=1,
                          steps=steps, out=os.path.join(out, "run"), figures=False,
                          progress=False, sample_every=0)
        summary = train(cfg, loop=loop_keeping(averages, decays, late))
    result = {"seed": seed, "steps": summary["steps"], "cpu_s": round(summary["cpu_s"], 1),
              f"run's own (ema {cfg.ema})": round(summary["metrics"]["frechet"], 2)}
    for name, average in averages.items():
        model = average.sampler()
        if model is None:  # a late average of a run shorter than its start
            result[name] = None
            continue
        samples = generate(model, cfg.n_samples, seed)
        result[name] = round(digit_metrics(samples, "mnist", data_dir)["frechet"], 2)
    return result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--data-dir", default=None, help="MNIST IDX folder (default: as the demo)")
    p.add_argument("--steps", type=int, default=None, help="default: the recipe's (2,500)")
    p.add_argument("--decays", type=float, nargs="*", default=list(EMA_DECAYS),
                   help="further GeneratorEMA decays, with the warm-up (default: %(default)s)")
    p.add_argument("--late", nargs="*", default=[f"{k}:{b}" for k, b in LATE_AVERAGES],
                   metavar="START:BETA", help="plain averages from step START at decay BETA "
                   "(default: %(default)s)")
    args = p.parse_args(argv)
    try:
        late = [(int(a), float(b)) for a, b in (item.split(":") for item in args.late)]
    except ValueError:
        p.error(f"--late: expected START:BETA items, e.g. 1000:0.999, got {args.late}")
    from tinygan.data.mnist import find_mnist_dir
    data_dir = args.data_dir or find_mnist_dir()
    if data_dir is None:
        p.error("no MNIST folder found; pass --data-dir")
    for seed in args.seeds:
        print(json.dumps(screen(seed, data_dir, args.steps, args.decays, late)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
