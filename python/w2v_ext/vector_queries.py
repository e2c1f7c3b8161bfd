"""Similarity queries of KeyedVectors (the :class:`VectorQueries` part): cosine
similarity, nearest neighbours, analogies, and gensim 4's query methods with its
arguments and results.

A query over the table is one matrix product with it and a division by the cached row
norms (see vectors.py); only the few items of a query are looked up one by one.
Similarity is cosine; a zero vector has cosine 0 with everything (gensim: NaN).
"""
from __future__ import annotations

import math
import numbers
import warnings
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np

KEY_TYPES = (str, int, np.integer)   # what gensim takes as a key (an int: a row number)
_COSMUL_EPS = 1e-3           # Levy & Goldberg (2014): analogy(method='3cosmul')
_GENSIM_COSMUL_EPS = 1e-6    # gensim's most_similar_cosmul

Item = Union[str, int, np.ndarray]
Neighbours = List[Tuple[str, float]]


class VectorQueries:
    """The query methods of KeyedVectors; they use its ``vectors``, ``words``, ``dim``,
    ``get_index``, ``has_index_for`` and ``_norm_divisors()``."""

    # ------------------------------------------------------------------ pairs and sets of keys
    def similarity(self, w1, w2) -> float:
        """Cosine similarity of two keys."""
        return vector_cosine(self.vectors[self.get_index(w1)], self.vectors[self.get_index(w2)])

    def distance(self, w1, w2) -> float:
        """Cosine distance (1 - similarity) of two keys."""
        return 1 - self.similarity(w1, w2)

    def n_similarity(self, ws1: Sequence, ws2: Sequence) -> float:
        """Cosine similarity of the means of two sets of keys' vectors (as gensim: raw
        vectors averaged, keys not present skipped; ZeroDivisionError if a set is empty)."""
        if not (len(ws1) and len(ws2)):
            raise ZeroDivisionError(f"n_similarity needs keys in both sets, got {len(ws1)} and {len(ws2)}")
        return vector_cosine(self.get_mean_vector(ws1, pre_normalize=False),
                             self.get_mean_vector(ws2, pre_normalize=False))

    def get_mean_vector(self, keys, weights=None, pre_normalize: bool = True, post_normalize: bool = False,
                        ignore_missing: bool = True) -> np.ndarray:
        """Weighted mean [d] of keys' vectors (unit vectors with ``pre_normalize``) and of
        vectors [d] given as they are, as gensim defines it: sum(w * v) / sum(|w|) over
        the items used, unit length with ``post_normalize``. Keys not present are
        skipped with ``ignore_missing``, else raise UnknownWordError (a KeyError)."""
        keys = list(keys)
        if not keys:
            raise ValueError("get_mean_vector needs at least one key or vector")
        weights = np.ones(len(keys), np.float32) if weights is None else np.asarray(weights, np.float32)
        if weights.shape != (len(keys),):
            raise ValueError(f"weights must have one value per key ({len(keys)}), got shape {weights.shape}")
        rows, row_weights, given, given_weights = [], [], [], []
        for key, weight in zip(keys, weights):
            if isinstance(key, np.ndarray):
                given.append(self._query_vector(key))
                given_weights.append(weight)
                continue
            row = self.get_index(key, -1)
            if row >= 0:
                rows.append(row)
                row_weights.append(weight)
            elif not ignore_missing:
                self.get_index(key)   # raises UnknownWordError
        vectors = unit_rows(self.vectors[rows]) if pre_normalize else self.vectors[rows]
        if given:
            vectors = np.concatenate([vectors, np.stack(given)])
        used_weights = np.asarray(row_weights + given_weights, np.float32)
        mean = used_weights @ vectors if len(vectors) else np.zeros(self.dim, np.float32)
        total = float(np.abs(used_weights).sum())
        if total > 0:
            mean /= total
        return unit_vector(mean) if post_normalize else mean

    # ------------------------------------------------------------------ neighbours
    def most_similar(self, positive=None, negative=None, topn: Optional[int] = 10,
                     restrict_vocab: Optional[int] = None) -> Union[Neighbours, np.ndarray]:
        """Keys closest (cosine) to the weighted mean of the positive and negative items.

        As gensim 4: an item is a key (its unit vector), a vector [d] (as given) or an
        (item, weight) pair; weights default to 1 for positive items and -1 for negative
        ones; a single key or vector, or an [n, d] array, stands for a list. The mean
        (see get_mean_vector) is scored against the first ``restrict_vocab`` rows (None
        or 0: all), and the keys given are left out of the answer. Returns up to ``topn``
        (key, cosine), best first (ties: lower row first), or with ``topn=None`` the
        cosines [r] of every candidate row, the keys given included.
        """
        if _wants_nothing(topn):
            return []
        items, weights = _weighted_items(positive, negative)
        if not items:
            raise ValueError("most_similar needs at least one positive or negative word or vector")
        mean = self.get_mean_vector(items, weights, pre_normalize=True, post_normalize=True, ignore_missing=False)
        return self._neighbours(self._cosines(mean, restrict_vocab), topn, items)

    def similar_by_word(self, word, topn: Optional[int] = 10, restrict_vocab: Optional[int] = None):
        """most_similar(positive=[word], ...)."""
        return self.most_similar(positive=[word], topn=topn, restrict_vocab=restrict_vocab)

    similar_by_key = similar_by_word

    def similar_by_vector(self, vector, topn: Optional[int] = 10, restrict_vocab: Optional[int] = None):
        """most_similar(positive=[vector], ...)."""
        return self.most_similar(positive=[vector], topn=topn, restrict_vocab=restrict_vocab)

    def most_similar_cosmul(self, positive=None, negative=None, topn: Optional[int] = 10,
                            restrict_vocab: Optional[int] = None) -> Union[Neighbours, np.ndarray]:
        """Neighbours by 3CosMul (Levy & Goldberg 2014), as gensim 4 scores them.

        score(x) = prod_p (1 + cos(x, p)) / 2 / (prod_n (1 + cos(x, n)) / 2 + 1e-6) over the
        positive items p and negative items n, where cos(x, v) = x . v / |x| with a key's
        unit vector, or a vector [d] as given (not normalised, as in gensim). Candidates are
        the first ``restrict_vocab`` rows (None or 0: all; gensim 4.4 ignores it and
        scores every row); the keys given are left out. Returns up to ``topn`` (key,
        score), or with ``topn=None`` the scores [r] of every candidate row.
        """
        if _wants_nothing(topn):
            return []
        pos, neg = _as_list(positive), _as_list(negative)
        if not pos:
            raise ValueError("most_similar_cosmul needs at least one positive word or vector")
        terms = np.stack([self._cosmul_term(item) for item in pos + neg])   # [k, d]
        r = self._candidate_count(restrict_vocab)
        candidates = self.vectors[:r]
        shifted = np.stack([candidates @ term for term in terms])           # [k, r] (faster than one gemm)
        shifted /= self._norm_divisors()[:r]
        shifted += 1
        shifted /= 2
        scores = np.prod(shifted[:len(pos)], axis=0) / (np.prod(shifted[len(pos):], axis=0) + _GENSIM_COSMUL_EPS)
        return self._neighbours(scores, topn, pos + neg)

    def analogy(self, a, b, c, topn: int = 1, method: str = "3cosadd",
                restrict_vocab: Optional[int] = None) -> Neighbours:
        """Answer a : b :: c : ? (e.g. man : king :: woman : queen), excluding a, b, c.

        method '3cosadd': cos(x, b - a + c) with unit vectors (the score is that cosine);
        '3cosmul' (Levy & Goldberg 2014): cos'(x,b) cos'(x,c) / (cos'(x,a) + 1e-3) with
        cos' = (cos + 1) / 2. Candidates are the first ``restrict_vocab`` rows (None or 0:
        all). Returns up to ``topn`` (word, score), best first.
        """
        rows = [self.get_index(w) for w in (a, b, c)]
        ua, ub, uc = unit_rows(self.vectors[rows])[:, None, :]
        r = self._candidate_count(restrict_vocab)
        scores = analogy_scores(self.vectors[:r], self._norm_divisors()[:r], ua, ub, uc, method)[0]
        if method == "3cosadd":   # report cosines to the (normalised) target
            norm = np.linalg.norm(ub - ua + uc)
            scores /= norm if norm > 0 else 1
        return top_neighbours(self.words, scores, topn, rows)

    def rank_by_centrality(self, words: Sequence, use_norm: bool = True) -> List[Tuple[float, str]]:
        """(cosine to the words' mean, word) for the words present (unit vectors with
        ``use_norm``), most central first; ties ordered by word, as gensim. Words not
        present are left out with a warning; none present is a ValueError."""
        used = [w for w in words if w in self]
        if len(used) != len(words):
            warnings.warn(f"ignoring words not in the vocabulary: {[w for w in words if w not in self]!r}",
                          stacklevel=2)
        if not used:
            raise ValueError(f"rank_by_centrality needs at least one word in the vocabulary, got {list(words)!r}")
        vectors = self._unit_rows(used) if use_norm else self.vectors[[self.get_index(w) for w in used]]
        mean = unit_rows(vectors.mean(axis=0, keepdims=True))[0]
        return sorted(zip((vectors @ mean).tolist(), used), reverse=True)

    def doesnt_match(self, words: Sequence):
        """The word furthest (cosine) from the mean of the words present (see rank_by_centrality)."""
        return self.rank_by_centrality(words)[-1][1]

    # ------------------------------------------------------------------ distances to every row
    @staticmethod
    def cosine_similarities(vector_1: np.ndarray, vectors_all: np.ndarray) -> np.ndarray:
        """Cosines [n] between a vector [d] and each row of vectors_all [n, d] (0 for a zero vector)."""
        vectors_all = np.asarray(vectors_all)
        return _cosines_to_rows(np.asarray(vector_1), vectors_all, row_norms(vectors_all))

    def distances(self, word_or_vector, other_words: Sequence = ()) -> np.ndarray:
        """Cosine distances (1 - cosine) [n] from a key or a vector [d] to the keys
        ``other_words``, or to every row [V] when it is empty (the key itself included)."""
        if isinstance(word_or_vector, KEY_TYPES):
            vector = self.vectors[self.get_index(word_or_vector)]
        else:
            vector = self._query_vector(word_or_vector)
        if len(other_words) == 0:
            return 1 - _cosines_to_rows(vector, self.vectors, self.norms)
        return 1 - self.cosine_similarities(vector, self[list(other_words)])

    def closer_than(self, key1, key2) -> List[str]:
        """Keys closer (cosine) to key1 than key2 is, in row order, key1 left out."""
        words = self.words
        return [words[i] for i in self._rows_closer_than(key1, key2).tolist()]

    def rank(self, key1, key2) -> int:
        """1 + the number of keys closer to key1 than key2 is (key1 not counted)."""
        return len(self._rows_closer_than(key1, key2)) + 1

    # ------------------------------------------------------------------ helpers
    def _rows_closer_than(self, key1, key2) -> np.ndarray:
        distances = self.distances(key1)
        row1, row2 = self.get_index(key1), self.get_index(key2)
        rows = np.flatnonzero(distances < distances[row2])
        return rows[rows != row1]

    def _unit_rows(self, keys: Sequence) -> np.ndarray:
        """[n, d] unit vectors of keys (each row normalised by itself: no table pass)."""
        return unit_rows(self.vectors[[self.get_index(k) for k in keys]])

    def _query_vector(self, vector) -> np.ndarray:
        vector = np.asarray(vector, dtype=np.float32)
        if vector.shape != (self.dim,):
            raise ValueError(f"query vectors must have shape ({self.dim},), got {vector.shape}")
        return vector

    def _cosmul_term(self, item) -> np.ndarray:
        if isinstance(item, KEY_TYPES):
            return self._unit_rows([item])[0]
        return self._query_vector(item)

    def _candidate_count(self, restrict_vocab: Optional[int]) -> int:
        """Rows a query scores: the first restrict_vocab (None or 0: all, as gensim)."""
        if not restrict_vocab:
            return len(self.words)
        if restrict_vocab < 0:
            raise ValueError(f"restrict_vocab must be positive or None, got {restrict_vocab}")
        return min(int(restrict_vocab), len(self.words))

    def _cosines(self, unit_query: np.ndarray, restrict_vocab: Optional[int]) -> np.ndarray:
        """Cosines [r] of a unit (or zero) vector [d] with the first r candidate rows."""
        r = self._candidate_count(restrict_vocab)
        scores = self.vectors[:r] @ unit_query
        scores /= self._norm_divisors()[:r]
        return scores

    def _neighbours(self, scores: np.ndarray, topn: Optional[int], items: Sequence):
        """``scores`` itself when topn is None, else the best topn (key, score), the key items left out."""
        if topn is None:
            return scores
        given = [self.get_index(item) for item in items if isinstance(item, KEY_TYPES)]
        return top_neighbours(self.words, scores, topn, given)


def row_norms(vectors: np.ndarray) -> np.ndarray:
    """[n] float32 Euclidean norms of the rows of vectors [n, d] (no [n, d] temporary)."""
    return np.sqrt(np.einsum("ij,ij->i", vectors, vectors))


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """vectors [n, d] with each row scaled to unit length (zero rows stay zero)."""
    norms = row_norms(vectors)
    norms[norms == 0] = 1
    return vectors / norms[:, None]


def vector_cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine of two vectors [d] (0 when either is zero): three dot products, combined in float64."""
    denominator = math.sqrt(float(np.dot(a, a)) * float(np.dot(b, b)))
    return float(np.dot(a, b)) / denominator if denominator > 0 else 0.0


def unit_vector(vector: np.ndarray) -> np.ndarray:
    """vector [d] scaled to unit length (a zero vector stays zero), a new array."""
    norm = math.sqrt(float(np.dot(vector, vector)))
    return vector / np.float32(norm) if norm > 0 else vector.copy()


def top_neighbours(words: Sequence[str], scores: np.ndarray, topn: int, exclude) -> Neighbours:
    """The best ``topn`` rows of scores [r] as (word, score), best first (ties: lower row
    first), rows in ``exclude`` left out. Overwrites the excluded scores."""
    exclude = sorted({i for i in exclude if i < len(scores)})
    scores[exclude] = -np.inf
    k = min(int(topn), len(scores) - len(exclude))
    if k <= 0:
        return []
    best = np.sort(np.argpartition(-scores, k - 1)[:k])
    best = best[np.argsort(-scores[best], kind="stable")]
    return [(words[i], float(scores[i])) for i in best.tolist()]


def analogy_scores(candidates: np.ndarray, divisors: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray,
                   method: str) -> np.ndarray:
    """Scores [B, r] of each candidate row [r, d] (with norms ``divisors`` [r], zeros as 1)
    for a : b :: c : ?, with a, b, c [B, d] unit vectors. 3CosAdd scores are cosines
    times |b - a + c| (the same ranking, as word2vec.c); 3CosMul as in analogy()."""
    if method == "3cosadd":
        scores = (b - a + c) @ candidates.T
        scores /= divisors
        return scores
    if method == "3cosmul":   # (cb+1)/2 * (cc+1)/2 / ((ca+1)/2 + eps), in place: [B, r] is large
        scores = b @ candidates.T
        scores /= divisors
        scores += 1
        cos = c @ candidates.T
        cos /= divisors
        cos += 1
        scores *= cos
        cos = np.matmul(a, candidates.T, out=cos)
        cos /= divisors
        cos += 1 + 2 * _COSMUL_EPS
        scores /= cos
        scores *= 0.5
        return scores
    raise ValueError(f"method must be '3cosadd' or '3cosmul', got {method!r}")


def _cosines_to_rows(vector: np.ndarray, rows: np.ndarray, norms: np.ndarray) -> np.ndarray:
    """Cosines [n] of vector [d] with rows [n, d] whose norms are ``norms`` [n] (gensim's
    formula, dots / (|vector| norms); 0 where either vector is zero)."""
    dots = rows @ vector
    denominators = np.linalg.norm(vector) * norms
    return np.divide(dots, denominators, out=np.zeros_like(dots), where=denominators > 0)


def _wants_nothing(topn) -> bool:
    """True for topn < 1 (the answer is []); topn must be an int or None."""
    if topn is None:
        return False
    if not isinstance(topn, numbers.Integral):
        raise ValueError(f"topn must be an int or None, got {topn!r}")
    return topn < 1


def _as_list(items) -> list:
    """A key, a vector [d], an [n, d] array (its rows) or a sequence of items -> list (None: [])."""
    if items is None:
        return []
    if isinstance(items, KEY_TYPES) or (isinstance(items, np.ndarray) and items.ndim == 1):
        return [items]
    return list(items)


def _weighted_items(positive, negative) -> Tuple[List[Item], List[float]]:
    """most_similar's items and weights: (item, weight) pairs as given, other items
    weighted 1 (positive) or -1 (negative); sequences of numbers become vectors."""
    items, weights = [], []
    for group, sign in ((positive, 1.0), (negative, -1.0)):
        for item in _as_list(group):
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], numbers.Real) \
                    and isinstance(item[0], KEY_TYPES + (np.ndarray,)):
                item, weight = item
            else:
                weight = sign
            items.append(item if isinstance(item, KEY_TYPES + (np.ndarray,)) else np.asarray(item, np.float32))
            weights.append(float(weight))
    return items, weights
