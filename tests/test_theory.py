"""Every numerical claim of the seven math demos (demos/0N_*.py), at fast settings.

Analytic claims are checked against an independent computation (a second
formula, a closed form, or a brute-force quadrature); training claims use the
engine (tinygan.nn / autograd / losses) and state their tolerances.
"""
import importlib.util
import math
import os

import numpy as np
import pytest

from tinygan import theory

DEMOS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "demos")


def demo(name):
    spec = importlib.util.spec_from_file_location(f"demo_{name}", os.path.join(DEMOS, f"{name}.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ---------------------------------------------------------------- helpers of tinygan.theory
def test_kl_matches_gaussian_closed_form():
    x = theory.grid(-15, 15, 30001)
    m1, s1, m2, s2 = 0.3, 0.8, -0.5, 1.4
    exact = math.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5
    # measured error 5.6e-17 (rounding level: the tails beyond ±15 are below 1e-40)
    assert theory.kl(theory.gaussian_pdf(x, m1, s1), theory.gaussian_pdf(x, m2, s2), x) == \
        pytest.approx(exact, abs=1e-15)


def test_spearman_matches_definition_and_handles_ties():
    a = np.array([3.0, 1.0, 2.0, 5.0, 4.0])
    assert theory.spearman(a, 2 * a + 1) == pytest.approx(1.0)
    assert theory.spearman(a, -a ** 3) == pytest.approx(-1.0)
    # Without ties: 1 − 6 Σ d² / (n(n² − 1)).
    b = np.array([1.0, 3.0, 2.0, 4.0, 5.0])
    d = theory.rankdata(a) - theory.rankdata(b)
    assert theory.spearman(a, b) == pytest.approx(1 - 6 * (d @ d) / (5 * 24))
    np.testing.assert_allclose(theory.rankdata([10, 20, 20, 30]), [1, 2.5, 2.5, 4])


def test_wasserstein_quadrature_of_shifted_gaussians_is_the_shift():
    x = theory.grid(-10, 10, 20001)
    w = theory.wasserstein1_quadrature(theory.gaussian_pdf(x, 0, 1), theory.gaussian_pdf(x, 0.7, 1),
                                       x)
    assert w == pytest.approx(0.7, abs=1e-13)  # measured error 9.5e-15


# ---------------------------------------------------------------- demo 1
# Training claims run the demo's own ``run(quick=True, seed=s)`` (exactly what ``--quick``
# runs) for seeds 0, 1, 2.  "observed" gives the values for seeds 0 / 1 / 2, measured on the
# OpenBLAS Haswell and Sandybridge kernels (OPENBLAS_CORETYPE, set on the command line only);
# where the kernels differ, the worse is shown.
SEEDS = (0, 1, 2)
# Demos 5 and 7 take ≈ 8 s a seed: the file runs seed 0 of them to stay under a minute on one
# core; seeds 1 and 2 were measured (the values beside their thresholds) and pass.
SEEDS_COSTLY = (0,)


@pytest.fixture(scope="module", params=SEEDS)
def demo1_result(request):
    return demo("01_optimal_discriminator").run(quick=True, seed=request.param)


def test_demo1_trained_d_matches_optimal_discriminator(demo1_result):
    """max |D − D*| < 0.05 where (p_data + p_G)/2 > 0.02."""
    r = demo1_result
    assert r["region"].sum() > 500  # the region is most of the grid's mass, not a sliver
    assert r["max_err"] < 0.05, r["max_err"]   # observed 0.021 / 0.014 / 0.018
    # D* itself is the pointwise maximiser of p_data log D + p_G log(1 − D).
    x, pd, pg = r["x"], r["p_data"], r["p_g"]
    for eps in (-0.05, 0.05):
        d = np.clip(r["d_star"] + eps, 1e-6, 1 - 1e-6)
        assert theory.value_at(d, pd, pg, x) < theory.value_at_optimum(pd, pg, x)


# ---------------------------------------------------------------- demo 2
def test_demo2_value_at_optimum_is_2jsd_minus_log4():
    d2 = demo("02_value_is_jsd")
    for p, q in d2.PAIRS:
        v, j_kl, j_h = d2.compare_pair(p, q)
        # the three computations agree to rounding: measured ≤ 6.7e-16 over PAIRS
        assert v == pytest.approx(j_kl, abs=1e-14)
        assert v == pytest.approx(j_h, abs=1e-14)
        assert -theory.LOG4 - 1e-9 < v < 1e-9  # 0 ≤ JSD ≤ log 2


def test_demo2_criterion_is_minus_log4_at_p_g_equal_p_data():
    x = theory.grid(-12, 12, 20001)
    for dens in (theory.gaussian(0.5, 1.3), theory.mixture([0.2, 0.8], [-2, 1], [0.3, 0.7])):
        p = dens.pdf(x)
        # measured error ≤ 4.4e-16
        assert theory.virtual_training_criterion(p, p, x) == pytest.approx(-math.log(4),
                                                                           abs=1e-14)
        np.testing.assert_allclose(theory.optimal_discriminator(p, p), 0.5)


def test_demo2_monte_carlo_value_of_trained_d_within_standard_errors(demo1_result):
    r = demo("02_value_is_jsd").run(quick=True, d=demo1_result["D"])
    assert r["se"] < 0.01, r["se"]              # observed 0.0035 (n = 40000)
    # V(D_trained, G) ≤ V(D*, G) = C(G), and the gap is second order in D − D*.
    gap = r["c_g"] - r["v_d_quad"]
    assert 0 <= gap < 0.01, gap                 # observed 0.0006 / 0.0009 / 0.0008
    # The Monte-Carlo V is one draw of an estimate with standard error se: |z| < 4 fails
    # by chance with probability 6e-5.
    z = (r["v_mc"] - r["c_g"]) / r["se"]
    assert abs(z) < 4, (r["v_mc"], r["c_g"], r["se"])   # observed z = −0.70 / −0.75 / −0.72


# ---------------------------------------------------------------- demo 3
@pytest.mark.parametrize("seed", SEEDS)
def test_demo3_gan_ends_near_equilibrium(seed):
    r = demo("03_goodfellow_figure1").run(quick=True, seed=seed)
    # p_data = N(2, 0.5²): W1 < 0.1 is a fifth of a standard deviation.
    assert r["w1"] < 0.1, r["w1"]               # observed 0.021 / 0.034 / 0.047
    # D ≈ 1/2 on the data region (p_data > 10% of its peak).
    assert r["d_dev_mean"] < 0.05, r["d_dev_mean"]   # observed 0.012 / 0.010 / 0.004
    assert r["d_dev_max"] < 0.15, r["d_dev_max"]     # observed 0.050 / 0.055 / 0.019


# ---------------------------------------------------------------- demo 4
def test_demo4_saturating_gradient_vanishes_when_d_rejects_fakes():
    d4 = demo("04_saturating_vs_nonsaturating")
    d = np.array([1e-5, 1e-3, 0.1, 0.5, 0.9])
    sat, ns = d4.logit_gradients(d, True), d4.logit_gradients(d, False)
    # Engine autograd against the formulas D and 1 − D (float32 engine): measured relative
    # error 3.2e-7 (saturating) and 1.2e-7 (non-saturating), a few float32 ulps.
    np.testing.assert_allclose(sat, theory.saturating_grad_logit(d), rtol=3e-6)
    np.testing.assert_allclose(ns, theory.nonsaturating_grad_logit(d), rtol=3e-6)
    assert sat[1] / ns[1] < 1e-2                # 1e-3 / (1 − 1e-3)


@pytest.fixture(scope="module", params=SEEDS)
def demo4_result(request):
    return demo("04_saturating_vs_nonsaturating").run(quick=True, seed=request.param)


def test_demo4_saturating_gradient_through_a_confident_d(demo4_result):
    o = demo4_result["outg"]                    # w.r.t. G's output, through a trained D
    assert np.median(o["d"]) < 0.05, np.median(o["d"])   # observed 0.005 / 0.004 / 0.006
    conf = o["d"] < 0.05
    ratio = np.max(o["sat"][conf] / o["ns"][conf])
    assert ratio < 0.02, ratio                  # observed 0.0076 / 0.0084 / 0.0080


def test_demo4_nonsaturating_loss_trains_where_saturating_stalls(demo4_result):
    r = demo4_result                            # p_data = N(4, 0.5²), G starts near 0
    assert r["ns_end_max"] < 0.5, r["ns_end_max"]   # max W1, last quarter: 0.150 / 0.186 / 0.158
    assert r["sat_min"] > 1.5, r["sat_min"]     # min W1 over the run: 4.24 / 3.83 / 3.72
    assert r["sat_move"] < 0.05, r["sat_move"]  # (max − min) / first W1: 0.002 / 0.005 / 0.003


# ---------------------------------------------------------------- demo 5
def test_demo5_analytic_jsd_and_w_of_segments_by_quadrature():
    # x-marginals as thin boxes of width w (the y-factor is common to both).
    x = theory.grid(-2, 2, 40001)
    w = 0.01

    def box(c):  # normalised on the grid, so each integrates to exactly 1 by the same rule
        b = theory.uniform_pdf(x, c - w / 2, c + w / 2)
        return b / theory.integrate(b, x)
    for theta in (-1.0, -0.3, 0.05, 0.5):
        # measured errors: JSD ≤ 3.3e-16; W1 5.0e-5 (half the grid step 1e-4: the boxes' edges
        # fall on grid points, and the trapezoid rule smears each over one step)
        assert theory.jsd(box(0), box(theta), x) == pytest.approx(theory.LOG2, abs=1e-14)
        assert theory.jsd_segments(theta) == theory.LOG2
        assert theory.wasserstein1_quadrature(box(0), box(theta), x) == pytest.approx(
            abs(theta), abs=5e-4)
        assert theory.wasserstein_segments(theta) == abs(theta)
    assert theory.jsd_segments(0.0) == 0.0
    assert theory.jsd(box(0), box(0), x) == pytest.approx(0.0, abs=1e-12)


@pytest.fixture(scope="module", params=SEEDS_COSTLY)
def demo5_result(request):
    return demo("05_disjoint_supports").run(quick=True, seed=request.param)


def test_demo5_standard_d_gradient_vanishes_wgan_gradients_do_not(demo5_result):
    grads = demo5_result["grads"]
    js = grads["js"][:, 1]
    assert abs(js[-1]) < 0.05 * np.max(np.abs(js)), js   # observed 0.021 / 0.023 / 0.024
    for kind in ("wgan", "wgan-gp"):
        g = grads[kind][:, 1]
        # Informative: the right sign (descent moves θ = 1 towards 0) and no decay.
        assert g[-1] > 0.75 * np.max(np.abs(g)), (kind, g)   # observed ≥ 0.906
    gp = grads["wgan-gp"][-1, 1]
    assert abs(gp - 1) < 0.25, gp   # ≈ dW/dθ = 1 for a 1-Lipschitz critic; observed ≤ 0.073


def test_demo5_one_parameter_generator_learns_with_wgan_not_with_saturated_js(demo5_result):
    traj = demo5_result["traj"]
    for kind in ("wgan", "wgan-gp"):
        th = traj[kind]
        # max |θ| over the last quarter of the run, not one point: θ settles near 0.
        last = np.max(np.abs(th[int(0.75 * (len(th) - 1)):]))
        # observed wgan 0.048 / 0.022 / 0.026, wgan-gp 0.062 / 0.051 / 0.009
        assert last < 0.15, (kind, last)
    th = traj["js"]
    assert np.max(np.abs(th - 1.0)) < 0.1, th[-1]   # observed ≤ 0.030


# ---------------------------------------------------------------- demo 6
def test_demo6_noisy_jsd_is_smooth_and_informative():
    thetas = np.linspace(0, 1.5, 31)
    for s in (0.1, 0.25, 0.5, 1.0):
        j = theory.noisy_jsd_segments(thetas, s)
        assert j[0] == pytest.approx(0.0, abs=1e-12)
        assert np.all(np.diff(j) > 0)  # strictly increasing in θ: the gradient points to 0
        assert np.all(j < theory.LOG2)
        # Small-θ limit θ²/(8σ²), an independent closed form.  At θ = 0.01σ the measured
        # relative difference is 1.25e-5 for every σ (the next term of the series, of relative
        # order (θ/σ)²/8 = 1.25e-5), so 1.3e-4 is 10x.
        t = 0.01 * s
        assert theory.noisy_jsd_segments(t, s) == pytest.approx(theory.jsd_small_shift(t, s),
                                                                rel=1.3e-4)
    # The factorised 1-D quadrature equals brute-force 2-D quadrature of the full densities.
    # (measured difference 4.4e-16)
    assert theory.noisy_jsd_segments(0.4, 0.3) == pytest.approx(
        theory.noisy_jsd_segments_2d(0.4, 0.3), abs=1e-14)
    # As σ → 0 the noisy JSD tends to the noiseless log 2.
    # (measured: exactly log 2 in float64, the overlap is ~exp(−1250))
    assert theory.noisy_jsd_segments(1.0, 0.02) == pytest.approx(theory.LOG2, abs=1e-15)


@pytest.mark.parametrize("seed", SEEDS)
def test_demo6_instance_noise_gan_reaches_zero_plain_gan_stalls(seed):
    d6 = demo("06_instance_noise")
    sched = d6.linear_anneal(1.0, 0.1, 150)
    assert sched(0) == 1.0 and sched(150) == pytest.approx(0.1) and sched(75) == pytest.approx(0.55)
    r = d6.run(quick=True, seed=seed)
    noisy, plain = r["noisy"], r["plain"]
    last = np.max(np.abs(noisy[int(0.75 * (len(noisy) - 1)):]))
    assert last < 0.02, last                    # max |θ|, last quarter: observed ≤ 0.003
    assert np.min(plain) > 0.8, np.min(plain)   # observed ≥ 0.934


# ---------------------------------------------------------------- demo 7
@pytest.mark.parametrize("seed", SEEDS_COSTLY)
def test_demo7_critic_estimate_tracks_sample_quality_on_ring8(seed):
    runs = demo("07_wasserstein_tracks_quality").run(quick=True, seed=seed)["ring8"]
    for kind, h in runs.items():
        # Both fall: mean of the last tenth of the records / the first record ...
        est, q = h["estimate_drop"], h["quality_drop"]
        assert est < 0.4, (kind, est)           # observed ≤ 0.157 / 0.087 / 0.083
        assert q < 0.7, (kind, q)   # observed wgan 0.259 / 0.302 / 0.334, wgan-gp ≤ 0.186
        # ... and they are rank-correlated over the run.
        # observed wgan 0.816 / 0.853 / 0.718, wgan-gp 0.776 / 0.804 / 0.726
        assert h["spearman"] > 0.3, (kind, h["spearman"])
