"""Public negative-sampling losses and fused SGD steps for PyTorch.

    sgns_loss(input_weight, output_weight, center, context, negative, ...)
    cbow_ns_loss(input_weight, output_weight, center, context, negative, ...)
    sgns_step_(input_weight, output_weight, center, context, negative, lr, ...)
    cbow_ns_step_(input_weight, output_weight, center, context, negative, lr, ...)

Weights are [V, d] float32/float64 tensors (an nn.Embedding's .weight or an
nn.Parameter), with unit stride along d; input_weight and output_weight may be the
same tensor (tied). Index tensors are any integer dtype (int32 and int64 are used
as they are, others are converted to int64); an index equal to padding_idx
contributes nothing, any other index outside [0, V) raises IndexError.
"""
from __future__ import annotations

import torch

from . import _checks, _ns_ops, _terms


def _prepare(input_weight, output_weight, center, context, negative, padding_idx, negative_ndims):
    _checks.check_weights(input_weight, output_weight)
    padding_idx = _checks.check_padding_idx(padding_idx)
    device = input_weight.device
    center = _checks.check_index("center", center, device, (1,))
    context = _checks.check_index("context", context, device, (2,))
    negative = _checks.check_index("negative", negative, device, negative_ndims)
    center, context, negative = _checks.check_batch(center, context, negative, negative_ndims=negative_ndims)
    return center, context, negative, padding_idx


def sgns_loss(input_weight: torch.Tensor, output_weight: torch.Tensor, center: torch.Tensor,
              context: torch.Tensor, negative: torch.Tensor, *, reduction: str = "sum", padding_idx: int = -1,
              sparse: bool = False) -> torch.Tensor:
    """Skip-gram negative-sampling loss, fused (gather, dots, BCE-with-logits, scatter).

    h = input_weight[center]; each context word scores <h, output_weight[context]> with
    label 1; each negative scores <h, output_weight[negative]> with label 0; binary
    cross-entropy with logits on every score.

    Args:
        input_weight: [V_in, d]. output_weight: [V_out, d] (may be input_weight).
        center: [B] centre words, indices into input_weight.
        context: [B, C] context words, indices into output_weight.
        negative: [B, K] negatives scored once per centre (the tutorial's form), or
            [B, C, K] negatives for each context word (word2vec.c's form).
        reduction: 'sum' (every term, as word2vec.c optimises), 'mean' (over terms),
            'pos_neg_mean' (mean of positive terms + mean of negative terms, the
            tutorial's loss) or 'none' ([B] per-row sums).
        padding_idx: slots holding this index take no part (a padded centre drops its
            whole row; a padded context drops its [B, C, K] negatives too).
        sparse: gradients as sparse COO tensors holding only the touched rows,
            each once, in order (like nn.Embedding(sparse=True)); torch.autograd.grad
            returns them marked coalesced, while .grad accumulation drops the mark.

    Returns: a 0-dim loss, or [B] for reduction='none'.
    """
    _checks.check_reduction(reduction)
    center, context, negative, padding_idx = _prepare(input_weight, output_weight, center, context, negative,
                                                      padding_idx, (2, 3))
    pos, neg, *_ = _ns_ops.sgns_forward(input_weight, output_weight, center, context, negative, padding_idx, False,
                                        bool(sparse), _needs_grad(input_weight, output_weight))
    return _terms.reduce(pos, neg, reduction,
                         lambda: _terms.term_counts("sgns", center, context, negative, padding_idx, False))


def cbow_ns_loss(input_weight: torch.Tensor, output_weight: torch.Tensor, center: torch.Tensor,
                 context: torch.Tensor, negative: torch.Tensor, *, reduction: str = "sum", padding_idx: int = -1,
                 sparse: bool = False, in_batch_positives: bool = False) -> torch.Tensor:
    """CBOW negative-sampling loss, fused.

    h = mean of input_weight[context] over the row's non-padding slots; <h,
    output_weight[center]> scores label 1 and <h, output_weight[negative]> label 0.

    Args:
        input_weight: [V_in, d]. output_weight: [V_out, d] (may be input_weight).
        center: [B] target words, indices into output_weight.
        context: [B, C] context words, indices into input_weight; ragged windows are
            padded with padding_idx.
        negative: [B, K] negatives, indices into output_weight.
        reduction, padding_idx, sparse: as for sgns_loss.
        in_batch_positives: the tutorial's form: row b scores every row's centre
            ([B, B] scores, label 1 on the diagonal) instead of only its own. The
            positive terms are then those B x B scores (costs O(B^2 d)).

    Returns: a 0-dim loss, or [B] for reduction='none'.
    """
    _checks.check_reduction(reduction)
    center, context, negative, padding_idx = _prepare(input_weight, output_weight, center, context, negative,
                                                      padding_idx, (2,))
    in_batch = bool(in_batch_positives)
    pos, neg, *_ = _ns_ops.cbow_ns_forward(input_weight, output_weight, center, context, negative, padding_idx,
                                           in_batch, bool(sparse), _needs_grad(input_weight, output_weight))
    return _terms.reduce(pos, neg, reduction,
                         lambda: _terms.term_counts("cbow", center, context, negative, padding_idx, in_batch))


def _needs_grad(input_weight, output_weight) -> bool:
    """Whether a backward may follow: then the forward keeps what it needs."""
    return torch.is_grad_enabled() and (input_weight.requires_grad or output_weight.requires_grad)


def _tied_or(input_weight, output_weight):
    return None if output_weight is input_weight else output_weight


def sgns_step_(input_weight: torch.Tensor, output_weight: torch.Tensor, center: torch.Tensor,
               context: torch.Tensor, negative: torch.Tensor, lr: float, *, padding_idx: int = -1,
               atomic_updates: bool = True) -> torch.Tensor:
    """Fused skip-gram forward + backward + SGD step on the summed loss, in place.

    No gradient tensors are made. Rows are applied one after another (for [B, C, K]
    negatives, one (row, context) pair after another), each from the weights as they
    stand when it starts, like word2vec.c; across threads rows run concurrently
    without locks (Hogwild), so with several threads the result varies slightly from
    run to run. With one thread (torch.set_num_threads(1)) it is deterministic.
    On CUDA thousands of rows run at once, so rows sharing a frequent word update it
    together: atomic_updates=True (the default) adds their updates atomically, so none
    is lost; False writes them with plain stores (faster, Hogwild: most of a frequent
    word's concurrent updates are lost). The CPU's threads always update Hogwild.
    With [B, K] negatives and no index repeated across rows it equals one SGD step of
    sgns_loss(reduction='sum'); [B, C, K] negatives update the centre after each pair.

    Returns the summed loss (0-dim), each row's part taken before its update.
    """
    center, context, negative, padding_idx = _prepare(input_weight, output_weight, center, context, negative,
                                                      padding_idx, (2, 3))
    _checks.check_learning_rate_type(lr)
    with torch.no_grad():
        return _ns_ops.sgns_sgd_step_(input_weight, _tied_or(input_weight, output_weight), center, context,
                                      negative, lr, padding_idx, _checks.check_flag("atomic_updates", atomic_updates))


def cbow_ns_step_(input_weight: torch.Tensor, output_weight: torch.Tensor, center: torch.Tensor,
                  context: torch.Tensor, negative: torch.Tensor, lr: float, *, padding_idx: int = -1,
                  context_update: str = "exact", atomic_updates: bool = True) -> torch.Tensor:
    """Fused CBOW forward + backward + SGD step on the summed loss, in place.

    Row order, threading, determinism and atomic_updates as in sgns_step_. context_update='exact'
    gives each context row the true gradient of the mean (neu1e / n); 'word2vec'
    adds the whole neu1e to every context row, as word2vec.c and gensim do.

    Returns the summed loss (0-dim), each row's part taken before its update.
    """
    if context_update not in ("exact", "word2vec"):
        raise ValueError(f"context_update must be 'exact' or 'word2vec', got {context_update!r}")
    center, context, negative, padding_idx = _prepare(input_weight, output_weight, center, context, negative,
                                                      padding_idx, (2,))
    _checks.check_learning_rate_type(lr)
    with torch.no_grad():
        return _ns_ops.cbow_ns_sgd_step_(input_weight, _tied_or(input_weight, output_weight), center, context,
                                         negative, lr, padding_idx, context_update == "exact", _checks.check_flag("atomic_updates", atomic_updates))
