"""A plain-Python statement of the native trainer's recipe (word2vec.c's, with
counter-based random draws), slow and exact, for tests on tiny corpora.

It replays the same random draws as csrc/w2v_math.h (splitmix64 keyed by seed, epoch
and word position), the same tabulated sigmoid, and the same update order, so with
one thread the native trainer must match it to float32 rounding.
"""
from __future__ import annotations

import math

import numpy as np

M64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def mix64(z: int) -> int:
    z &= M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def stream_key(seed: int, a: int, b: int = 0) -> int:
    k = mix64((seed + GOLDEN) & M64)
    k = mix64(k ^ ((a * 0xD1B54A32D192ED03) & M64))
    return mix64(k ^ ((b * 0x8CB92BA72F3D8DD7) & M64))


def counter_random(key: int, counter: int) -> int:
    return mix64((key + ((counter + 1) * GOLDEN)) & M64)


def bounded_random(r: int, n: int) -> int:
    return ((r >> 32) * n) >> 32


def alias_draw(accept, alias, r: int) -> int:
    bucket = bounded_random(r, len(accept))
    return bucket if (r & 0xFFFFFFFF) < int(accept[bucket]) else int(alias[bucket])


def keep_word(threshold: int, r: int) -> bool:
    return threshold == 0xFFFFFFFF or (r >> 32) < threshold


def linear_learning_rate(start: float, done: float, total: float) -> float:
    rate = start * (1.0 - done / (total + 1.0))
    return float(np.float32(max(rate, start * 1e-4)))


_TABLE_SIZE, _TABLE_MAX = 1024, 8.0
_SIGMOID = np.array([1 / (1 + math.exp(-((i + 0.5) * (2 * _TABLE_MAX / _TABLE_SIZE) - _TABLE_MAX)))
                     for i in range(_TABLE_SIZE)], dtype=np.float32)


def table_sigmoid(x: float) -> float:
    if x >= _TABLE_MAX:
        return 1.0
    if x <= -_TABLE_MAX:
        return 0.0
    return float(_SIGMOID[int(np.float32((np.float32(x) + np.float32(_TABLE_MAX)) *
                                         np.float32(_TABLE_SIZE / (2 * _TABLE_MAX))))])


def _block_update(inputs, targets, alpha):
    """HogBatch: inputs [m, d] and targets [n, d] (the first positive) as they stand;
    returns (input steps [m, d], target steps [n, d])."""
    scores = inputs @ targets.T
    labels = np.zeros(targets.shape[0], dtype=np.float64)
    labels[0] = 1
    g = np.vectorize(table_sigmoid)(scores) if scores.size else scores
    g = alpha * (labels[None, :] - g)
    return g @ targets, g.T @ inputs


def train_reference(sentences, counts, dim, *, model="sg", window=5, negative=5, sample=1e-3, alpha=None,
                    epochs=1, seed=1, cbow_mean=True, shared_negatives=True, input_init=None):
    """sentences: list of lists of vocabulary ids (after out-of-vocabulary removal).
    Returns (input [V, dim], output [V, dim]) float64 after training from input_init."""
    from w2v_ext import sampling
    counts = np.asarray(counts)
    V = len(counts)
    alpha = alpha if alpha is not None else (0.025 if model == "sg" else 0.05)
    keep = sampling.keep_thresholds(counts, sample)
    accept, alias = sampling.noise_table(counts)
    syn0 = np.array(input_init, dtype=np.float64)
    syn1 = np.zeros((V, dim))
    per_epoch = int(counts.sum())
    total = epochs * per_epoch
    for epoch in range(epochs):
        k_sub, k_win, k_noise = (stream_key(seed, epoch, s) for s in (1, 2, 3))
        position = 0
        for sentence in sentences:
            a = linear_learning_rate(alpha, epoch * per_epoch + position, total)
            kept, where = [], []
            for q, w in enumerate(sentence):
                p = position + q
                if keep is None or keep_word(int(keep[w]), counter_random(k_sub, p)):
                    kept.append(w)
                    where.append(p)
            position += len(sentence)

            def noise_for(counter, center):
                out = []
                for k in range(negative):
                    t = alias_draw(accept, alias, counter_random(k_noise, counter * negative + k))
                    if t != center:
                        out.append(t)
                return out

            for i, (w, p) in enumerate(zip(kept, where)):
                reach = window - bounded_random(counter_random(k_win, p), window)
                ctx = [kept[j] for j in range(max(0, i - reach), min(len(kept), i + reach + 1)) if j != i]
                if not ctx:
                    continue
                if model == "cbow":
                    h = syn0[ctx].sum(0)
                    if cbow_mean:
                        h /= len(ctx)
                    targets = [w] + noise_for(p, w)
                    d_in, d_out = _block_update(h[None, :], syn1[targets], a)
                    np.add.at(syn1, targets, d_out)
                    np.add.at(syn0, ctx, np.repeat(d_in, len(ctx), 0))
                elif shared_negatives:
                    targets = [w] + noise_for(p, w)
                    d_in, d_out = _block_update(syn0[ctx], syn1[targets], a)
                    np.add.at(syn1, targets, d_out)
                    np.add.at(syn0, ctx, d_in)
                else:
                    offsets = [j for j in range(max(0, i - reach), min(len(kept), i + reach + 1)) if j != i]
                    for j in offsets:
                        c = kept[j]
                        targets = [w] + noise_for(p * (2 * window + 1) + (j - i + window), w)
                        d_in, d_out = _block_update(syn0[[c]], syn1[targets], a)
                        np.add.at(syn1, targets, d_out)
                        syn0[c] += d_in[0]
    return syn0, syn1
