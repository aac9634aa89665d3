"""Shape layers: ``Flatten``, ``Unflatten``, ``PixelShuffle`` / ``PixelUnshuffle`` and the
padding layers as PyTorch's, and ``Reshape``."""
from __future__ import annotations

from ..ops import pad, pixel_shuffle, pixel_unshuffle
from .module import Module


class Flatten(Module):
    """Dims ``start_dim`` … ``end_dim`` merged into one: (N, d1, d2, ...) → (N, d1·d2·...) by
    default (PyTorch's ``nn.Flatten(start_dim=1, end_dim=-1)``)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Dim ``dim`` split into ``unflattened_size``, as PyTorch's
    ``nn.Unflatten(dim, unflattened_size)``: e.g. ``Unflatten(1, (128, 7, 7))`` turns a
    generator's (N, 6272) Linear output into (N, 128, 7, 7)."""

    def __init__(self, dim: int, unflattened_size=None, *extra):
        super().__init__()
        if extra or not isinstance(dim, int) or not isinstance(unflattened_size, (tuple, list)):
            # tinygan 0.1 spelled it Unflatten(C, H, W) or Unflatten((C, H, W)): that is Reshape
            given = (dim,) + (() if unflattened_size is None else (unflattened_size,)) + extra
            raise TypeError(f"Unflatten(dim, unflattened_size) as in PyTorch, e.g. "
                            f"Unflatten(1, (128, 7, 7)); got Unflatten"
                            f"({', '.join(map(repr, given))}) (to reshape every sample: "
                            f"nn.Reshape(*shape))")
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x):
        return x.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Reshape(Module):
    """(N, ...) → (N, *shape): every sample reshaped (no PyTorch layer of this name; it is
    ``x.view(x.size(0), *shape)``)."""

    def __init__(self, *shape):
        super().__init__()
        self.shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) \
            else tuple(shape)

    def forward(self, x):
        return x.view(x.shape[0], *self.shape)

    def extra_repr(self):
        return ", ".join(map(str, self.shape))


class PixelShuffle(Module):
    """(N, C·r², H, W) → (N, C, H·r, W·r) (sub-pixel upsampling, Shi et al. 2016)."""

    def __init__(self, upscale_factor: int):
        super().__init__()
        self.upscale_factor = int(upscale_factor)

    def forward(self, x):
        return pixel_shuffle(x, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(N, C, H·r, W·r) → (N, C·r², H, W), the inverse of :class:`PixelShuffle`."""

    def __init__(self, downscale_factor: int):
        super().__init__()
        self.downscale_factor = int(downscale_factor)

    def forward(self, x):
        return pixel_unshuffle(x, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"


class _Pad2d(Module):
    """The last two dims padded by ``padding``: an int, or (left, right, top, bottom)."""
    mode = "constant"

    def __init__(self, padding, value: float = 0.0):
        super().__init__()
        self.padding = (padding,) * 4 if isinstance(padding, int) else tuple(padding)
        if len(self.padding) != 4:
            raise ValueError(f"{type(self).__name__}: padding must be an int or (left, right, "
                             f"top, bottom), got {padding!r}")
        self.value = float(value)

    def forward(self, x):
        return pad(x, self.padding, self.mode, self.value)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad2d(_Pad2d):
    def __init__(self, padding):
        super().__init__(padding, 0.0)


class ConstantPad2d(_Pad2d):
    pass


class ReflectionPad2d(_Pad2d):
    """Mirrored about the edge (CycleGAN's and pix2pix's generators pad this way)."""
    mode = "reflect"

    def __init__(self, padding):
        super().__init__(padding)


class ReplicationPad2d(_Pad2d):
    mode = "replicate"

    def __init__(self, padding):
        super().__init__(padding)
