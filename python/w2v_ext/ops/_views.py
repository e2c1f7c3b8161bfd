"""Kernel arguments from tensors: the raw-pointer views the native modules take, and
the launch arguments for the tensors' device (CPU threads or the current CUDA stream)."""
from __future__ import annotations

import contextlib
from typing import Optional

import torch

from .. import _native
from . import _buffer_pool, _cuda_index_errors

_DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64", torch.int32: "int32", torch.int64: "int64"}


# Tests set this: outputs the kernels must write then start as NaN, so an element a
# kernel fails to write shows up instead of passing as leftover memory.
POISON_OUTPUTS = False


def _poisoned(out: torch.Tensor) -> torch.Tensor:
    if POISON_OUTPUTS:
        out.fill_(float("nan"))
    return out


def new_output(like: torch.Tensor, *shape: int) -> torch.Tensor:
    """An uninitialised output of like's dtype and device, for a kernel to fill."""
    return _poisoned(like.new_empty(shape))


def new_grad_rows(like: torch.Tensor, rows: int, dim: int) -> torch.Tensor:
    """Compact gradient rows [rows, dim]: the CPU kernels write every row (poisoned in
    tests), into reused memory when large (_buffer_pool); the CUDA kernels add into
    them, so there they start at zero."""
    if runs_cuda_kernels(like):
        return like.new_zeros(rows, dim)
    return _poisoned(_buffer_pool.empty(rows, dim, like.dtype))


def new_step_loss(like: torch.Tensor, rows: int) -> torch.Tensor:
    """The 0-dim loss a step kernel fills: the CPU kernels write it (poisoned in tests),
    the CUDA kernels add into it, so there it starts at zero; an empty batch has loss 0."""
    if runs_cuda_kernels(like) or rows == 0:
        return like.new_zeros(())
    return new_output(like)


def runs_cuda_kernels(t: torch.Tensor) -> bool:
    """True for CUDA tensors, and for CPU tensors inside _native.emulating_cuda()."""
    return _native.runs_cuda_kernels(t.device.type)


def kernels_for(t: torch.Tensor):
    return _native.kernels_for(t.device.type)


def launch_args(t: torch.Tensor) -> dict:
    if t.device.type == "cuda":
        return {"stream": torch.cuda.current_stream(t.device).cuda_stream}
    if runs_cuda_kernels(t):
        return {"stream": 0}   # the emulated device's null stream
    return {"threads": torch.get_num_threads()}


def device_guard(t: torch.Tensor):
    """Launch on t's GPU (kernels run on the calling thread's current device)."""
    if t.device.type == "cuda":
        return torch.cuda.device(t.device)
    return contextlib.nullcontext()


def _row_stride(w: torch.Tensor) -> int:
    return w.stride(0) if w.size(0) > 1 else w.size(1)


def dtype_name(t: torch.Tensor) -> str:
    return _DTYPE_NAMES[t.dtype]


def embedding_pair(kernels, input_weight: torch.Tensor, output_weight: Optional[torch.Tensor]):
    output_weight = input_weight if output_weight is None else output_weight
    return kernels.EmbeddingPair(
        dtype=_DTYPE_NAMES[input_weight.dtype],
        input=input_weight.data_ptr(), input_rows=input_weight.size(0), input_stride=_row_stride(input_weight),
        output=output_weight.data_ptr(), output_rows=output_weight.size(0), output_stride=_row_stride(output_weight),
        dim=input_weight.size(1))


def ns_batch(kernels, center, context, negative, padding_idx: int, in_batch_positives: bool = False,
             index_error: int = 0):
    """index_error: the CUDA device's index-check state (_cuda_index_errors), 0 on the CPU."""
    return kernels.NsBatch(
        index_dtype=_DTYPE_NAMES[center.dtype], center=center.data_ptr(), context=context.data_ptr(),
        negative=negative.data_ptr(), rows=center.size(0), context_size=context.size(1),
        negatives=negative.size(-1), negatives_per_context=negative.dim() == 3,
        in_batch_positives=in_batch_positives, padding_idx=padding_idx, index_error=index_error)


def saved_grad(kernels, coef, grad_h_pos, grad_h_neg, hidden, keep: bool):
    """The forward's SavedGrad (ns_batch.h): what it keeps for the backward (keep=False:
    nothing; the tensors are then empty)."""
    return kernels.SavedGrad(dtype=_DTYPE_NAMES[hidden.dtype], keep=keep, coef=coef.data_ptr(),
                             grad_h_pos=grad_h_pos.data_ptr(), grad_h_neg=grad_h_neg.data_ptr(),
                             hidden=hidden.data_ptr(), terms_per_row=coef.size(1), dim=hidden.size(1))


def grad_targets(kernels, grad_input, grad_output, slots=(None, None, None)):
    """Where a backward's gradients go (GradRows of both tables) and, for compact rows,
    the slot of every center, context and negative index (None: dense gradients)."""
    return kernels.GradTargets(input=grad_input.data_ptr(), input_stride=grad_input.size(1),
                               input_rows=grad_input.size(0), output=grad_output.data_ptr(),
                               output_stride=grad_output.size(1), output_rows=grad_output.size(0),
                               center_slot=data_ptr_or_null(slots[0]), context_slot=data_ptr_or_null(slots[1]),
                               negative_slot=data_ptr_or_null(slots[2]))


def index_error_state(t: torch.Tensor) -> int:
    """For kernels that run after a checked call (the backward): the device's state."""
    if runs_cuda_kernels(t):
        return _cuda_index_errors.state_pointer(t.device)
    return 0


def data_ptr_or_null(t: Optional[torch.Tensor]) -> int:
    return 0 if t is None else t.data_ptr()
