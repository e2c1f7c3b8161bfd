"""KeyedVectors: words and their vectors, with cosine-similarity queries and the
standard analogy / word-similarity evaluations (numpy only; torch and gensim are
imported only inside the methods that need them).

Similarity is cosine throughout: queries use the unit-normalised vectors, cached
on first use (zero vectors stay zero).  Row order matters: ``restrict_vocab=r``
means "the first r rows", which are the r most frequent words when the vectors
come from word2vec.c, gensim or this package's trainer (all sort by count).
"""
from __future__ import annotations

import difflib
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from .word2vec_format import read_word2vec_format, write_word2vec_format

__all__ = ["KeyedVectors", "UnknownWordError", "spearman", "pearson"]

Query = Union[str, np.ndarray]
_COSMUL_EPS = 1e-3        # Levy & Goldberg (2014), 3CosMul
_BATCH_ELEMENTS = 1 << 24  # analogy evaluation: questions x vocab scores per chunk (64 MiB)
_SUGGEST_VOCAB = 100_000   # KeyError suggestions look at the most frequent words only


class UnknownWordError(KeyError):
    """KeyError for a word not in the vocabulary; its message lists close words
    (computed lazily, so ``try: kv[w] except KeyError`` loops stay fast)."""

    def __init__(self, word, kv: "KeyedVectors"):
        super().__init__(word)
        self.word, self._kv = word, kv

    def __str__(self):
        close = self._kv.closest_words(self.word, restrict_vocab=_SUGGEST_VOCAB) \
            if isinstance(self.word, str) else []
        hint = f"; close words: {', '.join(close)}" if close else ""
        return f"word {self.word!r} not in vocabulary ({len(self._kv)} words){hint}"


class KeyedVectors:
    """Words with vectors.

    Args:
        words: V words, most frequent first (duplicates allowed; lookups find the first).
        vectors: [V, d] array, stored as float32 (no copy when it already is float32).
        counts: optional [V] word counts, stored as int64.

    The unit vectors are cached: after changing ``.vectors`` in place, call
    :meth:`reset_cache`.
    """

    def __init__(self, words: Sequence[str], vectors: np.ndarray, counts: Optional[np.ndarray] = None):
        words = list(words)
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != len(words):
            raise ValueError(f"vectors must be [len(words)={len(words)}, d], got shape {vectors.shape}")
        if counts is not None:
            counts = np.asarray(counts, dtype=np.int64)
            if counts.shape != (len(words),):
                raise ValueError(f"counts must have shape ({len(words)},), got {counts.shape}")
        self._words, self._vectors, self._counts = words, vectors, counts
        # reversed, so the first occurrence of a duplicated word wins
        self._index: Dict[str, int] = dict(zip(reversed(words), range(len(words) - 1, -1, -1)))
        self._unit: Optional[np.ndarray] = None

    # ------------------------------------------------------------------ basics
    @property
    def words(self) -> List[str]:
        """The V words in row order (do not modify)."""
        return self._words

    @property
    def vectors(self) -> np.ndarray:
        """[V, d] float32."""
        return self._vectors

    @property
    def counts(self) -> Optional[np.ndarray]:
        """[V] int64 word counts, or None."""
        return self._counts

    @property
    def dim(self) -> int:
        """d, the vectors' size."""
        return self._vectors.shape[1]

    @property
    def unit_vectors(self) -> np.ndarray:
        """[V, d] float32 rows scaled to unit length (zero rows stay zero); cached."""
        if self._unit is None:
            norms = np.linalg.norm(self._vectors, axis=1, keepdims=True)
            norms[norms == 0] = 1
            self._unit = self._vectors / norms
        return self._unit

    def reset_cache(self) -> None:
        """Forget the cached unit vectors (call after modifying ``.vectors`` in place)."""
        self._unit = None

    def __len__(self) -> int:
        return len(self._words)

    def __contains__(self, word) -> bool:
        try:
            return word in self._index
        except TypeError:   # unhashable, e.g. an array
            return False

    def __getitem__(self, word: Union[str, Sequence[str]]) -> np.ndarray:
        """The vector [d] of a word (a copy), or [n, d] for a list of words."""
        if isinstance(word, str):
            return self._vectors[self.index(word)].copy()
        return self._vectors[[self.index(w) for w in word]]

    def index(self, word: str) -> int:
        """Row of ``word``; raises :class:`UnknownWordError` (a KeyError) if absent."""
        try:
            return self._index[word]
        except (KeyError, TypeError):
            raise UnknownWordError(word, self) from None

    def closest_words(self, word: str, n: int = 5, restrict_vocab: Optional[int] = None,
                      cutoff: float = 0.6) -> List[str]:
        """Up to n vocabulary words spelled like ``word`` (difflib ratio >= cutoff), best
        first, among the first ``restrict_vocab`` rows (None: all)."""
        return difflib.get_close_matches(word, self._words[:restrict_vocab], n=n, cutoff=cutoff)

    def __repr__(self) -> str:
        return f"KeyedVectors({len(self)} words, dim={self.dim})"

    # ------------------------------------------------------------------ queries
    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two words."""
        u = self.unit_vectors
        return float(u[self.index(a)] @ u[self.index(b)])

    def most_similar(self, positive: Union[Query, Sequence[Query]] = (),
                     negative: Union[Query, Sequence[Query]] = (), topn: int = 10,
                     restrict_vocab: Optional[int] = None) -> List[Tuple[str, float]]:
        """Words closest (cosine) to the mean of the positive minus the negative items.

        As gensim: words contribute their unit vectors, arrays [d] are used as given,
        the words given are excluded from the answer, and only the first
        ``restrict_vocab`` rows are candidates.  Returns up to ``topn`` (word, cosine).
        """
        pos, neg = _as_list(positive), _as_list(negative)
        if not pos and not neg:
            raise ValueError("most_similar needs at least one positive or negative word or vector")
        mean = np.zeros(self.dim, dtype=np.float32)
        exclude = set()
        for items, sign in ((pos, 1.0), (neg, -1.0)):
            for item in items:
                if isinstance(item, str):
                    i = self.index(item)
                    exclude.add(i)
                    mean += sign * self.unit_vectors[i]
                else:
                    v = np.asarray(item, dtype=np.float32)
                    if v.shape != (self.dim,):
                        raise ValueError(f"query vectors must have shape ({self.dim},), got {v.shape}")
                    mean += sign * v
        norm = np.linalg.norm(mean)
        scores = self.unit_vectors[:restrict_vocab] @ (mean / norm if norm > 0 else mean)
        return self._top(scores, topn, exclude)

    def analogy(self, a: str, b: str, c: str, topn: int = 1, method: str = "3cosadd",
                restrict_vocab: Optional[int] = None) -> List[Tuple[str, float]]:
        """Answer a : b :: c : ? (e.g. man : king :: woman : queen), excluding a, b, c.

        method '3cosadd': cos(x, b - a + c) with unit vectors (the score is that cosine);
        '3cosmul' (Levy & Goldberg 2014): cos'(x,b) cos'(x,c) / (cos'(x,a) + 1e-3) with
        cos' = (cos + 1) / 2.  Returns up to ``topn`` (word, score), best first.
        """
        ia, ib, ic = self.index(a), self.index(b), self.index(c)
        u = self.unit_vectors
        scores = _analogy_scores(u[:restrict_vocab], u[[ia]], u[[ib]], u[[ic]], method)[0]
        if method == "3cosadd":   # report cosines to the (normalised) target
            norm = np.linalg.norm(u[ib] - u[ia] + u[ic])
            scores /= norm if norm > 0 else 1
        return self._top(scores, topn, {ia, ib, ic})

    def _top(self, scores: np.ndarray, topn: int, exclude) -> List[Tuple[str, float]]:
        """Best ``topn`` rows of scores [r] (ties: lower row first), skipping ``exclude``."""
        exclude = [i for i in exclude if i < len(scores)]
        scores[exclude] = -np.inf
        k = min(int(topn), len(scores) - len(exclude))
        if k <= 0:
            return []
        best = np.sort(np.argpartition(-scores, k - 1)[:k])
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(self._words[i], float(scores[i])) for i in best]

    # ------------------------------------------------------------------ evaluation
    def _canonical_index(self, restrict_vocab: Optional[int], case_insensitive: bool):
        """Map (lower-cased) word -> its first row among the first restrict_vocab rows."""
        r = len(self) if restrict_vocab is None else min(int(restrict_vocab), len(self))
        key = str.lower if case_insensitive else str
        index: Dict[str, int] = {}
        for i, w in enumerate(self._words[:r]):
            index.setdefault(key(w), i)
        return r, key, index

    def evaluate_analogies(self, path, restrict_vocab: Optional[int] = 30000, method: str = "3cosadd",
                           case_insensitive: bool = True) -> dict:
        """Accuracy on an analogy file in Google's ``questions-words.txt`` format.

        Lines ``: section`` start a section; other lines are ``a b c d`` (a : b :: c : d);
        lines without 4 words are ignored.  As word2vec.c's compute-accuracy and
        bench/evaluate.py: only the first ``restrict_vocab`` rows (None: all) are used,
        questions with a word outside them are skipped (counted in ``total``, not in
        ``questions``), the answer is the best-scoring restricted word other than
        a, b, c, ties going to the more frequent word.  With ``case_insensitive``,
        words match lower-cased, a lower-cased form maps to its most frequent
        spelling, and all spellings of a, b, c are excluded from the answers.

        Returns {"accuracy", "correct", "questions", "total", "skipped",
        "sections": {name: {"accuracy", "correct", "questions", "total"}}};
        accuracy = correct / questions (0.0 when no question could be answered).
        """
        if method not in ("3cosadd", "3cosmul"):
            raise ValueError(f"method must be '3cosadd' or '3cosmul', got {method!r}")
        r, key, index = self._canonical_index(restrict_vocab, case_insensitive)
        canon = np.array([index[key(w)] for w in self._words[:r]], dtype=np.int64)   # [r]
        spellings: Dict[int, List[int]] = {}   # canonical row -> its other rows, if any
        for i in np.flatnonzero(canon != np.arange(r)):
            spellings.setdefault(int(canon[i]), []).append(int(i))

        names: List[str] = []
        totals: List[int] = []
        questions, question_section = [], []
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith(":"):
                    names.append(line[1:].strip())
                    totals.append(0)
                    continue
                ws = line.split()
                if len(ws) != 4:
                    continue
                if not names:   # questions before any ': section' line
                    names.append("")
                    totals.append(0)
                totals[-1] += 1
                ids = [index.get(key(w)) for w in ws]
                if None not in ids:
                    questions.append(ids)
                    question_section.append(len(names) - 1)

        q = np.array(questions, dtype=np.int64).reshape(-1, 4)          # [m, 4] canonical rows
        correct = np.zeros(len(q), dtype=bool)
        u = self.unit_vectors[:r]
        chunk = max(1, _BATCH_ELEMENTS // max(r, 1) // (3 if method == "3cosmul" else 1))
        for s in range(0, len(q), chunk):
            b = q[s:s + chunk]
            scores = _analogy_scores(u, u[b[:, 0]], u[b[:, 1]], u[b[:, 2]], method)   # [B, r]
            rows = np.arange(len(b))
            for k in range(3):
                scores[rows, b[:, k]] = -np.inf
            if spellings:
                for qi in range(len(b)):
                    for k in range(3):
                        scores[qi, spellings.get(int(b[qi, k]), [])] = -np.inf
            correct[s:s + chunk] = canon[scores.argmax(axis=1)] == b[:, 3]

        sec = np.array(question_section, dtype=np.int64)
        n_sec = np.bincount(sec, minlength=len(names))
        c_sec = np.bincount(sec, weights=correct, minlength=len(names)).astype(np.int64)
        sections: Dict[str, dict] = {}
        for name, total, n, c in zip(names, totals, n_sec.tolist(), c_sec.tolist()):
            d = sections.setdefault(name, {"correct": 0, "questions": 0, "total": 0})
            d["correct"] += c
            d["questions"] += n
            d["total"] += total
        for d in sections.values():
            d["accuracy"] = d["correct"] / d["questions"] if d["questions"] else 0.0
        n_correct, total = int(correct.sum()), sum(totals)
        return {"accuracy": n_correct / len(q) if len(q) else 0.0, "correct": n_correct,
                "questions": len(q), "total": total, "skipped": total - len(q), "sections": sections}

    def evaluate_word_pairs(self, path, restrict_vocab: Optional[int] = None,
                            case_insensitive: bool = True) -> dict:
        """Correlation of cosine similarity with human scores (WordSim-353, SimLex-999).

        File: ``word1<TAB>word2<TAB>score[<TAB>...]`` per line, ``#`` comment lines and
        blank lines ignored, and a header line (non-numeric score) allowed before the
        first pair.  Pairs with a word outside the first ``restrict_vocab`` rows
        (None: all) are out-of-vocabulary and left out.

        Returns {"spearman", "pearson", "pairs", "total", "oov"}; the correlations are
        NaN with fewer than 2 pairs or a constant column.  Spearman uses average
        ranks for ties, like scipy.stats.spearmanr.
        """
        _, key, index = self._canonical_index(restrict_vocab, case_insensitive)
        u = self.unit_vectors
        gold, pred, total = [], [], 0
        with open(path, encoding="utf-8", errors="replace") as f:
            for lineno, line in enumerate(f, 1):
                if line.startswith("#") or not line.strip():
                    continue
                parts = line.rstrip("\r\n").split("\t")
                try:
                    score = float(parts[2]) if len(parts) >= 3 else None
                except ValueError:
                    if total == 0:   # header line
                        continue
                    score = None
                if score is None:
                    raise ValueError(f"{path}: line {lineno}: expected 'word1<TAB>word2<TAB>score', "
                                     f"got {line.strip()[:80]!r}")
                total += 1
                ia, ib = index.get(key(parts[0].strip())), index.get(key(parts[1].strip()))
                if ia is not None and ib is not None:
                    gold.append(score)
                    pred.append(float(u[ia] @ u[ib]))
        return {"spearman": spearman(gold, pred), "pearson": pearson(gold, pred),
                "pairs": len(gold), "total": total, "oov": total - len(gold)}

    # ------------------------------------------------------------------ I/O and interop
    def save_word2vec_format(self, path, binary: bool = True, precision: int = 6) -> None:
        """Write the words and vectors in word2vec format (atomic; counts are not stored).
        See :func:`w2v_ext.word2vec_format.write_word2vec_format`."""
        write_word2vec_format(path, self._words, self._vectors, binary=binary, precision=precision)

    @classmethod
    def load_word2vec_format(cls, path, binary: Optional[bool] = None, limit: Optional[int] = None,
                             errors: str = "replace", drop_nonfinite: bool = False) -> "KeyedVectors":
        """Read a word2vec text/binary file (format detected when binary is None); a file
        that cannot be read raises VectorFileError (a ValueError naming the file), records
        holding NaN or infinity included, unless ``drop_nonfinite`` skips them.
        See :func:`w2v_ext.word2vec_format.read_word2vec_format`."""
        words, vectors = read_word2vec_format(path, binary=binary, limit=limit, errors=errors,
                                              drop_nonfinite=drop_nonfinite)
        return cls(words, vectors)

    def to_embedding(self, freeze: bool = True):
        """A ``torch.nn.Embedding`` [V, d] (float32) initialised with a copy of the
        vectors: row i is ``words[i]`` (``index(word)`` gives the row to look up).
        ``freeze=False`` lets it train."""
        try:
            import torch
        except ImportError as e:
            raise ImportError("KeyedVectors.to_embedding needs PyTorch: pip install 'w2v_ext[torch]' "
                              "(or any torch >= 2.4)") from e
        return torch.nn.Embedding.from_pretrained(torch.from_numpy(self._vectors.copy()), freeze=freeze)

    def to_gensim(self):
        """A gensim 4 ``KeyedVectors`` with the same words (first occurrence of
        duplicates), vectors and, if known, counts (vector attribute 'count')."""
        try:
            from gensim.models import KeyedVectors as GensimKeyedVectors
        except ImportError as e:
            raise ImportError("KeyedVectors.to_gensim needs gensim 4: pip install 'gensim>=4'") from e
        rows = sorted(self._index.values())
        kv = GensimKeyedVectors(self.dim)
        kv.add_vectors([self._words[i] for i in rows], self._vectors[rows])
        if self._counts is not None:
            # Not add_vectors(extras=...): gensim 4.4's add_vectors fails on extras
            # (it iterates the dict as pairs). allocate_vecattrs + expandos is how gensim
            # itself stores vector attributes (set_vecattr does the same, one word at a time).
            kv.allocate_vecattrs(["count"], [np.int64])
            kv.expandos["count"][:] = self._counts[rows]
        return kv

    @classmethod
    def from_gensim(cls, kv) -> "KeyedVectors":
        """From a gensim 4 ``KeyedVectors`` (``index_to_key``, ``vectors`` [V, d] and, when
        present, the 'count' vector attribute).  Does not import gensim.  Note that
        gensim's own ``load_word2vec_format`` fills 'count' with made-up descending
        numbers (word2vec files hold no counts); those are carried over as they are."""
        words = list(kv.index_to_key)
        try:
            counts = np.array([kv.get_vecattr(w, "count") for w in words], dtype=np.int64)
        except (KeyError, AttributeError):
            counts = None
        return cls(words, np.asarray(kv.vectors, dtype=np.float32), counts)


def _as_list(items) -> list:
    """A word, a vector [d] or a sequence of them -> list of items."""
    if isinstance(items, str) or (isinstance(items, np.ndarray) and items.ndim == 1):
        return [items]
    return list(items)


def _analogy_scores(u: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray, method: str) -> np.ndarray:
    """Scores [B, r] of every candidate row of u [r, d] for a : b :: c : ?, with a, b, c
    [B, d] unit vectors.  3CosAdd scores are dot products with the unnormalised target
    b - a + c (same ranking as cosine, as in word2vec.c); 3CosMul as in analogy()."""
    if method == "3cosadd":
        return (b - a + c) @ u.T
    if method == "3cosmul":   # (cb+1)/2 * (cc+1)/2 / ((ca+1)/2 + eps), in place: [B, r] is large
        scores = b @ u.T
        scores += 1
        cos = c @ u.T
        cos += 1
        scores *= cos
        cos = np.matmul(a, u.T, out=cos)
        cos += 1 + 2 * _COSMUL_EPS
        scores /= cos
        scores *= 0.5
        return scores
    raise ValueError(f"method must be '3cosadd' or '3cosmul', got {method!r}")


def _rankdata(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n of x [n], ties getting the average of their ranks (scipy's 'average')."""
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    new = np.r_[True, xs[1:] != xs[:-1]]
    starts = np.flatnonzero(new)
    ends = np.r_[starts[1:], len(x)]
    ranks = np.empty(len(x), dtype=np.float64)
    ranks[order] = ((starts + ends + 1) / 2.0)[np.cumsum(new) - 1]
    return ranks


def pearson(x, y) -> float:
    """Pearson correlation of two equal-length sequences (NaN if < 2 items or constant)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(x) != len(y):
        raise ValueError(f"lengths differ: {len(x)} and {len(y)}")
    if len(x) < 2:
        return float("nan")
    xm, ym = x - x.mean(), y - y.mean()
    denom = np.sqrt((xm @ xm) * (ym @ ym))
    if not denom > 0:
        return float("nan")
    return float(np.clip((xm @ ym) / denom, -1.0, 1.0))


def spearman(x, y) -> float:
    """Spearman rank correlation with average ranks for ties (= scipy.stats.spearmanr)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(x) != len(y):
        raise ValueError(f"lengths differ: {len(x)} and {len(y)}")
    if len(x) < 2 or np.isnan(x).any() or np.isnan(y).any():
        return float("nan")
    return pearson(_rankdata(x), _rankdata(y))
