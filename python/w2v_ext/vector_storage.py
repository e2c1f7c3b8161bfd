"""Storage of KeyedVectors (the :class:`VectorStorage` part): this package's own files
(memory-mappable), word2vec and GloVe files, PyTorch and gensim conversions.

``save(path)`` writes two files, as gensim's does: ``path``, JSON holding the words and
counts, and ``path + ".vectors.npy"``, the [V, d] float32 table as a plain .npy file,
each atomically, the table first. ``load(path, mmap="r")`` maps the table read-only
instead of reading it: pages are read as queries touch them, and processes serving the
same file share them. No pickle: gensim's own ``.save`` files are refused with a
pointer to :meth:`from_gensim`.
"""
from __future__ import annotations

import json
import os
from typing import Optional

import numpy as np

from .atomic_file import atomic_write
from .word2vec_format import VectorFileError, os_error_naming, read_word2vec_format, write_word2vec_format

FORMAT = "w2v_ext.keyed_vectors"
VERSION = 1
TABLE_SUFFIX = ".vectors.npy"
_MMAP_MODES = (None, "r", "r+", "c")
_PICKLE_START = b"\x80"


class VectorStorage:
    """The storage methods of KeyedVectors; they use its ``words``, ``vectors``,
    ``counts``, ``dim`` and ``key_to_index``."""

    # ------------------------------------------------------------------ own files
    def save(self, path) -> None:
        """Write ``path`` (words, counts) and ``path + '.vectors.npy'`` (the table); see the module."""
        name = os.fspath(path)
        with atomic_write(name + TABLE_SUFFIX) as f:
            np.save(f, self.vectors, allow_pickle=False)
        counts = None if self.counts is None else self.counts.tolist()
        meta = {"format": FORMAT, "version": VERSION, "shape": list(self.vectors.shape),
                "words": self.words, "counts": counts}
        with atomic_write(name) as f:
            f.write(json.dumps(meta).encode("ascii"))

    @classmethod
    def load(cls, path, mmap: Optional[str] = None):
        """KeyedVectors written by :meth:`save`. ``mmap='r'`` maps the table read-only
        instead of reading it ('r+' and 'c' as numpy's ``mmap_mode``); a file that is
        not one raises VectorFileError (a ValueError naming the file)."""
        if mmap not in _MMAP_MODES:
            raise ValueError(f"mmap must be one of {_MMAP_MODES}, got {mmap!r}")
        name = os.fspath(path)
        meta = _read_metadata(name)
        table_name = name + TABLE_SUFFIX
        try:
            vectors = np.load(table_name, mmap_mode=mmap, allow_pickle=False)
        except OSError as e:
            raise os_error_naming(e, table_name) from None
        except ValueError as e:
            raise VectorFileError(f"{table_name}: not a .npy table ({e})") from None
        if vectors.dtype != np.float32 or list(vectors.shape) != meta["shape"]:
            raise VectorFileError(f"{table_name}: holds {vectors.dtype} {list(vectors.shape)}, but {name} "
                                  f"describes float32 {meta['shape']} (files from different saves?)")
        return cls(meta["words"], vectors, meta["counts"])

    # ------------------------------------------------------------------ word2vec files
    def save_word2vec_format(self, path, binary: bool = False, precision: int = 6, write_header: bool = True) -> None:
        """Write the words and vectors in word2vec format, text by default as gensim
        (``binary=True``: word2vec.c's binary layout; ``write_header=False``: GloVe's
        headerless text). Atomic; counts are not stored. See
        :func:`w2v_ext.word2vec_format.write_word2vec_format`."""
        write_word2vec_format(path, self.words, self.vectors, binary=binary, precision=precision,
                              write_header=write_header)

    @classmethod
    def load_word2vec_format(cls, path, binary: Optional[bool] = None, limit: Optional[int] = None,
                             errors: str = "replace", drop_nonfinite: bool = False, *,
                             unicode_errors: Optional[str] = None, no_header: bool = False):
        """Read a word2vec text/binary file (format detected when binary is None) or, with
        ``no_header=True``, a GloVe text file. ``unicode_errors`` is gensim's name for
        ``errors`` (it wins when given). A file that cannot be read raises
        VectorFileError (a ValueError naming the file), records holding NaN or infinity
        included, unless ``drop_nonfinite`` skips them. Counts are unknown (None).
        See :func:`w2v_ext.word2vec_format.read_word2vec_format`."""
        words, vectors = read_word2vec_format(path, binary=binary, limit=limit, errors=unicode_errors or errors,
                                              drop_nonfinite=drop_nonfinite, no_header=no_header)
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


def _read_metadata(name: str) -> dict:
    """The checked JSON of a save() file."""
    try:
        with open(name, "rb") as f:
            data = f.read()
    except OSError as e:
        raise os_error_naming(e, name) from None
    if data.startswith(_PICKLE_START):
        raise VectorFileError(f"{name}: a pickle, not a w2v_ext KeyedVectors file (gensim's KeyedVectors.save?): "
                              "load it with gensim, then KeyedVectors.from_gensim(...)")
    try:
        meta = json.loads(data)
    except ValueError:
        meta = None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise VectorFileError(f"{name}: not a w2v_ext KeyedVectors file (written by KeyedVectors.save)")
    if meta.get("version") != VERSION:
        raise VectorFileError(f"{name}: version {meta.get('version')!r} of the KeyedVectors file, "
                              f"this w2v_ext reads version {VERSION}")
    _check_metadata(meta, name)
    return meta


def _check_metadata(meta: dict, name: str) -> None:
    words, counts, shape = meta.get("words"), meta.get("counts"), meta.get("shape")
    if not (isinstance(words, list) and all(isinstance(w, str) for w in words)):
        raise VectorFileError(f"{name}: 'words' must be a list of strings")
    if not (isinstance(shape, list) and len(shape) == 2 and shape[0] == len(words)
            and all(isinstance(x, int) and x >= 0 for x in shape)):
        raise VectorFileError(f"{name}: 'shape' must be [{len(words)}, dim] (one row per word), got {shape!r}")
    if counts is not None and not (isinstance(counts, list) and len(counts) == len(words)
                                   and all(isinstance(c, int) for c in counts)):
        raise VectorFileError(f"{name}: 'counts' must be null or {len(words)} integers")
