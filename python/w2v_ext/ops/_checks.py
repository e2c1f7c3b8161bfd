"""Argument validation for the ops: every error names the argument and what it got.

Metadata checks (types, shapes, dtypes, devices) run in the public functions, so they
also run while torch.compile traces. Index ranges depend on the data, so they are
checked inside the ops, before any kernel reads an index.
"""
from __future__ import annotations

import math

import torch

from . import _cuda_index_errors

REDUCTIONS = ("sum", "mean", "pos_neg_mean", "none")
_WEIGHT_DTYPES = (torch.float32, torch.float64)
_KERNEL_INDEX_DTYPES = (torch.int32, torch.int64)


def check_weights(input_weight, output_weight) -> None:
    """Both tables: 2-D float32/float64 tensors, same dtype, device and embedding dim,
    unit stride along the embedding dim and non-overlapping rows. A weight that is not
    laid out so raises instead of being copied: a hidden copy would cost O(V x d) per
    call and would make the in-place steps update the copy."""
    for name, w in (("input_weight", input_weight), ("output_weight", output_weight)):
        if not isinstance(w, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor (an nn.Embedding's .weight or an nn.Parameter), "
                            f"got {type(w).__name__}")
        if w.layout != torch.strided:
            raise TypeError(f"{name} must be a dense (strided) tensor, got layout {w.layout}")
        if w.dim() != 2:
            raise ValueError(f"{name} must be 2-D [num_rows, dim], got shape {tuple(w.shape)}")
        if w.dtype not in _WEIGHT_DTYPES:
            raise TypeError(f"{name} must be float32 or float64, got {w.dtype}")
        if w.size(1) > 1 and w.stride(1) != 1:
            raise ValueError(f"{name} must have unit stride along dim 1 (got strides {tuple(w.stride())}); "
                             f"pass {name}.contiguous()")
        if w.size(0) > 1 and w.size(1) > 0 and w.stride(0) < w.size(1):
            raise ValueError(f"{name} rows overlap (strides {tuple(w.stride())} for shape {tuple(w.shape)}); "
                             f"pass {name}.contiguous()")
    if input_weight.dtype != output_weight.dtype:
        raise TypeError(f"input_weight and output_weight must have the same dtype, got {input_weight.dtype} "
                        f"and {output_weight.dtype}")
    if input_weight.size(1) != output_weight.size(1):
        raise ValueError(f"input_weight and output_weight must have the same embedding dim, got "
                         f"{input_weight.size(1)} and {output_weight.size(1)}")
    if input_weight.device != output_weight.device:
        raise ValueError(f"input_weight is on {input_weight.device} but output_weight is on {output_weight.device}")


def check_index(name: str, index, device: torch.device, ndims: tuple[int, ...]) -> torch.Tensor:
    """An index tensor: integer dtype, on the weights' device, with one of `ndims` dims.
    Returns it contiguous, as int32 or int64 (other integer dtypes become int64)."""
    if not isinstance(index, torch.Tensor):
        raise TypeError(f"{name} must be an integer torch.Tensor, got {type(index).__name__}")
    if index.dtype.is_floating_point or index.dtype.is_complex or index.dtype == torch.bool:
        raise TypeError(f"{name} must be an integer tensor (int64 or int32), got {index.dtype}")
    if index.device != device:
        raise ValueError(f"{name} is on {index.device} but the weights are on {device}")
    if index.dim() not in ndims:
        want = " or ".join(f"{n}-D" for n in ndims)
        raise ValueError(f"{name} must be {want}, got shape {tuple(index.shape)}")
    if index.dtype not in _KERNEL_INDEX_DTYPES:
        index = index.to(torch.int64)
    return index.contiguous()


def check_batch(center, context, negative, *, negative_ndims: tuple[int, ...]):
    """center [B], context [B, C], negative [B, K] (or [B, C, K] where allowed).
    Returns the three, contiguous, with one common index dtype."""
    B, C = center.size(0), context.size(1)
    if context.size(0) != B:
        raise ValueError(f"context must be [B, C] with B = center's {B}, got shape {tuple(context.shape)}")
    if negative.size(0) != B:
        raise ValueError(f"negative must start with B = center's {B}, got shape {tuple(negative.shape)}")
    if negative.dim() == 3 and negative.size(1) != C:
        raise ValueError(f"negative of shape [B, C, K] must have C = context's {C}, got shape {tuple(negative.shape)}")
    if len({center.dtype, context.dtype, negative.dtype}) > 1:
        center, context, negative = (t.to(torch.int64) for t in (center, context, negative))
    return center, context, negative


def check_reduction(reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")


def check_padding_idx(padding_idx) -> int:
    if isinstance(padding_idx, bool) or not isinstance(padding_idx, int):
        raise TypeError(f"padding_idx must be an int, got {type(padding_idx).__name__}")
    if not -(2 ** 63) <= padding_idx < 2 ** 63:
        raise ValueError(f"padding_idx must fit in int64, got {padding_idx}")
    return padding_idx


def check_learning_rate_type(lr) -> None:
    """lr must be a real number. Its value is checked inside the step ops
    (check_learning_rate), so torch.compile can trace a changing lr symbolically."""
    if isinstance(lr, torch.Tensor) or isinstance(lr, bool) or not isinstance(lr, (int, float)):
        raise TypeError(f"lr must be a Python float, got {type(lr).__name__}")


def check_flag(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def check_learning_rate(lr: float) -> None:
    if not math.isfinite(lr):
        raise ValueError(f"lr must be finite, got {lr}")


def check_index_ranges(kernels, checks, padding_idx: int, launch: dict, op: str, device: torch.device) -> int:
    """checks: (name, index tensor, weight name, weight rows) tuples. Raise IndexError
    naming the first entry that is neither padding_idx nor a row of its weight.

    On the CPU the scans finish before this returns. On CUDA they are queued on the op's
    stream and the error comes to light in a later call (see _cuda_index_errors); the
    kernels skip their work meanwhile. Returns what the kernels' NsBatch.index_error
    takes: the device's check state (0 on the CPU)."""
    checks = [c for c in checks if c[1].numel() > 0]
    if "stream" in launch:
        tracker = _cuda_index_errors.tracker_for(device)
        serial = tracker.begin_call()
        for k, (_, index, _, rows) in enumerate(checks):
            kernels.check_index_range(index_dtype=_index_dtype(index), data=index.data_ptr(), numel=index.numel(),
                                      rows=rows, padding_idx=padding_idx, check=k, serial=serial,
                                      state=tracker.state.data_ptr(), stream=launch["stream"])
        tracker.end_call(serial, op, [(name, tuple(index.shape), weight_name, rows)
                                      for name, index, weight_name, rows in checks], padding_idx,
                         [index for _, index, _, _ in checks])
        return tracker.state.data_ptr()
    found = [kernels.check_index_range(index_dtype=_index_dtype(index), data=index.data_ptr(),
                                       numel=index.numel(), rows=rows, padding_idx=padding_idx,
                                       threads=launch["threads"]) for _, index, _, rows in checks]
    for bad, (name, index, weight_name, rows) in zip(found, checks):
        if bad >= 0:
            _raise_out_of_range(name, index, bad, weight_name, rows, padding_idx)
    return 0


def _index_dtype(index: torch.Tensor) -> str:
    return str(index.dtype).removeprefix("torch.")


def _raise_out_of_range(name, index, bad, weight_name, rows, padding_idx):
    position, rest = [], bad
    for size in reversed(index.shape):
        position.append(rest % size)
        rest //= size
    where = ", ".join(str(p) for p in reversed(position))
    value = int(index.reshape(-1)[bad])
    raise IndexError(f"{name}[{where}] = {value} is out of range for {weight_name} with {rows} rows "
                     f"(valid: 0..{rows - 1}, or padding_idx={padding_idx})")
