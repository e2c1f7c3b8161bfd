"""The cache of large CPU gradient buffers: a buffer is reused only once no tensor
shares its memory, and gradients computed through it stay correct."""
from __future__ import annotations

import gc

import pytest

torch = pytest.importorskip("torch")

import w2v_ext  # noqa: E402
from w2v_ext.ops import _buffer_pool  # noqa: E402


@pytest.fixture(autouse=True)
def empty_pool():
    _buffer_pool.clear()
    yield
    _buffer_pool.clear()


def test_a_buffer_returns_only_when_every_sharer_is_gone():
    rows, dim = 4096, 64
    t = _buffer_pool.empty(rows, dim, torch.float32)
    assert t.shape == (rows, dim) and t.dtype == torch.float32 and t.is_contiguous()
    address = t.data_ptr()
    view = t[10:20]
    sparse = torch.sparse_coo_tensor(torch.arange(rows)[None], t, (rows, dim), check_invariants=True)
    del t
    gc.collect()
    assert len(_buffer_pool._free) == 0            # still shared by the view and the sparse tensor
    other = _buffer_pool.empty(rows, dim, torch.float32)
    assert other.data_ptr() != address             # so a new request gets other memory
    del view, sparse
    gc.collect()
    assert len(_buffer_pool._free) == 1
    again = _buffer_pool.empty(rows, dim, torch.float32)
    assert again.data_ptr() == address             # reused once free
    del other, again


def test_small_requests_and_bounded_free_list():
    small = _buffer_pool.empty(4, 4, torch.float64)
    assert small.dtype == torch.float64 and len(_buffer_pool._free) == 0
    held = [_buffer_pool.empty(2048 * (i + 1), 64, torch.float32) for i in range(_buffer_pool.MAX_FREE_BUFFERS + 3)]
    del held
    gc.collect()
    assert len(_buffer_pool._free) == _buffer_pool.MAX_FREE_BUFFERS
    # a request much smaller than every free buffer does not take one (it would waste over half)
    before = len(_buffer_pool._free)
    _buffer_pool.empty(1024, 64, torch.float32)
    assert len(_buffer_pool._free) == before


@pytest.mark.parametrize("model", ["sgns", "cbow"])
def test_sparse_gradients_through_reused_buffers_match_dense(model, gen):
    """Consecutive sparse backwards, the earlier gradients kept alive or dropped in
    turn, each equal the dense gradient of its own batch."""
    V, d, B, C, K = 3000, 96, 512, 6, 4
    loss_fn = w2v_ext.sgns_loss if model == "sgns" else w2v_ext.cbow_ns_loss
    w_in = torch.randn(V, d, generator=gen, requires_grad=True)
    w_out = torch.randn(V, d, generator=gen, requires_grad=True)
    kept = []
    for step in range(6):
        c = torch.randint(0, V, (B,), generator=gen)
        x = torch.randint(0, V, (B, C), generator=gen)
        n = torch.randint(0, V, (B, K), generator=gen)
        sparse = torch.autograd.grad(loss_fn(w_in, w_out, c, x, n, sparse=True), [w_in, w_out])
        dense = torch.autograd.grad(loss_fn(w_in, w_out, c, x, n), [w_in, w_out])
        for s, g in zip(sparse, dense):
            torch.testing.assert_close(s.to_dense(), g, rtol=1e-5, atol=1e-5)
        if step % 2 == 0:
            kept.append((sparse, dense))
        gc.collect()
    for sparse, dense in kept:     # buffers still in use were never handed out again
        for s, g in zip(sparse, dense):
            torch.testing.assert_close(s.to_dense(), g, rtol=1e-5, atol=1e-5)
