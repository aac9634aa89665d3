"""Forward values of the ops against NumPy, gradients of a few ops against PyTorch,
and the errors bad input gets — on NumPy and on the CuPy stand-in."""
import numpy as np
import pytest

import tinygan as tg
from tinygan import backend as B
from tinygan import ops

pytestmark = pytest.mark.usefixtures("backend")

RNG = np.random.default_rng(0)
A = RNG.normal(size=(2, 3, 4)).astype(np.float32)
P = RNG.uniform(0.2, 2.0, size=(2, 3, 4)).astype(np.float32)


def T(a, requires_grad=False):
    return tg.Tensor(np.asarray(a), requires_grad=requires_grad)


def close(x, expected, **kw):
    kw.setdefault("rtol", 1e-6)
    kw.setdefault("atol", 1e-6)
    np.testing.assert_allclose(B.to_numpy(x.data), expected, **kw)


# ---------------------------------------------------------------- forward values
@pytest.mark.parametrize("name,fn,ref", [
    ("add", lambda x, y: x + y, lambda x, y: x + y),
    ("sub", lambda x, y: x - y, lambda x, y: x - y),
    ("mul", lambda x, y: x * y, lambda x, y: x * y),
    ("div", lambda x, y: x / y, lambda x, y: x / y),
    ("maximum", ops.maximum, np.maximum),
    ("minimum", ops.minimum, np.minimum),
    ("pow_t", lambda x, y: y ** x, lambda x, y: y ** x),
])
def test_binary_forward_with_broadcasting(name, fn, ref):
    b = P[0, :, :1]  # (3, 1) against (2, 3, 4)
    close(fn(T(A), T(b)), ref(A, b), rtol=1e-5)
    close(fn(T(b), T(P)), ref(b, P), rtol=1e-5)


@pytest.mark.parametrize("name,fn,ref,src", [
    ("exp", ops.exp, np.exp, A), ("log", ops.log, np.log, P), ("sqrt", ops.sqrt, np.sqrt, P),
    ("abs", ops.abs, np.abs, A), ("neg", ops.neg, np.negative, A),
    ("pow3", lambda x: x ** 3, lambda x: x ** 3, A), ("pow-0.5", lambda x: x ** -0.5,
                                                      lambda x: x ** -0.5, P),
    ("clip", lambda x: ops.clip(x, -0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5), A),
    ("clip_lo", lambda x: ops.clip(x, lo=0.0), lambda x: np.maximum(x, 0), A),
    ("relu", ops.relu, lambda x: np.maximum(x, 0), A),
    ("leaky", lambda x: ops.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x), A),
    ("tanh", ops.tanh, np.tanh, A), ("sigmoid", ops.sigmoid, lambda x: 1 / (1 + np.exp(-x)), A),
    ("softplus", ops.softplus, lambda x: np.log1p(np.exp(x)), A),
    ("log_sigmoid", ops.log_sigmoid, lambda x: -np.log1p(np.exp(-x)), A),
])
def test_unary_forward(name, fn, ref, src):
    close(fn(T(src)), ref(src.astype(np.float64)), rtol=2e-6)


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_forward(axis, keepdims):
    x = T(A)
    for name in ("sum", "mean", "max", "min"):
        close(getattr(ops, name)(x, axis=axis, keepdims=keepdims),
              getattr(np, name)(A, axis=axis, keepdims=keepdims), rtol=1e-5)
    for ddof in (0, 1):
        close(ops.var(x, axis=axis, keepdims=keepdims, ddof=ddof),
              np.var(A.astype(np.float64), axis=axis, keepdims=keepdims, ddof=ddof), rtol=1e-5)


def test_shape_ops_forward():
    x = T(A)
    close(x.reshape(4, -1), A.reshape(4, -1))
    close(ops.transpose(x, (2, 0, 1)), A.transpose(2, 0, 1))
    close(x.T, A.T)
    close(ops.flatten(x), A.reshape(2, -1))
    close(ops.flatten(x, 0), A.reshape(-1))
    close(ops.squeeze(T(A[:, :1]), 1), A[:, 0])
    close(ops.unsqueeze(x, 1), A[:, None])
    close(ops.concatenate([x, x * 2.0], axis=1), np.concatenate([A, A * 2], axis=1))
    close(ops.stack([x, x * 2.0], axis=-1), np.stack([A, A * 2], axis=-1))
    close(ops.broadcast_to(T(A[:, :1]), (2, 3, 4)), np.broadcast_to(A[:, :1], (2, 3, 4)))
    close(ops.sum_to(x, (3, 1)), A.sum(axis=(0, 2))[:, None], rtol=1e-5)
    close(x[1, ::2, [0, 0, 3]], A[1, ::2, [0, 0, 3]])
    mask = A > 0
    close(x[T(mask)], A[mask])
    close(ops.where(T(mask), x, -x), np.where(mask, A, -A))


def test_matmul_forward():
    a, b = RNG.normal(size=(2, 1, 3, 4)), RNG.normal(size=(5, 4, 2))
    close(ops.matmul(T(a), T(b)), np.matmul(a, b).astype(np.float32), rtol=1e-5)
    close(T(a[0, 0]) @ T(b[0]), a[0, 0] @ b[0], rtol=1e-5)


@pytest.mark.parametrize("shape_a, shape_b", [((256, 512), (512, 512)), ((64, 1024), (1024, 700))])
def test_matmul_split_across_threads_is_deterministic(shape_a, shape_b):
    """A product large enough to split (ops.linalg.THREAD_MIN_MACS) on two host threads:
    rows split for the first shape, columns for the second; the same bits on every
    repeat and within float32 rounding of the one-thread product (observed max
    relative difference 0 here; bound 1e-6)."""
    from tinygan.ops import linalg
    a = RNG.normal(size=shape_a).astype(np.float32)
    b = RNG.normal(size=shape_b).astype(np.float32)
    with B.num_threads(1):
        one = linalg.matmul_array(B.to_device(a), B.to_device(b))
    with B.num_threads(2):
        two = linalg.matmul_array(B.to_device(a), B.to_device(b))
        again = linalg.matmul_array(B.to_device(a), B.to_device(b))
    one, two, again = (B.to_numpy(v) for v in (one, two, again))
    assert np.array_equal(two, again)
    assert np.max(np.abs(one - two)) <= 1e-6 * np.max(np.abs(one))


def test_matmul_arrays_runs_two_products_whole_on_two_threads():
    """A Linear layer's two gradient products (ops.linalg.matmul_arrays) on two host
    threads: each product runs whole on one thread, so the bits are the one-thread
    products' exactly, and the same on every repeat."""
    from tinygan.ops import linalg
    g = B.to_device(RNG.normal(size=(256, 512)).astype(np.float32))
    w = B.to_device(RNG.normal(size=(512, 384)).astype(np.float32))
    x = B.to_device(RNG.normal(size=(256, 384)).astype(np.float32))
    pairs = [(g, w), (g.T, x)]
    with B.num_threads(1):
        one = [B.to_numpy(r) for r in linalg.matmul_arrays(pairs)]
    with B.num_threads(2):
        two = [B.to_numpy(r) for r in linalg.matmul_arrays(pairs)]
        again = [B.to_numpy(r) for r in linalg.matmul_arrays(pairs)]
    for a, b, c in zip(one, two, again):
        assert np.array_equal(a, b) and np.array_equal(b, c)
    np.testing.assert_allclose(one[0], B.to_numpy(g) @ B.to_numpy(w), rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("slope", [0.0, 1e-7, 0.01, 0.2, 1 / 3, 0.3, 0.49999997, 0.5, 0.7,
                                   0.9999999, 1.0])
def test_leaky_relu_gradient_is_g_or_slope_times_g_exactly(dtype, slope):
    """The derivative mask is built as ([x > 0]·(1 − s)) + s (ops/activation.py); its
    values must be exactly 1 and s in x's dtype, so the gradient is g or s·g to the bit,
    as PyTorch's leaky_relu_backward computes it (NaN inputs take the slope too)."""
    x = RNG.normal(size=(64, 33)).astype(dtype)
    x[0, :3] = [0.0, -0.0, np.nan]
    g = RNG.normal(size=x.shape).astype(dtype)
    t = tg.Tensor(B.to_device(x), requires_grad=True, dtype=dtype)
    ops.leaky_relu(t, slope).backward(tg.Tensor(B.to_device(g), dtype=dtype))
    s = np.dtype(dtype).type(slope)
    np.testing.assert_array_equal(B.to_numpy(t.grad.data), np.where(x > 0, g, g * s))


def test_where_does_not_leak_nan_from_the_unselected_side():
    # (as in PyTorch, the gradient of the unselected side is 0·(∂ log x) — NaN at x = 0 —
    # so x = 0 is left out; the forward value must be clean everywhere)
    x = T(np.array([-1.0, 4.0], np.float32), requires_grad=True)
    with np.errstate(all="ignore"):
        y = ops.where(x > 0, ops.log(x), 0.0)
    close(y, [0.0, np.log(4.0)])
    y.sum().backward()
    close(x.grad, [0.0, 0.25])


def test_pow_zero_has_zero_gradient_at_zero():
    x = T(np.array([0.0, 2.0], np.float32), requires_grad=True)
    (x ** 0).sum().backward()
    close(x.grad, [0.0, 0.0])


def test_clip_gradient_passes_at_the_bounds_like_pytorch():
    x = T(np.array([-1.0, -0.5, 0.0, 0.5, 1.0], np.float32), requires_grad=True)
    ops.clip(x, -0.5, 0.5).sum().backward()
    close(x.grad, [0, 1, 1, 1, 0])


def test_maximum_splits_gradient_at_ties():
    a = T(np.array([1.0, 2.0], np.float32), requires_grad=True)
    b = T(np.array([1.0, 3.0], np.float32), requires_grad=True)
    ops.maximum(a, b).sum().backward()
    close(a.grad, [0.5, 0.0])
    close(b.grad, [0.5, 1.0])


# ---------------------------------------------------------------- PyTorch comparisons
def _torch_pair(torch, *arrays):
    return [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]


@pytest.mark.parametrize("name", ["matmul_bcast", "var_ddof1", "getitem_adv", "maxmin",
                                  "activations", "where_clip", "concat_stack"])
def test_ops_match_pytorch(torch, float64, name):
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(2, 1, 3, 4)), rng.normal(size=(5, 4, 3))
    ta, tb = _torch_pair(torch, a, b)
    xa, xb = tg.Tensor(a, requires_grad=True), tg.Tensor(b, requires_grad=True)
    if name == "matmul_bcast":
        ours, ref = xa @ xb, ta @ tb
    elif name == "var_ddof1":
        ours = ops.var(xa, axis=(0, 3), keepdims=True, ddof=1) + ops.var(xb, ddof=0)
        ref = ta.var(dim=(0, 3), keepdim=True, unbiased=True) + tb.var(unbiased=False)
    elif name == "getitem_adv":
        idx = np.array([2, 0, 2, 2])
        ours = xb[[1, 1, 4], :, 0] * 2.0 + ops.sum(xb[:, tg.Tensor(idx), 1:])
        ref = tb[[1, 1, 4], :, 0] * 2.0 + tb[:, torch.tensor(idx), 1:].sum()
    elif name == "maxmin":
        ours = ops.max(xb, axis=(0, 2)) + ops.min(xb, axis=1, keepdims=True).mean()
        ref = tb.amax(dim=(0, 2)) + tb.amin(dim=1, keepdim=True).mean()
    elif name == "activations":
        ours = (ops.relu(xb) + ops.leaky_relu(xb, 0.2) * ops.tanh(xb) + ops.sigmoid(xb)
                + ops.softplus(xb * 3.0) - ops.log_sigmoid(xb))
        f = torch.nn.functional
        ref = (f.relu(tb) + f.leaky_relu(tb, 0.2) * torch.tanh(tb) + torch.sigmoid(tb)
               + f.softplus(tb * 3.0) - f.logsigmoid(tb))
    elif name == "where_clip":
        ours = ops.where(xb > 0, ops.clip(xb, -0.3, 0.8), ops.abs(xb) ** 1.5) / (1.0 + xb * xb)
        ref = torch.where(tb > 0, tb.clamp(-0.3, 0.8), tb.abs() ** 1.5) / (1.0 + tb * tb)
    else:
        ours = ops.concatenate([ops.stack([xb, -xb], axis=1), xb[:, None] * 2.0], axis=1)
        ref = torch.cat([torch.stack([tb, -tb], dim=1), tb[:, None] * 2.0], dim=1)
    np.testing.assert_allclose(ours.numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    w = rng.normal(size=ref.shape)
    (ours * tg.Tensor(w)).sum().backward()
    (ref * torch.tensor(w)).sum().backward()
    for x, tx in ((xa, ta), (xb, tb)):
        if tx.grad is None:
            assert x.grad is None
        else:
            np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("name,fn", [
    ("add", lambda a, b: a + b), ("sub", lambda a, b: a - b), ("mul", lambda a, b: a * b),
    ("div", lambda a, b: a / b), ("maximum", ops.maximum), ("add", lambda a, b: ops.add(a, b)),
])
def test_broadcast_incompatible_shapes_name_op_and_shapes(name, fn):
    with pytest.raises(ValueError, match=rf"{name}: shapes \(3, 4\) and \(2, 3\)"):
        fn(T(np.ones((3, 4), np.float32)), T(np.ones((2, 3), np.float32)))


def test_where_incompatible_shapes():
    with pytest.raises(ValueError, match=r"where: shapes \(3,\) and \(4,\)"):
        ops.where(T(np.ones(3, bool)), T(np.ones(3, np.float32)), T(np.ones(4, np.float32)))
    with pytest.raises(ValueError, match=r"where \(condition\): shapes \(2,\) and \(3,\)"):
        ops.where(T(np.ones(2, bool)), T(np.ones(3, np.float32)), 0.0)


@pytest.mark.parametrize("sa,sb,pattern", [
    ((2, 3), (4, 5), r"matmul: shapes \(2, 3\) and \(4, 5\) do not align"),
    ((3,), (4, 2), r"matmul: shapes \(3,\) and \(4, 2\) do not align \(3 != 4\)"),
    ((), (3,), r"matmul: operands must have at least one dim"),
    ((2, 3, 4), (3, 4, 5), r"matmul: batch dims of shapes \(2, 3, 4\) and \(3, 4, 5\)"),
])
def test_matmul_mismatch(sa, sb, pattern):
    with pytest.raises(ValueError, match=pattern):
        T(np.ones(sa, np.float32)) @ T(np.ones(sb, np.float32))


@pytest.mark.parametrize("shape", [(5, 5), (-1, 7), (-1, -1), (0, -1)])
def test_reshape_incompatible(shape):
    with pytest.raises(ValueError, match=r"reshape: cannot reshape a tensor of shape \(2, 3, 4\)"):
        T(A).reshape(shape)


def test_reshape_hands_the_gradient_back_in_the_inputs_layout():
    """Flattening a channels-last array (a conv output before a Linear head): the gradient
    comes back with the input's strides and the same values; under create_graph it is a
    differentiable reshape (first and second order by finite differences)."""
    from tinygan.testing.gradcheck import gradcheck, gradgradcheck
    base = RNG.normal(size=(2, 4, 5, 3))
    w = RNG.normal(size=(2, 60))
    leaf = T(base.astype(np.float32), requires_grad=True)
    x = leaf.permute(0, 3, 1, 2)  # (N, C, H, W) in channels-last memory
    x.retain_grad()
    (x.reshape(2, -1) * T(w.astype(np.float32))).sum().backward()
    expected = w.reshape(2, 3, 4, 5)
    close(x.grad, expected)
    close(leaf.grad, expected.transpose(0, 2, 3, 1))
    assert x.grad.data.strides == x.data.strides
    w64 = tg.Tensor(w, dtype=np.float64)
    f = lambda t: (t.permute(0, 3, 1, 2).reshape(2, -1) ** 2 * w64).sum()  # noqa: E731
    assert gradcheck(f, [tg.Tensor(base, requires_grad=True, dtype=np.float64)])
    assert gradgradcheck(f, [tg.Tensor(base, requires_grad=True, dtype=np.float64)])


def test_other_bad_inputs():
    x = T(A)
    with pytest.raises(ValueError, match=r"sum: axis 3 is out of range.*3 dims"):
        x.sum(axis=3)
    with pytest.raises(ValueError, match=r"var: 1 value.*ddof=1"):
        ops.var(T(np.ones((2, 1), np.float32)), axis=1, ddof=1)
    with pytest.raises(ValueError, match=r"transpose: axes"):
        ops.transpose(x, (0, 0, 1))
    with pytest.raises(ValueError, match=r"squeeze: axis 1 of shape \(2, 3, 4\) has size 3"):
        ops.squeeze(x, 1)
    with pytest.raises(ValueError, match=r"concatenate: tensor 1 has shape \(2, 2, 4\)"):
        ops.concatenate([x, T(np.ones((2, 2, 4), np.float32))], axis=2)
    with pytest.raises(ValueError, match=r"stack: tensor 1 has shape \(3,\), tensor 0 has \(2,\)"):
        ops.stack([T(np.ones(2)), T(np.ones(3))])
    with pytest.raises(ValueError, match=r"clip: lo=1 is larger than hi=0"):
        ops.clip(x, 1, 0)
    with pytest.raises(ValueError, match="clip: give lo, hi or both"):
        ops.clip(x)
    with pytest.raises(ValueError, match=r"mse_loss: input of shape \(2, 3, 4\) and target of "
                                         r"shape \(3,\)"):
        ops.mse_loss(x, T(np.ones(3, np.float32)))
    with pytest.raises(ValueError, match=r"reduction must be"):
        ops.mse_loss(x, x, reduction="avg")

    with pytest.raises(ValueError, match=r"broadcast_to: cannot broadcast a tensor of shape "
                                         r"\(2, 3, 4\) to \(3, 4\)"):
        ops.broadcast_to(x, (3, 4))
    with pytest.raises(ValueError, match=r"broadcast_to: .*\(2, 3, 4\) to \(2, 5, 4\)"):
        ops.broadcast_to(x, (2, 5, 4))
    with pytest.raises(ValueError, match=r"sum_to: shape \(1, 2, 3, 4\) does not broadcast"):
        ops.sum_to(x, (1, 2, 3, 4))
    with pytest.raises(ValueError, match=r"sum_to: shape \(2,\) does not broadcast.*\(2, 3, 4\)"):
        ops.sum_to(x, (2,))
