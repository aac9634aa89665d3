"""``save(obj, path)`` / ``load(path)``: checkpoints as one ``.npz``, never pickle.

A checkpoint is a nested structure of dicts, lists and tuples whose leaves are
arrays (NumPy, CuPy, or Tensors) and plain values (numbers, strings, bools,
None), e.g.::

    {"G": G.state_dict(), "D": D.state_dict(), "optG": opt_g.state_dict(),
     "step": 10, "config": {...}, "rng": tinygan.backend.get_rng_state()}

Layout of the file:

* every array is one ``.npz`` entry named by its path in the structure
  (``"G/0.weight"``, ``"optG/state/0/exp_avg"``), so ``numpy.load(path).files``
  is readable by a person;
* the structure itself — with arrays replaced by references to those
  entries — is a JSON document stored as a ``uint8`` array under the entry
  ``__tinygan__``.  JSON keeps dict key types (str/int/...), tuples versus
  lists and key order through small tagged objects, so a round trip gives
  back the same structure.

Arrays come back as NumPy arrays with their dtypes unchanged;
``Module.load_state_dict`` / ``Optimizer.load_state_dict`` copy them onto the
device.  The file is written to a temporary file in the same directory and
moved into place with ``os.replace`` (atomic on POSIX and Windows), so a crash
mid-save never leaves a half-written checkpoint under the real name.  Files
are read with ``allow_pickle=False``.

Host-only code: it may use numpy directly and converts device arrays with
``backend.to_numpy`` explicitly.
"""
from __future__ import annotations

import json
import os
import tempfile

import numpy

from . import backend as B
from .autograd import Tensor
from .device import device as _device, is_device_like

__all__ = ["save", "load", "SerializationError"]

_META = "__tinygan__"
_FORMAT = "tinygan-checkpoint"
_VERSION = 1


class SerializationError(ValueError):
    """A file that is not a (complete) tinygan checkpoint, or an object that cannot be saved."""


# ---------------------------------------------------------------- encoding
def _is_array_like(x) -> bool:
    return isinstance(x, (Tensor, numpy.generic)) or B.is_array(x)


def _encode(obj, path, arrays, used):
    """JSON-able tree for ``obj``; arrays are moved into ``arrays`` (name → numpy array)."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if _is_array_like(obj):  # before float: numpy.float64 is a float subclass
        scalar = isinstance(obj, numpy.generic)
        data = obj.data if isinstance(obj, Tensor) else obj
        arr = numpy.asarray(data) if scalar else B.to_numpy(data)
        if arr.dtype.hasobject:
            raise SerializationError(f"save: {path or '<root>'} is an object array, which "
                                     f"cannot be stored without pickle")
        name = _unique(path or "array", used)
        arrays[name] = arr
        node = {"__array__": name}
        if scalar:
            node["scalar"] = True
        return node
    if isinstance(obj, (int, float)):
        return obj  # json writes NaN/Infinity, which json.loads reads back
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if not (k is None or isinstance(k, (str, int, float, bool))):
                raise SerializationError(f"save: dict key {k!r} at {path or '<root>'} is a "
                                         f"{type(k).__name__}; keys must be str/int/float/bool")
            items.append([k, _encode(v, f"{path}/{k}" if path else str(k), arrays, used)])
        return {"__dict__": items}
    if isinstance(obj, (list, tuple)):
        seq = [_encode(v, f"{path}/{i}" if path else str(i), arrays, used)
               for i, v in enumerate(obj)]
        return {"__tuple__": seq} if isinstance(obj, tuple) else seq
    raise SerializationError(f"save: cannot store {path or '<root>'} of type "
                             f"{type(obj).__name__} (only dicts, lists, tuples, arrays, "
                             f"Tensors, numbers, strings, bools and None)")


def _unique(name, used):
    base, k = name, 1
    while name in used or name == _META:
        name, k = f"{base}#{k}", k + 1
    used.add(name)
    return name


def _decode(node, arrays, where):
    if isinstance(node, list):
        return [_decode(v, arrays, where) for v in node]
    if not isinstance(node, dict):
        return node
    if "__array__" in node:
        name = node["__array__"]
        if name not in arrays:
            raise SerializationError(f"load: {where} is corrupted: its metadata refers to an "
                                     f"array {name!r} that the file does not contain")
        arr = arrays[name]
        return arr[()] if node.get("scalar") else arr
    if "__tuple__" in node:
        return tuple(_decode(v, arrays, where) for v in node["__tuple__"])
    if "__dict__" in node:
        return {k: _decode(v, arrays, where) for k, v in node["__dict__"]}
    raise SerializationError(f"load: {where} is corrupted: unknown metadata node {node!r:.80}")


# ---------------------------------------------------------------- public API
def save(obj, path) -> None:
    """Write ``obj`` (state dicts and nested dicts/lists of them) to ``path`` as ``.npz``.

    The write is atomic: a temporary file in the same directory, then
    ``os.replace``.  The file name is used exactly as given (no ``.npz`` is
    appended).
    """
    path = os.fspath(path)
    arrays, used = {}, set()
    tree = _encode(obj, "", arrays, used)
    meta = json.dumps({"format": _FORMAT, "version": _VERSION, "tree": tree})
    arrays[_META] = numpy.frombuffer(meta.encode("utf-8"), dtype=numpy.uint8)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=directory)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; use the usual mode
        with os.fdopen(fd, "wb") as f:
            numpy.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _map_arrays(obj, module):
    """``obj`` with every array moved to the array module ``module`` (map_location)."""
    if isinstance(obj, numpy.ndarray):
        return obj if module is numpy else module.asarray(obj)
    if isinstance(obj, dict):
        return {k: _map_arrays(v, module) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_map_arrays(v, module) for v in obj)
    return obj


def load(path, map_location=None, pickle_module=None, *, weights_only=None, mmap=None):
    """Read a checkpoint written by :func:`save` (arrays as NumPy arrays, no pickle).

    PyTorch's arguments: ``map_location`` — a device ('cpu', 'cuda', a
    :class:`tinygan.device`) to put the arrays on (by default they come back on the host;
    ``load_state_dict`` copies them onto the module's device either way); ``weights_only``
    and ``mmap`` are accepted and change nothing, since a checkpoint only ever holds arrays and
    plain values and is read whole.  A ``pickle_module`` is refused: nothing is unpickled.
    """
    if pickle_module is not None:
        raise TypeError("load: tinygan checkpoints never use pickle, so pickle_module cannot "
                        "be given")
    module = None
    if map_location is not None:
        if not is_device_like(map_location):
            raise TypeError(f"load: map_location must be a device such as 'cpu' or 'cuda', got "
                            f"{map_location!r} (a dict or a function is not supported)")
        module = _device(map_location).module()
    obj = _load_file(path)
    return obj if module is None else _map_arrays(obj, module)


def _load_file(path):
    path = os.fspath(path)
    where = repr(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no such file {where}")
    # Open the file here (not by name in numpy.load) so that it is closed on every
    # error path too: numpy leaks the handle when the zip directory is unreadable.
    with open(path, "rb") as f:
        try:
            archive = numpy.load(f, allow_pickle=False)
        except Exception as exc:  # not a zip/npy, truncated archive, pickled data, ...
            raise SerializationError(
                f"load: {where} is not a readable tinygan checkpoint (truncated, corrupted or "
                f"not an .npz file): {type(exc).__name__}: {exc}") from None
        if not isinstance(archive, numpy.lib.npyio.NpzFile):
            raise SerializationError(f"load: {where} holds a single .npy array, not a "
                                     f"tinygan .npz checkpoint")
        with archive:
            if _META not in archive.files:
                shown = ", ".join(archive.files[:5]) or "nothing"
                more = " ..." if len(archive.files) > 5 else ""
                raise SerializationError(
                    f"load: {where} is an .npz file but not a tinygan checkpoint (no "
                    f"{_META!r} entry; it holds {shown}{more}). Write checkpoints with "
                    f"tinygan.save")
            try:  # read every entry now, so a corrupted member fails here, naming the file
                arrays = {name: archive[name] for name in archive.files}
            except Exception as exc:
                raise SerializationError(
                    f"load: {where} is a truncated or corrupted checkpoint: "
                    f"{type(exc).__name__}: {exc}") from None
    try:
        meta = json.loads(arrays.pop(_META).tobytes().decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise SerializationError(f"load: {where} has unreadable tinygan metadata "
                                 f"({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT or "tree" not in meta:
        raise SerializationError(f"load: {where} has an {_META!r} entry but not tinygan's "
                                 f"checkpoint metadata")
    if meta.get("version", 0) > _VERSION:
        raise SerializationError(f"load: {where} was written by a newer tinygan (format "
                                 f"version {meta.get('version')}, this one reads {_VERSION})")
    return _decode(meta["tree"], arrays, where)
