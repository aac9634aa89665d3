"""The ops and layers added for PyTorch code: forward and first/second derivatives checked
by finite differences in float64 (on NumPy and the CuPy stand-in), and compared with
PyTorch where it is installed.

Covered: the Tensor methods norm / clamp / pow / expand / repeat / permute / transpose /
flatten / squeeze / unsqueeze / clone / to(device), ``interpolate`` (nearest, bilinear,
align_corners), ``Upsample``, ``Dropout`` / ``Dropout2d``, ``Embedding``, the loss modules,
``nn.init``, ``Identity`` / ``ModuleList`` / ``ModuleDict``, ``Module.to``.
"""
import math

import numpy as np
import pytest

import tinygan as tg
from tinygan import backend as B
from tinygan import nn
from tinygan.nn import functional as F
from tinygan.testing.gradcheck import gradcheck, gradgradcheck


def rnd(*shape, seed=0, grad=True, lo=-2.0, hi=2.0):
    a = np.random.default_rng(seed).uniform(lo, hi, size=shape)
    return tg.Tensor(a, requires_grad=grad)


def host(t):
    return B.to_numpy(t.data)


def _torch_of(torch, t, grad=True):
    return torch.tensor(host(t), dtype=torch.float64, requires_grad=grad)


# ---------------------------------------------------------------- finite differences
SMOOTH_OPS = {
    "norm2_all": lambda x: x.norm(),
    "norm2_dim1": lambda x: x.norm(2, dim=1),
    "norm2_keep": lambda x: x.norm(p=2, dim=(1, 2), keepdim=True),
    "norm_p3": lambda x: x.norm(3, dim=0),
    "pow": lambda x: x.pow(3),
    "expand": lambda x: x[:, :1].expand(3, 4, 5) * x,
    "expand_new_dim": lambda x: x[0].expand(2, 4, 5),
    "repeat": lambda x: x.repeat(2, 1, 3),
    "repeat_lead": lambda x: x[0].repeat(3, 2, 1),
    "permute": lambda x: x.permute(2, 0, 1),
    "transpose": lambda x: x.transpose(0, 2),
    "flatten": lambda x: x.flatten(),
    "flatten_mid": lambda x: x.flatten(0, 1),
    "unsqueeze_squeeze": lambda x: x.unsqueeze(1).squeeze(1) * x,
    "clone": lambda x: x.clone() * x,
    "view": lambda x: x.view(3, -1),
    "std": lambda x: x.std(dim=1),
    "var_keep": lambda x: x.var(dim=(0, 2), keepdim=True, unbiased=False),
    "mean_dim": lambda x: x.mean(dim=1, keepdim=True),
    "max_dim": lambda x: x.max(dim=2).values,
    "softmax": lambda x: F.softmax(x, dim=1),
    "log_softmax": lambda x: F.log_softmax(x, dim=-1),
    "to_standin_and_back": lambda x: (x.to("standin") * 2.0).to(x.device),
    "interp_nearest2x": lambda x: F.interpolate(x[None], scale_factor=2),
    "interp_nearest_size": lambda x: F.interpolate(x[None], size=(7, 3)),
    "interp_bilinear2x": lambda x: F.interpolate(x[None], scale_factor=2, mode="bilinear"),
    "interp_bilinear_size": lambda x: F.interpolate(x[None], size=(5, 8), mode="bilinear"),
    "interp_bilinear_corners": lambda x: F.interpolate(x[None], size=(6, 9), mode="bilinear",
                                                      align_corners=True),
    "interp_linear3d": lambda x: F.interpolate(x, scale_factor=1.5, mode="linear"),
    "interp_then_square": lambda x: F.interpolate(x[None] * x[None], scale_factor=2,
                                                  mode="bilinear"),
}
KINKED_OPS = {  # inputs drawn away from the kinks (|x| >= 0.2, bounds at ±0.1 / ±3)
    "clamp_min": lambda x: x.clamp(min=0.1),
    "clamp_both": lambda x: x.clamp(-0.1, 0.1) + x.clamp(max=-0.1),
    "clamp_tensor": lambda x: x.clamp(min=x[0:1] * 0.0 + 0.1),
    "norm1": lambda x: x.norm(1, dim=1),
    "norm_inf": lambda x: x.norm(float("inf"), dim=1),
}


@pytest.mark.usefixtures("backend", "float64")
@pytest.mark.parametrize("name", sorted(SMOOTH_OPS))
def test_new_ops_first_and_second_derivatives(name):
    x = rnd(3, 4, 5, seed=1)
    fn = SMOOTH_OPS[name]
    assert gradcheck(fn, [x])
    assert gradgradcheck(fn, [x])


@pytest.mark.usefixtures("backend", "float64")
@pytest.mark.parametrize("name", sorted(KINKED_OPS))
def test_kinked_ops_first_and_second_derivatives(name):
    rng = np.random.default_rng(2)
    a = rng.uniform(0.2, 2.0, size=(3, 4)) * rng.choice([-1.0, 1.0], size=(3, 4))
    a[0, 0], a[1, 1] = 2.5, -2.4  # a clear maximum per row for norm_inf
    a[2, 0] = 2.6
    x = tg.Tensor(a, requires_grad=True)
    assert gradcheck(KINKED_OPS[name], [x])
    assert gradgradcheck(KINKED_OPS[name], [x])


@pytest.mark.usefixtures("float64")
def test_norm2_gradient_at_zero_is_zero_as_torch(torch):
    x = tg.Tensor(np.zeros((2, 3)), requires_grad=True)
    (g,) = tg.grad(x.norm(2, dim=1).sum(), x)
    tx = torch.zeros(2, 3, dtype=torch.float64, requires_grad=True)
    (tg_,) = torch.autograd.grad(tx.norm(2, dim=1).sum(), tx)
    np.testing.assert_array_equal(host(g), tg_.numpy())
    assert np.all(host(g) == 0)


@pytest.mark.usefixtures("float64")
@pytest.mark.parametrize("name", sorted(set(SMOOTH_OPS) - {"to_standin_and_back"})
                         + sorted(KINKED_OPS))  # (the stand-in device has no torch twin)
def test_new_ops_match_torch_values_and_gradients(torch, name):
    import torch.nn.functional as TF
    rng = np.random.default_rng(3)
    a = rng.uniform(0.2, 2.0, size=(3, 4, 5)) * rng.choice([-1.0, 1.0], size=(3, 4, 5))
    if name in KINKED_OPS:
        a = a[:, :, 0]
    x = tg.Tensor(a, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    tfn = {
        "softmax": lambda x: TF.softmax(x, dim=1),
        "log_softmax": lambda x: TF.log_softmax(x, dim=-1),
        "interp_nearest2x": lambda x: TF.interpolate(x[None], scale_factor=2),
        "interp_nearest_size": lambda x: TF.interpolate(x[None], size=(7, 3)),
        "interp_bilinear2x": lambda x: TF.interpolate(x[None], scale_factor=2, mode="bilinear"),
        "interp_bilinear_size": lambda x: TF.interpolate(x[None], size=(5, 8), mode="bilinear"),
        "interp_bilinear_corners": lambda x: TF.interpolate(x[None], size=(6, 9),
                                                           mode="bilinear", align_corners=True),
        "interp_linear3d": lambda x: TF.interpolate(x, scale_factor=1.5, mode="linear"),
        "interp_then_square": lambda x: TF.interpolate(x[None] * x[None], scale_factor=2,
                                                       mode="bilinear"),
    }.get(name, (SMOOTH_OPS | KINKED_OPS)[name])  # the same PyTorch-style expression
    ours, theirs = (SMOOTH_OPS | KINKED_OPS)[name](x), tfn(tx)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(host(ours), theirs.detach().numpy(), rtol=1e-12, atol=1e-12)
    w = np.random.default_rng(4).standard_normal(ours.shape)
    (g,) = tg.grad((ours * tg.Tensor(w)).sum(), x, create_graph=True)
    (tgr,) = torch.autograd.grad((theirs * torch.tensor(w)).sum(), tx, create_graph=True)
    np.testing.assert_allclose(host(g), tgr.detach().numpy(), rtol=1e-10, atol=1e-12)
    if not g.requires_grad:  # the gradient is constant in x: the second derivative is 0
        if tgr.requires_grad:  # PyTorch records sign(x)·g for abs/max; its derivative is 0
            (tgg,) = torch.autograd.grad((tgr * tgr).sum(), tx, allow_unused=True)
            assert tgg is None or not bool(tgg.abs().max() > 0)
        return
    (gg,) = tg.grad((g * g).sum(), x, allow_unused=True)
    (tgg,) = torch.autograd.grad((tgr * tgr).sum(), tx, allow_unused=True)
    if tgg is None or gg is None:
        assert gg is None or np.allclose(host(gg), 0)
        assert tgg is None or np.allclose(tgg.numpy(), 0)
    else:
        np.testing.assert_allclose(host(gg), tgg.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("size,mode", [((56, 56), "nearest"), ((32, 32), "bilinear"),
                                       ((20, 17), "bilinear"), ((9, 40), "nearest")])
def test_interpolate_image_sizes_match_torch(torch, size, mode):
    import torch.nn.functional as TF
    a = np.random.default_rng(5).standard_normal((2, 3, 28, 28))
    ours = F.interpolate(tg.Tensor(a, dtype=np.float64), size=size, mode=mode)
    theirs = TF.interpolate(torch.tensor(a), size=size, mode=mode)
    np.testing.assert_allclose(host(ours), theirs.numpy(), rtol=1e-12, atol=1e-12)
    a = a.astype(np.float32)
    up = nn.Upsample(scale_factor=2)(tg.Tensor(a))
    np.testing.assert_array_equal(host(up), torch.nn.Upsample(scale_factor=2)(
        torch.tensor(a)).numpy())


def test_interpolate_rejects_bad_arguments():
    x = tg.randn(1, 2, 4, 4)
    with pytest.raises(ValueError, match="exactly one of size"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="mode must be"):
        F.interpolate(x, scale_factor=2, mode="bicubic")
    with pytest.raises(ValueError, match="needs a 4-D input"):
        F.interpolate(tg.randn(1, 2, 4), scale_factor=2, mode="bilinear")
    with pytest.raises(ValueError, match="exactly one of size"):
        nn.Upsample()


# ---------------------------------------------------------------- dropout
@pytest.mark.usefixtures("backend")
def test_dropout_train_and_eval():
    tg.manual_seed(0)
    x = tg.ones(2000, 10)
    layer = nn.Dropout(0.3)
    y = host(layer(x))
    kept = (y != 0).mean()
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.7)}
    assert abs(kept - 0.7) < 0.01  # observed 0.699 over 20,000 draws (sd 0.003)
    assert y.dtype == np.float32
    layer.eval()
    assert layer(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert np.all(host(nn.Dropout(1.0)(x)) == 0)
    with pytest.raises(ValueError, match="p must be a probability"):
        nn.Dropout(1.5)


@pytest.mark.usefixtures("backend")
def test_dropout2d_drops_whole_channels():
    tg.manual_seed(1)
    y = host(nn.Dropout2d(0.5)(tg.ones(64, 8, 3, 3)))
    per_channel = y.reshape(64, 8, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1))
    assert 0.4 < (per_channel[..., 0] == 0).mean() < 0.6  # observed 0.49 over 512 channels
    with pytest.raises(ValueError, match="dropout2d"):
        nn.Dropout2d()(tg.ones(4, 3))


@pytest.mark.usefixtures("backend", "float64")
@pytest.mark.parametrize("fn", [lambda x: F.dropout(x, 0.4), lambda x: F.dropout2d(x, 0.5)])
def test_dropout_gradients(fn):
    x = rnd(3, 4, 2, 2, seed=6)

    def seeded(x):
        tg.manual_seed(9)  # the same mask on every call of the finite differences
        return fn(x) * x

    assert gradcheck(seeded, [x])
    assert gradgradcheck(seeded, [x])


# ---------------------------------------------------------------- embedding
@pytest.mark.usefixtures("backend", "float64")
def test_embedding_lookup_and_gradients():
    emb = nn.Embedding(5, 3)
    labels = tg.tensor([4, 0, 4, 2], dtype="long")
    out = emb(labels)
    assert out.shape == (4, 3)
    np.testing.assert_array_equal(host(out), host(emb.weight)[[4, 0, 4, 2]])
    out.sum().backward()
    counts = np.bincount([4, 0, 4, 2], minlength=5)[:, None] * np.ones((1, 3))
    np.testing.assert_array_equal(host(emb.weight.grad), counts)  # repeats accumulate
    w = rnd(5, 3, seed=7)
    idx = tg.tensor([[1, 1], [3, 0]])
    assert gradcheck(lambda w: F.embedding(idx, w) ** 2, [w])
    assert gradgradcheck(lambda w: F.embedding(idx, w) ** 2, [w])


def test_embedding_errors_and_init(torch):
    emb = nn.Embedding(10, 10)
    with pytest.raises(IndexError, match=r"\[0, 10\)"):
        emb(tg.tensor([10]))
    with pytest.raises(TypeError, match="integers"):
        emb(tg.tensor([1.0]))
    tg.manual_seed(0)
    w = host(nn.Embedding(200, 50).weight)
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1.0) < 0.02  # N(0, 1) as torch's
    t = torch.nn.Embedding(5, 3)
    ours = nn.Embedding(5, 3)
    ours.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    labels = np.array([3, 1, 1])
    np.testing.assert_array_equal(host(ours(tg.tensor(labels))),
                                  t(torch.tensor(labels)).detach().numpy())


# ---------------------------------------------------------------- losses
LOSS_CASES = [("BCELoss", "probs"), ("BCEWithLogitsLoss", "logits"), ("MSELoss", "any"),
              ("L1Loss", "any"), ("CrossEntropyLoss", "classes")]


def _loss_inputs(kind, rng):
    if kind == "classes":
        return rng.standard_normal((6, 4)), rng.integers(0, 4, size=6)
    x = rng.standard_normal((6, 3))
    if kind == "probs":
        x = 1 / (1 + np.exp(-x))
    return x, rng.uniform(0, 1, size=(6, 3))


@pytest.mark.usefixtures("float64")
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name,kind", LOSS_CASES)
def test_loss_modules_match_torch(torch, name, kind, reduction):
    rng = np.random.default_rng(8)
    x, target = _loss_inputs(kind, rng)
    ours = getattr(nn, name)(reduction=reduction)
    theirs = getattr(torch.nn, name)(reduction=reduction)
    tx = torch.tensor(x, requires_grad=True)
    xx = tg.Tensor(x, requires_grad=True)
    lo = ours(xx, tg.tensor(target))
    lt = theirs(tx, torch.tensor(target))
    np.testing.assert_allclose(host(lo), lt.detach().numpy(), rtol=1e-12, atol=1e-12)
    (g,) = tg.grad(lo.sum(), xx)
    (gt,) = torch.autograd.grad(lt.sum(), tx)
    np.testing.assert_allclose(host(g), gt.numpy(), rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda x: ours(x, tg.tensor(target)), [xx])
    if name != "L1Loss":
        assert gradgradcheck(lambda x: ours(x, tg.tensor(target)), [xx])


def test_loss_modules_check_arguments():
    with pytest.raises(ValueError, match="reduction must be"):
        nn.MSELoss(reduction="average")
    with pytest.raises(ValueError, match=r"input of shape \(4, 1\) and target of shape \(4,\)"):
        nn.BCELoss()(tg.rand(4, 1), tg.ones(4))


# ---------------------------------------------------------------- init
def _draws(fn, shape, seed=0):
    tg.manual_seed(seed)
    p = nn.Parameter(tg.zeros(*shape).data)
    fn(p)
    return host(p)


@pytest.mark.parametrize("name,kwargs,expected_std", [
    ("xavier_uniform_", {}, math.sqrt(2 / (200 + 300))),
    ("xavier_normal_", {"gain": 2.0}, 2 * math.sqrt(2 / (200 + 300))),
    ("kaiming_normal_", {}, math.sqrt(2) / math.sqrt(200)),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(2 / 300)),
    ("kaiming_uniform_", {"a": 0.2}, math.sqrt(2 / 1.04) / math.sqrt(200)),
    ("normal_", {"std": 0.02}, 0.02),
])
def test_init_distributions(name, kwargs, expected_std):
    w = _draws(lambda p: getattr(nn.init, name)(p, **kwargs), (300, 200))
    assert abs(w.std() / expected_std - 1) < 0.01  # 60,000 draws: relative sd 0.3%
    assert abs(w.mean()) < 0.01 * expected_std * 10


def test_init_accepts_param_data_as_pytorch_code_passes_it():
    layer = nn.Linear(4, 3)
    optimizer = tg.optim.SGD(layer.parameters(), lr=0.1)
    weight_array = layer.weight.data
    nn.init.normal_(layer.weight.data, 0.0, 0.02)   # PyTorch-GAN's weights_init_normal
    nn.init.constant_(layer.bias.data, 0.5)
    assert layer.weight.data is weight_array  # written in place: same object
    assert optimizer.param_groups[0]["params"][0] is layer.weight
    assert np.all(host(layer.bias) == 0.5) and 0.005 < host(layer.weight).std() < 0.05
    nn.init.xavier_uniform_(layer.weight)
    assert np.abs(host(layer.weight)).max() <= math.sqrt(6 / 7) + 1e-6
    nn.init.zeros_(layer.bias)
    assert np.all(host(layer.bias) == 0)
    with pytest.raises(TypeError, match="Tensor, Parameter or array"):
        nn.init.normal_([1.0, 2.0])


def test_init_refused_silently_corrupting_a_graph():
    layer = nn.Linear(2, 1)
    loss = layer(tg.ones(3, 2)).sum()
    nn.init.constant_(layer.weight, 1.0)  # after the forward that used the old weight
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()


def test_default_layer_init_is_unchanged_and_public_kaiming_has_torch_defaults(torch):
    tg.manual_seed(0)
    w = host(nn.Linear(400, 300).weight)
    assert np.abs(w).max() <= 1 / math.sqrt(400) + 1e-7  # a=√5: U(±1/sqrt(fan_in))
    assert abs(w.std() - 1 / math.sqrt(400) / math.sqrt(3)) < 2e-4
    assert nn.init.calculate_gain("leaky_relu", 0.2) == pytest.approx(
        torch.nn.init.calculate_gain("leaky_relu", 0.2))
    assert nn.init.calculate_gain("tanh") == pytest.approx(torch.nn.init.calculate_gain("tanh"))


# ---------------------------------------------------------------- containers and Module.to
def test_identity_modulelist_moduledict_register_parameters(torch):
    blocks = nn.ModuleList([nn.Linear(2, 3), nn.Identity(), nn.Linear(3, 1)])
    blocks.append(nn.ReLU(True))
    heads = nn.ModuleDict({"a": nn.Linear(1, 2), "b": nn.Linear(1, 3)})

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks, self.heads = blocks, heads

        def forward(self, x):
            for b in self.blocks:
                x = b(x)
            return self.heads["a"](x), self.heads["b"](x)

    net = Net()
    names = [n for n, _ in net.named_parameters()]
    tblocks = torch.nn.ModuleList([torch.nn.Linear(2, 3), torch.nn.Identity(),
                                   torch.nn.Linear(3, 1), torch.nn.ReLU(True)])
    theads = torch.nn.ModuleDict({"a": torch.nn.Linear(1, 2), "b": torch.nn.Linear(1, 3)})
    tnet = torch.nn.Module()
    tnet.blocks, tnet.heads = tblocks, theads
    assert names == [n for n, _ in tnet.named_parameters()]
    a, b = net(tg.randn(5, 2))
    assert a.shape == (5, 2) and b.shape == (5, 3)
    assert len(blocks) == 4 and isinstance(blocks[1], nn.Identity) and len(blocks[1:]) == 3
    assert "a" in heads and list(heads.keys()) == ["a", "b"] and len(heads) == 2
    seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear) and len(seq[:2]) == 2
    with pytest.raises(TypeError, match="not a Module"):
        nn.ModuleList([3])


def test_module_to_moves_only_that_module_and_keeps_the_active_backend():
    g, d = nn.Linear(3, 2), nn.Linear(2, 1)
    opt = tg.optim.Adam(g.parameters(), lr=1e-3)
    g.to(tg.device("standin"))
    assert B.get_backend() == "numpy"
    assert all(p.device == "standin" for p in g.parameters())
    assert all(p.device == "cpu" for p in d.parameters())
    z = tg.randn(4, 3).to("standin")
    out = g(z)
    out.sum().backward()
    opt.step()  # the optimiser still holds the moved parameters
    assert out.device == "standin" and g.weight.grad.device == "standin"
    assert d(out.cpu()).shape == (4, 1)
    g.to("cpu").double()
    assert all(p.device == "cpu" and p.dtype == np.float64 for p in g.parameters())
    with pytest.raises(TypeError, match="'tpu' is not a dtype"):
        g.to("tpu")
    with pytest.raises(ValueError, match="unknown device"):
        tg.device("tpu")
