"""Plain-PyTorch statements of the ops' math, for tests and as documentation.

Written for clarity, not speed: run them in float64 to check the fused kernels.
Padding rules are those of w2v_ext.ops._terms, restated here independently.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def _gather(weight, index, padding_idx):
    """weight[index] with padding slots pointed at row 0 (they are masked out later)."""
    return weight[torch.where(index == padding_idx, torch.zeros_like(index), index)]


def _reduce(pos_terms, neg_terms, reduction):
    """pos_terms/neg_terms: [B, ...] per-term losses with non-participating terms NaN."""
    pos_sum = torch.nansum(pos_terms.reshape(len(pos_terms), -1), 1)
    neg_sum = torch.nansum(neg_terms.reshape(len(neg_terms), -1), 1)
    if reduction == "none":
        return pos_sum + neg_sum
    if reduction == "sum":
        return pos_sum.sum() + neg_sum.sum()
    n_pos, n_neg = (~pos_terms.isnan()).sum(), (~neg_terms.isnan()).sum()
    if reduction == "mean":
        return (pos_sum.sum() + neg_sum.sum()) / max(int(n_pos + n_neg), 1)
    assert reduction == "pos_neg_mean"
    return pos_sum.sum() / max(int(n_pos), 1) + neg_sum.sum() / max(int(n_neg), 1)


def _softplus(x):
    """log(1 + e^x), exact for every x (F.softplus switches to x above 20)."""
    return torch.logaddexp(x, torch.zeros_like(x))


def _masked(terms, mask):
    return torch.where(mask, terms, torch.full_like(terms, float("nan")))


def sgns_loss_reference(input_weight, output_weight, center, context, negative, *, reduction="sum",
                        padding_idx=-1):
    """w2v_ext.sgns_loss in plain PyTorch: input_weight [V_in, d], output_weight
    [V_out, d], center [B], context [B, C], negative [B, K] or [B, C, K]; returns a
    0-dim loss, or [B] for reduction='none'."""
    row = center != padding_idx
    ctx = (context != padding_idx) & row[:, None]
    h = _gather(input_weight, center, padding_idx)                                   # [B, d]
    pos = torch.einsum("bd,bcd->bc", h, _gather(output_weight, context, padding_idx))  # [B, C]
    if negative.dim() == 2:
        neg = torch.einsum("bd,bkd->bk", h, _gather(output_weight, negative, padding_idx))
        neg_mask = (negative != padding_idx) & row[:, None]
    else:
        neg = torch.einsum("bd,bckd->bck", h, _gather(output_weight, negative, padding_idx))
        neg_mask = (negative != padding_idx) & ctx[..., None]
    return _reduce(_masked(_softplus(-pos), ctx), _masked(_softplus(neg), neg_mask), reduction)


def cbow_ns_loss_reference(input_weight, output_weight, center, context, negative, *, reduction="sum",
                           padding_idx=-1, in_batch_positives=False):
    """w2v_ext.cbow_ns_loss in plain PyTorch: input_weight [V_in, d], output_weight
    [V_out, d], center [B], context [B, C], negative [B, K]; returns a 0-dim loss, or
    [B] for reduction='none'."""
    ctx = context != padding_idx
    row = (center != padding_idx) & ctx.any(1)
    vectors = _gather(input_weight, context, padding_idx) * ctx[..., None]
    h = vectors.sum(1) / ctx.sum(1).clamp_min(1)[:, None]                               # [B, d]
    if in_batch_positives:
        scores = h @ _gather(output_weight, center, padding_idx).T                      # [B, B]
        eye = torch.eye(len(center), dtype=torch.bool, device=center.device)
        terms = torch.where(eye, _softplus(-scores), _softplus(scores))
        pos_terms = _masked(terms, row[:, None] & row[None, :])
    else:
        score = (h * _gather(output_weight, center, padding_idx)).sum(1)
        pos_terms = _masked(_softplus(-score)[:, None], row[:, None])
    neg = torch.einsum("bd,bkd->bk", h, _gather(output_weight, negative, padding_idx))
    neg_terms = _masked(_softplus(neg), (negative != padding_idx) & row[:, None])
    return _reduce(pos_terms, neg_terms, reduction)


def _sgd_update(h_row, output_weight, targets, n_positive, lr):
    """One row of the fused step: every score and gradient from the weights on entry."""
    h = h_row.clone()
    rows = output_weight[targets].clone()
    scores = rows @ h
    labels = torch.zeros_like(scores)
    labels[:n_positive] = 1
    loss = F.binary_cross_entropy_with_logits(scores, labels, reduction="sum")
    g = torch.sigmoid(scores) - labels
    grad_h = g @ rows
    output_weight.index_add_(0, targets, -lr * g[:, None] * h[None, :])
    return loss, grad_h


@torch.no_grad()
def sgns_step_reference(input_weight, output_weight, center, context, negative, lr, *, padding_idx=-1):
    """w2v_ext.sgns_step_ restated: sequential SGD over rows (and over contexts for
    [B, C, K] negatives), in place on input_weight [V_in, d] and output_weight
    [V_out, d]; center [B], context [B, C], negative [B, K] or [B, C, K]. Returns the
    summed loss (a float), each row's part taken before its update."""
    total = 0.0
    for b in range(len(center)):
        c = int(center[b])
        if c == padding_idx:
            continue
        units = []
        if negative.dim() == 3:
            for j in range(context.size(1)):
                if int(context[b, j]) != padding_idx:
                    units.append(([int(context[b, j])], [int(n) for n in negative[b, j] if int(n) != padding_idx]))
        else:
            pos = [int(t) for t in context[b] if int(t) != padding_idx]
            units.append((pos, [int(n) for n in negative[b] if int(n) != padding_idx]))
        for pos, negs in units:
            if not pos and not negs:
                continue
            targets = torch.tensor(pos + negs, dtype=torch.long)
            loss, grad_h = _sgd_update(input_weight[c], output_weight, targets, len(pos), lr)
            input_weight[c] -= lr * grad_h
            total += float(loss)
    return total


@torch.no_grad()
def cbow_ns_step_reference(input_weight, output_weight, center, context, negative, lr, *, padding_idx=-1,
                           context_update="exact"):
    """w2v_ext.cbow_ns_step_ restated: sequential SGD over rows, in place on
    input_weight [V_in, d] and output_weight [V_out, d]; center [B], context [B, C],
    negative [B, K]. Returns the summed loss (a float)."""
    total = 0.0
    for b in range(len(center)):
        ctx = [int(t) for t in context[b] if int(t) != padding_idx]
        if int(center[b]) == padding_idx or not ctx:
            continue
        h = input_weight[torch.tensor(ctx)].mean(0)
        targets = torch.tensor([int(center[b])] + [int(n) for n in negative[b] if int(n) != padding_idx])
        loss, grad_h = _sgd_update(h, output_weight, targets, 1, lr)
        share = 1.0 / len(ctx) if context_update == "exact" else 1.0
        for c in ctx:
            input_weight[c] -= lr * share * grad_h
        total += float(loss)
    return total
