"""Reading the vectors a command queries: a word2vec file or a native model file."""
from __future__ import annotations

import os
from typing import List

from .errors import CommandError


def is_native_model(path: str) -> bool:
    """Whether `path` names a native model (by its extension) and is one (a zip archive)."""
    from ..model_format import kind_of
    if kind_of(path) != "native" or os.path.isdir(path):
        return False
    with open(path, "rb") as f:
        return f.read(4) == b"PK\x03\x04"


def load_vectors(path: str):
    """KeyedVectors from a word2vec file (text or binary, told by its content) or a native
    model file."""
    from ..vectors import KeyedVectors
    if not os.path.exists(path):
        raise CommandError(f"vectors file {path!r} does not exist")
    if is_native_model(path):
        from ..trainer import Word2Vec
        return Word2Vec.load(path, progress=False).wv
    try:
        return KeyedVectors.load_word2vec_format(path)
    except ValueError as e:
        raise CommandError(str(e)) from e


def unknown_word_message(kv, words: List[str], vectors: str):
    """The message naming the first of `words` not in `kv`, with the closest vocabulary
    words; None when all are known."""
    missing = [w for w in words if w not in kv]
    if not missing:
        return None
    word = missing[0]
    close = kv.closest_words(word)
    hint = f"; closest vocabulary words: {', '.join(close)}" if close else ""
    return f"{word!r} is not in the vocabulary of {vectors}{hint}"


def require_words(kv, words: List[str], vectors: str) -> None:
    """CommandError naming the first unknown word and the closest vocabulary words."""
    message = unknown_word_message(kv, words, vectors)
    if message is not None:
        raise CommandError(message)
