"""The processes a model trains in. A single process is a world of one (LocalWorld); a
data-parallel run is a world of N ranks (distributed.DataParallel). Both answer the
trainer's questions the same way:

- rank, size; stops_together (whether a stop waits for the next sync, so that every
  rank stops at the same point);
- shard(corpus): the part of the corpus this rank reads;
- build_vocabulary(...): the vocabulary of the whole corpus;
- threads(settings), rank_seed(seed), rank_alpha(settings), device_index: this rank's
  worker threads, random draws, starting learning rate and GPU;
- broadcast(tables): every rank starts from rank 0's tables;
- sync_words(settings): words a rank trains between syncs inside an epoch (None: none);
- sync(status, backend): the status vectors summed over the ranks, the tables averaged;
- fail(error): this rank's training raised `error` (the others are told).
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from .vocab import Vocabulary, build_vocabulary


class LocalWorld:
    """One process, alone: its rank's answers are the settings' own."""

    rank, size = 0, 1
    stops_together = False   # a stop takes effect after the block in progress
    device_index: Optional[int] = None   # the settings' device

    def shard(self, corpus):
        return corpus

    def build_vocabulary(self, corpus, min_count: int, max_vocab_size: Optional[int],
                         max_final_vocab: Optional[int], threads: int) -> Vocabulary:
        return build_vocabulary(corpus, min_count, max_vocab_size, max_final_vocab, threads)

    def threads(self, settings) -> int:
        return settings.thread_count

    def rank_seed(self, seed: int) -> int:
        return seed

    def rank_alpha(self, settings) -> float:
        return settings.start_alpha

    def broadcast(self, tables) -> None:
        pass

    def sync_words(self, settings) -> Optional[int]:
        return None

    def sync(self, status: np.ndarray, backend) -> np.ndarray:
        return status.copy()

    def fail(self, error: BaseException) -> None:
        pass
