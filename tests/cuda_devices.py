"""Where the CUDA tests run (the `kernel_device` fixture of conftest.py):

- `cuda`: a GPU. These cases carry the `cuda` marker, so `pytest -m cuda tests` selects
  exactly the runs on a real device; they skip where none is visible.
- `emulated`: the same CUDA kernels compiled as C++ and run on the CPU
  (w2v_ext._native.emulating_cuda()), CPU tensors standing in for CUDA tensors. These
  carry the `cuda_emulated` marker and run wherever the build has the emulated module
  (`pip install . -Ccmake.define.W2V_CUDA_EMULATION=ON`, as CI does).

torch is imported only when a tensor is moved: the trainer's tests run without it.
"""
from __future__ import annotations

import contextlib

import pytest

from w2v_ext import _native


class KernelDevice:
    def __init__(self, name: str):
        assert name in ("cuda", "emulated")
        self.name = name

    @property
    def torch_device(self):
        import torch
        return torch.device("cuda" if self.name == "cuda" else "cpu")

    def tensor(self, t):
        """t on this device (a CPU tensor stays where it is for the emulation)."""
        return t.to(self.torch_device)

    def synchronize(self) -> None:
        if self.name == "cuda":
            import torch
            torch.cuda.synchronize()

    def active(self):
        """The context the test body runs in: the emulation switched on, or nothing."""
        return _native.emulating_cuda() if self.name == "emulated" else contextlib.nullcontext()

    def __repr__(self) -> str:
        return f"KernelDevice({self.name!r})"


PARAMS = [
    pytest.param("cuda", id="cuda", marks=[
        pytest.mark.cuda, pytest.mark.skipif(not _native.has_cuda_device(), reason="no CUDA device")]),
    pytest.param("emulated", id="emulated", marks=[
        pytest.mark.cuda_emulated,
        pytest.mark.skipif(_native.emulated_cuda() is None,
                           reason="built without the emulated CUDA kernels (-Ccmake.define.W2V_CUDA_EMULATION=ON)")]),
]
