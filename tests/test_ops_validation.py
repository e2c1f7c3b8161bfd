"""Bad inputs raise clear exceptions naming the argument, for the two losses and the two
fused steps; out-of-range indices never reach a kernel (weights unchanged); an empty
batch is fine."""
from __future__ import annotations

import math

import pytest
import torch

import w2v_ext
from ns_testing import CBOW, MODELS, REDUCTIONS, SGNS, table_of

V_IN, V_OUT, D = 10, 20, 4   # untied tables of different lengths: a range check against
                             # the wrong table shows


def _call(entry, model, w_in, w_out, c, x, n, **kw):
    if entry == "loss":
        return model.loss(w_in, w_out, c, x, n, **kw)
    return model.step(w_in, w_out, c, x, n, kw.pop("lr", 0.1), **kw)


def _valid(model, gen, B=6, C=3, K=2, neg3d=False):
    w_in = torch.randn(V_IN, D, generator=gen)
    w_out = torch.randn(V_OUT, D, generator=gen)
    v_center, v_context = (V_IN, V_OUT) if model is SGNS else (V_OUT, V_IN)
    c = torch.randint(0, v_center, (B,), generator=gen)
    x = torch.randint(0, v_context, (B, C), generator=gen)
    n = torch.randint(0, V_OUT, (B, C, K) if neg3d else (B, K), generator=gen)
    return w_in, w_out, c, x, n


def _rows(model, name):
    return V_IN if table_of(model, name) == "input_weight" else V_OUT


ENTRIES = ["loss", "step"]
MODEL_IDS = ["sgns", "cbow"]


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("name", ["center", "context", "negative"])
@pytest.mark.parametrize("model_name", MODEL_IDS)
def test_index_out_of_range_names_index_and_table(model_name, name, entry, gen):
    """index >= rows of the table it addresses: IndexError naming the index, the position,
    the value and the table (skip-gram: center -> input_weight, context/negative ->
    output_weight; CBOW: context -> input_weight, center/negative -> output_weight).
    A failed step leaves both tables untouched."""
    model = MODELS[model_name]
    rows, table = _rows(model, name), table_of(model, name)
    for value in (rows, rows + 1000, 2**31 + 3):
        for padding_idx in (-1, 5):
            w_in, w_out, c, x, n = _valid(model, gen)
            idx = {"center": c, "context": x, "negative": n}[name]
            pos = (4,) if idx.dim() == 1 else (4, 1)
            idx[pos] = value
            before = w_in.clone(), w_out.clone()
            where = ", ".join(map(str, pos))
            with pytest.raises(IndexError, match=rf"^{name}\[{where}\] = {value} is out of range for {table} "
                                                 rf"with {rows} rows"):
                _call(entry, model, w_in, w_out, c, x, n, padding_idx=padding_idx)
            assert torch.equal(w_in, before[0]) and torch.equal(w_out, before[1])


@pytest.mark.parametrize("name", ["center", "context", "negative"])
@pytest.mark.parametrize("model_name", MODEL_IDS)
def test_range_is_checked_against_the_right_table(model_name, name, gen):
    """V_IN <= index < V_OUT is valid exactly for the indices that address output_weight."""
    model = MODELS[model_name]
    w_in, w_out, c, x, n = _valid(model, gen)
    idx = {"center": c, "context": x, "negative": n}[name]
    idx.view(-1)[0] = V_IN
    if table_of(model, name) == "output_weight":
        assert torch.isfinite(model.loss(w_in, w_out, c, x, n))
    else:
        with pytest.raises(IndexError, match=f"for input_weight with {V_IN} rows"):
            model.loss(w_in, w_out, c, x, n)


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("name", ["center", "context", "negative"])
@pytest.mark.parametrize("model_name", MODEL_IDS)
def test_negative_index_that_is_not_padding(model_name, name, entry, gen):
    """-2 with padding_idx=-1, and -1 with padding_idx=5, are errors, not padding."""
    model = MODELS[model_name]
    for padding_idx, value in ((-1, -2), (5, -1), (0, -1)):
        w_in, w_out, c, x, n = _valid(model, gen)
        idx = {"center": c, "context": x, "negative": n}[name]
        idx.view(-1)[-1] = value
        before = w_in.clone(), w_out.clone()
        with pytest.raises(IndexError, match=rf"^{name}\[[0-9, ]+\] = {value} is out of range for "
                                             rf"{table_of(model, name)}.*padding_idx={padding_idx}"):
            _call(entry, model, w_in, w_out, c, x, n, padding_idx=padding_idx)
        assert torch.equal(w_in, before[0]) and torch.equal(w_out, before[1])


@pytest.mark.parametrize("model_name", MODEL_IDS)
def test_out_of_range_in_a_padded_row_still_raises(model_name, gen):
    """Range checks cover every slot, also those of rows that take no part."""
    model = MODELS[model_name]
    w_in, w_out, c, x, n = _valid(model, gen)
    c[2] = -1
    n[2, 0] = V_OUT
    with pytest.raises(IndexError, match=r"negative\[2, 0\]"):
        model.loss(w_in, w_out, c, x, n)


def test_sgns_negative_3d_out_of_range_position(gen):
    w_in, w_out, c, x, n = _valid(SGNS, gen, neg3d=True)
    n[3, 2, 1] = -7
    with pytest.raises(IndexError, match=r"^negative\[3, 2, 1\] = -7 is out of range for output_weight"):
        w2v_ext.sgns_loss(w_in, w_out, c, x, n)


@pytest.mark.parametrize("index_dtype", [torch.int32, torch.int64])
def test_first_bad_index_reported_with_threads(index_dtype, gen):
    """With 2 threads and several bad entries the first one (in memory order) is named."""
    torch.set_num_threads(2)
    w_in, w_out, c, x, n = _valid(SGNS, gen, B=50000, C=4, K=3)
    n[40000, 1] = V_OUT + 5
    n[30000, 2] = V_OUT + 7
    n[45000, 0] = -3
    c, x, n = c.to(index_dtype), x.to(index_dtype), n.to(index_dtype)
    for _ in range(3):
        with pytest.raises(IndexError, match=rf"^negative\[30000, 2\] = {V_OUT + 7} "):
            w2v_ext.sgns_loss(w_in, w_out, c, x, n)


@pytest.mark.parametrize("bad_dtype", [torch.float32, torch.float64, torch.bool, torch.complex64])
@pytest.mark.parametrize("name", ["center", "context", "negative"])
@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("model_name", MODEL_IDS)
def test_non_integer_index_dtype(model_name, entry, name, bad_dtype, gen):
    model = MODELS[model_name]
    w_in, w_out, c, x, n = _valid(model, gen)
    args = {"center": c, "context": x, "negative": n}
    args[name] = args[name].to(bad_dtype)
    with pytest.raises(TypeError, match=rf"^{name} must be an integer tensor.*{bad_dtype}"):
        _call(entry, model, w_in, w_out, args["center"], args["context"], args["negative"])


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("model_name", MODEL_IDS)
def test_index_not_a_tensor(model_name, entry, gen):
    model = MODELS[model_name]
    w_in, w_out, c, x, n = _valid(model, gen)
    with pytest.raises(TypeError, match="^context must be an integer torch.Tensor, got list"):
        _call(entry, model, w_in, w_out, c, x.tolist(), n)


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("model_name", MODEL_IDS)
def test_index_on_another_device(model_name, entry, gen):
    model = MODELS[model_name]
    w_in, w_out, c, x, n = _valid(model, gen)
    with pytest.raises(ValueError, match="^negative is on meta but the weights are on cpu"):
        _call(entry, model, w_in, w_out, c, x, n.to("meta"))


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("model_name", MODEL_IDS)
def test_bad_weights(model_name, entry, gen):
    model = MODELS[model_name]
    w_in, w_out, c, x, n = _valid(model, gen)

    def expect(exc, pattern, a, b):
        with pytest.raises(exc, match=pattern):
            _call(entry, model, a, b, c, x, n)

    expect(ValueError, r"input_weight and output_weight must have the same embedding dim, got 4 and 5",
           w_in, torch.randn(V_OUT, 5))
    expect(TypeError, r"same dtype, got torch.float32 and torch.float64", w_in, w_out.double())
    for half in (torch.float16, torch.bfloat16):
        expect(TypeError, rf"^input_weight must be float32 or float64, got {half}", w_in.to(half), w_out)
        expect(TypeError, rf"^output_weight must be float32 or float64, got {half}", w_in, w_out.to(half))
    expect(TypeError, r"^output_weight must be float32 or float64, got torch.int64", w_in, w_out.long())
    # column stride != 1: the transpose of a [D, V] matrix
    expect(ValueError, r"^input_weight must have unit stride along dim 1", torch.randn(D, V_IN).t(), w_out)
    expect(ValueError, r"^output_weight must have unit stride along dim 1", w_in, torch.randn(D, V_OUT).t())
    expect(ValueError, r"^output_weight must have unit stride along dim 1", w_in, torch.randn(V_OUT, 2 * D)[:, ::2])
    # overlapping rows (an expanded row)
    expect(ValueError, r"^input_weight rows overlap", torch.randn(1, D).expand(V_IN, D), w_out)
    # 1-D / 3-D
    expect(ValueError, r"^input_weight must be 2-D \[num_rows, dim\], got shape \(40,\)", w_in.reshape(-1), w_out)
    expect(ValueError, r"^output_weight must be 2-D", w_in, w_out[None])
    # not tensors, sparse tensors
    expect(TypeError, r"^input_weight must be a torch.Tensor.*got list", w_in.tolist(), w_out)
    expect(TypeError, r"^output_weight must be a dense \(strided\) tensor", w_in, w_out.to_sparse())


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("model_name", MODEL_IDS)
def test_bad_shapes(model_name, entry, gen):
    model = MODELS[model_name]
    w_in, w_out, c, x, n = _valid(model, gen)

    def expect(pattern, c_, x_, n_):
        with pytest.raises(ValueError, match=pattern):
            _call(entry, model, w_in, w_out, c_, x_, n_)

    expect(r"^context must be \[B, C\] with B = center's 6, got shape \(5, 3\)", c, x[:5], n)
    expect(r"^negative must start with B = center's 6, got shape \(7, 2\)", c, x, torch.cat([n, n[:1]]))
    expect(r"^center must be 1-D, got shape \(6, 1\)", c[:, None], x, n)
    expect(r"^context must be 2-D, got shape \(6, 3, 1\)", c, x[..., None], n)
    expect(r"^context must be 2-D, got shape \(18,\)", c, x.reshape(-1), n)
    if model is SGNS:
        expect(r"^negative must be 2-D or 3-D, got shape \(6, 2, 1, 1\)", c, x, n[:, :, None, None])
        n3 = torch.zeros(6, 2, 2, dtype=torch.long)  # [B, C, K] with C = 2 != 3
        expect(r"^negative of shape \[B, C, K\] must have C = context's 3, got shape \(6, 2, 2\)", c, x, n3)
    else:
        n3 = torch.zeros(6, 3, 2, dtype=torch.long)  # word2vec.c's per-context form: skip-gram only
        expect(r"^negative must be 2-D, got shape \(6, 3, 2\)", c, x, n3)


@pytest.mark.parametrize("model_name", MODEL_IDS)
def test_bad_reduction(model_name, gen):
    model = MODELS[model_name]
    w_in, w_out, c, x, n = _valid(model, gen)
    for bad in ("avg", "Mean", "", None):
        with pytest.raises(ValueError, match=r"^reduction must be one of \('sum', 'mean', 'pos_neg_mean', 'none'\)"):
            model.loss(w_in, w_out, c, x, n, reduction=bad)


def test_bad_context_update(gen):
    w_in, w_out, c, x, n = _valid(CBOW, gen)
    before = w_in.clone()
    for bad in ("mean", "Exact", None):
        with pytest.raises(ValueError, match=r"^context_update must be 'exact' or 'word2vec', got"):
            w2v_ext.cbow_ns_step_(w_in, w_out, c, x, n, 0.1, context_update=bad)
    assert torch.equal(w_in, before)


@pytest.mark.parametrize("model_name", MODEL_IDS)
def test_bad_learning_rate(model_name, gen):
    model = MODELS[model_name]
    w_in, w_out, c, x, n = _valid(model, gen)
    before = w_in.clone(), w_out.clone()
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError, match=r"^lr must be finite, got"):
            model.step(w_in, w_out, c, x, n, bad)
    with pytest.raises(TypeError, match=r"^lr must be a Python float, got Tensor"):
        model.step(w_in, w_out, c, x, n, torch.tensor(0.1))
    assert torch.equal(w_in, before[0]) and torch.equal(w_out, before[1])


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("model_name", MODEL_IDS)
def test_bad_padding_idx(model_name, entry, gen):
    model = MODELS[model_name]
    w_in, w_out, c, x, n = _valid(model, gen)
    for bad, got in ((True, "bool"), (1.0, "float"), (None, "NoneType")):
        with pytest.raises(TypeError, match=rf"^padding_idx must be an int, got {got}"):
            _call(entry, model, w_in, w_out, c, x, n, padding_idx=bad)


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("model_name", MODEL_IDS)
def test_padding_idx_outside_int64(model_name, entry, gen):
    """A padding_idx no index can hold: an error that names padding_idx (today a
    RuntimeError from the op schema's argument parser)."""
    model = MODELS[model_name]
    w_in, w_out, c, x, n = _valid(model, gen)
    for bad in (2**70, -2**70):
        with pytest.raises((ValueError, TypeError, RuntimeError), match="padding_idx"):
            _call(entry, model, w_in, w_out, c, x, n, padding_idx=bad)


@pytest.mark.parametrize("model_name", MODEL_IDS)
def test_padding_idx_beyond_the_tables(model_name, gen):
    """padding_idx may be any int: slots equal to it are padding even when it is >= V or
    far outside int32 (int32 indices are not wrapped to match it)."""
    model = MODELS[model_name]
    w_in, w_out, c, x, n = _valid(model, gen)
    base = model.loss(w_in, w_out, c, x, n, reduction="none")
    x2 = x.clone()
    x2[0, 0] = 1000
    masked = model.loss(w_in, w_out, c, x2, n, reduction="none", padding_idx=1000)
    assert torch.equal(masked[1:], base[1:]) and not torch.equal(masked[0], base[0])
    # 2**32 - 1 is -1 in 32 bits: an int32 -1 must not be taken for padding
    x3 = x.int().clone()
    x3[0, 0] = -1
    with pytest.raises(IndexError, match=r"context\[0, 0\] = -1"):
        model.loss(w_in, w_out, c.int(), x3, n.int(), padding_idx=2**32 - 1)


# ----------------------------------------------------------------------------- empty batch


@pytest.mark.parametrize("model_name,neg3d", [("sgns", False), ("sgns", True), ("cbow", False)],
                         ids=["sgns-negBK", "sgns-negBCK", "cbow"])
def test_empty_batch(model_name, neg3d, gen):
    """B = 0: a zero loss ([0] for 'none'), zero gradients (sparse: no rows), and a step
    that returns 0 and leaves the weights alone."""
    model = MODELS[model_name]
    for dtype in (torch.float32, torch.float64):
        w_in, w_out, c, x, n = _valid(model, gen, B=0, neg3d=neg3d)
        w_in, w_out = w_in.to(dtype).requires_grad_(), w_out.to(dtype).requires_grad_()
        for sparse in (False, True):
            for reduction in REDUCTIONS:
                kw = dict(reduction=reduction, sparse=sparse)
                if model is CBOW:
                    kw["in_batch_positives"] = reduction == "mean"
                loss = model.loss(w_in, w_out, c, x, n, **kw)
                assert loss.dtype == dtype
                if reduction == "none":
                    assert loss.shape == (0,)
                else:
                    assert loss.shape == () and loss.item() == 0.0
                g_in, g_out = torch.autograd.grad(loss.sum(), [w_in, w_out])
                for g, w in ((g_in, w_in), (g_out, w_out)):
                    assert g.shape == w.shape
                    assert (g.layout == torch.sparse_coo) == sparse
                    if sparse:
                        assert g._nnz() == 0
                    assert not g.to_dense().any()
        with torch.no_grad():
            before = w_in.clone(), w_out.clone()
            kw = {"context_update": "word2vec"} if model is CBOW else {}
            step_loss = model.step(w_in, w_out, c, x, n, 0.1, **kw)
            assert step_loss.shape == () and step_loss.item() == 0.0
            assert torch.equal(w_in, before[0]) and torch.equal(w_out, before[1])


@pytest.mark.parametrize("model_name, in_batch, per_context", [("sgns", False, False), ("sgns", False, True),
                                                               ("cbow_ns", False, False), ("cbow_ns", True, False)])
def test_saved_rows_follow_the_native_term_rule(model_name, in_batch, per_context):
    """The ops size SavedGrad rows by the native rule; a row of another size is refused
    by the kernel binding before any kernel writes (it would overrun)."""
    from w2v_ext import _native
    from w2v_ext.ops import _terms, _views
    B, C, K, d = 5, 3, 4, 8
    center, context = torch.zeros(B, dtype=torch.int64), torch.zeros(B, C, dtype=torch.int64)
    negative = torch.zeros(B, C, K, dtype=torch.int64) if per_context else torch.zeros(B, K, dtype=torch.int64)
    terms_per_row = {"sgns": _terms.sgns_terms_per_row, "cbow_ns": _terms.cbow_ns_terms_per_row}[model_name]
    count = terms_per_row(center, context, negative, in_batch)
    expected = {("sgns", False): C + K, ("sgns", True): C + C * K, ("cbow_ns", False): 1 + K,
                ("cbow_ns", True): B + K}[model_name, in_batch or per_context]
    assert count == expected
    kernels, weight = _native.cpu, torch.randn(10, d)
    forward = kernels.sgns_forward if model_name == "sgns" else kernels.cbow_ns_forward
    for terms in (count - 1, count + 1):
        saved = [torch.zeros(B, terms)] + [torch.zeros(B, d) for _ in range(3)]
        with pytest.raises(ValueError, match=f"saved: rows of {terms} terms, the batch has {count}"):
            forward(weights=_views.embedding_pair(kernels, weight, weight),
                    batch=_views.ns_batch(kernels, center, context, negative, -1, in_batch, 0),
                    pos_loss=torch.zeros(B).data_ptr(), neg_loss=torch.zeros(B).data_ptr(),
                    saved=_views.saved_grad(kernels, *saved, keep=True), threads=1)
