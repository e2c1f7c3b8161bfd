"""Storage of KeyedVectors (the :class:`VectorStorage` part): word2vec files, PyTorch
and gensim conversions.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from .word2vec_format import read_word2vec_format, write_word2vec_format


class VectorStorage:
    """The storage methods of KeyedVectors; they use its ``words``, ``vectors``,
    ``counts``, ``dim`` and ``key_to_index``."""

    # ------------------------------------------------------------------ word2vec files
    def save_word2vec_format(self, path, binary: bool = True, precision: int = 6) -> None:
        """Write the words and vectors in word2vec format (atomic; counts are not stored).
        See :func:`w2v_ext.word2vec_format.write_word2vec_format`."""
        write_word2vec_format(path, self.words, self.vectors, binary=binary, precision=precision)

    @classmethod
    def load_word2vec_format(cls, path, binary: Optional[bool] = None, limit: Optional[int] = None,
                             errors: str = "replace", drop_nonfinite: bool = False):
        """Read a word2vec text/binary file (format detected when binary is None); a file
        that cannot be read raises VectorFileError (a ValueError naming the file), records
        holding NaN or infinity included, unless ``drop_nonfinite`` skips them.
        See :func:`w2v_ext.word2vec_format.read_word2vec_format`."""
        words, vectors = read_word2vec_format(path, binary=binary, limit=limit, errors=errors,
                                              drop_nonfinite=drop_nonfinite)
        return cls(words, vectors)

    # ------------------------------------------------------------------ other libraries
    def to_embedding(self, freeze: bool = True):
        """A ``torch.nn.Embedding`` [V, d] (float32) initialised with a copy of the
        vectors: row i is ``words[i]`` (``index(word)`` gives the row to look up).
        ``freeze=False`` lets it train."""
        try:
            import torch
        except ImportError as e:
            raise ImportError("KeyedVectors.to_embedding needs PyTorch: pip install 'w2v_ext[torch]' "
                              "(or any torch >= 2.4)") from e
        return torch.nn.Embedding.from_pretrained(torch.from_numpy(np.array(self.vectors)), freeze=freeze)

    def to_gensim(self):
        """A gensim 4 ``KeyedVectors`` with the same words (first occurrence of
        duplicates), vectors and, if known, counts (vector attribute 'count')."""
        try:
            from gensim.models import KeyedVectors as GensimKeyedVectors
        except ImportError as e:
            raise ImportError("KeyedVectors.to_gensim needs gensim 4: pip install 'gensim>=4'") from e
        rows = sorted(self.key_to_index.values())
        kv = GensimKeyedVectors(self.dim)
        kv.add_vectors([self.words[i] for i in rows], self.vectors[rows])
        if self.counts is not None:
            # Not add_vectors(extras=...): gensim 4.4's add_vectors fails on extras
            # (it iterates the dict as pairs). allocate_vecattrs + expandos is how gensim
            # itself stores vector attributes (set_vecattr does the same, one word at a time).
            kv.allocate_vecattrs(["count"], [np.int64])
            kv.expandos["count"][:] = self.counts[rows]
        return kv

    @classmethod
    def from_gensim(cls, kv):
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

