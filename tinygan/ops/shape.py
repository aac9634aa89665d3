"""Shape ops: broadcast/sum_to, reshape, transpose, indexing, concatenate, stack, split,
constant padding.

Each backward is written with these same ops, so it is differentiable.
"""
from __future__ import annotations

from .. import backend as B
from .._validate import positive_int
from ..autograd import Function, Tensor, is_grad_enabled
from ._util import elementwise_on_threads, normalize_axis


class BroadcastTo(Function):
    def forward(self, x):
        self.in_shape = x.shape
        return B.array_module(x).broadcast_to(x, self.shape)

    def backward(self, g):
        return sum_to(g, self.in_shape)


class SumTo(Function):
    """Sum a broadcast result back to ``shape`` (the gradient of broadcasting)."""

    def forward(self, x):
        self.in_shape = x.shape
        lead = x.ndim - len(self.shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(self.shape) if n == 1 and x.shape[lead + i] != 1)
        y = x.sum(axis=axes, keepdims=True) if axes else x
        return y.reshape(self.shape)

    def backward(self, g):
        return broadcast_to(g, self.in_shape)


def _broadcastable(small, big) -> bool:
    """True when ``small`` broadcasts to exactly ``big`` (NumPy's rule, one direction)."""
    return len(small) <= len(big) and all(
        s == b or s == 1 for s, b in zip(small[::-1], big[::-1]))


def broadcast_to(x: Tensor, shape) -> Tensor:
    shape = tuple(int(s) for s in shape)
    if x.shape == shape:
        return x
    if not _broadcastable(x.shape, shape):
        raise ValueError(f"broadcast_to: cannot broadcast a tensor of shape {x.shape} "
                         f"to {shape}")
    return BroadcastTo.apply(x, shape=shape)


def sum_to(x: Tensor, shape) -> Tensor:
    """Reduce ``x`` by summation to ``shape`` (inverse of broadcasting)."""
    shape = tuple(int(s) for s in shape)
    if x.shape == shape:
        return x
    if not _broadcastable(shape, x.shape):
        raise ValueError(f"sum_to: shape {shape} does not broadcast to the tensor's shape "
                         f"{x.shape}, so the tensor cannot be summed to it")
    return SumTo.apply(x, shape=shape)


class Reshape(Function):
    # Flattening a conv output for a Linear layer (DCGAN's discriminator head) reshapes an
    # array that lives in channels-last memory, which takes a copy into C order.  Its
    # gradient, reshaped back, would then be NCHW while every array before it is
    # channels-last, and each op behind it (the activation's and batch norm's backward, the
    # conv backward's GEMM rows) would walk the two layouts against each other or copy.  So
    # without a recorded graph the backward hands the gradient back in the input's own
    # layout (one copy, as the forward's): the DCGAN-28 step at batch 64 and two threads
    # took 111–112 ms instead of 115–118 (benchmarks/README.md).  Under create_graph it
    # stays a differentiable reshape.  Both copies run in batch slices on the host threads.

    def forward(self, x):
        self.in_shape = x.shape
        if x.flags.c_contiguous:
            return x.reshape(self.shape)
        out = B.array_module(x).empty(x.shape, dtype=x.dtype)
        elementwise_on_threads(_copy_into, out, x)
        return out.reshape(self.shape)

    def backward(self, g):
        x = self.inputs[0].data
        if x.flags.c_contiguous or is_grad_enabled():
            return reshape(g, self.in_shape)
        out = B.array_module(x).empty_like(x)  # order "K": the input's strides
        elementwise_on_threads(_copy_into, out, g.data.reshape(self.in_shape))
        return Tensor._make(out, False, None)


def _copy_into(out, x):
    out[...] = x


def reshape(x: Tensor, *shape) -> Tensor:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    shape = tuple(int(s) for s in shape)
    known = 1
    for s in shape:
        known *= s if s != -1 else 1
    n = x.numel()
    if shape.count(-1) > 1 or (-1 not in shape and known != n) or \
            (-1 in shape and (known == 0 or n % known)):
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} "
                         f"({n} elements) to {shape}")
    if tuple(x.shape) == shape:
        return x
    return Reshape.apply(x, shape=shape)


def flatten(x: Tensor, start_dim: int = 1) -> Tensor:
    """Merge all dims from ``start_dim`` on (batch dim kept by default)."""
    start_dim %= max(x.ndim, 1)
    return reshape(x, x.shape[:start_dim] + (-1,))


class Transpose(Function):
    def forward(self, x):
        return x.transpose(self.axes)

    def backward(self, g):
        inverse = [0] * len(self.axes)
        for i, a in enumerate(self.axes):
            inverse[a] = i
        return transpose(g, tuple(inverse))


def transpose(x: Tensor, axes=None) -> Tensor:
    """Permute dims (reverse them when ``axes`` is None, like ``.T``)."""
    axes = tuple(range(x.ndim))[::-1] if axes is None else tuple(a % x.ndim for a in axes)
    if sorted(axes) != list(range(x.ndim)):
        raise ValueError(f"transpose: axes {axes} are not a permutation of {x.ndim} dims")
    return Transpose.apply(x, axes=axes)


def swapaxes(x: Tensor, a: int, b: int) -> Tensor:
    axes = list(range(x.ndim))
    axes[a], axes[b] = axes[b], axes[a]
    return transpose(x, tuple(axes))


def index_arrays(index):
    """Replace Tensors inside an index by their arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(index_arrays(i) for i in index)
    return index


def _is_basic(index):
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, slice)) for i in items)


class GetItem(Function):
    def forward(self, x):
        self.in_shape = x.shape
        return x[self.index]

    def backward(self, g):
        return IndexAdd.apply(g, index=self.index, shape=self.in_shape)


class IndexAdd(Function):
    """zeros(shape) with ``g`` added at ``index`` (repeats accumulate): getitem's adjoint."""

    def forward(self, g):
        out = B.array_module(g).zeros(self.shape, dtype=g.dtype)
        if _is_basic(self.index):
            out[self.index] = g  # a basic index selects each element at most once
        else:
            B.scatter_add(out, self.index, g)
        return out

    def backward(self, gg):
        return GetItem.apply(gg, index=self.index)


def getitem(x: Tensor, index) -> Tensor:
    return GetItem.apply(x, index=index_arrays(index))


class Concatenate(Function):
    def forward(self, *xs):
        self.sizes = [x.shape[self.axis] for x in xs]
        return B.array_module(xs[0]).concatenate(xs, axis=self.axis)

    def backward(self, g):
        grads, start = [], 0
        for size, need in zip(self.sizes, self.needs_input_grad):
            index = (slice(None),) * self.axis + (slice(start, start + size),)
            grads.append(getitem(g, index) if need else None)
            start += size
        return tuple(grads)


def concatenate(tensors, axis: int = 0) -> Tensor:
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("concatenate: needs at least one tensor")
    nd = tensors[0].ndim
    ax = normalize_axis(axis, nd, "concatenate")[0]
    ref = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.ndim != nd or any(a != b for d, (a, b) in enumerate(zip(t.shape, ref)) if d != ax):
            raise ValueError(f"concatenate: tensor {i} has shape {t.shape}, incompatible with "
                             f"tensor 0's shape {ref} along axis {ax}")
    return Concatenate.apply(*tensors, axis=ax)


def stack(tensors, axis: int = 0) -> Tensor:
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: needs at least one tensor")
    ref = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.shape != ref:
            raise ValueError(f"stack: tensor {i} has shape {t.shape}, tensor 0 has {ref}")
    ax = axis % (len(ref) + 1)
    expanded = [reshape(t, ref[:ax] + (1,) + ref[ax:]) for t in tensors]
    return concatenate(expanded, axis=ax)


def unsqueeze(x: Tensor, axis: int) -> Tensor:
    ax = axis % (x.ndim + 1)
    return reshape(x, x.shape[:ax] + (1,) + x.shape[ax:])


def squeeze(x: Tensor, axis=None) -> Tensor:
    if axis is None:
        return reshape(x, tuple(s for s in x.shape if s != 1))
    ax = normalize_axis(axis, x.ndim, "squeeze")
    for a in ax:
        if x.shape[a] != 1:
            raise ValueError(f"squeeze: axis {a} of shape {x.shape} has size {x.shape[a]}, not 1")
    return reshape(x, tuple(s for i, s in enumerate(x.shape) if i not in ax))


def split(x: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """PyTorch's ``torch.split``: pieces of ``split_size`` along ``dim`` (the last one
    smaller when it does not divide), or of the listed sizes, which must add up to the
    dim's size.  Each piece is a slice, so its gradient flows back to ``x``."""
    ax = normalize_axis(dim, x.ndim, "split")[0]
    n = x.shape[ax]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = [int(v) for v in split_size_or_sections]
        if any(v < 0 for v in sizes) or sum(sizes) != n:
            raise ValueError(f"split: sections {list(split_size_or_sections)} must be "
                             f"non-negative and add up to dim {ax}'s size {n}")
    else:
        step = positive_int(split_size_or_sections, "split_size", "split")
        sizes = [min(step, n - start) for start in range(0, n, step)] or [0]
    pieces, start = [], 0
    for size in sizes:
        pieces.append(getitem(x, (slice(None),) * ax + (slice(start, start + size),)))
        start += size
    return tuple(pieces)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple:
    """PyTorch's ``torch.chunk``: at most ``chunks`` pieces of ⌈size / chunks⌉ along
    ``dim`` (fewer when the size runs out first, as in PyTorch)."""
    chunks = positive_int(chunks, "chunks", "chunk")
    ax = normalize_axis(dim, x.ndim, "chunk")[0]
    return split(x, max(1, -(-x.shape[ax] // chunks)), ax)


def _edge(x: Tensor, ax: int, amount: int, side: str, mode: str) -> Tensor:
    """The ``amount`` rows that reflect / replicate padding adds on ``side`` of dim ``ax``."""
    n, before = x.shape[ax], (slice(None),) * ax
    if mode == "replicate":
        row = getitem(x, before + ((slice(0, 1) if side == "left" else slice(n - 1, n)),))
        return concatenate([row] * amount, axis=ax)
    if side == "left":  # reflect: x[amount], …, x[1] (the edge itself is not repeated)
        return getitem(x, before + (slice(amount, 0, -1),))
    stop = n - 2 - amount  # x[n−2], …, x[n−1−amount]
    return getitem(x, before + (slice(n - 2, stop if stop >= 0 else None, -1),))


def pad(x: Tensor, pad, mode: str = "constant", value: float = 0.0) -> Tensor:
    """PyTorch's ``F.pad``: ``pad`` = (left, right) for the last dim, then (top, bottom) for
    the one before, and so on.  ``mode`` 'constant' (``value``; a negative amount crops),
    'reflect' (mirrored about the edge, which is not repeated; each amount below the dim's
    size) or 'replicate' (the edge repeated).  Built from slices and concatenation, so it is
    differentiable to any order."""
    if mode not in ("constant", "reflect", "replicate"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect' or 'replicate', got {mode!r}")
    pad = tuple(pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim or \
            not all(isinstance(v, int) and not isinstance(v, bool) for v in pad):
        raise ValueError(f"pad: expected an even number (at most {2 * x.ndim}) of integer "
                         f"amounts, got {pad}")
    if mode != "constant" and min(pad) < 0:
        raise ValueError(f"pad: mode={mode!r} takes no negative amounts, got {pad}")
    for i in range(len(pad) // 2):
        ax, (left, right) = x.ndim - 1 - i, pad[2 * i:2 * i + 2]
        n = x.shape[ax]
        if n + min(left, 0) + min(right, 0) < 0:
            raise ValueError(f"pad: cropping {-min(left, 0)} and {-min(right, 0)} from dim "
                             f"{ax} of size {n}")
        if mode == "reflect" and max(left, right) >= n:
            raise ValueError(f"pad: reflect padding of {max(left, right)} needs dim {ax} to be "
                             f"longer than that, but it has size {n}")
        if left < 0 or right < 0:
            x = getitem(x, (slice(None),) * ax + (slice(max(-left, 0), n - max(-right, 0)),))
        parts = []
        for side, amount in (("left", left), ("middle", None), ("right", right)):
            if amount is None:
                parts.append(x)
            elif amount > 0 and mode != "constant":
                parts.append(_edge(x, ax, amount, side, mode))
            elif amount > 0:
                shape = x.shape[:ax] + (amount,) + x.shape[ax + 1:]
                mod = B.array_module(x.data)
                parts.append(Tensor._make(mod.full(shape, value, dtype=x.dtype), False, None))
        if len(parts) > 1:
            x = concatenate(parts, axis=ax)
    return x


def pixel_shuffle(x: Tensor, upscale_factor: int) -> Tensor:
    """(N, C·r², H, W) → (N, C, H·r, W·r): each group of r² channels becomes an r × r block
    (Shi et al. 2016's sub-pixel convolution), as ``F.pixel_shuffle``; a reshape and a
    permutation, so differentiable to any order."""
    r = int(upscale_factor)
    if r < 1 or x.ndim < 3 or x.shape[-3] % (r * r):
        raise ValueError(f"pixel_shuffle: expected (…, C·{r}², H, W) with an upscale factor "
                         f">= 1, got shape {x.shape} and {upscale_factor!r}")
    *lead, c, h, w = x.shape
    y = reshape(x, tuple(lead) + (c // (r * r), r, r, h, w))
    k = len(lead)
    y = transpose(y, tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2))
    return reshape(y, tuple(lead) + (c // (r * r), h * r, w * r))


def pixel_unshuffle(x: Tensor, downscale_factor: int) -> Tensor:
    """The inverse of :func:`pixel_shuffle`: (N, C, H·r, W·r) → (N, C·r², H, W)."""
    r = int(downscale_factor)
    if r < 1 or x.ndim < 3 or x.shape[-2] % r or x.shape[-1] % r:
        raise ValueError(f"pixel_unshuffle: expected (…, C, H·{r}, W·{r}) with a downscale "
                         f"factor >= 1, got shape {x.shape} and {downscale_factor!r}")
    *lead, c, h, w = x.shape
    y = reshape(x, tuple(lead) + (c, h // r, r, w // r, r))
    k = len(lead)
    y = transpose(y, tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3))
    return reshape(y, tuple(lead) + (c * r * r, h // r, w // r))
