"""The ops on the CUDA kernels against the float64 references, once per kernel device
(cuda_devices.py: a GPU, and the same kernels emulated on the CPU): forward losses,
dense and sparse gradients, gradcheck, opcheck, the fused steps, torch.compile, and the
index checks, including the asynchronous path that reports a bad index at a later call.

The shapes make the kernels' edges show: B not a multiple of a block's rows (8 warps,
one row each), d below a warp's 32 lanes and not a multiple of 4, single rows (7 idle
warps, 31 idle lanes)."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import w2v_ext  # noqa: E402
from w2v_ext.ops import reference  # noqa: E402
from ns_testing import MODELS, build_case, compare_with_reference, loss_kwargs  # noqa: E402
from test_ops_compile import SAMPLES  # noqa: E402

CASES = [
    # model, B, C, K, d, neg3d, in_batch
    ("sgns", 1, 1, 1, 1, False, False),
    ("sgns", 37, 3, 5, 17, False, False),
    ("sgns", 64, 4, 3, 130, True, False),
    ("sgns", 300, 10, 5, 300, False, False),
    ("cbow", 1, 1, 1, 1, False, False),
    ("cbow", 37, 6, 5, 17, False, False),
    ("cbow", 300, 10, 5, 100, False, False),
    ("cbow", 16, 4, 2, 8, False, True),
    ("cbow", 45, 3, 2, 33, False, True),
]
CASE_IDS = [f"{m}-B{B}-C{C}-K{K}-d{d}{'-negBCK' if n3 else ''}{'-inbatch' if ib else ''}"
            for m, B, C, K, d, n3, ib in CASES]

# reduction, sparse, tied, index dtype, strided tables, padding_idx
VARIANTS = [
    ("sum", False, False, torch.int64, False, -1),
    ("none", True, True, torch.int32, True, -1),
    ("pos_neg_mean", True, False, torch.int64, True, 5),
    ("mean", False, True, torch.int32, False, 0),
]
VARIANT_IDS = ["sum-dense-untied-i64", "none-sparse-tied-i32-strided", "posneg-sparse-untied-i64-strided-pad5",
               "mean-dense-tied-i32-pad0"]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_loss_and_gradients_match_reference(kernel_device, case, variant, dtype, gen):
    model_name, B, C, K, d, neg3d, in_batch = case
    reduction, sparse, tied, index_dtype, strided, padding_idx = variant
    w_in, w_out, c, x, n = build_case(MODELS[model_name], B, C, K, d, neg3d=neg3d, tied=tied, strided=strided,
                                      padding_idx=padding_idx, dtype=dtype, index_dtype=index_dtype, V=97, gen=gen,
                                      device=kernel_device.torch_device)
    compare_with_reference(MODELS[model_name], w_in, w_out, c, x, n, reduction=reduction, padding_idx=padding_idx,
                           in_batch=in_batch, sparse=sparse, gen=gen)


@pytest.mark.parametrize("padding_idx", [-1, 0])
@pytest.mark.parametrize("tied", [False, True], ids=["untied", "tied"])
@pytest.mark.parametrize("variant", [("sgns", False), ("sgns", True), ("cbow", False), ("cbow", True)],
                         ids=["sgns-negBK", "sgns-negBCK", "cbow", "cbow-inbatch"])
def test_gradcheck(kernel_device, variant, tied, padding_idx, gen):
    name, flag = variant
    model = MODELS[name]
    in_batch = flag if name == "cbow" else False
    w_in, w_out, c, x, n = build_case(model, 6, 3, 2, 3, neg3d=(name == "sgns" and flag), padding_idx=padding_idx,
                                      tied=tied, V=7, pad_frac=0.25, gen=gen, device=kernel_device.torch_device)
    kw = loss_kwargs(model, "none", padding_idx, in_batch)
    inputs = (w_in,) if tied else (w_in, w_out)
    fn = (lambda w: model.loss(w, w, c, x, n, **kw)) if tied else (lambda a, b: model.loss(a, b, c, x, n, **kw))
    assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-7, rtol=1e-6)


def _on_device(args, device):
    """opcheck's arguments, every tensor a copy on the device (a tensor passed twice stays
    one): the step ops change theirs, and test_ops_compile uses the same samples."""
    moved = {}

    def move(a):
        if not isinstance(a, torch.Tensor):
            return a
        if id(a) not in moved:
            moved[id(a)] = device.tensor(a.detach().clone()).requires_grad_(a.requires_grad)
        return moved[id(a)]
    return tuple(move(a) for a in args)


@pytest.mark.parametrize("op,args", [s[:2] for s in SAMPLES], ids=[s[2] for s in SAMPLES])
def test_opcheck(kernel_device, op, args):
    result = torch.library.opcheck(op, _on_device(args, kernel_device))
    assert all(v == "SUCCESS" for v in result.values()), result


def _disjoint_step_case(model_name, B, C, K, d, V, neg3d, gen, padded):
    """Indices where no two rows share a table row (so the rows' concurrent updates do
    not race), optionally with padding slots and a padded row."""
    per_row = 1 + C + (C * K if neg3d else K)
    assert per_row * B <= V
    ids = torch.randperm(V, generator=gen)[:B * per_row].view(B, per_row)
    center, context = ids[:, 0].clone(), ids[:, 1:1 + C].clone()
    negative = (ids[:, 1 + C:].reshape(B, C, K) if neg3d else ids[:, 1 + C:]).clone()
    if padded:
        center[1] = -1
        context[2, 0] = -1
        negative[3, ..., -1] = -1
        context[4] = -1      # a CBOW row without contexts; skip-gram: no positives
    return center, context, negative


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("tied", [False, True], ids=["untied", "tied"])
@pytest.mark.parametrize("shape", [(24, 3, 2, 33, False), (24, 3, 2, 33, True), (37, 2, 3, 6, False)],
                         ids=["B24-d33", "B24-d33-padded", "B37-d6"])
@pytest.mark.parametrize("model_name,neg3d", [("sgns", False), ("sgns", True), ("cbow", False)],
                         ids=["sgns-negBK", "sgns-negBCK", "cbow"])
@pytest.mark.parametrize("atomic", [True, False], ids=["atomic", "plain-stores"])
def test_step_matches_sequential_reference(kernel_device, model_name, neg3d, shape, tied, dtype, atomic, gen):
    """Rows that share no index do not race, so the concurrent step equals the
    sequential float64 reference, with atomic updates and with plain stores."""
    B, C, K, d, padded = shape
    V = B * (1 + C + C * K)
    center, context, negative = _disjoint_step_case(model_name, B, C, K, d, V, neg3d, gen, padded)
    w_in = torch.randn(V, d, generator=gen, dtype=torch.float64) * 0.3
    w_out = w_in if tied else torch.randn(V, d, generator=gen, dtype=torch.float64) * 0.3
    ref_in = w_in.clone()
    ref_out = ref_in if tied else w_out.clone()
    model = MODELS[model_name]
    ref_loss = model.step_reference(ref_in, ref_out, center, context, negative, 0.1)
    dev = kernel_device.tensor
    g_in = dev(w_in.to(dtype))
    g_out = g_in if tied else dev(w_out.to(dtype))
    loss = model.step(g_in, g_out, dev(center), dev(context), dev(negative), 0.1, atomic_updates=atomic)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == torch.float64 else dict(rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(g_in.cpu().double(), ref_in, **tol)
    if not tied:
        torch.testing.assert_close(g_out.cpu().double(), ref_out, **tol)
    assert abs(float(loss) - ref_loss) <= tol["rtol"] * 10 * max(1.0, abs(ref_loss))


@pytest.mark.parametrize("model_name", ["sgns", "cbow"])
def test_atomic_step_keeps_every_row_update_of_a_shared_word(kernel_device, model_name):
    """4096 rows that all train one word against one context and one noise word: with
    atomic updates (the default) no row's update is lost, so the output rows move by the
    sum of the rows' steps (lr is so small that the rows' order changes that sum by
    ~0.1%). Plain stores on a GPU would keep only a small part of it."""
    B, d, lr = 4096, 64, 1e-7
    w_in = torch.rand(4, d, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 2 - 1
    w_out = torch.zeros(4, d, dtype=torch.float64)
    center = torch.full((B,), 1)
    context = torch.full((B, 1), 2)
    negative = torch.full((B, 1), 3)
    h = w_in[2 if model_name == "cbow" else 1]   # CBOW's hidden vector is its (one) context row
    want = B * lr * 0.5 * h                       # every row: sigmoid(0) = 0.5 away from its label
    positive, noise = (1, 3) if model_name == "cbow" else (2, 3)
    g_in, g_out = kernel_device.tensor(w_in.float()), kernel_device.tensor(w_out.float())
    MODELS[model_name].step(g_in, g_out, *(kernel_device.tensor(t) for t in (center, context, negative)), lr)
    kernel_device.synchronize()
    torch.testing.assert_close(g_out[positive].cpu().double(), want, rtol=1e-2, atol=1e-9)
    torch.testing.assert_close(g_out[noise].cpu().double(), -want, rtol=1e-2, atol=1e-9)


# ----------------------------------------------------------------------------- index checks


def _bad_batch(device):
    c = device.tensor(torch.tensor([1, 2]))
    x = device.tensor(torch.tensor([[3], [10]]))
    n = device.tensor(torch.tensor([[5], [6]]))
    return c, x, n


def test_index_out_of_range_raises_in_the_call_in_sync_mode(kernel_device):
    w = kernel_device.tensor(torch.randn(10, 4))
    c, x, n = _bad_batch(kernel_device)
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


@pytest.mark.parametrize("index_dtype", [torch.int32, torch.int64], ids=["i32", "i64"])
@pytest.mark.parametrize("bad", ["rows", -2, 2 ** 31 - 1], ids=["past-end", "negative", "int32-max"])
@pytest.mark.parametrize("where", ["center", "context", "negative"])
@pytest.mark.parametrize("model_name,step", [("sgns", False), ("sgns", True), ("cbow", False), ("cbow", True)],
                         ids=["sgns-loss", "sgns-step", "cbow-loss", "cbow-step"])
def test_index_check_names_the_argument(kernel_device, model_name, step, where, bad, index_dtype):
    """Every index argument of every op is checked against its own table (10 input rows,
    12 output rows: one past the input table is a valid output row and vice versa)."""
    model = MODELS[model_name]
    w_in = kernel_device.tensor(torch.randn(10, 4))
    w_out = kernel_device.tensor(torch.randn(12, 4))
    idx = {"center": torch.tensor([1, 2, 3]), "context": torch.tensor([[3, 4], [5, 6], [7, 8]]),
           "negative": torch.tensor([[5], [6], [9]])}
    weight = "input_weight" if where == model.input_index else "output_weight"
    rows = 10 if weight == "input_weight" else 12
    bad = rows if bad == "rows" else bad
    idx[where].view(-1)[-1] = bad
    c, x, n = (kernel_device.tensor(idx[k].to(index_dtype)) for k in ("center", "context", "negative"))
    position = ", ".join(str(p) for p in divmod(idx[where].numel() - 1, idx[where].size(-1))) \
        if idx[where].dim() == 2 else str(idx[where].numel() - 1)
    w2v_ext.set_sync_index_checks(True)
    try:
        with pytest.raises(IndexError, match=rf"{where}\[{position}\] = {bad} is out of range for {weight} with "
                                             rf"{rows} rows"):
            if step:
                model.step(w_in, w_out, c, x, n, 0.1)
            else:
                model.loss(w_in, w_out, c, x, n)
    finally:
        w2v_ext.set_sync_index_checks(False)
    # the boundary: the last row of each table is valid
    idx[where].view(-1)[-1] = rows - 1
    c, x, n = (kernel_device.tensor(idx[k].to(index_dtype)) for k in ("center", "context", "negative"))
    model.loss(w_in, w_out, c, x, n)
    w2v_ext.check_index_errors()


@pytest.mark.parametrize("op", ["step", "loss_sparse", "loss_dense", "cbow_step"])
def test_index_out_of_range_raises_later_and_skips_the_work(kernel_device, op):
    """Without sync mode the bad call does not wait: the error surfaces at a later call or
    at check_index_errors(), and neither the bad call nor the calls after it change a
    weight or write out of bounds."""
    w = kernel_device.tensor(torch.randn(10, 4)).requires_grad_(op.startswith("loss"))
    c, x, n = _bad_batch(kernel_device)
    x_ok = kernel_device.tensor(torch.tensor([[3], [4]]))
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
    kernel_device.synchronize()
    assert torch.equal(w.detach(), before)
    run(x_ok)                       # the state was reset: calls work again
    w2v_ext.check_index_errors()
    assert not torch.equal(w.detach(), before)


def test_index_checks_keep_a_bounded_backlog(kernel_device):
    from w2v_ext.ops import _cuda_index_errors as errors
    w = kernel_device.tensor(torch.randn(50, 8))
    c = kernel_device.tensor(torch.randint(0, 50, (64,)))
    x = kernel_device.tensor(torch.randint(0, 50, (64, 4)))
    n = kernel_device.tensor(torch.randint(0, 50, (64, 3)))
    for _ in range(errors.MAX_PENDING + 10):
        w2v_ext.sgns_step_(w, w, c, x, n, 0.01)
        assert len(errors.tracker_for(w.device).pending) <= errors.MAX_PENDING
    w2v_ext.check_index_errors()
    assert len(errors.tracker_for(w.device).pending) == 0


def test_mixed_devices_raise(kernel_device):
    if kernel_device.name == "emulated":
        pytest.skip("the emulated device's tensors are CPU tensors: there is no other device to mix in")
    w = torch.randn(10, 4, device="cuda")
    with pytest.raises(ValueError, match="center is on cpu"):
        w2v_ext.sgns_loss(w, w, torch.tensor([1]), torch.tensor([[2]], device="cuda"),
                          torch.tensor([[3]], device="cuda"))


def test_compile_matches_eager(kernel_device, gen):
    V, d, B = 50, 16, 32
    dev = kernel_device.tensor
    w_in = dev(torch.randn(V, d, generator=gen)).requires_grad_(True)
    w_out = dev(torch.randn(V, d, generator=gen)).requires_grad_(True)
    c = dev(torch.randint(0, V, (B,), generator=gen))
    x = dev(torch.randint(0, V, (B, 4), generator=gen))
    n = dev(torch.randint(0, V, (B, 5), generator=gen))
    f = lambda a, b: w2v_ext.sgns_loss(a, b, c, x, n, reduction="mean")  # noqa: E731
    eager = f(w_in, w_out)
    compiled = torch.compile(f, fullgraph=True)
    torch.testing.assert_close(compiled(w_in, w_out), eager)
    ge = torch.autograd.grad(eager, [w_in, w_out])
    gc = torch.autograd.grad(compiled(w_in, w_out), [w_in, w_out])
    for a, b in zip(gc, ge):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    ref = reference.sgns_loss_reference(w_in.double(), w_out.double(), c, x, n, reduction="mean")
    torch.testing.assert_close(eager.double(), ref, rtol=1e-5, atol=1e-6)
