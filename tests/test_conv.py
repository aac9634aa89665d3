"""conv2d / conv_transpose2d / conv2d_weight and the Conv2d / ConvTranspose2d layers.

* finite-difference gradchecks (float64) w.r.t. every input incl. bias, over odd
  sizes, stride 1/2/3, padding 0-2, output_padding, non-square inputs and
  kernels, batch size 1; second-order gradchecks (double backprop);
* the adjoint identity ⟨conv2d(x, w), y⟩ = ⟨x, conv_transpose2d(y, w)⟩ (MATH.md §2);
* a loop-free NumPy reference (sum over kernel offsets) on both backends;
* PyTorch comparisons of forward and all gradients (float64 and float32),
  of a WGAN-GP-style gradient of a gradient, and of the default init;
* errors for bad input, and float32 staying float32.
"""
import math

import numpy as np
import pytest

import tinygan
from tinygan import backend as B
from tinygan import nn
from tinygan.autograd import Tensor, grad
from tinygan.ops import conv as conv_ops
from tinygan.ops.conv import conv2d, conv2d_weight, conv_transpose2d
from tinygan.testing.gradcheck import gradcheck, gradgradcheck


@pytest.fixture(params=["channels_last", "channels_first", "channels_last_blocked",
                        "channels_last_blocked_2_threads"])
def col_layout(request, monkeypatch):
    """Run a test with col2im's columns channels-last and channels-first (the layout
    otherwise depends on the channel count, so tiny test tensors would only see one),
    and with cache blocking forced down to one batch element per slice (otherwise
    only large batches are split, so tiny test tensors would never be), the slices
    run serially and on two host threads (backend.parallel_for)."""
    monkeypatch.setattr(conv_ops, "CHANNELS_FIRST_BELOW",
                        10 ** 9 if request.param == "channels_first" else 0)
    if request.param.startswith("channels_last_blocked"):
        monkeypatch.setattr(conv_ops, "COLUMN_CHUNK_BYTES", 1)
        monkeypatch.setattr(conv_ops, "CHUNK_MIN_ROWS", 1)
        monkeypatch.setattr(conv_ops, "THREAD_MIN_ROWS", 1)
    threads = 2 if request.param.endswith("2_threads") else 1
    with B.num_threads(threads):
        yield request.param


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _t(shape, seed, requires_grad=True, dtype=None):
    """A random tensor on the active backend (host NumPy draw, explicit transfer)."""
    dtype = dtype or B.default_dtype()
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return Tensor(B.to_device(a), requires_grad=requires_grad)


# ------------------------------------------------------------------ NumPy reference
def ref_conv2d(x, w, stride, padding):
    """Direct definition: y[n,o,i,j] = Σ_{c,a,b} x_pad[n,c,i·s+a,j·s+b] w[o,c,a,b]."""
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp_ = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh, ow = (h + 2 * ph - kh) // sh + 1, (wd + 2 * pw - kw) // sw + 1
    y = np.zeros((n, o, oh, ow), dtype=x.dtype)
    for a in range(kh):
        for b in range(kw):
            patch = xp_[:, :, a:a + sh * (oh - 1) + 1:sh, b:b + sw * (ow - 1) + 1:sw]
            y += np.einsum("nchw,oc->nohw", patch, w[:, :, a, b])
    return y


def ref_conv_transpose2d(x, w, stride, padding, output_padding):
    """Direct definition: every input pixel scatters x[n,ci,i,j]·w[ci,co,:,:] at (i·s, j·s)."""
    (sh, sw), (ph, pw), (oph, opw) = _pair(stride), _pair(padding), _pair(output_padding)
    n, cin, h, wd = x.shape
    _, cout, kh, kw = w.shape
    oh, ow = (h - 1) * sh - 2 * ph + kh + oph, (wd - 1) * sw - 2 * pw + kw + opw
    canvas = np.zeros((n, cout, oh + 2 * ph + sh, ow + 2 * pw + sw), dtype=x.dtype)
    for a in range(kh):
        for b in range(kw):
            canvas[:, :, a:a + sh * (h - 1) + 1:sh, b:b + sw * (wd - 1) + 1:sw] += \
                np.einsum("nchw,co->nohw", x, w[:, :, a, b])
    return canvas[:, :, ph:ph + oh, pw:pw + ow]


# (N, C, O, H, W, kernel, stride, padding)
CONV_CASES = [
    (2, 2, 3, 5, 5, 3, 1, 0),
    (1, 2, 3, 7, 6, 3, 2, 1),              # odd, non-square, batch 1, stride 2
    (2, 1, 2, 7, 8, (3, 2), 3, 2),          # stride 3, padding 2, non-square kernel
    (1, 3, 2, 6, 5, 2, (2, 1), (1, 0)),     # per-axis stride and padding
    (2, 2, 2, 4, 4, 4, 2, 1),               # the DCGAN configuration
]
# (N, Cin, Cout, H, W, kernel, stride, padding, output_padding)
CONVT_CASES = [
    (1, 2, 3, 3, 4, 3, 1, 0, 0),
    (2, 2, 2, 3, 3, 4, 2, 1, 1),            # output_padding 1
    (1, 3, 2, 2, 3, 3, 3, 2, (1, 2)),       # stride 3, padding 2
    (1, 2, 1, 4, 3, (2, 3), (2, 1), (0, 1), (1, 0)),
    (2, 2, 2, 3, 3, 4, 2, 1, 0),            # the DCGAN configuration
]


def _conv_inputs(case, seed=0, bias=True):
    n, c, o, h, w, k, s, p = case
    kh, kw = _pair(k)
    x = _t((n, c, h, w), seed)
    wt = _t((o, c, kh, kw), seed + 1)
    b = _t((o,), seed + 2) if bias else None
    return x, wt, b, s, p


def _convt_inputs(case, seed=0, bias=True):
    n, ci, co, h, w, k, s, p, op = case
    kh, kw = _pair(k)
    x = _t((n, ci, h, w), seed)
    wt = _t((ci, co, kh, kw), seed + 1)
    b = _t((co,), seed + 2) if bias else None
    return x, wt, b, s, p, op


# ------------------------------------------------------------------ finite differences
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d_gradcheck(float64, col_layout, case):
    x, w, b, s, p = _conv_inputs(case)
    assert gradcheck(lambda x, w, b: conv2d(x, w, b, stride=s, padding=p), [x, w, b])


@pytest.mark.parametrize("case", CONVT_CASES)
def test_conv_transpose2d_gradcheck(float64, col_layout, case):
    x, w, b, s, p, op = _convt_inputs(case)
    assert gradcheck(lambda x, w, b: conv_transpose2d(x, w, b, s, p, op), [x, w, b])


@pytest.mark.parametrize("case", CONV_CASES[1:4])
def test_conv2d_weight_gradcheck(float64, case):
    n, c, o, h, w, k, s, p = case
    kh, kw = _pair(k)
    x = _t((n, c, h, w), 0)
    y_shape = conv2d(x, _t((o, c, kh, kw), 1, False), stride=s, padding=p).shape
    gy = _t(y_shape, 2)
    assert gradcheck(lambda x, gy: conv2d_weight(x, gy, (o, c, kh, kw), s, p), [x, gy])


def test_gradcheck_on_standin(float64):
    """The same check on the CuPy stand-in (proves the backward has no host round-trip)."""
    tinygan.set_backend("standin")
    x, w, b, s, p = _conv_inputs(CONV_CASES[1])
    assert gradcheck(lambda x, w, b: conv2d(x, w, b, stride=s, padding=p), [x, w, b])
    x, w, b, s, p, op = _convt_inputs(CONVT_CASES[1])
    assert gradcheck(lambda x, w, b: conv_transpose2d(x, w, b, s, p, op), [x, w, b])


@pytest.mark.parametrize("case", [(1, 2, 2, 5, 4, 3, 2, 1, None), (2, 1, 2, 3, 3, 2, 1, 0, None)])
def test_conv2d_gradgradcheck(float64, col_layout, case):
    x, w, b, s, p = _conv_inputs(case[:8])
    assert gradgradcheck(lambda x, w, b: conv2d(x, w, b, stride=s, padding=p), [x, w, b])


@pytest.mark.parametrize("case", [(1, 2, 2, 2, 3, 3, 2, 1, 1), (1, 1, 2, 3, 2, 2, 1, 0, 0)])
def test_conv_transpose2d_gradgradcheck(float64, col_layout, case):
    x, w, b, s, p, op = _convt_inputs(case)
    assert gradgradcheck(lambda x, w, b: conv_transpose2d(x, w, b, s, p, op), [x, w, b])


def test_conv2d_weight_gradgradcheck(float64):
    x, gy = _t((1, 2, 4, 3), 0), _t((1, 2, 3, 1), 1)
    assert gradgradcheck(lambda x, gy: conv2d_weight(x, gy, (2, 2, 2, 2), 2, (1, 0)), [x, gy])


# ------------------------------------------------------------------ adjoint and reference
@pytest.mark.parametrize("case", CONV_CASES)
def test_adjoint_identity(backend, float64, col_layout, case):
    """⟨conv2d(x, w), y⟩ = ⟨x, conv_transpose2d(y, w)⟩; output_padding restores x's size."""
    x, w, _, s, p = _conv_inputs(case, bias=False)
    y_fwd = conv2d(x, w, stride=s, padding=p)
    y = _t(y_fwd.shape, 5)
    (sh, sw), (ph, pw), (kh, kw) = _pair(s), _pair(p), w.shape[2:]
    op = ((x.shape[2] + 2 * ph - kh) % sh, (x.shape[3] + 2 * pw - kw) % sw)
    xt = conv_transpose2d(y, w, stride=s, padding=p, output_padding=op)
    assert xt.shape == x.shape
    lhs = (y_fwd * y).sum().item()
    rhs = (x * xt).sum().item()
    assert abs(lhs - rhs) <= 1e-10 * max(1.0, abs(lhs))


@pytest.mark.parametrize("case", CONV_CASES[:4])
def test_conv2d_matches_reference(backend, float64, col_layout, case):
    x, w, b, s, p = _conv_inputs(case)
    y = conv2d(x, w, b, stride=s, padding=p)
    ref = ref_conv2d(x.numpy(), w.numpy(), s, p) + b.numpy().reshape(1, -1, 1, 1)
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-12, atol=1e-12)
    # Backward on the backend against the adjoint reference: dx = convT(g, w).
    g = _t(y.shape, 7, requires_grad=False)
    y.backward(g)
    (sh, sw), (ph, pw), (kh, kw) = _pair(s), _pair(p), w.shape[2:]
    op = ((x.shape[2] + 2 * ph - kh) % sh, (x.shape[3] + 2 * pw - kw) % sw)
    np.testing.assert_allclose(x.grad.numpy(), ref_conv_transpose2d(g.numpy(), w.numpy(), s, p, op),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), g.numpy().sum(axis=(0, 2, 3)), rtol=1e-12)


@pytest.mark.parametrize("case", CONVT_CASES)
def test_conv_transpose2d_matches_reference(backend, float64, col_layout, case):
    x, w, b, s, p, op = _convt_inputs(case)
    y = conv_transpose2d(x, w, b, s, p, op)
    ref = ref_conv_transpose2d(x.numpy(), w.numpy(), s, p, op) + b.numpy().reshape(1, -1, 1, 1)
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-12, atol=1e-12)
    g = _t(y.shape, 7, requires_grad=False)
    y.backward(g)
    np.testing.assert_allclose(x.grad.numpy(), ref_conv2d(g.numpy(), w.numpy(), s, p),
                               rtol=1e-12, atol=1e-12)


def test_layers_train_step_on_backend(backend):
    """A small conv/deconv stack runs forward, backward and double backward on each backend."""
    def run():
        tinygan.manual_seed(0)
        net = nn.Sequential(nn.Conv2d(2, 4, 3, stride=2, padding=1), nn.LeakyReLU(0.2),
                            nn.ConvTranspose2d(4, 2, 4, stride=2, padding=1))
        x = _t((2, 2, 6, 6), 0)
        y = net(x)
        assert y.shape == (2, 2, 6, 6) and y.dtype == np.float32
        (gx,) = grad((y * y).sum(), [x], create_graph=True)
        (gx * gx).sum().backward()
        return list(net.parameters())

    params = run()
    for prm in params:
        assert prm.grad.shape == prm.shape and prm.grad.dtype == np.float32
        assert B.array_module(prm.grad.data) is B.xp()
    # the values: the same as on NumPy (whose conv gradients tests above check in float64)
    backend_used = B.get_backend()
    B.set_backend("numpy")
    try:
        reference = run()
    finally:
        B.set_backend(backend_used)
    for prm, ref in zip(params, reference):
        np.testing.assert_allclose(B.to_numpy(prm.grad.data), ref.grad.numpy(), rtol=1e-5,
                                   atol=1e-6)
        assert np.abs(ref.grad.numpy()).max() > 0


# ------------------------------------------------------------------ PyTorch comparisons
def _torch_pair(torch, layer, tlayer):
    with torch.no_grad():
        tlayer.weight.copy_(torch.from_numpy(layer.weight.numpy()))
        if layer.bias is not None:
            tlayer.bias.copy_(torch.from_numpy(layer.bias.numpy()))


# (Conv2d args, input shape)
TORCH_CONV = [
    ((3, 8, 4, 2, 1), (4, 3, 16, 16)),
    ((4, 5, 3, 1, 1), (2, 4, 9, 7)),
    ((2, 3, (3, 2), (2, 3), (2, 0)), (3, 2, 11, 10)),
    ((5, 2, 1, 1, 0), (2, 5, 4, 5)),
    ((6, 4, 5, 3, 2), (1, 6, 13, 12)),
    ((8, 1, 4, 1, 0), (5, 8, 4, 4)),  # DCGAN's last D layer: 4x4 -> 1x1
    ((40, 36, 4, 2, 1), (2, 40, 6, 6)),  # >= 32 channels: channels-last col2im in backward
]
# (ConvTranspose2d args, input shape)
TORCH_CONVT = [
    ((8, 3, 4, 2, 1, 0), (4, 8, 7, 7)),
    ((4, 5, 3, 1, 1, 0), (2, 4, 6, 5)),
    ((3, 2, (3, 2), (2, 3), (1, 0), (1, 2)), (3, 3, 5, 4)),
    ((6, 4, 5, 3, 2, 2), (1, 6, 4, 5)),
    ((10, 6, 4, 1, 0, 0), (3, 10, 1, 1)),  # DCGAN's first G layer: 1x1 -> 4x4
    ((4, 1, 4, 2, 1, 1), (2, 4, 3, 3)),
    ((36, 40, 4, 2, 1, 0), (2, 36, 3, 3)),  # >= 32 channels: channels-last col2im
]


def _compare_layer(torch, layer, tlayer, x_np, dtype, rtol, atol):
    _torch_pair(torch, layer, tlayer)
    x = Tensor(x_np, requires_grad=True, dtype=dtype)
    tx = torch.tensor(x_np, requires_grad=True)
    y, ty = layer(x), tlayer(tx)
    assert y.shape == tuple(ty.shape) and y.dtype == dtype
    g_np = np.random.default_rng(9).standard_normal(y.shape).astype(dtype)
    y.backward(g_np)
    ty.backward(torch.from_numpy(g_np))

    def close(a, b, what):
        b = b.detach().numpy()
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol * max(1.0, np.abs(b).max()),
                                   err_msg=f"{layer!r}: {what}")
    close(y.numpy(), ty, "output")
    close(x.grad.numpy(), tx.grad, "input gradient")
    close(layer.weight.grad.numpy(), tlayer.weight.grad, "weight gradient")
    close(layer.bias.grad.numpy(), tlayer.bias.grad, "bias gradient")
    assert x.grad.dtype == layer.weight.grad.dtype == layer.bias.grad.dtype == dtype


@pytest.mark.parametrize("dtype,rtol,atol", [(np.float64, 1e-10, 1e-12),
                                             (np.float32, 1e-4, 1e-5)])
@pytest.mark.parametrize("args,shape", TORCH_CONV)
def test_conv2d_matches_torch(torch, args, shape, dtype, rtol, atol):
    with B.default_dtype_as(dtype):
        layer = nn.Conv2d(*args)
    tlayer = torch.nn.Conv2d(*args).to(torch.float64 if dtype == np.float64 else torch.float32)
    x = np.random.default_rng(3).standard_normal(shape).astype(dtype)
    _compare_layer(torch, layer, tlayer, x, dtype, rtol, atol)


@pytest.mark.parametrize("dtype,rtol,atol", [(np.float64, 1e-10, 1e-12),
                                             (np.float32, 1e-4, 1e-5)])
@pytest.mark.parametrize("args,shape", TORCH_CONVT)
def test_conv_transpose2d_matches_torch(torch, args, shape, dtype, rtol, atol):
    with B.default_dtype_as(dtype):
        layer = nn.ConvTranspose2d(*args)
    tlayer = torch.nn.ConvTranspose2d(*args).to(
        torch.float64 if dtype == np.float64 else torch.float32)
    x = np.random.default_rng(3).standard_normal(shape).astype(dtype)
    _compare_layer(torch, layer, tlayer, x, dtype, rtol, atol)


@pytest.mark.parametrize("transposed", [False, True])
def test_gradient_penalty_matches_torch(torch, float64, col_layout, transposed):
    """WGAN-GP needs d/dθ ‖∇ₓ D(x)‖²: a gradient of a gradient through the conv layers."""
    tinygan.manual_seed(1)
    if transposed:
        layers = [nn.ConvTranspose2d(2, 3, 4, 2, 1), nn.Tanh(), nn.ConvTranspose2d(3, 1, 3, 1, 1)]
        tl = [torch.nn.ConvTranspose2d(2, 3, 4, 2, 1), torch.nn.Tanh(),
              torch.nn.ConvTranspose2d(3, 1, 3, 1, 1)]
        shape = (2, 2, 3, 3)
    else:
        layers = [nn.Conv2d(2, 3, 4, 2, 1), nn.Tanh(), nn.Conv2d(3, 1, 3, 1, 0)]
        tl = [torch.nn.Conv2d(2, 3, 4, 2, 1), torch.nn.Tanh(), torch.nn.Conv2d(3, 1, 3, 1, 0)]
        shape = (2, 2, 6, 6)
    net, tnet = nn.Sequential(*layers), torch.nn.Sequential(*tl).double()
    for a, b in ((layers[0], tl[0]), (layers[2], tl[2])):
        _torch_pair(torch, a, b)
    x_np = np.random.default_rng(4).standard_normal(shape)
    x, tx = Tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    (gx,) = grad(net(x).sum(), x, create_graph=True)
    (gx * gx).sum().backward()
    (tgx,) = torch.autograd.grad(tnet(tx).sum(), tx, create_graph=True)
    (tgx * tgx).sum().backward()
    np.testing.assert_allclose(gx.numpy(), tgx.detach().numpy(), rtol=1e-10, atol=1e-12)
    checked = 0
    for (name, p), tp in zip(net.named_parameters(), tnet.parameters()):
        if tp.grad is None:  # the last bias does not influence ∇ₓ D(x)
            assert p.grad is None, name
            continue
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=name)
        checked += 1
    assert checked == 3


@pytest.mark.parametrize("transposed", [False, True])
def test_default_init_matches_torch(torch, transposed):
    """kaiming_uniform(a=√5): U(±1/sqrt(fan_in)), fan_in = weight.shape[1]·k·k as PyTorch
    (for ConvTranspose2d that is out_channels·k·k)."""
    cls, tcls = ((nn.ConvTranspose2d, torch.nn.ConvTranspose2d) if transposed
                 else (nn.Conv2d, torch.nn.Conv2d))
    layer, tlayer = cls(16, 48, 3), tcls(16, 48, 3)
    assert layer.weight.shape == tuple(tlayer.weight.shape)
    assert layer.bias.shape == tuple(tlayer.bias.shape)
    fan_in = (48 if transposed else 16) * 9
    for ours, theirs in ((layer.weight, tlayer.weight), (layer.bias, tlayer.bias)):
        bound = np.abs(theirs.detach().numpy()).max()
        assert np.abs(ours.numpy()).max() <= 1 / math.sqrt(fan_in) + 1e-7
        assert bound <= 1 / math.sqrt(fan_in) + 1e-7
    w = layer.weight.numpy()  # 6912 draws: the sample std is within ~3% of uniform's
    assert abs(w.std() / (1 / math.sqrt(fan_in) / math.sqrt(3)) - 1) < 0.05


# ------------------------------------------------------------------ dtype
@pytest.mark.parametrize("transposed", [False, True])
def test_float32_stays_float32(backend, transposed):
    layer = nn.ConvTranspose2d(3, 2, 4, 2, 1) if transposed else nn.Conv2d(3, 2, 4, 2, 1)
    x = _t((2, 3, 6, 6), 0, dtype=np.float32)
    y = layer(x)
    assert y.dtype == np.float32
    (gx,) = grad((y * y).sum(), x, create_graph=True)
    assert gx.dtype == np.float32
    (gx * gx).sum().backward()
    for p in layer.parameters():
        assert p.grad.dtype == np.float32


def test_mixed_dtypes_refused():
    x = Tensor(np.zeros((1, 2, 5, 5), np.float32))
    w = Tensor(np.zeros((3, 2, 3, 3)), dtype=np.float64)
    with pytest.raises(TypeError, match="float32.*float64"):
        conv2d(x, w)


# ------------------------------------------------------------------ bad input
def test_conv2d_layer_errors_name_the_layer():
    layer = nn.Conv2d(3, 64, 4, 2, 1)
    with pytest.raises(ValueError, match=r"Conv2d\(3, 64, k=4, s=2, p=1\): expected input "
                                         r"with 3 channels, got shape \(2, 4, 8, 8\)"):
        layer(Tensor(np.zeros((2, 4, 8, 8), np.float32)))
    with pytest.raises(ValueError, match=r"Conv2d\(3, 64.*4-D input.*\(3, 8, 8\)"):
        layer(Tensor(np.zeros((3, 8, 8), np.float32)))
    with pytest.raises(ValueError, match=r"Conv2d\(3, 64.*\(1, 3, 1, 1\) is smaller than the "
                                         r"kernel 4x4"):
        layer(Tensor(np.zeros((1, 3, 1, 1), np.float32)))


def test_conv_transpose2d_layer_errors_name_the_layer():
    layer = nn.ConvTranspose2d(128, 64, 4, 2, 1)
    with pytest.raises(ValueError, match=r"ConvTranspose2d\(128, 64, k=4, s=2, p=1\): expected "
                                         r"input with 128 channels, got shape \(2, 64, 7, 7\)"):
        layer(Tensor(np.zeros((2, 64, 7, 7), np.float32)))
    with pytest.raises(ValueError, match=r"output_padding \(2, 2\) must be smaller than the "
                                         r"stride \(2, 2\)"):
        nn.ConvTranspose2d(4, 4, 4, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="empty output"):
        nn.ConvTranspose2d(1, 1, 2, stride=1, padding=3)(Tensor(np.zeros((1, 1, 2, 2), np.float32)))


@pytest.mark.parametrize("kwargs,match", [
    ({"stride": 0}, "stride must be positive"),
    ({"stride": (1, -1)}, "stride must be positive"),
    ({"padding": -1}, "padding must be non-negative"),
    ({"stride": (1, 2, 3)}, "stride must be an int or a pair"),
    ({"padding": 1.5}, "padding must be an int or a pair of ints"),
])
def test_bad_hyperparameters(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        nn.Conv2d(2, 2, 3, **kwargs)
    x, w = Tensor(np.zeros((1, 2, 5, 5), np.float32)), Tensor(np.zeros((2, 2, 3, 3), np.float32))
    with pytest.raises((ValueError, TypeError), match=match):
        conv2d(x, w, **kwargs)


def test_bad_layer_sizes():
    with pytest.raises(ValueError, match="Conv2d: in_channels must be a positive integer"):
        nn.Conv2d(0, 4, 3)
    with pytest.raises(ValueError, match="ConvTranspose2d: kernel_size must be positive"):
        nn.ConvTranspose2d(2, 4, 0)


def test_functional_errors():
    x = Tensor(np.zeros((2, 3, 5, 5), np.float32))
    with pytest.raises(ValueError, match=r"conv2d: input has 3 channels \(shape \(2, 3, 5, 5\)\) "
                                         r"but the weight \(4, 2, 3, 3\) expects 2"):
        conv2d(x, Tensor(np.zeros((4, 2, 3, 3), np.float32)))
    with pytest.raises(ValueError, match=r"conv2d: .*\(2, 3, 5, 5\).*smaller than the kernel 6x6"):
        conv2d(x, Tensor(np.zeros((4, 3, 6, 6), np.float32)))
    with pytest.raises(ValueError, match=r"conv2d: expected a 4-D input .* got shape \(3, 5, 5\)"):
        conv2d(Tensor(np.zeros((3, 5, 5), np.float32)), Tensor(np.zeros((4, 3, 3, 3), np.float32)))
    with pytest.raises(ValueError, match=r"conv2d: weight must be 4-D"):
        conv2d(x, Tensor(np.zeros((4, 3, 3), np.float32)))
    with pytest.raises(ValueError, match=r"conv2d: bias must have shape \(4,\), got \(3,\)"):
        conv2d(x, Tensor(np.zeros((4, 3, 3, 3), np.float32)), Tensor(np.zeros(3, np.float32)))
    with pytest.raises(ValueError, match=r"conv_transpose2d: input has 3 channels .* expects 4"):
        conv_transpose2d(x, Tensor(np.zeros((4, 2, 3, 3), np.float32)))
    with pytest.raises(ValueError, match=r"conv_transpose2d: output_padding \(1, 1\) must be "
                                         r"smaller than the stride \(1, 1\)"):
        conv_transpose2d(x, Tensor(np.zeros((3, 2, 3, 3), np.float32)), output_padding=1)
    with pytest.raises(ValueError, match=r"conv2d_weight: .*do not match weight shape"):
        conv2d_weight(x, Tensor(np.zeros((2, 4, 2, 2), np.float32)), (4, 3, 3, 3))


@pytest.mark.parametrize("layout", ["nhwc", "cnhw", "sliced"])
def test_any_memory_layout(float64, col_layout, layout):
    """Inputs and upstream gradients in any memory layout (channels-last views made by
    earlier conv layers, channels-first, strided slices) give the contiguous result."""
    x_np = np.random.default_rng(0).standard_normal((2, 3, 9, 8))
    w_np = np.random.default_rng(1).standard_normal((4, 3, 3, 3))
    wt_np = np.random.default_rng(2).standard_normal((4, 3, 3, 3))

    def relayout(a):
        if layout == "nhwc":
            return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
        if layout == "cnhw":
            return np.ascontiguousarray(a.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
        big = np.zeros(a.shape[:2] + (2 * a.shape[2], a.shape[3] + 1))
        big[:, :, ::2, 1:] = a
        return big[:, :, ::2, 1:]

    results = []
    for arrange in (lambda a: a, relayout):
        x = Tensor(arrange(x_np), requires_grad=True)
        y = conv2d(x, Tensor(w_np), stride=2, padding=1)
        z = conv_transpose2d(y, Tensor(wt_np), stride=2, padding=1, output_padding=(0, 1))
        z.backward(arrange(np.ones(z.shape)))
        results.append((z.numpy(), x.grad.numpy()))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("keep", [True, False, "auto"])
@pytest.mark.parametrize("case", [CONV_CASES[2], CONV_CASES[4]])
def test_keep_columns_policies_agree(float64, monkeypatch, keep, case):
    """Kept forward columns and columns rebuilt in backward give the same gradients
    (and gradients of gradients); "auto" keeps them for case 2 (k 3x2, s 3: columns
    smaller than x) and rebuilds them for the DCGAN case (k 4, s 2: 4x the input)."""
    monkeypatch.setattr(conv_ops, "KEEP_COLUMNS", keep)
    x, w, b, s, p = _conv_inputs(case)
    y = conv2d(x, w, b, stride=s, padding=p)
    g = _t(y.shape, 7, requires_grad=False)
    y.backward(g)
    np.testing.assert_allclose(w.grad.numpy(), ref_conv2d_weight(x.numpy(), g.numpy(), w.shape,
                                                                 s, p), rtol=1e-12, atol=1e-12)
    assert gradgradcheck(lambda x, w: conv2d(x, w, stride=s, padding=p), [x, w])
    kept = conv2d(x, w, stride=s, padding=p)._ctx.cols is not None
    assert kept == (keep is True or (keep == "auto" and case is CONV_CASES[2]))


def ref_conv2d_weight(x, g, w_shape, stride, padding):
    """Direct definition: dw[o,c,a,b] = Σ_{n,i,j} g[n,o,i,j] x_pad[n,c,i·s+a,j·s+b]."""
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    _, _, kh, kw = w_shape
    oh, ow = g.shape[2:]
    xp_ = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    dw = np.zeros(w_shape, dtype=x.dtype)
    for a in range(kh):
        for b in range(kw):
            patch = xp_[:, :, a:a + sh * (oh - 1) + 1:sh, b:b + sw * (ow - 1) + 1:sw]
            dw[:, :, a, b] = np.einsum("nchw,nohw->oc", patch, g)
    return dw


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("n, rows, nbytes", [(64, 49, 200704), (64, 196, 12544), (128, 49, 200704),
                                             (5, 10, 10 ** 7), (1, 49, 10 ** 7), (64, 1, 32768),
                                             (8, 1024, 10 ** 7)])
def test_batch_slices_cover_the_batch_evenly(monkeypatch, threads, n, rows, nbytes):
    """The batch slices of the cache blocking: contiguous, covering 0 … n, sizes within
    one of each other, and with threads a multiple of the threads (or one per image)."""
    a = np.zeros(1, np.float32)
    with B.num_threads(threads):
        slices = conv_ops._batch_slices(a, n, rows, nbytes)
    few_rows = n * rows < 2 * conv_ops.CHUNK_MIN_ROWS
    if slices is None:  # one go: too few rows to split, or (1 thread) columns cache-sized
        assert few_rows or n * rows < threads * conv_ops.THREAD_MIN_ROWS or (
            threads == 1 and n * nbytes < 2 * conv_ops.COLUMN_CHUNK_BYTES)
        return
    assert slices[0][0] == 0 and slices[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(slices, slices[1:]))
    sizes = [j - i for i, j in slices]
    assert min(sizes) >= 1 and max(sizes) - min(sizes) <= 1
    if threads > 1:
        assert len(slices) % threads == 0 or len(slices) == n


def test_threaded_conv_is_deterministic_and_agrees_with_one_thread():
    """A DCGAN-28 conv layer's forward and both gradients in float32 on two host threads
    (the default slicing, no forcing): the same bits on every repeat (each slice writes
    its own rows; the weight gradient's partial sums are added in slice order), and
    within float32 rounding of one thread.  Observed: max relative difference 2.6e-7 (the
    weight gradients; 0 for the outputs and the input gradient);
    bound 1e-5."""
    x = _t((64, 64, 14, 14), 1, dtype=np.float32)
    w = _t((128, 64, 4, 4), 2, dtype=np.float32)
    wt = _t((64, 32, 4, 4), 3, dtype=np.float32)

    def run(threads):
        x.grad = w.grad = wt.grad = None
        with B.num_threads(threads):
            assert conv_ops._batch_slices(x.data, 64, 49, 49 * 16 * 64 * 4) is not None \
                or threads == 1
            y = conv2d(x, w, stride=2, padding=1)
            z = conv_transpose2d(x, wt, stride=2, padding=1)
            ((y * y).sum() + (z * z).sum()).backward()
        return [a.copy() for a in (y.numpy(), z.numpy(), x.grad.numpy(), w.grad.numpy(),
                                   wt.grad.numpy())]

    one, two, again = run(1), run(2), run(2)
    for a, b, c in zip(one, two, again):
        assert np.array_equal(b, c)
        assert np.max(np.abs(a - b)) <= 1e-5 * np.max(np.abs(a))
