"""Without a usable GPU (this machine and CI: nvcc at build time, no device), the CUDA
module still imports and every CUDA entry point raises a clear error naming why."""
import pytest
import torch

import w2v_ext
from w2v_ext import Word2Vec, _native

pytestmark = pytest.mark.skipif(_native.has_cuda_device(), reason="a CUDA device is visible")


def test_device_error_says_why_there_is_no_device():
    if _native.cuda is None:
        pytest.skip("built without the CUDA module")
    assert _native.cuda.device_count() == 0
    assert _native.cuda.device_error() != ""


def test_kernels_for_cuda_raises_with_the_reason():
    if _native.cuda is None:
        with pytest.raises(RuntimeError, match="built without CUDA support"):
            _native.kernels_for("cuda")
        return
    with pytest.raises(RuntimeError, match=r"no CUDA device is visible to this process \(.+\)"):
        _native.kernels_for("cuda")


def test_cuda_trainer_raises_with_the_reason():
    expected = "lacks" if _native.cuda is None else r"sees 0 CUDA device\(s\) \(.+\)"
    with pytest.raises(RuntimeError, match=expected):
        Word2Vec([["a", "b", "c"]] * 10, min_count=1, device="cuda", progress=False)


def test_cpu_ops_work_without_a_device():
    # the CPU path does not touch the CUDA module
    w = torch.randn(5, 3)
    loss = w2v_ext.sgns_loss(w, w, torch.tensor([1]), torch.tensor([[2]]), torch.tensor([[3]]))
    assert torch.isfinite(loss).all()
