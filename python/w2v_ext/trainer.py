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
alpha - (alpha - min_alpha) / W (`min_alpha` here). Skip-gram shares one draw of
negatives across a centre word's window and updates the window as one small matrix
product (pWord2Vec's HogBatch); `shared_negatives=False` gives word2vec.c's per-pair
negatives. Threads update the weights without locks (Hogwild). With one thread and a
fixed seed the vectors are identical from run to run, and do not depend on how the
corpus is split into blocks.

The corpus goes from here to the vocabulary (vocab.py, counted in native code) and to
the epoch loop (epochs.py), which reads it as encoded blocks (reader.py) and trains
them on a backend (train_backends.py). Never imports torch, unless distributed training
is asked for (`distributed=True`, or a torchrun launch; see w2v_ext.distributed).
"""
from __future__ import annotations

import time
from typing import Callable, Optional, Sequence

import numpy as np

from . import distributed, memory, model_format, sampling, train_backends
from .corpus import BLOCK_BYTES, Corpus
from .divergence import check_weights
from .epochs import Training
from .position import TrainingPosition
from .progress import Progress
from .settings import Settings
from .vectors import KeyedVectors
from .vocab import Vocabulary
from .world import LocalWorld


class Word2Vec:
    """A word2vec model: vocabulary, input vectors (the word vectors) and output vectors.

    Pass a corpus to train at once (`Word2Vec("corpus.txt", dim=100)`), or call
    build_vocab() and train(). A corpus is a path (text, .gz/.bz2/.xz, or a directory),
    a list of paths, or a re-iterable of token lists. `settings` are the fields of
    :class:`Settings`. `callbacks` are called after every epoch and `block_callbacks`
    after every block of about `block_bytes` of corpus text (8 MiB; see train()).

    `distributed`: data-parallel training over torch.distributed, one process per rank
    (launched with torchrun; see w2v_ext.distributed): True, False, or None to follow the
    environment (on when torchrun started several processes, WORLD_SIZE > 1). Each rank
    counts and trains its shard of the corpus and the weights are averaged every
    `sync_words` words per rank; every rank ends with the same vocabulary and weights,
    only rank 0 shows progress, and save() writes only on rank 0. `dist_timeout`:
    seconds a collective waits for the other ranks before failing.

    `backend_hook`: called with the backend each train() call trains on, it returns the
    one to use instead (a seam for tests: one that records or fails its blocks).
    """

    def __init__(self, corpus=None, *, progress: bool = True, callbacks: Sequence[Callable] = (),
                 block_callbacks: Sequence[Callable] = (), distributed: Optional[bool] = None,
                 dist_timeout: float = distributed.DEFAULT_TIMEOUT, block_bytes: int = BLOCK_BYTES,
                 backend_hook: Optional[Callable] = None, **settings):
        self.settings = Settings(**settings)
        self.settings.validate(distributed=self._distributed_wanted(distributed))
        self.distributed = distributed
        self.dist_timeout = dist_timeout
        self.rank = 0              # this process's rank in a distributed run
        self.progress = progress
        self.callbacks = list(callbacks)
        self.block_callbacks = list(block_callbacks)
        self.block_bytes = block_bytes
        self.backend_hook = backend_hook
        self.vocab: Optional[Vocabulary] = None
        # [V, padded] float32 tables (see padded_table); input/output are [V, dim] views
        self.input_table: Optional[np.ndarray] = None
        self.output_table: Optional[np.ndarray] = None
        self.position = TrainingPosition()
        self.history: list = []    # one dict per finished epoch
        if corpus is not None:
            self.build_vocab(corpus)
            self.train(corpus)

    # ---- the corpus and the processes it trains in ----------------------------------
    def _corpus(self, corpus) -> Corpus:
        return corpus if isinstance(corpus, Corpus) else Corpus(corpus, tokenizer=self.settings.tokenizer)

    @staticmethod
    def _distributed_wanted(wanted: Optional[bool]) -> bool:
        return distributed.launched() if wanted is None else bool(wanted)

    def _world(self):
        """A world of one, or this rank of the distributed run (its process group starts
        on first use)."""
        if not self._distributed_wanted(self.distributed):
            return LocalWorld()
        world = distributed.data_parallel(self.settings.device, self.dist_timeout)
        self.rank = world.rank
        return world

    # ---- vocabulary and weights -------------------------------------------------
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
        world = self._world()
        vocab = world.build_vocabulary(corpus, s.min_count, s.max_vocab_size, s.max_final_vocab, world.threads(s))
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
        self.position = TrainingPosition()
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
        callback(model, record) after every block trained (about `block_bytes` of corpus
        text; the points of a training curve, see w2v_ext.plot.plot_training_curve), with
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
        corpus = self._corpus(corpus)
        world = self._world()
        if self.position.words_planned == 0 or self.finished:
            epochs = self.settings.epochs if epochs is None else int(epochs)
            if epochs < 1:
                raise ValueError(f"epochs must be a positive integer, got {epochs}")
            self.position = TrainingPosition.schedule(epochs, self.vocab.total)
        check_weights(self, "before training")
        backend = self._backend(world)
        shown = (self.progress if progress is None else progress) and world.rank == 0
        report = Progress(self.position.words_planned, enabled=shown)
        training = Training(self, world, backend, corpus, report, self.callbacks + list(callbacks),
                            self.block_callbacks + list(block_callbacks))
        try:
            try:
                training.run()
            finally:
                backend.close()  # the GPU backend copies the tables back here, also on Ctrl-C
                report.close()
        except KeyboardInterrupt:
            # a NaN the sampled loss missed must not reach a file saved after Ctrl-C
            check_weights(self, "when training was interrupted")
            raise
        check_weights(self, "after training")
        return training.stats()

    def _backend(self, world):
        """The backend this train() call trains on, from rank 0's weights."""
        s, counts = self.settings, self.vocab.counts
        keep = sampling.keep_thresholds(counts, s.sample)
        accept, alias = sampling.noise_table(counts)
        world.broadcast((self.input_table, self.output_table))
        backend = train_backends.make_backend(self, keep, accept, alias, self.block_bytes, threads=world.threads(s),
                                              seed=world.rank_seed(s.seed), alpha=world.rank_alpha(s),
                                              device_index=world.device_index)
        return backend if self.backend_hook is None else self.backend_hook(backend)

    # ---- where the schedule stands (see TrainingPosition) ---------------------------
    @property
    def finished(self) -> bool:
        """True once every epoch of the current schedule is trained."""
        return self.position.finished

    @property
    def words_done(self) -> int:
        return self.position.words_done

    @property
    def words_planned(self) -> int:
        return self.position.words_planned

    @property
    def epochs_planned(self) -> int:
        return self.position.epochs_planned

    @property
    def epochs_done(self) -> int:
        return self.position.epochs_done

    @property
    def epoch_position(self) -> int:
        return self.position.epoch_position

    # ---- saving ------------------------------------------------------------------
    def save(self, path, binary: Optional[bool] = None) -> None:
        """Save by extension: .bin word2vec binary, .txt/.vec word2vec text (the word
        vectors only; a further .gz/.bz2/.xz compresses them, e.g. vectors.txt.gz);
        anything else the native format (weights, vocabulary, settings and training
        position; Word2Vec.load resumes from it). Written atomically. In a distributed
        run only rank 0 writes (the ranks hold the same weights)."""
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
        return model_format.load_model(path, cls, progress=progress)


def padded_table(rows: int, dim: int) -> np.ndarray:
    """A zeroed [rows, dim rounded up to 16] float32 table with 64-byte aligned rows:
    the native trainer runs its loops over whole vectors (the padding stays zero)."""
    width = -(-dim // 16) * 16
    raw = np.zeros(rows * width + 16, dtype=np.float32)
    offset = (-raw.ctypes.data % 64) // 4
    return raw[offset:offset + rows * width].reshape(rows, width)
