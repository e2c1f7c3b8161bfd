"""A plain-Python statement of the native trainer's recipe (word2vec.c's, with
counter-based random draws), slow and exact, for tests on tiny corpora.

It replays the same random draws as csrc/w2v_math.h (splitmix64 keyed by seed, epoch
and word position; restated here once, on numpy arrays, for every test that needs the
draws), the same tabulated sigmoid, and the same update order, so with one thread the
native trainer must match it to float32 rounding.
"""
from __future__ import annotations

import math

import numpy as np

U64 = np.uint64
GOLDEN = 0x9E3779B97F4A7C15


# ---- csrc/w2v_math.h's counter-based generator, on uint64 arrays ----------------------

def mix64(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> U64(30))) * U64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> U64(27))) * U64(0x94D049BB133111EB)
    return z ^ (z >> U64(31))


def stream_key(seed: int, a: int, b: int = 0) -> int:
    """The key of the random stream (seed, a, b), e.g. (seed, epoch, 1) for subsampling."""
    k = mix64(np.array([seed], dtype=U64) + U64(GOLDEN))
    k = mix64(k ^ np.array([a], dtype=U64) * U64(0xD1B54A32D192ED03))
    return int(mix64(k ^ np.array([b], dtype=U64) * U64(0x8CB92BA72F3D8DD7))[0])


def counter_random(key: int, counters) -> np.ndarray:
    """The stream's draws at `counters` (any integers >= 0), as uint64."""
    return mix64(U64(key) + (np.atleast_1d(np.asarray(counters)).astype(U64) + U64(1)) * U64(GOLDEN))


def bounded_random(r: np.ndarray, n: int) -> np.ndarray:
    """Draws r mapped to [0, n)."""
    return ((r >> U64(32)) * U64(n)) >> U64(32)


def alias_draw(accept: np.ndarray, alias: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Words drawn by draws r from the alias table (accept, alias)."""
    bucket = bounded_random(r, len(accept)).astype(np.int64)
    coin = r & U64(0xFFFFFFFF)
    return np.where(coin < accept[bucket].astype(U64), bucket, alias[bucket])


def keep_word(thresholds: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Whether subsampling keeps words of these thresholds at draws r."""
    t = np.asarray(thresholds).astype(U64)
    return (t == U64(0xFFFFFFFF)) | ((r >> U64(32)) < t)


# ---- the recipe ----------------------------------------------------------------------

def linear_learning_rate(start: float, done: float, total: float, end: float = 0.0) -> float:
    """From start down to end; end 0: word2vec.c's fall toward 0, stopping at start * 1e-4."""
    progress = done / (total + 1.0)
    if end > 0:
        return float(np.float32(max(start + (end - start) * progress, end)))
    return float(np.float32(max(start * (1.0 - progress), start * 1e-4)))


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
                    min_alpha=0.0, epochs=1, seed=1, cbow_mean=True, shared_negatives=True, shrink_windows=True,
                    ns_exponent=0.75, input_init=None):
    """sentences: list of lists of vocabulary ids (after out-of-vocabulary removal).
    Returns (input [V, dim], output [V, dim]) float64 after training from input_init."""
    from w2v_ext import sampling
    counts = np.asarray(counts)
    V = len(counts)
    alpha = alpha if alpha is not None else (0.025 if model == "sg" else 0.05)
    keep = sampling.keep_thresholds(counts, sample)
    accept, alias = sampling.noise_table(counts, ns_exponent)
    syn0 = np.array(input_init, dtype=np.float64)
    syn1 = np.zeros((V, dim))
    per_epoch = int(counts.sum())
    total = epochs * per_epoch
    for epoch in range(epochs):
        k_sub, k_win, k_noise = (stream_key(seed, epoch, s) for s in (1, 2, 3))
        position = 0
        for sentence in sentences:
            a = linear_learning_rate(alpha, epoch * per_epoch + position, total, min_alpha)
            where = position + np.arange(len(sentence))
            if keep is not None:
                where = where[keep_word(keep[sentence], counter_random(k_sub, where))]
            kept = [sentence[p - position] for p in where.tolist()]
            reaches = (window - bounded_random(counter_random(k_win, where), window).astype(np.int64)).tolist() \
                if shrink_windows else [window] * len(where)
            position += len(sentence)

            def noise_for(counter, center):
                draws = alias_draw(accept, alias, counter_random(k_noise, counter * negative + np.arange(negative)))
                return [int(t) for t in draws if t != center]

            for i, (w, p, reach) in enumerate(zip(kept, where.tolist(), reaches)):
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
