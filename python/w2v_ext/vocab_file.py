"""word2vec.c's vocabulary file (-save-vocab / -read-vocab): one "word count" line per
word, most frequent first. word2vec.c also lists its sentence-end token </s>, which is
no word here: it is skipped when read and never written."""
from __future__ import annotations

import os
from typing import Optional, Sequence

import numpy as np

from .atomic_file import atomic_write
from .vocab import ENCODING, ERRORS, Vocabulary

SENTENCE_END = "</s>"


class VocabFileError(ValueError):
    """A vocabulary file that cannot be read; the message names the file and the line."""


def write_vocab_file(path, words: Sequence[str], counts) -> None:
    """Write "word count" lines in the order given, atomically."""
    lines = (f"{w} {int(c)}\n" for w, c in zip(words, np.asarray(counts).tolist()))
    with atomic_write(path) as f:
        f.write("".join(lines).encode(ENCODING, ERRORS))


def read_vocab_file(path, min_count: int = 1, max_final_vocab: Optional[int] = None) -> Vocabulary:
    """The words of a vocabulary file seen at least min_count times (the max_final_vocab
    most frequent of them), sorted by count, most frequent first (ties in file order)."""
    name = os.fspath(path)
    words, counts = [], []
    seen = set()
    with open(name, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            fields = raw.split()
            if not fields:
                continue
            if len(fields) != 2 or not fields[1].isdigit() or int(fields[1]) < 1:
                shown = raw.decode(ENCODING, "replace").rstrip("\n")
                raise VocabFileError(f"{name}, line {lineno}: expected 'word count' (a count >= 1), got {shown!r}")
            word = fields[0].decode(ENCODING, ERRORS)
            if word in seen:
                raise VocabFileError(f"{name}, line {lineno}: {word!r} is listed twice")
            seen.add(word)
            if word != SENTENCE_END:
                words.append(word)
                counts.append(int(fields[1]))
    counts_array = np.asarray(counts, dtype=np.int64)
    order = np.argsort(-counts_array, kind="stable")
    kept = [int(i) for i in order if counts_array[i] >= min_count][:max_final_vocab or None]
    if not kept:
        raise VocabFileError(f"{name}: no word occurs min_count={min_count} times ({len(words)} words listed)")
    return Vocabulary([words[i] for i in kept], counts_array[kept])
