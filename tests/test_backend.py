"""The backend switch and the CuPy stand-in that enforces host/device discipline."""
import ast
import os
import subprocess
import sys

import numpy as np
import pytest

import tinygan
from tinygan import backend as B
from tinygan import nn
from tinygan.testing import standin as S

PACKAGE = os.path.dirname(tinygan.__file__)


# ------------------------------------------------------------------ the stand-in itself
def test_standin_refuses_implicit_conversion():
    a = S.asarray([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.asarray(a)
    with pytest.raises(TypeError):
        np.array(a)


@pytest.mark.parametrize("call", [np.exp, np.sum, np.mean, lambda a: np.maximum(a, 0),
                                  lambda a: np.concatenate([a, a]), np.tanh])
def test_standin_refuses_numpy_functions(call):
    with pytest.raises(TypeError):
        call(S.asarray([1.0, 2.0]))


def test_standin_refuses_mixing_with_host_arrays():
    a = S.asarray([1.0, 2.0])
    host = np.ones(2)
    for op in (lambda: a + host, lambda: host * a, lambda: S.maximum(a, host),
               lambda: a[np.array([0, 1])]):
        with pytest.raises(TypeError):
            op()


def test_standin_computes_like_numpy():
    host = np.arange(12, dtype=np.float32).reshape(3, 4)
    a = S.asarray(host)
    np.testing.assert_array_equal((S.exp(a) * 2.0 + a).get(), np.exp(host) * 2.0 + host)
    np.testing.assert_array_equal(a.sum(axis=0).get(), host.sum(axis=0))
    assert isinstance(a.sum(), S.ndarray) and a.sum().ndim == 0  # 0-d array, like CuPy
    assert (a.T @ a).dtype == np.float32
    b = a.copy()
    b[1:, ::2] += 1.0
    host2 = host.copy()
    host2[1:, ::2] += 1.0
    np.testing.assert_array_equal(b.get(), host2)
    assert float(a[0, 1]) == 1.0 and a.sum().item() == host.sum()


def test_to_numpy_and_to_device_are_the_explicit_transfers():
    B.set_backend("standin")
    t = tinygan.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3))
    assert isinstance(t.data, S.ndarray) and t.dtype == np.float32
    out = t.numpy()
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, np.arange(6.0, dtype=np.float32).reshape(2, 3))


# ------------------------------------------------------------------ choosing a backend
def test_default_backend_is_numpy():
    assert B.get_backend() == "numpy" and B.xp() is np
    assert tinygan.zeros(2, 3).dtype == np.float32


def test_unknown_backend_is_a_clear_error():
    with pytest.raises(B.BackendError, match="unknown backend 'tpu'"):
        tinygan.set_backend("tpu")


def test_cupy_without_cupy_gives_a_clear_error():
    try:
        import cupy  # noqa: F401
        pytest.skip("CuPy is installed here")
    except Exception:
        pass
    with pytest.raises(B.BackendError, match="CuPy cannot be imported"):
        tinygan.set_backend("cupy")
    assert B.get_backend() == "numpy"  # a failed switch changes nothing


def test_backend_module_names_no_package_above_it():
    import ast
    tree = ast.parse(open(B.__file__).read())
    imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | \
        {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not any("testing" in name for name in imported), imported


def test_register_backend_adds_a_selectable_backend():
    from tinygan.testing import standin
    assert "standin" in B.available_backends()
    B.set_backend("standin")
    a = B.xp().zeros((2,))
    assert isinstance(a, standin.ndarray) and B.array_module(a) is standin
    with pytest.raises(B.BackendError, match="built in"):
        B.register_backend("numpy", standin, standin.ndarray)


def test_environment_variable_selects_backend():
    # the stand-in registers itself with the backend when tinygan.testing is imported
    code = "import tinygan, tinygan.testing; print(tinygan.get_backend())"
    env = dict(os.environ, TINYGAN_BACKEND="standin")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "standin", out.stderr
    code = "import tinygan; print(tinygan.get_backend())"
    env["TINYGAN_BACKEND"] = "cupy"
    try:
        import cupy  # noqa: F401
        return
    except Exception:
        pass
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode != 0 and "CuPy cannot be imported" in out.stderr


def test_manual_seed_reproduces_numbers_on_each_backend():
    draws = {}
    for name in ("numpy", "standin"):
        B.set_backend(name)
        tinygan.manual_seed(123)
        a = tinygan.randn(4, 3).numpy()
        tinygan.manual_seed(123)
        b = tinygan.randn(4, 3).numpy()
        np.testing.assert_array_equal(a, b)
        draws[name] = a
    # the stand-in uses the same generator, so the numbers agree across the two
    np.testing.assert_array_equal(draws["numpy"], draws["standin"])


def test_host_randn_is_the_same_on_every_backend_and_leaves_the_generators_alone(backend):
    """Drawn on the host from default_rng(keys), then moved: the same numbers wherever it runs,
    and the backend's own seeded stream continues as if nothing had been drawn."""
    tinygan.manual_seed(7)
    expected_next = B.to_numpy(B.randn((3,)))
    tinygan.manual_seed(7)
    a = B.host_randn((4, 2), 5, 9)
    assert B.array_module(a) is B.xp() and a.dtype == B.default_dtype()
    np.testing.assert_array_equal(
        B.to_numpy(a), np.random.default_rng([5, 9]).standard_normal((4, 2)).astype(a.dtype))
    np.testing.assert_array_equal(B.to_numpy(B.randn((3,))), expected_next)


def test_default_dtype_switch():
    with B.default_dtype_as("float64"):
        assert tinygan.randn(2).dtype == np.float64
    assert tinygan.randn(2).dtype == np.float32
    with pytest.raises(ValueError, match="float32 or float64"):
        B.set_default_dtype("int32")


# ------------------------------------------------------------------ whole training steps on the stand-in
def _train_steps(model, x, steps=3):
    opt = tinygan.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = (model(x) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def _mlp():
    return nn.Sequential(nn.Linear(3, 16), nn.LeakyReLU(0.2), nn.BatchNorm1d(16),
                         nn.Linear(16, 1), nn.Sigmoid())


def _convnet():
    return nn.Sequential(nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.ConvTranspose2d(4, 2, 4, stride=2, padding=1), nn.Tanh(),
                         nn.Flatten(), nn.Linear(2 * 8 * 8, 1))


@pytest.mark.parametrize("make, shape", [(_mlp, (8, 3)), (_convnet, (4, 1, 8, 8))])
def test_training_step_matches_between_numpy_and_standin(make, shape):
    results = {}
    for name in ("numpy", "standin"):
        B.set_backend(name)
        tinygan.manual_seed(7)
        model = make()
        x = tinygan.randn(*shape)
        losses = _train_steps(model, x)
        for p in model.parameters():
            assert B.array_module(p.data) is B.xp() and p.dtype == np.float32
        results[name] = (losses, [p.numpy() for p in model.parameters()])
    np.testing.assert_allclose(results["numpy"][0], results["standin"][0], rtol=1e-6)
    for a, b in zip(results["numpy"][1], results["standin"][1]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


# ------------------------------------------------------------------ layering rule
ENGINE_DIRS = ("autograd.py", "ops", "nn", "optim", "gan")
# Host-side plumbing works on NumPy arrays *by design* and moves them explicitly with
# backend.to_device / to_numpy: the run machinery of gan/ (host data streams, checkpoints,
# the run folder, figures, sampling to files), like tinygan.data, tinygan.metrics and
# tinygan.plots, which are outside ENGINE_DIRS.  The algorithm's files (losses, models,
# steps, loops) stay engine code.
HOST_SIDE = {os.path.join("gan", f) for f in ("streams.py", "checkpoint.py", "run.py",
                                              "outputs.py", "sample.py", "train.py")}


def _engine_files():
    for entry in ENGINE_DIRS:
        path = os.path.join(PACKAGE, entry)
        if path.endswith(".py"):
            yield path
        elif os.path.isdir(path):
            for name in sorted(os.listdir(path)):
                if name.endswith(".py") and os.path.join(entry, name) not in HOST_SIDE:
                    yield os.path.join(path, name)


def test_engine_modules_do_not_import_numpy_or_cupy():
    """Only backend.py (and testing/) may name numpy or cupy: engine code uses tinygan.backend."""
    offenders = []
    for path in _engine_files():
        tree = ast.parse(open(path, encoding="utf-8").read())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            if any(n.split(".")[0] in ("numpy", "cupy", "cupyx") for n in names):
                offenders.append(f"{os.path.relpath(path, PACKAGE)}:{node.lineno}")
    assert not offenders, f"engine modules import numpy/cupy directly: {offenders}"


# ------------------------------------------------------------------ host runtime tuning
def test_tune_host_allocator_is_glibc_only_and_can_be_opted_out(monkeypatch):
    import sys
    monkeypatch.setenv("TINYGAN_NO_MALLOC_TUNE", "1")
    assert B.tune_host_allocator() is False  # opted out: nothing done
    monkeypatch.delenv("TINYGAN_NO_MALLOC_TUNE")
    try:
        glibc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (AttributeError, ValueError, OSError):
        glibc = ""
    expected = sys.platform.startswith("linux") and glibc.startswith("glibc")
    assert B.tune_host_allocator() is expected
    assert B.tune_host_allocator() is expected  # idempotent
    assert tinygan.tune_host_allocator is B.tune_host_allocator


def test_set_num_threads_limits_the_blas_pool():
    import threadpoolctl  # a runtime dependency (setup.cfg): no skip if it is missing
    before = {p["filepath"]: p["num_threads"] for p in threadpoolctl.threadpool_info()}
    try:
        assert tinygan.set_num_threads(2) is True
        blas = [p for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
        assert blas and all(p["num_threads"] == 1 for p in blas)  # one per pool thread
        assert B.host_threads() == 2
    finally:
        B._THREAD_LIMITER[0].restore_original_limits()
        B._THREAD_LIMITER[0] = None
        B._HOST_THREADS[0] = None
    after = {p["filepath"]: p["num_threads"] for p in threadpoolctl.threadpool_info()}
    assert after == before


def _blas_threads():
    import threadpoolctl
    return {p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"}


def test_num_threads_sizes_tinygans_pool_and_holds_the_blas_to_one_thread():
    """num_threads(n): tinygan's own pool gets n threads, the BLAS one (its idle
    threads would spin on the cores the pool needs); both restored after."""
    before_host, before_blas = B.host_threads(), _blas_threads()
    with B.num_threads(2):
        assert B.host_threads() == 2 and _blas_threads() == {1}
        with B.num_threads(1):
            assert B.host_threads() == 1 and _blas_threads() == {1}
        assert B.host_threads() == 2
    assert B.host_threads() == before_host and _blas_threads() == before_blas


def test_parallel_for_runs_every_index_once_on_the_pool():
    import threading
    with B.num_threads(2):
        seen, names, second = [], set(), threading.Event()

        def body(k):
            seen.append(k)
            names.add(threading.current_thread().name)
            if len(names) == 2:
                second.set()
            # the first index waits for the other thread to start (else the caller
            # could claim every index before the pool thread wakes)
            second.wait(timeout=10)

        B.parallel_for(body, 7)
        assert sorted(seen) == list(range(7))
        assert len(names) == 2  # the caller and one pool thread
    seen.clear()
    B.parallel_for(seen.append, 3, workers=1)  # serial: in order, in the caller
    assert seen == [0, 1, 2]


def test_parallel_for_moves_the_work_of_a_stalled_thread_to_the_others():
    """A thread that stalls (here: sleeps in its first index, as a descheduled thread
    on a busy core would) keeps only that index; the other thread claims the rest."""
    import threading
    import time
    with B.num_threads(2):
        by_thread = {}

        def body(k):
            by_thread.setdefault(threading.current_thread().name, []).append(k)
            if k == 0:
                time.sleep(1.0)  # the other thread wakes within milliseconds

        B.parallel_for(body, 8)
        stalled = [ks for ks in by_thread.values() if 0 in ks]
        assert stalled == [[0]]
        assert sorted(k for ks in by_thread.values() for k in ks) == list(range(8))


def test_parallel_for_does_not_wait_for_a_pool_thread_that_has_not_started():
    """A pool thread still busy elsewhere (as one the OS has not yet woken on a loaded
    machine): the caller claims every index itself and returns without it; the pool
    thread, when it gets to the call's job, finds nothing left and stops."""
    import threading
    with B.num_threads(2):
        B.parallel_for(lambda k: None, 2)  # the pool thread exists
        gate, returned, seen = threading.Event(), threading.Event(), []
        B._pool_queues(1)[0].put(lambda: gate.wait(timeout=30))  # occupy the pool thread

        def call():
            B.parallel_for(seen.append, 5)
            returned.set()

        caller = threading.Thread(target=call)
        caller.start()
        try:
            assert returned.wait(timeout=10), "parallel_for waited for an idle pool thread"
            assert seen == [0, 1, 2, 3, 4]  # all in the caller, in order
        finally:
            gate.set()
            caller.join(timeout=10)
        names = set()
        B.parallel_for(lambda k: names.add(threading.current_thread().name), 40)
        assert names  # the pool works on after the stale job


def test_parallel_for_raises_the_error_of_a_body():
    with B.num_threads(2):
        import threading
        done, running, lock = [], [0], threading.Lock()

        def body(k):
            with lock:
                running[0] += 1
            try:
                if k == 3:
                    raise ValueError("slice 3 failed")
                done.append(k)
            finally:
                with lock:
                    running[0] -= 1

        with pytest.raises(ValueError, match="slice 3 failed"):
            B.parallel_for(body, 6)
        assert 3 not in done and set(done) <= {0, 1, 2, 4, 5}
        assert running[0] == 0  # raised only once every thread had stopped


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_parallel_for_works_in_a_forked_child():
    """A child forked after the pool started (a multiprocessing worker) inherits the pool's
    bookkeeping but not its threads: it starts its own instead of waiting on none."""
    import multiprocessing
    with B.num_threads(2):
        B.parallel_for(lambda k: None, 4)  # the parent's pool thread is running
        ctx = multiprocessing.get_context("fork")
        child = ctx.Process(target=_child_runs_parallel_for)
        child.start()
        child.join(timeout=60)
        if child.is_alive():
            child.kill()
        assert child.exitcode == 0


def _child_runs_parallel_for():
    import threading
    names = set()
    with B.num_threads(2):
        second = threading.Event()

        def body(k):
            names.add(threading.current_thread().name)
            if len(names) == 2:
                second.set()
            second.wait(timeout=10)

        B.parallel_for(body, 4)
    os._exit(0 if len(names) == 2 else 1)


@pytest.mark.parametrize("bad", [0, -2, "two", None])
def test_set_num_threads_rejects_bad_counts(bad):
    with pytest.raises(ValueError, match="set_num_threads: n must be a positive integer"):
        tinygan.set_num_threads(bad)


def test_gpu_check_runs_end_to_end_on_the_standin():
    """benchmarks/gpu_check.py, the first GPU session's one command, on the CuPy stand-in:
    device, parity against NumPy and a short DCGAN-64 training run through gan_loop (its
    suite and speed stages are the test suite and bench_steps.py, run elsewhere)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run([sys.executable, os.path.join(root, "benchmarks", "gpu_check.py"),
                           "--backend", "standin", "--quick", "--skip", "suite", "speed",
                           "--train-seconds", "1"], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "| parity | ok |" in proc.stdout and "| training | ok |" in proc.stdout
    assert "weights 0.0e+00" in proc.stdout  # the stand-in computes exactly what NumPy does
