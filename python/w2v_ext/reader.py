"""The corpus as encoded blocks for the trainer: a background thread reads the corpus
in blocks of about `block_bytes` and the native encoder turns each into vocabulary ids
cut into sentences (the GIL released), while the caller trains the block before."""
from __future__ import annotations

import queue
import threading
from typing import Iterator, NamedTuple, Optional, Tuple

import numpy as np

from . import _native


class EncodedBlock(NamedTuple):
    """Whole sentences of one block of the corpus."""
    ids: np.ndarray       # [words] int32 vocabulary ids
    ends: np.ndarray      # [sentences] int64, each sentence's exclusive end in ids
    corpus_words: int     # corpus words read for it, out-of-vocabulary ones included

    def after(self, position: int, skip: int) -> Tuple[Optional["EncodedBlock"], int]:
        """A resumed run: the block found at epoch position `position` without the
        sentences that end by `skip` (trained before the stop), and the position of what
        is left; None for a block with nothing left."""
        n = len(self.ids)
        if position + n <= skip or n == 0:
            return None, position + n
        if position >= skip:
            return self, position
        first = int(np.searchsorted(self.ends, skip - position, side="right"))
        offset = int(self.ends[first - 1]) if first > 0 else 0
        return self._replace(ids=self.ids[offset:], ends=self.ends[first:] - offset), position + offset


class EncodedBlocks:
    """Iterates over the corpus's EncodedBlocks, read ahead by a background thread (use
    as a context manager: leaving it stops the thread)."""

    _DONE = object()

    def __init__(self, corpus, index, max_sentence_length: int, block_bytes: int, threads: int = 1,
                 depth: int = 2):
        """corpus: a Corpus or CorpusShard; index: the vocabulary's native WordIndex;
        threads: encoder threads per block; depth: blocks read ahead."""
        self.corpus, self.index, self.max_len, self.block_bytes = corpus, index, max_sentence_length, block_bytes
        self.threads = threads
        self.queue: queue.Queue = queue.Queue(maxsize=depth)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="w2v_ext-reader", daemon=True)

    def _run(self) -> None:
        try:
            encoder = _native.cpu.CorpusEncoder(self.index, self.max_len, token_records=self.corpus.token_records)
            read = 0
            pending = None
            for text in self.corpus.blocks(self.block_bytes):
                if pending is not None:
                    self._put(encoder, pending, False, read)
                    read = encoder.words_read
                pending = text
                if self.stop.is_set():
                    return
            self._put(encoder, pending or b"", True, read)
            self._offer(self._DONE)
        except BaseException as e:  # handed to the consumer, raised there
            self._offer(e)

    def _put(self, encoder, text: bytes, last: bool, read_before: int) -> None:
        ids, ends = encoder.encode(text, last=last, threads=self.threads)
        self._offer(EncodedBlock(ids, ends, encoder.words_read - read_before))

    def _offer(self, item) -> None:
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def __enter__(self) -> "EncodedBlocks":
        self.thread.start()
        return self

    def __iter__(self) -> Iterator[EncodedBlock]:
        while True:
            item = self.queue.get()
            if item is self._DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        return False
