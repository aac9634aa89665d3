"""``Embedding``: a table of ``num_embeddings`` learnable vectors looked up by integer index
(a conditional GAN embeds its class labels this way).  Initialised N(0, 1), as PyTorch."""
from __future__ import annotations

from ..backend import default_dtype, xp
from ..ops.embedding import embedding
from . import init
from .module import Module, Parameter

__all__ = ["Embedding"]


class Embedding(Module):
    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx=None, device=None,
                 dtype=None, **kwargs):
        super().__init__()
        for name, v in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if isinstance(v, bool) or int(v) != v or v <= 0:
                raise ValueError(f"Embedding: {name} must be a positive integer, got {v!r}")
        unsupported = [k for k, v in kwargs.items() if v not in (None, False)]
        if padding_idx is not None:
            unsupported.insert(0, "padding_idx")
        if unsupported:
            raise NotImplementedError(f"Embedding: {', '.join(unsupported)} not supported")
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        self.weight = Parameter(xp().zeros((self.num_embeddings, self.embedding_dim),
                                           dtype=default_dtype()))
        init.normal_(self.weight)
        self._made_on(device, dtype)

    def forward(self, indices):
        return embedding(indices, self.weight)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"
