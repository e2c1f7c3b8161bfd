"""torch.autograd.gradcheck of both losses on tiny float64 inputs (dense gradients);
sparse gradients are checked against the dense ones. gradgradcheck is not run: the
backward ops have no derivative of their own (double backward is not supported)."""
from __future__ import annotations

import pytest
import torch

from ns_testing import MODELS, REDUCTIONS, build_case, loss_kwargs

VARIANTS = [("sgns", False), ("sgns", True), ("cbow", False), ("cbow", True)]
VARIANT_IDS = ["sgns-negBK", "sgns-negBCK", "cbow", "cbow-inbatch"]


def _loss_fn(model, tied, c, x, n, reduction, padding_idx, in_batch, sparse=False):
    kw = loss_kwargs(model, reduction, padding_idx, in_batch, sparse)
    if tied:
        return lambda w: model.loss(w, w, c, x, n, **kw)
    return lambda w_in, w_out: model.loss(w_in, w_out, c, x, n, **kw)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("padding_idx", [-1, 0])
@pytest.mark.parametrize("tied", [False, True], ids=["untied", "tied"])
@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_gradcheck(variant, tied, padding_idx, reduction, gen):
    name, flag = variant
    model = MODELS[name]
    in_batch = flag if name == "cbow" else False
    w_in, w_out, c, x, n = build_case(model, 6, 3, 2, 3, neg3d=(name == "sgns" and flag), padding_idx=padding_idx,
                                      tied=tied, V=7, pad_frac=0.25, gen=gen)
    inputs = (w_in,) if tied else (w_in, w_out)
    fn = _loss_fn(model, tied, c, x, n, reduction, padding_idx, in_batch)
    assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-7, rtol=1e-6)


@pytest.mark.parametrize("padding_idx", [-1, 0])
@pytest.mark.parametrize("tied", [False, True], ids=["untied", "tied"])
@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_strided_gradcheck(variant, tied, padding_idx, gen):
    """Row stride larger than d (weights are big[:, :d] slices)."""
    name, flag = variant
    model = MODELS[name]
    in_batch = flag if name == "cbow" else False
    w_in, w_out, c, x, n = build_case(model, 5, 2, 2, 3, neg3d=(name == "sgns" and flag), padding_idx=padding_idx,
                                      tied=tied, strided=True, V=6, gen=gen)
    assert w_in.stride(0) > w_in.size(1)
    inputs = (w_in,) if tied else (w_in, w_out)
    fn = _loss_fn(model, tied, c, x, n, "none", padding_idx, in_batch)
    assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-7, rtol=1e-6)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("padding_idx", [-1, 0])
@pytest.mark.parametrize("tied", [False, True], ids=["untied", "tied"])
@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_sparse_equals_dense(variant, tied, padding_idx, reduction, gen):
    """sparse=True gradients equal the (gradchecked) dense ones, under a random upstream
    gradient for reduction='none'."""
    name, flag = variant
    model = MODELS[name]
    in_batch = flag if name == "cbow" else False
    w_in, w_out, c, x, n = build_case(model, 6, 3, 2, 3, neg3d=(name == "sgns" and flag), padding_idx=padding_idx,
                                      tied=tied, V=7, pad_frac=0.25, gen=gen)
    inputs = (w_in,) if tied else (w_in, w_out)
    upstream = torch.randn(6, generator=gen, dtype=torch.float64) if reduction == "none" else None
    results = []
    for sparse in (False, True):
        loss = _loss_fn(model, tied, c, x, n, reduction, padding_idx, in_batch, sparse)(*inputs)
        grads = torch.autograd.grad(loss, inputs, grad_outputs=upstream)
        results.append((loss.detach(), grads))
    (dense_loss, dense_grads), (sparse_loss, sparse_grads) = results
    assert torch.equal(dense_loss, sparse_loss)
    for dg, sg in zip(dense_grads, sparse_grads):
        assert dg.layout == torch.strided and sg.layout == torch.sparse_coo
        torch.testing.assert_close(sg.to_dense(), dg, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("model_name", ["sgns", "cbow"])
def test_double_backward_raises_instead_of_silently_wrong(model_name, gen):
    """No second derivative is registered: asking for one must raise, not return zeros."""
    model = MODELS[model_name]
    w_in, w_out, c, x, n = build_case(model, 4, 2, 2, 3, V=6, gen=gen)
    loss = model.loss(w_in, w_out, c, x, n)
    g_in, _ = torch.autograd.grad(loss, [w_in, w_out], create_graph=True)
    with pytest.raises(RuntimeError, match="no autograd formula"):
        torch.autograd.grad(g_in.pow(2).sum(), [w_in])
