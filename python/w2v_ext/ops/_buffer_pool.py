"""A small cache of the large CPU buffers behind sparse gradient values.

A sparse backward returns fresh [rows, dim] value tensors every step (tens of MB at
B=4096, d=128..300). The C library hands blocks that large straight back to the
operating system when they are freed (glibc: above 32 MiB always), so every step pays
a page fault per 4 KiB to map them again, a large share of a step. Here a freed buffer
is kept for the next step instead, as torch's CUDA caching allocator does on the GPU: a
tensor handed out is a view of a pooled numpy buffer, and the buffer returns to the pool
when the last tensor sharing its memory is gone. At most MAX_FREE_BUFFERS free buffers
are kept.
"""
from __future__ import annotations

import threading
import weakref

import numpy as np
import torch

MIN_BYTES = 1 << 18          # smaller requests come from the C library, which reuses them well
MAX_FREE_BUFFERS = 4
_GRANULE = 1 << 16
_NUMPY_DTYPES = {torch.float32: np.float32, torch.float64: np.float64}

_lock = threading.Lock()
_free: list = []             # free uint8 buffers, most recently released last


def empty(rows: int, dim: int, dtype: torch.dtype) -> torch.Tensor:
    """An uninitialised CPU tensor [rows, dim], from the pool when it is large."""
    nbytes = rows * dim * torch.empty((), dtype=dtype).element_size()
    if nbytes < MIN_BYTES or dtype not in _NUMPY_DTYPES:
        return torch.empty(rows, dim, dtype=dtype)
    base = _take(nbytes)
    view = base[:nbytes].view(_NUMPY_DTYPES[dtype]).reshape(rows, dim)
    weakref.finalize(view, _release, base)
    return torch.from_numpy(view)


def _take(nbytes: int) -> np.ndarray:
    with _lock:
        # the smallest free buffer that fits and wastes at most half of itself
        fits = [i for i, b in enumerate(_free) if nbytes <= b.nbytes <= 2 * nbytes]
        if fits:
            return _free.pop(min(fits, key=lambda i: _free[i].nbytes))
        # free buffers a little too small for this request would rarely fit again: let them go
        _free[:] = [b for b in _free if not nbytes // 2 <= b.nbytes < nbytes]
    # headroom: a batch's unique rows vary from step to step
    return np.empty(-(-(nbytes + nbytes // 8) // _GRANULE) * _GRANULE, dtype=np.uint8)


def _release(base: np.ndarray) -> None:
    with _lock:
        _free.append(base)
        if len(_free) > MAX_FREE_BUFFERS:
            _free.pop(0)


def clear() -> None:
    """Drop every free buffer (their memory goes back to the system)."""
    with _lock:
        _free.clear()
