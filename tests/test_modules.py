"""w2v_ext.SkipGramNS / w2v_ext.CBOWNS: construction, initialisation, forward against the
functional ops and the float64 references, training with SGD / Adam / SparseAdam and the
fused sgd_step_, padding_idx, state_dict round trips."""
from __future__ import annotations

import io

import pytest
import torch

import w2v_ext
from ns_testing import CBOW, SGNS, assert_close_to_reference, check_sparse_grad, touched_rows

CLASSES = {"sgns": (w2v_ext.SkipGramNS, SGNS), "cbow": (w2v_ext.CBOWNS, CBOW)}


def _planted(gen, V=24, B=64, C=2, K=4):
    """Words i and i + V/2 always co-occur: centre i has contexts i + V/2 (twice for
    C = 2), negatives uniform over the rest. Indices start at 1 (0 stays free for padding)."""
    half = V // 2
    center = torch.randint(1, half, (B,), generator=gen)
    context = (center + half)[:, None].repeat(1, C)
    negative = torch.randint(1, V, (B, K), generator=gen)
    clash = (negative == context[:, :1]) | (negative == center[:, None])
    negative[clash] = (negative[clash] % (V - 1)) + 1
    negative[(negative == context[:, :1]) | (negative == center[:, None])] = 0  # rare: make it padding
    return center, context, negative


@pytest.mark.parametrize("kind", ["sgns", "cbow"])
def test_tied_and_untied_tables(kind):
    cls, _ = CLASSES[kind]
    tied = cls(11, 4, tied=True)
    untied = cls(11, 4)
    assert tied.output is tied.input and len(list(tied.parameters())) == 1
    assert untied.output is not untied.input and len(list(untied.parameters())) == 2
    assert untied.embeddings is untied.input.weight
    assert "tied=True" in repr(tied) and "sparse=False" in repr(tied)


@pytest.mark.parametrize("kind", ["sgns", "cbow"])
def test_word2vec_and_normal_init(kind):
    cls, _ = CLASSES[kind]
    V, d = 500, 8
    m = cls(V, d)   # init='word2vec' is the default
    w = m.input.weight.detach()
    bound = 0.5 / d
    assert w.abs().max() <= bound
    assert w.min() < -0.9 * bound and w.max() > 0.9 * bound    # spread over the whole range
    assert abs(w.mean()) < 0.05 * bound                          # and centred
    assert torch.equal(m.output.weight, torch.zeros(V, d))
    tied = cls(V, d, tied=True)
    assert tied.input.weight.abs().max() <= bound and tied.input.weight.abs().max() > 0.9 * bound
    normal = cls(V, d, init="normal")
    assert 0.9 < normal.input.weight.std() < 1.1 and 0.9 < normal.output.weight.std() < 1.1
    padded = cls(V, d, padding_idx=3)
    assert not padded.input.weight[3].any() and padded.input.weight[4].any()
    with pytest.raises(ValueError, match="init must be one of"):
        cls(V, d, init="xavier")
    with pytest.raises(ValueError, match="must be positive"):
        cls(0, d)
    with pytest.raises(ValueError, match="must be positive"):
        cls(V, 0)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("tied", [False, True], ids=["untied", "tied"])
@pytest.mark.parametrize("kind", ["sgns", "cbow"])
def test_forward_matches_functional_and_reference(kind, tied, sparse, gen):
    cls, spec = CLASSES[kind]
    m = cls(24, 6, tied=tied, sparse=sparse, padding_idx=0, init="normal", dtype=torch.float64)
    c, x, n = _planted(gen, B=16)
    x[3, 1] = 0
    n[5, 0] = 0
    c[7] = 0
    for reduction in ("sum", "mean", "pos_neg_mean", "none"):
        extra = {"in_batch_positives": True} if kind == "cbow" else {}
        loss = m(c, x, n, reduction=reduction, **extra)
        ref = spec.reference(m.input.weight.detach(), m.output.weight.detach(), c, x, n, reduction=reduction,
                             padding_idx=0, **extra)
        func = spec.loss(m.input.weight, m.output.weight, c, x, n, reduction=reduction, padding_idx=0, **extra)
        assert_close_to_reference(loss, ref, torch.float64, f"module {reduction}")
        assert torch.equal(loss, func)
    m.zero_grad()
    m(c, x, n).backward()
    in_rows, out_rows = touched_rows(spec, c, x, n, 0)
    r_in = m.input.weight.detach().clone().requires_grad_()
    r_out = r_in if tied else m.output.weight.detach().clone().requires_grad_()
    ref_grads = torch.autograd.grad(spec.reference(r_in, r_out, c, x, n, padding_idx=0),
                                    [r_in] if tied else [r_in, r_out])
    params = [m.input.weight] if tied else [m.input.weight, m.output.weight]
    allowed = [torch.unique(torch.cat([in_rows, out_rows]))] if tied else [in_rows, out_rows]
    for p, rg, rows in zip(params, ref_grads, allowed):
        g = p.grad
        if sparse:
            # .backward() leaves an uncoalesced-flagged copy (PyTorch's gradient accumulation
            # re-wraps sparse tensors, as for nn.Embedding(sparse=True)); its rows are unique.
            check_sparse_grad(g.coalesce(), p.shape, rows, rg, 0, "module grad")
            assert g._nnz() == g.coalesce()._nnz()
            g = g.to_dense()
        assert_close_to_reference(g, rg, torch.float64, "module grad")


def _train(m, kind, optimizer, data, steps, in_batch=False):
    c, x, n = data
    extra = {"in_batch_positives": True} if in_batch else {}
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = m(c, x, n, reduction="mean", **extra)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with torch.no_grad():
        final = m(c, x, n, reduction="mean", **extra).item()
    return losses[0], final


OPTIMIZERS = {
    "sgd-dense": (False, lambda p: torch.optim.SGD(p, lr=10.0)),
    "sgd-sparse": (True, lambda p: torch.optim.SGD(p, lr=10.0)),
    "adam-dense": (False, lambda p: torch.optim.Adam(p, lr=0.05)),
    "sparseadam": (True, lambda p: torch.optim.SparseAdam(list(p), lr=0.05)),
}


@pytest.mark.parametrize("optim", list(OPTIMIZERS))
@pytest.mark.parametrize("tied", [False, True], ids=["untied", "tied"])
@pytest.mark.parametrize("kind", ["sgns", "cbow"])
def test_training_lowers_the_loss(kind, tied, optim, gen):
    """A few optimizer steps on a tiny planted problem lower the loss clearly."""
    cls, _ = CLASSES[kind]
    sparse, make = OPTIMIZERS[optim]
    m = cls(24, 8, tied=tied, sparse=sparse, padding_idx=0, init="word2vec" if not tied else "normal")
    if tied:
        with torch.no_grad():
            m.input.weight.mul_(0.1)
    data = _planted(gen)
    first, final = _train(m, kind, make(m.parameters()), data, steps=60)
    assert final < 0.5 * first, (first, final)   # observed ratios <= 0.15
    for p in m.parameters():
        assert p.grad.is_sparse == sparse
        assert torch.isfinite(p).all()
        assert not p[0].any(), "padding row 0 was updated"


@pytest.mark.parametrize("kind", ["sgns", "cbow"])
def test_sparse_training_leaves_padding_row_alone(kind, gen):
    cls, _ = CLASSES[kind]
    m = cls(24, 8, sparse=True, padding_idx=0, init="normal")
    before = m.input.weight[0].clone(), m.output.weight[0].clone()
    assert before[0].abs().sum() == 0   # nn.Embedding zeroes its padding row
    with torch.no_grad():
        m.output.weight[0] = 1.0        # a nonzero padding row: must stay as it is
    c, x, n = _planted(gen)
    n[:, 0] = 0
    x[::3, 1] = 0
    opt = torch.optim.SparseAdam(list(m.parameters()), lr=0.1)
    for _ in range(5):
        opt.zero_grad()
        m(c, x, n).backward()
        assert 0 not in m.input.weight.grad.coalesce()._indices()[0].tolist()
        assert 0 not in m.output.weight.grad.coalesce()._indices()[0].tolist()
        opt.step()
    assert torch.equal(m.input.weight[0], before[0])
    assert torch.equal(m.output.weight[0], torch.ones(8))


@pytest.mark.parametrize("tied", [False, True], ids=["untied", "tied"])
@pytest.mark.parametrize("kind", ["sgns", "cbow"])
def test_sgd_step_(kind, tied, gen, one_thread):
    """model.sgd_step_ == the functional fused step; repeated steps lower the loss; the
    parameters stay usable by autograd afterwards."""
    cls, spec = CLASSES[kind]
    m = cls(24, 8, tied=tied, padding_idx=0, init="normal", dtype=torch.float64)
    with torch.no_grad():
        m.input.weight.mul_(0.1)
        m.output.weight.mul_(0.1)
    c, x, n = _planted(gen)
    w_in = m.input.weight.detach().clone()
    w_out = w_in if tied else m.output.weight.detach().clone()
    extra = {"context_update": "word2vec"} if kind == "cbow" else {}
    loss = m.sgd_step_(c, x, n, 0.05, **extra)
    ref = spec.step(w_in, w_out, c, x, n, 0.05, padding_idx=0, **extra)
    assert torch.equal(loss, ref)
    assert torch.equal(m.input.weight.detach(), w_in) and torch.equal(m.output.weight.detach(), w_out)
    assert m.input.weight.requires_grad and m.input.weight.grad is None
    with torch.no_grad():
        start = m(c, x, n, reduction="mean").item()
    for _ in range(30):
        m.sgd_step_(c, x, n, 0.05, **extra)
    with torch.no_grad():
        end = m(c, x, n, reduction="mean").item()
    assert end < 0.7 * start, (start, end)
    m(c, x, n).backward()   # version counters did not break autograd
    assert torch.isfinite(m.input.weight.grad).all()


@pytest.mark.parametrize("kind", ["sgns", "cbow"])
def test_padding_idx_handling(kind, gen):
    """padding_idx=None: the value -1 pads (the functional default); padding_idx=p: the
    value p pads; a negative padding_idx follows nn.Embedding (counts from the end), so
    padding_idx=-1 on a module means row V-1, not the value -1."""
    cls, spec = CLASSES[kind]
    c, x, n = _planted(gen, B=10)
    extra = {"in_batch_positives": False} if kind == "cbow" else {}
    m = cls(24, 5, init="normal", dtype=torch.float64)
    assert m.padding_idx == -1
    x2 = x.clone()
    x2[0, 0] = -1
    ref = spec.reference(m.input.weight.detach(), m.output.weight.detach(), c, x2, n, padding_idx=-1, **extra)
    assert_close_to_reference(m(c, x2, n), ref, torch.float64, "padding_idx=None")

    m5 = cls(24, 5, padding_idx=5, init="normal", dtype=torch.float64)
    x5 = x.clone()
    x5[1, :] = 5
    ref = spec.reference(m5.input.weight.detach(), m5.output.weight.detach(), c, x5, n, padding_idx=5, **extra)
    assert_close_to_reference(m5(c, x5, n), ref, torch.float64, "padding_idx=5")
    with pytest.raises(IndexError, match="= -1 is out of range"):
        m5(c, x2, n)

    m_last = cls(24, 5, padding_idx=-1)
    assert m_last.padding_idx == 23 and m_last.input.padding_idx == 23
    with pytest.raises(IndexError, match="= -1 is out of range"):
        m_last(c, x2, n)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("tied", [False, True], ids=["untied", "tied"])
@pytest.mark.parametrize("kind", ["sgns", "cbow"])
def test_state_dict_round_trip(kind, tied, sparse, gen):
    cls, _ = CLASSES[kind]
    m = cls(24, 6, tied=tied, sparse=sparse, padding_idx=0, init="normal")
    buf = io.BytesIO()
    torch.save(m.state_dict(), buf)
    buf.seek(0)
    state = torch.load(buf, weights_only=True)
    fresh = cls(24, 6, tied=tied, sparse=sparse, padding_idx=0)   # different (word2vec) init
    assert not torch.equal(fresh.input.weight, m.input.weight)
    fresh.load_state_dict(state)
    assert torch.equal(fresh.input.weight, m.input.weight) and torch.equal(fresh.output.weight, m.output.weight)
    assert (fresh.output is fresh.input) == tied
    c, x, n = _planted(gen, B=12)
    assert torch.equal(fresh(c, x, n), m(c, x, n))
    if tied:
        # still one table after loading: a step through one name shows through the other
        with torch.no_grad():
            fresh.input.weight[1] += 1
        assert torch.equal(fresh.output.weight[1], fresh.input.weight[1])
