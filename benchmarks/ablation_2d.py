"""One 2-D ablation run per call, printed as one JSON line (benchmarks/QUALITY.md, Ablation).

    python benchmarks/ablation_2d.py model=gan data=grid25 steps=6000 noise=0.2 evals=3

Keys (defaults below in ``a``): model (gan, wgan, wgan-gp), data, steps, batch, hidden,
gact/dact (G's / D's activation), opt (adam, rmsprop, sgd), lr_g, lr_d, b1, b2, decay
(1: the rates decay linearly to 0), ema (β of the moving average of G, 0: off), k,
n_critic, clip, gp (λ), noise (instance-noise σ0), seed, evals (points of the learning
curve), zdim, warmup (WGAN's 100-critic-step rule), clipb (WGAN: 0 clips the weight
matrices only, not the biases), stop (end after this many steps, the schedules still
spanning ``steps``: a screen of the early phase, where the plain GAN's modes are won or
lost), ddrop (dropout of this p after each of D's hidden activations, as Goodfellow et al.
2014 §5 trained theirs; 0: none), xscale (the critic sees x / xscale: a fixed scaling in
front of D, so that a clipped first layer's kinks, |b| / ‖w‖ from the origin, can reach
the modes; 1: none).  ``raw`` scores G, ``ema_m`` its moving average;
``curve`` rows are (step, CPU s, strict, HQ of the EMA, strict, HQ of G).
"""
import sys, json, time, os
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import numpy as np
import tinygan
from tinygan import backend as B, optim
from tinygan.gan.models import MLPGenerator, MLPDiscriminator
from tinygan.gan.loops import LOOPS, linear_decay
from tinygan.gan.streams import ToyStream, DataSource, NoiseSource
from tinygan.gan.sample import generate
from tinygan.data.toy import get_dataset
from tinygan.metrics import mode_metrics

a = dict(model="gan", data="ring8", steps=2000, batch=256, hidden="512,512,512", gact="relu",
         dact="relu", opt="adam", lr_g=1e-3, lr_d=1e-3, b1=0.5, b2=0.999, decay=1, ema=0.999,
         k=1, n_critic=5, clip=0.01, gp=0.1, noise=0.0, seed=0, evals=0, zdim=2, warmup=1,
         cpu_limit=0, clipb=1, stop=0, ddrop=0.0, xscale=1.0)
for kv in sys.argv[1:]:
    key, v = kv.split("=", 1)
    a[key] = type(a[key])(v) if not isinstance(a[key], str) else v
B.set_num_threads(1)
if not a["clipb"]:
    import tinygan.gan.steps as _steps
    def _clip_matrices(module, c):
        for p in module.parameters():
            if p.data.ndim > 1:
                p.data = np.clip(p.data, -c, c)
    _steps.clip_weights = _clip_matrices
B.manual_seed(a["seed"])
ds = get_dataset(a["data"])
hidden = tuple(int(h) for h in a["hidden"].split(","))
G = MLPGenerator(a["zdim"], 2, hidden, a["gact"])
D = MLPDiscriminator(2, hidden, a["dact"], dropout=a["ddrop"])  # ddrop: --d-dropout
if a["xscale"] != 1.0:
    from tinygan import nn
    class _Scale(nn.Module):
        def forward(self, x): return x * (1.0 / a["xscale"])
    D = nn.Sequential(_Scale(), *D)
Ge = MLPGenerator(a["zdim"], 2, hidden, a["gact"]); Ge.load_state_dict(G.state_dict())
def mk(params, lr):
    if a["opt"] == "adam": return optim.Adam(params, lr=lr, betas=(a["b1"], a["b2"]))
    if a["opt"] == "rmsprop": return optim.RMSprop(params, lr=lr)
    return optim.SGD(params, lr=lr, momentum=0.5)
og, od = mk(G.parameters(), a["lr_g"]), mk(D.parameters(), a["lr_d"])
data = ToyStream(ds, a["seed"]); real, noise = DataSource(data, a["batch"]), NoiseSource(G, a["batch"])
T = a["steps"]
m = a["model"]
if m == "gan":
    opts = dict(k=a["k"], sigma=linear_decay(a["noise"], T) if a["noise"] else None)
elif m == "wgan":
    opts = dict(n_critic=a["n_critic"], clip=a["clip"], warmup=bool(a["warmup"]))
else:
    opts = dict(n_critic=a["n_critic"], gp_lambda=a["gp"])
loop = LOOPS[m](G, D, og, od, real, noise, steps=T, **opts)
pe, pg = [p.data for p in Ge.parameters()], [p.data for p in G.parameters()]
beta = a["ema"]
def evaluate(model):
    s = generate(model, 2500, a["seed"])
    if not np.isfinite(s).all(): return dict(modes=0, modes_strict=0, high_quality=0.0)
    r = mode_metrics(s, ds.centers, ds.std); return {k: r[k] for k in ("modes", "modes_strict", "high_quality")}
curve = []
t0 = time.process_time(); w0 = time.time()
for step, rec in enumerate(loop):
    if beta > 0:
        for e, g in zip(pe, pg):
            e *= beta; e += (1 - beta) * g
    if a["decay"]:
        f = 1 - (step + 1) / T
        for o, l in ((og, a["lr_g"]), (od, a["lr_d"])):
            for gr in o.param_groups: gr["lr"] = l * f
    if a["evals"] and (step + 1) % (T // a["evals"]) == 0:
        c = time.process_time() - t0
        r = evaluate(Ge if beta > 0 else G); r2 = evaluate(G); curve.append((step + 1, round(c, 1), r["modes_strict"], round(r["high_quality"], 3), r2["modes_strict"], round(r2["high_quality"], 3)))
        t0 += time.process_time() - t0 - c
    if a["cpu_limit"] and time.process_time() - t0 > a["cpu_limit"]:
        break
    if a["stop"] and step + 1 >= a["stop"]:  # a screen: the schedule still spans all steps
        break
cpu = time.process_time() - t0
out = dict(a, cpu=round(cpu, 1), wall=round(time.time() - w0, 1), done=step + 1)
out["raw"] = evaluate(G)
out["ema_m"] = evaluate(Ge) if beta > 0 else None
if curve: out["curve"] = curve
print(json.dumps(out), flush=True)
