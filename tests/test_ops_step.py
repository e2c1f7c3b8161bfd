"""The fused in-place SGD steps, w2v_ext.sgns_step_ / cbow_ns_step_, against the
sequential float64 references (reference.sgns_step_reference / cbow_ns_step_reference).

Rows update one after another (Hogwild across threads), so exact comparisons run with
torch.set_num_threads(1) (the `one_thread` fixture; conftest restores the count).
"""
from __future__ import annotations

import pytest
import torch

from ns_testing import CBOW, MODELS, make_indices, make_weights

# model, negatives per context (skip-gram [B, C, K]), CBOW context_update
VARIANTS = [("sgns", False, None), ("sgns", True, None), ("cbow", False, "exact"), ("cbow", False, "word2vec")]
VARIANT_IDS = ["sgns-negBK", "sgns-negBCK", "cbow-exact", "cbow-word2vec"]

SHAPES = [(1, 1, 1, 1), (7, 3, 4, 17), (20, 5, 3, 8), (9, 1, 20, 100), (4, 0, 3, 5), (4, 3, 0, 5)]
SHAPE_IDS = ["B1C1K1d1", "B7C3K4d17", "B20C5K3d8", "B9C1K20d100", "C0", "K0"]


def _step(model, w_in, w_out, c, x, n, lr, padding_idx, context_update):
    kw = dict(padding_idx=padding_idx)
    if model.name == "cbow":
        kw["context_update"] = context_update
    return model.step(w_in, w_out, c, x, n, lr, **kw)


def _reference_step(model, w_in, w_out, c, x, n, lr, padding_idx, context_update):
    kw = dict(padding_idx=padding_idx)
    if model.name == "cbow":
        kw["context_update"] = context_update
    return model.step_reference(w_in, w_out, c.long(), x.long(), n.long(), lr, **kw)


def _case(variant, shape, *, tied, padding_idx, dtype, gen, strided=False, index_dtype=torch.int64, V=11):
    name, neg3d, _ = variant
    model = MODELS[name]
    B, C, K, d = shape
    V_out = V if tied else V + 3
    w_in, w_out = make_weights(V, V_out, d, dtype, tied=tied, strided=strided, gen=gen, requires_grad=False)
    # larger weights than the loss tests: the step must move them visibly
    with torch.no_grad():
        w_in.mul_(3)
        if not tied:
            w_out.mul_(3)
    idx = make_indices(model, B, C, K, V, V_out, neg3d=neg3d, padding_idx=padding_idx, pad_frac=0.2,
                       index_dtype=index_dtype, tied=tied, gen=gen)
    return model, w_in, w_out, idx


def _clone_pair(w_in, w_out):
    a = w_in.detach().clone().to(torch.float64)
    return (a, a) if w_out is w_in else (a, w_out.detach().clone().to(torch.float64))


@pytest.mark.parametrize("padding_idx", [-1, 0, 5])
@pytest.mark.parametrize("tied", [False, True], ids=["untied", "tied"])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_step_matches_sequential_reference(variant, shape, tied, padding_idx, gen, one_thread):
    context_update = variant[2]
    model, w_in, w_out, (c, x, n) = _case(variant, shape, tied=tied, padding_idx=padding_idx, dtype=torch.float64,
                                          gen=gen)
    r_in, r_out = _clone_pair(w_in, w_out)
    before = r_in.clone(), r_out.clone()
    lr = 0.3
    loss = _step(model, w_in, w_out, c, x, n, lr, padding_idx, context_update)
    ref_loss = _reference_step(model, r_in, r_out, c, x, n, lr, padding_idx, context_update)
    assert loss.shape == () and loss.dtype == torch.float64
    torch.testing.assert_close(loss.item(), ref_loss, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(w_in, r_in, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(w_out, r_out, rtol=1e-12, atol=1e-12)
    if padding_idx >= 0:  # the padding row is never a target of an update
        assert torch.equal(w_in[padding_idx], before[0][padding_idx])
        assert torch.equal(w_out[padding_idx], before[1][padding_idx])


@pytest.mark.parametrize("index_dtype", [torch.int32, torch.int64, torch.int16], ids=["i32", "i64", "i16"])
@pytest.mark.parametrize("tied", [False, True], ids=["untied", "tied"])
@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_step_strided_float32_and_index_dtypes(variant, tied, index_dtype, gen, one_thread):
    """float32 weights with row stride > d (the gap holds NaN and must stay untouched) vs
    the float64 reference; int32/int64/int16 indices."""
    context_update = variant[2]
    model, w_in, w_out, (c, x, n) = _case(variant, (13, 4, 5, 19), tied=tied, padding_idx=5, dtype=torch.float32,
                                          gen=gen, strided=True, index_dtype=index_dtype)
    r_in, r_out = _clone_pair(w_in, w_out)
    loss = _step(model, w_in, w_out, c, x, n, 0.2, 5, context_update)
    ref_loss = _reference_step(model, r_in, r_out, c, x, n, 0.2, 5, context_update)
    assert loss.dtype == torch.float32
    torch.testing.assert_close(loss.item(), ref_loss, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(w_in.double(), r_in, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(w_out.double(), r_out, rtol=1e-4, atol=1e-5)
    for w in (w_in, w_out):
        gap = w.as_strided((w.size(0), w.stride(0) - w.size(1)), (w.stride(0), 1), w.size(1))
        assert gap.isnan().all(), "the step wrote past column d of a strided row"


@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_sequential_semantics_are_observable(variant, gen, one_thread):
    """With an index repeated across rows, the sequential result differs from one batch
    SGD step, so the reference comparison above does tell the two semantics apart."""
    name, neg3d, context_update = variant
    model, w_in, w_out, (c, x, n) = _case(variant, (7, 3, 4, 17), tied=False, padding_idx=-1, dtype=torch.float64,
                                          gen=gen)
    lr = 0.3
    w0_in, w0_out = w_in.clone().requires_grad_(), w_out.clone().requires_grad_()
    kw = {"in_batch_positives": False} if name == "cbow" else {}
    loss = model.loss(w0_in, w0_out, c, x, n, reduction="sum", **kw)
    g_in, g_out = torch.autograd.grad(loss, [w0_in, w0_out])
    _step(model, w_in, w_out, c, x, n, lr, -1, context_update)
    batch_in, batch_out = w0_in.detach() - lr * g_in, w0_out.detach() - lr * g_out
    assert not (torch.allclose(w_in, batch_in, rtol=1e-6, atol=1e-8)
                and torch.allclose(w_out, batch_out, rtol=1e-6, atol=1e-8))


def _disjoint_rows(model, B, C, K, V, *, neg3d, tied, padding_idx, gen):
    """Indices where no row index repeats across batch rows (inside a row it may).

    Tied: every slot of row b (any role) draws from its own block of rows. Untied: the
    input-table slots and the output-table slots of row b each draw from their own block.
    """
    block = V // B
    assert block >= 2
    base = (torch.arange(B) * block)[:, None]
    draw = lambda shape: base.view((B,) + (1,) * (len(shape) - 1)) + torch.randint(0, block, shape, generator=gen)
    center = draw((B, 1))[:, 0]
    context = draw((B, C))
    negative = draw((B, C, K) if neg3d else (B, K))
    if C >= 2:
        context[:, 1] = context[:, 0]  # repeats inside a row are fine
    if K >= 2:
        negative[..., 1] = negative[..., 0]
    if tied and C >= 1:
        context[:, -1] = center
    if padding_idx == -1:
        context[0, 0] = -1
        negative[1, ...] = -1
        center[2] = -1
    return center, context, negative


@pytest.mark.parametrize("tied", [False, True], ids=["untied", "tied"])
@pytest.mark.parametrize("variant", [("sgns", False, None), ("sgns", True, None), ("cbow", False, "exact")],
                         ids=["sgns-negBK", "sgns-negBCK-C1", "cbow-exact"])
def test_no_repeats_across_rows_equals_batch_sgd(variant, tied, gen, one_thread):
    """No index repeats across rows: one fused step == w -= lr * grad of loss(reduction='sum'),
    and the returned loss == that loss at the starting weights. ([B, C, K] negatives with
    C = 1: with C > 1 a row's centre changes between its context pairs.)"""
    name, neg3d, context_update = variant
    model = MODELS[name]
    B, C, K, d, V = 12, (1 if neg3d else 3), 4, 9, 12 * 7
    c, x, n = _disjoint_rows(model, B, C, K, V, neg3d=neg3d, tied=tied, padding_idx=-1, gen=gen)
    w_in, w_out = make_weights(V, V, d, torch.float64, tied=tied, strided=False, gen=gen, requires_grad=False)
    w_in.mul_(3)
    if not tied:
        w_out.mul_(3)
    lr = 0.3
    p_in = w_in.clone().requires_grad_()
    p_out = p_in if tied else w_out.clone().requires_grad_()
    loss = model.loss(p_in, p_out, c, x, n, reduction="sum")
    grads = torch.autograd.grad(loss, [p_in] if tied else [p_in, p_out])
    step_loss = _step(model, w_in, w_out, c, x, n, lr, -1, context_update)
    torch.testing.assert_close(step_loss, loss.detach(), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(w_in, p_in.detach() - lr * grads[0], rtol=1e-12, atol=1e-12)
    if not tied:
        torch.testing.assert_close(w_out, p_out.detach() - lr * grads[1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_one_thread_is_deterministic(variant, gen, one_thread):
    context_update = variant[2]
    model, w_in, w_out, (c, x, n) = _case(variant, (2048, 5, 5, 33), tied=False, padding_idx=-1,
                                          dtype=torch.float32, gen=gen, V=300)
    runs = []
    for _ in range(2):
        a, b = w_in.clone(), w_out.clone()
        loss = _step(model, a, b, c, x, n, 0.05, -1, context_update)
        runs.append((loss, a, b))
    (l1, a1, b1), (l2, a2, b2) = runs
    assert torch.isfinite(l1) and torch.isfinite(a1).all()
    assert torch.equal(l1, l2) and torch.equal(a1, a2) and torch.equal(b1, b2)
    assert not torch.equal(a1, w_in)  # the step did something


@pytest.mark.parametrize("tied", [False, True], ids=["untied", "tied"])
@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_two_threads_hogwild(variant, tied, gen):
    """2 threads: rows run concurrently without locks. Results must be finite, and the
    loss must match the 1-thread loss loosely (races change the order of updates only)."""
    context_update = variant[2]
    model, w_in, w_out, (c, x, n) = _case(variant, (4096, 5, 5, 32), tied=tied, padding_idx=-1,
                                          dtype=torch.float32, gen=gen, V=500)
    results = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        a = w_in.clone()
        b = a if tied else w_out.clone()
        results[threads] = (_step(model, a, b, c, x, n, 0.025, -1, context_update), a, b)
    (l1, a1, b1), (l2, a2, b2) = results[1], results[2]
    assert torch.isfinite(l2) and torch.isfinite(a2).all() and torch.isfinite(b2).all()
    torch.testing.assert_close(l2, l1, rtol=1e-2, atol=0)
    moved = (a1 - w_in).norm()
    assert moved > 0
    # the two threads start at rows 0 and B/2 at once, so the update order differs from
    # the 1-thread run even without races: observed ~0.04-0.13 of the step's size
    assert (a2 - a1).norm() < 0.5 * moved, "2-thread weights far from the 1-thread ones"


@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_lr_zero_changes_nothing_and_returns_the_sum_loss(variant, gen, one_thread):
    context_update = variant[2]
    model, w_in, w_out, (c, x, n) = _case(variant, (9, 3, 4, 6), tied=False, padding_idx=5, dtype=torch.float64,
                                          gen=gen)
    before = w_in.clone(), w_out.clone()
    loss = _step(model, w_in, w_out, c, x, n, 0.0, 5, context_update)
    assert torch.equal(w_in, before[0]) and torch.equal(w_out, before[1])
    kw = {"in_batch_positives": False} if model is CBOW else {}
    expected = model.loss(w_in, w_out, c, x, n, reduction="sum", padding_idx=5, **kw)
    torch.testing.assert_close(loss, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_aliasing_views_behave_as_tied(variant, gen, one_thread):
    """output_weight a different tensor object over the same memory (w.view(...)): the
    same result as passing w twice."""
    context_update = variant[2]
    model, w, _, (c, x, n) = _case(variant, (9, 3, 4, 6), tied=True, padding_idx=-1, dtype=torch.float64, gen=gen)
    a, b = w.clone(), w.clone()
    la = _step(model, a, a, c, x, n, 0.3, -1, context_update)
    lb = _step(model, b, b.view(b.shape), c, x, n, 0.3, -1, context_update)
    assert torch.equal(la, lb) and torch.equal(a, b)


@pytest.mark.parametrize("model_name", ["sgns", "cbow"])
def test_backward_after_in_place_step_is_the_gradient_at_the_forward(model_name, gen):
    """The forward keeps everything its backward needs, so an in-place step between
    forward and backward does not change the gradient: it is the one at the weights the
    forward saw (what a clone of them gives), and the step did bump the versions."""
    model = MODELS[model_name]
    _, w_in, w_out, (c, x, n) = _case((model_name, False, "exact"), (6, 3, 2, 4), tied=False, padding_idx=-1,
                                      dtype=torch.float64, gen=gen)
    w_in.requires_grad_()
    w_out.requires_grad_()
    clone_in, clone_out = w_in.detach().clone().requires_grad_(), w_out.detach().clone().requires_grad_()
    expected = torch.autograd.grad(model.loss(clone_in, clone_out, c, x, n), [clone_in, clone_out])
    loss = model.loss(w_in, w_out, c, x, n)
    version = w_in._version, w_out._version
    with torch.no_grad():
        _step(model, w_in, w_out, c, x, n, 0.1, -1, "exact")
    assert w_in._version > version[0] and w_out._version > version[1]
    assert not torch.equal(w_in.detach(), clone_in.detach())
    got = torch.autograd.grad(loss, [w_in, w_out])
    for g, e in zip(got, expected):
        torch.testing.assert_close(g, e, rtol=0, atol=0)
