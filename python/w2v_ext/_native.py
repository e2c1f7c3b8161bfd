"""The compiled kernel modules.

`cpu` is always built. `cuda` is the CUDA module when this build has one (None
otherwise); has_cuda_device() also needs a device to be present at run time.

The CUDA kernels compiled as C++ and run on the CPU (a build with
`-Ccmake.define.W2V_CUDA_EMULATION=ON`, for the tests) are never picked by themselves:
only inside `with emulating_cuda():` do the ops run them, on CPU tensors standing in
for CUDA tensors, and does `device="cuda"` train with them.
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os

from . import _w2v_cpu as cpu

# Built only where a CUDA toolkit was found. A module that is there but fails to load is
# an error worth seeing, not "no CUDA support".
if importlib.util.find_spec(f"{__package__}._w2v_cuda") is not None:
    cuda = importlib.import_module(f"{__package__}._w2v_cuda")
else:  # pragma: no cover - depends on the build
    cuda = None

# Which emulated build emulated_cuda() loads: _w2v_cuda_emulated, or its twin built with
# AddressSanitizer and UndefinedBehaviorSanitizer, _w2v_cuda_emulated_sanitized (which
# loads only into a process started with libasan preloaded: see tests/test_cuda_sanitized.py).
EMULATED_MODULE_ENV = "W2V_EXT_EMULATED_CUDA_MODULE"
EMULATED_MODULES = ("_w2v_cuda_emulated", "_w2v_cuda_emulated_sanitized")

_emulating = None   # the emulated module while emulating_cuda() is active


def has_cuda_device() -> bool:
    """True when the CUDA module is built and can see at least one device."""
    return cuda is not None and cuda.device_count() > 0


def emulated_cuda():
    """The CUDA kernels emulated on the CPU, or None when this build does not have them."""
    name = os.environ.get(EMULATED_MODULE_ENV) or EMULATED_MODULES[0]
    if name not in EMULATED_MODULES:
        raise ValueError(f"{EMULATED_MODULE_ENV} must be one of {EMULATED_MODULES}, got {name!r}")
    if importlib.util.find_spec(f"{__package__}.{name}") is None:
        return None
    return importlib.import_module(f"{__package__}.{name}")


@contextlib.contextmanager
def emulating_cuda(module=None):
    """Within the block, the ops given CPU tensors run the CUDA kernels emulated on the
    CPU (`module`, default emulated_cuda()) with the CUDA code path around them, and the
    trainer's device="cuda" uses the emulated device. For tests: the CPU kernels are out
    of reach meanwhile, and the emulation is far slower than either."""
    module = module if module is not None else emulated_cuda()
    if module is None:
        raise RuntimeError("w2v_ext was built without the emulated CUDA kernels; reinstall with "
                           "-Ccmake.define.W2V_CUDA_EMULATION=ON")
    global _emulating
    previous, _emulating = _emulating, module
    try:
        yield module
    finally:
        _emulating = previous


def runs_cuda_kernels(device_type: str) -> bool:
    """True when tensors on `device_type` go to CUDA kernels (real, or emulated on CPU tensors)."""
    return device_type == "cuda" or (device_type == "cpu" and _emulating is not None)


def cuda_trainer_module():
    """The module whose Trainer device="cuda" trains with (None: not built)."""
    return _emulating if _emulating is not None else cuda


def kernels_for(device_type: str):
    """The kernel module for tensors on `device_type` ('cpu' or 'cuda')."""
    if device_type == "cpu":
        return cpu if _emulating is None else _emulating
    if device_type == "cuda":
        if cuda is None:
            raise RuntimeError("w2v_ext was built without CUDA support (no CUDA toolkit was found at build "
                               "time); reinstall from source on a machine with nvcc to use CUDA tensors")
        if cuda.device_count() == 0:
            raise RuntimeError(f"w2v_ext: no CUDA device is visible to this process ({cuda.device_error()})")
        return cuda
    raise ValueError(f"w2v_ext kernels run on 'cpu' or 'cuda' tensors, not {device_type!r}")
