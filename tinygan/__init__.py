"""tinygan — a from-scratch NumPy/CuPy deep-learning engine and the classic GAN family.

Layers, bottom-up (imports only point down):
backend → autograd → ops → nn → optim → gan → data / metrics / plots → cli.
"""
from . import backend
from .autograd import Tensor, enable_grad, grad, is_grad_enabled, no_grad, set_grad_enabled, tensor
from .backend import (default_dtype, get_backend, manual_seed, set_backend, set_default_dtype,
                      to_numpy)
from .backend import set_num_threads, tune_host_allocator  # noqa: F401  (host CPU tuning)
from . import ops  # noqa: F401  (attaches Tensor operators)
from . import optim  # noqa: F401
from .serialization import load, save  # noqa: F401

__version__ = "0.1.0"


def randn(*shape, requires_grad=False):
    """Standard-normal tensor on the active backend (seeded by ``manual_seed``)."""
    shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    return Tensor(backend.randn(shape), requires_grad=requires_grad)


def rand(*shape, requires_grad=False):
    """Uniform [0, 1) tensor on the active backend."""
    shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    return Tensor(backend.rand(shape), requires_grad=requires_grad)


def zeros(*shape, requires_grad=False):
    shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    return Tensor(backend.xp().zeros(shape, dtype=default_dtype()), requires_grad=requires_grad)


def ones(*shape, requires_grad=False):
    shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    return Tensor(backend.xp().ones(shape, dtype=default_dtype()), requires_grad=requires_grad)
