"""The epoch loop of the corpus trainer: one call of Word2Vec.train, for one process or
for one rank of a data-parallel run (a single process is a world of one, see world.py).

Every epoch reads this rank's shard of the corpus as encoded blocks (reader.py) and
trains them in order on the backend (train_backends.py). A world of N syncs every
`sync_words` words a rank trains and at the end of every epoch: the ranks sum their
status vectors (words, loss, ...) and average their tables. Between syncs a rank
counts the epoch's global progress as the words at the last sync plus N times its own
since; that progress drives the learning rate and is the position a resumed run starts
from. A world of one has no syncs inside an epoch: its progress is its own.

A stop (Ctrl-C, SIGTERM, SIGHUP) takes effect after the block in progress in a world of
one, at the next sync in a world of N (every rank stops there): the position then
holds what was trained, and a saved model resumes from it.
"""
from __future__ import annotations

import time
import warnings
from typing import Iterator, Sequence, Tuple

import numpy as np

from .callbacks import Callbacks
from .distributed import ACTIVE, CORPUS_WORDS, KEPT, LOSS, STATUS_SIZE, STOP, TERMS, WORDS, DistributedError
from .interrupts import DeferredInterrupt
from .reader import EncodedBlock, EncodedBlocks
from .train_backends import LOSS_EVERY


def sync_pieces(ends: np.ndarray, first: int, every: int) -> Iterator[Tuple[int, int]]:
    """(lo, hi) sentence ranges of a block to train with a sync after each: the first
    ends at the first sentence end at or past `first` words, the next ones every `every`."""
    lo, need = 0, first
    while lo < len(ends):
        offset = int(ends[lo - 1]) if lo else 0
        hi = min(len(ends), int(np.searchsorted(ends, offset + need, side="left")) + 1)
        yield lo, hi
        lo, need = hi, every


class Training:
    """The epochs of one train() call: `model` (its position, tables, history and
    callbacks) trained on `corpus` by `backend` in `world`."""

    def __init__(self, model, world, backend, corpus, report, callbacks: Callbacks, block_callbacks: Sequence):
        self.model, self.world, self.backend, self.corpus = model, world, backend, corpus
        self.shard = world.shard(corpus)
        self.report, self.callbacks, self.block_callbacks = report, callbacks, list(block_callbacks)
        self.words_per_epoch = model.vocab.epoch_words
        self.sync_words = world.sync_words(model.settings)
        self.totals = np.zeros(STATUS_SIZE)   # every rank's sums over the finished epochs
        self.interrupt = DeferredInterrupt(escalate=not world.stops_together)
        self.start = time.perf_counter()

    def run(self) -> None:
        """Train the schedule's remaining epochs."""
        position = self.model.position
        with self.interrupt:
            while position.epochs_done < position.epochs_planned:
                epoch = position.epochs_done
                self.callbacks.epoch_begin(self.model)
                stats = Epoch(self, epoch).run()
                position.end_epoch(epoch, self.words_per_epoch)
                self.model.history.append(stats)
                self.model.running_training_loss = self.loss_sum()
                self.model.weights_changed()
                self.callbacks.epoch_end(self.model, stats)
                if not self.world.stops_together:
                    self.interrupt.check()

    def loss_sum(self) -> float:
        """The loss summed over the words trained so far, estimated from the measured
        centres (every LOSS_EVERY-th)."""
        return float(self.totals[LOSS]) * LOSS_EVERY

    def stats(self) -> dict:
        """The session's stats: words, corpus words, seconds, words/s, loss, finished."""
        seconds = time.perf_counter() - self.start
        t = self.totals
        return {"words": int(t[WORDS]), "corpus_words": int(t[CORPUS_WORDS]), "seconds": seconds,
                "words_per_s": float(t[CORPUS_WORDS]) / seconds if seconds > 0 else 0.0,
                "loss": float(t[LOSS] / t[TERMS]) if t[TERMS] else None, "finished": self.model.finished}


class Epoch:
    """One epoch of this rank's shard, with the model's position kept global."""

    def __init__(self, training: Training, epoch: int):
        self.t, self.epoch = training, epoch
        self.size = training.world.size
        self.first = training.model.position.epoch_position   # global words trained before (a resumed run)
        self.skip = self.first // self.size                    # about this rank's share of them
        self.position = 0                                      # this rank's, in its shard's vocabulary words
        self.mine = np.zeros(STATUS_SIZE)                      # this rank's sums for the epoch
        self.synced = np.zeros(STATUS_SIZE)                    # every rank's, at the last sync
        self.since = self.since_corpus = 0                     # this rank's words since the last sync
        self.started = self.block_started = time.perf_counter()
        training.model.position.reach(epoch, self.global_words(), training.words_per_epoch)

    def run(self) -> dict:
        t = self.t
        model = t.model
        with EncodedBlocks(t.shard, model.vocab.native_index, model.settings.max_sentence_length,
                           t.backend.block_bytes, t.backend.encode_threads) as blocks:
            try:
                for block in blocks:
                    self.train(block)
            except (KeyboardInterrupt, DistributedError):
                raise
            except Exception as e:   # reading, encoding or training failed here: every rank stops
                t.world.fail(e)
                raise
        while self.sync(active=False)[ACTIVE] > 0:   # until every rank is through its shard
            pass
        words = self.first + int(self.synced[WORDS])
        if words == 0:   # as gensim, which trains nothing then (its docs' train([["hello", "world"]]))
            warnings.warn(f"corpus {t.corpus!r} holds no word of the vocabulary: epoch {self.epoch + 1} trained "
                          f"nothing", stacklevel=2)
        t.totals += self.synced
        return {"epoch": self.epoch + 1, "words": words, "words_kept": int(self.synced[KEPT]),
                "seconds": time.perf_counter() - self.started,
                "loss": float(self.synced[LOSS] / self.synced[TERMS]) if self.synced[TERMS] else None}

    def train(self, block: EncodedBlock) -> None:
        t = self.t
        self.mine[CORPUS_WORDS] += block.corpus_words
        self.since_corpus += block.corpus_words
        block, self.position = block.after(self.position, self.skip)   # a resumed run skips what it trained
        if block is None:
            return
        position = t.model.position
        loss, terms = 0.0, 0
        for lo, hi in self.pieces(block):
            a, b = (int(block.ends[lo - 1]) if lo else 0), int(block.ends[hi - 1])
            # the kernel's schedule counts in units of world words: its in-block progress counts x world;
            # last=False: a GPU trains on while the next block is read (its stats come later, or at the sync)
            stats = t.backend.train_block(block.ids[a:b], block.ends[lo:hi] - a, self.epoch, self.position,
                                          position.words_done / self.size, position.words_planned / self.size,
                                          last=False)
            self.position += b - a
            self.since += b - a
            self.mine[WORDS] += b - a
            self.add(stats)
            loss, terms = loss + stats.loss, terms + stats.loss_terms
            position.reach(self.epoch, self.global_words(), t.words_per_epoch)
            if self.sync_due():
                self.sync(active=True)
            t.report.update(position.words_done, self.corpus_words(), stats.alpha, stats.mean_loss, self.epoch + 1,
                            position.epochs_planned)
        if t.block_callbacks:
            self.call_block_callbacks(block, stats.alpha, loss / terms if terms else None)
        if not t.world.stops_together:
            t.interrupt.check()   # stop here, with the block trained and counted

    def pieces(self, block: EncodedBlock) -> Iterator[Tuple[int, int]]:
        """The block's sentence ranges, cut where a sync is due."""
        if self.t.sync_words is None:
            return iter([(0, len(block.ends))])
        return sync_pieces(block.ends, self.t.sync_words - self.since, self.t.sync_words)

    def sync_due(self) -> bool:
        return self.t.sync_words is not None and self.since >= self.t.sync_words

    def sync(self, active: bool) -> np.ndarray:
        """Sum the ranks' status and average their tables; a stop asked on any rank stops
        every rank here, after the average."""
        t = self.t
        self.add(t.backend.flush())
        status = self.mine.copy()
        status[ACTIVE] = float(active)
        if t.world.stops_together:
            status[STOP] = float(t.interrupt.pending)
        self.synced[:] = t.world.sync(status, t.backend)
        self.since = self.since_corpus = 0
        t.model.position.reach(self.epoch, self.global_words(), t.words_per_epoch)
        if self.synced[STOP]:
            raise t.interrupt.take()
        return self.synced

    def add(self, stats) -> None:
        """Count a backend's stats (of one block or several) in this rank's sums."""
        self.mine[LOSS] += stats.loss
        self.mine[TERMS] += stats.loss_terms
        self.mine[KEPT] += stats.words_kept

    def global_words(self) -> int:
        """Global words of this epoch trained: exact at a sync, estimated between."""
        return self.first + int(self.synced[WORDS]) + self.size * self.since

    def corpus_words(self) -> float:
        """Corpus words the world read in this session (for words/s), estimated between syncs."""
        return self.t.totals[CORPUS_WORDS] + self.synced[CORPUS_WORDS] + self.size * self.since_corpus

    def call_block_callbacks(self, block: EncodedBlock, alpha: float, loss) -> None:
        t = self.t
        now = time.perf_counter()
        done, planned = t.model.position.words_done, t.model.position.words_planned
        record = {"epoch": self.epoch + 1, "position": done / max(t.words_per_epoch, 1),
                  "progress": done / max(planned, 1), "words": len(block.ids), "corpus_words": block.corpus_words,
                  "seconds": now - t.start,
                  "words_per_s": self.size * block.corpus_words / (now - self.block_started)
                  if now > self.block_started else 0.0, "alpha": alpha, "loss": loss}
        for callback in t.block_callbacks:
            callback(t.model, record)
        self.block_started = time.perf_counter()
