"""nn.Module wrappers that own the embedding tables and call the fused ops: the
tutorial's models, fast."""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from .losses import cbow_ns_loss, cbow_ns_step_, sgns_loss, sgns_step_

_INITS = ("word2vec", "normal")


class _NegativeSamplingModel(nn.Module):
    def __init__(self, num_embeddings: int, embedding_dim: int, *, tied: bool = False, sparse: bool = False,
                 padding_idx: Optional[int] = None, init: str = "word2vec", dtype: Optional[torch.dtype] = None,
                 device=None):
        super().__init__()
        if num_embeddings <= 0 or embedding_dim <= 0:
            raise ValueError(f"num_embeddings and embedding_dim must be positive, got {num_embeddings} and "
                             f"{embedding_dim}")
        if init not in _INITS:
            raise ValueError(f"init must be one of {_INITS}, got {init!r}")
        kw = dict(sparse=sparse, padding_idx=padding_idx, dtype=dtype, device=device)
        self.input = nn.Embedding(num_embeddings, embedding_dim, **kw)
        self.output = self.input if tied else nn.Embedding(num_embeddings, embedding_dim, **kw)
        self.tied, self.sparse = tied, sparse
        self.padding_idx = -1 if padding_idx is None else self.input.padding_idx
        if init == "word2vec":
            self.reset_word2vec_()

    @torch.no_grad()
    def reset_word2vec_(self) -> None:
        """word2vec.c's start: input rows uniform in +-0.5/d, output rows zero (untied)."""
        d = self.input.embedding_dim
        self.input.weight.uniform_(-0.5 / d, 0.5 / d)
        if not self.tied:
            self.output.weight.zero_()
        if self.padding_idx >= 0:
            self.input.weight[self.padding_idx].zero_()

    @property
    def embeddings(self) -> torch.Tensor:
        """The word vectors: the input table, [V, d]."""
        return self.input.weight

    def extra_repr(self) -> str:
        return f"tied={self.tied}, sparse={self.sparse}, padding_idx={self.padding_idx}"


class SkipGramNS(_NegativeSamplingModel):
    """Skip-gram with negative sampling (see w2v_ext.sgns_loss).

    model(center [B], context [B, C], negative [B, K] or [B, C, K]) -> loss.
    init='word2vec' (default) starts like word2vec.c; init='normal' keeps nn.Embedding's
    N(0, 1), as in the tutorial. sparse=True gives sparse gradients (use SGD or
    SparseAdam). padding_idx follows nn.Embedding: a row of the table (negative values
    count from the end), never updated; slots holding that index are skipped. Without
    it, slots holding -1 are padding.
    """

    def forward(self, center, context, negative, reduction: str = "sum"):
        """center [B], context [B, C], negative [B, K] or [B, C, K] -> 0-dim loss ([B]
        for reduction='none'); see w2v_ext.sgns_loss."""
        return sgns_loss(self.input.weight, self.output.weight, center, context, negative, reduction=reduction,
                         padding_idx=self.padding_idx, sparse=self.sparse)

    def sgd_step_(self, center, context, negative, lr: float, atomic_updates: bool = True):
        """Fused in-place SGD step (see w2v_ext.sgns_step_); returns the summed loss."""
        return sgns_step_(self.input.weight, self.output.weight, center, context, negative, lr,
                          padding_idx=self.padding_idx, atomic_updates=atomic_updates)


class CBOWNS(_NegativeSamplingModel):
    """CBOW with negative sampling (see w2v_ext.cbow_ns_loss).

    model(center [B], context [B, C], negative [B, K]) -> loss; in_batch_positives=True
    gives the tutorial's in-batch form.
    """

    def forward(self, center, context, negative, reduction: str = "sum", in_batch_positives: bool = False):
        """center [B], context [B, C], negative [B, K] -> 0-dim loss ([B] for
        reduction='none'); see w2v_ext.cbow_ns_loss."""
        return cbow_ns_loss(self.input.weight, self.output.weight, center, context, negative, reduction=reduction,
                            padding_idx=self.padding_idx, sparse=self.sparse, in_batch_positives=in_batch_positives)

    def sgd_step_(self, center, context, negative, lr: float, context_update: str = "exact",
                  atomic_updates: bool = True):
        """Fused in-place SGD step (see w2v_ext.cbow_ns_step_); returns the summed loss."""
        return cbow_ns_step_(self.input.weight, self.output.weight, center, context, negative, lr,
                             padding_idx=self.padding_idx, context_update=context_update,
                             atomic_updates=atomic_updates)
