"""``embedding``: rows of a weight matrix picked by integer indices (``torch.nn.functional
.embedding``), e.g. a conditional GAN's label embedding.

It is an index: ``weight[indices]``, so the gradient scatters back with repeated
indices accumulated (:class:`tinygan.ops.shape.IndexAdd`), and is differentiable again.
"""
from __future__ import annotations

from .. import backend as B
from ..autograd import Tensor
from .shape import getitem

__all__ = ["embedding"]


def embedding(indices, weight: Tensor) -> Tensor:
    """``indices`` (any shape, integers in [0, num_embeddings)) → ``indices.shape + (dim,)``."""
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be (num_embeddings, embedding_dim), got "
                         f"shape {weight.shape}")
    idx = indices.data if isinstance(indices, Tensor) else indices
    xp = B.array_module(weight.data)
    if not B.is_array(idx):
        idx = xp.asarray(idx)
    elif B.array_module(idx) is not xp:
        idx = xp.asarray(B.to_numpy(idx))
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers (labels.long()), got dtype "
                        f"{idx.dtype}")
    n = weight.shape[0]
    if xp.__name__ == "numpy" and idx.size and (idx.min() < 0 or idx.max() >= n):
        raise IndexError(f"embedding: indices must lie in [0, {n}), got values in "
                         f"[{int(idx.min())}, {int(idx.max())}]")
    return getitem(weight, idx)
