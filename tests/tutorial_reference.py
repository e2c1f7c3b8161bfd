# The word2vec negative-sampling tutorial this project grew from, restated in plain
# PyTorch (its data preparation and losses), kept as the project received it: the ops'
# tutorial tests (tests/test_ops_tutorial.py) compare the fused ops against it. Do not
# edit it to fit the ops.

"""Plain-PyTorch restatement of the tutorial's data preparation and losses.

Run it to train the toy models and print their final losses:
    python reference.py
Import it in tests to compare a fused op against `sg_loss` / `cbow_loss`.
"""
import re
from collections import Counter

import numpy as np
import torch
import torch.nn.functional as F

TOY_CORPUS = [
    "jack like dog", "jack like cat", "jack like animal", "dog cat animal",
    "banana apple cat dog like", "dog fish milk like", "dog cat animal like",
    "jack like apple", "apple like", "jack like banana",
    "apple banana jack movie book music like", "cat dog hate", "cat dog like",
]


def tokenize(sentence):
    return [t.lower() for t in re.findall(r"\b\w+\b|[,.!?]", sentence)]


def build_vocab(sentences):
    """word -> index, most frequent first, starting at 1 (0 is padding/unknown)."""
    counts = Counter(t for s in sentences for t in tokenize(s))
    ordered = sorted(counts, key=counts.get, reverse=True)
    return {w: i for i, w in enumerate(ordered, start=1)}


def make_examples(sentences, vocab, window=1, num_negatives=2, rng=None):
    """Centre, context and negative indices over the concatenated token stream.

    Negatives are uniform over 1..V-1, rejecting the centre and its context words.
    """
    rng = rng or np.random.default_rng(0)
    ids = [vocab[t] for s in sentences for t in tokenize(s)]
    vocab_size = len(vocab) + 1
    centers, contexts, negatives = [], [], []
    for i in range(window, len(ids) - window):
        ctx = ids[i - window:i] + ids[i + 1:i + 1 + window]
        negs = []
        while len(negs) < num_negatives:
            cand = int(rng.integers(1, vocab_size))
            if cand != ids[i] and cand not in ctx:
                negs.append(cand)
        centers.append(ids[i])
        contexts.append(ctx)
        negatives.append(negs)
    as_tensor = lambda x: torch.tensor(x, dtype=torch.long)
    return as_tensor(centers), as_tensor(contexts), as_tensor(negatives)


def sg_loss(weight, center, context, negative):
    """Skip-gram + NS with one shared table. center [B], context [B, C], negative [B, K]."""
    c = weight[center]                                   # [B, d]
    pos = torch.einsum("bd,bcd->bc", c, weight[context])  # [B, C]
    neg = torch.einsum("bd,bkd->bk", c, weight[negative])  # [B, K]
    return (F.binary_cross_entropy_with_logits(pos, torch.ones_like(pos))
            + F.binary_cross_entropy_with_logits(neg, torch.zeros_like(neg)))


def cbow_loss(weight, center, context, negative):
    """CBOW + NS with in-batch positives (identity labels), as in the tutorial."""
    h = weight[context].mean(dim=1)                      # [B, d]
    pos = h @ weight[center].T                           # [B, B]
    neg = torch.einsum("bd,bkd->bk", h, weight[negative])  # [B, K]
    return (F.binary_cross_entropy_with_logits(pos, torch.eye(len(center), dtype=pos.dtype))
            + F.binary_cross_entropy_with_logits(neg, torch.zeros_like(neg)))


def train(loss_fn, dim=2, batch=4, epochs=2000, lr=0.01, seed=0):
    torch.manual_seed(seed)
    vocab = build_vocab(TOY_CORPUS)
    center, context, negative = make_examples(TOY_CORPUS, vocab, rng=np.random.default_rng(seed))
    emb = torch.nn.Embedding(len(vocab) + 1, dim)
    opt = torch.optim.Adam(emb.parameters(), lr=lr)
    n = len(center) - len(center) % batch  # full batches only (CBOW's identity labels need B rows)
    for _ in range(epochs):
        total = 0.0
        for s in range(0, n, batch):
            loss = loss_fn(emb.weight, center[s:s + batch], context[s:s + batch], negative[s:s + batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
    return vocab, emb.weight.detach(), total / (n // batch)


if __name__ == "__main__":
    for name, fn in (("skip-gram", sg_loss), ("cbow", cbow_loss)):
        vocab, weight, loss = train(fn)
        print(f"{name}: final mean batch loss {loss:.4f}")
