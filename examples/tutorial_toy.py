"""The negative-sampling tutorial's two toy models, trained with w2v_ext's fused op.

The tutorial trains skip-gram and CBOW with negative sampling on a 13-sentence corpus
(2-D embeddings, one table for both roles, Adam lr 0.01, batch 4, 2000 epochs) and
plots the learned vectors of eight words. Here the models are w2v_ext.SkipGramNS and
w2v_ext.CBOWNS, which call the fused op (gather, dot products, sigmoid + BCE and the
gradient scatter in one kernel); the data preparation and the training loop are the
tutorial's. Before training, the script checks that the op's loss and gradient equal
the tutorial's plain-PyTorch loss on the same batch. (With 4-row batches each step is
mostly Python and dispatch overhead, fused or not: the op pays off at real sizes, see
examples/custom_model.py and bench/.)

    python examples/tutorial_toy.py                 # 2000 epochs, writes tutorial_toy.png
    python examples/tutorial_toy.py --epochs 50 -o /tmp/toy.png

Needs torch; the plot needs matplotlib (pip install 'w2v_ext[plot]').
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections import Counter

import numpy as np

# Before torch starts its OpenMP threads: small steps wake the thread team thousands of
# times, and OpenMP's default spin-waiting makes that very slow (10x and more) when
# another process is using the cores. Passive waiting changes timing only.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import w2v_ext  # noqa: E402
from w2v_ext.vectors import KeyedVectors  # noqa: E402

TOY_CORPUS = [
    "jack like dog", "jack like cat", "jack like animal", "dog cat animal",
    "banana apple cat dog like", "dog fish milk like", "dog cat animal like",
    "jack like apple", "apple like", "jack like banana",
    "apple banana jack movie book music like", "cat dog hate", "cat dog like",
]
PLOTTED = ["dog", "cat", "milk", "like", "animal", "fish", "banana", "apple"]


# ---- the tutorial's data preparation ---------------------------------------------------

def tokenize(sentence):
    return [t.lower() for t in re.findall(r"\b\w+\b|[,.!?]", sentence)]


def build_vocab(sentences):
    """word -> index, most frequent first, from 1 (0 is kept for padding/unknown)."""
    counts = Counter(t for s in sentences for t in tokenize(s))
    return {w: i for i, w in enumerate(sorted(counts, key=counts.get, reverse=True), start=1)}


def make_examples(sentences, vocab, window=1, num_negatives=2, rng=None):
    """centre [N], context [N, 2*window], negatives [N, K] over the concatenated tokens;
    negatives uniform over 1..V-1, rejecting the centre and its context words."""
    rng = rng or np.random.default_rng(0)
    ids = [vocab[t] for s in sentences for t in tokenize(s)]
    centers, contexts, negatives = [], [], []
    for i in range(window, len(ids) - window):
        ctx = ids[i - window:i] + ids[i + 1:i + 1 + window]
        negs = []
        while len(negs) < num_negatives:
            cand = int(rng.integers(1, len(vocab) + 1))
            if cand != ids[i] and cand not in ctx:
                negs.append(cand)
        centers.append(ids[i])
        contexts.append(ctx)
        negatives.append(negs)
    return (torch.tensor(centers), torch.tensor(contexts), torch.tensor(negatives))


# ---- the tutorial's losses in plain PyTorch (only to check the op against) -------------

def plain_sg_loss(weight, center, context, negative):
    c = weight[center]                                               # [B, d]
    pos = torch.einsum("bd,bcd->bc", c, weight[context])             # [B, C]
    neg = torch.einsum("bd,bkd->bk", c, weight[negative])            # [B, K]
    return (F.binary_cross_entropy_with_logits(pos, torch.ones_like(pos))
            + F.binary_cross_entropy_with_logits(neg, torch.zeros_like(neg)))


def plain_cbow_loss(weight, center, context, negative):
    h = weight[context].mean(dim=1)                                  # [B, d]
    pos = h @ weight[center].T                                       # [B, B], the batch's other centres as negatives
    neg = torch.einsum("bd,bkd->bk", h, weight[negative])            # [B, K]
    return (F.binary_cross_entropy_with_logits(pos, torch.eye(len(center)))
            + F.binary_cross_entropy_with_logits(neg, torch.zeros_like(neg)))


# ---- the two models, with w2v_ext's modules ---------------------------------------------

def make_model(kind, vocab_size, dim, seed):
    """The tutorial's model: one table for both roles (tied), N(0, 1) start like its
    nn.Embedding (same seed, same start), the tutorial's loss: mean over the positive
    terms + mean over the negative terms."""
    torch.manual_seed(seed)
    if kind == "skip-gram":
        model = w2v_ext.SkipGramNS(vocab_size, dim, tied=True, init="normal")
        loss = lambda c, x, n: model(c, x, n, reduction="pos_neg_mean")                          # noqa: E731
    else:
        model = w2v_ext.CBOWNS(vocab_size, dim, tied=True, init="normal")
        loss = lambda c, x, n: model(c, x, n, reduction="pos_neg_mean", in_batch_positives=True)  # noqa: E731
    return model, loss


def check_against_plain(kind, loss, model, center, context, negative):
    """The op's loss and gradient on the first batch equal the plain-PyTorch loss's."""
    plain = plain_sg_loss if kind == "skip-gram" else plain_cbow_loss
    weight = model.embeddings
    batch = (center[:4], context[:4], negative[:4])
    ours = loss(*batch)
    (g_ours,) = torch.autograd.grad(ours, [weight])
    ref = plain(weight, *batch)
    (g_ref,) = torch.autograd.grad(ref, [weight])
    same = torch.allclose(ours, ref, rtol=1e-5, atol=1e-6) and torch.allclose(g_ours, g_ref, rtol=1e-5, atol=1e-6)
    print(f"  first batch: fused op loss {ours.item():.6f}, plain PyTorch {ref.item():.6f}, gradients "
          f"{'equal' if same else 'DIFFER'}")
    return same


def train(kind, vocab, center, context, negative, epochs, dim=2, batch=4, lr=0.01, seed=0):
    model, loss = make_model(kind, len(vocab) + 1, dim, seed)
    same = check_against_plain(kind, loss, model, center, context, negative)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    n = len(center) - len(center) % batch     # full batches (CBOW's in-batch labels need B rows)
    start = time.perf_counter()
    curve = []
    for _ in range(epochs):
        total = 0.0
        for s in range(0, n, batch):
            value = loss(center[s:s + batch], context[s:s + batch], negative[s:s + batch])
            opt.zero_grad()
            value.backward()
            opt.step()
            total += value.item()
        curve.append(total / (n // batch))
    seconds = time.perf_counter() - start
    print(f"  {epochs} epochs ({epochs * (n // batch)} Adam steps) in {seconds:.2f}s: mean batch loss "
          f"{curve[0]:.4f} -> {curve[-1]:.4f}")
    return model, curve, same


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=2000, help="passes over the toy data (tutorial: 2000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-o", "--output", default="tutorial_toy.png", help="the plot (needs matplotlib)")
    args = parser.parse_args(argv)

    vocab = build_vocab(TOY_CORPUS)
    words = [w for w, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    center, context, negative = make_examples(TOY_CORPUS, vocab, rng=np.random.default_rng(args.seed))
    print(f"toy corpus: {len(TOY_CORPUS)} sentences, {len(vocab)} words, {len(center)} training examples")
    results = {}
    all_same = True
    for kind in ("skip-gram", "cbow"):
        print(f"{kind}:")
        model, curve, same = train(kind, vocab, center, context, negative, args.epochs, seed=args.seed)
        all_same &= same
        vectors = model.embeddings.detach()[1:].numpy()           # row 0 is the unused padding index
        results[kind] = KeyedVectors(words, vectors)
        kv = results[kind]
        print("  nearest (cosine): " + "; ".join(f"{w} -> {kv.most_similar(w, topn=1)[0][0]}"
                                                for w in ("dog", "banana", "like")))
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        print("no plot: matplotlib is not installed (pip install 'w2v_ext[plot]')")
        return 0 if all_same else 1
    from w2v_ext.plot import plot_words

    fig = Figure(figsize=(11, 5), layout="constrained")
    FigureCanvasAgg(fig)
    for ax, (kind, kv) in zip(fig.subplots(1, 2), results.items()):
        plot_words(kv, PLOTTED, method="none", ax=ax, title=f"{kind} ({args.epochs} epochs)")
    fig.savefig(args.output)
    print(f"wrote {args.output}")
    return 0 if all_same else 1


if __name__ == "__main__":
    sys.exit(main())
