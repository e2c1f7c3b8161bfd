"""w2v_ext's fused loss as one piece of your own PyTorch model.

The model below is a user's own nn.Module: two nn.Embedding tables with sparse
gradients, trained with torch.optim.SparseAdam (an optimiser word2vec.c never used),
with a plain-PyTorch L2 term added to the fused skip-gram loss. The op is an ordinary
autograd function of the weight tensors and index tensors: it returns a loss,
backward() gives both tables sparse gradients (only the rows the batch touched), and
everything else in PyTorch composes with it.

Data: the first --words words of the sample corpus shipped with w2v_ext (English
Wikipedia, CC BY-SA 4.0). Each step: [B] random centre words, their [B, 2*window]
context words (-1 pads the corpus edges, and padding takes no part), [B, K] negatives
drawn from the unigram^0.75 distribution. At the end: nearest neighbours, and the op
checked against (and timed next to) the same loss written in plain PyTorch.

    python examples/custom_model.py                    # 3000 steps: about 30 s on 2 cores
    python examples/custom_model.py --steps 50         # a quick look

Needs torch.
"""
from __future__ import annotations

import argparse
import lzma
import os
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
from torch import nn  # noqa: E402

import w2v_ext  # noqa: E402
from w2v_ext.demo import sample_corpus  # noqa: E402
from w2v_ext.vectors import KeyedVectors  # noqa: E402


class MyWord2Vec(nn.Module):
    """Skip-gram with negative sampling, the user's way: separate word and context
    tables (word2vec.c's start: words uniform in +-0.5/d, contexts zero), the fused
    loss averaged over its terms, plus an L2 penalty on the batch's word vectors."""

    def __init__(self, vocab_size: int, dim: int, l2: float = 1e-4):
        super().__init__()
        self.words = nn.Embedding(vocab_size, dim, sparse=True)
        self.contexts = nn.Embedding(vocab_size, dim, sparse=True)
        with torch.no_grad():
            self.words.weight.uniform_(-0.5 / dim, 0.5 / dim)
            self.contexts.weight.zero_()
        self.l2 = l2

    def forward(self, center, context, negative):
        """center [B], context [B, C] (-1: padding), negative [B, K] -> 0-dim loss."""
        loss = w2v_ext.sgns_loss(self.words.weight, self.contexts.weight, center, context, negative,
                                 reduction="mean", sparse=True)
        # any PyTorch term composes with the op; this one touches only the batch's rows
        # (nn.Embedding(sparse=True)), so the gradients stay sparse for SparseAdam
        penalty = self.l2 * self.words(center).pow(2).sum(dim=1).mean()
        return loss + penalty


def plain_sgns_mean(words, contexts, center, context, negative):
    """The same loss without the op: gather, dot products, BCE with logits, mean over
    the terms (padding slots masked out)."""
    h = F.embedding(center, words, sparse=True)                             # [B, d]
    mask = context >= 0                                                     # [B, C]
    u = F.embedding(context.clamp(min=0), contexts, sparse=True)            # [B, C, d]
    n = F.embedding(negative, contexts, sparse=True)                        # [B, K, d]
    pos = torch.einsum("bd,bcd->bc", h, u)
    neg = torch.einsum("bd,bkd->bk", h, n)
    terms = torch.cat([F.logsigmoid(pos)[mask], F.logsigmoid(-neg).flatten()])
    return -terms.mean()


class Batches:
    """Random (centre, context window, negatives) batches over a corpus of word ids."""

    def __init__(self, ids: np.ndarray, counts: np.ndarray, window: int, negatives: int, seed: int):
        self.ids = torch.from_numpy(ids)
        self.window, self.negatives = window, negatives
        self.noise = torch.from_numpy(counts.astype(np.float64) ** 0.75)   # unigram^0.75
        self.gen = torch.Generator().manual_seed(seed)
        self.offsets = torch.tensor([o for o in range(-window, window + 1) if o != 0])

    def __call__(self, batch: int):
        pos = torch.randint(0, len(self.ids), (batch,), generator=self.gen)          # [B]
        ctx_pos = pos[:, None] + self.offsets                                         # [B, 2w]
        inside = (ctx_pos >= 0) & (ctx_pos < len(self.ids))
        context = torch.where(inside, self.ids[ctx_pos.clamp(0, len(self.ids) - 1)], -1)
        negative = torch.multinomial(self.noise, batch * self.negatives, replacement=True,
                                     generator=self.gen).view(batch, self.negatives)
        return self.ids[pos], context, negative


def load_corpus(n_words: int, min_count: int):
    """The first n_words of the shipped sample as ids (most frequent word first); words
    seen fewer than min_count times are dropped. Frequent words are subsampled once,
    word2vec.c's way (t = 1e-4), so 'the' and 'of' do not fill the batches."""
    with lzma.open(sample_corpus(), "rt", encoding="utf-8") as f:
        tokens = f.read().split()[:n_words]
    counts = Counter(tokens)
    words = [w for w, c in sorted(counts.items(), key=lambda wc: (-wc[1], wc[0])) if c >= min_count]
    index = {w: i for i, w in enumerate(words)}
    ids = np.array([index[t] for t in tokens if t in index], dtype=np.int64)
    freq = np.array([counts[w] for w in words], dtype=np.int64)
    share = freq[ids] / len(ids)
    keep = np.random.default_rng(0).random(len(ids)) < np.sqrt(1e-4 / share) + 1e-4 / share
    return words, freq, ids[keep]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--words", type=int, default=2_000_000, help="corpus words to use (the sample has 2M)")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--negatives", type=int, default=5)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)

    words, counts, ids = load_corpus(args.words, min_count=5)
    print(f"corpus: {len(ids):,} words after subsampling, vocabulary {len(words):,}")
    model = MyWord2Vec(len(words), args.dim)
    opt = torch.optim.SparseAdam(list(model.parameters()), lr=args.lr)
    batches = Batches(ids, counts, args.window, args.negatives, args.seed)

    start = time.perf_counter()
    for step in range(1, args.steps + 1):
        loss = model(*batches(args.batch))
        opt.zero_grad()
        loss.backward()                         # sparse gradients: rows of the batch only
        opt.step()
        if step == 1 or step % max(1, args.steps // 10) == 0 or step == args.steps:
            print(f"  step {step:5d}  loss {loss.item():.4f}  ({time.perf_counter() - start:.1f}s)")

    kv = KeyedVectors(words, model.words.weight.detach().numpy(), counts)
    for word in ("two", "january", "father", "france"):
        if word in kv:
            print(f"  {word:8s} -> " + ", ".join(w for w, _ in kv.most_similar(word, topn=6)))

    # The op is a drop-in for the same loss written in plain PyTorch: same value and gradients.
    center, context, negative = batches(args.batch)
    w, c = model.words.weight, model.contexts.weight
    ours = w2v_ext.sgns_loss(w, c, center, context, negative, reduction="mean", sparse=True)
    plain = plain_sgns_mean(w, c, center, context, negative)
    g_ours = [g.to_dense() for g in torch.autograd.grad(ours, [w, c])]
    g_plain = [g.to_dense() for g in torch.autograd.grad(plain, [w, c])]
    same = torch.allclose(ours, plain, rtol=1e-5, atol=1e-6) and all(
        torch.allclose(a, b, rtol=1e-4, atol=1e-7) for a, b in zip(g_ours, g_plain))
    print(f"fused op vs plain PyTorch on one batch: loss {ours.item():.6f} vs {plain.item():.6f}, "
          f"gradients {'equal' if same else 'DIFFER'}")
    timings = []
    for fn in (lambda: w2v_ext.sgns_loss(w, c, center, context, negative, reduction="mean", sparse=True),
               lambda: plain_sgns_mean(w, c, center, context, negative)):
        for _ in range(3):
            torch.autograd.grad(fn(), [w, c])
        t0 = time.perf_counter()
        for _ in range(20):
            torch.autograd.grad(fn(), [w, c])
        timings.append((time.perf_counter() - t0) / 20 * 1e3)
    print(f"forward + backward of a {args.batch}-row batch: fused {timings[0]:.2f} ms, plain PyTorch "
          f"{timings[1]:.2f} ms ({torch.get_num_threads()} threads)")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
