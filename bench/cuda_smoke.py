#!/usr/bin/env python3
"""A small run of every CUDA kernel (ops: forward, backward dense and sparse, fused
steps, index check; trainer: compaction and training), for compute-sanitizer:

    compute-sanitizer --tool memcheck python bench/cuda_smoke.py
    compute-sanitizer --tool racecheck python bench/cuda_smoke.py
"""
import sys

import numpy as np
import torch

import w2v_ext
from w2v_ext.trainer import Word2Vec


def ops() -> None:
    g = torch.Generator().manual_seed(0)
    V, d, B, C, K = 97, 37, 64, 4, 3
    for dtype in (torch.float32, torch.float64):
        w_in = torch.randn(V, d, generator=g, dtype=dtype).cuda().requires_grad_()
        w_out = torch.randn(V, d, generator=g, dtype=dtype).cuda().requires_grad_()
        c = torch.randint(0, V, (B,), generator=g).cuda()
        x = torch.randint(-1, V, (B, C), generator=g).cuda()
        n = torch.randint(-1, V, (B, K), generator=g).cuda()
        n3 = torch.randint(-1, V, (B, C, K), generator=g).cuda()
        for sparse in (False, True):
            for neg in (n, n3):
                torch.autograd.grad(w2v_ext.sgns_loss(w_in, w_out, c, x, neg, sparse=sparse), [w_in, w_out])
            for in_batch in (False, True):
                torch.autograd.grad(w2v_ext.cbow_ns_loss(w_in, w_out, c, x, n, sparse=sparse,
                                                         in_batch_positives=in_batch), [w_in, w_out])
        with torch.no_grad():
            w2v_ext.sgns_step_(w_in, w_out, c, x, n, 0.1)
            w2v_ext.sgns_step_(w_in, w_in, c, x, n3, 0.1)
            w2v_ext.cbow_ns_step_(w_in, w_out, c, x, n, 0.1)
        try:   # the index check is asynchronous: the error surfaces at check_index_errors()
            w2v_ext.sgns_loss(w_in, w_out, c, x + V, n)
            w2v_ext.check_index_errors()
            raise AssertionError("an index out of range went unreported")
        except IndexError:
            pass
    torch.cuda.synchronize()


def trainer() -> None:
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(300)]
    p = 1.0 / np.arange(1, 301)
    p /= p.sum()
    sentences = [list(rng.choice(words, size=int(rng.integers(5, 60)), p=p)) for _ in range(400)]
    for model in ("sg", "cbow"):
        m = Word2Vec(model=model, dim=33, window=3, negative=4, min_count=1, epochs=2, device="cuda",
                     progress=False)
        m.build_vocab(sentences)
        m.train(sentences)
        assert np.isfinite(m.input).all() and np.isfinite(m.output).all()


if __name__ == "__main__":
    what = sys.argv[1:] or ["ops", "trainer"]
    if "ops" in what:
        ops()
    if "trainer" in what:
        trainer()
    print("cuda_smoke: ok")
