"""Finite-difference checks (float64, central differences) of every op's first
derivatives (``gradcheck``) and, for the ops double backprop relies on, of its
second derivatives (``gradgradcheck``) — on NumPy and on the CuPy stand-in.

Inputs of ops with kinks (relu, abs, clip, max, maximum) are drawn away from
the kink, so a step of h = 1e-6 never crosses it.
"""
import numpy as np
import pytest

import tinygan as tg
from tinygan import ops
from tinygan.gan import losses as gl
from tinygan.testing.gradcheck import GradcheckError, gradcheck, gradgradcheck

pytestmark = pytest.mark.usefixtures("backend", "float64")


# ---------------------------------------------------------------- input helpers
def rnd(*shape, lo=-2.0, hi=2.0, seed=0, grad=True):
    """Uniform float64 tensor on the active backend."""
    a = np.random.default_rng(seed).uniform(lo, hi, size=shape)
    return tg.Tensor(a, requires_grad=grad)


def away(*shape, lo=0.2, hi=2.0, seed=0, grad=True):
    """Values with |x| in [lo, hi] and random sign: far from a kink at 0."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(lo, hi, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    return tg.Tensor(a, requires_grad=grad)


def distinct(*shape, seed=0, grad=True):
    """Values on a grid with spacing 0.25 (no ties, for max/min)."""
    n = int(np.prod(shape))
    a = (np.random.default_rng(seed).permutation(n) - n / 2) * 0.25
    return tg.Tensor(a.reshape(shape), requires_grad=grad)


def pos(*shape, seed=0, lo=0.5, hi=2.0, grad=True):
    return rnd(*shape, lo=lo, hi=hi, seed=seed, grad=grad)


# Shape pairs covering every broadcasting case (trailing 1s, missing leading dims, scalars).
BROADCAST_PAIRS = [
    ((2, 3), (2, 3)),
    ((3, 1, 4), (2, 1)),
    ((2, 1), (3, 1, 4)),
    ((4,), (3, 1)),
    ((), (2, 3)),
    ((2, 3), ()),
    ((1, 3), (2, 1)),
]


# ---------------------------------------------------------------- elementwise
@pytest.mark.parametrize("sa,sb", BROADCAST_PAIRS)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "maximum", "minimum"])
def test_binary_ops_broadcast(op, sa, sb):
    a = rnd(*sa, seed=1)
    if op == "div":
        b = away(*sb, lo=0.5, seed=2)
    elif op in ("maximum", "minimum"):
        # a in [-2, 2]; b in [-2, 2] shifted off a's values by a margin >> h.
        a = tg.Tensor(np.random.default_rng(1).choice([-1.5, -0.5, 0.5, 1.5], size=sa)
                      + np.random.default_rng(3).uniform(-0.2, 0.2, size=sa), requires_grad=True)
        b = tg.Tensor(np.random.default_rng(2).choice([-1.0, 0.0, 1.0], size=sb)
                      + np.random.default_rng(4).uniform(-0.2, 0.2, size=sb), requires_grad=True)
    else:
        b = rnd(*sb, seed=2)
    fn = getattr(ops, op)
    assert gradcheck(fn, [a, b])


@pytest.mark.parametrize("expr", [
    lambda x: x + 2.5, lambda x: 2.5 + x, lambda x: x - 2.5, lambda x: 2.5 - x,
    lambda x: x * 3.0, lambda x: 3.0 * x, lambda x: x / 3.0, lambda x: 3.0 / x,
    lambda x: -x, lambda x: ops.maximum(x, 0.1), lambda x: ops.minimum(0.1, x),
], ids=["add_r", "radd", "sub_r", "rsub", "mul_r", "rmul", "div_r", "rdiv", "neg", "max_s",
        "min_s"])
def test_scalar_operands(expr):
    assert gradcheck(expr, [away(2, 3, lo=0.3)])


def test_operators_with_both_sides_tensors_requiring_grad():
    a, b = rnd(2, 3, seed=1), away(3, lo=0.5, seed=2)
    assert gradcheck(lambda a, b: (a * b - a / b + b) * a, [a, b])


@pytest.mark.parametrize("p", [2, 3, 0.5, -1, -1.5, 1, 0, 2.5])
def test_pow_scalar(p):
    assert gradcheck(lambda x: x ** p, [pos(2, 3)])


def test_pow_tensor_exponent():
    assert gradcheck(lambda x, p: x ** p, [pos(2, 3, seed=1), rnd(2, 3, seed=2)])


@pytest.mark.parametrize("name,make", [
    ("exp", lambda: rnd(2, 3)), ("log", lambda: pos(2, 3, lo=0.2)),
    ("sqrt", lambda: pos(2, 3, lo=0.2)), ("abs", lambda: away(2, 3)), ("neg", lambda: rnd(2, 3)),
])
def test_unary(name, make):
    assert gradcheck(getattr(ops, name), [make()])


@pytest.mark.parametrize("lo,hi", [(-0.5, 0.7), (None, 0.3), (-0.3, None)])
def test_clip(lo, hi):
    # values at least 0.05 from both bounds
    x = tg.Tensor(np.array([[-1.5, -0.55, -0.2, 0.0], [0.25, 0.4, 0.75, 1.8]]), requires_grad=True)
    assert gradcheck(lambda x: ops.clip(x, lo, hi), [x])


@pytest.mark.parametrize("sc,sa,sb", [((2, 3), (2, 3), (2, 3)), ((3, 1, 4), (2, 1), (4,)),
                                      ((2, 1), (), (2, 3))])
def test_where(sc, sa, sb):
    cond = tg.Tensor(np.random.default_rng(5).uniform(size=sc) > 0.5)
    assert gradcheck(lambda a, b: ops.where(cond, a, b), [rnd(*sa, seed=1), rnd(*sb, seed=2)])


def test_where_scalar_branch():
    x = away(2, 3)
    assert gradcheck(lambda x: ops.where(x > 0, x * x, 0.5), [x])


# ---------------------------------------------------------------- matmul
@pytest.mark.parametrize("sa,sb", [
    ((3, 4), (4, 5)),            # 2-D
    ((2, 3, 4), (2, 4, 5)),      # batched
    ((2, 1, 3, 4), (5, 4, 2)),   # broadcast batch dims on both sides
    ((3, 4), (2, 4, 5)),         # 2-D @ batched
    ((2, 3, 4), (4, 5)),         # batched @ 2-D
    ((1, 1), (1, 3)),            # degenerate sizes
])
def test_matmul(sa, sb):
    assert gradcheck(ops.matmul, [rnd(*sa, seed=1), rnd(*sb, seed=2)])


@pytest.mark.parametrize("sa,sb", [((6, 4), (4, 3)), ((3, 4), (4, 7))])  # split on M, on N
def test_matmul_split_across_threads(monkeypatch, sa, sb):
    """The product split across two host threads (ops.linalg.matmul_array), forced down
    to these small shapes: gradients and gradients of gradients still check."""
    from tinygan import backend as B
    from tinygan.ops import linalg
    monkeypatch.setattr(linalg, "THREAD_MIN_MACS", 1)
    with B.num_threads(2):
        assert gradcheck(ops.matmul, [rnd(*sa, seed=1), rnd(*sb, seed=2)])
        assert gradgradcheck(lambda a, b: (ops.matmul(a, b) ** 2).sum(),
                             [rnd(*sa, seed=1), rnd(*sb, seed=2)])


# ---------------------------------------------------------------- linear (x Wᵀ + b)
@pytest.mark.parametrize("sx", [(5, 4), (2, 3, 4), (4,)])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("threads", [1, 2])
def test_linear(monkeypatch, sx, bias, threads):
    """ops.linear, one Function: first and second order in x, W and b; with two threads
    and ops.linalg.THREAD_MIN_MACS forced to 1, its backward computes the input and the
    weight gradient at once (ops.linalg.matmul_arrays)."""
    from tinygan import backend as B
    from tinygan.ops import linalg
    monkeypatch.setattr(linalg, "THREAD_MIN_MACS", 1)
    args = [rnd(*sx, seed=1), rnd(3, 4, seed=2)] + ([rnd(3, seed=3)] if bias else [])
    with B.num_threads(threads):
        assert gradcheck(ops.linear, args)
        # second order through a non-linearity (the map alone has no second derivative
        # in x, W or b separately, but the products x·W do)
        assert gradgradcheck(lambda *a: ops.tanh(ops.linear(*a)), args)


def test_linear_one_side_constant():
    """Only the gradients asked for: a constant input (a data batch) gets none, and a
    constant weight only the input's."""
    x, w = rnd(5, 4, seed=1, grad=False), rnd(3, 4, seed=2)
    ops.linear(x, w).sum().backward()
    assert x.grad is None and w.grad is not None
    x, w = rnd(5, 4, seed=1), rnd(3, 4, seed=2, grad=False)
    ops.linear(x, w).sum().backward()
    assert w.grad is None
    np.testing.assert_allclose(x.grad.numpy(), np.tile(w.numpy().sum(axis=0), (5, 1)))


@pytest.mark.parametrize("args,match", [
    (((5, 4), (3, 5)), r"input of shape \(5, 4\) does not end in in_features = 5"),
    (((5, 4), (3, 4, 1)), r"weight must be 2-D"),
    (((5, 4), (3, 4), (4,)), r"bias of shape \(4,\) does not match out_features = 3"),
])
def test_linear_names_the_mismatched_shape(args, match):
    with pytest.raises(ValueError, match=match):
        ops.linear(*[rnd(*shape) for shape in args])


def test_matmul_operator_one_side_constant():
    w = rnd(4, 3, seed=2, grad=False)
    assert gradcheck(lambda x: x @ w, [rnd(2, 4, seed=1)])
    x = rnd(2, 4, seed=1, grad=False)
    assert gradcheck(lambda w: x @ w, [rnd(4, 3, seed=2)])


# ---------------------------------------------------------------- reductions
AXES = [None, 0, -1, (0, 2), (1,)]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("name", ["sum", "mean"])
def test_sum_mean(name, axis, keepdims):
    fn = getattr(ops, name)
    assert gradcheck(lambda x: fn(x, axis=axis, keepdims=keepdims), [rnd(2, 3, 4)])


@pytest.mark.parametrize("ddof", [0, 1])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES)
def test_var(axis, keepdims, ddof):
    assert gradcheck(lambda x: ops.var(x, axis=axis, keepdims=keepdims, ddof=ddof),
                     [rnd(2, 3, 4)])


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min(name, axis, keepdims):
    fn = getattr(ops, name)
    assert gradcheck(lambda x: fn(x, axis=axis, keepdims=keepdims), [distinct(2, 3, 4)])


def test_max_splits_gradient_at_ties():
    # d max / d x is 1/k at each of k tied maxima (subgradient average, as PyTorch).
    x = tg.Tensor(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]), requires_grad=True)
    ops.max(x, axis=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])


# ---------------------------------------------------------------- shape ops
@pytest.mark.parametrize("fn", [
    lambda x: ops.reshape(x, (4, 6)), lambda x: ops.reshape(x, (-1, 2)), lambda x: x.reshape(24),
    lambda x: ops.transpose(x), lambda x: ops.transpose(x, (1, 2, 0)),
    lambda x: ops.transpose(x, (0, -1, 1)), lambda x: ops.swapaxes(x, 0, 2), lambda x: x.T,
    lambda x: ops.flatten(x), lambda x: ops.flatten(x, 0), lambda x: ops.flatten(x, 2),
    lambda x: ops.unsqueeze(x, 0), lambda x: ops.unsqueeze(x, -1), lambda x: ops.unsqueeze(x, 2),
    lambda x: ops.broadcast_to(ops.unsqueeze(x, 1), (2, 5, 3, 4)),
], ids=["reshape", "reshape_-1", "reshape_flat", "T_default", "transpose", "transpose_neg",
        "swapaxes", "T_prop", "flatten", "flatten0", "flatten2", "unsq0", "unsq-1", "unsq2",
        "bcast"])
def test_shape_ops(fn):
    assert gradcheck(fn, [rnd(2, 3, 4)])


@pytest.mark.parametrize("axis", [None, 0, 2, (0, 2)])
def test_squeeze(axis):
    assert gradcheck(lambda x: ops.squeeze(x, axis) * 1.0, [rnd(1, 3, 1, 2)])


@pytest.mark.parametrize("src,dst", [((3, 1), (2, 3, 4)), ((4,), (3, 4)), ((), (2, 2)),
                                     ((1, 4), (3, 4))])
def test_broadcast_to(src, dst):
    assert gradcheck(lambda x: ops.broadcast_to(x, dst), [rnd(*src)])


@pytest.mark.parametrize("src,dst", [((2, 3, 4), (3, 1)), ((2, 3, 4), (4,)), ((3, 4), ()),
                                     ((3, 4), (1, 4)), ((2, 3), (2, 3))])
def test_sum_to(src, dst):
    assert gradcheck(lambda x: ops.sum_to(x, dst), [rnd(*src)])


@pytest.mark.parametrize("index", [
    (1,), (slice(1, None), slice(None, None, 2)), (Ellipsis, 1), (None, 0),
    (slice(None, None, -1),), (0, slice(1, 3), -1), (slice(None), None, slice(0, 1)),
], ids=["int", "slices", "ellipsis", "newaxis", "reverse", "mixed", "mid_newaxis"])
def test_getitem_basic(index):
    assert gradcheck(lambda x: x[index], [rnd(3, 4, 2)])


def test_getitem_integer_array_with_repeats():
    x = rnd(4, 3)
    assert gradcheck(lambda x: x[[0, 0, 2, 3, 0]], [x])
    idx = tg.Tensor(np.array([2, 2, 0, 1]))  # int tensor index stays integer
    assert gradcheck(lambda x: x[:, idx], [x])
    assert gradcheck(lambda x: x[tg.Tensor(np.array([3, 1, 3])), tg.Tensor(np.array([0, 2, 0]))],
                     [x])


def test_getitem_boolean_mask():
    x = rnd(3, 4)
    mask = tg.Tensor(np.random.default_rng(7).uniform(size=(3, 4)) > 0.4)
    assert gradcheck(lambda x: x[mask], [x])
    rows = tg.Tensor(np.array([True, False, True]))
    assert gradcheck(lambda x: x[rows], [x])
    assert gradcheck(lambda x: x[x > 0.0], [away(3, 4)])


def test_getitem_backward_accumulates_repeats():
    x = tg.Tensor(np.arange(4.0), requires_grad=True)
    x[[1, 1, 1, 3]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 3, 0, 1])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate(axis):
    shapes = {0: [(1, 3, 2), (2, 3, 2), (3, 3, 2)], 1: [(2, 1, 2), (2, 2, 2), (2, 3, 2)],
              -1: [(2, 3, 1), (2, 3, 3), (2, 3, 2)]}[axis]
    xs = [rnd(*s, seed=i) for i, s in enumerate(shapes)]
    assert gradcheck(lambda *xs: ops.concatenate(xs, axis=axis), xs)


def test_concatenate_with_constant_part():
    c = rnd(2, 2, grad=False)
    assert gradcheck(lambda a: ops.concatenate([c, a, c], axis=1), [rnd(2, 3)])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_stack(axis):
    xs = [rnd(2, 3, seed=i) for i in range(3)]
    assert gradcheck(lambda *xs: ops.stack(xs, axis=axis), xs)


# ---------------------------------------------------------------- activations
@pytest.mark.parametrize("fn,make", [
    (ops.relu, lambda: away(2, 5)),
    (lambda x: ops.leaky_relu(x, 0.2), lambda: away(2, 5)),
    (ops.leaky_relu, lambda: away(2, 5)),
    (ops.tanh, lambda: rnd(2, 5, lo=-3, hi=3)),
    (ops.sigmoid, lambda: rnd(2, 5, lo=-6, hi=6)),
    (ops.softplus, lambda: rnd(2, 5, lo=-6, hi=6)),
    (ops.log_sigmoid, lambda: rnd(2, 5, lo=-6, hi=6)),
    (ops.softplus, lambda: tg.Tensor(np.array([-30.0, -12.0, 12.0, 30.0]), requires_grad=True)),
], ids=["relu", "leaky0.2", "leaky_default", "tanh", "sigmoid", "softplus", "log_sigmoid",
        "softplus_tails"])
def test_activations(fn, make):
    assert gradcheck(fn, [make()])


# ---------------------------------------------------------------- losses
@pytest.mark.parametrize("sa, sb", [((3,), (3,)), ((4, 3), (3,)), ((3,), (3, 5)),
                                    ((2, 4, 3), (3,)), ((3,), (2, 3, 5))])
def test_matmul_with_vectors_first_and_second_order(sa, sb):
    """A vector operand is a row on the left, a column on the right (torch.matmul): values
    against NumPy's matmul, gradients by finite differences to second order."""
    a, b = rnd(*sa, seed=1), rnd(*sb, seed=2)
    np.testing.assert_allclose(tg.backend.to_numpy((a @ b).data),
                               np.matmul(tg.backend.to_numpy(a.data), tg.backend.to_numpy(b.data)),
                               rtol=1e-12)
    assert gradcheck(lambda a, b: a @ b, [a, b])
    assert gradgradcheck(lambda a, b: ((a @ b) ** 2).sum(), [a, b])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits(reduction):
    a, t = rnd(3, 4, lo=-5, hi=5, seed=1), rnd(3, 4, lo=0, hi=1, seed=2)
    assert gradcheck(lambda a, t: ops.binary_cross_entropy_with_logits(a, t,
                                                                       reduction=reduction),
                     [a, t])


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_bce_with_logits_weight_and_pos_weight_first_and_second_order(reduction):
    """PyTorch's weight= (each element rescaled) and pos_weight= (the positive term's weight),
    both differentiable too, as PyTorch's."""
    a, t = rnd(3, 4, lo=-5, hi=5, seed=1), rnd(3, 4, lo=0, hi=1, seed=2)
    w, pw = pos(4, seed=3), pos(4, seed=4)

    def loss(a, t, w, pw):
        return ops.binary_cross_entropy_with_logits(a, t, w, reduction=reduction, pos_weight=pw)
    assert gradcheck(loss, [a, t, w, pw])
    assert gradgradcheck(loss, [a, t, w, pw])
    p = rnd(3, 4, lo=0.05, hi=0.95, seed=5)
    assert gradcheck(lambda p, t, w: ops.binary_cross_entropy(p, t, w, reduction=reduction),
                     [p, t, w])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_probs(reduction):
    p, t = rnd(3, 4, lo=0.05, hi=0.95, seed=1), rnd(3, 4, lo=0, hi=1, seed=2)
    assert gradcheck(lambda p, t: ops.binary_cross_entropy(p, t, reduction=reduction), [p, t])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse(reduction):
    assert gradcheck(lambda p, t: ops.mse_loss(p, t, reduction), [rnd(3, 4, seed=1),
                                                                rnd(3, 4, seed=2)])


@pytest.mark.parametrize("fn", [
    lambda r, f: gl.discriminator_loss(r, f), lambda r, f: gl.value_function(r, f),
    lambda r, f: gl.discriminator_loss(r, f, real_label=0.9),
    lambda r, f: gl.generator_loss(f), lambda r, f: gl.generator_loss(f, saturating=True),
    lambda r, f: gl.critic_loss(r, f), lambda r, f: gl.wasserstein_generator_loss(f),
], ids=["d_loss", "value", "d_loss_smoothed", "g_nonsat", "g_sat", "critic", "w_gen"])
def test_gan_losses(fn):
    assert gradcheck(fn, [rnd(5, 1, lo=-4, hi=4, seed=1), rnd(5, 1, lo=-4, hi=4, seed=2)])


# ---------------------------------------------------------------- second derivatives
GRADGRAD_CASES = {
    "add": (lambda a, b: a + b, lambda: [rnd(3, 1, 4, seed=1), rnd(2, 1, seed=2)]),
    "sub": (lambda a, b: (a - b) * a, lambda: [rnd(3, 1, 4, seed=1), rnd(2, 1, seed=2)]),
    "mul": (lambda a, b: a * b, lambda: [rnd(3, 1, 4, seed=1), rnd(2, 1, seed=2)]),
    "div": (lambda a, b: a / b, lambda: [rnd(2, 3, seed=1), away(3, lo=0.5, seed=2)]),
    "scalars": (lambda x: (1.0 - x) * 2.0 + 3.0 / x - x / 4.0, lambda: [away(2, 3, lo=0.5)]),
    "neg": (lambda x: -x * x, lambda: [rnd(2, 3)]),
    "pow2": (lambda x: x ** 2, lambda: [rnd(2, 3)]),
    "pow3": (lambda x: x ** 3, lambda: [rnd(2, 3)]),
    "pow0.5": (lambda x: x ** 0.5, lambda: [pos(2, 3)]),
    "pow-1.5": (lambda x: x ** -1.5, lambda: [pos(2, 3)]),
    "sqrt": (ops.sqrt, lambda: [pos(2, 3)]),
    "exp": (ops.exp, lambda: [rnd(2, 3)]),
    "log": (ops.log, lambda: [pos(2, 3)]),
    "abs": (lambda x: ops.abs(x) * x, lambda: [away(2, 3)]),
    "tanh": (ops.tanh, lambda: [rnd(2, 3)]),
    "sigmoid": (ops.sigmoid, lambda: [rnd(2, 3, lo=-4, hi=4)]),
    "softplus": (ops.softplus, lambda: [rnd(2, 3, lo=-4, hi=4)]),
    "log_sigmoid": (ops.log_sigmoid, lambda: [rnd(2, 3, lo=-4, hi=4)]),
    "relu": (lambda x: ops.relu(x) * x, lambda: [away(2, 3)]),
    "leaky_relu": (lambda x: ops.leaky_relu(x, 0.2) ** 2, lambda: [away(2, 3)]),
    "sum": (lambda x: ops.sum(x * x, axis=1, keepdims=True) * x, lambda: [rnd(2, 3)]),
    "mean": (lambda x: ops.mean(x * x, axis=(0, 2)) ** 2, lambda: [rnd(2, 3, 2)]),
    "var": (lambda x: ops.var(x, axis=1, ddof=1), lambda: [rnd(2, 4)]),
    "max": (lambda x: ops.max(ops.exp(x), axis=1), lambda: [distinct(2, 4)]),
    "maximum": (lambda a, b: ops.maximum(a * a, b), lambda: [away(2, 3, lo=1.2, seed=1),
                                                             rnd(2, 3, lo=-1, hi=1, seed=2)]),
    # a² in [1.44, 4] and b near 0.5 or 5.0: both branches taken, each at least 0.7 from a tie
    "minimum": (lambda a, b: ops.minimum(a * a, b) * b, lambda: [
        away(2, 3, lo=1.2, seed=1),
        tg.Tensor(np.random.default_rng(2).choice([0.5, 5.0], size=(2, 3))
                  + np.random.default_rng(4).uniform(-0.2, 0.2, size=(2, 3)), requires_grad=True)]),
    "min": (lambda x: ops.min(ops.exp(x), axis=1) ** 2, lambda: [distinct(2, 4)]),
    "min_all_keepdims": (lambda x: ops.min(x ** 3, axis=None, keepdims=True) * x,
                         lambda: [distinct(2, 3)]),
    "squeeze": (lambda x: ops.squeeze(x * x, (0, 2)) * ops.squeeze(x, None),
                lambda: [rnd(1, 3, 1, 2)]),
    "unsqueeze": (lambda x: ops.unsqueeze(x * x, 1) * ops.unsqueeze(x, -1), lambda: [rnd(2, 3)]),
    "swapaxes": (lambda x: ops.swapaxes(x * x, 0, 2) * x.T, lambda: [rnd(2, 3, 4)]),
    "pow_tensor": (lambda x, p: x ** p, lambda: [pos(2, 3, seed=1), rnd(2, 3, seed=2)]),
    "clip": (lambda x: ops.clip(x * x, 0.5, 2.0), lambda: [tg.Tensor(
        np.array([0.3, 0.9, 1.1, 1.7]), requires_grad=True)]),
    "where": (lambda a, b: ops.where(a > 0, a * b, b * b), lambda: [away(2, 3, seed=1),
                                                                  rnd(3, seed=2)]),
    "reshape": (lambda x: ops.reshape(x * x, (3, 2)), lambda: [rnd(2, 3)]),
    "flatten": (lambda x: ops.flatten(x) ** 2, lambda: [rnd(2, 3, 2)]),
    "transpose": (lambda x: ops.transpose(x) * x.T, lambda: [rnd(2, 3)]),
    "getitem": (lambda x: x[[0, 0, 1]] ** 2, lambda: [rnd(2, 3)]),
    "concat": (lambda a, b: ops.concatenate([a * b, b], 0) ** 2, lambda: [rnd(2, 3, seed=1),
                                                                          rnd(2, 3, seed=2)]),
    "stack": (lambda a, b: ops.stack([a, a * b], 1) ** 2, lambda: [rnd(2, 3, seed=1),
                                                                  rnd(2, 3, seed=2)]),
    "bcast_sum_to": (lambda x: ops.sum_to(ops.broadcast_to(x, (2, 3)) ** 2, (3,)),
                     lambda: [rnd(3)]),
    "matmul": (ops.matmul, lambda: [rnd(2, 3, seed=1), rnd(3, 2, seed=2)]),
    "matmul_batched": (lambda a, b: ops.tanh(a @ b), lambda: [rnd(2, 2, 3, seed=1),
                                                              rnd(3, 2, seed=2)]),
    "bce_logits": (lambda a, t: ops.binary_cross_entropy_with_logits(a, t),
                   lambda: [rnd(2, 3, lo=-4, hi=4, seed=1), rnd(2, 3, lo=0, hi=1, seed=2)]),
    "bce": (lambda p: ops.binary_cross_entropy(p, tg.Tensor(np.array([0.0, 1.0, 0.3]))),
            lambda: [rnd(3, lo=0.1, hi=0.9)]),
    "mse": (ops.mse_loss, lambda: [rnd(2, 3, seed=1), rnd(2, 3, seed=2)]),
    "d_loss": (gl.discriminator_loss, lambda: [rnd(4, lo=-4, hi=4, seed=1),
                                               rnd(4, lo=-4, hi=4, seed=2)]),
    "d_loss_smoothed": (lambda r, f: gl.discriminator_loss(r, f, real_label=0.8),
                        lambda: [rnd(4, lo=-4, hi=4, seed=1), rnd(4, lo=-4, hi=4, seed=2)]),
    "g_loss": (lambda f: gl.generator_loss(f) + gl.generator_loss(f, saturating=True),
               lambda: [rnd(4, lo=-4, hi=4)]),
    "wgan": (lambda r, f: gl.critic_loss(r, f) * gl.wasserstein_generator_loss(f),
             lambda: [rnd(4, seed=1), rnd(4, seed=2)]),
}


# The PyTorch-named compositions (ops/shape.py split, chunk, pad; reduce.py logsumexp;
# elementwise.py lerp, masked_fill, rsqrt; methods.py normalize, amax; linalg.py mm, bmm):
# first and second order by finite differences.
_MASK = np.array([[True, False, False], [False, True, False]])
TORCH_NAMED_CASES = {
    "split": (lambda x: ops.split(x, [1, 2], dim=1)[1] * ops.split(x, 2, dim=1)[0][:, :1],
              lambda: [rnd(2, 3)]),
    "chunk": (lambda x: ops.chunk(x, 2, dim=1)[0] ** 2, lambda: [rnd(2, 3)]),
    "pad": (lambda x: ops.pad(x, (1, -1, 2, 0), value=0.5) ** 2, lambda: [rnd(2, 3)]),
    "logsumexp": (lambda x: ops.logsumexp(x * x, dim=1), lambda: [rnd(2, 3)]),
    "lerp": (lambda a, b: ops.lerp(a, b * b, 0.3) * a, lambda: [rnd(2, 3, seed=1),
                                                              rnd(2, 3, seed=2)]),
    "lerp_tensor_weight": (lambda a, w: ops.lerp(a * a, a, w), lambda: [rnd(2, 3, seed=1),
                                                                       rnd(2, 3, seed=2)]),
    "masked_fill": (lambda x: ops.masked_fill(x * x, _MASK, 2.0) * x, lambda: [rnd(2, 3)]),
    "rsqrt": (ops.rsqrt, lambda: [rnd(2, 3, lo=0.5, hi=2.0)]),
    "normalize": (lambda x: ops.normalize(x, dim=1), lambda: [rnd(2, 3)]),
    "amax": (lambda x: x.amax(dim=(0, 1)) * x.amin(dim=1).sum(), lambda: [rnd(2, 3, 4)]),
    "mm": (lambda a, b: ops.mm(a * a, b), lambda: [rnd(2, 3, seed=1), rnd(3, 2, seed=2)]),
    "bmm": (lambda a, b: ops.bmm(a, b * b), lambda: [rnd(2, 2, 3, seed=1),
                                                     rnd(2, 3, 2, seed=2)]),
}


TORCH_NAMED_CASES.update({
    "layer_norm": (lambda x, w, b: ops.layer_norm(x, (3, 4), w, b),
                   lambda: [rnd(2, 3, 4, seed=1), rnd(3, 4, seed=2), rnd(3, 4, seed=3)]),
    "instance_norm": (lambda x, w, b: ops.instance_norm(x, weight=w, bias=b),
                      lambda: [rnd(2, 3, 2, 2, seed=1), rnd(3, seed=2), rnd(3, seed=3)]),
    "group_norm": (lambda x, w: ops.group_norm(x, 2, w),
                   lambda: [rnd(2, 4, 3, seed=1), rnd(4, seed=2)]),
    "elu": (lambda x: ops.elu(x, 0.7), lambda: [away(2, 3)]),
    "silu": (ops.silu, lambda: [rnd(2, 3)]),
    "nll_loss": (lambda x: ops.nll_loss(ops.log_softmax(x, 1), np.array([0, 2])),
                 lambda: [rnd(2, 3)]),
    "avg_pool2d": (lambda x: ops.avg_pool2d(x * x, 3, 2, 1, count_include_pad=False),
                   lambda: [rnd(1, 2, 5, 4)]),
    "max_pool2d": (lambda x: ops.max_pool2d(x * x, 3, 2, 1), lambda: [rnd(1, 2, 5, 4)]),
    "gather": (lambda x: ops.gather(x * x, 1, np.array([[0, 2, 2], [1, 0, 1]])),
               lambda: [rnd(2, 3)]),
    "sort_topk": (lambda x: ops.sort(x * x, 1).values * ops.topk(x, 3, 1).values,
                  lambda: [rnd(2, 3)]),
    "flip_cumsum": (lambda x: ops.cumsum(ops.flip(x, 1) * x, 1), lambda: [rnd(2, 3)]),
})


@pytest.mark.parametrize("name", list(TORCH_NAMED_CASES))
def test_torch_named_ops_first_and_second_order(name):
    fn, make = TORCH_NAMED_CASES[name]
    assert gradcheck(fn, make())
    assert gradgradcheck(fn, make())


@pytest.mark.parametrize("name", list(GRADGRAD_CASES))
def test_gradgradcheck(name):
    fn, make = GRADGRAD_CASES[name]
    assert gradgradcheck(fn, make())


# ---------------------------------------------------------------- WGAN-GP: double backprop
def _critic_params(seed=0, d=3, h=4):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(h, d)), rng.normal(size=h) * 0.5, rng.normal(size=(1, h)),
            np.array([0.1]))


def _critic(w1, b1, w2, b2):
    """f(x) = W2 tanh(W1 x + b1) + b2, the nn.Linear layout (weights (out, in))."""
    return lambda x: ops.tanh(x @ w1.T + b1) @ w2.T + b2


def test_gradient_penalty_value_closed_form():
    w1, b1, w2, b2 = _critic_params()
    rng = np.random.default_rng(1)
    x_hat = rng.normal(size=(5, 3))
    gp = gl.gradient_penalty(_critic(*[tg.Tensor(p) for p in (w1, b1, w2, b2)]), None, None,
                             x_hat=tg.Tensor(x_hat, requires_grad=True))
    # ∇_x f = W1ᵀ (W2ᵀ ⊙ (1 − h²)) per sample, h = tanh(W1 x + b1)
    hid = np.tanh(x_hat @ w1.T + b1)
    g = ((1 - hid ** 2) * w2[0]) @ w1
    expected = np.mean((np.sqrt((g ** 2).sum(axis=1) + 1e-12) - 1.0) ** 2)
    assert gp.item() == pytest.approx(expected, rel=1e-12)


def test_gradient_penalty_weight_gradient_matches_finite_differences():
    params = [tg.Tensor(p, requires_grad=True) for p in _critic_params()]
    x_hat = tg.Tensor(np.random.default_rng(1).normal(size=(5, 3)), requires_grad=True)

    def penalty(w1, b1, w2, b2):
        return gl.gradient_penalty(_critic(w1, b1, w2, b2), None, None, x_hat=x_hat)
    assert gradcheck(penalty, params)


def test_gradient_penalty_with_interpolates_and_nn_modules():
    from tinygan import nn
    real = rnd(4, 3, seed=1, grad=False)
    fake = rnd(4, 3, seed=2, grad=True)
    critic = nn.Sequential(nn.Linear(3, 5), nn.LeakyReLU(0.2), nn.Linear(5, 1))
    params = list(critic.parameters())
    tg.manual_seed(3)
    x_hat = gl.interpolates(real, fake)
    # ε per sample: x̂ − fake = ε (real − fake) with one ε ∈ [0, 1] per row.
    ratio = ((x_hat.detach() - fake.detach()) / (real - fake.detach())).numpy()
    assert np.allclose(ratio, ratio[:, :1]) and ((ratio >= 0) & (ratio <= 1)).all()
    assert x_hat.requires_grad and x_hat.is_leaf

    # Parameters are leaves with requires_grad; gradcheck perturbs them in place.
    assert gradcheck(lambda *ps: gl.gradient_penalty(critic, real, fake, x_hat=x_hat), params)


def test_gradcheck_detects_a_wrong_gradient():
    class Wrong(tg.autograd.Function):
        def forward(self, x):
            return x * x

        def backward(self, g):
            return g * self.inputs[0] * 3.0  # should be 2x

    with pytest.raises(GradcheckError, match="analytic"):
        gradcheck(lambda x: Wrong.apply(x), [rnd(3)])


@pytest.mark.parametrize("mode", ["reflect", "replicate"])
def test_pad_modes_first_and_second_order(mode):
    x = rnd(2, 4, 5, seed=1)
    assert gradcheck(lambda x: ops.pad(x, (2, 1, 1, 3), mode=mode), [x])
    assert gradgradcheck(lambda x: (ops.pad(x, (2, 1, 1, 3), mode=mode) ** 2).sum(), [x])


def test_pixel_shuffle_and_prelu_first_and_second_order():
    x = rnd(2, 8, 2, 3, seed=1)
    assert gradcheck(lambda x: ops.pixel_shuffle(x, 2), [x])
    assert gradcheck(lambda x: ops.pixel_unshuffle(x, 2), [rnd(2, 2, 4, 6, seed=2)])
    a, w = away(2, 3, 4, seed=3), rnd(3, lo=0.05, hi=0.5, seed=4)
    assert gradcheck(lambda a, w: ops.prelu(a, w), [a, w])
    assert gradgradcheck(lambda a, w: (ops.prelu(a, w) ** 2).sum(), [a, w])
