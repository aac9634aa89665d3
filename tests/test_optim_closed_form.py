"""Optimisers and batch-norm running statistics against closed forms, without PyTorch.

Each optimiser runs on the quadratic L(θ) = Σ ½ c θ² + d θ, whose gradient
g = c θ + d is known exactly, and is compared in float64 (to 1e-12) with

* a couple of steps worked out by hand on one scalar (the numbers are in the
  comments), and
* an independent NumPy transcription of the update as the textbooks write it
  (for Adam: bias-corrected m̂ = m / (1 − β1ᵗ), v̂ = v / (1 − β2ᵗ), the form of
  Kingma & Ba's Algorithm 1), written here and not shared with ``tinygan.optim``.

Batch norm: the running mean / unbiased running variance after known batches,
the momentum=None cumulative average, and the train/eval outputs, all from
``numpy.mean`` / ``numpy.var`` on the same numbers (MATH.md's batch-norm equations).
"""
import numpy as np
import pytest

from tinygan import nn, optim
from tinygan.autograd import Tensor
from tinygan.nn import Parameter

pytestmark = pytest.mark.usefixtures("float64")

C = np.array([0.5, 2.0, -0.3, 1.2])     # curvature per element (one negative: not convex)
D = np.array([0.1, -0.4, 0.25, 0.0])    # linear term
THETA0 = np.array([1.0, -0.5, 2.0, 0.3])
STEPS = 6


def _grad(theta):
    return C * theta + D


def _run(name, kw, steps=STEPS, theta0=THETA0, c=C, d=D):
    """θ after each of ``steps`` tinygan updates on L = Σ ½ c θ² + d θ."""
    p = Parameter(np.array(theta0, dtype="float64"))
    opt = getattr(optim, name)([p], **kw)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * Tensor(c) * p * p + Tensor(d) * p).sum().backward()
        opt.step()
        out.append(p.numpy().copy())
    assert p.dtype == np.float64
    return np.array(out)


# ---------------------------------------------------------------- by hand, one scalar
def test_sgd_by_hand():
    # L = θ²  (c = 2, d = 0), θ0 = 1, lr 0.1: g = 2θ.
    # plain: θ1 = 1 − 0.1·2 = 0.8, θ2 = 0.8 − 0.16 = 0.64
    plain = _run("SGD", dict(lr=0.1), 2, [1.0], np.array([2.0]), np.array([0.0]))
    np.testing.assert_allclose(plain[:, 0], [0.8, 0.64], rtol=1e-15)
    # momentum 0.9: b1 = g1 = 2, θ1 = 0.8; g2 = 1.6, b2 = 0.9·2 + 1.6 = 3.4, θ2 = 0.8 − 0.34
    mom = _run("SGD", dict(lr=0.1, momentum=0.9), 2, [1.0], np.array([2.0]), np.array([0.0]))
    np.testing.assert_allclose(mom[:, 0], [0.8, 0.46], rtol=1e-15)
    # dampening 0.5: b1 = g1 = 2 (no dampening on the first step), θ1 = 0.8;
    # b2 = 0.9·2 + 0.5·1.6 = 2.6, θ2 = 0.8 − 0.26 = 0.54
    damp = _run("SGD", dict(lr=0.1, momentum=0.9, dampening=0.5), 2, [1.0], np.array([2.0]),
                np.array([0.0]))
    np.testing.assert_allclose(damp[:, 0], [0.8, 0.54], rtol=1e-15)
    # Nesterov: b1 = 2, step g1 + 0.9 b1 = 3.8, θ1 = 0.62; g2 = 1.24, b2 = 1.8 + 1.24 = 3.04,
    # step 1.24 + 2.736 = 3.976, θ2 = 0.62 − 0.3976 = 0.2224
    nest = _run("SGD", dict(lr=0.1, momentum=0.9, nesterov=True), 2, [1.0], np.array([2.0]),
                np.array([0.0]))
    np.testing.assert_allclose(nest[:, 0], [0.62, 0.2224], rtol=1e-14)
    # weight decay 0.5 adds 0.5θ: g1 = 2.5, θ1 = 0.75; g2 = 1.875, θ2 = 0.5625
    wd = _run("SGD", dict(lr=0.1, weight_decay=0.5), 2, [1.0], np.array([2.0]), np.array([0.0]))
    np.testing.assert_allclose(wd[:, 0], [0.75, 0.5625], rtol=1e-15)


def test_adam_first_step_is_lr_times_sign():
    # Step 1: m = (1 − β1) g, v = (1 − β2) g², so m̂ = g, v̂ = g² and
    # θ1 = θ0 − lr · g / (|g| + ε): a step of exactly lr (ε = 0) against the gradient's sign,
    # whatever β1, β2 — the bias correction at work.
    for betas in [(0.9, 0.999), (0.5, 0.999), (0.0, 0.9)]:
        out = _run("Adam", dict(lr=0.01, betas=betas, eps=0.0), 1)
        np.testing.assert_allclose(out[0], THETA0 - 0.01 * np.sign(_grad(THETA0)), rtol=1e-14)


def test_adam_two_steps_by_hand():
    # L = ½θ² (g = θ), θ0 = 1, lr 0.1, β = (0.5, 0.75), ε = 0.
    # t=1: g = 1, m = 0.5, v = 0.25, m̂ = 1, v̂ = 1, θ1 = 0.9.
    # t=2: g = 0.9, m = 0.25 + 0.45 = 0.7, v = 0.1875 + 0.2025 = 0.39,
    #      m̂ = 0.7/0.75, v̂ = 0.39/0.4375, θ2 = 0.9 − 0.1·(0.7/0.75)/sqrt(0.39/0.4375)
    out = _run("Adam", dict(lr=0.1, betas=(0.5, 0.75), eps=0.0), 2, [1.0], np.array([1.0]),
               np.array([0.0]))
    expected2 = 0.9 - 0.1 * (0.7 / 0.75) / np.sqrt(0.39 / 0.4375)
    np.testing.assert_allclose(out[:, 0], [0.9, expected2], rtol=1e-14)


def test_rmsprop_two_steps_by_hand():
    # L = ½θ² (g = θ), θ0 = 1, lr 0.1, α = 0.5, ε = 0.
    # t=1: s = 0.5, θ1 = 1 − 0.1/sqrt(0.5) = 1 − 0.1·√2
    # t=2: g = θ1, s = 0.25 + 0.5 θ1², θ2 = θ1 − 0.1 θ1 / sqrt(s)
    out = _run("RMSprop", dict(lr=0.1, alpha=0.5, eps=0.0), 2, [1.0], np.array([1.0]),
               np.array([0.0]))
    t1 = 1 - 0.1 * np.sqrt(2.0)
    t2 = t1 - 0.1 * t1 / np.sqrt(0.25 + 0.5 * t1 * t1)
    np.testing.assert_allclose(out[:, 0], [t1, t2], rtol=1e-14)
    # centered: ḡ1 = 0.5, s − ḡ² = 0.5 − 0.25 = 0.25, θ1 = 1 − 0.1·1/0.5 = 0.8
    cen = _run("RMSprop", dict(lr=0.1, alpha=0.5, eps=0.0, centered=True), 1, [1.0],
               np.array([1.0]), np.array([0.0]))
    np.testing.assert_allclose(cen[:, 0], [0.8], rtol=1e-15)


# ---------------------------------------------------------------- independent NumPy formulas
def _sgd_reference(lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    theta, buf, out = THETA0.copy(), None, []
    for t in range(1, STEPS + 1):
        g = _grad(theta) + weight_decay * theta
        if momentum:
            buf = g if t == 1 else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        theta = theta - lr * g
        out.append(theta)
    return np.array(out)


def _adam_reference(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
    b1, b2 = betas
    theta, m, v, vmax, out = THETA0.copy(), 0.0, 0.0, 0.0, []
    for t in range(1, STEPS + 1):
        g = _grad(theta) + weight_decay * theta
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        m_hat = m / (1 - b1 ** t)
        v_hat = (vmax if amsgrad else v) / (1 - b2 ** t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(theta)
    return np.array(out)


def _rmsprop_reference(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                       centered=False):
    theta, s, gbar, buf, out = THETA0.copy(), 0.0, 0.0, 0.0, []
    for _ in range(STEPS):
        g = _grad(theta) + weight_decay * theta
        s = alpha * s + (1 - alpha) * g * g
        gbar = alpha * gbar + (1 - alpha) * g
        denom = np.sqrt(s - gbar * gbar if centered else s) + eps
        if momentum:
            buf = momentum * buf + g / denom
            theta = theta - lr * buf
        else:
            theta = theta - lr * g / denom
        out.append(theta)
    return np.array(out)


CASES = [
    ("SGD", _sgd_reference, dict(lr=0.1)),
    ("SGD", _sgd_reference, dict(lr=0.05, momentum=0.9)),
    ("SGD", _sgd_reference, dict(lr=0.05, momentum=0.8, dampening=0.3)),
    ("SGD", _sgd_reference, dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", _sgd_reference, dict(lr=0.1, weight_decay=0.2)),
    ("SGD", _sgd_reference, dict(lr=0.05, momentum=0.7, nesterov=True, weight_decay=0.1)),
    ("Adam", _adam_reference, dict(lr=0.1)),
    ("Adam", _adam_reference, dict(lr=0.05, betas=(0.5, 0.999))),
    ("Adam", _adam_reference, dict(lr=0.05, betas=(0.0, 0.9), eps=1e-3)),
    ("Adam", _adam_reference, dict(lr=0.05, weight_decay=0.3)),
    ("Adam", _adam_reference, dict(lr=0.2, betas=(0.8, 0.9), amsgrad=True)),
    ("RMSprop", _rmsprop_reference, dict(lr=0.01)),
    ("RMSprop", _rmsprop_reference, dict(lr=0.05, alpha=0.9)),
    ("RMSprop", _rmsprop_reference, dict(lr=0.01, momentum=0.9)),
    ("RMSprop", _rmsprop_reference, dict(lr=0.01, centered=True)),
    ("RMSprop", _rmsprop_reference, dict(lr=0.02, alpha=0.8, momentum=0.5, centered=True,
                                         weight_decay=0.1, eps=1e-4)),
]


@pytest.mark.parametrize("name,reference,kw", CASES,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)])
def test_matches_independent_formula(name, reference, kw):
    ours = _run(name, kw)
    expected = reference(**kw)
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-14)
    # the trajectory really moved (a no-op optimiser must not pass)
    assert np.abs(expected[-1] - THETA0).min() > 1e-3


def test_amsgrad_differs_from_adam_only_once_v_decreases():
    # amsgrad uses max(v) — identical to Adam while v grows, different once it shrinks.
    plain, ams = _run("Adam", dict(lr=0.2, betas=(0.8, 0.9))), \
        _run("Adam", dict(lr=0.2, betas=(0.8, 0.9), amsgrad=True))
    assert np.abs(plain[-1] - ams[-1]).max() > 1e-3


# ---------------------------------------------------------------- batch-norm running stats
X1 = np.array([[1.0, -2.0], [2.0, 0.0], [3.0, 4.0], [6.0, 1.0]])   # (N=4, C=2)
X2 = np.array([[0.5, 1.0], [-1.5, 3.0], [2.5, -1.0]])              # (N=3, C=2)


def test_batchnorm1d_running_stats_by_hand():
    bn = nn.BatchNorm1d(2, momentum=0.1)
    bn(Tensor(X1))
    # channel 0: mean 3, Σ(x − 3)² = 4 + 1 + 0 + 9 = 14, unbiased 14/3;
    # running_mean = 0.9·0 + 0.1·3 = 0.3, running_var = 0.9·1 + 0.1·14/3
    np.testing.assert_allclose(bn.running_mean.numpy()[0], 0.3, rtol=1e-15)
    np.testing.assert_allclose(bn.running_var.numpy()[0], 0.9 + 1.4 / 3, rtol=1e-15)
    assert bn.num_batches_tracked.item() == 1


@pytest.mark.parametrize("momentum", [0.1, 0.7, None])
def test_batchnorm1d_running_stats_and_outputs(momentum):
    bn = nn.BatchNorm1d(2, momentum=momentum, eps=1e-5)
    bn.weight.data[...] = [1.5, 0.5]
    bn.bias.data[...] = [0.2, -1.0]
    rm, rv = np.zeros(2), np.ones(2)
    for n, x in enumerate([X1, X2, X1 * 0.5 + 1.0], start=1):
        y = bn(Tensor(x)).numpy()
        mu, var = x.mean(axis=0), x.var(axis=0)
        # training output uses the biased batch variance
        np.testing.assert_allclose(y, (x - mu) / np.sqrt(var + 1e-5) * [1.5, 0.5] + [0.2, -1.0],
                                   rtol=1e-12, atol=1e-14)
        f = 1.0 / n if momentum is None else momentum
        rm = (1 - f) * rm + f * mu
        rv = (1 - f) * rv + f * x.var(axis=0, ddof=1)  # the running estimate is unbiased
        np.testing.assert_allclose(bn.running_mean.numpy(), rm, rtol=1e-13)
        np.testing.assert_allclose(bn.running_var.numpy(), rv, rtol=1e-13)
    if momentum is None:  # cumulative average = the plain mean of the three batches' stats
        np.testing.assert_allclose(rm, np.mean([X1.mean(0), X2.mean(0), (X1 * 0.5 + 1).mean(0)],
                                               axis=0), rtol=1e-13)
    assert bn.num_batches_tracked.item() == 3
    bn.eval()
    x = np.array([[0.0, 1.0], [4.0, -2.0]])
    y = bn(Tensor(x)).numpy()
    np.testing.assert_allclose(y, (x - rm) / np.sqrt(rv + 1e-5) * [1.5, 0.5] + [0.2, -1.0],
                               rtol=1e-12, atol=1e-14)
    # evaluation neither updates the estimates nor counts the batch
    np.testing.assert_allclose(bn.running_mean.numpy(), rm, rtol=1e-13)
    assert bn.num_batches_tracked.item() == 3


def test_batchnorm2d_statistics_over_n_h_w():
    rng = np.random.default_rng(0)
    x = rng.normal(1.0, 2.0, size=(3, 2, 4, 5))
    bn = nn.BatchNorm2d(2, momentum=0.25, eps=1e-3)
    y = bn(Tensor(x)).numpy()
    mu = x.mean(axis=(0, 2, 3))
    var_b, var_u = x.var(axis=(0, 2, 3)), x.var(axis=(0, 2, 3), ddof=1)  # m = 3·4·5 = 60
    np.testing.assert_allclose(var_u, var_b * 60 / 59, rtol=1e-14)
    np.testing.assert_allclose(y, (x - mu[:, None, None]) / np.sqrt(var_b[:, None, None] + 1e-3),
                               rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.25 * mu, rtol=1e-13)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.75 + 0.25 * var_u, rtol=1e-13)
    bn.eval()
    x2 = rng.normal(size=(2, 2, 3, 3))
    rm, rv = 0.25 * mu, 0.75 + 0.25 * var_u
    np.testing.assert_allclose(bn(Tensor(x2)).numpy(),
                               (x2 - rm[:, None, None]) / np.sqrt(rv[:, None, None] + 1e-3),
                               rtol=1e-12, atol=1e-13)


def test_batchnorm_without_running_stats_uses_the_batch_in_eval():
    bn = nn.BatchNorm1d(2, track_running_stats=False, affine=False).eval()
    y = bn(Tensor(X1)).numpy()
    np.testing.assert_allclose(y, (X1 - X1.mean(0)) / np.sqrt(X1.var(0) + 1e-5), rtol=1e-12)
    assert bn.running_mean is None
