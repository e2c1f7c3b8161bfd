"""The compiled kernel modules.

`cpu` is always built. `cuda` is the CUDA module when this build has one (None
otherwise); HAS_CUDA also needs a device to be present at run time.
"""
from __future__ import annotations

import importlib
import importlib.util

from . import _w2v_cpu as cpu

# Built only where a CUDA toolkit was found. A module that is there but fails to load is
# an error worth seeing, not "no CUDA support".
if importlib.util.find_spec(f"{__package__}._w2v_cuda") is not None:
    cuda = importlib.import_module(f"{__package__}._w2v_cuda")
else:  # pragma: no cover - depends on the build
    cuda = None


def has_cuda_device() -> bool:
    """True when the CUDA module is built and can see at least one device."""
    return cuda is not None and cuda.device_count() > 0


def kernels_for(device_type: str):
    """The kernel module for tensors on `device_type` ('cpu' or 'cuda')."""
    if device_type == "cpu":
        return cpu
    if device_type == "cuda":
        if cuda is None:
            raise RuntimeError("w2v_ext was built without CUDA support (no CUDA toolkit was found at build "
                               "time); reinstall from source on a machine with nvcc to use CUDA tensors")
        if cuda.device_count() == 0:
            raise RuntimeError(f"w2v_ext: no CUDA device is visible to this process ({cuda.device_error()})")
        return cuda
    raise ValueError(f"w2v_ext kernels run on 'cpu' or 'cuda' tensors, not {device_type!r}")
