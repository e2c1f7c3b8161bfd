"""The torch.library custom ops, one set per model (skip-gram, CBOW). Their names and
schemas (the schema is the decorated function's signature, in define_ops and below):

    w2v_ext::sgns_forward, w2v_ext::cbow_ns_forward
        (input_weight, output_weight, center, context, negative, padding_idx: int,
         in_batch_positives: bool, sparse_grad: bool, save_grad: bool)
        -> (pos_loss, neg_loss, coef, grad_h_pos, grad_h_neg, hidden)
        per-row loss sums, autograd-aware; when gradients will follow it also keeps
        what the backward needs (coef .. hidden; empty otherwise)
    w2v_ext::sgns_backward, w2v_ext::cbow_ns_backward
        (grad_pos, grad_neg, coef, grad_h_pos, grad_h_neg, hidden, center, context,
         negative, padding_idx: int, in_batch_positives: bool, input_rows: int,
         output_rows: int) -> (grad_input, grad_output)
        dense gradients of both tables
    w2v_ext::sgns_backward_sparse, w2v_ext::cbow_ns_backward_sparse
        (the backward's arguments but the row counts)
        -> (input_rows, input_values, output_rows, output_values)
        gradients as (unique rows, values) pairs
    w2v_ext::sgns_sgd_step_(input_weight!, output_weight!?, center, context, negative,
         lr: float, padding_idx: int, atomic_updates: bool) -> loss
    w2v_ext::cbow_ns_sgd_step_(input_weight!, output_weight!?, center, context, negative,
         lr: float, padding_idx: int, exact_context_gradient: bool,
         atomic_updates: bool) -> loss
        fused forward + backward + SGD step, in place (!: written in place, ?: may be
        None, for a table tied to the input's)

The backward works from what the forward kept (each term's d(loss)/d(score), the two
halves of d(loss)/d(h), and h: see ns_batch.h's SavedGrad), so it never reads the
weights again: the gradient is the one at the weights the forward saw. Each op has a
fake implementation, so torch.compile(fullgraph=True) traces through them. The public
functions in `losses` validate arguments and apply reductions; the ops check index
ranges and call kernels.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import torch
from torch import Tensor

from . import _checks, _cuda_index_errors, _terms, _views


@dataclass(frozen=True)
class Model:
    loss_name: str            # the public functions, for messages: "sgns_loss" and "sgns_step_"
    step_name: str
    forward_op: str           # the custom ops' names
    backward_op: str
    backward_sparse_op: str
    forward_kernel: Callable  # kernel module -> its entry points for this model
    backward_kernel: Callable
    step_kernel: Callable
    input_indices: tuple      # which of (center, context, negative) address input_weight
    masks: Callable           # (center, context, negative, padding_idx) -> (row, ctx, neg) masks
    terms_per_row: Callable   # (center, context, negative, in_batch_positives) -> scores per row

    def index_weights(self):
        """(index name, weight it addresses) for center, context, negative."""
        return [(n, "input_weight" if n in self.input_indices else "output_weight")
                for n in ("center", "context", "negative")]


SGNS = Model(loss_name="sgns_loss", step_name="sgns_step_",
             forward_op="w2v_ext::sgns_forward", backward_op="w2v_ext::sgns_backward",
             backward_sparse_op="w2v_ext::sgns_backward_sparse",
             forward_kernel=lambda kernels: kernels.sgns_forward,
             backward_kernel=lambda kernels: kernels.sgns_backward,
             step_kernel=lambda kernels: kernels.sgns_sgd_step,
             input_indices=("center",), masks=_terms.sgns_masks, terms_per_row=_terms.sgns_terms_per_row)
CBOW_NS = Model(loss_name="cbow_ns_loss", step_name="cbow_ns_step_",
                forward_op="w2v_ext::cbow_ns_forward", backward_op="w2v_ext::cbow_ns_backward",
                backward_sparse_op="w2v_ext::cbow_ns_backward_sparse",
                forward_kernel=lambda kernels: kernels.cbow_ns_forward,
                backward_kernel=lambda kernels: kernels.cbow_ns_backward,
                step_kernel=lambda kernels: kernels.cbow_ns_sgd_step,
                input_indices=("context",), masks=_terms.cbow_masks, terms_per_row=_terms.cbow_ns_terms_per_row)


def check_ranges(model: Model, op: str, kernels, input_weight, output_weight, center, context, negative,
                 padding_idx: int, launch: dict) -> int:
    """Index range checks (see _checks.check_index_ranges); returns NsBatch.index_error."""
    tensors = {"center": center, "context": context, "negative": negative}
    weights = {"input_weight": input_weight, "output_weight": output_weight}
    return _checks.check_index_ranges(kernels, [(name, tensors[name], weight_name, weights[weight_name].size(0))
                                                for name, weight_name in model.index_weights()], padding_idx,
                                      launch, op, center.device)


def _run_backward(model: Model, grad_pos, grad_neg, saved, center, context, negative, padding_idx,
                  in_batch_positives, grad_input, grad_output, slots=(None, None, None)):
    coef, grad_h_pos, grad_h_neg, hidden = saved
    kernels = _views.kernels_for(center)
    # kept in locals: a pointer to a temporary's data would dangle once it is freed
    grad_pos, grad_neg = grad_pos.contiguous(), grad_neg.contiguous()
    with _views.device_guard(center):
        model.backward_kernel(kernels)(
            batch=_views.ns_batch(kernels, center, context, negative, padding_idx, in_batch_positives,
                                  _views.index_error_state(center)),
            saved=_views.saved_grad(kernels, coef, grad_h_pos, grad_h_neg, hidden, keep=True),
            grad_pos=grad_pos.data_ptr(), grad_neg=grad_neg.data_ptr(),
            targets=_views.grad_targets(kernels, grad_input, grad_output, slots), **_views.launch_args(center))


def _sparse_rows(rows, values, shape):
    """A coalesced sparse COO gradient from unique sorted rows and their values."""
    return torch.sparse_coo_tensor(rows[None], values, shape, is_coalesced=True, check_invariants=False)


def _saved_shapes(model: Model, input_weight, center, context, negative, in_batch_positives, save_grad):
    """(coef, grad_h_pos, grad_h_neg, hidden) shapes; empty when nothing is saved."""
    B, d = center.size(0), input_weight.size(1)
    if not save_grad:
        return (0, 0), (0, d), (0, d), (0, d)
    terms = model.terms_per_row(center, context, negative, in_batch_positives)
    return (B, terms), (B, d), (B, d), (B, d)


def define_ops(model: Model):
    @torch.library.custom_op(model.forward_op, mutates_args=())
    def forward(input_weight: Tensor, output_weight: Tensor, center: Tensor, context: Tensor, negative: Tensor,
                padding_idx: int, in_batch_positives: bool, sparse_grad: bool,
                save_grad: bool) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
        with _views.device_guard(center):
            kernels = _views.kernels_for(center)
            launch = _views.launch_args(center)
            index_error = check_ranges(model, model.loss_name, kernels, input_weight, output_weight, center,
                                       context, negative, padding_idx, launch)
            B = center.size(0)
            pos_loss, neg_loss = _views.new_output(input_weight, B), _views.new_output(input_weight, B)
            saved = [_views.new_output(input_weight, *shape) for shape in
                     _saved_shapes(model, input_weight, center, context, negative, in_batch_positives, save_grad)]
            if B > 0:
                model.forward_kernel(kernels)(
                    weights=_views.embedding_pair(kernels, input_weight, output_weight),
                    batch=_views.ns_batch(kernels, center, context, negative, padding_idx, in_batch_positives,
                                          index_error),
                    pos_loss=pos_loss.data_ptr(), neg_loss=neg_loss.data_ptr(),
                    saved=_views.saved_grad(kernels, *saved, keep=save_grad), **launch)
            return (pos_loss, neg_loss, *saved)

    @forward.register_fake
    def _(input_weight, output_weight, center, context, negative, padding_idx, in_batch_positives, sparse_grad,
          save_grad):
        B = center.size(0)
        saved = [input_weight.new_empty(shape) for shape in
                 _saved_shapes(model, input_weight, center, context, negative, in_batch_positives, save_grad)]
        return (input_weight.new_empty(B), input_weight.new_empty(B), *saved)

    @torch.library.custom_op(model.backward_op, mutates_args=())
    def backward(grad_pos: Tensor, grad_neg: Tensor, coef: Tensor, grad_h_pos: Tensor, grad_h_neg: Tensor,
                 hidden: Tensor, center: Tensor, context: Tensor, negative: Tensor, padding_idx: int,
                 in_batch_positives: bool, input_rows: int, output_rows: int) -> tuple[Tensor, Tensor]:
        d = hidden.size(1)
        grad_input = hidden.new_zeros(input_rows, d)
        grad_output = hidden.new_zeros(output_rows, d)
        if center.size(0) > 0:
            _run_backward(model, grad_pos, grad_neg, (coef, grad_h_pos, grad_h_neg, hidden), center, context,
                          negative, padding_idx, in_batch_positives, grad_input, grad_output)
        return grad_input, grad_output

    @backward.register_fake
    def _(grad_pos, grad_neg, coef, grad_h_pos, grad_h_neg, hidden, center, context, negative, padding_idx,
          in_batch_positives, input_rows, output_rows):
        d = hidden.size(1)
        return hidden.new_empty(input_rows, d), hidden.new_empty(output_rows, d)

    @torch.library.custom_op(model.backward_sparse_op, mutates_args=())
    def backward_sparse(grad_pos: Tensor, grad_neg: Tensor, coef: Tensor, grad_h_pos: Tensor, grad_h_neg: Tensor,
                        hidden: Tensor, center: Tensor, context: Tensor, negative: Tensor, padding_idx: int,
                        in_batch_positives: bool) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        if _views.runs_cuda_kernels(center):
            # the row sets come from the indices: a bad one must not become a gradient row
            # (torch.unique below waits for the device anyway)
            _cuda_index_errors.check_index_errors(center.device)
        indices = (center, context, negative)
        masks = model.masks(center, context, negative, padding_idx)
        is_input = [name in model.input_indices for name in ("center", "context", "negative")]
        in_rows, in_slots = _terms.compact_rows([t for t, i in zip(indices, is_input) if i],
                                                [m for m, i in zip(masks, is_input) if i])
        out_rows, out_slots = _terms.compact_rows([t for t, i in zip(indices, is_input) if not i],
                                                  [m for m, i in zip(masks, is_input) if not i])
        in_slots, out_slots = iter(in_slots), iter(out_slots)
        slots = [next(in_slots) if i else next(out_slots) for i in is_input]
        d = hidden.size(1)
        in_values = _views.new_grad_rows(hidden, in_rows.numel(), d)
        out_values = _views.new_grad_rows(hidden, out_rows.numel(), d)
        _run_backward(model, grad_pos, grad_neg, (coef, grad_h_pos, grad_h_neg, hidden), center, context, negative,
                      padding_idx, in_batch_positives, in_values, out_values, slots)
        return in_rows, in_values, out_rows, out_values

    @backward_sparse.register_fake
    def _(grad_pos, grad_neg, coef, grad_h_pos, grad_h_neg, hidden, center, context, negative, padding_idx,
          in_batch_positives):
        ctx = torch.library.get_ctx()
        n_in, n_out = ctx.new_dynamic_size(), ctx.new_dynamic_size()
        d = hidden.size(1)
        return (center.new_empty(n_in, dtype=torch.int64), hidden.new_empty(n_in, d),
                center.new_empty(n_out, dtype=torch.int64), hidden.new_empty(n_out, d))

    def setup_context(ctx, inputs, output):
        (input_weight, output_weight, center, context, negative, padding_idx, in_batch_positives, sparse_grad,
         save_grad) = inputs
        ctx.save_for_backward(*output[2:], center, context, negative)
        ctx.padding_idx, ctx.in_batch_positives, ctx.sparse_grad = padding_idx, in_batch_positives, sparse_grad
        ctx.save_grad = save_grad
        ctx.input_shape, ctx.output_shape = input_weight.shape, output_weight.shape

    def backward_formula(ctx, grad_pos, grad_neg, *unused):
        if not ctx.save_grad:
            raise RuntimeError("w2v_ext: this loss was computed without the data its backward needs (the weights "
                               "did not require grad, or grad mode was off, when it ran)")
        coef, grad_h_pos, grad_h_neg, hidden, center, context, negative = ctx.saved_tensors
        args = (grad_pos, grad_neg, coef, grad_h_pos, grad_h_neg, hidden, center, context, negative,
                ctx.padding_idx, ctx.in_batch_positives)
        if ctx.sparse_grad:
            in_rows, in_values, out_rows, out_values = backward_sparse(*args)
            grad_input = _sparse_rows(in_rows, in_values, ctx.input_shape)
            grad_output = _sparse_rows(out_rows, out_values, ctx.output_shape)
        else:
            grad_input, grad_output = backward(*args, ctx.input_shape[0], ctx.output_shape[0])
        return grad_input, grad_output, None, None, None, None, None, None, None

    forward.register_autograd(backward_formula, setup_context=setup_context)
    return forward


sgns_forward = define_ops(SGNS)
cbow_ns_forward = define_ops(CBOW_NS)


def _sgd_step(model: Model, input_weight, output_weight, center, context, negative, lr, padding_idx,
              atomic_updates: bool, **extra):
    """The step ops' body: checks, then the model's fused step kernel; the summed loss.
    atomic_updates reaches the CUDA kernels only: the CPU's few threads update Hogwild."""
    with _views.device_guard(center):
        kernels = _views.kernels_for(center)
        launch = _views.launch_args(center)
        _checks.check_learning_rate(lr)
        tied = input_weight if output_weight is None else output_weight
        index_error = check_ranges(model, model.step_name, kernels, input_weight, tied, center, context,
                                   negative, padding_idx, launch)
        loss = _views.new_step_loss(input_weight, center.size(0))
        if center.size(0) > 0:
            model.step_kernel(kernels)(
                weights=_views.embedding_pair(kernels, input_weight, output_weight),
                batch=_views.ns_batch(kernels, center, context, negative, padding_idx, index_error=index_error),
                lr=lr, atomic_updates=atomic_updates, loss=loss.data_ptr(), **extra, **launch)
        return loss


@torch.library.custom_op("w2v_ext::sgns_sgd_step_", mutates_args=("input_weight", "output_weight"))
def sgns_sgd_step_(input_weight: Tensor, output_weight: Optional[Tensor], center: Tensor, context: Tensor,
                   negative: Tensor, lr: float, padding_idx: int, atomic_updates: bool) -> Tensor:
    return _sgd_step(SGNS, input_weight, output_weight, center, context, negative, lr, padding_idx, atomic_updates)


@sgns_sgd_step_.register_fake
def _(input_weight, output_weight, center, context, negative, lr, padding_idx, atomic_updates):
    return input_weight.new_empty(())


@torch.library.custom_op("w2v_ext::cbow_ns_sgd_step_", mutates_args=("input_weight", "output_weight"))
def cbow_ns_sgd_step_(input_weight: Tensor, output_weight: Optional[Tensor], center: Tensor, context: Tensor,
                      negative: Tensor, lr: float, padding_idx: int, exact_context_gradient: bool,
                      atomic_updates: bool) -> Tensor:
    return _sgd_step(CBOW_NS, input_weight, output_weight, center, context, negative, lr, padding_idx,
                     atomic_updates, exact_context_gradient=exact_context_gradient)


@cbow_ns_sgd_step_.register_fake
def _(input_weight, output_weight, center, context, negative, lr, padding_idx, exact_context_gradient,
      atomic_updates):
    return input_weight.new_empty(())
