"""Word2Vec: train word vectors on a corpus with word2vec.c's recipe, in native code.

    model = Word2Vec(model="sg", dim=100, window=5, negative=5, epochs=5)
    model.build_vocab("corpus.txt")
    model.train("corpus.txt")
    model.wv.most_similar("king")
    model.save("vectors.bin")

It also takes gensim 4's arguments and calls, so that a gensim script runs with only its
import changed:

    model = Word2Vec(sentences=token_lists, vector_size=100, window=5, min_count=1, workers=4, sg=1)
    model.build_vocab(more_token_lists, update=True)    # online training: new words appended
    model.train(more_token_lists, total_examples=len(more_token_lists), epochs=model.epochs)

The recipe is word2vec.c's: frequent-word subsampling, a window shrunk at random for
each centre word, negatives drawn from the unigram^0.75 distribution, output weights
starting at zero and input weights uniform in +-0.5/dim, and a learning rate falling
linearly from alpha over all epochs, but to min_alpha (alpha * 0.1 unless set) where
word2vec.c falls to alpha * 1e-4 (`min_alpha=0`). gensim 4 departs from word2vec.c
twice: its input weights start in +-1/dim (`init_range=1.0` here), and its corpus_file
mode with W workers stops each epoch's fall at 1/W of its way (with 2 workers and 5
epochs the rate ends near alpha * 0.1). Skip-gram shares one draw of
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
import warnings
from typing import Callable, Mapping, Optional, Sequence

import numpy as np

from . import distributed, memory, model_format, sampling, train_backends
from .callbacks import Callbacks
from .corpus import BLOCK_BYTES, Corpus, CorpusError
from .divergence import check_weights
from .epochs import Training
from .position import TrainingPosition
from .progress import Progress
from .settings import Settings, gensim_names, gensim_value
from .vectors import KeyedVectors
from .vocab import TrimRule, Vocabulary, from_frequencies, select_words, updated
from .world import LocalWorld


class Word2Vec:
    """A word2vec model: vocabulary, input vectors (the word vectors) and output vectors.

    Pass a corpus to train at once (`Word2Vec("corpus.txt", dim=100)`), or call
    build_vocab() and train(). A corpus is a path (text, .gz/.bz2/.xz, or a directory),
    a list of paths, or a re-iterable of token lists, given as `sentences` (the first
    argument), `corpus_file` or `corpus_iterable`: gensim's names, all three taking any
    corpus. `settings` are the fields of :class:`Settings`, under our names or gensim's
    (`vector_size=100, sg=1, workers=4`; see Settings.from_arguments). `trim_rule`
    chooses the words as gensim's does (see build_vocab). `callbacks` run at every epoch
    (see train()) and `block_callbacks` after every block of about `block_bytes` of
    corpus text (8 MiB). `compute_loss` is accepted for gensim's sake: the loss is always
    measured, on a sample (see get_latest_training_loss).

    gensim's attributes for the settings read and set them (model.epochs,
    model.vector_size, model.sg, model.alpha, ...: one per setting gensim has);
    model.corpus_count and model.corpus_total_words are the sentences and words
    build_vocab counted.

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

    def __init__(self, sentences=None, corpus_file=None, corpus_iterable=None, *, trim_rule: Optional[TrimRule] = None,
                 callbacks: Sequence = (), compute_loss: bool = False, progress: bool = True,
                 block_callbacks: Sequence[Callable] = (), distributed: Optional[bool] = None,
                 dist_timeout: float = distributed.DEFAULT_TIMEOUT, block_bytes: int = BLOCK_BYTES,
                 backend_hook: Optional[Callable] = None, **settings):
        self.settings = Settings.from_arguments(**settings)
        self.settings.validate(distributed=self._distributed_wanted(distributed))
        self.distributed = distributed
        self.dist_timeout = dist_timeout
        self.rank = 0              # this process's rank in a distributed run
        self.progress = progress
        self.callbacks = list(callbacks)
        self.block_callbacks = list(block_callbacks)
        self.block_bytes = block_bytes
        self.backend_hook = backend_hook
        self.compute_loss = bool(compute_loss)
        self.vocab: Optional[Vocabulary] = None
        # [V, padded] float32 tables (see padded_table); input/output are [V, dim] views
        self.input_table: Optional[np.ndarray] = None
        self.output_table: Optional[np.ndarray] = None
        self.position = TrainingPosition()
        self.history: list = []    # one dict per finished epoch
        self.running_training_loss = 0.0   # see get_latest_training_loss
        self._wv: Optional[KeyedVectors] = None
        self._wv_source = (None, None)   # the vocabulary and input table _wv was made for
        corpus = one_corpus(sentences=sentences, corpus_file=corpus_file, corpus_iterable=corpus_iterable)
        if corpus is not None:
            self.build_vocab(corpus, trim_rule=trim_rule)
            self.train(corpus, compute_loss=self.compute_loss)

    # ---- the corpus and the processes it trains in ----------------------------------
    def _corpus(self, corpus) -> Corpus:
        if corpus is None:
            raise TypeError("no corpus given (corpus_iterable or corpus_file)")
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
    def build_vocab(self, corpus_iterable=None, corpus_file=None, update: bool = False, progress_per: int = 10000,
                    keep_raw_vocab: bool = False, trim_rule: Optional[TrimRule] = None) -> "Word2Vec":
        """Count the corpus (given as either argument), keep the words seen min_count times
        (at most max_final_vocab, the most frequent), and initialise the weights as
        word2vec.c does (input uniform in +-init_range/dim, output zero). In a distributed
        run each rank counts its shard and the counts are merged.

        `trim_rule(word, count, min_count)`, as gensim's, decides word by word: it returns
        vocab.RULE_KEEP or RULE_DISCARD (gensim.utils' values, 2 and 1), or RULE_DEFAULT
        (0) to leave the word to min_count; it is not stored. (Pruning while counting,
        max_vocab_size, stays word2vec.c's.)

        `update=True` is gensim's online training: the words a fresh build_vocab of this
        corpus would keep that the model lacks are appended after its words, every count
        is raised by the corpus's, and the sampling tables follow the summed counts; the
        old words keep their rows and training, the new ones start as in a fresh model
        (input uniform in +-init_range/dim, output zero). The next train() call runs a
        new schedule whose epochs are this corpus's words.

        gensim's `progress_per` (its log's interval) and `keep_raw_vocab` (no raw counts
        are kept here) are accepted without effect."""
        s = self.settings
        t0 = time.perf_counter()
        corpus = self._corpus(one_corpus(corpus_iterable=corpus_iterable, corpus_file=corpus_file))
        if update:
            self._require_vocab("an online update (update=True) adds to a vocabulary")
        if corpus.total_bytes is not None:   # refuse now what would not fit after counting
            memory.check_fits(s, memory.vocabulary_low_estimate(corpus.total_bytes, s.max_final_vocab),
                              s.thread_count, words_known=False)
        world = self._world()
        if not update and trim_rule is None:
            vocab = world.build_vocabulary(corpus, s.min_count, s.max_vocab_size, s.max_final_vocab,
                                           world.threads(s))
            self.set_vocabulary(vocab)
        else:   # every word counted, for the rule and for the counts an update adds
            counted = world.build_vocabulary(corpus, 1, s.max_vocab_size, None, world.threads(s))
            self._use_counted(counted, update, trim_rule, repr(corpus))
        self.vocab_seconds = time.perf_counter() - t0
        return self

    def build_vocab_from_freq(self, word_freq: Mapping[str, int], keep_raw_vocab: bool = False,
                              corpus_count: Optional[int] = None, trim_rule: Optional[TrimRule] = None,
                              update: bool = False) -> "Word2Vec":
        """build_vocab from {word: count} (positive integer counts) instead of a corpus, as
        gensim's: the same rules, `update` included; `corpus_count` sets
        model.corpus_count. `keep_raw_vocab` has no effect (no raw counts are kept)."""
        if update:
            self._require_vocab("an online update (update=True) adds to a vocabulary")
        counted = from_frequencies(word_freq)
        counted.counted_in(counted.total, int(corpus_count or 0))
        self._use_counted(counted, update, trim_rule, "word_freq")
        return self

    def _use_counted(self, counted: Vocabulary, update: bool, trim_rule: Optional[TrimRule], what: str) -> None:
        """Take the words of `counted` (every word of a corpus, most frequent first) that
        the rules keep: as the vocabulary, or added to it (update)."""
        s = self.settings
        kept = select_words(counted, s.min_count, s.max_final_vocab, trim_rule)
        if not update:
            if not len(kept):
                raise CorpusError(f"{what}: min_count={s.min_count}" + (" and the trim_rule" if trim_rule else "") +
                                  f" keep none of its {len(counted)} words")
            self.set_vocabulary(kept)
            return
        grown = updated(self.vocab, counted, kept)
        if grown.epoch_words == 0:
            raise CorpusError(f"{what} holds no word of the vocabulary, old or new (min_count={s.min_count})")
        self._grow(grown)

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
        self.input_table, self.output_table = padded_table(V, s.dim), padded_table(V, s.dim)
        self.input[:] = initial_input(V, s)
        self.position = TrainingPosition()
        self.history = []

    def _grow(self, vocab: Vocabulary) -> None:
        """Online update: `vocab` holds the model's words in their rows, then new ones. The
        old rows keep their weights; the new ones start as a fresh model's rows would (input
        uniform in +-init_range/dim, output zero); a new schedule starts."""
        s = self.settings
        old, V = len(self.vocab), len(vocab)
        memory.check_fits(s, V, s.thread_count, words_known=True)
        input_table, output_table = padded_table(V, s.dim), padded_table(V, s.dim)
        input_table[:old], output_table[:old] = self.input_table, self.output_table
        input_table[old:, :s.dim] = initial_input(V, s)[old:]
        self.vocab, self.input_table, self.output_table = vocab, input_table, output_table
        self.position = TrainingPosition()

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
    def wv(self) -> KeyedVectors:
        """The word vectors (input weights) as KeyedVectors sharing the model's memory and
        its vocabulary's index: one object per vocabulary and table (O(1) to access),
        whose cached norms are reset whenever training changes the weights (after every
        epoch and train() call)."""
        self._require_vocab()
        if self._wv is None or self._wv_source[0] is not self.vocab or self._wv_source[1] is not self.input_table:
            self._wv = KeyedVectors(self.vocab.words, self.input, self.vocab.counts, key_to_index=self.vocab.index)
            self._wv_source = (self.vocab, self.input_table)
        return self._wv

    def weights_changed(self) -> None:
        """Drop what was computed from the weights (wv's cached norms); training calls it,
        and so should code that changes model.input in place."""
        if self._wv is not None:
            self._wv.reset_cache()

    def _require_vocab(self, what: str = "the model has no vocabulary yet") -> None:
        if self.vocab is None:
            raise RuntimeError(f"{what}: call build_vocab(corpus) first")

    @property
    def corpus_count(self) -> int:
        """Sentences of the corpus build_vocab last counted (gensim's corpus_count; 0 if unknown)."""
        return int(self.vocab.corpus_sentences or 0) if self.vocab is not None else 0

    @property
    def corpus_total_words(self) -> int:
        """Words of the corpus build_vocab last counted, out-of-vocabulary ones included
        (gensim's corpus_total_words; 0 if unknown)."""
        return int(self.vocab.corpus_words or 0) if self.vocab is not None else 0

    # ---- training ----------------------------------------------------------------
    def train(self, corpus_iterable=None, corpus_file=None, total_examples: Optional[int] = None,
              total_words: Optional[int] = None, epochs: Optional[int] = None, start_alpha: Optional[float] = None,
              end_alpha: Optional[float] = None, word_count: int = 0, queue_factor: int = 2,
              report_delay: float = 1.0, compute_loss: bool = False, callbacks: Sequence = (), *,
              block_callbacks: Sequence[Callable] = (), progress: Optional[bool] = None) -> dict:
        """Train on the corpus (given as either argument) for `epochs` (default: the
        settings') epochs.

        An unfinished schedule (e.g. one interrupted with Ctrl-C, then saved and loaded)
        continues where it stopped, with the same learning rate and random draws;
        otherwise a new schedule of `epochs` epochs starts at alpha, its epochs the
        vocabulary words of the corpus build_vocab last counted. gensim's arguments:
        `start_alpha` / `end_alpha` set alpha / min_alpha (for this call and the next, as
        in gensim); `total_examples` (sentences) and `total_words` (words, out-of-vocabulary
        ones included) need not be given, and when given are checked against what
        build_vocab counted (a warning if they differ: the schedule follows the counted
        words, not the totals); `compute_loss` has no effect, and neither have
        `word_count`, `queue_factor` and `report_delay` (gensim's progress log and job
        queue: progress is the `progress` line here).

        Callbacks (the model's, then these) run at every epoch: callables as
        callback(model, epoch_stats) after it, gensim-style objects (CallbackAny2Vec's
        on_train_begin / on_epoch_begin / on_epoch_end / on_train_end) at each point
        (see w2v_ext.callbacks). Block callbacks are called as
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
        corpus = self._corpus(one_corpus(corpus_iterable=corpus_iterable, corpus_file=corpus_file))
        self._check_totals(total_examples, total_words)
        self._set_rates(start_alpha, end_alpha)
        self.compute_loss = bool(compute_loss)
        all_callbacks = Callbacks(self.callbacks + list(callbacks))
        world = self._world()
        if self.position.words_planned == 0 or self.finished:
            self._start_schedule(epochs)
        check_weights(self, "before training")
        backend = self._backend(world)
        shown = (self.progress if progress is None else progress) and world.rank == 0
        report = Progress(self.position.words_planned, enabled=shown, done_before=self.position.words_done)
        training = Training(self, world, backend, corpus, report, all_callbacks,
                            self.block_callbacks + list(block_callbacks))
        self.running_training_loss = 0.0
        all_callbacks.train_begin(self)
        try:
            try:
                training.run()
            finally:
                backend.close()  # the GPU backend copies the tables back here, also on Ctrl-C
                report.close()
                self.weights_changed()
        except KeyboardInterrupt:
            # a NaN the sampled loss missed must not reach a file saved after Ctrl-C
            check_weights(self, "when training was interrupted")
            raise
        check_weights(self, "after training")
        all_callbacks.train_end(self)
        return training.stats()

    def get_latest_training_loss(self) -> float:
        """The loss summed over the words trained by the latest train() call so far,
        updated after every epoch, as gensim's (whatever compute_loss): the kernels measure
        it on every 64th centre word and it is scaled up by 64, so it estimates the sum
        (the 'loss' of train()'s stats and of the history is the mean per term)."""
        return self.running_training_loss

    def _set_rates(self, start_alpha: Optional[float], end_alpha: Optional[float]) -> None:
        """gensim's start_alpha / end_alpha: alpha / min_alpha from now on, when given."""
        given = {name: v for name, v in (("alpha", start_alpha), ("min_alpha", end_alpha)) if v is not None}
        if given:
            self.settings = self.settings.replaced(**given)

    def _start_schedule(self, epochs: Optional[int]) -> None:
        """A new schedule of `epochs` (default: the settings') epochs over the vocabulary
        words of the corpus build_vocab last counted."""
        epochs = self.settings.epochs if epochs is None else int(epochs)
        if epochs < 1:
            raise ValueError(f"epochs must be a positive integer, got {epochs}")
        self.position = TrainingPosition.schedule(epochs, self.vocab.epoch_words)

    def _check_totals(self, total_examples: Optional[int], total_words: Optional[int]) -> None:
        """gensim's totals: integers >= 0, compared with what build_vocab counted."""
        for name, given, counted, what in (("total_examples", total_examples, self.vocab.corpus_sentences,
                                            "sentences"),
                                           ("total_words", total_words, self.vocab.corpus_words, "words")):
            if given is None:
                continue
            if isinstance(given, bool) or not isinstance(given, (int, np.integer)) or given < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {given!r}")
            if counted is not None and given != counted:
                warnings.warn(f"train({name}={given}): build_vocab counted {counted} {what} in its corpus; the "
                              f"learning rate follows the {self.vocab.epoch_words} vocabulary words it counted per "
                              f"epoch, not the totals", stacklevel=3)

    def _backend(self, world):
        """The backend this train() call trains on, from rank 0's weights."""
        s, counts = self.settings, self.vocab.counts
        keep = sampling.keep_thresholds(counts, s.sample)
        accept, alias = sampling.noise_table(counts, s.ns_exponent)
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


class _GensimAttribute:
    """A setting under gensim's name (model.epochs, model.vector_size, model.sg, ...),
    read as gensim holds it and set in gensim's terms (validated)."""

    def __init__(self, name: str):
        self.name, self.field = name, gensim_names()[name]

    def __get__(self, model, owner=None):
        if model is None:
            return self
        return gensim_value(model.settings, self.field)

    def __set__(self, model, value) -> None:
        settings = model.settings.replaced(**{self.name: value})
        if settings.dim != model.settings.dim and model.input_table is not None:
            raise ValueError(f"{self.name} cannot change once the model has weights ([{len(model.vocab)}, "
                             f"{model.settings.dim}]): set it before build_vocab")
        model.settings = settings


for _name in gensim_names():
    setattr(Word2Vec, _name, _GensimAttribute(_name))


def one_corpus(**given):
    """The one corpus given under gensim's names (sentences, corpus_file,
    corpus_iterable), or None; TypeError for more than one."""
    named = [name for name, corpus in given.items() if corpus is not None]
    if len(named) > 1:
        raise TypeError(f"give one corpus, not {' and '.join(f'{name}=' for name in named)}")
    return given[named[0]] if named else None


def initial_input(rows: int, settings: Settings) -> np.ndarray:
    """word2vec.c's input weights of a fresh model of `rows` words: [rows, dim] uniform in
    +-init_range/dim, drawn from the seed."""
    s = settings
    rng = np.random.Generator(np.random.PCG64(s.seed))
    return ((rng.random((rows, s.dim), dtype=np.float32) - np.float32(0.5)) / np.float32(s.dim)
            * np.float32(2 * s.init_range))   # x 1.0 exactly at word2vec.c's 0.5


def padded_table(rows: int, dim: int) -> np.ndarray:
    """A zeroed [rows, dim rounded up to 16] float32 table with 64-byte aligned rows:
    the native trainer runs its loops over whole vectors (the padding stays zero)."""
    width = -(-dim // 16) * 16
    raw = np.zeros(rows * width + 16, dtype=np.float32)
    offset = (-raw.ctypes.data % 64) // 4
    return raw[offset:offset + rows * width].reshape(rows, width)
