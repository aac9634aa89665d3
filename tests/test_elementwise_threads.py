"""Elementwise passes on the host threads (ops/_util.elementwise_on_threads): the large
activations, same-shape add / sub / mul (the backward's accumulation adds) and Adam's
update.  Each element is computed from the same elements whichever slice holds it, so
the threaded pass must give the one-thread pass's bits exactly, not just close values."""
import numpy as np
import pytest

import tinygan
import tinygan.backend as B
import tinygan.ops._util as ops_util
from tinygan import nn
from tinygan.optim import Adam, RMSprop
from tinygan.testing import gradcheck, gradgradcheck

# DCGAN-28's discriminator activation at batch 64: 8 slices on 2 threads by default.
SHAPE = (64, 64, 14, 14)


@pytest.fixture
def split_count(monkeypatch):
    """Counts the parallel_for calls the elementwise splitter makes."""
    calls = []
    real = B.parallel_for

    def counting(body, count, workers=None):
        calls.append(count)
        return real(body, count, workers)

    monkeypatch.setattr(B, "parallel_for", counting)
    return calls


def _t(a, requires_grad=False):
    return tinygan.tensor(a, requires_grad=requires_grad, dtype=str(a.dtype))


def _data(shape=SHAPE, seed=0, dtype="f4"):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


ACTIVATIONS = {
    "relu": lambda x: tinygan.relu(x),
    "leaky_relu": lambda x: nn.functional.leaky_relu(x, 0.2),
    "leaky_relu slope 1.5": lambda x: nn.functional.leaky_relu(x, 1.5),  # the where() form
}
BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b}


def _forward_backward(fn, arrays, threads):
    with B.num_threads(threads):
        ts = [_t(a, True) for a in arrays]
        y = fn(*ts)
        (y * _t(_data(y.shape, seed=9))).sum().backward()
    return [y.numpy().copy()] + [t.grad.numpy().copy() for t in ts]


@pytest.mark.parametrize("name", list(ACTIVATIONS) + list(BINARY))
def test_threaded_pass_has_the_one_thread_bits(name, split_count):
    fn = ACTIVATIONS.get(name) or BINARY[name]
    arrays = [_data()] if name in ACTIVATIONS else [_data(), _data(seed=1)]
    one = _forward_backward(fn, arrays, 1)
    assert split_count == []  # one thread: never handed to the pool
    two = _forward_backward(fn, arrays, 2)
    assert len(split_count) >= 2 and max(split_count) == 4  # 2 slices per thread
    for a, b in zip(one, two):
        assert a.dtype == b.dtype and np.array_equal(a, b)


def test_non_contiguous_inputs_are_cut_along_the_first_axis(split_count):
    """A transposed view is not C-contiguous: the slices are taken on its first axis."""
    a = _data((196, 64, 64)).transpose(1, 0, 2)
    b = _data((196, 64, 64), seed=1).transpose(1, 0, 2)
    with B.num_threads(2):
        got = (_t(a) * _t(b)).numpy()
        relu = tinygan.relu(_t(a)).numpy()
    assert split_count
    assert np.array_equal(got, a * b)
    assert np.array_equal(relu, np.maximum(a, 0))


def test_small_or_broadcast_passes_stay_on_one_thread(split_count):
    with B.num_threads(2):
        small = _t(_data((64, 100)))
        _ = tinygan.relu(small) + small              # 6,400 elements: too few to split
        big = _t(_data())
        _ = big + _t(_data((1, 64, 1, 1)))           # broadcast: NumPy's own ufunc
    assert split_count == []


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@pytest.mark.parametrize("threads", [1, 2])
def test_activation_gradients_on_threads(name, threads, float64, monkeypatch):
    """Finite differences (float64), first and second order, with the split forced down
    to tiny tensors; the first-order check runs the fused backward (no graph recorded),
    the second-order one the differentiable backward."""
    monkeypatch.setattr(ops_util, "ELEMENTWISE_MIN_ELEMENTS", 1)
    x = _t(_data((5, 3, 2), seed=3, dtype="f8") + 0.05, True)  # away from the kink at 0
    with B.num_threads(threads):
        assert gradcheck(ACTIVATIONS[name], [x])
        assert gradgradcheck(ACTIVATIONS[name], [x])


@pytest.mark.parametrize("make", [
    lambda ps: Adam(ps, lr=1e-3, betas=(0.5, 0.999)),
    lambda ps: Adam(ps, lr=1e-3, weight_decay=0.01),
    lambda ps: Adam(ps, lr=1e-3, amsgrad=True),
    lambda ps: RMSprop(ps, lr=5e-4),
    lambda ps: RMSprop(ps, lr=5e-4, weight_decay=0.01, momentum=0.5, centered=True),
], ids=["adam", "adam weight_decay", "adam amsgrad", "rmsprop", "rmsprop centered momentum"])
def test_threaded_optimiser_has_the_one_thread_bits(make, split_count):
    """Three steps on a 1.6M-element parameter (DCGAN-28 generator size) and a small
    bias: the same bits on one and on two threads, each step one hand-off to the pool."""
    def run(threads):
        w = nn.Parameter(_t(_data((256, 100, 8, 8))).data)
        b = nn.Parameter(_t(_data((7,))).data)
        opt = make([w, b])
        with B.num_threads(threads):
            for step in range(3):
                w.grad = _t(_data(w.shape, seed=10 + step))
                b.grad = _t(_data(b.shape, seed=20 + step))
                opt.step()
        return w.numpy().copy(), b.numpy().copy()

    one = run(1)
    assert split_count == []
    two = run(2)
    # one hand-off per step, the bias a piece beside the large parameter's slices
    # (optim.Optimizer.step, ops/_util.elementwise_jobs_on_threads): 4 + 1 pieces
    assert split_count == [5, 5, 5]
    for a, b in zip(one, two):
        assert np.array_equal(a, b)
