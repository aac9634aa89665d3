"""2-D convolution and transposed convolution: im2col + one GEMM per call.

Shapes and weight layouts follow PyTorch (MATH.md §2):

* ``conv2d(x, w)``: x (N, C, H, W), w (O, C, KH, KW);
  ``OH = floor((H + 2·ph − KH) / sh) + 1`` (same for W).
* ``conv_transpose2d(x, w)``: x (N, Cin, H, W), w (Cin, Cout, KH, KW);
  ``OH = (H − 1)·sh − 2·ph + KH + oph``.

The transposed convolution is the adjoint of the convolution with the same
weight, stride and padding: ⟨conv2d(x, w), y⟩ = ⟨x, conv_transpose2d(y, w)⟩.
So each one's input gradient *is* the other one, and the weight gradient of
both is the same bilinear map ``conv2d_weight``.  The three Functions below
write their backward passes through each other; since all three are
differentiable, a gradient of a gradient (WGAN-GP) works through any of them:

=================  ============================  ===============================
Function           d/d(first input)              d/d(second input)
=================  ============================  ===============================
conv2d(x, w)       conv_transpose2d(g, w)        conv2d_weight(x, g)
conv_transpose2d   conv2d(g, w)                  conv2d_weight(g, x)
conv2d_weight      conv_transpose2d(gy, ggw)     conv2d(x, ggw)
(x, gy) -> dw
=================  ============================  ===============================

Memory layout (why it is fast).  The image is copied once into a zero-padded
*channels-last* (N, H, W, C) buffer.  The im2col matrix is then a strided
view of that buffer, shape (N, OH, OW, KH, KW, C), reshaped (one copy) to
(N·OH·OW, KH·KW·C): every row is one receptive field, and inside a row each
kernel row is one contiguous run of KW·C numbers, so the copy moves long
runs (2.5-5x faster than columns built from NCHW, measured).  A single GEMM
with the weight, rearranged (a small copy) to (O, KH·KW·C), gives the output
as (N·OH·OW, O), i.e. channels-last again; it is returned as an (N, O, OH, OW)
*view* of that memory, so no transposed copy of the output is made.  NumPy's
elementwise ops keep that layout (bias, batch norm, activations, and their
gradients), so the next layer's channels-last copy is a plain copy and the
gradient reaching a conv layer is channels-last too.

col2im (the adjoint of im2col, used by conv_transpose2d and by conv2d's
input gradient) adds the GEMM's column blocks back into a zero canvas with a
few strided slice-adds, a loop over kernel offsets only (never over pixels or
batch elements).  With >= ``CHANNELS_FIRST_BELOW`` channels the columns are
channels-last and offsets are grouped by stride phase (4 adds for k=4, s=2);
with fewer channels (the 1- or 3-channel images at the ends of a GAN) the GEMM
produces channels-first columns (KH·KW·C, N·H·W) instead, so each add runs
along image rows rather than along 1-3 channels.

The im2col columns of a conv2d input hold KH·KW/(sh·sw) times the input
(4x for DCGAN's k=4, s=2).  With ``KEEP_COLUMNS = "auto"`` (default) they are
kept from the forward pass for the weight gradient only when that ratio is at
most 1 (e.g. k=2, s=2, or a 1x1 kernel), where keeping costs no more memory
than the input itself; otherwise backward rebuilds them (one im2col, ~0.75 ms
for DCGAN-28's Conv(64→128) at batch 64) and the forward's columns die at
once.  Measured on DCGAN-64 (``benchmarks/bench_steps.py --memory``, workload (c)): peak 728 →
549 MiB.  ``True`` always keeps them (one im2col less per step, more memory),
``False`` never does.
"""
from __future__ import annotations

from .. import backend as B
from ..autograd import Function, Tensor, is_grad_enabled
from ._util import channel_rows, channel_sum, even_slices, sum_in_order
from .linalg import matmul_array
from .reduce import sum as reduce_sum

__all__ = ["conv2d", "conv_transpose2d", "conv2d_weight", "conv_output_size",
           "conv_transpose_output_size"]

# Keep conv2d's im2col columns from forward to backward: "auto" (only when they are
# no larger than the input), True (always) or False (never); see the module docstring.
KEEP_COLUMNS = "auto"


def _keep_columns(kernel, stride) -> bool:
    """Whether conv2d should keep its forward columns for the weight gradient."""
    if KEEP_COLUMNS == "auto":
        return kernel[0] * kernel[1] <= stride[0] * stride[1]
    return bool(KEEP_COLUMNS)


# ---------------------------------------------------------------- argument handling
def _pair(v, name, who):
    """int or (h, w) -> (h, w) of Python ints."""
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise ValueError(f"{who}: {name} must be an int or a pair (h, w), got {v!r}")
        h, w = v
    else:
        h = w = v
    try:
        if int(h) != h or int(w) != w:
            raise TypeError
    except (TypeError, ValueError):
        raise TypeError(f"{who}: {name} must be an int or a pair of ints, got {v!r}") from None
    return int(h), int(w)


def _check_hyper(who, stride, padding, output_padding=(0, 0)):
    if stride[0] <= 0 or stride[1] <= 0:
        raise ValueError(f"{who}: stride must be positive, got {stride}")
    if padding[0] < 0 or padding[1] < 0:
        raise ValueError(f"{who}: padding must be non-negative, got {padding}")
    if output_padding[0] < 0 or output_padding[1] < 0:
        raise ValueError(f"{who}: output_padding must be non-negative, got {output_padding}")
    if output_padding[0] >= stride[0] or output_padding[1] >= stride[1]:
        # As in PyTorch: a larger output_padding would add rows no input pixel reaches.
        raise ValueError(f"{who}: output_padding {output_padding} must be smaller than the "
                         f"stride {stride}")


def conv_output_size(size, kernel, stride, padding):
    """Convolution output size: floor((H + 2p − k) / s) + 1 (MATH.md §2)."""
    return (size + 2 * padding - kernel) // stride + 1


def conv_transpose_output_size(size, kernel, stride, padding, output_padding=0):
    """Transposed-convolution output size: (H − 1)s − 2p + k + op (MATH.md §2)."""
    return (size - 1) * stride - 2 * padding + kernel + output_padding


def _as_tensor(x, who, name):
    if isinstance(x, Tensor):
        return x
    if B.is_array(x):
        return Tensor(x)
    raise TypeError(f"{who}: {name} must be a Tensor, got {type(x).__name__}")


def _check_dtypes(who, *tensors):
    kinds = {t.dtype for t in tensors if t is not None}
    if len(kinds) > 1:
        # numpy would silently promote float32 @ float64 to float64; refuse instead.
        raise TypeError(f"{who}: all operands must share one float dtype, got "
                        + ", ".join(str(t.dtype) for t in tensors if t is not None))
    for t in tensors:
        if t is not None and t.dtype.kind != "f":
            raise TypeError(f"{who}: expected floating tensors, got dtype {t.dtype}")


def _check_bias(who, bias, channels):
    if bias is not None and tuple(bias.shape) != (channels,):
        raise ValueError(f"{who}: bias must have shape ({channels},), got {bias.shape}")


def _conv_tensors(who, x, weight, bias, transposed: bool):
    """x, weight, bias of conv2d / conv_transpose2d as Tensors, their shapes and dtypes checked.

    The weight is (out, in, KH, KW) for conv2d and (in, out, KH, KW) for the
    transposed convolution (PyTorch's layouts)."""
    x, weight = _as_tensor(x, who, "input"), _as_tensor(weight, who, "weight")
    bias = None if bias is None else _as_tensor(bias, who, "bias")
    if weight.ndim != 4:
        layout = "in_channels, out_channels" if transposed else "out_channels, in_channels"
        raise ValueError(f"{who}: weight must be 4-D ({layout}, kH, kW), "
                         f"got shape {weight.shape}")
    if x.ndim != 4:
        raise ValueError(f"{who}: expected a 4-D input (N, C, H, W), got shape {x.shape}")
    cin, cout = weight.shape[:2] if transposed else weight.shape[1::-1]
    if x.shape[1] != cin:
        raise ValueError(f"{who}: input has {x.shape[1]} channels (shape {x.shape}) but the "
                         f"weight {weight.shape} expects {cin}")
    _check_bias(who, bias, cout)
    _check_dtypes(who, x, weight, bias)
    return x, weight, bias


def _bias_grad(g):
    """∂L/∂b of y = conv(x) + b (b broadcast over N, H, W) for g = ∂L/∂y: g summed over
    N, H and W.  A differentiable Tensor op when a graph is recorded; otherwise on
    arrays (ops/_util.channel_sum)."""
    if is_grad_enabled():
        return reduce_sum(g, dim=(0, 2, 3))
    return Tensor._make(channel_sum(g.data), False, None)


# ---------------------------------------------------------------- array kernels
def _channels_last(x, ph, pw):
    """(N, C, H, W) -> zero-padded (N, H + 2ph, W + 2pw, C), one pass.

    Without padding, an input that already lives in channels-last memory (the
    output of another conv here) is returned as a free view.
    """
    xp = B.array_module(x)
    n, c, h, w = x.shape
    nhwc = x.transpose(0, 2, 3, 1)
    if ph == 0 and pw == 0:
        return xp.ascontiguousarray(nhwc)
    out = xp.zeros((n, h + 2 * ph, w + 2 * pw, c), dtype=x.dtype)
    out[:, ph:ph + h, pw:pw + w, :] = nhwc
    return out


def _rows(x):
    """(N, C, H, W) -> an (N·H·W, C) matrix R, R[(n,h,w), c] = x[n, c, h, w], for a GEMM.

    Free when x lives in channels-last memory (any conv output here).  Otherwise
    it is the transposed view of a (C, N·H·W) copy: that copy moves contiguous
    H·W runs (fast), whereas a channels-last copy of an NCHW array reads with a
    stride of H·W elements (4 KiB for 32×32 maps, which thrashes the cache).
    BLAS takes either layout of the operand without another copy.
    """
    rows = channel_rows(x)
    if rows is not None:
        return rows
    n, c, h, w = x.shape
    xp = B.array_module(x)
    if c == 1:  # one channel: its channels-last copy is a plain copy too
        return xp.ascontiguousarray(x.transpose(0, 2, 3, 1)).reshape(n * h * w, c)
    return xp.ascontiguousarray(x.transpose(1, 0, 2, 3)).reshape(c, n * h * w).T


def _im2col(x, kernel, stride, padding, out_hw):
    """Columns (N·OH·OW, KH·KW·C) of x (N, C, H, W), channels-last inside each row."""
    return _padded_columns(_channels_last(x, *padding), kernel, stride, out_hw)


def _padded_columns(xpad, kernel, stride, out_hw):
    """im2col of an already padded channels-last (N, Hp, Wp, C) buffer (or a batch slice)."""
    (kh, kw), (sh, sw), (oh, ow) = kernel, stride, out_hw
    n, _, _, c = xpad.shape
    s0, s1, s2, s3 = xpad.strides
    view = B.as_strided(xpad, (n, oh, ow, kh, kw, c), (s0, s1 * sh, s2 * sw, s1, s2, s3))
    return view.reshape(n * oh * ow, kh * kw * c)


# Cache blocking on the CPU: im2col + GEMM (and GEMM + col2im) run over slices of
# the batch whose columns take about this many bytes, so that each slice of columns
# is still in cache when the GEMM reads it (or col2im adds it back) instead of
# streaming the whole column matrix through memory twice.  Measured on DCGAN-28's
# Conv(64→128, k4 s2) (benchmarks/bench_layers.py, "D28 conv 64->128"), forward + both gradients
# (a conv_transpose2d): 37.2 → 31.9 ms at batch 64, 72.0 → 62.9 ms at batch 128
# (1-4 MiB all within a few % of each other), and the full column matrix is
# never held.  A slice also keeps at least ``CHUNK_MIN_ROWS`` GEMM rows: thinner
# GEMMs lose more to BLAS's per-call packing than blocking gains (DCGAN-64's
# step was 3% slower with 128-row slices).  512 rather than 1024: at two threads
# DCGAN-28's Conv(64→128) then runs in 2 slices per thread instead of 1, and its
# forward + both gradients took 20.2 ms instead of 22.4 (batch 128: 35.4 for 38.6;
# DCGAN-64's Conv(64→128) 96.4 for 102.1; one thread unchanged within 2 %; 2-core
# AMD EPYC, benchmarks/README.md).  With more than one host thread
# (backend.host_threads) the slices run in parallel (backend.parallel_for), so
# their number is then a multiple of the thread count, at least one per thread.
# NumPy only: a GPU wants one large GEMM.  None disables the slicing.
COLUMN_CHUNK_BYTES = 2 << 20
CHUNK_MIN_ROWS = 512
# A product is split across threads only when each thread gets at least this many
# GEMM rows: below it (e.g. DCGAN-64's 4×4 → 1 output conv, 64 rows in all) the
# thread hand-off costs more than the product.
THREAD_MIN_ROWS = 256


def _batch_slices(a, n, rows_per_image, bytes_per_image):
    """[(start, stop), …] slices of the batch for cache blocking and threads, or None to
    do the batch in one go (one slice, or not the NumPy backend).

    The slices are as equal as they can be (so that threads finish together) and
    depend only on the shapes and the host thread count, never on timing."""
    if COLUMN_CHUNK_BYTES is None or B.array_module(a).__name__ != "numpy":
        return None
    min_per = max(1, -(-int(CHUNK_MIN_ROWS) // max(1, rows_per_image)))
    per = max(1, int(COLUMN_CHUNK_BYTES) // max(1, bytes_per_image), min_per)
    count = -(-n // per)
    threads = B.host_threads()
    if threads > 1 and n * rows_per_image >= threads * THREAD_MIN_ROWS:
        # a multiple of the threads; fewer (down to one each) where slices would be thin
        count = -(-count // threads) * threads
        while count > threads and n // count < min_per:
            count -= threads
        count = min(count, n)
    if count <= 1:
        return None
    return even_slices(n, count)


# Below this many channels col2im uses channels-first columns: its slice-adds then
# run along image rows instead of along only C (1 or 3) numbers at a time
# (measured 1.5-5x faster col2im for C <= 16, slower for C >= 64).
CHANNELS_FIRST_BELOW = 32


def _columns_to_image(rows, wrows, n, in_hw, channels, kernel, stride, padding, out_hw,
                      bias=None):
    """GEMM + col2im: the image (N, C, OH, OW) whose im2col adjoint receives ``rows @ wrows``.

    ``rows`` (N·H·W, A) holds one row per grid point, ``wrows`` (A, KH·KW·C)
    the weight; the product, one column block per kernel offset, is added back
    into the (padded) image with one strided slice-add per offset (the adjoint
    of im2col's strided view).  Returns an (N, C, OH, OW) view (channels-last memory),
    ``bias`` (C,) added when given.
    """
    xp = B.array_module(rows)
    (h, w), (kh, kw), (sh, sw), (ph, pw), (oh, ow) = in_hw, kernel, stride, padding, out_hw
    # The canvas also holds the last grid point's whole footprint; the rows past
    # the output (when output_padding < stride leaves some uncovered) are cropped.
    hp, wp = max(oh + 2 * ph, (h - 1) * sh + kh), max(ow + 2 * pw, (w - 1) * sw + kw)
    if channels < CHANNELS_FIRST_BELOW:
        hs, ws = sh * (h - 1) + 1, sw * (w - 1) + 1
        blocks = matmul_array(wrows.T, rows.T).reshape(kh, kw, channels, n, h, w)
        canvas = xp.zeros((channels, n, hp, wp), dtype=blocks.dtype)
        for i in range(kh):
            for j in range(kw):
                canvas[:, :, i:i + hs:sh, j:j + ws:sw] += blocks[i, j]
        image = canvas[:, :, ph:ph + oh, pw:pw + ow]
        if bias is not None:
            image += bias.reshape(channels, 1, 1, 1)
        return image.transpose(1, 0, 2, 3)
    # Channels-last: group the kernel offsets by stride phase, i = qi·sh + ri,
    # j = qj·sw + rj.  The canvas seen as (N, H/sh, sh, W/sw, sw, C) takes offset
    # (i, j) of grid point (y, x) at [y + qi, ri, x + qj, rj], so all sh·sw
    # offsets of one (qi, qj) go in with one add whose rows are contiguous runs
    # of sw·C numbers: ceil(KH/sh)·ceil(KW/sw) adds (4 for DCGAN's k=4, s=2)
    # instead of KH·KW (measured ~20% faster for C = 64).
    hq, wq = -(-hp // sh), -(-wp // sw)
    # When the first group (qi = qj = 0) fills all sh·sw offsets (KH ≥ sh, KW ≥ sw),
    # it is *assigned* into an uninitialised canvas and only the part it does not
    # reach is zeroed: one pass over the canvas less than zeros() followed by +=.
    first_assigns = kh >= sh and kw >= sw
    dtype = rows.dtype  # = the GEMM's result dtype (operands share one float dtype)
    # Each batch slice fills its own padded canvas, whose inside is then copied into a
    # contiguous channels-last output.  Returning a cropped view of one padded canvas
    # instead left every later elementwise pass (batch norm, the activations and their
    # gradients) iterating C-long runs: LeakyReLU's gradient on DCGAN-28's 64×64×14×14
    # took 0.42 ms for its product with the cropped view, 0.16 with a contiguous one.
    out = xp.empty((n, oh, ow, channels), dtype=dtype)
    slices = _batch_slices(rows, n, h * w, h * w * wrows.shape[1] * rows.itemsize) or [(0, n)]

    def col2im_slice(k):  # one slice of the batch (cache blocking), usually one
        i, j = slices[k]
        blocks = (rows[i * h * w:j * h * w] @ wrows).reshape(j - i, h, w, kh, kw, channels)
        sub = xp.empty((j - i, hq, sh, wq, sw, channels), dtype=dtype)
        if first_assigns:
            sub[:, h:] = 0
            sub[:, :h, :, w:] = 0
        else:
            sub[...] = 0
        for qi in range(-(-kh // sh)):
            ri = min(sh, kh - qi * sh)
            for qj in range(-(-kw // sw)):
                rj = min(sw, kw - qj * sw)
                part = blocks[:, :, :, qi * sh:qi * sh + ri, qj * sw:qj * sw + rj, :]
                target = sub[:, qi:qi + h, :ri, qj:qj + w, :rj, :]
                if first_assigns and qi == 0 and qj == 0:
                    target[...] = part.transpose(0, 1, 3, 2, 4, 5)
                else:
                    target += part.transpose(0, 1, 3, 2, 4, 5)
        out[i:j] = sub.reshape(j - i, hq * sh, wq * sw, channels)[:, ph:ph + oh, pw:pw + ow]
        if bias is not None:
            out[i:j] += bias  # while the slice is in cache

    B.parallel_for(col2im_slice, len(slices))
    return out.transpose(0, 3, 1, 2)


def _weight_rows(w):
    """(A, B, KH, KW) -> (A, KH·KW·B): the weight matching channels-last columns (small copy)."""
    a, b, kh, kw = w.shape
    return B.array_module(w).ascontiguousarray(w.transpose(0, 2, 3, 1)).reshape(a, kh * kw * b)


def _conv_forward(x, w, stride, padding, cols=None, keep=False, bias=None):
    """Array-level conv2d (+ ``bias`` when given); returns (y, cols), cols None unless
    given or ``keep``."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    out_hw = (conv_output_size(h, kh, stride[0], padding[0]),
              conv_output_size(wd, kw, stride[1], padding[1]))
    slices = None
    if cols is None and not keep:
        slices = _batch_slices(x, n, out_hw[0] * out_hw[1],
                               out_hw[0] * out_hw[1] * kh * kw * c * x.itemsize)
    # (M, K) @ (K, O): the weight enters transposed as a view (BLAS 'T' flag, no copy).
    wt = _weight_rows(w).T
    if slices is None:
        if cols is None:
            cols = _im2col(x, (kh, kw), stride, padding, out_hw)
        y = matmul_array(cols, wt)
        if bias is not None:
            y += bias
    else:  # cache-blocked: pad, im2col and GEMM one batch slice at a time, rows written in place
        xp, rows_per = B.array_module(x), out_hw[0] * out_hw[1]
        y = xp.empty((n * rows_per, o), dtype=x.dtype)

        def conv_slice(k):
            i, j = slices[k]
            rows = y[i * rows_per:j * rows_per]
            xp.matmul(_im2col(x[i:j], (kh, kw), stride, padding, out_hw), wt, out=rows)
            if bias is not None:
                rows += bias  # while the slice is in cache

        B.parallel_for(conv_slice, len(slices))
    return y.reshape(n, out_hw[0], out_hw[1], o).transpose(0, 3, 1, 2), cols


def _conv_transpose_forward(x, w, stride, padding, output_padding, bias=None):
    """Array-level conv_transpose2d (+ ``bias`` when given): GEMM to columns, then col2im."""
    n, cin, h, wd = x.shape
    _, cout, kh, kw = w.shape
    out_hw = (conv_transpose_output_size(h, kh, stride[0], padding[0], output_padding[0]),
              conv_transpose_output_size(wd, kw, stride[1], padding[1], output_padding[1]))
    # (N·H·W, Cin) @ (Cin, KH·KW·Cout), then col2im
    return _columns_to_image(_rows(x), _weight_rows(w), n, (h, wd), cout, (kh, kw), stride,
                             padding, out_hw, bias)


def _conv_weight_forward(x, gy, w_shape, stride, padding, cols=None, keep=False):
    """Array-level weight gradient of conv2d(x, w) for output gradient gy; returns (dw, cols)."""
    o, c, kh, kw = w_shape
    n, out_hw = x.shape[0], tuple(gy.shape[2:])
    slices = None
    if cols is None and not keep:
        slices = _batch_slices(x, n, out_hw[0] * out_hw[1],
                               out_hw[0] * out_hw[1] * kh * kw * c * x.itemsize)
    # (O, M) @ (M, K): the channels-last gy enters transposed as a view.
    grows = _rows(gy)
    if slices is None:
        if cols is None:
            cols = _im2col(x, (kh, kw), stride, padding, out_hw)
        dw = matmul_array(grows.T, cols)
    else:  # cache-blocked: the sum over M split by batch slices, each im2col'd just in time
        rows_per = out_hw[0] * out_hw[1]

        def weight_slice(k):
            i, j = slices[k]
            return (grows[i * rows_per:j * rows_per].T
                    @ _im2col(x[i:j], (kh, kw), stride, padding, out_hw),)

        # in slice order: the same bits on every run with these slices
        dw, = sum_in_order(len(slices), weight_slice)
    xp = B.array_module(dw)
    return xp.ascontiguousarray(dw.reshape(o, kh, kw, c).transpose(0, 3, 1, 2)), cols


def _output_padding_for(in_hw, kernel, stride, padding):
    """The output_padding that makes conv_transpose2d map conv2d's output back to ``in_hw``
    (the rows the forward convolution's floor division dropped)."""
    return tuple((in_hw[i] + 2 * padding[i] - kernel[i]) % stride[i] for i in range(2))


def _conv_input_grad(gy, w, in_hw, stride, padding):
    """∂L/∂x of y = conv2d(x, w) given gy = ∂L/∂y: conv_transpose2d(gy, w), sized back to
    ``in_hw``.  conv2d's backward calls it, and conv2d_weight's with ggw in w's place."""
    op = _output_padding_for(in_hw, w.shape[2:], stride, padding)
    return _ConvTranspose2d.apply(gy, w, stride=stride, padding=padding, output_padding=op)


# ---------------------------------------------------------------- Functions
class _Conv2d(Function):
    """y = conv2d(x, w) (+ b): dx = conv_transpose2d(g, w), dw = conv2d_weight(x, g),
    db = g summed over N, H, W.  The bias is added to the GEMM's output rows in place
    (no second output array, no strided broadcast add).

    When the weight needs a gradient and the columns are no larger than x (see
    ``KEEP_COLUMNS``), the im2col columns of x are kept from the forward pass for
    conv2d_weight (saving one im2col per step).
    """

    def forward(self, x, w, b=None):
        y, cols = _conv_forward(x, w, self.stride, self.padding, self.cols, self.keep_cols, b)
        self.cols = cols if self.keep_cols else None
        return y

    def backward(self, g):
        x, w = self.inputs[:2]
        gx = gw = None
        if self.needs_input_grad[0]:
            gx = _conv_input_grad(g, w, x.shape[2:], self.stride, self.padding)
        if self.needs_input_grad[1]:
            gw = _Conv2dWeight.apply(x, g, w_shape=w.shape, stride=self.stride,
                                     padding=self.padding, cols=self.cols,
                                     keep_cols=is_grad_enabled())
        self.cols = None  # free the columns as soon as the weight gradient is made
        if len(self.inputs) == 3:
            return gx, gw, _bias_grad(g) if self.needs_input_grad[2] else None
        return gx, gw


class _ConvTranspose2d(Function):
    """y = conv_transpose2d(x, w) (+ b): dx = conv2d(g, w), dw = conv2d_weight(g, x),
    db = g summed over N, H, W (the bias added by col2im, slice by slice).

    Both gradients need the im2col columns of g; they are built once and shared.
    """

    def forward(self, x, w, b=None):
        return _conv_transpose_forward(x, w, self.stride, self.padding, self.output_padding, b)

    def backward(self, g):
        x, w = self.inputs[:2]
        kernel = w.shape[2:]
        cols = None
        n, cout = g.shape[:2]
        npix = x.shape[2] * x.shape[3]
        blocked = _batch_slices(g.data, n, npix, npix * kernel[0] * kernel[1] * cout
                                * g.data.itemsize) is not None
        if all(self.needs_input_grad[:2]) and not blocked:
            # Unblocked: build the columns once for both.  Blocked (large batches on
            # the CPU), each product im2cols its own cache-sized slices instead.
            cols = _im2col(g.data, kernel, self.stride, self.padding, x.shape[2:])
        gx = gw = None
        if self.needs_input_grad[0]:
            gx = _Conv2d.apply(g, w, stride=self.stride, padding=self.padding, cols=cols,
                              keep_cols=False)
        if self.needs_input_grad[1]:
            gw = _Conv2dWeight.apply(g, x, w_shape=w.shape, stride=self.stride,
                                     padding=self.padding, cols=cols, keep_cols=False)
        if len(self.inputs) == 3:
            return gx, gw, _bias_grad(g) if self.needs_input_grad[2] else None
        return gx, gw


class _Conv2dWeight(Function):
    """dw = conv2d_weight(x, gy): the weight gradient of conv2d, bilinear in (x, gy).

    ⟨dw, ggw⟩ = ⟨conv2d(x, ggw), gy⟩, hence d/dx = conv_transpose2d(gy, ggw) and
    d/dgy = conv2d(x, ggw) — the second reuses this call's columns of x.
    """

    def forward(self, x, gy):
        dw, cols = _conv_weight_forward(x, gy, self.w_shape, self.stride, self.padding,
                                        self.cols, self.keep_cols)
        self.cols = cols if self.keep_cols else None
        return dw

    def backward(self, ggw):
        x, gy = self.inputs
        gx = ggy = None
        if self.needs_input_grad[0]:
            gx = _conv_input_grad(gy, ggw, x.shape[2:], self.stride, self.padding)
        if self.needs_input_grad[1]:
            ggy = _Conv2d.apply(x, ggw, stride=self.stride, padding=self.padding,
                               cols=self.cols, keep_cols=False)
        self.cols = None
        return gx, ggy


# ---------------------------------------------------------------- public API
def conv2d(x: Tensor, weight: Tensor, bias: Tensor = None, stride=1, padding=0) -> Tensor:
    """2-D convolution (cross-correlation, as PyTorch): x (N, C, H, W), weight (O, C, KH, KW).

    ``stride`` and ``padding`` are an int or an (h, w) pair.  Returns (N, O, OH, OW),
    OH = floor((H + 2·ph − KH) / sh) + 1.
    """
    who = "conv2d"
    stride, padding = _pair(stride, "stride", who), _pair(padding, "padding", who)
    _check_hyper(who, stride, padding)
    x, weight, bias = _conv_tensors(who, x, weight, bias, transposed=False)
    kh, kw = weight.shape[2:]
    h, w = x.shape[2] + 2 * padding[0], x.shape[3] + 2 * padding[1]
    if h < kh or w < kw:
        raise ValueError(f"{who}: input of shape {x.shape} padded by {padding} is {h}x{w}, "
                         f"smaller than the kernel {kh}x{kw}")
    keep = _keep_columns((kh, kw), stride) and is_grad_enabled() and weight.requires_grad
    tensors = (x, weight) if bias is None else (x, weight, bias)
    return _Conv2d.apply(*tensors, stride=stride, padding=padding, cols=None, keep_cols=keep)


def conv_transpose2d(x: Tensor, weight: Tensor, bias: Tensor = None, stride=1, padding=0,
                     output_padding=0) -> Tensor:
    """Transposed convolution (the adjoint of :func:`conv2d`): x (N, Cin, H, W),
    weight (Cin, Cout, KH, KW) as PyTorch.  Returns (N, Cout, OH, OW),
    OH = (H − 1)·sh − 2·ph + KH + oph, with 0 ≤ output_padding < stride.
    """
    who = "conv_transpose2d"
    stride, padding = _pair(stride, "stride", who), _pair(padding, "padding", who)
    output_padding = _pair(output_padding, "output_padding", who)
    _check_hyper(who, stride, padding, output_padding)
    x, weight, bias = _conv_tensors(who, x, weight, bias, transposed=True)
    kh, kw = weight.shape[2:]
    oh = conv_transpose_output_size(x.shape[2], kh, stride[0], padding[0], output_padding[0])
    ow = conv_transpose_output_size(x.shape[3], kw, stride[1], padding[1], output_padding[1])
    if oh <= 0 or ow <= 0:
        raise ValueError(f"{who}: input of shape {x.shape} with kernel {kh}x{kw}, stride "
                         f"{stride}, padding {padding} gives an empty output {oh}x{ow}")
    tensors = (x, weight) if bias is None else (x, weight, bias)
    return _ConvTranspose2d.apply(*tensors, stride=stride, padding=padding,
                                  output_padding=output_padding)


def conv2d_weight(x: Tensor, grad_output: Tensor, weight_shape, stride=1, padding=0) -> Tensor:
    """The gradient of ``sum(conv2d(x, w, stride, padding) * grad_output)`` w.r.t. w
    (shape ``weight_shape`` = (O, C, KH, KW)); differentiable in x and grad_output."""
    who = "conv2d_weight"
    x, gy = _as_tensor(x, who, "input"), _as_tensor(grad_output, who, "grad_output")
    stride, padding = _pair(stride, "stride", who), _pair(padding, "padding", who)
    _check_hyper(who, stride, padding)
    w_shape = tuple(int(s) for s in weight_shape)
    if len(w_shape) != 4:
        raise ValueError(f"{who}: weight_shape must have 4 entries, got {weight_shape}")
    if x.ndim != 4 or gy.ndim != 4:
        raise ValueError(f"{who}: input and grad_output must be 4-D, got shapes {x.shape} "
                         f"and {gy.shape}")
    o, c, kh, kw = w_shape
    expect = (x.shape[0], o,
              conv_output_size(x.shape[2], kh, stride[0], padding[0]),
              conv_output_size(x.shape[3], kw, stride[1], padding[1]))
    if x.shape[1] != c or tuple(gy.shape) != expect:
        raise ValueError(f"{who}: input {x.shape} and grad_output {gy.shape} do not match "
                         f"weight shape {w_shape} (expected grad_output {expect})")
    if expect[2] <= 0 or expect[3] <= 0:
        raise ValueError(f"{who}: input of shape {x.shape} padded by {padding} is smaller than "
                         f"the kernel {kh}x{kw}")
    _check_dtypes(who, x, gy)
    return _Conv2dWeight.apply(x, gy, w_shape=w_shape, stride=stride, padding=padding,
                               cols=None, keep_cols=is_grad_enabled())
