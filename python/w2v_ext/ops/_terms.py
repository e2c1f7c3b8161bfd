"""Which index slots take part in the loss, the scores a row has, the term counts
behind the mean reductions, and the compact row sets of sparse gradients.

The rules (the kernels follow the same ones):
- skip-gram: a row takes part when its centre is not padding; a context slot when it
  is not padding; a negative when it is not padding and, for [B, C, K] negatives, its
  context slot takes part.
- CBOW: a row takes part when its centre is not padding and at least one of its
  context slots is not padding; its non-padding contexts and negatives then take part.
  With in-batch positives a row scores the centre of every row that takes part.
"""
from __future__ import annotations

import torch

from .. import _native


def sgns_masks(center, context, negative, padding_idx: int):
    """(row [B], context [B, C], negative [B, K] or [B, C, K]) boolean masks."""
    row = center != padding_idx
    ctx = (context != padding_idx) & row[:, None]
    owner = ctx[..., None] if negative.dim() == 3 else row[:, None]
    return row, ctx, (negative != padding_idx) & owner


def cbow_masks(center, context, negative, padding_idx: int):
    ctx = context != padding_idx
    row = (center != padding_idx) & ctx.any(dim=1)
    return row, ctx & row[:, None], (negative != padding_idx) & row[:, None]


def _count_terms(factors, center, context, negative):
    """The native rule's count for these sizes (symbolic sizes under torch.compile stay
    symbolic: the factors are plain ints)."""
    constant, rows, contexts, negatives, contexts_x_negatives = factors
    B, C, K = center.size(0), context.size(1), negative.size(-1)
    return constant + rows * B + contexts * C + negatives * K + contexts_x_negatives * C * K


def sgns_terms_per_row(center, context, negative, in_batch_positives: bool) -> int:
    """Scores per row (the size of a row of SavedGrad::coef), by sgns.h's rule: C contexts,
    then K negatives, or C * K for [B, C, K] negatives."""
    return _count_terms(_native.cpu.sgns_terms_per_row(negative.dim() == 3), center, context, negative)


def cbow_ns_terms_per_row(center, context, negative, in_batch_positives: bool) -> int:
    """Scores per row, by cbow_ns.h's rule: the centre (in batch, every row's centre), then
    K negatives."""
    return _count_terms(_native.cpu.cbow_ns_terms_per_row(bool(in_batch_positives)), center, context, negative)


def term_counts(kind: str, center, context, negative, padding_idx: int, in_batch_positives: bool):
    """(number of positive terms, number of negative terms) as 0-dim tensors."""
    if kind == "sgns":
        _, ctx, neg = sgns_masks(center, context, negative, padding_idx)
        return ctx.sum(), neg.sum()
    row, _, neg = cbow_masks(center, context, negative, padding_idx)
    valid_rows = row.sum()
    return (valid_rows * valid_rows if in_batch_positives else valid_rows), neg.sum()


def reduce(pos_loss, neg_loss, reduction: str, counts):
    """Combine per-row positive and negative loss sums ([B] each); `counts()` gives the
    (positive, negative) term counts, computed only for the means.

    sum: every term added, as word2vec.c optimises. mean: divided by the number of
    terms. pos_neg_mean: mean over positive terms plus mean over negative terms (the
    tutorial's BCEWithLogits(pos).mean() + BCEWithLogits(neg).mean()). none: [B] per-row
    sums. A mean over zero terms is 0.
    """
    if reduction == "none":
        return pos_loss + neg_loss
    if reduction == "sum":
        return pos_loss.sum() + neg_loss.sum()
    n_pos, n_neg = (c.to(pos_loss.dtype) for c in counts())
    if reduction == "mean":
        return (pos_loss.sum() + neg_loss.sum()) / (n_pos + n_neg).clamp_min(1)
    return pos_loss.sum() / n_pos.clamp_min(1) + neg_loss.sum() / n_neg.clamp_min(1)


def compact_rows(indices, masks):
    """Unique rows addressed by the masked entries of several index tensors.

    Returns (rows [U] sorted int64, slots) where slots[i] has indices[i]'s shape and
    gives each taking-part entry its position in rows (-1 elsewhere). On the CPU a
    native radix sort does it in linear time; for the CUDA kernels (also emulated on
    CPU tensors) torch.unique.
    """
    flat = torch.cat([t.reshape(-1) for t in indices])
    keep = torch.cat([m.reshape(-1) for m in masks])
    if not _native.runs_cuda_kernels(flat.device.type):
        slots = torch.empty(flat.numel(), dtype=torch.int64)
        rows = torch.from_numpy(_native.cpu.compact_rows(
            index_dtype=str(flat.dtype).removeprefix("torch."), index=flat.data_ptr(), keep=keep.data_ptr(),
            numel=flat.numel(), slots=slots.data_ptr()))
    else:
        flat = flat.to(torch.int64)
        rows, inverse = torch.unique(flat[keep], sorted=True, return_inverse=True)
        slots = torch.full_like(flat, -1)
        slots[keep] = inverse
    parts = slots.split([t.numel() for t in indices])
    return rows, [p.view(t.shape) for p, t in zip(parts, indices)]
