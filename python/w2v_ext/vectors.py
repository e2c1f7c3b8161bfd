"""KeyedVectors: words and their vectors, with cosine-similarity queries, the standard
analogy / word-similarity evaluations and file I/O (numpy only; torch, scipy and gensim
are imported only inside the methods that need them).

The class is assembled from one module per job:

    vectors             keys, rows and the cached norms (this module)
    vector_queries      similarity queries (most_similar, distances, analogy, ...)
    vector_evaluation   analogy and word-pair evaluations
    vector_storage      save/load, word2vec files, torch and gensim conversions

gensim 4's ``KeyedVectors`` methods are here under their names, with gensim's arguments
and results (the README's "gensim compatibility" lists what differs).

Similarity is cosine throughout; a zero vector has cosine 0 with everything. Row order
matters: ``restrict_vocab=r`` means "the first r rows", which are the r most frequent
words when the vectors come from word2vec.c, gensim or this package's trainer (all sort
by count).

The cache, and vectors shared with their owner
    ``vectors`` is kept without a copy when it is float32 (a view into a model's
    table, strided rows included, or a read-only memmap), and queries never write to
    it. Queries over the whole table divide ``vectors @ q`` by the rows' norms,
    computed on first use and cached ([V] floats; ``unit_vectors`` caches a [V, d]
    table only when asked for). Whoever changes ``vectors`` in place must call
    :meth:`KeyedVectors.reset_cache` afterwards (O(1): the next query recomputes the
    norms, one pass over the table), not while a query runs; ``kv.vectors = table``
    resets it too. A new vocabulary needs a new KeyedVectors.
"""
from __future__ import annotations

import difflib
import warnings
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .vector_evaluation import Correlation, VectorEvaluation, WordPairsResult, pearson, spearman
from .vector_queries import KEY_TYPES, VectorQueries, row_norms
from .vector_storage import VectorStorage

__all__ = ["KeyedVectors", "UnknownWordError", "WordPairsResult", "Correlation", "spearman", "pearson"]

_SUGGEST_VOCAB = 100_000   # KeyError suggestions look at the most frequent words only
_INT_TYPES = (int, np.integer)


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


class KeyedVectors(VectorQueries, VectorEvaluation, VectorStorage):
    """Words with vectors.

    Args:
        words: V words, most frequent first (duplicates allowed; lookups find the first).
        vectors: [V, d] array, stored as float32 (no copy when it already is float32).
        counts: optional [V] word counts, stored as int64.
        key_to_index: optional word -> row map to share instead of building one (it
            must map every word to its first row, e.g. a vocabulary's index).

    After changing ``.vectors`` in place, call :meth:`reset_cache` (see the module's
    docstring).
    """

    def __init__(self, words: Sequence[str], vectors: np.ndarray, counts: Optional[np.ndarray] = None,
                 key_to_index: Optional[Dict[str, int]] = None):
        words = list(words)
        vectors = _as_table(vectors, len(words))
        if counts is not None:
            counts = np.asarray(counts, dtype=np.int64)
            if counts.shape != (len(words),):
                raise ValueError(f"counts must have shape ({len(words)},), got {counts.shape}")
        self._words, self._vectors, self._counts = words, vectors, counts
        self._index = key_to_index   # built on first lookup when None
        self._norm_cache: Optional[Tuple[np.ndarray, np.ndarray]] = None   # (norms, divisors)
        self._unit: Optional[np.ndarray] = None

    # ------------------------------------------------------------------ the table
    @property
    def words(self) -> List[str]:
        """The V words in row order (do not modify)."""
        return self._words

    @property
    def index_to_key(self) -> List[str]:
        """gensim's name for :attr:`words`."""
        return self._words

    @property
    def vectors(self) -> np.ndarray:
        """[V, d] float32. Assigning a new [V, d'] table resets the cache."""
        return self._vectors

    @vectors.setter
    def vectors(self, table) -> None:
        self._vectors = _as_table(table, len(self._words))
        self.reset_cache()

    @property
    def counts(self) -> Optional[np.ndarray]:
        """[V] int64 word counts, or None."""
        return self._counts

    @property
    def dim(self) -> int:
        """d, the vectors' size."""
        return self._vectors.shape[1]

    @property
    def vector_size(self) -> int:
        """gensim's name for :attr:`dim`."""
        return self.dim

    def __len__(self) -> int:
        return len(self._words)

    def __repr__(self) -> str:
        return f"KeyedVectors({len(self)} words, dim={self.dim})"

    # ------------------------------------------------------------------ keys
    @property
    def key_to_index(self) -> Dict[str, int]:
        """word -> its first row (do not modify)."""
        if self._index is None:
            n = len(self._words)
            self._index = dict(zip(reversed(self._words), range(n - 1, -1, -1)))
        return self._index

    def get_index(self, key, default: Optional[int] = None) -> int:
        """Row of ``key``: a word or, as in gensim, an int 0 <= key < V that is not itself
        a word. When neither: ``default`` if given, else :class:`UnknownWordError` (a KeyError)."""
        index = self._index if self._index is not None else self.key_to_index
        try:
            row = index.get(key)
        except TypeError:   # unhashable, e.g. an array
            row = None
        if row is not None:
            return row
        if isinstance(key, _INT_TYPES) and 0 <= key < len(self._words):
            return int(key)
        if default is not None:
            return default
        raise UnknownWordError(key, self)

    def index(self, word) -> int:
        """Row of ``word`` (see :meth:`get_index`); raises :class:`UnknownWordError` (a KeyError) if absent."""
        return self.get_index(word)

    def has_index_for(self, key) -> bool:
        """Whether :meth:`get_index` finds a row for ``key``."""
        return self.get_index(key, -1) >= 0

    def __contains__(self, key) -> bool:
        return self.has_index_for(key)

    def closest_words(self, word: str, n: int = 5, restrict_vocab: Optional[int] = None,
                      cutoff: float = 0.6) -> List[str]:
        """Up to n vocabulary words spelled like ``word`` (difflib ratio >= cutoff), best
        first, among the first ``restrict_vocab`` rows (None: all)."""
        return difflib.get_close_matches(word, self._words[:restrict_vocab], n=n, cutoff=cutoff)

    # ------------------------------------------------------------------ vectors of keys
    def __getitem__(self, key_or_keys) -> np.ndarray:
        """The vector [d] of a key (a copy), or [n, d] for a sequence of keys."""
        if isinstance(key_or_keys, KEY_TYPES):
            return self._vectors[self.get_index(key_or_keys)].copy()
        return self._vectors[[self.get_index(k) for k in key_or_keys]]

    def get_vector(self, key, norm: bool = False) -> np.ndarray:
        """The vector [d] of ``key``: a read-only view of its row or, with ``norm=True``,
        its row of :attr:`unit_vectors` (a new array; the norms are cached, as gensim)."""
        index = self.get_index(key)
        row = self._vectors[index]
        if norm:
            return row / self._norm_divisors()[index]
        row.setflags(write=False)   # the view only: the table stays writable
        return row

    def get_vecattr(self, key, attr: str):
        """gensim's per-key attribute ``attr`` of ``key``; only 'count' is held, when counts are known."""
        if attr != "count" or self._counts is None:
            held = "only 'count'" if self._counts is not None else "no attributes (no counts: word2vec files hold none)"
            raise KeyError(f"vector attribute {attr!r} not present: these vectors hold {held}")
        return self._counts[self.get_index(key)]

    # ------------------------------------------------------------------ the cache
    def fill_norms(self, force: bool = False) -> None:
        """Compute and cache the rows' norms if not cached yet (``force``: recompute, and
        forget the cached unit vectors)."""
        if self._norm_cache is None or force:
            norms = row_norms(self._vectors)
            norms.setflags(write=False)
            self._unit = None
            self._norm_cache = (norms, np.where(norms > 0, norms, np.float32(1)))

    @property
    def norms(self) -> np.ndarray:
        """[V] float32 norms of the rows (cached); assigning None forgets them, as in gensim."""
        self.fill_norms()
        return self._norm_cache[0]

    @norms.setter
    def norms(self, value) -> None:
        if value is not None:
            raise ValueError("norms can only be set to None (forget them); they are computed from vectors")
        self.reset_cache()

    def _norm_divisors(self) -> np.ndarray:
        """[V] float32 norms with 0 replaced by 1: scores divided by them leave zero rows at 0."""
        self.fill_norms()
        return self._norm_cache[1]

    @property
    def unit_vectors(self) -> np.ndarray:
        """[V, d] float32 rows scaled to unit length (zero rows stay zero), read-only; cached
        (a second [V, d] table: queries do not need it)."""
        unit = self._unit
        if unit is None:
            unit = self._vectors / self._norm_divisors()[:, None]
            unit.setflags(write=False)
            self._unit = unit
        return unit

    def get_normed_vectors(self) -> np.ndarray:
        """gensim's name for :attr:`unit_vectors`."""
        return self.unit_vectors

    def unit_normalize_all(self) -> None:
        """Scale every row to unit length in place (zero rows stay zero), as gensim: a
        model sharing this table should not train on afterwards."""
        if not self._vectors.flags.writeable:
            raise ValueError("vectors are read-only (loaded with mmap='r'?): they cannot be normalised in place; "
                             "use get_normed_vectors()")
        self._vectors /= self._norm_divisors()[:, None]
        self.reset_cache()

    def init_sims(self, replace: bool = False) -> None:
        """gensim 3's call, kept for old scripts: caches the norms, and with ``replace=True``
        normalises the rows in place (:meth:`unit_normalize_all`)."""
        warnings.warn("init_sims() is obsolete, as in gensim 4: use fill_norms() or get_normed_vectors()",
                      DeprecationWarning, stacklevel=2)
        self.fill_norms()
        if replace:
            self.unit_normalize_all()

    def reset_cache(self) -> None:
        """Forget the cached norms and unit vectors (O(1)): call after changing ``vectors``
        in place; the next query recomputes them."""
        self._norm_cache = None
        self._unit = None


def _as_table(vectors, n_words: int) -> np.ndarray:
    """vectors as a float32 [n_words, d] array (no copy when it already is float32)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or len(vectors) != n_words:
        raise ValueError(f"vectors must be [len(words)={n_words}, d], got shape {vectors.shape}")
    return vectors
