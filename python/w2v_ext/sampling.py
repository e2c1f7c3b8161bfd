"""word2vec.c's sampling distributions as the native trainers' tables."""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from . import _native


def keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    """word2vec.c's subsampling: a word making up a share f of the corpus is kept with
    probability min(1, (sqrt(f / sample) + 1) * sample / f)."""
    counts = np.asarray(counts, dtype=np.float64)
    f = counts / counts.sum()
    return np.minimum(1.0, (np.sqrt(f / sample) + 1.0) * sample / f)


def keep_thresholds(counts: np.ndarray, sample: float) -> Optional[np.ndarray]:
    """The keep probabilities as 32-bit thresholds (w2v::keep_word; the native
    keep_threshold rule, as the alias tables use it), or None when sample <= 0 (no
    subsampling)."""
    if sample <= 0:
        return None
    return _native.cpu.keep_thresholds(keep_probabilities(counts, sample))


def noise_distribution(counts: np.ndarray, power: float = 0.75) -> np.ndarray:
    """P(word drawn as a negative): its count ** power, normalised."""
    w = np.asarray(counts, dtype=np.float64) ** power
    return w / w.sum()


def noise_table(counts: np.ndarray, power: float = 0.75) -> Tuple[np.ndarray, np.ndarray]:
    """Alias table (accept [V] uint32, alias [V] int32) of the noise distribution."""
    weights = noise_distribution(counts, power)
    accept = np.empty(len(weights), dtype=np.uint32)
    alias = np.empty(len(weights), dtype=np.int32)
    _native.cpu.build_alias_table(weights, accept, alias)
    return accept, alias
