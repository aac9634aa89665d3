"""Pausing the host pool (backend.pause_pool) and the run's PoolTuner: a paused pool runs
every slice on the calling thread with the same bits; the tuner pauses it only while the
probes say that is faster."""
import threading

import numpy as np
import pytest

import tinygan
import tinygan.backend as B
from tinygan import nn
from tinygan.gan.pool_tuner import PoolTuner


@pytest.fixture(autouse=True)
def _unpaused():
    yield
    B.pause_pool(False)


def test_a_paused_pool_runs_every_index_on_the_calling_thread_in_order():
    seen = []
    with B.num_threads(2):
        B.pause_pool(True)
        B.parallel_for(lambda k: seen.append((k, threading.get_ident())), 6)
    assert seen == [(k, threading.get_ident()) for k in range(6)]


def test_a_paused_pool_gives_the_same_bits():
    """A DCGAN-28 discriminator block (strided conv, batch norm, LeakyReLU) forward and
    backward at 2 host threads: pool on and pool paused agree bit for bit (the slices are
    the same; only who computes them changes)."""
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((64, 64, 14, 14)).astype("f4")
    outs = []
    for paused in (False, True):
        tinygan.manual_seed(0)
        block = nn.Sequential(nn.Conv2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.LeakyReLU(0.2))
        x = tinygan.tensor(x_np, requires_grad=True)
        with B.num_threads(2):
            B.pause_pool(paused)
            y = block(x)
            (y * y).sum().backward()
        outs.append([y.numpy(), x.grad.numpy()] + [p.grad.numpy() for p in block.parameters()])
    for a, b in zip(*outs):
        assert np.array_equal(a, b)


def _drive(tuner, pool_s, paused_s, iterations):
    """Iterations that take pool_s with the pool working and paused_s with it paused."""
    modes = []
    for _ in range(iterations):
        tuner.before()
        modes.append(B.pool_paused())
        tuner.after(paused_s if B.pool_paused() else pool_s)
    return modes


def test_tuner_keeps_the_pool_while_it_is_faster():
    with B.num_threads(2):
        tuner = PoolTuner(period=10)
        modes = _drive(tuner, pool_s=0.10, paused_s=0.15, iterations=30)
    # probes at 0–3, 10–13, 20–23 alternate pool / paused; the rest run on the pool
    assert modes[:4] == [False, True, False, True] and not any(modes[4:10])
    assert tuner.paused_fraction == pytest.approx(6 / 30)


def test_tuner_pauses_the_pool_while_one_thread_is_faster_and_probes_again():
    with B.num_threads(2):
        tuner = PoolTuner(period=10)
        modes = _drive(tuner, pool_s=0.15, paused_s=0.10, iterations=10)
        assert modes[4:10] == [True] * 6
        more = _drive(tuner, pool_s=0.10, paused_s=0.15, iterations=10)  # the load went away
        assert more[:4] == [False, True, False, True] and not any(more[4:])
    tuner.close()
    assert not B.pool_paused()


def test_tuner_needs_the_margin_and_ignores_one_slow_iteration():
    with B.num_threads(2):
        tuner = PoolTuner(period=10, margin=0.05)
        modes = _drive(tuner, pool_s=0.100, paused_s=0.098, iterations=10)  # 2 %: noise
        assert not any(modes[4:])
        times = iter([1.0, 0.09, 0.10, 0.09])  # the first pool iteration is a slow one-off
        for _ in range(4):
            tuner.before()
            tuner.after(next(times))
        assert _drive(tuner, 0.1, 0.09, 6) == [True] * 6  # min 0.09 < 0.95 · min 0.10


def test_tuner_is_inactive_on_one_thread_and_off_numpy(backend):
    with B.num_threads(1):
        assert not PoolTuner().active
    with B.num_threads(2):
        assert PoolTuner().active == (backend == "numpy")
    with pytest.raises(ValueError, match="period"):
        PoolTuner(period=4)
