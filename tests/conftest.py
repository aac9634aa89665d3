"""Shared fixtures.

* ``backend`` — runs a test once on NumPy and once on the CuPy stand-in
  (arrays that refuse implicit conversion to NumPy, like CuPy's).  Engine,
  layer, optimiser and loop tests use it, so CI proves the CuPy path has no
  hidden host round-trips.
* ``float64`` — default dtype float64 for the test (gradient checks).
* ``torch`` — PyTorch, or a clean skip when it is not installed.
"""
import pytest

import tinygan
import tinygan.testing  # noqa: F401  (registers the "standin" backend)
from tinygan import backend as B
from tinygan.data.mnist import find_mnist_dir

MNIST_DIR = find_mnist_dir()  # $TINYGAN_DATA, ../shared/data/mnist, ... (None: tests skip)


@pytest.fixture(scope="session", autouse=True)
def _one_blas_thread():
    """Tests check numbers, not speed: one BLAS thread keeps them fast and steady on a
    shared 2-core machine (multi-threaded BLAS on tiny matrices thrashes under load)."""
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.fixture(params=["numpy", "standin"])
def backend(request):
    previous = B.get_backend()
    B.set_backend(request.param)
    tinygan.manual_seed(0)
    try:
        yield request.param
    finally:
        B.set_backend(previous)


@pytest.fixture
def float64():
    with B.default_dtype_as("float64"):
        yield


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


@pytest.fixture
def mnist_dir():
    if MNIST_DIR is None:
        pytest.skip("no MNIST files ($TINYGAN_DATA, ../shared/data/mnist or the download cache)")
    return MNIST_DIR


@pytest.fixture(autouse=True)
def _restore_backend_state():
    """Every test starts on NumPy, float32, seed 0."""
    B.set_backend("numpy")
    tinygan.manual_seed(0)
    yield
    B.set_backend("numpy")
    B.set_default_dtype("float32")
