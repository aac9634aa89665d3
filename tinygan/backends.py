"""``torch.backends`` as GAN scripts touch it: ``torch.backends.cudnn.benchmark = True``
(accepted, no effect: tinygan has no cuDNN autotuner) and
``torch.backends.mps.is_available()`` (False: no Apple-GPU backend); and
``torch.accelerator`` (pytorch/examples' DCGAN asks it for the GPU: CuPy's, if usable)."""
from __future__ import annotations

from types import SimpleNamespace

from . import cuda
from .device import device

__all__ = ["cudnn", "mps", "accelerator"]

cudnn = SimpleNamespace(benchmark=False, deterministic=False, enabled=True,
                        is_available=lambda: False)
mps = SimpleNamespace(is_available=lambda: False, is_built=lambda: False)


def _current_accelerator(check_available: bool = False):
    return device("cuda") if cuda.is_available() else None


accelerator = SimpleNamespace(is_available=cuda.is_available,
                              current_accelerator=_current_accelerator,
                              device_count=cuda.device_count)
