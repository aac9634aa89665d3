"""Batch normalisation: gradients (first and second order), PyTorch parity, errors."""
import numpy as np
import pytest

import tinygan
from tinygan import backend as B
from tinygan import nn
from tinygan.autograd import Tensor, grad
from tinygan.ops import _util as ops_util
from tinygan.ops.batchnorm import batch_norm
from tinygan.testing import gradcheck, gradgradcheck


def _t(a, requires_grad=False, dtype=None):
    return Tensor(B.to_device(np.asarray(a)), requires_grad=requires_grad, dtype=dtype)


def _inputs(shape, seed=0, affine=True):
    rng = np.random.default_rng(seed)
    c = shape[1]
    x = _t(rng.standard_normal(shape) * 2.0 + 0.5, True, "float64")
    if not affine:
        return x, None, None
    w = _t(rng.uniform(0.5, 1.5, c), True, "float64")
    b = _t(rng.standard_normal(c), True, "float64")
    return x, w, b


@pytest.fixture(params=["1_thread", "2_threads"])
def threads(request, monkeypatch):
    """Run a test serially and with the batch split across two host threads (the
    split otherwise needs 2^16 elements per thread, so tiny test tensors would never
    see it)."""
    n = 2 if request.param == "2_threads" else 1
    monkeypatch.setattr(ops_util, "THREAD_MIN_ELEMENTS", 1)
    with B.num_threads(n):
        yield n


SHAPES = [(5, 3), (4, 2, 3), (2, 3, 3, 4), (1, 2, 3, 2)]  # incl. batch size 1 with H×W


# ---------------------------------------------------------------- gradient checks
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("affine", ["weight+bias", "weight", "bias", "none"])
def test_gradcheck_training(backend, float64, threads, shape, affine):
    x, w, b = _inputs(shape)
    w = w if "weight" in affine else None
    b = b if "bias" in affine else None
    inputs = [x] + [t for t in (w, b) if t is not None]

    def fn(x, *wb):
        it = iter(wb)
        return batch_norm(x, None, None, next(it) if w is not None else None,
                          next(it) if b is not None else None, training=True)

    assert gradcheck(fn, inputs)
    if affine in ("weight", "bias"):  # second order with a partial affine transform too
        assert gradgradcheck(fn, inputs)


@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 3, 4)])
def test_gradcheck_eval(backend, float64, shape):
    x, w, b = _inputs(shape, seed=1)
    rng = np.random.default_rng(2)
    rm = _t(rng.standard_normal(shape[1]), dtype="float64")
    rv = _t(rng.uniform(0.5, 2.0, shape[1]), dtype="float64")
    assert gradcheck(lambda x, w, b: batch_norm(x, rm, rv, w, b, training=False), [x, w, b])
    assert gradcheck(lambda x, b: batch_norm(x, rm, rv, None, b, training=False), [x, b])
    assert gradcheck(lambda x: batch_norm(x, rm, rv, training=False), [x])


@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 3, 4)])
def test_gradgradcheck_training(backend, float64, threads, shape):
    x, w, b = _inputs(shape, seed=3)
    assert gradgradcheck(lambda x, w, b: batch_norm(x, None, None, w, b, training=True),
                         [x, w, b])


@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 3, 4)])
def test_gradgradcheck_eval(backend, float64, shape):
    x, w, b = _inputs(shape, seed=4)
    rm = _t(np.linspace(-1, 1, shape[1]), dtype="float64")
    rv = _t(np.linspace(0.5, 2, shape[1]), dtype="float64")
    assert gradgradcheck(lambda x, w, b: batch_norm(x, rm, rv, w, b, training=False),
                         [x, w, b])


def test_layer_gradcheck_in_training_mode(backend, float64, threads):
    """The layer itself (buffers updated on every call) in train mode."""
    layer = nn.BatchNorm2d(3)
    layer.weight.data = B.to_device(np.array([0.7, 1.3, 1.0]))
    x = _inputs((2, 3, 2, 3), seed=5)[0]
    assert gradcheck(lambda x, w, b: layer(x), [x, layer.weight, layer.bias])
    assert gradgradcheck(lambda x, w, b: layer(x), [x, layer.weight, layer.bias])


def test_fused_and_graph_backward_agree(backend, float64, threads):
    """The fast array backward (create_graph=False) and the differentiable one agree."""
    x, w, b = _inputs((6, 4, 3, 2), seed=6)
    v = _t(np.random.default_rng(7).standard_normal((6, 4, 3, 2)), dtype="float64")
    fast = grad((batch_norm(x, None, None, w, b, training=True) * v).sum(), [x, w, b])
    slow = grad((batch_norm(x, None, None, w, b, training=True) * v).sum(), [x, w, b],
                create_graph=True)
    for f, s in zip(fast, slow):
        np.testing.assert_allclose(f.numpy(), s.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_normalised_output_statistics(backend, threads, seed):
    """Training output has per-channel mean 0 and biased variance σ²/(σ² + ε) (γ=1, β=0)."""
    tinygan.manual_seed(seed)
    layer = nn.BatchNorm2d(4)
    x = tinygan.randn(8, 4, 5, 5) * 3.0 + 2.0
    y = layer(x).numpy().astype(np.float64)
    var = x.numpy().astype(np.float64).var(axis=(0, 2, 3))
    # an identity for any sample, up to float32 rounding: observed |mean| <= 7.0e-8 and
    # relative variance error <= 1.24e-7 over seeds 0-2, both backends and BLAS kernels
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-6)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), var / (var + 1e-5), rtol=1e-6)


def test_float32_preserved(backend):
    layer = nn.BatchNorm2d(3)
    x = tinygan.randn(4, 3, 2, 2, requires_grad=True)
    y = layer(x)
    (y * y).sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32
    assert layer.weight.grad.dtype == np.float32 and layer.bias.grad.dtype == np.float32
    assert layer.running_mean.dtype == np.float32 and layer.running_var.dtype == np.float32
    layer.eval()
    assert layer(x).dtype == np.float32


# ---------------------------------------------------------------- PyTorch parity
def _torch_layer(torch, cls_name, c, **kw):
    return getattr(torch.nn, cls_name)(c, **kw)


CONFIGS = [
    ("BatchNorm1d", (8, 5), {}),
    ("BatchNorm1d", (2, 3), {"momentum": 0.3}),
    ("BatchNorm1d", (4, 3, 6), {}),
    ("BatchNorm2d", (4, 3, 5, 6), {}),
    ("BatchNorm2d", (1, 2, 3, 3), {"eps": 1e-3}),
    ("BatchNorm2d", (3, 4, 2, 5), {"affine": False}),
    ("BatchNorm2d", (5, 2, 3, 3), {"momentum": None}),
    ("BatchNorm2d", (4, 3, 3, 3), {"track_running_stats": False}),
]


@pytest.mark.parametrize("cls_name,shape,kw", CONFIGS)
def test_matches_pytorch(backend, threads, torch, cls_name, shape, kw):
    rng = np.random.default_rng(10)
    c = shape[1]
    ours = getattr(nn, cls_name)(c, **kw)
    ref = _torch_layer(torch, cls_name, c, **kw)
    if ours.affine:
        w0, b0 = rng.uniform(0.5, 1.5, c).astype("f4"), rng.standard_normal(c).astype("f4")
        ours.weight.data, ours.bias.data = B.to_device(w0), B.to_device(b0)
        with torch.no_grad():
            ref.weight.copy_(torch.from_numpy(w0))
            ref.bias.copy_(torch.from_numpy(b0))

    def compare_step(x_np, v_np):
        x = _t(x_np, True)
        y = ours(x)
        (y * _t(v_np)).sum().backward()
        xt = torch.from_numpy(x_np).requires_grad_(True)
        yt = ref(xt)
        (yt * torch.from_numpy(v_np)).sum().backward()
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
        if ours.affine:
            np.testing.assert_allclose(ours.weight.grad.numpy(), ref.weight.grad.numpy(),
                                       rtol=1e-4, atol=1e-4)
            np.testing.assert_allclose(ours.bias.grad.numpy(), ref.bias.grad.numpy(),
                                       rtol=1e-5, atol=1e-5)
            ours.zero_grad()
            ref.zero_grad()

    # several training steps with shifting data: running statistics must track PyTorch's
    for step in range(4):
        x_np = (rng.standard_normal(shape) * (1 + step) + step).astype("f4")
        compare_step(x_np, rng.standard_normal(shape).astype("f4"))
    if ours.track_running_stats:
        np.testing.assert_allclose(ours.running_mean.numpy(), ref.running_mean.numpy(),
                                   rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(ours.running_var.numpy(), ref.running_var.numpy(),
                                   rtol=1e-5, atol=1e-6)
        assert int(ours.num_batches_tracked.numpy()) == int(ref.num_batches_tracked) == 4
    else:
        assert ours.running_mean is None and "running_mean" not in ours.state_dict()

    # evaluation mode: running statistics are used and stay unchanged; backward works
    ours.eval()
    ref.eval()
    before = None if not ours.track_running_stats else ours.running_mean.numpy().copy()
    compare_step(rng.standard_normal(shape).astype("f4") * 2,
                 rng.standard_normal(shape).astype("f4"))
    if before is not None:
        np.testing.assert_array_equal(ours.running_mean.numpy(), before)


def test_layout_buffers_and_parameters(backend):
    layer = nn.BatchNorm2d(6)
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    assert list(layer.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                        "num_batches_tracked"]
    np.testing.assert_array_equal(layer.weight.numpy(), np.ones(6, "f4"))
    np.testing.assert_array_equal(layer.bias.numpy(), np.zeros(6, "f4"))
    np.testing.assert_array_equal(layer.running_var.numpy(), np.ones(6, "f4"))
    assert not layer.running_mean.requires_grad
    assert layer.num_batches_tracked.numpy().dtype == np.int64
    plain = nn.BatchNorm1d(4, affine=False)
    assert list(plain.parameters()) == []


def test_reset_running_stats(backend):
    layer = nn.BatchNorm1d(3)
    layer(tinygan.randn(5, 3) + 4.0)
    assert np.abs(layer.running_mean.numpy()).max() > 0.1
    layer.reset_running_stats()
    np.testing.assert_array_equal(layer.running_mean.numpy(), np.zeros(3, "f4"))
    assert int(layer.num_batches_tracked.numpy()) == 0


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("cls,shape", [(nn.BatchNorm1d, (1, 3)), (nn.BatchNorm1d, (1, 3, 1)),
                                       (nn.BatchNorm2d, (1, 3, 1, 1))])
def test_single_value_per_channel_is_an_error_in_training(backend, cls, shape):
    layer = cls(3)
    x = tinygan.zeros(*shape)
    with pytest.raises(ValueError) as err:
        layer(x)
    msg = str(err.value)
    assert f"{cls.__name__}(3)" in msg and str(shape) in msg and "1 value per channel" in msg
    assert int(layer.num_batches_tracked.numpy()) == 0  # nothing was half-updated
    layer.eval()
    assert layer(x).shape == shape  # evaluation with running stats is fine


def test_single_value_functional_error(backend):
    with pytest.raises(ValueError, match=r"batch_norm.*\(1, 4\)"):
        batch_norm(tinygan.zeros(1, 4), training=True)


@pytest.mark.parametrize("cls,shape", [(nn.BatchNorm2d, (2, 3, 4, 4)),
                                       (nn.BatchNorm2d, (2, 4)),
                                       (nn.BatchNorm1d, (2, 5)),
                                       (nn.BatchNorm1d, (2, 4, 3, 3))])
def test_channel_or_rank_mismatch(backend, cls, shape):
    layer = cls(4)
    with pytest.raises(ValueError) as err:
        layer(tinygan.zeros(*shape))
    msg = str(err.value)
    assert f"{cls.__name__}(4)" in msg and str(shape) in msg and "C = 4" in msg


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="num_features"):
        nn.BatchNorm2d(0)
    with pytest.raises(ValueError, match="eps"):
        nn.BatchNorm1d(3, eps=0)
    with pytest.raises(ValueError, match="momentum"):
        nn.BatchNorm1d(3, momentum=1.5)


def test_functional_parameter_shape_error(backend):
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\).*\(4,\)"):
        batch_norm(tinygan.randn(4, 3), weight=tinygan.ones(4), training=True)


def test_input_without_grad(backend, float64):
    """Real images do not require grad: γ, β still get theirs (both backward paths)."""
    x, w, b = _inputs((4, 3, 2, 2), seed=8)
    x_const = x.detach()
    for create_graph in (False, True):
        ref = grad((batch_norm(x, None, None, w, b, training=True) ** 2).sum(), [w, b])
        got = grad((batch_norm(x_const, None, None, w, b, training=True) ** 2).sum(), [w, b],
                   create_graph=create_graph)
        for r, g in zip(ref, got):
            np.testing.assert_allclose(g.numpy(), r.numpy(), rtol=1e-12, atol=1e-12)


def test_eval_graph_unaffected_by_later_running_stat_update(backend):
    """Backward of an eval-mode output uses the statistics of its forward, even if a
    training step has updated the buffers in place in between."""
    layer = nn.BatchNorm1d(3)
    layer(tinygan.randn(8, 3) * 2.0 + 1.0)
    layer.eval()
    x = tinygan.randn(5, 3)
    expected = grad((layer(x) ** 2).sum(), [layer.weight])[0].numpy()
    y = layer(x)
    layer.train()
    layer(tinygan.randn(8, 3) * 5.0 - 3.0)  # moves running_mean / running_var in place
    got = grad((y ** 2).sum(), [layer.weight])[0].numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_threaded_batch_norm_is_deterministic_and_agrees_with_one_thread(backend):
    """A DCGAN-28 batch-norm layer (64 × 64 × 14 × 14, float32) in training mode on two
    host threads (the default split, no forcing): the same bits on every repeat (the
    per-slice partial sums are added in slice order), and within float32 rounding of one
    thread.  Observed: max relative difference 1.9e-7 (output), 2.0e-7 (input
    gradient), 2.3e-7 (γ, β gradients), 1.3e-7 (running variance); bound 1e-5."""
    rng = np.random.default_rng(11)
    x_np = (rng.standard_normal((64, 64, 14, 14)) * 3 + 1).astype("f4")
    v = _t(rng.standard_normal(x_np.shape).astype("f4"))

    def run(threads):
        layer = nn.BatchNorm2d(64)
        x = _t(x_np, True)
        with B.num_threads(threads):
            if backend == "numpy":
                assert (ops_util.batch_slices_for_threads(x.data) is None) == (threads == 1)
            y = layer(x)
            (y * v).sum().backward()
        return [a.copy() for a in (y.numpy(), x.grad.numpy(), layer.weight.grad.numpy(),
                                   layer.bias.grad.numpy(), layer.running_var.numpy())]

    one, two, again = run(1), run(2), run(2)
    for a, b, c in zip(one, two, again):
        assert np.array_equal(b, c)
        assert np.max(np.abs(a - b)) <= 1e-5 * np.max(np.abs(a))
