"""The vocabulary: words sorted by count, most frequent first, counted in native code.

Words are byte strings in the corpus; here they are `str`, decoded from UTF-8 with
'surrogateescape', so bytes that are not valid UTF-8 survive a round trip unchanged
(they show as surrogate escapes in Python and are written back as the original bytes).

gensim's vocabulary rules live here too: a trim_rule deciding word by word
(keeps_word), and the online update that appends a new corpus's words after the
words a model already has (updated).
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from . import _native
from .corpus import Corpus, CorpusError, read_range

ENCODING = "utf-8"
ERRORS = "surrogateescape"
RULE_DEFAULT, RULE_DISCARD, RULE_KEEP = 0, 1, 2   # a trim_rule's answers (gensim.utils' values)
TrimRule = Callable[[str, int, int], int]


class Vocabulary:
    """words[i] occurred counts[i] times; counts never increase with i, except after an
    online update (see updated), which appends new words after the old ones.

    What the corpus last counted for it held: `corpus_words` words (out-of-vocabulary
    ones included; gensim's corpus_total_words), `corpus_sentences` sentences (token
    lists, or lines of text files; gensim's corpus_count), None when unknown,
    and `epoch_words` words of the vocabulary: what one epoch over that corpus trains."""

    def __init__(self, words: Sequence[str], counts):
        counts = np.asarray(counts, dtype=np.int64)
        if len(words) != len(counts):
            raise ValueError(f"{len(words)} words but {len(counts)} counts")
        self.words: List[str] = list(words)
        self.counts = counts
        self.corpus_words: Optional[int] = None
        self.corpus_sentences: Optional[int] = None
        self.epoch_words = self.total
        self._index: Optional[Dict[str, int]] = None
        self._native_index = None

    def counted_in(self, corpus_words: Optional[int], corpus_sentences: Optional[int]) -> "Vocabulary":
        """This vocabulary, noting the words and sentences of the corpus it was counted in."""
        self.corpus_words, self.corpus_sentences = corpus_words, corpus_sentences
        return self

    @classmethod
    def from_bytes(cls, words: Sequence[bytes], counts) -> "Vocabulary":
        """From V byte strings and [V] counts (bytes decoded with surrogateescape)."""
        return cls([w.decode(ENCODING, ERRORS) for w in words], counts)

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word) -> bool:
        return word in self.index

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} words, {self.total} occurrences)"

    @property
    def total(self) -> int:
        """Occurrences of all vocabulary words: the words one epoch trains on."""
        return int(self.counts.sum())

    @property
    def index(self) -> Dict[str, int]:
        """word -> row."""
        if self._index is None:
            self._index = {w: i for i, w in enumerate(self.words)}
        return self._index

    def word_bytes(self) -> List[bytes]:
        """The V words as the corpus's bytes."""
        return [w.encode(ENCODING, ERRORS) for w in self.words]

    @property
    def native_index(self):
        """The native word -> id table the corpus encoder uses."""
        if self._native_index is None:
            self._native_index = _native.cpu.WordIndex(self.word_bytes())
        return self._native_index


def count_words(corpus: Corpus, max_vocab_size: Optional[int] = None, threads: int = 1):
    """A native WordCounter holding the corpus's word counts, counted by `threads`
    threads over byte ranges of plain files (one thread for other corpora, or when
    max_vocab_size is set)."""
    limit = int(max_vocab_size or 0)
    # With a limit, pruning depends on the order words are seen in: one thread keeps it
    # word2vec.c's (and independent of the thread count).
    ranges = corpus.ranges(threads) if threads > 1 and not limit else []
    if len(ranges) > 1:
        stop = threading.Event()   # set when the caller is interrupted: the threads end between blocks

        def count_range(r):
            counter = _native.cpu.WordCounter(limit)
            for block in read_range(*r):
                if stop.is_set():
                    return None
                counter.add_block(block)
            path, _, end = r
            # a file's end ends its last sentence, if no newline did
            counter.add_block(b"\n" if end == os.path.getsize(path) and not _ends_line(path) else b"", last=True)
            return counter

        with ThreadPoolExecutor(max_workers=threads) as pool:
            futures = [pool.submit(count_range, r) for r in ranges]
            try:
                # Waiting in slices: a signal delivered to a counting thread is only
                # handled when the main thread runs again.
                while wait(futures, timeout=0.1).not_done:
                    pass
                counters = [f.result() for f in futures]
            except BaseException:
                stop.set()
                raise
        total = counters[0]
        for other in counters[1:]:
            total.merge(other)
        return total
    counter = _native.cpu.WordCounter(limit, token_records=corpus.token_records)
    for block in corpus.blocks() if corpus.token_records else _lines_once(corpus.blocks()):
        counter.add_block(block)
    counter.add_block(b"", last=True)
    return counter


def _ends_line(path: str) -> bool:
    """Whether a plain file's last byte is a newline (False for an empty file)."""
    if os.path.getsize(path) == 0:
        return False
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


def _lines_once(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """Text blocks without the newline Corpus.blocks adds after a file that ended in
    one, so that a file's sentences (counter.newlines) are its lines, as gensim counts
    them; the words are the same."""
    ended = False
    for block in blocks:
        if block == b"\n" and ended:
            continue
        ended = block.endswith(b"\n")
        yield block


def build_vocabulary(corpus: Corpus, min_count: int = 5, max_vocab_size: Optional[int] = None,
                     max_final_vocab: Optional[int] = None, threads: int = 1) -> Vocabulary:
    """Count the corpus and keep the words seen at least min_count times (at most
    max_final_vocab of them, the most frequent). max_vocab_size bounds the words held
    while counting, pruning the rarest as word2vec.c does."""
    counter = count_words(corpus, max_vocab_size, threads)
    if counter.total_words == 0:
        raise CorpusError(f"corpus {corpus!r} contains no words")
    words, counts = counter.most_frequent(min_count, int(max_final_vocab or 0))
    if not words:
        _, top = counter.most_frequent(1, 1)
        if len(top) == 0:   # pruning while counting dropped every word
            raise CorpusError(f"no word of the corpus is left: max_vocab_size={max_vocab_size} pruned them all while "
                              f"counting {counter.total_words} words; raise max_vocab_size")
        raise CorpusError(f"no word of the corpus occurs min_count={min_count} times (the most frequent "
                          f"occurs {int(top[0])} times in {counter.total_words} words); lower min_count")
    return Vocabulary.from_bytes(words, counts).counted_in(counter.total_words, counter.newlines)


# ---- gensim's rules: trim_rule, word frequencies given, online updates ---------------------

def keeps_word(word: str, count: int, min_count: int, trim_rule: Optional[TrimRule] = None) -> bool:
    """gensim's keep_vocab_item: trim_rule(word, count, min_count) keeps (RULE_KEEP) or
    discards (RULE_DISCARD) the word, or leaves it to min_count (RULE_DEFAULT, or no rule)."""
    rule = trim_rule(word, count, min_count) if trim_rule is not None else RULE_DEFAULT
    if rule == RULE_KEEP:
        return True
    if rule == RULE_DISCARD:
        return False
    return count >= min_count


def select_words(counted: Vocabulary, min_count: int, max_final_vocab: Optional[int] = None,
                 trim_rule: Optional[TrimRule] = None) -> Vocabulary:
    """The words of `counted` (every word counted, most frequent first) that keeps_word
    keeps, at most max_final_vocab of them (the most frequent); perhaps none."""
    counts = counted.counts.tolist()
    rows = [i for i, word in enumerate(counted.words) if keeps_word(word, counts[i], min_count, trim_rule)]
    rows = rows[:int(max_final_vocab)] if max_final_vocab else rows
    kept = Vocabulary([counted.words[i] for i in rows], counted.counts[rows])
    return kept.counted_in(counted.corpus_words, counted.corpus_sentences)


def from_frequencies(word_freq: Mapping[str, int]) -> Vocabulary:
    """Every word of `word_freq` ({word: count}, positive integer counts) ordered as the
    counter orders them: count descending, ties in byte order."""
    items = []
    for word, count in word_freq.items():
        if not isinstance(word, str) or not word:
            raise ValueError(f"word_freq: words must be non-empty strings, got {word!r}")
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
            raise ValueError(f"word_freq: the count of {word!r} must be a positive integer, got {count!r}")
        items.append((word.encode(ENCODING, ERRORS), int(count)))
    items.sort(key=lambda wc: (-wc[1], wc[0]))
    return Vocabulary.from_bytes([w for w, _ in items], [c for _, c in items])


def updated(old: Vocabulary, counted: Vocabulary, new: Vocabulary) -> Vocabulary:
    """gensim's online update: old's words keep their rows, each count raised by its count
    in `counted` (every word of the new corpus), and new's words that old lacks follow in
    new's order. Its epoch is the new corpus's words of the vocabulary."""
    added = np.array([counted.index.get(word, -1) for word in old.words], dtype=np.int64)
    counts = old.counts + np.where(added >= 0, counted.counts[np.maximum(added, 0)], 0)
    fresh = [i for i, word in enumerate(new.words) if word not in old.index]
    merged = Vocabulary(old.words + [new.words[i] for i in fresh],
                        np.concatenate([counts, new.counts[fresh]]))
    merged.epoch_words = merged.total - old.total
    return merged.counted_in(counted.corpus_words, counted.corpus_sentences)


# ---- vocabularies counted in parts (data-parallel training: one part per rank) ----------

CountedWords = Tuple[bytes, np.ndarray, np.ndarray, int, int]


def counted_words(counter) -> CountedWords:
    """A WordCounter's table, compact and picklable: (the words' bytes concatenated,
    [n] int64 word lengths, [n] int64 counts, words counted, sentences counted)."""
    words, counts = counter.most_frequent(1, 0)
    lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    return (b"".join(words), lengths, np.asarray(counts, dtype=np.int64), int(counter.total_words),
            int(counter.newlines))


def merge_counted(parts: Sequence[CountedWords], min_count: int = 5, max_final_vocab: Optional[int] = None,
                  what: str = "corpus") -> Vocabulary:
    """The Vocabulary of the parts' summed counts, with min_count and max_final_vocab
    applied after summing and words ordered as WordCounter.most_frequent orders them
    (count descending, ties in byte order): the same as counting the whole corpus at
    once, whatever the parts. Errors as build_vocabulary's."""
    merged: Dict[bytes, int] = {}
    for blob, lengths, counts, *_ in parts:
        ends = np.cumsum(lengths).tolist()
        start = 0
        for end, count in zip(ends, counts.tolist()):
            word = blob[start:end]
            merged[word] = merged.get(word, 0) + count
            start = end
    total_words = sum(part[3] for part in parts)
    if total_words == 0:
        raise CorpusError(f"corpus {what} contains no words")
    kept = sorted(((w, c) for w, c in merged.items() if c >= min_count), key=lambda wc: (-wc[1], wc[0]))
    if max_final_vocab:
        kept = kept[:int(max_final_vocab)]
    if not kept:
        top = max(merged.values())
        raise CorpusError(f"no word of the corpus occurs min_count={min_count} times (the most frequent "
                          f"occurs {top} times in {total_words} words); lower min_count")
    return Vocabulary.from_bytes([w for w, _ in kept], [c for _, c in kept]).counted_in(
        total_words, sum(part[4] for part in parts))
