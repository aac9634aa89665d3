"""PyTorch's legacy tensor types, as PyTorch-GAN's scripts use them:
``Tensor = torch.cuda.FloatTensor if cuda else torch.FloatTensor``, then
``Tensor(n, 1).fill_(1.0)`` (zeros of that shape), ``Tensor(numpy_array)`` (a copy in
float32), ``LongTensor(labels)`` and ``x.type(Tensor)`` (a cast).  The ``tinygan.cuda``
ones make their tensors on the CuPy device.
"""
from __future__ import annotations

from . import backend as B
from . import dtypes as D
from .autograd import Tensor
from .device import device

__all__ = ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "ByteTensor",
           "BoolTensor", "TensorType"]


class TensorType:
    def __init__(self, name, dtype, device_name="cpu"):
        self.__name__ = self.name = name
        self.tensor_dtype = D.dtype(dtype)
        self.device = device_name

    def __call__(self, *args):
        if args and all(isinstance(a, (int, D.integer)) and not isinstance(a, bool)
                        for a in args):
            arr = B.xp().zeros(tuple(int(a) for a in args), dtype=self.tensor_dtype)
        elif len(args) == 1:
            data = args[0]
            data = data.data if isinstance(data, Tensor) else data
            arr = Tensor(B.to_numpy(data) if B.is_array(data) else data,
                         dtype=self.tensor_dtype).data
        elif not args:
            arr = B.xp().zeros((0,), dtype=self.tensor_dtype)
        else:
            raise TypeError(f"{self.name}: expected sizes or one array-like, got {args!r}")
        module = device(self.device).module()
        if B.array_module(arr) is not module:
            arr = module.asarray(B.to_numpy(arr))
        return Tensor._make(arr, False, None)

    def __repr__(self):
        prefix = "tinygan.cuda." if self.device == "cuda" else "tinygan."
        return prefix + self.name


def _types(device_name):
    return tuple(TensorType(n, d, device_name) for n, d in (
        ("FloatTensor", D.float32), ("DoubleTensor", D.float64), ("LongTensor", D.int64),
        ("IntTensor", D.int32), ("ByteTensor", D.uint8), ("BoolTensor", D.bool_)))


FloatTensor, DoubleTensor, LongTensor, IntTensor, ByteTensor, BoolTensor = _types("cpu")
