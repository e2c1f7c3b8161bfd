"""The ops on CUDA tensors against the CPU ops (themselves checked against the float64
references in test_ops_reference.py). Skipped where no CUDA device is visible."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import w2v_ext  # noqa: E402
from w2v_ext import _native  # noqa: E402
from w2v_ext.ops import reference  # noqa: E402
from ns_testing import MODELS, build_case  # noqa: E402

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(not _native.has_cuda_device(), reason="no CUDA device")]

TOL = {torch.float64: dict(rtol=1e-9, atol=1e-10), torch.float32: dict(rtol=2e-4, atol=2e-5)}


def _to_cuda(tensors, tied):
    w_in, w_out, c, x, n = tensors
    g_in = w_in.detach().cuda().requires_grad_(True)
    g_out = g_in if tied else w_out.detach().cuda().requires_grad_(True)
    return g_in, g_out, c.cuda(), x.cuda(), n.cuda()


def _loss_fn(model_name, in_batch):
    if model_name == "sgns":
        return w2v_ext.sgns_loss
    return lambda *a, **k: w2v_ext.cbow_ns_loss(*a, in_batch_positives=in_batch, **k)


CASES = [
    # model, B, C, K, d, neg3d, in_batch
    ("sgns", 1, 1, 1, 1, False, False),
    ("sgns", 37, 3, 5, 17, False, False),
    ("sgns", 64, 4, 3, 128, True, False),
    ("sgns", 300, 10, 5, 300, False, False),
    ("cbow", 1, 1, 1, 1, False, False),
    ("cbow", 37, 6, 5, 17, False, False),
    ("cbow", 300, 10, 5, 100, False, False),
    ("cbow", 16, 4, 2, 8, False, True),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("reduction", ["sum", "pos_neg_mean", "none"])
@pytest.mark.parametrize("case", CASES)
def test_cuda_matches_cpu(case, reduction, sparse, tied, dtype, gen):
    model_name, B, C, K, d, neg3d, in_batch = case
    cpu = build_case(MODELS[model_name], B, C, K, d, neg3d=neg3d, tied=tied, dtype=dtype, V=97, gen=gen)
    gpu = _to_cuda(cpu, tied)
    fn = _loss_fn(model_name, in_batch)
    upstream = torch.rand(B, generator=gen, dtype=dtype) if reduction == "none" else torch.tensor(1.0, dtype=dtype)
    results = []
    for (w_in, w_out, c, x, n), up in ((cpu, upstream), (gpu, upstream.cuda())):
        loss = fn(w_in, w_out, c, x, n, reduction=reduction, sparse=sparse)
        wrt = [w_in] if tied else [w_in, w_out]
        grads = torch.autograd.grad(loss, wrt, grad_outputs=up)
        results.append((loss.detach().cpu(), [g.to_dense().cpu() if g.is_sparse else g.cpu() for g in grads]))
    (loss_cpu, grads_cpu), (loss_gpu, grads_gpu) = results
    torch.testing.assert_close(loss_gpu, loss_cpu, **TOL[dtype])
    for g_gpu, g_cpu in zip(grads_gpu, grads_cpu):
        torch.testing.assert_close(g_gpu, g_cpu, **TOL[dtype])


@pytest.mark.parametrize("model_name", ["sgns", "cbow"])
@pytest.mark.parametrize("neg3d", [False, True])
def test_cuda_step_matches_sequential_reference(model_name, neg3d, gen):
    """Rows that share no index do not race, so the concurrent CUDA step equals the
    sequential float64 reference."""
    if model_name == "cbow" and neg3d:
        pytest.skip("CBOW takes [B, K] negatives only")
    B, C, K, d, V = 24, 3, 2, 33, 24 * 8
    perm = torch.randperm(V, generator=gen)
    per_row = 1 + C + (C * K if neg3d else K)
    assert per_row * B <= V
    ids = perm[:B * per_row].view(B, per_row)
    center, context = ids[:, 0], ids[:, 1:1 + C]
    negative = ids[:, 1 + C:].reshape(B, C, K) if neg3d else ids[:, 1 + C:1 + C + K]
    w_in = torch.randn(V, d, generator=gen, dtype=torch.float64) * 0.3
    w_out = torch.randn(V, d, generator=gen, dtype=torch.float64) * 0.3
    ref_in, ref_out = w_in.clone(), w_out.clone()
    step_ref = reference.sgns_step_reference if model_name == "sgns" else reference.cbow_ns_step_reference
    step = w2v_ext.sgns_step_ if model_name == "sgns" else w2v_ext.cbow_ns_step_
    ref_loss = step_ref(ref_in, ref_out, center, context, negative, 0.1)
    g_in, g_out = w_in.cuda(), w_out.cuda()
    loss = step(g_in, g_out, center.cuda(), context.cuda(), negative.cuda(), 0.1)
    torch.testing.assert_close(g_in.cpu(), ref_in, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(g_out.cpu(), ref_out, rtol=1e-10, atol=1e-12)
    assert abs(float(loss) - ref_loss) < 1e-9 * max(1.0, abs(ref_loss))


def _bad_batch():
    c = torch.tensor([1, 2], device="cuda")
    x = torch.tensor([[3], [10]], device="cuda")
    n = torch.tensor([[5], [6]], device="cuda")
    return c, x, n


def test_cuda_index_out_of_range_raises_in_the_call_in_sync_mode(gen):
    w = torch.randn(10, 4, device="cuda")
    c, x, n = _bad_batch()
    w2v_ext.set_sync_index_checks(True)
    try:
        with pytest.raises(IndexError, match=r"context\[1, 0\] = 10 is out of range for output_weight with 10 rows"):
            w2v_ext.sgns_loss(w, w, c, x, n)
        before = w.clone()
        with pytest.raises(IndexError):
            w2v_ext.sgns_step_(w, w, c, x, n, 0.1)
        assert torch.equal(w, before)
    finally:
        w2v_ext.set_sync_index_checks(False)


@pytest.mark.parametrize("op", ["step", "loss_sparse", "loss_dense", "cbow_step"])
def test_cuda_index_out_of_range_raises_later_and_skips_the_work(op, gen):
    """Without sync mode the bad call does not wait: the error surfaces at a later call or
    at check_index_errors(), and neither the bad call nor the calls after it change a
    weight or write out of bounds."""
    w = torch.randn(10, 4, device="cuda", requires_grad=op.startswith("loss"))
    c, x, n = _bad_batch()
    x_ok = torch.tensor([[3], [4]], device="cuda")
    before = w.detach().clone()

    def run(context):
        if op == "step":
            return w2v_ext.sgns_step_(w, w, c, context, n, 0.1)
        if op == "cbow_step":
            return w2v_ext.cbow_ns_step_(w, w, c, context, n, 0.1)
        loss = w2v_ext.sgns_loss(w, w, c, context, n, sparse=op == "loss_sparse")
        grad, = torch.autograd.grad(loss, [w])
        with torch.no_grad():
            w.sub_(0.1 * (grad.to_dense() if grad.is_sparse else grad))
        return loss

    weight = "input_weight" if op == "cbow_step" else "output_weight"   # CBOW's context rows are inputs
    with pytest.raises(IndexError, match=rf"context\[1, 0\] is out of range for {weight} with 10 rows.*"
                                         r"earlier call"):
        run(x)
        for _ in range(3):
            run(x_ok)
        w2v_ext.check_index_errors()
    torch.cuda.synchronize()
    assert torch.equal(w.detach(), before)
    run(x_ok)                       # the state was reset: calls work again
    w2v_ext.check_index_errors()
    assert not torch.equal(w.detach(), before)


def test_cuda_index_checks_keep_a_bounded_backlog(gen):
    from w2v_ext.ops import _cuda_index_errors as errors
    w = torch.randn(50, 8, device="cuda")
    c = torch.randint(0, 50, (64,), device="cuda")
    x = torch.randint(0, 50, (64, 4), device="cuda")
    n = torch.randint(0, 50, (64, 3), device="cuda")
    for _ in range(errors.MAX_PENDING + 10):
        w2v_ext.sgns_step_(w, w, c, x, n, 0.01)
        assert len(errors.tracker_for(w.device).pending) <= errors.MAX_PENDING
    w2v_ext.check_index_errors()
    assert len(errors.tracker_for(w.device).pending) == 0


def test_cuda_mixed_devices_raise():
    w = torch.randn(10, 4, device="cuda")
    with pytest.raises(ValueError, match="center is on cpu"):
        w2v_ext.sgns_loss(w, w, torch.tensor([1]), torch.tensor([[2]], device="cuda"),
                          torch.tensor([[3]], device="cuda"))


def test_cuda_compile_matches_eager(gen):
    V, d, B = 50, 16, 32
    w_in = torch.randn(V, d, device="cuda", requires_grad=True)
    w_out = torch.randn(V, d, device="cuda", requires_grad=True)
    c = torch.randint(0, V, (B,), device="cuda")
    x = torch.randint(0, V, (B, 4), device="cuda")
    n = torch.randint(0, V, (B, 5), device="cuda")
    f = lambda a, b: w2v_ext.sgns_loss(a, b, c, x, n, reduction="mean")  # noqa: E731
    eager = f(w_in, w_out)
    compiled = torch.compile(f, fullgraph=True)(w_in, w_out)
    torch.testing.assert_close(compiled, eager)
    ge = torch.autograd.grad(eager, [w_in, w_out])
    gc = torch.autograd.grad(torch.compile(f, fullgraph=True)(w_in, w_out), [w_in, w_out])
    for a, b in zip(gc, ge):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
