"""What training will hold in memory, checked against this machine's memory before the
long work starts: before counting (from a low estimate of the vocabulary) and again
once the vocabulary is known."""
from __future__ import annotations

import math
import os
from typing import Optional

BYTES_PER_CORPUS_WORD = 6    # English text: a word and its separator, about


def physical_memory() -> Optional[int]:
    """Bytes of memory this machine has, or None where the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def table_bytes(words: int, dim: int) -> int:
    """The input and output tables: [words, dim padded to 16] float32 each."""
    return 2 * words * (-(-dim // 16) * 16) * 4


def scratch_bytes(settings, threads: int) -> int:
    """The native trainer's working memory over all threads (csrc/cpu/train_cpu.cpp's
    Scratch; a window holds at most a sentence)."""
    inputs = min(2 * settings.window, settings.max_sentence_length)
    targets = 1 + settings.negative
    per_thread = 8 * settings.negative + 8 * (inputs + targets) + 4 * (inputs * targets + (inputs + 1) * settings.dim)
    return threads * per_thread


def vocabulary_low_estimate(corpus_bytes: int, max_final_vocab: Optional[int]) -> int:
    """Fewer words than a corpus of this size is all but sure to keep: the square root of
    its word count (far below Heaps' law for any natural language text)."""
    words = max(1, int(math.isqrt(corpus_bytes // BYTES_PER_CORPUS_WORD)))
    return min(words, max_final_vocab) if max_final_vocab else words


def check_fits(settings, words: int, threads: int, words_known: bool) -> None:
    """ValueError with the figures when the tables for `words` vocabulary words (a low
    estimate unless words_known) and the trainer's scratch exceed this machine's memory."""
    available = physical_memory()
    if available is None:
        return
    tables, scratch = table_bytes(words, settings.dim), scratch_bytes(settings, threads)
    if tables + scratch <= available:
        return
    what = f"{words:,} vocabulary words" if words_known else f"at least ~{words:,} vocabulary words (estimated " \
                                                             f"from the corpus size)"
    raise ValueError(f"training needs {_gb(tables + scratch)} of memory, more than this machine's "
                     f"{_gb(available)}: the tables of dim={settings.dim} for {what} take {_gb(tables)} and the "
                     f"trainer's scratch (window={settings.window}, negative={settings.negative}, {threads} "
                     f"threads) {_gb(scratch)}; " + ("lower negative" if scratch > tables else
                                                     "lower dim, or keep fewer words (min_count, max_final_vocab)"))


def _gb(n: int) -> str:
    return f"{n / 1e9:,.1f} GB"
