"""Demo 2 — the value of the game is C(G) = V(D*, G) = −log 4 + 2·JSD(p_data ‖ p_G)  (MATH.md §1).

For several pairs of 1-D densities, V(D*, G) is integrated numerically with
D* = p_data/(p_data + p_G) plugged in (``theory.value_at_optimum``), and
2·JSD − log 4 is computed independently (``theory.jsd``: KL to the mixture;
``theory.jsd_entropy_form``: entropies).  They agree to quadrature accuracy.
C = −log 4 exactly when p_G = p_data.  Finally the discriminator trained in
demo 1 gives a Monte-Carlo estimate of V (with the engine's
``value_function``); it lies 1.5 standard errors from C(G) (the test allows 4).

    python demos/02_value_is_jsd.py [--out DIR] [--quick]
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402

from tinygan import theory  # noqa: E402
from tinygan.gan.losses import value_function  # noqa: E402

NAME = "02_value_is_jsd"
G = theory.gaussian
PAIRS = [
    (G(0, 1), G(1, 1)),
    (G(0, 1), G(0, 2)),
    (G(0, 1), G(3, 0.5)),
    (theory.mixture([0.3, 0.7], [-2, 1], [0.4, 0.8]), G(0, 1.5)),
    (theory.mixture([0.5, 0.5], [-1.5, 1.5], [0.5, 0.6]), G(0, 1)),  # demo 1's pair
    (G(0, 1), G(8, 0.3)),  # almost disjoint: JSD → log 2, C → 0
]


def _grid_for(p, q, n=40001):
    lo = min(p.support(12)[0], q.support(12)[0])
    hi = max(p.support(12)[1], q.support(12)[1])
    return theory.grid(lo, hi, n)


def compare_pair(p_data, p_g, n=40001):
    """(V(D*, G), 2·JSD − log 4 via KL, via entropies) for one pair, by quadrature."""
    x = _grid_for(p_data, p_g, n)
    pd, pg = p_data.pdf(x), p_g.pdf(x)
    return (theory.value_at_optimum(pd, pg, x), 2 * theory.jsd(pd, pg, x) - theory.LOG4,
            2 * theory.jsd_entropy_form(pd, pg, x) - theory.LOG4)


def monte_carlo_value(d, p_data, p_g, n=20000, seed=123):
    """V(D, G) ≈ (1/n) Σ log D(x_i) + (1/n) Σ log(1 − D(y_j)), with its standard error.

    ``d`` is demo 1's trained discriminator (``d.logits(x)`` gives a(x)).  The
    estimate uses the engine's :func:`value_function` on the logits; the
    standard error is sqrt(Var[log D(x)]/n + Var[log(1 − D(y))]/n).
    """
    rng = np.random.default_rng(seed)
    a_real = d.logits(p_data.sample(n, rng))
    a_fake = d.logits(p_g.sample(n, rng))
    v = value_function(C.T(a_real), C.T(a_fake)).item()
    log_d = -np.logaddexp(0.0, -a_real)        # log σ(a)      = −softplus(−a)
    log_1md = -np.logaddexp(0.0, a_fake)       # log(1 − σ(a)) = −softplus(a)
    se = np.sqrt(log_d.var(ddof=1) / n + log_1md.var(ddof=1) / n)
    return v, float(se)


@C.single_threaded
def run(quick: bool = False, seed: int = 0, d=None):
    rows = [compare_pair(p, q) for p, q in PAIRS]
    x = theory.grid(-10, 10, 20001)
    p = G(0, 1).pdf(x)
    c_equal = theory.value_at_optimum(p, p, x)
    mus = np.linspace(-4, 4, 81)
    curve = np.array([theory.value_at_optimum(p, G(m, 1).pdf(x), x) for m in mus])
    demo1 = C.load_demo("01_optimal_discriminator")
    if d is None:
        d = demo1.run(quick=quick, seed=seed)["D"]
    v_mc, se = monte_carlo_value(d, demo1.P_DATA, demo1.P_G, n=40000 if quick else 200000)
    xg = _grid_for(demo1.P_DATA, demo1.P_G)
    pd, pg = demo1.P_DATA.pdf(xg), demo1.P_G.pdf(xg)
    c_g = theory.value_at_optimum(pd, pg, xg)
    v_d_quad = theory.value_at(d(xg), pd, pg, xg)   # V(D_trained, G) ≤ V(D*, G)
    return dict(pairs=PAIRS, rows=np.array(rows), c_equal=c_equal, mus=mus, curve=curve,
                v_mc=v_mc, se=se, c_g=c_g, v_d_quad=v_d_quad)


def plot(r, out):
    import matplotlib.pyplot as plt
    fig, (a0, a1) = plt.subplots(1, 2, figsize=(11, 4))
    rows = r["rows"]
    a0.plot([-1.4, 0.05], [-1.4, 0.05], "0.6", lw=1)
    a0.plot(rows[:, 1], rows[:, 0], "o", ms=8, label="pairs of densities")
    a0.set_xlabel("2·JSD − log 4  (quadrature, KL to the mixture)")
    a0.set_ylabel("V(D*, G)  (quadrature with D* plugged in)")
    z = (r["v_mc"] - r["c_g"]) / r["se"]
    a0.set_title(f"max |V(D*, G) − (2·JSD − log 4)| = "
                 f"{np.max(np.abs(rows[:, 0] - rows[:, 1])):.1e} (tested < 1e-6)\n"
                 f"Monte-Carlo V − C(G) = {z:+.2f} SE (tested within ±4 SE)", fontsize=10)
    a0.errorbar([r["c_g"]], [r["v_mc"]], yerr=[2 * r["se"]], fmt="rs", capsize=4,
                label="Monte-Carlo V with demo 1's trained D (±2 SE)")
    a0.legend(fontsize=8)
    a1.plot(r["mus"], r["curve"], label="C(G) for p_data = N(0,1), p_G = N(μ,1)")
    a1.axhline(-theory.LOG4, color="r", ls="--", label="−log 4")
    a1.axhline(0, color="0.5", ls=":", label="0 = −log 4 + 2 log 2 (disjoint)")
    a1.set_xlabel("μ"), a1.set_ylabel("C(G)")
    a1.legend(fontsize=8)
    return C.save_figure(fig, out, "value_is_jsd.png")


def report(r):
    """Print the demo's numbers."""
    for (p, q), (v, j1, j2) in zip(r["pairs"], r["rows"]):
        print(f"p_data={p.name:32s} p_G={q.name:14s} V(D*,G)={v:+.8f}  2JSD-log4={j1:+.8f} "
              f"(entropy form {j2:+.8f})")
    print(f"p_G = p_data: C = {r['c_equal']:.10f}   -log 4 = {-theory.LOG4:.10f}")
    print(f"demo 1's D: Monte-Carlo V = {r['v_mc']:.4f} ± {r['se']:.4f} (SE);  C(G) = "
          f"{r['c_g']:.4f}  (V(D_trained, G) by quadrature = {r['v_d_quad']:.4f});  "
          f"V_MC - C(G) = {(r['v_mc'] - r['c_g']) / r['se']:+.2f} SE")


def main(argv=None):
    return C.demo_main(NAME, __doc__, argv, run, plot, report)


if __name__ == "__main__":
    main()
