"""Word2Vec: train word vectors on a corpus with word2vec.c's recipe, in native code.

    model = Word2Vec(model="sg", dim=100, window=5, negative=5, epochs=5)
    model.build_vocab("corpus.txt")
    model.train("corpus.txt")
    model.wv.most_similar("king")
    model.save("vectors.bin")

The recipe is word2vec.c's: frequent-word subsampling, a window shrunk at random for
each centre word, negatives drawn from the unigram^0.75 distribution, output weights
starting at zero and input weights uniform in +-0.5/dim, and a learning rate falling
linearly from alpha to alpha * 1e-4 over all epochs (to min_alpha, gensim's option,
when given). gensim 4 departs from it twice: its input weights start in +-1/dim
(`init_range=1.0` here), and its corpus_file mode with W workers ends the rate at
alpha - (alpha - min_alpha) / W (`min_alpha` here); in one epoch of CBOW those two
are worth ~3.5 points of analogy accuracy (bench/results/cbow_init_schedule-20261125.md).
Skip-gram shares one draw of
negatives across a centre word's window and updates the window as one small matrix
product (pWord2Vec's HogBatch); `shared_negatives=False` gives word2vec.c's per-pair
negatives. Threads update the weights without locks (Hogwild). With one thread and a
fixed seed the vectors are identical from run to run, and do not depend on how the
corpus is split into blocks. Never imports torch, unless distributed training is
asked for (`distributed=True`, or a torchrun launch; see w2v_ext.distributed).
"""
from __future__ import annotations

import queue
import threading
import time
from typing import Callable, Optional, Sequence

import numpy as np

from . import _native, memory, sampling, train_backends
from . import distributed as _distributed
from .corpus import BLOCK_BYTES, Corpus, CorpusError
from .interrupts import DeferredInterrupt
from .progress import Progress
from .settings import Settings
from .vocab import Vocabulary, build_vocabulary

LOSS_EVERY = 64  # the loss shown in progress is measured on every 64th centre word


class Word2Vec:
    """A word2vec model: vocabulary, input vectors (the word vectors) and output vectors.

    Pass a corpus to train at once (`Word2Vec("corpus.txt", dim=100)`), or call
    build_vocab() and train(). A corpus is a path (text, .gz/.bz2/.xz, or a directory),
    a list of paths, or a re-iterable of token lists. `settings` are the fields of
    :class:`Settings`. `callbacks` are called after every epoch and `block_callbacks`
    after every block of about 8 MB of corpus text (see train()).

    `distributed`: data-parallel training over torch.distributed, one process per rank
    (launched with torchrun; see w2v_ext.distributed): True, False, or None to follow the
    environment (on when torchrun started several processes, WORLD_SIZE > 1). Each rank
    counts and trains its shard of the corpus and the weights are averaged every
    `sync_words` words per rank; every rank ends with the same vocabulary and weights,
    only rank 0 shows progress, and save() writes only on rank 0. `dist_timeout`:
    seconds a collective waits for the other ranks before failing.
    """

    def __init__(self, corpus=None, *, progress: bool = True, callbacks: Sequence[Callable] = (),
                 block_callbacks: Sequence[Callable] = (), distributed: Optional[bool] = None,
                 dist_timeout: float = _distributed.DEFAULT_TIMEOUT, **settings):
        self.settings = Settings(**settings)
        self.settings.validate(distributed=_distributed.launched() if distributed is None else bool(distributed))
        self.distributed = distributed
        self.dist_timeout = dist_timeout
        self.rank = 0              # this process's rank in a distributed run
        self.progress = progress
        self.callbacks = list(callbacks)
        self.block_callbacks = list(block_callbacks)
        self.vocab: Optional[Vocabulary] = None
        # [V, padded] float32 tables (see padded_table); input/output are [V, dim] views
        self.input_table: Optional[np.ndarray] = None
        self.output_table: Optional[np.ndarray] = None
        self.words_done = 0        # training position over all epochs, in vocabulary words
        self.words_planned = 0     # epochs * vocab.total for the current schedule
        self.epochs_planned = 0    # epochs of the current schedule
        self.epochs_done = 0       # epochs of the current schedule finished
        self.epoch_position = 0    # vocabulary words of the unfinished epoch trained (where a resume starts)
        self.history: list = []    # one dict per finished epoch
        if corpus is not None:
            self.build_vocab(corpus)
            self.train(corpus)

    # ---- vocabulary and weights -------------------------------------------------
    def _corpus(self, corpus) -> Corpus:
        return corpus if isinstance(corpus, Corpus) else Corpus(corpus, tokenizer=self.settings.tokenizer)

    def _data_parallel(self):
        """The distributed run's DataParallel (its process group starts on first use), or
        None for a single process."""
        wanted = _distributed.launched() if self.distributed is None else self.distributed
        if not wanted:
            return None
        dp = _distributed.data_parallel(self.settings.device, self.dist_timeout)
        self.rank = dp.rank
        return dp

    def _threads(self, dp) -> int:
        return self.settings.threads or (dp.default_threads() if dp is not None else self.settings.thread_count)

    def build_vocab(self, corpus) -> "Word2Vec":
        """Count the corpus, keep the words seen min_count times, and initialise the
        weights as word2vec.c does (input uniform in +-init_range/dim, output zero). In a
        distributed run each rank counts its shard and the counts are merged."""
        s = self.settings
        t0 = time.perf_counter()
        corpus = self._corpus(corpus)
        if corpus.total_bytes is not None:   # refuse now what would not fit after counting
            memory.check_fits(s, memory.vocabulary_low_estimate(corpus.total_bytes, s.max_final_vocab),
                              s.thread_count, words_known=False)
        dp = self._data_parallel()
        if dp is None:
            vocab = build_vocabulary(corpus, s.min_count, s.max_vocab_size, s.max_final_vocab,
                                     s.thread_count)
        else:
            vocab = dp.build_vocabulary(corpus, s.min_count, s.max_vocab_size, s.max_final_vocab,
                                        self._threads(dp))
        self.set_vocabulary(vocab)
        self.vocab_seconds = time.perf_counter() - t0
        return self

    def set_vocabulary(self, vocab: Vocabulary) -> None:
        """Use `vocab` (V words) and start fresh [V, dim] weights (see reset_weights)."""
        self.vocab = vocab
        self.reset_weights()

    def reset_weights(self) -> None:
        """word2vec.c's start: input [V, dim] uniform in +-init_range/dim (0.5 unless set),
        output [V, dim] zero; the training position and history are cleared."""
        s = self.settings
        V = len(self.vocab)
        memory.check_fits(s, V, s.thread_count, words_known=True)
        rng = np.random.Generator(np.random.PCG64(s.seed))
        self.input_table, self.output_table = padded_table(V, s.dim), padded_table(V, s.dim)
        self.input[:] = ((rng.random((V, s.dim), dtype=np.float32) - np.float32(0.5)) / np.float32(s.dim)
                         * np.float32(2 * s.init_range))   # x 1.0 exactly at word2vec.c's 0.5
        self.words_done = 0
        self.words_planned = 0
        self.epochs_planned = self.epochs_done = self.epoch_position = 0
        self.history = []

    @property
    def input(self) -> np.ndarray:
        """The word vectors (word2vec.c's syn0), [V, dim] float32."""
        return None if self.input_table is None else self.input_table[:, :self.settings.dim]

    @property
    def output(self) -> np.ndarray:
        """The output (context) vectors (word2vec.c's syn1neg), [V, dim] float32."""
        return None if self.output_table is None else self.output_table[:, :self.settings.dim]

    def set_weights(self, input_vectors: np.ndarray, output_vectors: np.ndarray) -> None:
        """Replace both tables ([V, dim] each, V = the vocabulary's size)."""
        V, dim = len(self.vocab), self.settings.dim
        for name, w in (("input_vectors", input_vectors), ("output_vectors", output_vectors)):
            if np.shape(w) != (V, dim):
                raise ValueError(f"{name} must be [{V}, {dim}], got {np.shape(w)}")
        self.input_table, self.output_table = padded_table(V, dim), padded_table(V, dim)
        self.input[:] = input_vectors
        self.output[:] = output_vectors

    @property
    def wv(self):
        """The word vectors (input weights) as KeyedVectors, sharing memory with the model."""
        from .vectors import KeyedVectors
        self._require_vocab()
        return KeyedVectors(self.vocab.words, self.input, self.vocab.counts)

    def _require_vocab(self) -> None:
        if self.vocab is None:
            raise RuntimeError("the model has no vocabulary yet: call build_vocab(corpus) first")

    # ---- training ----------------------------------------------------------------
    def train(self, corpus, *, epochs: Optional[int] = None, callbacks: Sequence[Callable] = (),
              block_callbacks: Sequence[Callable] = (), progress: Optional[bool] = None) -> dict:
        """Train on the corpus for `epochs` (default: the settings') epochs.

        An unfinished schedule (e.g. one interrupted with Ctrl-C, then saved and loaded)
        continues where it stopped, with the same learning rate and random draws;
        otherwise a new schedule of `epochs` epochs starts at alpha. Callbacks are called
        as callback(model, epoch_stats) after every epoch, block callbacks as
        callback(model, record) after every block trained (about 8 MB of corpus text;
        the points of a training curve, see w2v_ext.plot.plot_training_curve), with
        record = {"epoch": 1-based epoch, "position": epochs trained so far (a float,
        e.g. 2.5 halfway through the third), "progress": fraction of the schedule done,
        "words": vocabulary words trained in the block, "corpus_words": corpus words
        read for it, "seconds": seconds since this call started, "words_per_s": the
        block's corpus words per second, "alpha": learning rate reached, "loss": the
        block's mean loss per term (None if none was measured)}. Both kinds run in the
        training thread, between native calls: keep them quick. Ctrl-C stops after the
        block in progress and raises KeyboardInterrupt with the model holding what was
        trained. Returns the session's stats (words, seconds, words/s, loss).

        In a distributed run every rank trains its shard, the weights are averaged every
        `sync_words` words per rank and at the end of every epoch; the stats, the
        history and the position are global (the same on every rank), callbacks run on
        every rank (a block record is the rank's own block, its words/s times the world
        size), and Ctrl-C stops all ranks together at the next sync.
        """
        self._require_vocab()
        s = self.settings
        corpus = self._corpus(corpus)
        dp = self._data_parallel()
        per_epoch = self.vocab.total
        if self.words_planned == 0 or self.finished:
            epochs = s.epochs if epochs is None else int(epochs)
            if epochs < 1:
                raise ValueError(f"epochs must be a positive integer, got {epochs}")
            self.words_planned = epochs * per_epoch
            self.words_done = 0
            self.epochs_planned = epochs
            self.epochs_done = self.epoch_position = 0
        epochs = self.epochs_planned
        train_backends.check_weights(self, "before training")
        keep = sampling.keep_thresholds(self.vocab.counts, s.sample)
        accept, alias = sampling.noise_table(self.vocab.counts)
        if dp is not None:
            dp.broadcast((self.input_table, self.output_table))   # every rank starts from rank 0's weights
            corpus = dp.shard(corpus)
        backend = train_backends.make_backend(
            self, s.architecture, LOSS_EVERY, keep, accept, alias, BLOCK_BYTES, threads=self._threads(dp),
            seed=None if dp is None else dp.rank_seed(s.seed), alpha=None if dp is None else dp.rank_alpha(s),
            device_index=None if dp is None else dp.device_index)
        enabled = (self.progress if progress is None else progress) and self.rank == 0
        report = Progress(self.words_planned, enabled=enabled)
        hooks = list(self.callbacks) + list(callbacks)
        block_hooks = list(self.block_callbacks) + list(block_callbacks)
        session = {"words": 0, "corpus_words": 0, "seconds": 0.0, "loss_sum": 0.0, "loss_terms": 0}
        t0 = time.perf_counter()
        try:
            try:
                with DeferredInterrupt(escalate=dp is None) as interrupt:
                    # The epoch count is kept apart from words_done: a corpus holding more vocabulary
                    # words than vocab.total (max_vocab_size pruning undercounts a word it dropped and
                    # saw again) must neither skip words of the next epoch nor whole epochs.
                    while self.epochs_done < epochs:
                        epoch = self.epochs_done
                        skip = self.epoch_position  # resuming inside an epoch
                        if dp is None:
                            stats = self._train_epoch(corpus, backend, epoch, skip, per_epoch, epochs, report,
                                                      session, t0, interrupt, block_hooks)
                        else:
                            stats = _distributed.train_epoch(self, dp, corpus, backend, epoch, per_epoch, epochs,
                                                               report, session, t0, interrupt, block_hooks)
                        # A corpus shorter than the vocabulary's count (e.g. changed since) still ends the epoch.
                        self.epochs_done, self.epoch_position = epoch + 1, 0
                        self.words_done = min(self.words_planned, (epoch + 1) * per_epoch)
                        self.history.append(stats)
                        for hook in hooks:
                            hook(self, stats)
                        if dp is None:  # distributed: Ctrl-C is handled at the syncs, by all ranks together
                            interrupt.check()
            finally:
                backend.close()  # the GPU backend copies the tables back here, also on Ctrl-C
                session["seconds"] = time.perf_counter() - t0
                report.close()
        except KeyboardInterrupt:
            # a NaN the sampled loss missed must not reach a file saved after Ctrl-C
            train_backends.check_weights(self, "when training was interrupted")
            raise
        train_backends.check_weights(self, "after training")
        return self._session_stats(session)

    def _train_epoch(self, corpus, backend, epoch, skip, per_epoch, epochs,
                     report, session, t0, interrupt, block_hooks=()) -> dict:
        position = 0  # in-vocabulary words of this epoch read so far
        epoch_loss, epoch_terms, epoch_kept = 0.0, 0, 0
        epoch_start = block_start = time.perf_counter()
        with _EncodedBlocks(corpus, self.vocab.native_index, self.settings.max_sentence_length,
                            backend.block_bytes, backend.encode_threads) as blocks:
            for ids, ends, corpus_words in blocks:
                n = len(ids)
                session["corpus_words"] += corpus_words
                if position + n <= skip or n == 0:
                    position += n
                    continue
                ids, ends, position = _drop_trained(ids, ends, position, skip)
                n = len(ids)
                r = backend.train_block(ids, ends, epoch, position, self.words_done, self.words_planned)
                position += n
                self.epoch_position = position
                self.words_done = epoch * per_epoch + min(position, per_epoch)
                session["words"] += n
                session["loss_sum"] += r["loss"]
                session["loss_terms"] += r["loss_terms"]
                epoch_loss += r["loss"]
                epoch_terms += r["loss_terms"]
                epoch_kept += r["words_kept"]
                recent = r["loss"] / r["loss_terms"] if r["loss_terms"] else None
                report.update(self.words_done, session["corpus_words"], r["alpha"], recent, epoch + 1, epochs)
                if block_hooks:
                    now = time.perf_counter()
                    record = {"epoch": epoch + 1, "position": self.words_done / max(per_epoch, 1),
                              "progress": self.words_done / max(self.words_planned, 1), "words": n,
                              "corpus_words": corpus_words, "seconds": now - t0,
                              "words_per_s": corpus_words / (now - block_start) if now > block_start else 0.0,
                              "alpha": r["alpha"], "loss": recent}
                    for hook in block_hooks:
                        hook(self, record)
                    block_start = time.perf_counter()
                interrupt.check()  # Ctrl-C: stop here, with the block trained and counted
        if position == 0:
            raise CorpusError(f"corpus {corpus!r} has no words of the vocabulary to train on")
        return {"epoch": epoch + 1, "words": position, "words_kept": epoch_kept,
                "seconds": time.perf_counter() - epoch_start,
                "loss": epoch_loss / epoch_terms if epoch_terms else None}

    def _session_stats(self, session) -> dict:
        seconds = session["seconds"]
        return {"words": session["words"], "corpus_words": session["corpus_words"], "seconds": seconds,
                "words_per_s": session["corpus_words"] / seconds if seconds > 0 else 0.0,
                "loss": session["loss_sum"] / session["loss_terms"] if session["loss_terms"] else None,
                "finished": self.finished}

    @property
    def finished(self) -> bool:
        """True once every epoch of the current schedule is trained."""
        return self.words_planned > 0 and self.epochs_done >= self.epochs_planned

    # ---- saving ------------------------------------------------------------------
    def save(self, path, binary: Optional[bool] = None) -> None:
        """Save by extension: .bin word2vec binary, .txt/.vec word2vec text (the word
        vectors only; a further .gz/.bz2/.xz compresses them, e.g. vectors.txt.gz);
        anything else the native format (weights, vocabulary, settings and training
        position; Word2Vec.load resumes from it). Written atomically. In a distributed
        run only rank 0 writes (the ranks hold the same weights)."""
        from . import model_format
        self._require_vocab()
        if self.rank != 0:
            return
        kind = model_format.kind_of(path, binary)
        if kind == "native":
            model_format.save_model(path, self)
        else:
            self.wv.save_word2vec_format(path, binary=kind == "binary")

    @classmethod
    def load(cls, path, progress: bool = True) -> "Word2Vec":
        """Load a model saved in the native format; a file that is not one, or is damaged,
        raises model_format.ModelFileError (a ValueError naming the file and the field)."""
        from . import model_format
        return model_format.load_model(path, cls, progress=progress)


def _drop_trained(ids, ends, position: int, skip: int):
    """A resumed run: the block (ids, sentence ends) at `position` without the sentences
    that end before `skip` (trained before the stop); returns (ids, ends, position)."""
    if position >= skip:
        return ids, ends, position
    first = int(np.searchsorted(ends, skip - position, side="right"))
    offset = int(ends[first - 1]) if first > 0 else 0
    return ids[offset:], ends[first:] - offset, position + offset


def padded_table(rows: int, dim: int) -> np.ndarray:
    """A zeroed [rows, dim rounded up to 16] float32 table with 64-byte aligned rows:
    the native trainer runs its loops over whole vectors (the padding stays zero)."""
    width = -(-dim // 16) * 16
    raw = np.zeros(rows * width + 16, dtype=np.float32)
    offset = (-raw.ctypes.data % 64) // 4
    return raw[offset:offset + rows * width].reshape(rows, width)


class _EncodedBlocks:
    """The corpus as (ids, sentence_ends, corpus_words) blocks, read and encoded by a
    background thread (native code, GIL released) while the caller trains."""

    _DONE = object()

    def __init__(self, corpus: Corpus, index, max_sentence_length: int, block_bytes: int, threads: int = 1,
                 depth: int = 2):
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
            for block in self.corpus.blocks(self.block_bytes):
                if pending is not None:
                    self._put(encoder, pending, False, read)
                    read = encoder.words_read
                pending = block
                if self.stop.is_set():
                    return
            self._put(encoder, pending or b"", True, read)
            self._offer(self._DONE)
        except BaseException as e:  # handed to the consumer, raised there
            self._offer(e)

    def _put(self, encoder, block, last, read_before) -> None:
        ids, ends = encoder.encode(block, last=last, threads=self.threads)
        self._offer((ids, ends, encoder.words_read - read_before))

    def _offer(self, item) -> None:
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def __enter__(self):
        self.thread.start()
        return self

    def __iter__(self):
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
