"""Module / Parameter / Sequential: registration, traversal order, modes, state dicts, devices."""
import numpy as np
import pytest

import tinygan
from tinygan import backend as B
from tinygan import nn, optim
from tinygan.autograd import Tensor


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.bn = nn.BatchNorm1d(4)
        self.register_buffer("counter", Tensor(B.xp().zeros((2,), dtype="float32")))

    def forward(self, x):
        return self.bn(self.fc(x)).relu()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(B.xp().ones((1,), dtype="float32"))
        self.block = Block()
        self.head = nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 2))
        self.note = "not registered"

    def forward(self, x):
        return self.head(self.block(x)) * self.scale


NET_PARAMS = ["scale", "block.fc.weight", "block.fc.bias", "block.bn.weight", "block.bn.bias",
              "head.0.weight", "head.0.bias", "head.2.weight", "head.2.bias"]


def test_registration(backend):
    net = Net()
    assert list(net._parameters) == ["scale"]
    assert list(net._modules) == ["block", "head"]
    assert "note" not in net._parameters and net.note == "not registered"
    assert list(net.block._buffers) == ["counter"]
    assert isinstance(net.block.fc.weight, nn.Parameter) and net.block.fc.weight.requires_grad
    # re-assigning a name moves it between stores; deleting unregisters
    net.block.fc = nn.Tanh()
    assert "fc" in net.block._modules and list(net.block.fc.parameters()) == []
    del net.head
    assert "head" not in net._modules
    with pytest.raises(AttributeError, match="has no attribute 'head'"):
        net.head


def test_init_must_call_super():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.ones(2, "f4"))

    with pytest.raises(AttributeError, match=r"Bad.__init__ must call super\(\).__init__\(\)"):
        Bad()


def test_named_parameters_order(backend):
    assert [n for n, _ in Net().named_parameters()] == NET_PARAMS
    # PyTorch's state-dict order: each module's parameters, then its buffers, depth first
    assert list(Net().state_dict()) == [
        "scale", "block.counter", "block.fc.weight", "block.fc.bias", "block.bn.weight",
        "block.bn.bias", "block.bn.running_mean", "block.bn.running_var",
        "block.bn.num_batches_tracked"] + NET_PARAMS[5:]
    assert [n for n, _ in Net().named_buffers()] == [
        "block.counter", "block.bn.running_mean", "block.bn.running_var",
        "block.bn.num_batches_tracked"]


def test_order_matches_pytorch(torch):
    """Same architecture, same names in the same order as PyTorch (so weights map 1:1)."""
    tn = torch.nn

    class TBlock(tn.Module):
        def __init__(self):
            super().__init__()
            self.fc = tn.Linear(3, 4)
            self.bn = tn.BatchNorm1d(4)

    class TNet(tn.Module):
        def __init__(self):
            super().__init__()
            self.scale = tn.Parameter(torch.ones(1))
            self.block = TBlock()
            self.head = tn.Sequential(tn.Linear(4, 4), tn.Tanh(), tn.Linear(4, 2))

    assert [n for n, _ in TNet().named_parameters()] == NET_PARAMS
    ours = [k for k in Net().state_dict() if k != "block.counter"]
    assert ours == list(TNet().state_dict())


def test_train_eval_propagate(backend):
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    assert not net.head[2].training and not net.block.bn.training
    net.train()
    assert all(m.training for m in net.modules())
    # the mode changes behaviour: eval uses running statistics and leaves them alone
    x = tinygan.randn(6, 3)
    net(x)
    assert int(net.block.bn.num_batches_tracked.numpy()) == 1
    net.eval()
    y1, y2 = net(x).numpy(), net(x[:2]).numpy()
    np.testing.assert_allclose(y1[:2], y2, rtol=1e-6)  # per-sample in eval mode
    assert int(net.block.bn.num_batches_tracked.numpy()) == 1


def test_state_dict_round_trip_and_copy(backend):
    a, b = Net(), Net()
    a(tinygan.randn(5, 3))  # move the running statistics away from their init
    b.load_state_dict(a.state_dict())
    for (k, x), (k2, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert k == k2 and x.dtype == y.dtype
        np.testing.assert_array_equal(B.to_numpy(x), B.to_numpy(y))
        assert x is not y  # loaded by copy, not aliased
    # host (NumPy) arrays, as tinygan.load returns them, are copied onto the device
    host = {k: B.to_numpy(v) for k, v in a.state_dict().items()}
    b.load_state_dict(host)
    assert all(B.array_module(v) is B.xp() for v in b.state_dict().values())


def test_load_state_dict_strict_errors(backend):
    net = Net()
    sd = dict(net.state_dict())
    missing = {k: v for k, v in sd.items() if k != "head.2.bias"}
    with pytest.raises(KeyError, match=r"Net.load_state_dict: missing keys: head.2.bias"):
        net.load_state_dict(missing)
    extra = dict(sd, **{"head.3.weight": sd["head.2.weight"]})
    with pytest.raises(KeyError, match=r"unexpected keys: head.3.weight"):
        net.load_state_dict(extra)
    net.load_state_dict(missing, strict=False)  # non-strict ignores both
    net.load_state_dict(extra, strict=False)
    wrong = dict(sd, **{"block.fc.weight": np.zeros((3, 4), "f4")})
    with pytest.raises(ValueError) as err:
        net.load_state_dict(wrong)
    msg = str(err.value)
    assert "'block.fc.weight'" in msg and "(3, 4)" in msg and "(4, 3)" in msg
    with pytest.raises(ValueError, match="block.fc.weight"):
        net.load_state_dict(wrong, strict=False)  # shapes are checked even when not strict


def test_failed_load_changes_nothing(backend):
    net = Net()
    before = {k: B.to_numpy(v).copy() for k, v in net.state_dict().items()}
    bad = {k: np.full(B.to_numpy(v).shape, 7, B.to_numpy(v).dtype)
           for k, v in net.state_dict().items()}
    bad["head.2.weight"] = np.zeros((1, 1), "f4")
    with pytest.raises(ValueError):
        net.load_state_dict(bad)
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(B.to_numpy(v), before[k])


def test_sequential_indexing(backend):
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and seq[0] is layers[0] and seq[-1] is layers[2]
    assert list(seq) == layers
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is layers[0]
    assert head[0].weight is seq[0].weight  # slicing shares the layers
    x = tinygan.randn(4, 2)
    np.testing.assert_allclose(seq(x).numpy(), layers[2](layers[1](layers[0](x))).numpy())
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and [n for n, _ in seq.named_parameters()] == [
        "0.weight", "0.bias", "2.weight", "2.bias"]
    with pytest.raises(TypeError, match="item 1 is a int"):
        nn.Sequential(nn.ReLU(), 3)
    with pytest.raises(IndexError):
        seq[10]


def test_shared_parameters_not_duplicated(backend):
    lin = nn.Linear(3, 3)

    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = lin
            self.b = lin  # the same module twice
            self.c = nn.Linear(3, 3)
            self.c.weight = lin.weight  # and a tied weight

    net = Tied()
    params = list(net.parameters())
    assert len(params) == 3 and len({id(p) for p in params}) == 3
    assert [n for n, _ in net.named_parameters()] == ["a.weight", "a.bias", "c.bias"]
    assert net.num_parameters() == 9 + 3 + 3
    optim.SGD(net.parameters(), lr=0.1)  # no "appears twice" error
    x = tinygan.randn(2, 3)
    (net.c(net.b(net.a(x)))).sum().backward()
    # gradients from all three uses of W accumulate: with h1 = x Wᵀ + b, h2 = h1 Wᵀ + b,
    # y = h2 Wᵀ + c and L = Σ y, the output gradients are G3 = 1, G2 = G3 W, G1 = G2 W and
    # ∂L/∂W = G3ᵀ h2 + G2ᵀ h1 + G1ᵀ x,  ∂L/∂b = Σ_n (G2 + G1),  ∂L/∂c = Σ_n G3
    W, b, xs = (B.to_numpy(t.data).astype(np.float64) for t in (lin.weight, lin.bias, x))
    h1 = xs @ W.T + b
    h2 = h1 @ W.T + b
    g3 = np.ones((2, 3))
    g2 = g3 @ W
    g1 = g2 @ W
    np.testing.assert_allclose(B.to_numpy(lin.weight.grad.data), g3.T @ h2 + g2.T @ h1 + g1.T @ xs,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(B.to_numpy(lin.bias.grad.data), (g2 + g1).sum(0), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(B.to_numpy(net.c.bias.grad.data), [2.0, 2.0, 2.0])


def test_to_numpy_backend(backend):
    net = Net()
    net(tinygan.randn(4, 3)).sum().backward()
    active = B.get_backend()
    dtypes = {k: v.dtype for k, v in net.state_dict().items()}
    values = {k: B.to_numpy(v).copy() for k, v in net.state_dict().items()}
    grads = [B.to_numpy(p.grad.data).copy() for p in net.parameters()]
    assert net.to("numpy") is net
    assert B.get_backend() == active  # moving a module never switches the active backend
    for k, v in net.state_dict().items():
        assert isinstance(v, np.ndarray) and v.dtype == dtypes[k]
        np.testing.assert_array_equal(v, values[k])
    for p, g in zip(net.parameters(), grads):  # gradients move with their parameters
        assert isinstance(p.grad.data, np.ndarray)
        np.testing.assert_array_equal(p.grad.data, g)
    y = net(tinygan.randn(4, 3, device="cpu"))  # usable on the new device
    assert isinstance(y.data, np.ndarray) and y.dtype == np.float32


def test_to_standin_and_back():
    net = Net()
    before = {k: B.to_numpy(v).copy() for k, v in net.state_dict().items()}
    net.to("standin")
    assert B.get_backend() == "numpy"
    assert all(B.array_module(v).__name__.endswith("standin") for v in net.state_dict().values())
    net(tinygan.randn(4, 3, device="standin")).sum().backward()
    assert all(p.grad.device == "standin" for p in net.parameters())
    net.to("numpy")
    for k, v in net.state_dict().items():
        if not k.startswith("block.bn.") or k.endswith(("weight", "bias")):
            np.testing.assert_array_equal(v, before[k])


def test_zero_grad_and_requires_grad(backend):
    net = Net()
    x = tinygan.randn(4, 3)
    net(x).sum().backward()
    # y = head(block(x)) · scale with scale = 1: ∂ Σ y / ∂ scale = Σ head(block(x))
    with tinygan.no_grad():
        expected = net.head(net.block(x)).sum().item()
    assert net.scale.grad.item() == pytest.approx(expected, rel=1e-6)
    # and the head's output bias gets ∂ Σ y / ∂ b = N · scale = 4 per output
    np.testing.assert_allclose(B.to_numpy(net.head[2].bias.grad.data), [4.0, 4.0], rtol=1e-6)
    assert all(B.to_numpy(abs(p.grad.data)).max() > 0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    assert not net(tinygan.randn(4, 3)).requires_grad


def test_buffers_are_not_parameters(backend):
    net = Net()
    param_ids = {id(p) for p in net.parameters()}
    assert all(id(b) not in param_ids for b in net.buffers())
    assert len(list(net.buffers())) == 4


def test_apply_and_repr(backend):
    net = Net()
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net" and seen.count("Linear") == 3
    text = repr(net)
    assert "(block): Block(" in text and "BatchNorm1d(4" in text and "Linear(3, 4" in text
