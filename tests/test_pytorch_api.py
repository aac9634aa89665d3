"""PyTorch idioms that GAN scripts use, each run in tinygan and in PyTorch and compared.

Every test here is one idiom from PyTorch GAN code (PyTorch-GAN's scripts,
pytorch/examples' DCGAN, WGAN-GP reference code) written the way those scripts
write it; ``tg`` plays the role of ``torch``.
"""
import ast
import os
import subprocess
import sys

import numpy as np
import pytest

import tinygan as tg
from tinygan import backend as B
from tinygan import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def host(t):
    return B.to_numpy(t.data)


@pytest.fixture
def pair(torch):
    """The same float64 data as a tinygan and a torch tensor (both requiring grad)."""
    a = np.random.default_rng(0).standard_normal((4, 3, 5))
    return tg.tensor(a, dtype="float64", requires_grad=True), \
        torch.tensor(a, requires_grad=True)


def same(ours, theirs, rtol=1e-12, atol=1e-12):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(host(ours), theirs, rtol=rtol, atol=atol)


# ---------------------------------------------------------------- the package
def test_import_tinygan_alone_exposes_nn_optim_autograd():
    code = ("import tinygan as torch; torch.nn.Linear; torch.optim.Adam; torch.autograd.grad; "
            "torch.nn.functional.interpolate; torch.utils.save_image; "
            "torch.utils.data.DataLoader; torch.nn.init.normal_")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT,
                   env=dict(os.environ, PYTHONPATH=ROOT))


def test_autograd_imports_nothing_from_ops_and_imports_alone():
    tree = ast.parse(open(os.path.join(ROOT, "tinygan", "autograd.py")).read())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0 or node.module in ("backend", None), \
                f"autograd.py imports .{node.module} (only backend is below it)"
            if node.module is None:
                assert [a.name for a in node.names] == ["backend"]
    subprocess.run([sys.executable, "-c", "import tinygan.autograd"], check=True, cwd=ROOT,
                   env=dict(os.environ, PYTHONPATH=ROOT))


# ---------------------------------------------------------------- autograd.grad
def test_wgan_gp_grad_index_zero_is_the_whole_gradient(torch):
    """``autograd.grad(...)[0]`` — a tuple, so [0] is x's gradient, not its first sample's."""
    rng = np.random.default_rng(1)
    real, fake = rng.standard_normal((2, 8, 6))
    alpha = rng.uniform(size=(8, 1))
    w1, w2 = rng.standard_normal((6, 5)), rng.standard_normal((5, 1))

    def penalty(lib, t):
        x = (t(alpha) * t(real) + (1 - t(alpha)) * t(fake)).requires_grad_(True)
        W1, W2 = t(w1).requires_grad_(True), t(w2).requires_grad_(True)
        d = lib.tanh(x @ W1) @ W2
        gradients = lib.autograd.grad(outputs=d, inputs=x, grad_outputs=lib.ones(d.size()),
                                      create_graph=True, retain_graph=True,
                                      only_inputs=True)[0]
        gradients = gradients.view(gradients.size(0), -1)
        gp = ((gradients.norm(2, dim=1) - 1) ** 2).mean()
        gp.backward()
        return gradients, gp, W1.grad

    g, gp, gw = penalty(tg, lambda a: tg.tensor(a, dtype="float64"))
    tgr, tgp, tgw = penalty(torch, lambda a: torch.tensor(a))
    assert g.shape == (8, 6)
    same(g, tgr)
    same(gp, tgp)
    same(gw, tgw, rtol=1e-10)


def test_grad_always_returns_a_tuple_and_takes_torch_keywords(pair):
    x, tx = pair
    y = (x * x).sum()
    out = tg.grad(y, x, retain_graph=True)
    assert isinstance(out, tuple) and len(out) == 1 and out[0].shape == x.shape
    assert isinstance(tg.autograd.grad(y, [x], retain_graph=True), tuple)
    u = tg.ones(2, requires_grad=True)
    g_x, g_u = tg.autograd.grad(outputs=[y], inputs=[x, u], allow_unused=True)
    assert g_u is None and np.allclose(host(g_x), 2 * host(x))


def test_backward_gradient_and_inputs_keywords(pair):
    x, tx = pair
    for lib, v in ((tg, x), (__import__("torch"), tx)):
        y = v * 3.0
        y.backward(gradient=lib.ones_like(y) * 2.0)
    same(x.grad, tx.grad)
    a, b = tg.ones(2, requires_grad=True), tg.ones(2, requires_grad=True)
    (a * b).sum().backward(inputs=[a])
    assert a.grad is not None and b.grad is None


def test_variable_is_a_no_op_wrapper(torch):
    from tinygan.autograd import Variable
    x = Variable(tg.FloatTensor(3, 2).fill_(1.0), requires_grad=False)
    assert x.shape == (3, 2) and not x.requires_grad and np.all(host(x) == 1)
    y = Variable(tg.randn(2), requires_grad=True)
    assert y.requires_grad and y.is_leaf


# ---------------------------------------------------------------- metadata and shapes
def test_size_numel_dim_view(pair):
    x, tx = pair
    assert x.size() == tuple(tx.size()) and x.size(0) == tx.size(0) and x.size(-1) == 5
    assert x.numel() == tx.numel() and x.dim() == tx.dim() == 3
    same(x.view(x.size(0), -1), tx.view(tx.size(0), -1))
    same(x.view(-1, 1).squeeze(1), tx.view(-1, 1).squeeze(1))
    same(x.view(2, 2, 15), tx.view(2, 2, 15))
    with pytest.raises(IndexError, match="out of range"):
        x.size(3)


def test_transpose_swaps_two_dims_permute_reorders(pair):
    x, tx = pair
    same(x.transpose(0, 2), tx.transpose(0, 2))
    same(x.transpose(-1, 1), tx.transpose(-1, 1))
    same(x.permute(2, 0, 1), tx.permute(2, 0, 1))
    same(x[0].t(), tx[0].t())
    with pytest.raises(TypeError, match="permute"):
        x.transpose((2, 0, 1))


def test_unsqueeze_squeeze_flatten_expand_repeat(pair):
    x, tx = pair
    for f in (lambda v: v.unsqueeze(1), lambda v: v.unsqueeze(-1), lambda v: v[:, :1].squeeze(1),
              lambda v: v[:, :1].squeeze(), lambda v: v.squeeze(0), lambda v: v.flatten(),
              lambda v: v.flatten(1), lambda v: v.flatten(0, 1),
              lambda v: v[:, :1].expand(4, 3, 5), lambda v: v[:, :1].expand(-1, 3, -1),
              lambda v: v[:, :1, :1].expand_as(v), lambda v: v.repeat(1, 2, 1),
              lambda v: v[0].repeat(2, 1, 3)):
        same(f(x), f(tx))
    with pytest.raises(ValueError, match="cannot be expanded"):
        x.expand(4, 4, 5)


def test_reductions_take_dim_keepdim_and_numpy_aliases(pair):
    x, tx = pair
    same(x.mean(dim=1, keepdim=True), tx.mean(dim=1, keepdim=True))
    same(x.sum(1), tx.sum(1))
    same(x.sum(dim=(0, 2)), tx.sum(dim=(0, 2)))
    same(x.mean(axis=1, keepdims=True), tx.mean(dim=1, keepdim=True))  # NumPy spellings
    same(x.var(), tx.var())                      # unbiased by default, as torch
    same(x.std(dim=0), tx.std(dim=0))
    same(x.var(1, unbiased=False), tx.var(1, unbiased=False))
    same(tg.mean(x, dim=2), torch_mean(tx, 2))
    same(tg.sum(x, 0, keepdim=True), tx.sum(0, keepdim=True))


def torch_mean(tx, dim):
    return tx.mean(dim=dim)


def test_max_min_with_dim_return_values_and_indices(pair):
    x, tx = pair
    v, i = x.max(dim=1)
    tv, ti = tx.max(dim=1)
    same(v, tv)
    np.testing.assert_array_equal(host(i), ti.numpy())
    assert i.dtype == np.int64
    values, indices = x.min(2, keepdim=True)
    r = tx.min(2, keepdim=True)
    same(values, r.values)
    np.testing.assert_array_equal(host(indices), r.indices.numpy())
    same(x.max(), tx.max())
    same(tg.max(x, 0).values, tx.max(0).values)
    same(x.max(x * 0.5), tx.max(tx * 0.5))       # elementwise form
    np.testing.assert_array_equal(host(x.argmax(dim=1)), tx.argmax(dim=1).numpy())
    np.testing.assert_array_equal(host(x.argmin()), tx.argmin().numpy())
    assert x.argmax(1, keepdim=True).shape == tuple(tx.argmax(1, keepdim=True).shape)


@pytest.mark.parametrize("backend_name", ["numpy", "standin"])
def test_max_with_dim_sends_the_gradient_to_its_index_at_ties(torch, backend_name):
    # PyTorch's x.max(dim) backpropagates through the index it returns (the first maximal
    # element); x.max() and amax split the gradient evenly among equal elements.
    import tinygan.testing  # noqa: F401  (registers the stand-in)
    a = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    previous = B.get_backend()
    B.set_backend(backend_name)
    try:
        cases = [lambda m: m.max(dim=1).values, lambda m: 2 * m.max(1, keepdim=True)[0],
                 lambda m: m.min(0).values, lambda m: m.max(), lambda m: m.amax(dim=1)]
        for f in cases:
            x = tg.tensor(a, dtype="float64", requires_grad=True)
            tx = torch.tensor(a, requires_grad=True)
            f(x).sum().backward()
            f(tx).sum().backward()
            np.testing.assert_array_equal(host(x.grad), tx.grad.numpy())
    finally:
        B.set_backend(previous)


def test_clamp_norm_pow(pair):
    x, tx = pair
    same(x.clamp(min=0), tx.clamp(min=0))
    same(x.clamp(max=0.5), tx.clamp(max=0.5))
    same(x.clamp(-0.5, 0.5), tx.clamp(-0.5, 0.5))
    same(tg.clamp(x, min=0.1), tx.clamp(min=0.1))
    same(x.clip(-1, 1), tx.clip(-1, 1))
    same(x.norm(2, dim=1), tx.norm(2, dim=1))
    same(x.norm(), tx.norm())
    same(x.pow(2), tx.pow(2))
    same(tg.pow(x, 3), tx.pow(3))
    same(2 ** x, 2 ** tx)


def test_cat_stack_where_and_elementwise_functions(pair, torch):
    x, tx = pair
    same(tg.cat((x, x * 2), dim=1), torch.cat((tx, tx * 2), dim=1))
    same(tg.cat([x, x], -1), torch.cat([tx, tx], -1))
    same(tg.stack([x, x], dim=1), torch.stack([tx, tx], dim=1))
    same(tg.where(x > 0, x, x * 0.1), torch.where(tx > 0, tx, tx * 0.1))
    for name in ("sigmoid", "tanh", "exp", "abs", "relu"):
        same(getattr(tg, name)(x), getattr(torch, name)(tx))
    same(tg.log(tg.sqrt(x.abs() + 1)), torch.log(torch.sqrt(tx.abs() + 1)))


# Methods and functions a GAN or classifier script reaches for beyond the layers: each as
# PyTorch spells it, values and the gradient of a random projection against PyTorch's.
TORCH_NAMED = [
    ("softmax", lambda m, x: x.softmax(dim=1)),
    ("log_softmax", lambda m, x: x.log_softmax(-1)),
    ("torch.softmax", lambda m, x: m.softmax(x, 2)),
    ("chunk", lambda m, x: x.chunk(2, dim=1)[1]),
    ("chunk uneven", lambda m, x: x.chunk(3, dim=2)[-1]),
    ("split size", lambda m, x: x.split(2, dim=2)[2]),
    ("split sections", lambda m, x: m.split(x, [1, 2], dim=1)[1]),
    ("mm", lambda m, x: x[0].mm(x[1].t())),
    ("bmm", lambda m, x: m.bmm(x, x.transpose(1, 2))),
    ("amax", lambda m, x: x.amax(dim=(0, 2))),
    ("amin keepdim", lambda m, x: x.amin(dim=1, keepdim=True)),
    ("amax all", lambda m, x: x.amax()),
    ("logsumexp", lambda m, x: x.logsumexp(dim=1)),
    ("torch.logsumexp", lambda m, x: m.logsumexp(x * 50, dim=(0, 2), keepdim=True)),
    ("rsqrt", lambda m, x: (x.abs() + 0.5).rsqrt()),
    ("sign", lambda m, x: x.sign() * x),
    ("lerp", lambda m, x: x.lerp(x * x, 0.25)),
    ("lerp tensor", lambda m, x: m.lerp(x, x.exp(), x.sigmoid())),
    ("masked_fill", lambda m, x: x.masked_fill(x > 0.5, -1.0)),
    ("maximum", lambda m, x: m.maximum(x, x[:1] * 0.5)),
    ("minimum", lambda m, x: m.minimum(x, 0.25 * m.ones_like(x))),
    ("F.pad", lambda m, x: m.nn.functional.pad(x, (2, 1, 0, 1))),
    ("F.pad crop", lambda m, x: m.nn.functional.pad(x, (-1, 2), value=3.0)),
    ("F.normalize", lambda m, x: m.nn.functional.normalize(x, dim=1)),
    ("F.normalize p1", lambda m, x: m.nn.functional.normalize(x, p=1, dim=2)),
    ("gather", lambda m, x: x.gather(1, m.tensor(np.array([[[0, 2, 1, 1, 0]], [[2] * 5],
                                                          [[1, 0, 0, 2, 1]], [[0] * 5]])))),
    ("torch.gather", lambda m, x: m.gather(x, 2, m.tensor(np.tile([[3, 0]], (4, 3, 1))))),
    ("sort", lambda m, x: x.sort(dim=1).values),
    ("sort descending", lambda m, x: x.sort(0, descending=True)[0]),
    ("topk", lambda m, x: x.topk(2, dim=2).values),
    ("topk smallest", lambda m, x: m.topk(x, 3, dim=2, largest=False).values),
    ("flip", lambda m, x: x.flip(0, 2)),
    ("torch.flip", lambda m, x: m.flip(x, (1,))),
    ("cumsum", lambda m, x: x.cumsum(dim=2) ** 2),
    ("torch.cumsum", lambda m, x: m.cumsum(x, 0)),
]


@pytest.mark.parametrize("name,f", TORCH_NAMED, ids=[n for n, _ in TORCH_NAMED])
def test_torch_named_methods_match_pytorch(pair, torch, name, f):
    x, tx = pair
    ours, theirs = f(tg, x), f(torch, tx)
    same(ours, theirs)
    w = np.random.default_rng(1).standard_normal(theirs.shape)
    (ours * tg.tensor(w, dtype="float64")).sum().backward()
    (theirs * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(host(x.grad), tx.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("make", [
    lambda m: m.nn.LayerNorm((3, 5)), lambda m: m.nn.LayerNorm(5, elementwise_affine=False),
    lambda m: m.nn.InstanceNorm2d(4, affine=True), lambda m: m.nn.InstanceNorm1d(4),
    lambda m: m.nn.GroupNorm(2, 4), lambda m: m.nn.GroupNorm(4, 4, affine=False),
    lambda m: m.nn.ELU(0.5), lambda m: m.nn.SiLU(), lambda m: m.nn.Softmax(dim=1),
    lambda m: m.nn.LogSoftmax(dim=-1),
], ids=["LayerNorm", "LayerNorm-no-affine", "InstanceNorm2d", "InstanceNorm1d", "GroupNorm",
        "GroupNorm-per-channel", "ELU", "SiLU", "Softmax", "LogSoftmax"])
def test_per_sample_norms_and_activations_match_pytorch(torch, make):
    """The layers GAN critics use instead of batch norm (layer norm: Gulrajani et al. §4)
    and a few activations: outputs, input and parameter gradients, state_dict keys."""
    rng = np.random.default_rng(0)
    with B.default_dtype_as("float64"):
        ours = make(tg)
    theirs = make(torch).double()
    for p, q in zip(ours.parameters(), theirs.parameters()):   # non-trivial γ, β
        v = rng.standard_normal(p.shape)
        p.data[...] = v
        q.data[...] = torch.tensor(v)
    shape = (2, 4, 5) if type(ours).__name__ == "InstanceNorm1d" else (2, 4, 3, 5)
    a = rng.standard_normal(shape) * 3 + 1
    x, tx = tg.tensor(a, dtype="float64", requires_grad=True), torch.tensor(a, requires_grad=True)
    out, ref = ours(x), theirs(tx)
    same(out, ref, rtol=1e-10, atol=1e-12)
    w = rng.standard_normal(ref.shape)
    (out * tg.tensor(w, dtype="float64")).sum().backward()
    (ref * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(host(x.grad), tx.grad.numpy(), rtol=1e-9, atol=1e-11)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(host(p.grad), q.grad.numpy(), rtol=1e-9, atol=1e-11)
    assert list(ours.state_dict()) == list(theirs.state_dict())


@pytest.mark.parametrize("make", [
    lambda m: m.nn.AvgPool2d(2), lambda m: m.nn.AvgPool2d(3, 2, 1),
    lambda m: m.nn.AvgPool2d((3, 2), (2, 1), (1, 0), count_include_pad=False),
    lambda m: m.nn.MaxPool2d(2), lambda m: m.nn.MaxPool2d(3, 2, 1),
    lambda m: m.nn.MaxPool2d((2, 3), 1), lambda m: m.nn.AdaptiveAvgPool2d(1),
    lambda m: m.nn.AdaptiveAvgPool2d((2, None)),
], ids=["avg2", "avg3-s2-p1", "avg-rect-no-pad-count", "max2", "max3-s2-p1", "max-rect-s1",
        "adaptive1", "adaptive-2xW"])
def test_pooling_matches_pytorch(torch, make):
    """Outputs and input gradients of the pooling layers DCGAN's first rule replaces, on
    random data and on a constant image (every window tied: max pooling's gradient goes to
    the first position of each window in both)."""
    rng = np.random.default_rng(0)
    for a in (rng.standard_normal((2, 3, 8, 6)), np.ones((1, 2, 8, 6))):
        x, tx = tg.tensor(a, dtype="float64", requires_grad=True), \
            torch.tensor(a, requires_grad=True)
        out, ref = make(tg)(x), make(torch)(tx)
        same(out, ref, rtol=1e-12, atol=1e-14)
        w = rng.standard_normal(ref.shape)
        (out * tg.tensor(w, dtype="float64")).sum().backward()
        (ref * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(host(x.grad), tx.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_nll_loss_one_hot_and_clip_grad_match_pytorch(torch):
    rng = np.random.default_rng(0)
    logits, labels = rng.standard_normal((5, 3)), np.array([0, 2, 1, 2, 0])
    x, tx = tg.tensor(logits, dtype="float64", requires_grad=True), \
        torch.tensor(logits, requires_grad=True)
    for reduction in ("mean", "sum", "none"):
        same(tg.nn.NLLLoss(reduction=reduction)(tg.nn.LogSoftmax(1)(x), labels),
             torch.nn.NLLLoss(reduction=reduction)(torch.log_softmax(tx, 1),
                                                  torch.tensor(labels)))
    np.testing.assert_array_equal(host(tg.nn.functional.one_hot(tg.tensor(labels), 4)),
                                  torch.nn.functional.one_hot(torch.tensor(labels), 4).numpy())
    assert tg.nn.functional.one_hot(np.array([[1], [3]])).shape == (2, 1, 4)
    for norm_type, max_norm in ((2.0, 0.5), (1.0, 100.0), (float("inf"), 0.1)):
        grads = [rng.standard_normal((3, 2)), rng.standard_normal(4)]
        ours = [tg.tensor(np.zeros_like(g), dtype="float64", requires_grad=True) for g in grads]
        theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
        for p, q, g in zip(ours, theirs, grads):
            p.grad, q.grad = tg.tensor(g.copy(), dtype="float64"), torch.tensor(g.copy())
        total = tg.nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
        expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
        assert total.item() == pytest.approx(expected.item(), rel=1e-12)
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(host(p.grad), q.grad.numpy(), rtol=1e-12)
    tg.nn.utils.clip_grad_value_(ours, 0.01)
    assert max(np.abs(host(p.grad)).max() for p in ours) <= 0.01


def test_torch_spelled_functions_and_tests(pair, torch):
    x, tx = pair
    same(tg.transpose(x, 0, 2), torch.transpose(tx, 0, 2))
    same(tg.permute(x, (2, 0, 1)), torch.permute(tx, (2, 0, 1)))
    same(tg.squeeze(tg.unsqueeze(x, 1), 1), torch.squeeze(torch.unsqueeze(tx, 1), 1))
    same(tg.reshape(x, (3, -1)), torch.reshape(tx, (3, -1)))
    same(tg.clip(x, -0.5, 0.5), torch.clip(tx, -0.5, 0.5))
    a = host(x).copy()
    a[0, 0, :3] = np.nan, np.inf, -np.inf
    y, ty = tg.tensor(a, dtype="float64"), torch.tensor(a)
    np.testing.assert_array_equal(host(tg.isfinite(y)), torch.isfinite(ty).numpy())
    np.testing.assert_array_equal(host(y.isnan()), ty.isnan().numpy())
    np.testing.assert_array_equal(host((x > 0).all(dim=1)), (tx > 0).all(dim=1).numpy())
    assert tg.any(tg.isnan(y)).item() is True and tg.all(x > -100).item() is True
    assert tg.allclose(x, x + 1e-9) and not tg.allclose(x, x + 1e-3)


@pytest.mark.parametrize("call,message", [
    (lambda: tg.nn.LayerNorm(5)(tg.zeros(2, 4)), "layer_norm: normalized_shape [5] must be"),
    (lambda: tg.nn.InstanceNorm2d(3, track_running_stats=True), "track_running_stats=True"),
    (lambda: tg.nn.InstanceNorm2d(3)(tg.zeros(2, 4, 2, 2)), "InstanceNorm2d(3): expected"),
    (lambda: tg.nn.GroupNorm(3, 4), "num_channels 4 must be divisible by num_groups 3"),
    (lambda: tg.nn.Softmax(), "Softmax: give dim="),
    (lambda: tg.zeros(2, 3).gather(1, np.zeros((3, 1), "int64")), "gather: index must be"),
    (lambda: tg.zeros(2, 3).topk(4, dim=1), "topk: k must be an integer in [0, 3]"),
    (lambda: tg.nn.MaxPool2d(2, padding=2)(tg.zeros(1, 1, 4, 4)), "max_pool2d: need kernel"),
    (lambda: tg.nn.AvgPool2d(2, ceil_mode=True)(tg.zeros(1, 1, 4, 4)), "ceil_mode=True"),
    (lambda: tg.nn.AvgPool2d(5)(tg.zeros(1, 1, 4, 4)), "avg_pool2d: input (1, 1, 4, 4)"),
    (lambda: tg.nn.MaxPool2d(2)(tg.zeros(4, 4)), "max_pool2d: expected input (N, C, H, W)"),
    (lambda: tg.nn.AdaptiveAvgPool2d(3)(tg.zeros(1, 1, 4, 4)), "output size (3, 3) must"),
    (lambda: tg.nn.functional.nll_loss(tg.zeros(2, 3), np.array([0, 3])), "nll_loss: labels"),
    (lambda: tg.nn.functional.one_hot(np.array([0, 5]), 3), "one_hot: labels must lie in [0, 3)"),
])
def test_new_layers_refuse_bad_arguments_in_one_line(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")):
        call()


def test_torch_named_methods_run_on_every_backend(backend):
    """The same compositions on the CuPy stand-in (which refuses host round-trips), through
    a double backward; the gradient of the gradient matches the NumPy run's."""
    def second_order():
        x = tg.tensor(np.random.default_rng(0).standard_normal((2, 3, 4)), requires_grad=True)
        F = tg.nn.functional
        outs = [x.softmax(1), x.chunk(2, 1)[0], x.split([1, 2], 1)[1], x[0].mm(x[1].t()),
                tg.bmm(x, x.transpose(1, 2)), x.amax(dim=(0, 2)), x.logsumexp(1),
                (x.abs() + 1).rsqrt(), x.sign() * x, x.lerp(x * x, 0.3),
                x.masked_fill(x > 0, 0.0), tg.maximum(x, x * 0.5), F.pad(x, (1, 1, -1, 0)),
                F.normalize(x, dim=1), F.layer_norm(x, (3, 4)), F.group_norm(x, 1),
                F.instance_norm(x), F.elu(x), F.silu(x),
                F.nll_loss(x[:, :, 0].log_softmax(1), np.array([0, 2])),
                x[:, :1, :1] * F.one_hot(tg.tensor(np.array([[0, 2], [1, 1]])), 4),
                F.max_pool2d(x[None], 2, 1, 1), F.avg_pool2d(x[None], 2, padding=1,
                                                             count_include_pad=False),
                x.gather(2, tg.tensor(np.array([[[3, 0]] * 3] * 2))), x.sort(1).values,
                x.topk(2, dim=2).values, x.flip(0, 1), x.cumsum(2)]
        total = outs[0].sum()
        for out in outs[1:]:
            total = total + (out * out).sum()
        (g,) = tg.autograd.grad(total, x, create_graph=True)
        (g * g).sum().backward()
        params = [tg.tensor(np.ones(3), requires_grad=True), x]
        params[0].grad = tg.tensor(np.full(3, 10.0))
        total_norm = tg.nn.utils.clip_grad_norm_(params, 1.0)          # in place, on the device
        tg.nn.utils.clip_grad_norm_(params, 1.0, norm_type=float("inf"))
        return np.append(B.to_numpy(x.grad.data), B.to_numpy(total_norm.data))
    ours = second_order()
    B.set_backend("numpy")  # the fixture puts the previous backend back afterwards
    reference = second_order()
    np.testing.assert_allclose(ours, reference, rtol=1e-5, atol=1e-6)


def test_sort_and_topk_indices_match_pytorch(pair, torch):
    x, tx = pair
    for ours, theirs in ((x.sort(1), tx.sort(1)), (x.sort(2, descending=True),
                                                   tx.sort(2, descending=True)),
                         (x.topk(3, dim=2), tx.topk(3, dim=2)),
                         (x.topk(1, dim=0, largest=False), tx.topk(1, dim=0, largest=False))):
        same(ours.values, theirs.values)
        np.testing.assert_array_equal(host(ours.indices), theirs.indices.numpy())
        assert ours.indices.dtype == np.int64


@pytest.mark.filterwarnings("ignore:divide by zero")
def test_logsumexp_of_minus_infinity_and_sign_gradient(torch):
    x = tg.tensor([[-np.inf, -np.inf], [0.0, -np.inf]], dtype="float64", requires_grad=True)
    tx = torch.tensor([[-np.inf, -np.inf], [0.0, -np.inf]], requires_grad=True)
    same(x.logsumexp(dim=1), tx.logsumexp(dim=1))                # [−inf, 0]
    y = tg.tensor([0.0, 2.0, -3.0, np.nan], dtype="float64", requires_grad=True)
    y.sign().sum().backward()
    assert host(y.grad).tolist() == [0.0, 0.0, 0.0, 0.0]          # not NaN at the NaN


@pytest.mark.parametrize("call,message", [
    (lambda x: x.mm(x), "mm: expected two matrices"),
    (lambda x: tg.bmm(x, x[:2].transpose(1, 2)), "bmm: expected (B, n, m) and (B, m, p)"),
    (lambda x: x.split([1, 1], dim=1), "split: sections [1, 1] must be"),
    (lambda x: x.split(0), "split: split_size must be a positive integer"),
    (lambda x: x.chunk(0), "chunk: chunks must be a positive integer"),
    (lambda x: tg.nn.functional.pad(x, (1,)), "pad: expected an even number"),
    (lambda x: tg.nn.functional.pad(x, (1, 1), mode="circular"),
     "pad: mode must be 'constant', 'reflect' or 'replicate'"),
    (lambda x: tg.nn.functional.pad(x, (-3, -3)), "pad: cropping 3 and 3 from dim 2"),
    (lambda x: x.amax(dim=3), "amax: axis 3 is out of range"),
])
def test_torch_named_methods_refuse_bad_arguments_in_one_line(pair, call, message):
    x, _ = pair
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")):
        call(x)


# ---------------------------------------------------------------- factories
def test_factories_and_likes_match_torch_shapes_and_dtypes(torch):
    x = tg.randn(3, 4)
    tx = torch.randn(3, 4)
    for name in ("zeros_like", "ones_like", "randn_like", "rand_like"):
        a, b = getattr(tg, name)(x), getattr(torch, name)(tx)
        assert a.shape == tuple(b.shape) and str(a.dtype) == str(b.dtype).split(".")[-1]
    same(tg.full_like(x, 0.9), torch.full_like(tx, 0.9), rtol=0, atol=0)
    for args in (((2, 3), 1.0), ((4,), 1), ((2,), True)):
        a, b = tg.full(*args), torch.full(*args)
        assert a.shape == tuple(b.shape) and str(a.dtype) == str(b.dtype).split(".")[-1]
    label = tg.full((5,), 1, dtype=x.dtype, device=tg.device("cpu"))
    assert label.dtype == np.float32 and np.all(host(label) == 1)
    for args in ((5,), (1, 7, 2), (0.0, 1.0, 0.25)):
        a, b = tg.arange(*args), torch.arange(*args)
        assert str(a.dtype) == str(b.dtype).split(".")[-1]
        np.testing.assert_array_equal(host(a), b.numpy())
    assert tg.zeros(2, 3, dtype=tg.float64).dtype == np.float64
    assert tg.ones((2, 3)).shape == (2, 3)
    assert tg.randn(2, 2, device="cpu").device == "cpu"
    assert tg.randint(0, 10, (64,)).dtype == np.int64
    assert tg.from_numpy(np.ones(3)).dtype == torch.from_numpy(np.ones(3)).numpy().dtype
    assert tg.tensor([1, 2]).dtype == np.int64 and tg.tensor([1.0]).dtype == np.float32
    assert tg.float32 == np.float32 and tg.float64 == np.float64 and tg.long == np.int64


def test_manual_seed_makes_draws_repeatable():
    tg.manual_seed(3)
    a = host(tg.randn(5))
    tg.manual_seed(3)
    np.testing.assert_array_equal(a, host(tg.randn(5)))


def test_pytorch_gan_legacy_idioms_run_unchanged(tmp_path):
    """PyTorch-GAN's scripts, line for line (as in its gan.py / cgan.py / wgan.py)."""
    from tinygan.autograd import Variable
    from tinygan.utils import save_image
    cuda = True if tg.cuda.is_available() else False
    Tensor = tg.cuda.FloatTensor if cuda else tg.FloatTensor
    LongTensor = tg.cuda.LongTensor if cuda else tg.LongTensor
    imgs = tg.rand(6, 1, 4, 4, dtype="float64")
    valid = Variable(Tensor(imgs.size(0), 1).fill_(1.0), requires_grad=False)
    real_imgs = Variable(imgs.type(Tensor))
    z = Variable(Tensor(np.random.normal(0, 1, (imgs.shape[0], 3))))
    labels = Variable(LongTensor(np.random.randint(0, 10, imgs.shape[0])))
    assert valid.dtype == real_imgs.dtype == z.dtype == np.float32 and labels.dtype == np.int64
    gen_imgs = nn.Sequential(nn.Linear(3, 16), nn.Tanh())(z).view(6, 1, 4, 4)
    save_image(gen_imgs.data[:25], str(tmp_path / "0.png"), nrow=5, normalize=True)
    assert (tmp_path / "0.png").exists()
    noisev = Variable(tg.randn(2, 3), volatile=True)  # gan_toy.py: accepted, no effect
    fake = Variable(nn.Linear(3, 2)(noisev).data)   # .data is the array; Variable wraps it
    assert isinstance(fake, tg.Tensor) and not fake.requires_grad
    assert tg.accelerator.is_available() == tg.cuda.is_available()
    tg.backends.cudnn.benchmark = True


def test_legacy_tensor_types_as_pytorch_gan_uses_them(torch):
    Tensor = tg.FloatTensor
    valid = Tensor(6, 1).fill_(1.0)
    assert valid.shape == (6, 1) and valid.dtype == np.float32 and np.all(host(valid) == 1)
    z = Tensor(np.random.normal(0, 1, (6, 4)))
    assert z.dtype == np.float32
    labels = tg.LongTensor(np.random.randint(0, 10, 6))
    assert labels.dtype == np.int64
    imgs = tg.randn(2, 3).double().type(Tensor)
    assert imgs.dtype == np.float32
    assert tg.randn(2).long().dtype == np.int64 and tg.randn(2).double().dtype == np.float64


# ---------------------------------------------------------------- devices
def test_device_and_to_move_between_backends():
    dev = tg.device("cuda" if tg.cuda.is_available() else "cpu")
    x = tg.randn(2, 3, requires_grad=True)
    y = x.to(dev)
    assert y is x or y.device == dev.type
    assert x.cpu().device == "cpu" and str(tg.device("cpu")) == "cpu"
    z = x.to("standin")             # the CuPy stand-in: another device without a GPU
    assert z.device == "standin" and B.get_backend() == "numpy"
    (z * z).sum().backward()        # the gradient comes back to x's device
    assert x.grad.device == "cpu"
    np.testing.assert_allclose(host(x.grad), 2 * host(x), rtol=1e-6)
    assert x.to(tg.float64).dtype == np.float64 and x.to(x).dtype == np.float32
    if not tg.cuda.is_available():
        with pytest.raises(B.BackendError, match="cupy"):
            x.cuda()


# ---------------------------------------------------------------- in-place ops
def test_inplace_ops_match_torch_on_plain_tensors(torch):
    a = np.random.default_rng(2).standard_normal((3, 4))
    ours, theirs = tg.tensor(a, dtype="float64"), torch.tensor(a)
    for f in (lambda v: v.add_(1.5), lambda v: v.mul_(0.5), lambda v: v.clamp_(-0.3, 0.4),
              lambda v: v.add_(v, alpha=2.0), lambda v: v.sub_(0.1), lambda v: v.div_(2.0)):
        assert f(ours) is ours
        f(theirs)
        same(ours, theirs)
    ours.copy_(tg.tensor(np.arange(4.0)))
    theirs.copy_(torch.arange(4.0))
    same(ours, theirs)
    assert np.all(host(ours.zero_()) == 0) and np.all(host(ours.fill_(0.9)) == 0.9)
    tg.manual_seed(0)
    big = tg.zeros(200, 300).normal_(0.0, 0.02)
    assert abs(host(big).std() - 0.02) < 0.0005  # 60,000 draws: sd of the estimate 6e-5
    u = tg.zeros(200, 300).uniform_(-1, 1)
    assert host(u).min() >= -1 and host(u).max() < 1 and abs(host(u).mean()) < 0.01


def test_inplace_on_parameters_allowed_under_no_grad_refused_while_recording(torch):
    D = nn.Linear(3, 1)
    with tg.no_grad():              # WGAN weight clipping, written for both libraries
        for p in D.parameters():
            p.clamp_(-0.01, 0.01)
        D.bias.fill_(0.0)
    assert np.abs(host(D.weight)).max() <= 0.01 and np.all(host(D.bias) == 0)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        D.weight.mul_(2.0)
    tD = torch.nn.Linear(3, 1)      # PyTorch refuses it too
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        tD.weight.mul_(2.0)
    h = D(tg.ones(2, 3))
    with pytest.raises(RuntimeError, match="part of a recorded graph"):
        h.add_(1.0)


def test_inplace_change_of_a_saved_tensor_is_caught_at_backward(torch):
    """pytorch/examples' DCGAN reuses ``label`` with ``label.fill_()`` — fine after the
    backward that used it; before it, the gradient would be computed from the new values."""
    p = tg.rand(4, requires_grad=True)
    label = tg.full((4,), 1.0)
    loss = nn.BCELoss()(p * 0.5 + 0.25, label)
    loss.backward()
    label.fill_(0.0)                # after backward: allowed, as in DCGAN
    loss = nn.BCELoss()(p * 0.5 + 0.25, label)
    label.fill_(1.0)                # before backward: refused
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()
    x = tg.randn(3, requires_grad=True)
    y = x.tanh()                    # tanh's backward uses its output
    with tg.no_grad():
        y.mul_(2.0)
    with pytest.raises(RuntimeError, match="output of Tanh"):
        y.sum().backward()
    d = x.detach()                  # detach shares data and the version counter
    z = (x * x).sum()
    d.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.backward()


# ---------------------------------------------------------------- nn idioms
def test_pytorch_gan_layer_spellings_build_and_run():
    img_shape = (1, 8, 8)

    def block(in_feat, out_feat, normalize=True):
        layers = [nn.Linear(in_feat, out_feat)]
        if normalize:
            layers.append(nn.BatchNorm1d(out_feat, 0.8))
        layers.append(nn.LeakyReLU(0.2, inplace=True))
        return layers

    model = nn.Sequential(*block(4, 16, normalize=False), *block(16, 32),
                          nn.Linear(32, int(np.prod(img_shape))), nn.Tanh())
    img = model(tg.randn(5, 4))
    img = img.view(img.size(0), *img_shape)
    assert img.shape == (5, 1, 8, 8)
    disc = nn.Sequential(nn.Conv2d(1, 4, 3, 2, 1), nn.LeakyReLU(0.2, inplace=True),
                         nn.Dropout2d(0.25), nn.Upsample(scale_factor=2), nn.ReLU(True),
                         nn.Flatten(), nn.Linear(4 * 8 * 8, 1), nn.Sigmoid())
    assert disc(img).shape == (5, 1)
    assert len(disc) == 8 and isinstance(disc[0], nn.Conv2d)


def test_add_module_names_and_resize_as_the_wgan_reference_code_uses(torch):
    """WassersteinGAN's DCGAN builds its nets with add_module and refills its input buffers
    with resize_as_(x).copy_(x) / resize_(n, nz, 1, 1).normal_(0, 1)."""
    def build(lib):
        main = lib.nn.Sequential()
        main.add_module("initial-8-4-convt", lib.nn.ConvTranspose2d(8, 4, 4, 1, 0, bias=False))
        main.add_module("initial-4-relu", lib.nn.ReLU(True))
        return main
    ours, theirs = build(tg), build(torch)
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert ours(tg.randn(2, 8, 1, 1)).shape == (2, 4, 4, 4)
    buf = tg.FloatTensor()
    real = tg.randn(3, 2)
    buf.resize_as_(real).copy_(real)
    np.testing.assert_array_equal(host(buf), host(real))
    noise = tg.FloatTensor(6, 5, 1, 1).resize_(6, 5, 1, 1).normal_(0, 1)
    assert noise.shape == (6, 5, 1, 1)
    with pytest.raises(TypeError, match="not a Module"):
        ours.add_module("x", 3)


def test_adam_zero_grad_set_to_none_and_module_zero_grad():
    net = nn.Linear(2, 1)
    opt = tg.optim.Adam(net.parameters(), lr=1e-3, betas=(0.5, 0.999))
    net(tg.ones(3, 2)).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert all(np.all(host(p.grad) == 0) for p in net.parameters())
    opt.zero_grad(set_to_none=True)
    assert all(p.grad is None for p in net.parameters())
    net(tg.ones(3, 2)).sum().backward()
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_state_dict_round_trip_with_torch(torch):
    ours = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.LeakyReLU(0.2), nn.Linear(4, 1))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4),
                                 torch.nn.LeakyReLU(0.2), torch.nn.Linear(4, 1))
    ours.load_state_dict({k: tg.from_numpy(v.numpy()) for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(3).standard_normal((6, 3)).astype(np.float32)
    same(ours(tg.from_numpy(x)), theirs(torch.from_numpy(x)), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- data and images
def test_dataloader_yields_tensors():
    images = np.random.default_rng(0).standard_normal((10, 1, 4, 4)).astype(np.float32)
    labels = np.arange(10)
    from tinygan.data import DataLoader
    loader = DataLoader((images, labels), batch_size=4, shuffle=False, as_tensor=True)
    imgs, labs = next(iter(loader))
    assert isinstance(imgs, tg.Tensor) and imgs.shape == (4, 1, 4, 4)
    assert labs.dtype == np.int64 and list(host(labs)) == [0, 1, 2, 3]
    from tinygan.utils.data import DataLoader as TorchStyle, TensorDataset
    ds = TensorDataset(tg.from_numpy(images), tg.from_numpy(labels))
    batches = list(TorchStyle(ds, batch_size=4, shuffle=True))
    assert [b[0].shape[0] for b in batches] == [4, 4, 2]
    assert isinstance(batches[0], list) and isinstance(batches[0][1], tg.Tensor)
    seen = np.concatenate([host(b[1]) for b in batches])
    assert sorted(seen) == list(range(10))
    loader = TorchStyle(ds, batch_size=4, shuffle=True)
    for first in loader:
        break                       # leave the epoch early ...
    again = [host(b[1]) for b in loader]
    assert len(again) == 3 and sorted(np.concatenate(again)) == list(range(10))  # ... full next
    assert len(loader.dataset) == 10


def test_save_image_follows_torchvision_pixel_rule(tmp_path):
    from matplotlib.image import imread
    imgs = np.linspace(-1, 1, 2 * 1 * 3 * 3).reshape(2, 1, 3, 3).astype(np.float32)
    path = tmp_path / "grid.png"
    tg.utils.save_image(tg.from_numpy(imgs), path, nrow=2, normalize=True)
    got = np.round(imread(path) * 255).astype(int)
    # torchvision's layout: padding 2 before every image and after the last,
    # so the height is 3 + 2·2 and the width 2·(3 + 2) + 2
    assert got.shape[:2] == (3 + 2 * 2, 2 * (3 + 2) + 2)
    expected = np.floor((imgs - imgs.min()) / (imgs.max() - imgs.min()) * 255 + 0.5)
    np.testing.assert_array_equal(got[2:5, 2:5, 0], expected[0, 0])
    np.testing.assert_array_equal(got[2:5, 7:10, 1], expected[1, 0])
    assert np.all(got[0:2, :, :3] == 0)                         # pad_value 0
    tg.utils.save_image(imgs[:1] * 0.5 + 0.5, tmp_path / "one.png", value_range=(0, 1),
                        normalize=True)
    one = np.round(imread(tmp_path / "one.png") * 255).astype(int)
    assert one.shape[:2] == (3, 3)
    np.testing.assert_array_equal(one[..., 0], np.floor((imgs[0, 0] * 0.5 + 0.5) * 255 + 0.5))


def test_resize_images_matches_interpolate_and_sample_shape_check(torch):
    from tinygan.data import check_sample_shape, resize_images
    import torch.nn.functional as TF
    images = np.random.default_rng(4).uniform(-1, 1, (3, 1, 28, 28)).astype(np.float32)
    out = resize_images(images, 32)
    assert out.shape == (3, 1, 32, 32) and out.dtype == np.float32
    ref = TF.interpolate(torch.tensor(images, dtype=torch.float64), size=(32, 32),
                         mode="bilinear").numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-6, atol=1e-6)
    assert out.min() >= -1 and out.max() <= 1
    assert resize_images(images, (28, 28)) is images
    check_sample_shape((64, 1, 28, 28), (16, 1, 28, 28))
    with pytest.raises(ValueError, match=r"\(1, 32, 32\) but the data has shape \(1, 28, 28\)"
                                         r".*resize_images\(images, 32\)"):
        check_sample_shape((64, 1, 32, 32), (64, 1, 28, 28))


def test_torchvision_style_mnist_and_transforms(tmp_path, torch):
    """``datasets.MNIST(root, train=True, download=..., transform=Compose([Resize(32),
    ToTensor(), Normalize([0.5], [0.5])]))`` as PyTorch-GAN builds it."""
    import torch.nn.functional as TF
    from tinygan.data import write_idx
    from tinygan.utils import datasets, transforms
    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 256, size=(20, 28, 28)).astype(np.uint8)
    labels = rng.integers(0, 10, size=20).astype(np.uint8)
    raw = tmp_path / "MNIST" / "raw"          # torchvision's folder layout
    raw.mkdir(parents=True)
    write_idx(str(raw / "train-images-idx3-ubyte.gz"), pixels)
    write_idx(str(raw / "train-labels-idx1-ubyte.gz"), labels)
    tf = transforms.Compose([transforms.Resize(32), transforms.ToTensor(),
                             transforms.Normalize([0.5], [0.5])])
    ds = datasets.MNIST(str(tmp_path), train=True, download=False, transform=tf)
    img, label = ds[3]
    assert isinstance(img, tg.Tensor) and img.shape == (1, 32, 32) and label == labels[3]
    up = TF.interpolate(torch.tensor(pixels[3:4, None], dtype=torch.float64), size=(32, 32),
                        mode="bilinear").numpy()[0]
    expected = (np.clip(np.round(up), 0, 255) / 255.0 - 0.5) / 0.5
    np.testing.assert_allclose(host(img), expected, rtol=0, atol=1e-6)
    loader = tg.utils.data.DataLoader(ds, batch_size=8, shuffle=False)
    imgs, labs = next(iter(loader))
    assert imgs.shape == (8, 1, 32, 32) and labs.dtype == np.int64
    np.testing.assert_allclose(host(imgs)[3], host(img), rtol=0, atol=1e-6)
    plain = transforms.ToTensor()(pixels[0])
    np.testing.assert_allclose(host(plain)[0], pixels[0] / 255.0, rtol=1e-6)
    with pytest.raises(FileNotFoundError, match="download=True"):
        datasets.MNIST(str(tmp_path), train=False)


# ---------------------------------------------------------------- shapes: Unflatten, x[i] = v
def test_unflatten_layer_and_method_take_pytorchs_arguments(pair, torch):
    x, tx = pair
    for f in (lambda v: v.unflatten(2, (5, 1)), lambda v: v.unflatten(-1, (1, -1)),
              lambda v: v.flatten(1).unflatten(1, (3, 5))):
        same(f(x), f(tx))
    flat = x.flatten(1)
    same(nn.Unflatten(1, (3, 5))(flat), torch.nn.Unflatten(1, (3, 5))(tx.flatten(1)))
    same(nn.Flatten(0, 1)(x), torch.nn.Flatten(0, 1)(tx))
    same(nn.Reshape(5, 3)(x), tx.view(4, 5, 3))  # tinygan's own: every sample reshaped
    # gradients flow through both layers as through a reshape
    nn.Unflatten(1, (3, 5))(flat).sum().backward()
    np.testing.assert_array_equal(host(x.grad), np.ones((4, 3, 5)))


@pytest.mark.parametrize("args", [(128, 7, 7), ((128, 7, 7),), (1,)])
def test_unflatten_in_tinygan_0_1s_spelling_names_both(args):
    with pytest.raises(TypeError, match=r"Unflatten\(1, \(128, 7, 7\)\).*nn.Reshape"):
        nn.Unflatten(*args)


def test_unflatten_refuses_sizes_that_do_not_split_the_dim():
    x = tg.randn(4, 6)
    with pytest.raises(ValueError, match=r"dim 1 of shape \(4, 6\) has size 6"):
        x.unflatten(1, (4, 4))
    with pytest.raises(IndexError, match="dim 2 is out of range"):
        x.unflatten(2, (2, 3))


def test_item_assignment_as_pytorch_writes_in_place(torch):
    ours, theirs = tg.zeros(3, 4), torch.zeros(3, 4)
    for t, lib in ((ours, tg), (theirs, torch)):
        t[0] = 1.0
        t[1, 2:] = lib.tensor([5.0, 6.0])
        t[lib.tensor([2])] = 9
        t[:, 0] = t[:, 1] * 2
    np.testing.assert_array_equal(host(ours), theirs.numpy())


def test_item_assignment_follows_the_in_place_rules():
    w = tg.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"x\[index\] = value: a leaf tensor"):
        w[0] = 0.0
    y = w * 2
    with pytest.raises(RuntimeError, match="part of a recorded graph"):
        y[0] = 0.0
    with tg.no_grad():
        w[0] = 0.0  # as initialisation and weight clipping do
    assert host(w)[0] == 0.0 and w.requires_grad
    a, b = tg.randn(3, requires_grad=True), tg.randn(3)
    y = (a * b).sum()  # saves b for a's gradient
    b[1] = 5.0         # b does not require grad: allowed, and its version moves on
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()   # as PyTorch's "modified by an inplace operation"


# ---------------------------------------------------------------- random: Generator, size=
def test_generator_draws_its_own_reproducible_stream():
    g = tg.Generator().manual_seed(1)
    assert isinstance(g.manual_seed(1), tg.Generator) and g.initial_seed() == 1
    first = [host(tg.randn(3, generator=g)), host(tg.rand(2, generator=g)),
             host(tg.randint(0, 10, (4,), generator=g)), host(tg.randperm(6, generator=g))]
    g.manual_seed(1)
    again = [host(tg.randn(3, generator=g)), host(tg.rand(2, generator=g)),
             host(tg.randint(0, 10, (4,), generator=g)), host(tg.randperm(6, generator=g))]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    other = host(tg.randn(3, generator=tg.Generator().manual_seed(2)))
    assert not np.array_equal(first[0], other)
    assert tg.Generator().initial_seed() == tg.random.DEFAULT_SEED  # torch's default seed
    assert tg.Generator().manual_seed(-5).initial_seed() == -5     # torch takes negative seeds


def test_generator_leaves_the_global_stream_alone():
    """What one writes it for: a fixed evaluation noise that does not shift training's draws."""
    tg.manual_seed(0)
    plain = host(tg.randn(4))
    tg.manual_seed(0)
    g = tg.Generator().manual_seed(7)
    tg.randn(100, generator=g)
    tg.empty(5).normal_(0, 1, generator=g)
    tg.empty(5).uniform_(-1, 1, generator=g)
    nn.init.normal_(tg.empty(3, 3), 0.0, 0.02, generator=g)
    nn.init.xavier_uniform_(tg.empty(3, 3), generator=g)
    nn.init.kaiming_normal_(tg.empty(3, 3), generator=g)
    np.testing.assert_array_equal(host(tg.randn(4)), plain)


def test_in_place_initialisers_follow_the_generator():
    a, b = tg.empty(4, 4), tg.empty(4, 4)
    a.normal_(1.0, 0.5, generator=tg.Generator().manual_seed(3))
    nn.init.normal_(b, 1.0, 0.5, generator=tg.Generator().manual_seed(3))
    np.testing.assert_array_equal(host(a), host(b))
    c = nn.init.kaiming_uniform_(tg.empty(8, 4), a=5 ** 0.5, generator=tg.Generator())
    assert np.abs(host(c)).max() <= 1 / 2  # U(−1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in 4


def test_dataloader_shuffles_by_its_generator():
    data = tg.utils.data.TensorDataset(tg.arange(20))

    def order(**kw):
        loader = tg.utils.data.DataLoader(data, batch_size=5, shuffle=True, **kw)
        return np.concatenate([host(b[0]) for b in loader])

    g1, g2 = order(generator=tg.Generator().manual_seed(3)), \
        order(generator=tg.Generator().manual_seed(3))
    np.testing.assert_array_equal(g1, g2)
    assert sorted(g1) == list(range(20))
    assert not np.array_equal(g1, order(generator=tg.Generator().manual_seed(4)))
    with pytest.raises(TypeError, match="seed= or generator="):
        tg.utils.data.DataLoader(data, shuffle=True, seed=1, generator=tg.Generator())


def test_generator_errors_name_the_call():
    with pytest.raises(TypeError, match="randn: generator must be a tinygan.Generator, got int"):
        tg.randn(2, generator=3)
    with pytest.raises(TypeError, match="manual_seed: seed must be an integer"):
        tg.Generator().manual_seed("x")
    g = tg.Generator(device="standin")  # another backend's generator
    with pytest.raises(ValueError, match="rand: the generator belongs to the 'standin' backend"):
        tg.rand(2, generator=g)


def test_factories_take_size_as_a_keyword(torch):
    for name in ("randn", "rand", "zeros", "ones", "empty"):
        assert getattr(tg, name)(size=(2, 3)).shape == tuple(getattr(torch, name)(size=(2, 3)).shape)
    assert tg.zeros(size=4).shape == (4,)
    with pytest.raises(TypeError, match="either as arguments or as size="):
        tg.randn(2, size=(2,))


# ---------------------------------------------------------------- losses and activations
def _torch_copy(ours, theirs):
    """``ours`` given ``theirs``' weights (float64 both)."""
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_weight_and_pos_weight_match_pytorch(torch, reduction):
    rng = np.random.default_rng(0)
    a, t = rng.standard_normal((4, 3)), rng.uniform(size=(4, 3))
    w, pw = rng.uniform(size=(3,)), np.array([2.0, 0.5, 1.0])
    x, tx = tg.tensor(a, dtype="float64", requires_grad=True), torch.tensor(a, requires_grad=True)
    cases = [
        (nn.BCEWithLogitsLoss(tg.tensor(w, dtype="float64"), reduction=reduction, pos_weight=tg.tensor(pw, dtype="float64")),
         torch.nn.BCEWithLogitsLoss(torch.tensor(w), reduction=reduction,
                                    pos_weight=torch.tensor(pw)), lambda v: v),
        (nn.BCEWithLogitsLoss(reduction=reduction, pos_weight=tg.tensor(pw, dtype="float64")),
         torch.nn.BCEWithLogitsLoss(reduction=reduction, pos_weight=torch.tensor(pw)),
         lambda v: v),
        (nn.BCELoss(tg.tensor(w, dtype="float64"), reduction=reduction),
         torch.nn.BCELoss(torch.tensor(w), reduction=reduction), lambda v: v.sigmoid()),
    ]
    for ours, theirs, pre in cases:
        ours.double()
        x.grad, tx.grad = None, None
        lo, lt = ours(pre(x), tg.tensor(t, dtype="float64")), theirs(pre(tx), torch.tensor(t))
        same(lo, lt)
        lo.sum().backward()
        lt.sum().backward()
        np.testing.assert_allclose(host(x.grad), tx.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_bce_weight_that_does_not_broadcast_is_named():
    p = tg.rand(4, 3)
    with pytest.raises(ValueError, match=r"binary_cross_entropy: weight of shape \(5,\) does not"
                                         r" broadcast to the input's shape \(4, 3\)"):
        nn.functional.binary_cross_entropy(p, tg.ones(4, 3), tg.ones(5))


def test_softplus_beta_and_logsigmoid_match_pytorch(pair, torch):
    x, tx = pair
    same(nn.functional.softplus(x, beta=2.0), torch.nn.functional.softplus(tx, beta=2.0))
    same(nn.Softplus(0.5)(x), torch.nn.Softplus(0.5)(tx))
    same(nn.functional.logsigmoid(x), torch.nn.functional.logsigmoid(tx))
    same(nn.LogSigmoid()(x), torch.nn.LogSigmoid()(tx))
    big = tg.tensor([30.0, 50.0], dtype="float64")  # past PyTorch's threshold: the identity
    same(nn.functional.softplus(big), torch.nn.functional.softplus(torch.tensor([30.0, 50.0])))


# ---------------------------------------------------------------- convolution arguments
def test_conv_padding_same_valid_and_plain_arguments_match_pytorch(torch):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 3, 7, 6))
    for kw in (dict(padding="same"), dict(padding="valid"),
               dict(padding=1, dilation=1, groups=1, padding_mode="zeros")):
        theirs = torch.nn.Conv2d(3, 4, (3, 5), **kw).double()
        ours = _torch_copy(nn.Conv2d(3, 4, (3, 5), **kw).double(), theirs)
        same(ours(tg.tensor(a, dtype="float64")), theirs(torch.tensor(a)), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("size", [(9, 9), (10, 10), (1, 2, 10, 9)])
def test_conv_transpose_output_size_matches_pytorch(torch, size):
    a = np.random.default_rng(0).standard_normal((1, 2, 5, 5))
    theirs = torch.nn.ConvTranspose2d(2, 3, 3, 2, 1).double()
    ours = _torch_copy(nn.ConvTranspose2d(2, 3, 3, 2, 1).double(), theirs)
    same(ours(tg.tensor(a, dtype="float64"), output_size=size), theirs(torch.tensor(a), output_size=size),
         rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("make, message", [
    (lambda: nn.Conv2d(2, 3, 3, dilation=2), "Conv2d: dilation=2 is not supported"),
    (lambda: nn.Conv2d(2, 3, 3, groups=2), "Conv2d: groups=2 is not supported"),
    (lambda: nn.ConvTranspose2d(2, 3, 3, padding_mode="reflect"),
     "ConvTranspose2d: padding_mode='reflect' is not supported"),
    (lambda: nn.Conv2d(2, 3, 4, padding="same"), "even kernel"),
    (lambda: nn.Conv2d(2, 3, 3, 2, padding="same"), "padding='same' needs stride 1"),
    (lambda: nn.ConvTranspose2d(2, 2, 3, 2, 1)(tg.randn(1, 2, 5, 5), output_size=(12, 12)),
     r"output_size \(12, 12\) is out of reach .* \[9, 11\)"),
])
def test_conv_arguments_beyond_tinygans_are_refused_in_one_line(make, message):
    with pytest.raises(ValueError, match=message):
        make()


# ---------------------------------------------------------------- torch.* functions
def test_torch_functions_of_tensor_methods(pair, torch):
    x, tx = pair
    for name in ("add", "sub", "mul", "div", "subtract", "multiply", "divide"):
        same(getattr(tg, name)(x, 2.0), getattr(torch, name)(tx, 2.0))
    for name in ("neg", "square", "clone", "detach"):
        same(getattr(tg, name)(x), getattr(torch, name)(tx))
    for name in ("gt", "ge", "lt", "le", "eq", "ne"):
        np.testing.assert_array_equal(host(getattr(tg, name)(x, 0.1)),
                                      getattr(torch, name)(tx, 0.1).numpy())
        np.testing.assert_array_equal(host(getattr(x, name)(0.1)),
                                      getattr(tx, name)(0.1).numpy())
    same(tg.amax(x, dim=(1, 2)), torch.amax(tx, dim=(1, 2)))
    same(tg.masked_fill(x, x > 0, 0.0), torch.masked_fill(tx, tx > 0, 0.0))
    with pytest.raises(TypeError, match="mul: expected a Tensor as input, got list"):
        tg.mul([1.0], 2)


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid_matches_pytorch_and_passes_gradients(torch, indexing):
    ours = [tg.arange(3.0), tg.arange(4.0), tg.tensor([5.0, 6.0])]
    theirs = [torch.arange(3.0), torch.arange(4.0), torch.tensor([5.0, 6.0])]
    for k in (2, 3):
        for g, t in zip(tg.meshgrid(*ours[:k], indexing=indexing),
                        torch.meshgrid(*theirs[:k], indexing=indexing)):
            np.testing.assert_array_equal(host(g), t.numpy())
    x = tg.arange(3.0).requires_grad_()
    gx, gy = tg.meshgrid(x, tg.arange(4.0), indexing=indexing)
    gx.sum().backward()
    np.testing.assert_array_equal(host(x.grad), [4.0, 4.0, 4.0])  # each x appears 4 times


def test_seed_is_fresh_and_initial_seed_reports_it():
    a = tg.seed()
    assert tg.initial_seed() == a and tg.seed() != a  # nondeterministic, as torch.seed()
    tg.manual_seed(5)
    assert tg.initial_seed() == 5


def test_small_torch_spellings(torch):
    assert tg.get_default_dtype() == np.float32 and str(torch.get_default_dtype()) == \
        "torch.float32"
    assert tg.randn(2, 3).size() == tg.Size([2, 3]) and isinstance(tg.randn(2).size(), tg.Size)
    w = tg.randn(3, requires_grad=True)
    with tg.inference_mode():
        assert not (w * 2).requires_grad
    with tg.inference_mode(False):
        assert (w * 2).requires_grad
    y = w * 2
    assert y.detach_() is y and y.is_leaf and not y.requires_grad
    e = w.new_empty(2, 2)
    assert e.shape == (2, 2) and e.dtype == w.dtype and not e.requires_grad


# ---------------------------------------------------------------- torch.load's arguments
def test_load_takes_map_location_and_weights_only(tmp_path):
    path = str(tmp_path / "ck.pt")
    tg.save({"G": nn.Linear(2, 2).state_dict(), "step": 3}, path)
    for kw in (dict(map_location="cpu"), dict(map_location=tg.device("cpu")),
               dict(weights_only=True), dict(weights_only=False, mmap=True)):
        out = tg.load(path, **kw)
        assert out["step"] == 3 and isinstance(out["G"]["weight"], np.ndarray)
    standin = tg.load(path, map_location="standin")["G"]["weight"]
    assert B.array_module(standin).__name__ != "numpy"  # moved to that backend's arrays
    with pytest.raises(TypeError, match="map_location must be a device"):
        tg.load(path, map_location={"cuda:0": "cpu"})
    with pytest.raises(TypeError, match="never use pickle"):
        tg.load(path, pickle_module=object())


def test_tensor_keeps_an_arrays_dtype_as_torch(torch):
    """torch.tensor(float64 array) is float64; Python floats take the default float32."""
    for data in (np.zeros(2), np.zeros(2, np.float32), np.zeros(2, np.int32), [1.0], [1], 1.0,
                 np.float64(2.0), [True]):
        ours, theirs = tg.tensor(data), torch.tensor(data)
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), data
    assert tg.tensor(tg.zeros(2, dtype=tg.float64)).dtype == np.float64
    assert tg.tensor(np.zeros(2), dtype=tg.float32).dtype == np.float32


# ---------------------------------------------------------------- layers made on a device / dtype
@pytest.mark.parametrize("make", [
    lambda **kw: nn.Linear(2, 3, **kw), lambda **kw: nn.Conv2d(1, 2, 3, **kw),
    lambda **kw: nn.ConvTranspose2d(1, 2, 3, **kw), lambda **kw: nn.BatchNorm2d(2, **kw),
    lambda **kw: nn.Embedding(4, 2, **kw), lambda **kw: nn.LayerNorm(3, **kw),
    lambda **kw: nn.GroupNorm(1, 2, **kw), lambda **kw: nn.InstanceNorm2d(2, affine=True, **kw),
])
def test_layers_take_device_and_dtype_as_pytorchs(make, torch):
    layer = make(device="cpu", dtype=tg.float64)
    assert {str(p.dtype) for p in layer.parameters()} == {"float64"}
    assert all(str(b.dtype) in ("float64", "int64") for b in layer.buffers() if b is not None)
    on_standin = make(device="standin")
    assert all(B.array_module(p.data).__name__ != "numpy" for p in on_standin.parameters())


def test_random_functions_of_pytorch():
    g = tg.Generator().manual_seed(0)
    a = tg.normal(0.0, 1.0, size=(3,), generator=g)
    g.manual_seed(0)
    np.testing.assert_array_equal(host(a), host(tg.normal(0.0, 1.0, size=(3,), generator=g)))
    assert tg.normal(tg.zeros(2, 1), tg.ones(3)).shape == (2, 3)  # broadcast, as torch
    for seed in range(3):
        # 20,000 draws: the mean's standard error is 0.014 for N(5, 2²) and 0.0032 for
        # Bernoulli(0.3); seeds 0–2 gave |mean − 5| ≤ 0.037, |std − 2| ≤ 0.014 and
        # |share − 0.3| ≤ 0.0069, each under half its bound
        tg.manual_seed(seed)
        spread = tg.normal(5.0, tg.full((20000,), 2.0))
        assert abs(spread.mean().item() - 5.0) < 0.1 and abs(spread.std().item() - 2.0) < 0.1
        flips = tg.bernoulli(tg.full((20000,), 0.3))
        assert set(np.unique(host(flips))) <= {0.0, 1.0}
        assert abs(flips.mean().item() - 0.3) < 0.02
    assert tg.bernoulli(tg.zeros(4), 1.0).tolist() == [1.0] * 4
    ints = tg.randint_like(tg.zeros(100, dtype=tg.long), 2, 5)
    assert ints.dtype == np.int64 and set(np.unique(host(ints))) <= {2, 3, 4}
    assert tg.ones(2, dtype=tg.float64).type_as(tg.randn(2)).dtype == np.float32
    with pytest.raises(TypeError, match="give size="):
        tg.normal(0.0, 1.0)


# ---------------------------------------------------------------- the same on the CuPy stand-in
def test_new_idioms_stay_on_the_device(backend):
    """Generator draws, x[i] = v, unflatten, the weighted losses and meshgrid on the active
    backend (the stand-in refuses any hidden copy to the host)."""
    xp = B.xp()
    g = tg.Generator().manual_seed(3)
    draws = [tg.randn(4, generator=g), tg.rand(4, generator=g), tg.randperm(4, generator=g),
             tg.empty(3).normal_(0, 1, generator=g), tg.normal(0.0, 1.0, size=(2,), generator=g),
             tg.bernoulli(tg.full((4,), 0.5), generator=g)]
    assert all(isinstance(d.data, xp.ndarray) for d in draws)
    g.manual_seed(3)
    np.testing.assert_array_equal(host(tg.randn(4, generator=g)), host(draws[0]))
    y = tg.zeros(3, 4)
    y[0] = 1.0
    y[1, 2:] = tg.tensor([5.0, 6.0])
    assert isinstance(y.data, xp.ndarray) and host(y)[1].tolist() == [0, 0, 5, 6]
    assert y.flatten().unflatten(0, (3, -1)).shape == (3, 4)
    logits = tg.randn(4, 3, requires_grad=True)
    loss = nn.BCEWithLogitsLoss(weight=tg.rand(3), pos_weight=tg.full((3,), 2.0))(
        logits, tg.rand(4, 3))
    loss.backward()
    assert isinstance(logits.grad.data, xp.ndarray) and np.isfinite(host(logits.grad)).all()
    gx, gy = tg.meshgrid(tg.arange(3.0), tg.arange(2.0), indexing="xy")
    assert gx.shape == (2, 3) and isinstance(gx.data, xp.ndarray)


# ---------------------------------------------------------------- hooks
def test_tensor_hooks_observe_and_replace_gradients_as_pytorch(torch):
    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        seen = []
        y = x * 2
        y.register_hook(lambda g: seen.append(g.tolist()))   # observes
        doubled = y.register_hook(lambda g: g * 2)           # replaces
        leaf = x.register_hook(lambda g: seen.append(("leaf", g.tolist())))
        (y ** 2).sum().backward()
        first = x.grad.tolist()
        doubled.remove()
        leaf.remove()
        x.grad = None
        (x * 2).pow(2).sum().backward()                      # a new graph: no hooks on it
        with x.register_hook(lambda g: g * 0):               # removed when the block ends
            (x * 3).sum().backward()
        return seen, first, x.grad.tolist()

    assert run(tg) == run(torch)


def test_tensor_hooks_run_in_autograd_grad_too(torch):
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x ** 3
        y.register_hook(lambda g: g + 1)
        return lib.autograd.grad(y.sum(), x)[0].tolist()

    assert run(tg) == run(torch) == [6.0, 24.0]  # 3x² · (1 + 1)


def test_tensor_hook_errors_name_the_tensor():
    with pytest.raises(RuntimeError, match=r"register_hook: the tensor of shape \(2,\) does not "
                                           r"require grad"):
        tg.zeros(2).register_hook(lambda g: g)
    x = tg.ones(2, requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: tg.ones(3))
    with pytest.raises(RuntimeError, match=r"returned \(3,\); it must return None or a Tensor"):
        y.sum().backward()
    with pytest.raises(TypeError, match="the hook must be callable"):
        x.register_hook(5)


def test_forward_hooks_record_and_replace_as_pytorch(torch):
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    theirs = theirs.double()
    ours = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    a = np.random.default_rng(0).standard_normal((5, 3))
    for model, x in ((ours, tg.tensor(a)), (theirs, torch.tensor(a))):
        acts = {}
        model[1].register_forward_hook(lambda m, i, o: acts.__setitem__("relu", o))
        handle = model[2].register_forward_pre_hook(lambda m, i: (i[0] * 0.5,))
        out = model(x)
        handle.remove()
        again = model(x)
        model.results = (acts["relu"], out, again)
    for o, t in zip(ours.results, theirs.results):
        same(o, t, rtol=1e-12, atol=1e-12)


def test_parameter_keeps_its_datas_float_dtype(torch):
    for data in (np.zeros(2), np.zeros(2, np.float32)):
        assert str(nn.Parameter(tg.from_numpy(data)).dtype) == \
            str(torch.nn.Parameter(torch.from_numpy(data)).dtype).replace("torch.", "")
    assert nn.Parameter(np.zeros(2)).dtype == np.float64
    assert nn.Parameter([1.0, 2.0]).dtype == np.float32  # Python floats: the default dtype


# ---------------------------------------------------------------- padding, sub-pixel, PReLU
@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate"])
def test_pad_modes_match_pytorch_with_gradients(torch, mode):
    a = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    for amounts in [(1, 2, 3, 0), (4, 4, 3, 3), (0, 0, 1, 1)]:
        x, tx = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        w = np.random.default_rng(1).standard_normal(
            torch.nn.functional.pad(tx, amounts, mode=mode).shape)
        yo, yt = nn.functional.pad(x, amounts, mode=mode), torch.nn.functional.pad(tx, amounts,
                                                                                 mode=mode)
        same(yo, yt)
        (yo * tg.tensor(w)).sum().backward()
        (yt * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(host(x.grad), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_padding_layers_and_refusals(torch):
    a = np.random.default_rng(0).standard_normal((1, 2, 4, 4))
    for ours, theirs in ((nn.ZeroPad2d(1), torch.nn.ZeroPad2d(1)),
                         (nn.ConstantPad2d((1, 0, 2, 1), 0.5), torch.nn.ConstantPad2d((1, 0, 2, 1),
                                                                                     0.5)),
                         (nn.ReflectionPad2d(3), torch.nn.ReflectionPad2d(3)),
                         (nn.ReplicationPad2d((2, 1, 0, 3)), torch.nn.ReplicationPad2d((2, 1, 0,
                                                                                       3)))):
        same(ours(tg.tensor(a)), theirs(torch.tensor(a)))
    with pytest.raises(ValueError, match="reflect padding of 4 needs dim 3 to be longer"):
        nn.ReflectionPad2d(4)(tg.tensor(a))
    with pytest.raises(ValueError, match="mode='replicate' takes no negative amounts"):
        nn.functional.pad(tg.tensor(a), (-1, 0), mode="replicate")
    with pytest.raises(ValueError, match="mode must be 'constant', 'reflect' or 'replicate'"):
        nn.functional.pad(tg.tensor(a), (1, 1), mode="circular")


def test_pixel_shuffle_prelu_hardtanh_match_pytorch(torch):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 8, 3, 4))
    same(nn.PixelShuffle(2)(tg.tensor(a)), torch.nn.PixelShuffle(2)(torch.tensor(a)))
    same(nn.PixelUnshuffle(2)(tg.tensor(a[:, :, :2])),
         torch.nn.PixelUnshuffle(2)(torch.tensor(a[:, :, :2])))
    for k in (1, 8):
        theirs = torch.nn.PReLU(k, init=0.1).double()
        ours = nn.PReLU(k, init=0.1).double()
        ours.weight.data[...] = rng.uniform(0, 0.5, size=k)
        theirs.weight.data = torch.tensor(host(ours.weight))
        x, tx = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        yo, yt = ours(x), theirs(tx)
        same(yo, yt)
        yo.pow(2).sum().backward()
        yt.pow(2).sum().backward()
        np.testing.assert_allclose(host(ours.weight.grad), theirs.weight.grad.numpy(), rtol=1e-12)
        np.testing.assert_allclose(host(x.grad), tx.grad.numpy(), rtol=1e-12)
    same(nn.Hardtanh(-0.5, 0.5)(tg.tensor(a)), torch.nn.Hardtanh(-0.5, 0.5)(torch.tensor(a)))
    with pytest.raises(ValueError, match="pixel_shuffle: expected"):
        nn.PixelShuffle(3)(tg.tensor(a))
