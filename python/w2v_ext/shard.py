"""One rank's share of a corpus, for data-parallel training (see distributed.py).

Rank r of R reads only its share, both when counting the vocabulary and when training:

- plain text files (the whitespace tokeniser): byte ranges at word boundaries
  (Corpus.ranges), about PIECE_BYTES each, dealt out in turn: rank r takes ranges r,
  r + R, r + 2R, ... Every word of the corpus is in exactly one range, so the shards
  together hold the corpus once; each range ends its sentence;
- an in-memory corpus (token lists): every R-th sentence, starting with the r-th;
- compressed files and the regex tokeniser: the decoded stream cut into units of about
  UNIT_BYTES at a line (else a word) boundary, every R-th unit. Every rank still
  decompresses the whole stream (compressed files cannot be split without reading
  them); it only counts and trains its own units. A stream shorter than R units
  leaves the last ranks without words (they still join every average).

A CorpusShard has Corpus's blocks(), ranges() and token_records, so the vocabulary
counter and the trainer's encoder read it exactly as they read a whole corpus. Never
imports torch.
"""
from __future__ import annotations

from typing import Iterable, Iterator, List, Tuple

from .corpus import BLOCK_BYTES, Corpus, TokenLists, batched, read_range

PIECE_BYTES = 16 << 20   # plain files: byte ranges of about this size, dealt out to the ranks in turn
UNIT_BYTES = 1 << 20     # other corpora: units of the decoded stream dealt out in turn


class CorpusShard:
    """Rank `rank`'s share of `corpus` among `size` ranks."""

    def __init__(self, corpus: Corpus, rank: int, size: int):
        if not 0 <= rank < size:
            raise ValueError(f"rank must be in [0, {size}), got {rank}")
        self.corpus, self.rank, self.size = corpus, rank, size
        self.tokenizer = corpus.tokenizer
        self.token_records = corpus.token_records
        total = corpus.total_bytes or 0
        ranges = corpus.ranges(size * max(1, -(-total // (size * PIECE_BYTES))))
        self._ranges = ranges[rank::size] if ranges else None
        self.kind = "byte ranges" if ranges else ("sentences" if corpus.token_records else "stream units")

    def __repr__(self):
        return f"CorpusShard({self.corpus!r}, rank={self.rank} of {self.size}, by {self.kind})"

    def ranges(self, parts: int = 1) -> List[Tuple[str, int, int]]:
        """This shard's byte ranges (for counting them in parallel), or [] when the
        corpus is not split into byte ranges."""
        return list(self._ranges or [])

    def blocks(self, block_bytes: int = BLOCK_BYTES) -> Iterator[bytes]:
        """This shard's text, in blocks of about block_bytes."""
        if self._ranges is not None:
            for path, start, end in self._ranges:
                yield from read_range(path, start, end, block_bytes)
                yield b"\n"   # a range ends its sentence (and its last word)
        elif self.corpus.token_records:
            yield from TokenLists(_EveryNth(self.corpus.sentences, self.rank, self.size),
                                  tokenizer=self.tokenizer).blocks(block_bytes)
        else:
            yield from batched(_every_nth(_word_units(self.corpus.blocks(UNIT_BYTES)), self.rank, self.size),
                                block_bytes)


class _EveryNth:
    """The sentences first, first + step, ... of a re-iterable (itself re-iterable)."""

    def __init__(self, sentences: Iterable, first: int, step: int):
        self.sentences, self.first, self.step = sentences, first, step

    def __iter__(self):
        for i, sentence in enumerate(self.sentences):
            if i % self.step == self.first:
                yield sentence


def _word_units(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """The stream re-cut so that every unit ends at a newline (or, for a unit without
    one, at whitespace): no word, and where possible no sentence, spans two units."""
    tail = b""
    for block in blocks:
        data = tail + block
        cut = data.rfind(b"\n") + 1 or max(data.rfind(sep) for sep in (b" ", b"\t", b"\r", b"\v", b"\f")) + 1
        if cut == 0:          # one long word so far: keep reading
            tail = data
            continue
        tail = data[cut:]
        yield data[:cut]
    if tail:
        yield tail


def _every_nth(units: Iterable[bytes], first: int, step: int) -> Iterator[bytes]:
    for i, unit in enumerate(units):
        if i % step == first:
            yield unit + b"\n"   # a unit ends its sentence


