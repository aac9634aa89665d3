"""``nn.Linear``: finite-difference checks (first and second order) through the layer itself,
forward and gradients against PyTorch, and the distribution of the default initialisation."""
import math

import numpy as np
import pytest

import tinygan
from tinygan import backend as B
from tinygan import nn
from tinygan.autograd import Tensor
from tinygan.testing import gradcheck, gradgradcheck


def _x(shape, seed=0, dtype=None):
    a = np.random.default_rng(seed).standard_normal(shape)
    return Tensor(B.to_device(a), requires_grad=True, dtype=dtype)


# ---------------------------------------------------------------- gradient checks
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (1, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_gradcheck_input_weight_bias(backend, float64, shape, bias):
    layer = nn.Linear(4, 3, bias=bias)
    params = [layer.weight] + ([layer.bias] if bias else [])
    x = _x(shape)
    # gradcheck perturbs the Parameters in place, so the layer sees every perturbation
    assert gradcheck(lambda x, *ps: layer(x), [x] + params)
    # second order through a non-linearity (Linear alone has zero second derivatives)
    assert gradgradcheck(lambda x, *ps: layer(x).tanh(), [x] + params)


# ---------------------------------------------------------------- PyTorch
@pytest.mark.parametrize("dtype,rtol,atol", [("float64", 1e-12, 1e-13), ("float32", 1e-5, 1e-6)])
@pytest.mark.parametrize("shape", [(6, 5), (2, 3, 5)])
def test_matches_pytorch(torch, dtype, rtol, atol, shape):
    with B.default_dtype_as(dtype):
        layer = nn.Linear(5, 4)
    ref = torch.nn.Linear(5, 4).to(getattr(torch, dtype))
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(layer.weight.numpy()))
        ref.bias.copy_(torch.from_numpy(layer.bias.numpy()))
    x_np = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    g_np = np.random.default_rng(2).standard_normal(shape[:-1] + (4,)).astype(dtype)
    x = Tensor(x_np, requires_grad=True, dtype=dtype)
    tx = torch.from_numpy(x_np).requires_grad_(True)
    y, ty = layer(x), ref(tx)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=rtol, atol=atol)
    assert y.dtype == dtype
    y.backward(Tensor(g_np, dtype=dtype))
    ty.backward(torch.from_numpy(g_np))
    for ours, theirs in ((x, tx), (layer.weight, ref.weight), (layer.bias, ref.bias)):
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=rtol, atol=atol)


# ---------------------------------------------------------------- initialisation
# PyTorch's default: weight kaiming_uniform(a=√5) = U(−1/√fan_in, 1/√fan_in), bias the same.
# For U(−b, b): E w = 0, E w² = b²/3, E w⁴ = b⁴/5.  Each statistic of n samples is allowed
# c/√n (c = 3 for the mean, 4.5 for E w² and the Kolmogorov-Smirnov distance, 7 for E w⁴:
# about 5 standard deviations each).  Linear(16, 20000): 320,000 weights, 20,000 biases.
# Observed (seeds 0/1/2, OpenBLAS Haswell and Sandybridge alike), as a fraction of the allowance:
#   weights  mean 0.02/0.01/0.21  E w² 0.26/0.16/0.18  E w⁴ 0.17/0.19/0.06  KS 0.19/0.13/0.23
#   biases   mean 0.04/0.18/0.02  E w² 0.16/0.00/0.02  E w⁴ 0.13/0.05/0.06  KS 0.13/0.19/0.12
#   torch's  weights <= 0.40 of the allowance, biases <= 0.32 — so >= 2.5x margin everywhere.
# The largest |value| is within [0.999 b, b] (observed >= 0.99999 b for 320,000 weights; for
# 20,000 biases P(max < 0.999 b) = 0.999^20000 ≈ 2e-9).  A wrong bound (Kaiming's √(6/fan_in)
# = 2.45 b, or 1/fan_in) fails the range check outright.
FAN_IN, FAN_OUT = 16, 20000


def _check_uniform(values, bound):
    w = np.asarray(values, dtype=np.float64).ravel()
    n = w.size
    assert np.abs(w).max() <= bound * (1 + 1e-6)  # float32 rounding of the bound
    assert np.abs(w).max() >= 0.999 * bound
    assert abs(w.mean()) / bound < 3.0 / math.sqrt(n)
    assert abs(w.var() / (bound ** 2 / 3) - 1) < 4.5 / math.sqrt(n)
    assert abs((w ** 4).mean() / (bound ** 4 / 5) - 1) < 7.0 / math.sqrt(n)
    u = np.sort(w)
    cdf = (u + bound) / (2 * bound)
    ks = max((np.arange(1, n + 1) / n - cdf).max(), (cdf - np.arange(n) / n).max())
    assert ks < 4.5 / math.sqrt(n)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_default_init_is_pytorchs_uniform(seed):
    tinygan.manual_seed(seed)
    layer = nn.Linear(FAN_IN, FAN_OUT)
    bound = 1 / math.sqrt(FAN_IN)
    _check_uniform(layer.weight.numpy(), bound)
    _check_uniform(layer.bias.numpy(), bound)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pytorchs_default_init_passes_the_same_checks(torch, seed):
    # the same statistics on torch.nn.Linear: the reference distribution is the one above
    torch.manual_seed(seed)
    ref = torch.nn.Linear(FAN_IN, FAN_OUT)
    bound = 1 / math.sqrt(FAN_IN)
    _check_uniform(ref.weight.detach().numpy(), bound)
    _check_uniform(ref.bias.detach().numpy(), bound)
    tinygan.manual_seed(seed)
    ours = nn.Linear(FAN_IN, FAN_OUT)
    assert ours.weight.shape == tuple(ref.weight.shape) and ours.weight.dtype == np.float32
