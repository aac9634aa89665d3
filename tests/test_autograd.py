"""Autograd behaviour: graph traversal, accumulation, no_grad, grad(), retain_graph,
detach, conversions — on NumPy and on the CuPy stand-in."""
import numpy as np
import pytest

import tinygan as tg
from tinygan import backend as B
from tinygan import ops
from tinygan.autograd import Function, Tensor

pytestmark = pytest.mark.usefixtures("backend")


def t(values, requires_grad=True):
    return tg.Tensor(np.asarray(values, dtype=np.float32), requires_grad=requires_grad)


def host(x):
    return B.to_numpy(x.data if isinstance(x, Tensor) else x)


# ---------------------------------------------------------------- basic backward
def test_backward_of_simple_expression():
    x, y = t([1.0, 2.0, 3.0]), t([4.0, 5.0, 6.0])
    z = (x * y + x / y - y ** 2).sum()
    z.backward()
    np.testing.assert_allclose(host(x.grad), host(y) + 1 / host(y), rtol=1e-6)
    np.testing.assert_allclose(host(y.grad), host(x) - host(x) / host(y) ** 2 - 2 * host(y),
                               rtol=1e-6)
    assert x.grad.shape == x.shape and not x.grad.requires_grad


def test_broadcast_gradient_is_summed_to_the_input_shape():
    a = t(np.ones((3, 1, 4)))
    b = t(np.arange(2.0).reshape(2, 1))
    (a * b).sum().backward()
    assert a.grad.shape == (3, 1, 4) and b.grad.shape == (2, 1)
    np.testing.assert_allclose(host(a.grad), np.full((3, 1, 4), 1.0))  # Σ b = 0 + 1
    np.testing.assert_allclose(host(b.grad), np.full((2, 1), 12.0))  # Σ a over 3·4


def test_backward_through_a_10000_op_chain_has_no_recursion_error():
    x = t([0.5])
    y = x
    for _ in range(10_000):
        y = y * 1.0001 + 0.0  # 20,000 nodes deep
    y.sum().backward()
    np.testing.assert_allclose(host(x.grad), [1.0001 ** 10_000], rtol=1e-3)


def test_gradient_accumulates_when_a_tensor_is_used_several_times():
    x = t([2.0, -3.0])
    y = x * x + x * 3.0 + ops.exp(x) + x  # d/dx = 2x + 3 + eˣ + 1
    y.sum().backward()
    np.testing.assert_allclose(host(x.grad), 2 * host(x) + 4 + np.exp(host(x)), rtol=1e-6)


def test_diamond_graph_visits_shared_node_once():
    x = t([1.5])
    h = x * 2.0
    y = h * h + h  # d/dx = (2h + 1) · 2
    y.sum().backward()
    np.testing.assert_allclose(host(x.grad), [(2 * 3.0 + 1) * 2])


def test_gradient_accumulates_across_backward_calls():
    x = t([1.0, 2.0])
    (x * 3.0).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(host(x.grad), 3.0 + 2 * host(x))
    x.grad = None
    (x * 5.0).sum().backward()
    np.testing.assert_allclose(host(x.grad), [5.0, 5.0])


def test_backward_with_explicit_gradient():
    x = t([[1.0, 2.0], [3.0, 4.0]])
    y = x * x
    y.backward(t([[1.0, 0.0], [0.5, 2.0]], requires_grad=False))
    np.testing.assert_allclose(host(x.grad), [[2.0, 0.0], [3.0, 16.0]])


def test_backward_on_non_scalar_without_gradient_raises_clear_error():
    y = t([1.0, 2.0]) * 2.0
    with pytest.raises(RuntimeError, match=r"non-scalar.*\(2,\)"):
        y.backward()


def test_backward_with_wrong_gradient_shape_raises():
    y = t([1.0, 2.0]) * 2.0
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        y.backward(t([1.0, 1.0, 1.0], requires_grad=False))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (t([1.0]) * 2.0).detach().backward()


def test_second_backward_through_freed_graph_raises():
    x = t([1.0, 2.0])
    y = (ops.exp(x) * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = t([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(host(x.grad), 4 * host(x))


def test_only_leaves_get_grad_unless_retained():
    x = t([1.0, 2.0])
    h = x * 2.0
    k = x * 3.0
    k.retain_grad()
    (h * k).sum().backward()
    assert h.grad is None and not h.is_leaf
    np.testing.assert_allclose(host(k.grad), host(h))
    np.testing.assert_allclose(host(x.grad), 12 * host(x))


def test_leaf_without_requires_grad_gets_no_grad():
    x, c = t([1.0, 2.0]), t([3.0, 4.0], requires_grad=False)
    (x * c).sum().backward()
    assert c.grad is None
    np.testing.assert_allclose(host(x.grad), host(c))


# ---------------------------------------------------------------- no_grad / detach
def test_no_grad_records_no_graph():
    x = t([1.0, 2.0])
    with tg.no_grad():
        y = (x * 2.0 + 1.0).exp().sum()
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_no_grad_as_decorator_and_restores_on_exception():
    @tg.no_grad()
    def f(x):
        return x * 2.0
    assert not f(t([1.0])).requires_grad
    with pytest.raises(ZeroDivisionError):
        with tg.no_grad():
            1 / 0
    assert tg.is_grad_enabled()
    with tg.no_grad():
        with tg.enable_grad():
            assert (t([1.0]) * 2.0).requires_grad


def test_no_grad_decorator_is_reentrant():
    @tg.no_grad()
    def depth(n):
        assert not tg.is_grad_enabled()
        return 0 if n == 0 else 1 + depth(n - 1)

    assert depth(3) == 3
    assert tg.is_grad_enabled()
    with tg.enable_grad():
        with tg.set_grad_enabled(False):
            assert not tg.is_grad_enabled()
        assert tg.is_grad_enabled()


def test_detach_cuts_the_graph_and_shares_data():
    x = t([1.0, 2.0])
    d = (x * 2.0).detach()
    assert not d.requires_grad and d.is_leaf
    y = (d * x).sum()
    y.backward()
    np.testing.assert_allclose(host(x.grad), host(d))  # no path through d


def test_item_numpy_and_tolist():
    x = t([[1.5, -2.0]])
    assert isinstance(x.numpy(), np.ndarray)
    np.testing.assert_array_equal(x.numpy(), [[1.5, -2.0]])
    assert x.numpy().dtype == np.float32
    s = x.sum()
    assert isinstance(s.item(), float) and s.item() == -0.5
    assert x.tolist() == [[1.5, -2.0]]
    with pytest.raises(ValueError, match=r"one element.*\(1, 2\)"):
        x.item()


def test_comparison_ops_give_no_grad():
    x = t([1.0, 2.0, 3.0])
    for r in (x > 1.5, x >= 2.0, x < 2.0, x <= 2.0, x == 2.0, x != 2.0, x > t([0.0, 5.0, 1.0])):
        assert not r.requires_grad and r.is_leaf
        assert r.dtype == bool
    np.testing.assert_array_equal(host(x > 1.5), [False, True, True])
    np.testing.assert_array_equal(host(2.0 < x), [False, False, True])


@pytest.mark.parametrize("data", [2 ** 31 + 1, [1, 2], np.array([3], dtype=np.int32),
                                  np.array([True, False]), np.array(7, dtype=np.uint8)])
def test_integer_data_cannot_require_grad(data):
    # PyTorch refuses too; casting would silently round 2**31 + 1 to 2147483648.0 in float32.
    dtype = np.asarray(data).dtype
    with pytest.raises(TypeError, match=rf"^only Tensors of floating point dtype can require "
                                        rf"gradients, got dtype {dtype} "):
        tg.tensor(data, requires_grad=True)
    # without requires_grad the data keeps its integer dtype and value exactly
    kept = tg.tensor(data)
    assert kept.dtype == dtype and kept.tolist() == np.asarray(data).tolist()
    # float data with requires_grad is fine, and an explicit float dtype is honoured
    x = tg.tensor(data, requires_grad=True, dtype="float64")
    assert x.dtype == np.float64 and x.requires_grad
    assert x.numpy().tolist() == np.asarray(data, dtype=np.float64).tolist()


def test_requires_grad_only_for_float():
    with pytest.raises(TypeError, match="floating"):
        tg.Tensor(np.array([1, 2]), requires_grad=False).requires_grad_()
    i = tg.Tensor(np.array([1, 2]))
    assert i.dtype.kind == "i"  # integer data keeps its dtype (labels, indices)


# ---------------------------------------------------------------- grad()
def test_grad_returns_without_touching_dot_grad():
    x = t([1.0, 2.0])
    y = (x ** 3).sum()
    (g,) = tg.grad(y, [x])
    np.testing.assert_allclose(host(g), 3 * host(x) ** 2)
    assert x.grad is None and not g.requires_grad


def test_grad_with_create_graph_gives_second_derivative():
    x = t([1.0, 2.0])
    y = (x ** 3).sum()
    (g,) = tg.grad(y, x, create_graph=True)
    assert g.requires_grad
    (gg,) = tg.grad(g.sum(), [x])
    np.testing.assert_allclose(host(gg), 6 * host(x))
    # and backward of a gradient-norm penalty (WGAN-GP pattern) reaches the weights
    w = t([[0.5, -1.0], [2.0, 0.3]])
    xx = t([[1.0, 2.0]])
    out = ops.tanh(xx @ w).sum()
    (gx,) = tg.grad(out, xx, create_graph=True)
    pen = ((gx * gx).sum() - 1.0) ** 2
    pen.backward()
    # closed form: a = x W, s = 1 − tanh²(a), gx = W s, S = Σ gx², pen = (S − 1)²;
    # ∂S/∂W_kl = 2 gx_k s_l − 4 (gxᵀ W)_l tanh(a_l) s_l x_k
    W, x = np.array([[0.5, -1.0], [2.0, 0.3]]), np.array([1.0, 2.0])
    a = x @ W
    th, sd = np.tanh(a), 1 - np.tanh(a) ** 2
    gxn = W @ sd
    dS = 2 * np.outer(gxn, sd) - 4 * np.outer(x, (gxn @ W) * th * sd)
    np.testing.assert_allclose(host(w.grad), 2 * (gxn @ gxn - 1) * dS, rtol=1e-5, atol=1e-6)
    assert np.abs(host(w.grad)).sum() > 0


def test_backward_create_graph_makes_grad_differentiable():
    x = t([0.5, -1.0])
    (ops.sigmoid(x).sum()).backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    x.grad = None
    g.sum().backward()
    s = 1 / (1 + np.exp(-host(x)))
    np.testing.assert_allclose(host(x.grad), s * (1 - s) * (1 - 2 * s), rtol=1e-5)


def test_grad_of_intermediate_and_unused_inputs():
    x, u = t([1.0, 2.0]), t([3.0])
    h = x * 2.0
    y = (h * h).sum()
    gh, gx = tg.grad(y, [h, x], retain_graph=True)
    np.testing.assert_allclose(host(gh), 2 * host(h))
    np.testing.assert_allclose(host(gx), 8 * host(x))
    with pytest.raises(RuntimeError, match="not reachable"):
        tg.grad(y, [u], retain_graph=True)
    assert tg.grad(y, [x, u], allow_unused=True)[1] is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.grad(y, [t([1.0], requires_grad=False)])


def test_grad_with_several_outputs_and_grad_outputs():
    x = t([1.0, 2.0])
    a, b = x * 2.0, x * x
    (g,) = tg.grad([a, b], x, grad_outputs=[t([1.0, 1.0], False), t([0.5, 0.5], False)])
    np.testing.assert_allclose(host(g), 2.0 + host(x))


def _count_backward_flags(monkeypatch):
    """Record (function name, needs_input_grad) of every backward call."""
    from tinygan.ops.linalg import MatMul
    calls = []
    orig = MatMul.backward

    def spy(self, g):
        calls.append(self.needs_input_grad)
        return orig(self, g)
    monkeypatch.setattr(MatMul, "backward", spy)
    return calls


def test_grad_computes_only_the_gradients_that_lead_to_its_inputs(monkeypatch):
    # grad(f(x), x) of a two-layer net: each product's weight gradient is not asked
    # for, so no backward computes it (PyTorch prunes the same way); the input
    # gradient is what the unpruned pass gives.
    rng = np.random.default_rng(0)
    w1 = tg.Tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    w2 = tg.Tensor(rng.standard_normal((4, 1)).astype(np.float32), requires_grad=True)
    x = tg.Tensor(rng.standard_normal((5, 3)).astype(np.float32), requires_grad=True)
    calls = _count_backward_flags(monkeypatch)
    out = (ops.tanh(x @ w1) @ w2).sum()
    (gx,) = tg.grad(out, x, create_graph=True)
    assert calls == [(True, False), (True, False)]  # (a, b) of both products: b = weights
    h = np.tanh(host(x) @ host(w1))
    np.testing.assert_allclose(host(gx), ((1 - h ** 2) * host(w2).T) @ host(w1).T, rtol=1e-5)
    # the penalty built on it still reaches both weights (second order), and the
    # functions' own flags were restored: the retained graph's full backward fills w1.grad
    calls.clear()
    ((gx * gx).sum() + out).backward()
    assert w1.grad is not None and w2.grad is not None and x.grad is not None
    assert (True, True) in calls


def test_backward_with_inputs_computes_only_their_gradients(monkeypatch):
    rng = np.random.default_rng(1)
    w = tg.Tensor(rng.standard_normal((3, 2)).astype(np.float32), requires_grad=True)
    x = tg.Tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    calls = _count_backward_flags(monkeypatch)
    (x @ w).sum().backward(inputs=[w])
    assert calls == [(False, True)] and x.grad is None
    np.testing.assert_allclose(host(w.grad), host(x).sum(0)[:, None] * np.ones((1, 2)),
                               rtol=1e-6)


def test_pruned_penalty_gradient_equals_the_unpruned_one(monkeypatch):
    # The WGAN-GP penalty's weight gradient with the pruned first pass against the same
    # computation with every gradient computed (pruning switched off).
    from tinygan import autograd
    from tinygan.gan.losses import gradient_penalty
    from tinygan.gan.models import MLPDiscriminator
    B.manual_seed(3)
    D = MLPDiscriminator(2, (8, 8), "relu")
    x = tg.Tensor(np.random.default_rng(2).standard_normal((6, 2)).astype(np.float32))
    f = tg.Tensor(np.random.default_rng(3).standard_normal((6, 2)).astype(np.float32))
    x_hat = tg.Tensor(host(x) * 0.3 + host(f) * 0.7, requires_grad=True)

    def weight_grads():
        for p in D.parameters():
            p.grad = None
        gradient_penalty(D, x, f, x_hat=x_hat).backward()
        return [host(p.grad).copy() for p in D.parameters()]
    pruned = weight_grads()
    monkeypatch.setattr(autograd, "_leading_to", lambda order, wanted: None)
    for a, b in zip(pruned, weight_grads()):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- custom Function
def test_custom_function_backward_shape_mismatch_is_reported():
    class Bad(Function):
        def forward(self, x):
            return x * 2

        def backward(self, g):
            return g.sum()

    x = t([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"Bad.backward.*shape \(\).*\(2,\)"):
        Bad.apply(x).sum().backward()


# ---------------------------------------------------------------- dtypes
FLOAT32_OPS = {
    "mul_scalar": lambda x: x * 2.0, "rmul_scalar": lambda x: 2.0 * x,
    "rsub_scalar": lambda x: 1.0 - x, "sub_scalar": lambda x: x - 1.0,
    "radd": lambda x: 1.0 + x, "div_scalar": lambda x: x / 3.0, "rdiv_scalar": lambda x: 3.0 / x,
    "pow2": lambda x: x ** 2, "pow_half": lambda x: x ** 0.5,
    "pow_np64": lambda x: x ** np.float64(3),
    "np64_mul": lambda x: x * np.float64(2.0), "np64_rmul": lambda x: np.float64(2.0) * x,
    "add_int": lambda x: x + 1, "neg": lambda x: -x,
    "exp": ops.exp, "log": ops.log, "sqrt": ops.sqrt, "abs": ops.abs,
    "clip": lambda x: ops.clip(x, 0.2, 0.9), "maximum": lambda x: ops.maximum(x, 0.5),
    "minimum": lambda x: ops.minimum(0.5, x), "where": lambda x: ops.where(x > 0.5, x, 0.0),
    "matmul": lambda x: x.reshape(2, 3) @ x.reshape(3, 2),
    "sum": lambda x: x.sum(axis=0), "mean": lambda x: x.mean(), "var": lambda x: x.var(ddof=1),
    "max": lambda x: x.max(), "min": lambda x: x.min(dim=0, keepdim=True).values,
    "reshape": lambda x: x.reshape(3, 2), "transpose": lambda x: x.reshape(2, 3).T,
    "getitem": lambda x: x[[0, 0, 1]], "mask": lambda x: x[x > 0.5],
    "concat": lambda x: ops.concatenate([x, x]), "stack": lambda x: ops.stack([x, x], 1),
    "bcast": lambda x: ops.broadcast_to(x, (2, 6)),
    "relu": ops.relu, "leaky": lambda x: ops.leaky_relu(x, 0.2), "tanh": ops.tanh,
    "sigmoid": ops.sigmoid, "softplus": ops.softplus, "log_sigmoid": ops.log_sigmoid,
    "bce_logits": lambda x: ops.binary_cross_entropy_with_logits(x, np.ones(6)),
    "bce": lambda x: ops.binary_cross_entropy(ops.sigmoid(x), np.zeros(6)),
    "mse": lambda x: ops.mse_loss(x, np.zeros(6)),
    "tensor_pow": lambda x: x ** t(np.full(6, 1.5), requires_grad=False),
    "clip_np64": lambda x: ops.clip(x, np.float64(0.2), np.float64(0.9)),
    "maximum_np64": lambda x: ops.maximum(x, np.float64(0.5)),
    "host_array": lambda x: x * np.linspace(1.0, 2.0, 6),  # float64 host array operand
    "where_host_mask": lambda x: ops.where(np.arange(6) % 2 == 0, x, 1.0 - x),
}


@pytest.mark.parametrize("name", list(FLOAT32_OPS))
def test_float32_stays_float32_in_outputs_and_grads(name):
    x = t(np.linspace(0.1, 1.0, 6))
    y = FLOAT32_OPS[name](x)
    assert y.dtype == np.float32, f"{name}: output {y.dtype}"
    y.sum().backward(create_graph=True)
    assert x.grad.dtype == np.float32, f"{name}: grad {x.grad.dtype}"
    g = x.grad
    x.grad = None
    if g.requires_grad:  # second order stays float32 too
        g.sum().backward()
        assert x.grad is None or x.grad.dtype == np.float32


def test_float64_stays_float64():
    x = tg.Tensor(np.linspace(0.1, 1.0, 6), requires_grad=True, dtype="float64")
    y = ops.softplus(x * 2.0 - 1.0).sum()
    y.backward()
    assert y.dtype == np.float64 and x.grad.dtype == np.float64


def test_tensor_data_lives_on_the_active_backend(backend):
    x = t([1.0, 2.0])
    assert B.array_module(x.data) is B.xp()
    (x * 2.0).sum().backward()
    assert B.array_module(x.grad.data) is B.xp()


def test_astype_round_trip_gradient_keeps_the_input_dtype():
    x = t([1.0, 2.0])
    y = x.astype("float64")
    assert y.dtype == np.float64
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(host(x.grad), 2 * host(x))


def test_truth_value_only_for_one_element():
    assert bool(t([2.0]) > 1.0) and not bool(t([[0.0]]) > 1.0)
    with pytest.raises(ValueError, match=r"shape \(2,\) is ambiguous"):
        bool(t([1.0, 2.0]) > 1.0)


def test_leaf_grads_are_owned_writable_arrays():
    # sum's backward is a broadcast (read-only, zero-stride) view and add passes its
    # gradient through unchanged: .grad must still be a separate array per leaf.
    a, b = t([1.0, 2.0]), t([3.0, 4.0])
    seed = t([1.0, 1.0], requires_grad=False)
    (a + b).backward(seed)
    assert a.grad.data is not b.grad.data and a.grad.data is not seed.data
    a.grad.data *= 3.0  # in-place edits (e.g. gradient clipping) touch one leaf only
    np.testing.assert_allclose(host(b.grad), [1.0, 1.0])
    np.testing.assert_allclose(host(seed), [1.0, 1.0])
    x = t(np.ones((2, 3)))
    x.sum().backward()
    x.grad.data += 1.0
    np.testing.assert_allclose(host(x.grad), np.full((2, 3), 2.0))


def test_leaf_gradient_is_an_owned_copy_in_the_leafs_memory_layout():
    """.grad takes the leaf's layout (so an optimiser's in-place update mixes no layouts)
    and owns its memory (the caller's grad= array is not aliased)."""
    xp = B.xp()
    base = xp.arange(24, dtype=np.float32).reshape(2, 3, 2, 2)
    nhwc = Tensor(xp.ascontiguousarray(base.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2),
                  requires_grad=True)
    fort = Tensor(xp.asfortranarray(base[0, 0]), requires_grad=True)
    g4, g2 = xp.ones((2, 3, 2, 2), dtype=np.float32), xp.full((2, 2), 2.0, dtype=np.float32)
    (nhwc * 1.0).backward(g4)
    (fort * 1.0).backward(g2)
    assert nhwc.grad.data.strides == nhwc.data.strides
    assert fort.grad.data.flags.f_contiguous and not fort.grad.data.flags.c_contiguous
    np.testing.assert_array_equal(B.to_numpy(nhwc.grad.data), np.ones((2, 3, 2, 2)))
    np.testing.assert_array_equal(B.to_numpy(fort.grad.data), np.full((2, 2), 2.0))
    leaf = Tensor(xp.zeros(3, dtype=np.float32), requires_grad=True)
    g = xp.ones(3, dtype=np.float32)
    leaf.backward(g)
    leaf.grad.data += 1.0  # writable, and not the caller's array
    np.testing.assert_array_equal(B.to_numpy(g), np.ones(3))
    np.testing.assert_array_equal(B.to_numpy(leaf.grad.data), np.full(3, 2.0))
