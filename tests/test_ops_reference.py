"""w2v_ext.sgns_loss / cbow_ns_loss against the float64 plain-torch references.

Forward loss and both gradients (torch.autograd.grad, under a random upstream gradient
for reduction='none'), on random inputs with duplicate indices inside and across rows,
padding slots (padding_idx=-1 and a real row, 0 or 5), tied and untied weights (untied
tables of different lengths), strided rows, int32/int64 (and narrower) indices,
float32 (against the float64 reference, TOLERANCES table) and float64 (tight).
"""
from __future__ import annotations

import pytest
import torch

import w2v_ext
from ns_testing import (CBOW, MODELS, REDUCTIONS, SGNS, TOLERANCES, assert_close_to_reference, build_case,
                        compare_with_reference, loss_kwargs, make_weights)

# (B, C, K, d): every B in {1, 2, 37}, C and K in {1, 3, 20}, d in {1, 3, 8, 17, 100, 128,
# 300} (mostly not multiples of a vector width) appears at least once.
SHAPES = [
    (1, 1, 1, 1),
    (1, 3, 20, 300),
    (2, 1, 3, 3),
    (2, 20, 1, 8),
    (2, 3, 3, 17),
    (37, 3, 3, 100),
    (37, 20, 20, 17),
    (37, 1, 20, 128),
    (37, 20, 3, 300),
    (37, 3, 1, 8),
]
SHAPE_IDS = [f"B{b}-C{c}-K{k}-d{d}" for b, c, k, d in SHAPES]
DTYPES = [torch.float32, torch.float64]
DTYPE_IDS = ["f32", "f64"]

# The "variant" of each model: skip-gram's negative form, CBOW's in-batch positives.
VARIANTS = [("sgns", False), ("sgns", True), ("cbow", False), ("cbow", True)]
VARIANT_IDS = ["sgns-negBK", "sgns-negBCK", "cbow", "cbow-inbatch"]


def _run(variant, shape, *, reduction, tied, padding_idx, dtype, gen, sparse=False, strided=False,
         index_dtype=torch.int64, V=13, pad_frac=0.2):
    name, flag = variant
    model = MODELS[name]
    B, C, K, d = shape
    neg3d = flag if name == "sgns" else False
    in_batch = flag if name == "cbow" else False
    case = build_case(model, B, C, K, d, neg3d=neg3d, padding_idx=padding_idx, tied=tied, strided=strided,
                      dtype=dtype, index_dtype=index_dtype, V=V, pad_frac=pad_frac, gen=gen)
    return compare_with_reference(model, *case, reduction=reduction, padding_idx=padding_idx, in_batch=in_batch,
                                  sparse=sparse, gen=gen)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("padding_idx", [-1, 5])
@pytest.mark.parametrize("tied", [False, True], ids=["untied", "tied"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_dense_matches_reference(variant, shape, reduction, tied, padding_idx, dtype, gen):
    _run(variant, shape, reduction=reduction, tied=tied, padding_idx=padding_idx, dtype=dtype, gen=gen)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("padding_idx", [-1, 0, 5])
@pytest.mark.parametrize("tied", [False, True], ids=["untied", "tied"])
@pytest.mark.parametrize("reduction", ["none", "pos_neg_mean"])
@pytest.mark.parametrize("shape", SHAPES[1::2] + [(37, 3, 3, 100)], ids=SHAPE_IDS[1::2] + ["B37-C3-K3-d100"])
@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_sparse_matches_reference(variant, shape, reduction, tied, padding_idx, dtype, gen):
    """sparse=True: coalesced COO gradients holding only rows of taking-part slots, equal
    (to_dense) to the reference."""
    _run(variant, shape, reduction=reduction, tied=tied, padding_idx=padding_idx, dtype=dtype, gen=gen,
         sparse=True)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("weights", ["untied", "tied", "strided", "strided-tied"])
@pytest.mark.parametrize("index_dtype", [torch.int32, torch.int64, torch.int16, torch.uint8],
                         ids=["i32", "i64", "i16", "u8"])
@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_index_dtypes_and_strided_rows(variant, index_dtype, weights, sparse, gen):
    """Index dtypes (int32/int64 go to the kernels as they are, others are converted) and
    weights whose row stride is larger than d (the gap holds NaN)."""
    padding_idx = 5  # uint8 cannot hold -1
    for shape, dtype in (((37, 3, 20, 17), torch.float32), ((5, 20, 3, 3), torch.float64),
                         ((4, 3, 3, 128), torch.float64)):
        _run(variant, shape, reduction="none", tied=weights.endswith("tied"), padding_idx=padding_idx,
             dtype=dtype, gen=gen, sparse=sparse, strided=weights.startswith("strided"), index_dtype=index_dtype)


def test_non_contiguous_index_tensors(gen):
    """Index tensors that are strided views (every other column, a transpose)."""
    for model, neg3d in ((SGNS, False), (SGNS, True), (CBOW, False)):
        w_in, w_out, c, x, n = build_case(model, 9, 6, 4, 7, neg3d=neg3d, padding_idx=-1, gen=gen)
        x_view = x[:, ::2]
        n_view = n[:, ::2] if neg3d else n.transpose(0, -1).contiguous().transpose(0, -1)
        c_view = torch.stack([c, c], 1)[:, 1]
        assert not x_view.is_contiguous() and not n_view.is_contiguous() and not c_view.is_contiguous()
        compare_with_reference(model, w_in, w_out, c_view, x_view, n_view, reduction="none", padding_idx=-1, gen=gen)


def test_poison_fixture_is_active():
    """Outputs made by the ops' allocator start as NaN in these tests."""
    from w2v_ext.ops import _views
    assert _views.POISON_OUTPUTS
    assert _views.new_output(torch.empty(2), 3).isnan().all()


def test_mixed_index_dtypes(gen):
    """center int32 with context/negative int64 (the op converts them to one dtype)."""
    for model, neg3d in ((SGNS, False), (SGNS, True), (CBOW, False)):
        w_in, w_out, c, x, n = build_case(model, 9, 3, 4, 7, neg3d=neg3d, padding_idx=0, gen=gen)
        compare_with_reference(model, w_in, w_out, c.int(), x, n.to(torch.int16), reduction="sum",
                               padding_idx=0, gen=gen)


# B = 4096, a couple of cases only (the reference is slow there); vocabulary 1000 so that
# rows repeat thousands of times across the batch.
BIG_CASES = [
    (("sgns", False), (4096, 3, 20, 17), torch.float32, torch.int32, "none", False),
    (("sgns", True), (4096, 3, 3, 100), torch.float64, torch.int64, "pos_neg_mean", True),
    (("cbow", False), (4096, 20, 3, 8), torch.float32, torch.int64, "sum", True),
    (("cbow", True), (4096, 3, 3, 8), torch.float32, torch.int32, "pos_neg_mean", False),
]


@pytest.mark.parametrize("variant,shape,dtype,index_dtype,reduction,sparse", BIG_CASES,
                         ids=["sgns-f32-i32", "sgns3-f64-sparse", "cbow-f32-sparse", "cbow-inbatch-f32-i32"])
def test_large_batch_matches_reference(variant, shape, dtype, index_dtype, reduction, sparse, gen):
    # in-batch CBOW is O(B^2 d) in the op and builds [B, B] float64 tensors in the
    # reference: one (untied) run there
    for tied in ((False,) if variant == ("cbow", True) else (False, True)):
        _run(variant, shape, reduction=reduction, tied=tied, padding_idx=-1, dtype=dtype, gen=gen, sparse=sparse,
             index_dtype=index_dtype, V=1000, pad_frac=0.1)


# ----------------------------------------------------------------------------- edges


EDGE_SHAPES = [
    (3, 0, 4, 5),    # empty context, C = 0
    (3, 4, 0, 5),    # no negatives, K = 0
    (3, 0, 0, 5),    # neither
    (1, 1, 0, 1),
]


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", EDGE_SHAPES, ids=["C0", "K0", "C0K0", "B1C1K0d1"])
@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_empty_context_or_negatives(variant, shape, reduction, sparse, gen):
    for tied in (False, True):
        _run(variant, shape, reduction=reduction, tied=tied, padding_idx=-1, dtype=torch.float64, gen=gen,
             sparse=sparse)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("padding_idx", [-1, 0, 5])
@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_all_padding(variant, padding_idx, sparse, gen):
    """Every row padding (every centre; for CBOW also every context): all losses 0, all
    gradients 0, sparse gradients with no rows."""
    name, flag = variant
    model = MODELS[name]
    for dtype in DTYPES:
        for tied in (False, True):
            w_in, w_out = make_weights(10, 12, 6, dtype, tied=tied, strided=False, gen=gen)
            B, C, K = 4, 3, 2
            center = torch.full((B,), padding_idx)
            context = torch.randint(0, 10, (B, C), generator=gen)
            negative = torch.randint(0, 10, (B, C, K) if (name == "sgns" and flag) else (B, K), generator=gen)
            if padding_idx >= 0:  # keep the other slots real
                context[context == padding_idx] = padding_idx + 1
                negative[negative == padding_idx] = padding_idx + 1
            cases = [(center, context, negative)]
            if name == "cbow":  # also: centres real, but every context slot padding
                cases.append((torch.randint(6, 10, (B,), generator=gen), torch.full((B, C), padding_idx), negative))
            for c, x, n in cases:
                for reduction in REDUCTIONS:
                    compare_with_reference(model, w_in, w_out, c, x, n, reduction=reduction, padding_idx=padding_idx,
                                           in_batch=flag if name == "cbow" else False, sparse=sparse, gen=gen)
                    kw = loss_kwargs(model, reduction, padding_idx, flag if name == "cbow" else False, sparse)
                    loss = model.loss(w_in, w_out, c, x, n, **kw)
                    assert torch.equal(loss.detach(), torch.zeros_like(loss)), (reduction, loss)
                    grads = torch.autograd.grad(loss.sum(), [w_in] if tied else [w_in, w_out])
                    for g in grads:
                        if sparse:
                            assert g._nnz() == 0, f"sparse gradient of an all-padding batch has rows {g._indices()}"
                        assert not g.to_dense().any()


@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_single_row_table(variant, gen):
    """V = 1 (the row stride of a one-row table is taken from d)."""
    name, flag = variant
    model = MODELS[name]
    for tied in (False, True):
        w_in, w_out = make_weights(1, 1, 9, torch.float64, tied=tied, strided=False, gen=gen)
        B, C, K = 3, 2, 2
        center = torch.tensor([0, -1, 0])
        context = torch.tensor([[0, 0], [0, -1], [-1, 0]])
        negative = torch.zeros((B, C, K) if (name == "sgns" and flag) else (B, K), dtype=torch.long)
        for sparse in (False, True):
            compare_with_reference(model, w_in, w_out, center, context, negative, reduction="none", padding_idx=-1,
                                   in_batch=flag if name == "cbow" else False, sparse=sparse, gen=gen)


def test_frozen_output_table(gen):
    """Only input_weight requires grad: the op still differentiates it correctly."""
    for model in (SGNS, CBOW):
        w_in, w_out, c, x, n = build_case(model, 11, 3, 4, 8, gen=gen)
        w_out = w_out.detach()
        loss = model.loss(w_in, w_out, c, x, n, reduction="sum")
        g, = torch.autograd.grad(loss, [w_in])
        r_in = w_in.detach().clone().requires_grad_()
        ref = model.reference(r_in, w_out, c, x, n, reduction="sum")
        rg, = torch.autograd.grad(ref, [r_in])
        assert_close_to_reference(loss, ref.detach(), torch.float64, "loss")
        assert_close_to_reference(g, rg, torch.float64, "grad input_weight")


def test_parameter_and_embedding_weights(gen):
    """nn.Parameter and nn.Embedding.weight work as tables (the tutorial's two kinds)."""
    emb = torch.nn.Embedding(13, 6, dtype=torch.float64)
    par = torch.nn.Parameter(torch.randn(17, 6, generator=gen, dtype=torch.float64))
    _, _, c, x, n = build_case(SGNS, 8, 3, 2, 6, gen=gen)           # center < 13, context/negative < 17
    compare_with_reference(SGNS, emb.weight, par, c, x, n, reduction="mean", padding_idx=-1, gen=gen)
    _, _, c, x, n = build_case(SGNS, 8, 3, 2, 6, tied=True, gen=gen)  # all < 13
    compare_with_reference(SGNS, emb.weight, emb.weight, c, x, n, reduction="mean", padding_idx=-1, gen=gen)


def test_tolerance_table_is_meaningful(gen):
    """The float32 tolerance is tight enough to see a one-ulp-of-bf16-sized error, i.e.
    the comparison in these tests can fail."""
    w_in, w_out, c, x, n = build_case(SGNS, 37, 3, 3, 17, dtype=torch.float32, gen=gen)
    loss = w2v_ext.sgns_loss(w_in, w_out, c, x, n, reduction="mean")
    ref = SGNS.reference(w_in.double(), w_out.double(), c, x, n, reduction="mean")
    assert_close_to_reference(loss, ref.detach(), torch.float32, "loss")
    with pytest.raises(AssertionError):
        assert_close_to_reference(loss * (1 + 1e-3), ref.detach(), torch.float32, "perturbed loss")
    assert TOLERANCES[torch.float64]["rtol"] < 1e-9


# ----------------------------------------------------------------------------- threads


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_thread_count_does_not_change_results(variant, sparse, gen):
    """Forward (per-row losses) and backward are bit-identical with 1 and 2 threads."""
    name, flag = variant
    model = MODELS[name]
    B = 4096 if not (name == "cbow" and flag) else 1024
    for tied, dtype in ((False, torch.float32), (True, torch.float64)):
        w_in, w_out, c, x, n = build_case(model, B, 5, 4, 33, neg3d=(name == "sgns" and flag), tied=tied, dtype=dtype,
                                          V=300, pad_frac=0.1, gen=gen)
        upstream = torch.randn(B, generator=gen, dtype=dtype)
        kw = loss_kwargs(model, "none", -1, flag if name == "cbow" else False, sparse)
        results = []
        for threads in (1, 2, 1, 2):
            torch.set_num_threads(threads)
            loss = model.loss(w_in, w_out, c, x, n, **kw)
            grads = torch.autograd.grad(loss, [w_in] if tied else [w_in, w_out], grad_outputs=upstream)
            results.append((loss.detach(), [g.to_dense() if sparse else g for g in grads]))
        base_loss, base_grads = results[0]
        assert not base_loss.isnan().any()
        for loss, grads in results[1:]:
            assert torch.equal(loss, base_loss)
            for g, bg in zip(grads, base_grads):
                assert torch.equal(g, bg), f"gradient differs across thread counts: max {(g - bg).abs().max()}"


# ----------------------------------------------------------------------------- saturation


def _softplus_exact(x: torch.Tensor) -> torch.Tensor:
    return x.clamp_min(0) + torch.log1p(torch.exp(-x.abs()))


@pytest.mark.parametrize("dtype,scores", [
    (torch.float64, [-60.0, -30.0, -21.0, -5.0, 0.0, 5.0, 21.0, 30.0, 60.0]),
    (torch.float32, [-100.0, -30.0, -17.0, -1.0, 1.0, 17.0, 30.0, 100.0]),
], ids=["f64", "f32"])
@pytest.mark.parametrize("model_name", ["sgns", "cbow"])
def test_saturated_scores(model_name, dtype, scores):
    """Scores far into the tails: every loss term relative-exact (log1p(exp(-|x|)) form, no
    overflow, no threshold), gradient coefficients exact to an absolute eps. reference.py cannot check this:
    its F.softplus returns x itself above 20, an absolute error of up to 2e-9."""
    model = MODELS[model_name]
    s = torch.tensor(scores, dtype=torch.float64)
    n = len(s)
    tiny = dict(rtol=1e-12, atol=0.0) if dtype == torch.float64 else dict(rtol=2e-6, atol=1e-37)
    # d = 1: the input row is 1, output row i is s[i] (row n is +60: a positive that costs ~0)
    w_in = torch.ones(1, 1, dtype=dtype, requires_grad=True)
    out = torch.cat([s, torch.tensor([60.0], dtype=torch.float64)])
    w_out = out.to(dtype)[:, None].clone().requires_grad_()
    pad = -1
    rows = torch.arange(n)
    if model_name == "sgns":
        # rows 0..n-1: one positive (target i); rows n..2n-1: one negative (target i)
        center = torch.zeros(2 * n, dtype=torch.long)
        context = torch.cat([rows, torch.full((n,), pad)])[:, None]
        negative = torch.cat([torch.full((n,), pad), rows])[:, None]
        exp_loss = torch.cat([_softplus_exact(-s), _softplus_exact(s)])
    else:
        # rows 0..n-1: centre i (label 1); rows n..2n-1: centre n (+60) and negative i
        center = torch.cat([rows, torch.full((n,), n)])
        context = torch.zeros(2 * n, 1, dtype=torch.long)
        negative = torch.cat([torch.full((n,), pad), rows])[:, None]
        exp_loss = torch.cat([_softplus_exact(-s), _softplus_exact(s) + _softplus_exact(torch.tensor(-60.0,
                                                                                        dtype=torch.float64))])
    loss = model.loss(w_in, w_out, center, context, negative, reduction="none")
    assert torch.isfinite(loss).all()
    torch.testing.assert_close(loss.detach().double(), exp_loss, **tiny)
    # positives only (upstream 1 on rows 0..n-1), then negatives only
    for part, coef in ((slice(0, n), -torch.sigmoid(-s)), (slice(n, 2 * n), torch.sigmoid(s))):
        upstream = torch.zeros(2 * n, dtype=dtype)
        upstream[part] = 1
        g_in, g_out = torch.autograd.grad(loss, [w_in, w_out], grad_outputs=upstream, retain_graph=True)
        assert torch.isfinite(g_in).all() and torch.isfinite(g_out).all()
        # the coefficient sigmoid(s) - label is accurate to an absolute eps, like torch's
        # binary_cross_entropy_with_logits backward (for s = 60, label 1 both give 0, not
        # -8.8e-27): relative accuracy is not asked for here.
        torch.testing.assert_close(g_out[:n, 0].double(), coef, rtol=tiny["rtol"], atol=torch.finfo(dtype).eps)
        if model_name == "sgns":   # d loss / d h = sum_i coef_i * s_i
            torch.testing.assert_close(g_in[0, 0].double(), (coef * s).sum(), rtol=1e-6, atol=1e-6)
