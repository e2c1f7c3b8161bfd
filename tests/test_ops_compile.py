"""torch.library.opcheck of every custom op, and torch.compile(fullgraph=True) of the
losses (dense and sparse gradients) and of the fused step, against eager.

Compilation is slow on small machines (the first one ~20 s on 2 cores), so the compile
tests are few and each checks several things."""
from __future__ import annotations

import pytest
import torch

import w2v_ext
from ns_testing import CBOW, SGNS, build_case

ops = torch.ops.w2v_ext


def _samples():
    gen = torch.Generator().manual_seed(1234)
    out = []
    for model, neg3d, in_batch, padding_idx, index_dtype, tied in (
            (SGNS, False, False, -1, torch.int64, False),
            (SGNS, True, False, 5, torch.int32, False),
            (SGNS, False, False, 0, torch.int64, True),
            (CBOW, False, False, 5, torch.int64, False),
            (CBOW, False, True, -1, torch.int32, True)):
        w_in, w_out, c, x, n = build_case(model, 7, 3, 4, 5, neg3d=neg3d, padding_idx=padding_idx, tied=tied,
                                          index_dtype=index_dtype, V=11, gen=gen)
        name = "sgns" if model is SGNS else "cbow_ns"
        tag = f"{name}-{'negBCK' if neg3d else 'negBK'}{'-inbatch' if in_batch else ''}-pad{padding_idx}-" \
              f"{str(index_dtype)[6:]}-{'tied' if tied else 'untied'}"
        gp = torch.randn(7, generator=gen, dtype=w_in.dtype)
        gn = torch.randn(7, generator=gen, dtype=w_in.dtype)
        det_in, det_out = w_in.detach(), w_out.detach()
        for sparse in (False, True):
            # save_grad is what the public functions pass when the weights require grad
            for save_grad, (a, b) in ((False, (det_in, det_out)), (True, (w_in, w_out))):
                out.append((getattr(ops, f"{name}_forward"),
                            (a, b, c, x, n, padding_idx, in_batch, sparse, save_grad),
                            f"{name}_forward-{tag}-{'sparse' if sparse else 'dense'}"
                            f"{'-saved' if save_grad else ''}"))
        # the backward ops take what a forward with save_grad kept
        saved = tuple(t.detach() for t in getattr(ops, f"{name}_forward")(
            det_in, det_out, c, x, n, padding_idx, in_batch, False, True)[2:])
        out.append((getattr(ops, f"{name}_backward"),
                    (gp, gn, *saved, c, x, n, padding_idx, in_batch, det_in.size(0), det_out.size(0)),
                    f"{name}_backward-{tag}"))
        out.append((getattr(ops, f"{name}_backward_sparse"),
                    (gp, gn, *saved, c, x, n, padding_idx, in_batch), f"{name}_backward_sparse-{tag}"))
        if not in_batch:  # the steps have no in-batch form
            step_out = None if tied else det_out.clone()
            args = (det_in.clone(), step_out, c, x, n, 0.1, padding_idx)
            if name == "cbow_ns":
                args = args + (True,)
            args = args + (True,)   # atomic_updates
            out.append((getattr(ops, f"{name}_sgd_step_"), args, f"{name}_sgd_step_-{tag}"))
    return out


SAMPLES = _samples()


@pytest.mark.parametrize("op,args", [s[:2] for s in SAMPLES], ids=[s[2] for s in SAMPLES])
def test_opcheck(op, args):
    """All of opcheck's default sub-tests (test_schema, test_autograd_registration,
    test_faketensor, test_aot_dispatch_dynamic) pass, including the *_backward_sparse ops,
    whose fake implementation gives data-dependent row counts (ctx.new_dynamic_size())."""
    result = torch.library.opcheck(op, args)
    assert set(result) >= {"test_schema", "test_autograd_registration", "test_faketensor",
                           "test_aot_dispatch_dynamic"}
    assert all(v == "SUCCESS" for v in result.values()), result


def test_opcheck_covers_every_op():
    names = {s[0]._qualified_op_name.split("::")[1] for s in SAMPLES}
    assert names == {f"{m}_{k}" for m in ("sgns", "cbow_ns") for k in ("forward", "backward", "backward_sparse",
                                                                        "sgd_step_")}


# ----------------------------------------------------------------------------- compile


def _eager_and_compiled(module_factory, batches, forward_kw):
    """Run the same batches through an eager module and a compiled copy (fullgraph) of it;
    return [(loss, grads)] for each."""
    eager = module_factory()
    compiled_module = module_factory()
    compiled_module.load_state_dict(eager.state_dict())
    compiled = torch.compile(compiled_module, fullgraph=True)
    results = []
    for m, call in ((eager, eager), (compiled_module, compiled)):
        runs = []
        for c, x, n in batches:
            m.zero_grad(set_to_none=True)
            loss = call(c, x, n, **forward_kw)
            loss.backward()
            grads = [p.grad.to_dense() if p.grad.is_sparse else p.grad.clone() for p in m.parameters()]
            runs.append((loss.detach(), grads, [p.grad for p in m.parameters()]))
        results.append(runs)
    return results


def _check_same(eager_runs, compiled_runs):
    for (le, ge, _), (lc, gc, _) in zip(eager_runs, compiled_runs):
        assert not lc.isnan().any()
        torch.testing.assert_close(lc, le, rtol=1e-12, atol=1e-12)
        assert len(ge) == len(gc)
        for a, b in zip(gc, ge):
            torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def _batches(model, n, B, C, K, V, *, neg3d=False, padding_idx=-1, tied=False, seed=0):
    gen = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        _, _, c, x, neg = build_case(model, B, C, K, 2, neg3d=neg3d, padding_idx=padding_idx, tied=tied, V=V,
                                     gen=gen)
        out.append((c, x, neg))
    return out


def test_compile_skipgram_module_dense():
    """SkipGramNS (untied, padding_idx=0, [B, C, K] negatives, 'pos_neg_mean'): compiled
    fullgraph losses and gradients equal eager, on two different batches of one shape.
    (make_indices keeps V_out = V + 4 for untied; the module's tables are both V + 4.)"""
    V = 13
    factory = lambda: w2v_ext.SkipGramNS(V + 4, 6, padding_idx=0, init="normal", dtype=torch.float64)
    batches = _batches(SGNS, 2, 9, 3, 4, V, neg3d=True, padding_idx=0)
    eager, compiled = _eager_and_compiled(factory, batches, dict(reduction="pos_neg_mean"))
    _check_same(eager, compiled)
    assert not torch.equal(eager[0][0], eager[1][0])


def test_compile_dynamic_batch_size():
    """Batches of changing size (B = 9, 12, 5): dynamo recompiles with a symbolic B (the
    fake implementations use center.size(0)); results still equal eager."""
    V = 13
    factory = lambda: w2v_ext.CBOWNS(V + 4, 4, init="normal", dtype=torch.float64)
    batches = [b for B, seed in ((9, 1), (12, 2), (5, 3)) for b in _batches(CBOW, 1, B, 3, 2, V, seed=seed)]
    eager, compiled = _eager_and_compiled(factory, batches, dict(reduction="mean", in_batch_positives=True))
    _check_same(eager, compiled)


def test_compile_cbow_module_dense():
    """CBOWNS (tied, in-batch positives, 'none' summed): compiled fullgraph == eager."""
    V = 13
    factory = lambda: w2v_ext.CBOWNS(V, 6, tied=True, init="normal", dtype=torch.float64)
    batches = _batches(CBOW, 2, 9, 3, 4, V, tied=True)

    class Summed(torch.nn.Module):   # reduction='none', then a weighted sum in the graph
        def __init__(self):
            super().__init__()
            self.inner = factory()

        def forward(self, c, x, n):
            per_row = self.inner(c, x, n, reduction="none", in_batch_positives=True)
            return (per_row * torch.linspace(0.5, 1.5, per_row.numel(), dtype=per_row.dtype)).sum()

    eager, compiled = _eager_and_compiled(Summed, batches, {})
    _check_same(eager, compiled)


def test_compile_sparse_gradients():
    """sparse=True under torch.compile(fullgraph=True): traces, and the gradients equal
    eager's (to_dense), with unique sorted rows. (The `.grad` that .backward() leaves is not
    flagged coalesced, in eager as in compiled mode: PyTorch's gradient accumulation
    re-wraps sparse gradients, as it does for nn.Embedding(sparse=True).)"""
    V = 13
    factory = lambda: w2v_ext.SkipGramNS(V + 4, 5, sparse=True, padding_idx=5, init="normal", dtype=torch.float64)
    batches = _batches(SGNS, 2, 8, 3, 2, V, padding_idx=5)
    eager, compiled = _eager_and_compiled(factory, batches, dict(reduction="sum"))
    _check_same(eager, compiled)
    for _, _, raw in compiled:
        for g in raw:
            assert g.layout == torch.sparse_coo
            rows = g._indices()[0]
            assert torch.equal(rows, torch.unique(rows))
            assert 5 not in rows.tolist()


def test_compile_functional_sparse_grads_are_coalesced():
    """The compiled loss under torch.autograd.grad returns coalesced sparse gradients."""
    gen = torch.Generator().manual_seed(3)
    w_in, w_out, c, x, n = build_case(CBOW, 6, 3, 2, 4, padding_idx=-1, gen=gen)
    fn = torch.compile(lambda a, b: w2v_ext.cbow_ns_loss(a, b, c, x, n, sparse=True, reduction="mean"),
                       fullgraph=True)
    loss = fn(w_in, w_out)
    grads = torch.autograd.grad(loss, [w_in, w_out])
    e_loss = w2v_ext.cbow_ns_loss(w_in, w_out, c, x, n, sparse=True, reduction="mean")
    e_grads = torch.autograd.grad(e_loss, [w_in, w_out])
    torch.testing.assert_close(loss, e_loss, rtol=1e-12, atol=1e-12)
    for g, e in zip(grads, e_grads):
        assert g.is_sparse and g.is_coalesced()
        torch.testing.assert_close(g.to_dense(), e.to_dense(), rtol=1e-12, atol=1e-12)


def _step_case():
    gen = torch.Generator().manual_seed(7)
    w_in, w_out, c, x, n = build_case(SGNS, 9, 3, 4, 6, padding_idx=-1, gen=gen)
    _, _, cc, cx, cn = build_case(CBOW, 9, 3, 4, 6, padding_idx=-1, tied=True, gen=gen)

    def train_step(a, b, lr):
        loss = w2v_ext.sgns_step_(a, b, c, x, n, lr)
        loss = loss + w2v_ext.cbow_ns_step_(a, a, cc, cx, cn, lr, context_update="word2vec")
        return loss * 2

    return w_in.detach(), w_out.detach(), train_step


def _compare_step_runs(lrs):
    w_in, w_out, train_step = _step_case()
    compiled = torch.compile(train_step, fullgraph=True)
    ea, eb = w_in.clone(), w_out.clone()
    ca, cb = w_in.clone(), w_out.clone()
    for lr in lrs:
        el = train_step(ea, eb, lr)
        cl = compiled(ca, cb, lr)
        torch.testing.assert_close(cl, el, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(ca, ea, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(cb, eb, rtol=1e-12, atol=1e-12)
    assert not torch.equal(ca, w_in) and not torch.equal(cb, w_out)


def test_compile_step(one_thread):
    """A compiled function calling sgns_step_ and cbow_ns_step_ mutates the weights exactly
    as eager does and returns the same loss, over several calls with one lr."""
    _compare_step_runs([0.3, 0.3, 0.3])


def test_compile_step_with_changing_lr(one_thread):
    _compare_step_runs([0.3, 0.1, 0.05])
