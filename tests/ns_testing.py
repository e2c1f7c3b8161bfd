"""Input builders, participation masks and comparison helpers shared by the op tests.

The masks here restate the padding rules of the docstrings (w2v_ext.ops._terms)
independently, so that a mistake there is not copied into the expectations.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

import w2v_ext
from w2v_ext.ops import reference

REDUCTIONS = ("sum", "mean", "pos_neg_mean", "none")

# Tolerances of an op's result against the float64 reference, by the op's dtype.
# atol is relative to the largest magnitude of the expected tensor (at least 1), so one
# table serves losses that are O(1) (means) and O(1e5) (sums over 4096 x 40 terms).
TOLERANCES = {
    torch.float32: dict(rtol=1e-4, atol=2e-5),
    torch.float64: dict(rtol=1e-10, atol=1e-11),
}


def assert_close_to_reference(actual: torch.Tensor, expected: torch.Tensor, dtype: torch.dtype, what: str):
    assert actual.shape == expected.shape, f"{what}: shape {tuple(actual.shape)} != {tuple(expected.shape)}"
    assert not actual.isnan().any(), f"{what}: NaN in the result (an output element left unwritten?)"
    tol = TOLERANCES[dtype]
    scale = max(1.0, expected.abs().max().item()) if expected.numel() else 1.0
    torch.testing.assert_close(actual.detach().to(torch.float64), expected.detach(), rtol=tol["rtol"],
                               atol=tol["atol"] * scale, msg=lambda m: f"{what}: {m}")


# ----------------------------------------------------------------------------- models


@dataclass(frozen=True)
class Model:
    name: str
    loss: object
    reference: object
    step: object
    step_reference: object
    # which of center/context/negative index input_weight (the others index output_weight)
    input_index: str


SGNS = Model("sgns", w2v_ext.sgns_loss, reference.sgns_loss_reference, w2v_ext.sgns_step_,
             reference.sgns_step_reference, "center")
CBOW = Model("cbow", w2v_ext.cbow_ns_loss, reference.cbow_ns_loss_reference, w2v_ext.cbow_ns_step_,
             reference.cbow_ns_step_reference, "context")
MODELS = {"sgns": SGNS, "cbow": CBOW}


def table_of(model: Model, index_name: str) -> str:
    return "input_weight" if index_name == model.input_index else "output_weight"


# ----------------------------------------------------------------------------- inputs


def make_weights(V_in: int, V_out: int, d: int, dtype: torch.dtype, *, tied: bool, strided: bool,
                 gen: torch.Generator, requires_grad: bool = True, device=None):
    """(input_weight, output_weight) on `device` (default CPU). Tied: one tensor, passed
    as both (V_out ignored).

    Strided: each table is big[2:, :d] of a wider matrix whose extra rows and columns are
    NaN, so a kernel that reads past d, uses d as the row stride or ignores the storage
    offset produces NaN or wrong rows.
    Values are N(0, 0.36 d^-1/2) so scores <u, v> are O(1) for every d, and a row scored
    against itself (tied) stays well below 20 (reference.py's F.softplus switches to
    softplus(x) = x above 20, an error of up to e^-20 = 2e-9 that float64 tolerances see;
    test_saturated_scores covers large scores against an exact formula instead).
    """
    def table(V):
        scale = 0.6 * d ** -0.25
        if strided:
            # two NaN rows before the table too: the view starts at a storage offset
            big = torch.full((V + 2, d + 5), float("nan"), dtype=dtype)
            big[2:, :d] = torch.randn(V, d, generator=gen, dtype=torch.float64).to(dtype) * scale
            w = big.to(device)[2:, :d]
            assert w.stride(0) == d + 5 and w.storage_offset() == 2 * (d + 5)
        else:
            w = (torch.randn(V, d, generator=gen, dtype=torch.float64) * scale).to(dtype).to(device)
        return w.requires_grad_(requires_grad)

    w_in = table(V_in)
    return (w_in, w_in) if tied else (w_in, table(V_out))


def _draw(shape, V, padding_idx, pad_frac, gen):
    t = torch.randint(0, V, shape, generator=gen)
    if pad_frac > 0 and t.numel():
        t[torch.rand(shape, generator=gen) < pad_frac] = padding_idx
    return t


def make_indices(model: Model, B: int, C: int, K: int, V_in: int, V_out: int, *, neg3d: bool = False,
                 padding_idx: int = -1, pad_frac: float = 0.2, index_dtype=torch.int64, tied: bool = False,
                 gen: torch.Generator, device=None):
    """Random (center [B], context [B, C], negative [B, K] or [B, C, K]) on `device`
    (default CPU) with duplicates inside rows and across rows, padding slots, a row whose
    centre is padding and (CBOW) a row whose contexts are all padding."""
    V_center, V_context = (V_in, V_out) if model.input_index == "center" else (V_out, V_in)
    center = _draw((B,), V_center, padding_idx, pad_frac, gen)
    context = _draw((B, C), V_context, padding_idx, pad_frac, gen)
    negative = _draw((B, C, K) if neg3d else (B, K), V_out, padding_idx, pad_frac, gen)
    # duplicates inside rows
    if C >= 2:
        context[:, 1] = context[:, 0]
    if K >= 2:
        negative[..., 1] = negative[..., 0]
    if model.name == "sgns" and C >= 1 and K >= 1:
        # the same output row as a positive and a negative of one row
        if neg3d:
            negative[:, 0, -1] = context[:, 0]
        else:
            negative[:, -1] = context[:, 0]
    if tied and C >= 1:
        # one row addressed through both tables inside one row
        context[:, -1] = center
    # duplicates across rows
    if B >= 2:
        center[1] = center[0]
        context[-1] = context[0]
        negative[B // 2] = negative[0]
    # whole padded rows
    if B >= 4:
        center[2] = padding_idx
    if B >= 5 and C >= 1:
        context[3] = padding_idx
    if B >= 6 and neg3d and C >= 1:
        context[4, 0] = padding_idx      # its [C, K] negatives row 0 drops out
    return tuple(t.to(index_dtype).to(device) for t in (center, context, negative))


def build_case(model: Model, B, C, K, d, *, neg3d=False, padding_idx=-1, tied=False, strided=False,
               dtype=torch.float64, index_dtype=torch.int64, V=13, pad_frac=0.2, gen, device=None):
    V_in, V_out = V, (V if tied else V + 4)
    w_in, w_out = make_weights(V_in, V_out, d, dtype, tied=tied, strided=strided, gen=gen, device=device)
    idx = make_indices(model, B, C, K, V_in, V_out, neg3d=neg3d, padding_idx=padding_idx, pad_frac=pad_frac,
                       index_dtype=index_dtype, tied=tied, gen=gen, device=device)
    return (w_in, w_out) + idx


# ----------------------------------------------------------------------------- masks


def participation(model: Model, center, context, negative, padding_idx):
    """(row [B], context [B, C], negative) masks of the slots that take part."""
    center, context, negative = (t.to(torch.int64) for t in (center, context, negative))
    p = padding_idx
    if model.name == "sgns":
        row = center != p
        ctx = (context != p) & row[:, None]
        owner = ctx[..., None] if negative.dim() == 3 else row[:, None]
        return row, ctx, (negative != p) & owner
    ctx_ok = context != p
    row = (center != p) & ctx_ok.any(1)
    return row, ctx_ok & row[:, None], (negative != p) & row[:, None]


def touched_rows(model: Model, center, context, negative, padding_idx):
    """(input rows, output rows) addressed by taking-part slots, as sorted int64 tensors."""
    row, ctx, neg = participation(model, center, context, negative, padding_idx)
    center, context, negative = (t.to(torch.int64) for t in (center, context, negative))
    parts = {"center": center[row], "context": context[ctx], "negative": negative[neg]}
    inp = parts[model.input_index]
    out = torch.cat([v for k, v in parts.items() if k != model.input_index])
    return torch.unique(inp), torch.unique(out)


# ----------------------------------------------------------------------------- running


def loss_kwargs(model: Model, reduction, padding_idx, in_batch=False, sparse=False):
    kw = dict(reduction=reduction, padding_idx=padding_idx, sparse=sparse)
    if model.name == "cbow":
        kw["in_batch_positives"] = in_batch
    return kw


def reference_kwargs(model: Model, reduction, padding_idx, in_batch=False):
    kw = dict(reduction=reduction, padding_idx=padding_idx)
    if model.name == "cbow":
        kw["in_batch_positives"] = in_batch
    return kw


def reference_loss_and_grads(model: Model, w_in, w_out, center, context, negative, *, reduction, padding_idx,
                             in_batch=False, upstream=None):
    """The float64 reference loss and gradients (one gradient when tied)."""
    tied = w_in is w_out
    r_in = w_in.detach().to(torch.float64).requires_grad_()
    r_out = r_in if tied else w_out.detach().to(torch.float64).requires_grad_()
    loss = model.reference(r_in, r_out, center.long(), context.long(), negative.long(),
                           **reference_kwargs(model, reduction, padding_idx, in_batch))
    params = [r_in] if tied else [r_in, r_out]
    grads = torch.autograd.grad(loss, params, grad_outputs=None if upstream is None else upstream.double(),
                                allow_unused=True)
    grads = [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads)]
    return loss.detach(), grads


def op_loss_and_grads(model: Model, w_in, w_out, center, context, negative, *, reduction, padding_idx,
                      in_batch=False, sparse=False, upstream=None):
    tied = w_in is w_out
    loss = model.loss(w_in, w_out, center, context, negative,
                      **loss_kwargs(model, reduction, padding_idx, in_batch, sparse))
    params = [w_in] if tied else [w_in, w_out]
    grads = torch.autograd.grad(loss, params, grad_outputs=None if upstream is None else upstream.to(loss.dtype))
    return loss.detach(), list(grads)


def check_sparse_grad(g: torch.Tensor, shape, allowed_rows: torch.Tensor, dense_expected: torch.Tensor,
                      padding_idx: int, what: str):
    """A sparse gradient: COO, coalesced, rows within `allowed_rows` (the rows of taking-part
    slots), every row with a nonzero expected gradient present, no padding row."""
    assert g.layout == torch.sparse_coo, f"{what}: layout {g.layout}, expected sparse_coo"
    assert tuple(g.shape) == tuple(shape), f"{what}: shape {tuple(g.shape)} != {tuple(shape)}"
    assert g.is_coalesced(), f"{what}: sparse gradient is not coalesced"
    rows = g._indices()[0]
    assert torch.equal(rows, torch.unique(rows)), f"{what}: rows not unique and sorted: {rows.tolist()}"
    allowed = set(allowed_rows.tolist())
    extra = set(rows.tolist()) - allowed
    assert not extra, f"{what}: rows {sorted(extra)} are not addressed by any taking-part slot"
    if padding_idx >= 0:
        assert padding_idx not in set(rows.tolist()), f"{what}: has a row for padding_idx={padding_idx}"
    needed = set(torch.nonzero(dense_expected.abs().sum(1) > 0).flatten().tolist())
    missing = needed - set(rows.tolist())
    assert not missing, f"{what}: rows {sorted(missing)} with nonzero gradient are missing"
    assert g._values().shape == (rows.numel(), shape[1])


def compare_with_reference(model: Model, w_in, w_out, center, context, negative, *, reduction, padding_idx,
                           in_batch=False, sparse=False, gen: torch.Generator):
    """Forward loss and both gradients of the op vs the float64 reference."""
    dtype = w_in.dtype
    tied = w_in is w_out
    B = center.size(0)
    upstream = torch.randn(B, generator=gen, dtype=torch.float64).to(center.device) if reduction == "none" else None
    loss, grads = op_loss_and_grads(model, w_in, w_out, center, context, negative, reduction=reduction,
                                    padding_idx=padding_idx, in_batch=in_batch, sparse=sparse, upstream=upstream)
    ref_loss, ref_grads = reference_loss_and_grads(model, w_in, w_out, center, context, negative,
                                                   reduction=reduction, padding_idx=padding_idx, in_batch=in_batch,
                                                   upstream=upstream)
    assert loss.dtype == dtype
    assert_close_to_reference(loss, ref_loss, dtype, "loss")
    in_rows, out_rows = touched_rows(model, center, context, negative, padding_idx)
    names = ["grad (tied)"] if tied else ["grad input_weight", "grad output_weight"]
    allowed = [torch.unique(torch.cat([in_rows, out_rows]))] if tied else [in_rows, out_rows]
    for g, rg, name, rows, w in zip(grads, ref_grads, names, allowed, (w_in, w_out)):
        assert g.dtype == dtype, f"{name}: dtype {g.dtype}"
        if sparse:
            check_sparse_grad(g, w.shape, rows, rg, padding_idx, name)
            g = g.to_dense()
        else:
            assert g.layout == torch.strided, f"{name}: layout {g.layout} with sparse=False"
        assert_close_to_reference(g, rg, dtype, name)
    return loss, grads
