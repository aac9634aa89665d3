"""Losses: stable BCE from logits (exact at ±1000), clamped BCE on probabilities,
MSE, compared with PyTorch; the GAN objectives against closed forms computed by
hand in NumPy float64 (MATH.md §1, §4, §5) — on NumPy and on the CuPy stand-in."""
import numpy as np
import pytest

import tinygan as tg
from tinygan import backend as B
from tinygan import ops
from tinygan.gan import losses as gl

pytestmark = pytest.mark.usefixtures("backend")


def T(a, requires_grad=False, dtype=None):
    return tg.Tensor(np.asarray(a), requires_grad=requires_grad, dtype=dtype)


def host(x):
    return B.to_numpy(x.data)


def sigmoid64(a):
    return 1.0 / (1.0 + np.exp(-np.asarray(a, dtype=np.float64)))


# ---------------------------------------------------------------- BCE with logits
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bce_with_logits_exact_at_extreme_logits(dtype):
    a = T([1000.0, -1000.0, 1000.0, -1000.0, 1000.0, 0.0], requires_grad=True, dtype=dtype)
    t = T([1.0, 0.0, 0.0, 1.0, 0.3, 1.0], dtype=dtype)
    loss = ops.binary_cross_entropy_with_logits(a, t, reduction="none")
    assert loss.dtype == np.dtype(dtype)
    # softplus(a) − t·a exactly: 0, 0, 1000, 1000, 700, log 2
    np.testing.assert_allclose(host(loss), [0, 0, 1000, 1000, 700, np.log(2)], rtol=1e-7)
    loss.backward(T(np.ones(6), dtype=dtype))
    # ∂/∂a = σ(a) − t
    np.testing.assert_allclose(host(a.grad), [0, 0, 1, -1, 0.7, -0.5], rtol=1e-6, atol=1e-7)
    assert a.grad.dtype == np.dtype(dtype)
    mean = ops.binary_cross_entropy_with_logits(a, t)
    assert np.isfinite(mean.item())
    assert mean.item() == pytest.approx((2700 + np.log(2)) / 6, rel=1e-6)


def test_bce_with_logits_accepts_host_and_scalar_like_targets():
    a = T([[0.5], [-2.0]], requires_grad=True)
    l1 = ops.binary_cross_entropy_with_logits(a, np.ones((2, 1)))
    l2 = ops.binary_cross_entropy_with_logits(a, T(np.ones((2, 1), np.float32)))
    assert l1.item() == pytest.approx(l2.item())
    assert l1.dtype == np.float32


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("loss", ["bce_logits", "bce", "mse"])
def test_losses_match_pytorch(torch, float64, loss, reduction):
    rng = np.random.default_rng(3)
    x = rng.normal(scale=3.0, size=(4, 3))
    if loss == "bce":
        x = sigmoid64(x)
    t = rng.uniform(size=(4, 3))
    ours_x, ours_t = T(x, True), T(t, True)
    ref_x = torch.tensor(x, requires_grad=True)
    ref_t = torch.tensor(t, requires_grad=True)
    f = torch.nn.functional
    ours = {"bce_logits": ops.binary_cross_entropy_with_logits, "bce": ops.binary_cross_entropy,
            "mse": ops.mse_loss}[loss](ours_x, ours_t, reduction=reduction)
    ref = {"bce_logits": f.binary_cross_entropy_with_logits, "bce": f.binary_cross_entropy,
           "mse": f.mse_loss}[loss](ref_x, ref_t, reduction=reduction)
    np.testing.assert_allclose(host(ours), ref.detach().numpy(), rtol=1e-12, atol=1e-14)
    w = rng.normal(size=ref.shape)
    (ours * T(w)).sum().backward()
    (ref * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(host(ours_x.grad), ref_x.grad.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(host(ours_t.grad), ref_t.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_bce_with_logits_matches_pytorch_at_extreme_logits(torch):
    a = np.array([1000.0, -1000.0, 1000.0, -1000.0, 30.0, -30.0], np.float32)
    t = np.array([1.0, 0.0, 0.0, 1.0, 0.5, 0.5], np.float32)
    ours_a = T(a, True)
    ref_a = torch.tensor(a, requires_grad=True)
    ours = ops.binary_cross_entropy_with_logits(ours_a, t, reduction="sum")
    ref = torch.nn.functional.binary_cross_entropy_with_logits(ref_a, torch.tensor(t),
                                                               reduction="sum")
    ours.backward()
    ref.backward()
    assert ours.item() == pytest.approx(ref.item(), rel=1e-6)
    np.testing.assert_allclose(host(ours_a.grad), ref_a.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_smoothed_discriminator_loss_matches_pytorch(torch, float64):
    # PyTorch users write one-sided smoothing as BCE-with-logits against a target of 0.9
    rng = np.random.default_rng(5)
    r, f = rng.normal(scale=3.0, size=(6, 1)), rng.normal(scale=3.0, size=(6, 1))
    ours_r, ours_f = T(r, True), T(f, True)
    ref_r, ref_f = torch.tensor(r, requires_grad=True), torch.tensor(f, requires_grad=True)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    ref = bce(ref_r, torch.full_like(ref_r, 0.9)) + bce(ref_f, torch.zeros_like(ref_f))
    ours = gl.discriminator_loss(ours_r, ours_f, real_label=0.9)
    assert ours.item() == pytest.approx(ref.item(), rel=1e-12)
    ours.backward()
    ref.backward()
    np.testing.assert_allclose(host(ours_r.grad), ref_r.grad.numpy(), rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(host(ours_f.grad), ref_f.grad.numpy(), rtol=1e-10, atol=1e-15)


# ---------------------------------------------------------------- BCE on probabilities
def test_bce_on_probabilities_finite_at_zero_and_one():
    p = T([0.0, 1.0, 0.0, 1.0, 0.5], requires_grad=True)
    t = T([0.0, 1.0, 1.0, 0.0, 1.0], requires_grad=True)
    loss = ops.binary_cross_entropy(p, t, reduction="none")
    # each log clamped at −100 (PyTorch's rule)
    np.testing.assert_allclose(host(loss), [0, 0, 100, 100, np.log(2)], rtol=1e-6)
    loss.sum().backward()
    gp, gt = host(p.grad), host(t.grad)
    assert np.isfinite(gp).all() and np.isfinite(gt).all()
    # (p − t) / max(p(1 − p), 1e-12) and the clamped log-ratio log(1−p) − log p
    np.testing.assert_allclose(gp, [0, 0, -1e12, 1e12, -2], rtol=1e-6)
    np.testing.assert_allclose(gt, [100, -100, 100, -100, 0], atol=1e-5)


def test_bce_on_probabilities_matches_pytorch_at_zero_and_one(torch):
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.25], np.float32)
    t = np.array([0.0, 1.0, 1.0, 0.0, 0.5], np.float32)
    ours_p = T(p, True)
    ref_p = torch.tensor(p, requires_grad=True)
    ours = ops.binary_cross_entropy(ours_p, t, reduction="sum")
    ref = torch.nn.functional.binary_cross_entropy(ref_p, torch.tensor(t), reduction="sum")
    ours.backward()
    ref.backward()
    assert ours.item() == pytest.approx(ref.item(), rel=1e-6)
    np.testing.assert_allclose(host(ours_p.grad), ref_p.grad.numpy(), rtol=1e-6)


def test_mse_value():
    p, t = T([1.0, 2.0, 4.0], True), T([0.0, 2.0, 1.0])
    loss = ops.mse_loss(p, t)
    assert loss.item() == pytest.approx((1 + 0 + 9) / 3)
    loss.backward()
    np.testing.assert_allclose(host(p.grad), np.array([2, 0, 6]) / 3, rtol=1e-6)


def test_loss_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: input of shape "
                                         r"\(4, 1\) and target of shape \(4,\)"):
        ops.binary_cross_entropy_with_logits(T(np.zeros((4, 1))), T(np.zeros(4)))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: input of shape \(2,\)"):
        ops.binary_cross_entropy(T(np.full(2, 0.5)), T(np.zeros(3)))


# ---------------------------------------------------------------- GAN objectives (MATH.md §1)
AR = np.array([2.0, -0.5, 0.3, 4.0])     # a(x) on data
AF = np.array([-3.0, 0.7, -0.1, 1.5])    # a(G(z)) on samples


def _grads(loss, *xs):
    loss.backward()
    return [host(x.grad) for x in xs]


def test_discriminator_loss_closed_form(float64):
    r, f = T(AR, True), T(AF, True)
    loss = gl.discriminator_loss(r, f)
    d_real, d_fake = sigmoid64(AR), sigmoid64(AF)
    expected = -(np.mean(np.log(d_real)) + np.mean(np.log(1 - d_fake)))
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    gr, gf = _grads(loss, r, f)
    m = len(AR)
    np.testing.assert_allclose(gr, -(1 - d_real) / m, rtol=1e-12)   # −∂ log σ(a)/∂a / m
    np.testing.assert_allclose(gf, d_fake / m, rtol=1e-12)          # −∂ log(1−σ(a))/∂a / m


@pytest.mark.parametrize("t", [0.9, 0.7])
def test_one_sided_label_smoothing_closed_form(float64, t):
    # −E[t log D(x) + (1 − t) log(1 − D(x))] − E log(1 − D(G(z)))  (Salimans et al. 2016, §3.4)
    r, f = T(AR, True), T(AF, True)
    loss = gl.discriminator_loss(r, f, real_label=t)
    d_real, d_fake = sigmoid64(AR), sigmoid64(AF)
    expected = -(np.mean(t * np.log(d_real) + (1 - t) * np.log(1 - d_real))
                 + np.mean(np.log(1 - d_fake)))
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    gr, gf = _grads(loss, r, f)
    m = len(AR)
    np.testing.assert_allclose(gr, (d_real - t) / m, rtol=1e-12)   # σ(a) − t per logit
    np.testing.assert_allclose(gf, d_fake / m, rtol=1e-12)         # the fake side unchanged


def test_one_sided_label_smoothing_optimum_is_t_times_d_star(float64):
    # D* = t·p_data / (p_data + p_G): where p_data = p_G (one logit a scored as data and as
    # G(z)) the loss's gradient σ(a) − t + σ(a) vanishes at D = t/2, not at the usual 1/2.
    for t in (1.0, 0.9, 0.7):
        a = T(np.array([np.log(t / 2) - np.log1p(-t / 2)]), True)
        (g,) = _grads(gl.discriminator_loss(a, a, real_label=t), a)
        assert abs(g[0]) < 1e-12


def test_value_function_at_the_optimum_is_minus_log_4(float64):
    # D = 1/2 everywhere (a = 0) gives C* = −log 4 (MATH.md §1)
    v = gl.value_function(T(np.zeros(5)), T(np.zeros(7)))
    assert v.item() == pytest.approx(-np.log(4.0), rel=1e-14)
    r, f = T(AR), T(AF)
    assert gl.value_function(r, f).item() == pytest.approx(
        np.mean(np.log(sigmoid64(AR))) + np.mean(np.log(1 - sigmoid64(AF))), rel=1e-12)


def test_generator_losses_closed_form_and_saturation(float64):
    f = T(AF, True)
    d = sigmoid64(AF)
    m = len(AF)
    ns = gl.generator_loss(f)
    assert ns.item() == pytest.approx(-np.mean(np.log(d)), rel=1e-12)
    (g_ns,) = _grads(ns, f)
    np.testing.assert_allclose(g_ns, -(1 - d) / m, rtol=1e-12)
    f.grad = None
    sat = gl.generator_loss(f, saturating=True)
    assert sat.item() == pytest.approx(np.mean(np.log(1 - d)), rel=1e-12)
    (g_sat,) = _grads(sat, f)
    np.testing.assert_allclose(g_sat, -d / m, rtol=1e-12)
    # When D confidently rejects the samples (a = −10), the saturating gradient vanishes
    # (≈ σ(−10)/m) while the non-saturating one stays ≈ 1/m (paper §3).
    rej = T(np.full(4, -10.0), True)
    (g1,) = _grads(gl.generator_loss(rej, saturating=True), rej)
    rej.grad = None
    (g2,) = _grads(gl.generator_loss(rej), rej)
    np.testing.assert_allclose(g1, -sigmoid64(-10.0) / 4 * np.ones(4), rtol=1e-10)
    np.testing.assert_allclose(g2, -(1 - sigmoid64(-10.0)) / 4 * np.ones(4), rtol=1e-10)
    assert np.abs(g1).max() < 1e-4 * np.abs(g2).min()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gan_losses_finite_for_extreme_logits(dtype):
    r = T([1000.0, -1000.0], True, dtype=dtype)
    f = T([-1000.0, 1000.0], True, dtype=dtype)
    for loss, expected in ((gl.discriminator_loss(r, f), (0 + 1000) / 2 + (0 + 1000) / 2),
                           (gl.generator_loss(f), 500.0),
                           (gl.generator_loss(f, saturating=True), -500.0)):
        assert loss.dtype == np.dtype(dtype)
        assert loss.item() == pytest.approx(expected, rel=1e-6)
        r.grad = f.grad = None
        loss.backward()
        for x in (r, f):
            if x.grad is not None:
                assert np.isfinite(host(x.grad)).all() and x.grad.dtype == np.dtype(dtype)


def test_wasserstein_losses_closed_form(float64):
    r, f = T(AR, True), T(AF, True)
    c = gl.critic_loss(r, f)
    assert c.item() == pytest.approx(AF.mean() - AR.mean(), rel=1e-12)
    gr, gf = _grads(c, r, f)
    np.testing.assert_allclose(gr, -np.ones(4) / 4)
    np.testing.assert_allclose(gf, np.ones(4) / 4)
    g = gl.wasserstein_generator_loss(T(AF))
    assert g.item() == pytest.approx(-AF.mean(), rel=1e-12)


# ---------------------------------------------------------------- gradient penalty (MATH.md §5)
def test_gradient_penalty_of_a_linear_critic_is_norm_minus_one_squared(float64):
    # f(x) = <w, x> has ∇f = w at every x̂, so the penalty is (‖w‖ − 1)² exactly.
    rng = np.random.default_rng(4)
    w = T(rng.normal(size=(2, 3, 3)), True)
    real, fake = T(rng.normal(size=(5, 2, 3, 3))), T(rng.normal(size=(5, 2, 3, 3)))
    gp = gl.gradient_penalty(lambda x: ops.sum(x * w, axis=(1, 2, 3)), real, fake)
    norm = np.linalg.norm(host(w))
    assert gp.item() == pytest.approx((norm - 1) ** 2, rel=1e-10)
    gp.backward()
    # ∂(‖w‖ − 1)²/∂w = 2(‖w‖ − 1) w / ‖w‖
    np.testing.assert_allclose(host(w.grad), 2 * (norm - 1) * host(w) / norm, rtol=1e-8)


def test_gradient_penalty_float32_and_errors():
    w = T(np.full((1, 4), 0.25, np.float32), True)
    real, fake = T(np.ones((3, 4), np.float32)), T(np.zeros((3, 4), np.float32))
    gp = gl.gradient_penalty(lambda x: x @ w.T, real, fake)
    assert gp.dtype == np.float32
    assert gp.item() == pytest.approx(0.25, rel=1e-5)  # ‖w‖ = 0.5
    gp.backward()
    assert w.grad.dtype == np.float32
    with pytest.raises(ValueError, match=r"interpolates: real batch \(3, 4\) and fake batch "
                                         r"\(2, 4\)"):
        gl.gradient_penalty(lambda x: x @ w.T, real, T(np.zeros((2, 4), np.float32)))


def test_gradient_penalty_matches_pytorch_double_backprop(torch, float64):
    from tinygan import nn
    tg.manual_seed(5)
    critic = nn.Sequential(nn.Linear(4, 6), nn.LeakyReLU(0.2), nn.Linear(6, 6), nn.Tanh(),
                           nn.Linear(6, 1))
    ref = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.LeakyReLU(0.2),
                              torch.nn.Linear(6, 6), torch.nn.Tanh(),
                              torch.nn.Linear(6, 1)).double()
    ours_params = list(critic.parameters())
    ref_params = list(ref.parameters())
    with torch.no_grad():
        for p, q in zip(ours_params, ref_params):
            q.copy_(torch.tensor(host(p)))
    x_hat = np.random.default_rng(6).normal(size=(5, 4))
    gp = gl.gradient_penalty(critic, None, None, x_hat=T(x_hat, True))
    gp.backward()
    tx = torch.tensor(x_hat, requires_grad=True)
    (g,) = torch.autograd.grad(ref(tx).sum(), tx, create_graph=True)
    ref_gp = ((torch.sqrt((g * g).sum(dim=1) + 1e-12) - 1.0) ** 2).mean()
    ref_gp.backward()
    assert gp.item() == pytest.approx(ref_gp.item(), rel=1e-12)
    for p, q in zip(ours_params, ref_params):
        if q.grad is None:  # the last bias does not change ∇_x f
            assert p.grad is None
            continue
        np.testing.assert_allclose(host(p.grad), q.grad.numpy(), rtol=1e-9, atol=1e-12)
    assert sum(p.grad is not None for p in ours_params) == len(ours_params) - 1
