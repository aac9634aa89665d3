"""Reading and writing IDX files, the format of MNIST and Fashion-MNIST.

Layout (big-endian): two zero bytes, a type code (0x08 uint8, 0x09 int8,
0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64), the number of
dimensions d, then d 32-bit sizes, then the data in C order.  Read as one
32-bit integer the first four bytes are the "magic number": 2051 (0x0803) for
MNIST's uint8 image files (d = 3) and 2049 (0x0801) for label files (d = 1).

Files may be gzipped (detected from the content, not from the name).  Every
inconsistency — bad magic, wrong number of dimensions, a size that does not
match the bytes present, a truncated gzip stream — raises :class:`IDXError`
naming the file.
"""
from __future__ import annotations

import gzip
import os
import struct
import zlib

import numpy as np

__all__ = ["IDXError", "read_idx", "read_idx_images", "read_idx_labels", "write_idx",
           "IMAGES_MAGIC", "LABELS_MAGIC"]

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049

# type code → big-endian dtype
_CODES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
          0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_GZIP_MAGIC = b"\x1f\x8b"


class IDXError(ValueError):
    """A file is not a valid IDX file (or not the kind that was expected)."""


def _read_bytes(path) -> bytes:
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == _GZIP_MAGIC:
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise IDXError(f"{path}: corrupt gzip stream ({exc})") from None
    return raw


def read_idx(path, expect_magic: int | None = None) -> np.ndarray:
    """The array stored in IDX file ``path`` (gzipped or not), in native byte order."""
    path = os.fspath(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise IDXError(f"{path}: {len(raw)} bytes is too short for an IDX header")
    zero, code, ndim = struct.unpack(">HBB", raw[:4])
    magic = (code << 8) | ndim
    if zero != 0 or code not in _CODES:
        raise IDXError(f"{path}: bad IDX magic number 0x{struct.unpack('>I', raw[:4])[0]:08x} "
                       f"(expected 0x0000 then a type code in "
                       f"{{{', '.join(hex(c) for c in _CODES)}}})")
    if expect_magic is not None and magic != expect_magic:
        raise IDXError(f"{path}: magic number {magic} but {expect_magic} was expected "
                       f"({IMAGES_MAGIC} = images, {LABELS_MAGIC} = labels)")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXError(f"{path}: truncated header ({len(raw)} bytes, {ndim} dimensions need "
                       f"{header})")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = _CODES[code]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise IDXError(f"{path}: header says shape {dims} of {dtype.name} ({expected} bytes) "
                       f"but {len(raw) - header} data bytes follow (truncated or corrupt file)")
    arr = np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)
    return arr.astype(dtype.newbyteorder("="), copy=True)


def read_idx_images(path) -> np.ndarray:
    """uint8 images (N, rows, cols) from an IDX image file (magic 2051)."""
    return read_idx(path, expect_magic=IMAGES_MAGIC)


def read_idx_labels(path) -> np.ndarray:
    """uint8 labels (N,) from an IDX label file (magic 2049)."""
    return read_idx(path, expect_magic=LABELS_MAGIC)


def write_idx(path, array, compress: bool | None = None) -> str:
    """Write ``array`` as an IDX file; gzipped when ``compress`` (default: name ends in .gz)."""
    path = os.fspath(path)
    array = np.asarray(array)
    codes = {dt.newbyteorder("="): c for c, dt in _CODES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise IDXError(f"write_idx: dtype {array.dtype} has no IDX type code (use uint8, int8, "
                       f"int16, int32, float32 or float64)")
    if not 1 <= array.ndim <= 255:
        raise IDXError(f"write_idx: cannot store an array with {array.ndim} dimensions")
    code = codes[native]
    header = struct.pack(">HBB", 0, code, array.ndim) + struct.pack(f">{array.ndim}I",
                                                                    *array.shape)
    body = np.ascontiguousarray(array, dtype=_CODES[code]).tobytes()
    compress = path.endswith(".gz") if compress is None else compress
    payload = header + body
    if compress:
        # mtime=0: the same array always gives the same bytes (stable checksums in tests)
        payload = gzip.compress(payload, mtime=0)
    with open(path, "wb") as f:
        f.write(payload)
    return path
