"""gensim 4's Word2Vec API on the corpus trainer: its argument names beside ours, the
arguments refused or without effect, its attributes, trim_rule, build_vocab_from_freq,
online training (build_vocab(update=True)), train()'s totals and learning rates,
CallbackAny2Vec-style callbacks, get_latest_training_loss, and model.wv as one object
kept current by training. Never imports gensim (test_gensim_tutorial.py runs a gensim
tutorial script)."""
from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest

from test_bad_files import rewritten
from test_trainer_quality import neighbour_rate, topic_corpus
from trainer_testing import BlockRecorder, write_text, zipf_lines
from w2v_ext import cli, vectors
from w2v_ext.corpus import CorpusError
from w2v_ext.settings import Settings
from w2v_ext.train_backends import LOSS_EVERY
from w2v_ext.trainer import Word2Vec, initial_input
from w2v_ext.vocab import RULE_DEFAULT, RULE_DISCARD, RULE_KEEP

QUIET = dict(progress=False)
SMALL = dict(dim=8, window=3, negative=3, min_count=1, threads=1, epochs=2, **QUIET)


@pytest.fixture(scope="module")
def sentences():
    rng = np.random.default_rng(21)
    return [line.split() for line in zipf_lines(rng, 40, 200)]


# ---- settings: gensim's names, values and defaults ---------------------------------------

@pytest.mark.parametrize("gensim, ours", [
    (dict(vector_size=16), dict(dim=16)),
    (dict(workers=2), dict(threads=2)),
    (dict(sg=1), dict(model="sg")),
    (dict(sg=0), dict(model="cbow")),
    (dict(sg=True), dict(model="sg")),
    (dict(cbow_mean=0), dict(cbow_mean=False)),
    (dict(cbow_mean=1, shrink_windows=0), dict(cbow_mean=True, shrink_windows=False)),
    (dict(ns_exponent=0.5, window=7, negative=2, sample=0, min_count=3, epochs=9, alpha=0.1, min_alpha=0.001,
          seed=4, max_vocab_size=10**6, max_final_vocab=500),
     dict(ns_exponent=0.5, window=7, negative=2, sample=0, min_count=3, epochs=9, alpha=0.1, min_alpha=0.001,
          seed=4, max_vocab_size=10**6, max_final_vocab=500)),
    (dict(hs=0, sorted_vocab=1, null_word=0, batch_words=10000, hashfxn=hash), {}),
])
def test_gensim_names_are_aliases_of_ours(gensim, ours):
    model = Word2Vec(**gensim, **QUIET)
    assert model.settings == Settings(**ours)
    stored = dataclasses.asdict(model.settings)
    assert all(type(stored[k]) is bool for k in ("cbow_mean", "shrink_windows", "shared_negatives"))


def test_a_setting_under_both_names_is_an_error():
    for both in (dict(dim=10, vector_size=10), dict(threads=1, workers=1), dict(model="sg", sg=1)):
        with pytest.raises(TypeError, match="are the same setting"):
            Word2Vec(**both, **QUIET)


@pytest.mark.parametrize("kw, needle", [
    (dict(hs=1), "hs=1 is not supported: hierarchical softmax is not implemented"),
    (dict(sorted_vocab=0), "sorted_vocab=0 is not supported: the vocabulary is always sorted"),
    (dict(null_word=1), "null_word=1 is not supported"),
    (dict(sg=2), r"sg must be 0 \(CBOW\) or 1 \(skip-gram\), got 2"),
    (dict(ns_exponent=11), r"ns_exponent must be a number in \[-10, 10\]"),
    (dict(ns_exponent=float("nan")), "ns_exponent must be a number"),
    (dict(shrink_windows=2), "shrink_windows must be True or False"),
])
def test_gensim_values_we_do_not_train_with_are_refused(kw, needle):
    with pytest.raises(ValueError, match=needle):
        Word2Vec(**kw, **QUIET)


def test_gensim_arguments_without_effect_are_accepted(sentences):
    """A common tutorial's lines: build_vocab(progress_per=...), train(report_delay=...)."""
    kw = dict(SMALL, model="sg", seed=3)
    plain = Word2Vec(**kw).build_vocab(sentences)
    plain.train(sentences)
    other = Word2Vec(comment="tutorial", batch_words=100, hashfxn=hash, **kw)
    other.build_vocab(sentences, progress_per=10000, keep_raw_vocab=True)
    other.train(sentences, total_examples=other.corpus_count, epochs=other.epochs, report_delay=1, word_count=0,
                queue_factor=4)
    assert np.array_equal(plain.input, other.input) and np.array_equal(plain.output, other.output)


def test_gensim_3_names_are_refused_with_their_gensim_4_name():
    with pytest.raises(TypeError, match=r"'size' \(gensim 3's name; gensim 4's is vector_size\)"):
        Word2Vec(size=100)
    with pytest.raises(TypeError, match="'iter'.*epochs"):
        Word2Vec(iter=5)


def test_defaults_are_cbow_and_five_epochs_for_the_api_and_the_command():
    assert (Settings().model, Settings().epochs) == ("cbow", 5)
    args = cli.build_parser().parse_args(["train", "c.txt", "-o", "v.bin"])
    assert cli.settings_of(args) == Settings() == Word2Vec(**QUIET).settings
    model = Word2Vec(**QUIET)
    assert (model.sg, model.epochs) == (0, 5)


def test_gensim_attributes_read_and_set_the_settings():
    model = Word2Vec(vector_size=12, sg=1, workers=2, **QUIET)
    assert (model.vector_size, model.sg, model.workers, model.window, model.epochs) == (12, 1, 2, 5, 5)
    assert model.alpha == 0.025 and model.min_alpha == pytest.approx(0.0025) and model.cbow_mean == 1
    assert model.ns_exponent == 0.75 and model.shrink_windows is True
    model.sg, model.epochs, model.alpha = 0, 3, 0.04   # gensim's old manual learning-rate loops do this
    assert (model.settings.model, model.settings.epochs, model.settings.alpha) == ("cbow", 3, 0.04)
    with pytest.raises(ValueError, match="window must be a positive integer"):
        model.window = 0
    assert model.settings.window == 5
    with pytest.raises(ValueError, match="min_alpha must not exceed alpha"):
        model.min_alpha = 1.0
    model.vector_size = 10   # no weights yet: fine
    model.build_vocab([["a", "b"]] * 5)
    with pytest.raises(ValueError, match=r"^vector_size cannot change once the model has weights \(\[2, 10\]\): "
                                         r"set it before build_vocab$"):
        model.vector_size = 12
    assert model.settings.dim == 10 and model.wv.vector_size == 10


def test_the_corpus_under_gensims_names(tmp_path, sentences):
    path = write_text(tmp_path / "c.txt", [" ".join(s) for s in sentences])
    kw = dict(SMALL, seed=3)
    base = Word2Vec(path, **kw)
    for other in (Word2Vec(sentences=path, **kw), Word2Vec(corpus_file=path, **kw),
                  Word2Vec(corpus_iterable=path, **kw), Word2Vec(**kw).build_vocab(corpus_file=path)):
        if not other.history:
            other.train(corpus_file=path)
        assert np.array_equal(other.input, base.input)
    with pytest.raises(TypeError, match="give one corpus, not sentences= and corpus_file="):
        Word2Vec(sentences, corpus_file=path, **QUIET)
    with pytest.raises(TypeError, match=r"no corpus given \(corpus_iterable or corpus_file\)"):
        Word2Vec(**QUIET).build_vocab()


# ---- vocabulary: trim_rule, word frequencies -----------------------------------------------

def test_trim_rule_decides_word_by_word(sentences):
    seen = []

    def rule(word, count, min_count):
        seen.append((word, count, min_count))
        if word == "w0":
            return RULE_DISCARD
        if word.endswith("7"):
            return RULE_KEEP
        return RULE_DEFAULT

    model = Word2Vec(**dict(SMALL, min_count=15)).build_vocab(sentences, trim_rule=rule)
    counts = {}
    for s in sentences:
        for w in s:
            counts[w] = counts.get(w, 0) + 1
    expected = {w for w, c in counts.items() if w != "w0" and (w.endswith("7") or c >= 15)}
    assert set(model.vocab.words) == expected and any(counts[w] < 15 for w in expected)
    assert sorted(seen) == sorted((w, c, 15) for w, c in counts.items())
    assert dict(zip(model.vocab.words, model.vocab.counts.tolist())) == {w: counts[w] for w in expected}
    assert list(model.vocab.counts) == sorted(model.vocab.counts, reverse=True)
    # passed to the constructor too; without a rule the vocabulary is the native count's
    assert Word2Vec(sentences, trim_rule=rule, **dict(SMALL, min_count=15)).vocab.words == model.vocab.words
    plain = Word2Vec(**dict(SMALL, min_count=5)).build_vocab(sentences)
    assert plain.vocab.words == Word2Vec(**dict(SMALL, min_count=5)).build_vocab(
        sentences, trim_rule=lambda *a: RULE_DEFAULT).vocab.words
    with pytest.raises(CorpusError, match="keep none of its"):
        Word2Vec(**SMALL).build_vocab(sentences, trim_rule=lambda *a: RULE_DISCARD)


def test_build_vocab_from_freq(sentences):
    freq = {"b": 5, "a": 5, "c": 9, "rare": 1}
    model = Word2Vec(**dict(SMALL, min_count=2)).build_vocab_from_freq(freq, corpus_count=7)
    assert model.vocab.words == ["c", "a", "b"] and model.vocab.counts.tolist() == [9, 5, 5]
    assert (model.corpus_count, model.corpus_total_words) == (7, 20)
    assert model.input.shape == (3, 8) and not model.output.any()
    model.train([["a", "b", "c", "x"]] * 5)
    assert model.finished
    kept = Word2Vec(**dict(SMALL, min_count=2)).build_vocab_from_freq(freq, trim_rule=lambda w, c, m: 2 * (w == "rare"))
    assert kept.vocab.words == ["c", "a", "b", "rare"]
    for bad, needle in (({"a": 0}, "positive integer"), ({"a": 1.5}, "positive integer"), ({"": 3}, "non-empty")):
        with pytest.raises(ValueError, match=needle):
            Word2Vec(**SMALL).build_vocab_from_freq(bad)


# ---- online training ------------------------------------------------------------------------

def topic_lines(rng, topic_words, sentences, length=8):
    return [" ".join(rng.choice(topic_words, length)) for _ in range(sentences)]


def test_online_update_keeps_old_rows_and_trains_the_new_words(tmp_path):
    rng = np.random.default_rng(3)
    first = tmp_path / "first.txt"
    label = topic_corpus(first, rng, topics=4, per_topic=10, sentences=2000)
    model = Word2Vec(str(first), model="sg", dim=24, window=5, min_count=5, epochs=3, threads=1, seed=5, **QUIET)
    old_words, old_in, old_out = list(model.vocab.words), model.input.copy(), model.output.copy()
    old_counts = model.vocab.counts.copy()
    wv_before = model.wv
    # the second corpus: topic 0's words with 5 new ones mixed in, and a word too rare to keep
    topic0 = [w for w, t in label.items() if t == 0]
    new_words = [f"new{i}" for i in range(5)]
    lines = topic_lines(rng, topic0 + new_words, 1500) + ["once"]
    second = write_text(tmp_path / "second.txt", lines)
    model.build_vocab(second, update=True)

    V0, V = len(old_words), len(model.vocab)
    assert model.vocab.words[:V0] == old_words and sorted(model.vocab.words[V0:]) == new_words and V == V0 + 5
    assert list(model.vocab.counts[V0:]) == sorted(model.vocab.counts[V0:], reverse=True)   # count order
    added = {w: sum(line.split().count(w) for line in lines) for w in model.vocab.words}
    assert model.vocab.counts.tolist() == [c + added[w] for w, c in zip(old_words, old_counts.tolist())] + \
        [added[w] for w in model.vocab.words[V0:]]
    assert model.vocab.epoch_words == sum(added.values()) and model.corpus_count == len(lines)
    # old rows kept; new input rows as a fresh model's, output rows zero
    assert np.array_equal(model.input[:V0], old_in) and np.array_equal(model.output[:V0], old_out)
    assert np.array_equal(model.input[V0:], initial_input(V, model.settings)[V0:]) and not model.output[V0:].any()
    assert model.wv is not wv_before and model.wv.words == model.vocab.words
    assert not model.finished and model.position.words_planned == 0

    recorder = BlockRecorder()
    model.backend_hook = recorder
    model.train(second, total_examples=model.corpus_count, epochs=model.epochs)
    # gensim's schedule: a new run of `epochs` epochs over the new corpus, from alpha
    assert model.epochs_planned == 3 and model.words_planned == 3 * model.vocab.epoch_words
    assert recorder.calls[0]["words_done"] == 0 and recorder.calls[0]["words_total"] == model.words_planned
    assert [h["epoch"] for h in model.history] == [1, 2, 3, 1, 2, 3]
    # words of the first corpus only never train as inputs here: their vectors are kept
    only_first = [i for i, w in enumerate(old_words) if label[w] != 0]
    assert np.array_equal(model.input[only_first], old_in[only_first])
    assert not np.array_equal(model.input[V0:], initial_input(V, model.settings)[V0:])
    # the new words learnt their topic; the old ones kept theirs
    label.update({w: 0 for w in new_words})
    assert neighbour_rate(model, label) >= 0.85


def test_online_update_survives_save_and_load(tmp_path, sentences):
    model = Word2Vec(sentences, **SMALL)
    more = [s + ["fresh"] for s in sentences[:50]]
    model.build_vocab(more, update=True)
    model.save(tmp_path / "m.model")
    loaded = Word2Vec.load(tmp_path / "m.model", progress=False)
    assert loaded.vocab.words == model.vocab.words and loaded.vocab.epoch_words == model.vocab.epoch_words
    assert (loaded.corpus_count, loaded.corpus_total_words) == (50, model.corpus_total_words)
    model.train(more)
    loaded.train(more)
    assert np.array_equal(model.input, loaded.input) and model.words_planned == 2 * model.vocab.epoch_words


def test_online_update_errors(sentences):
    with pytest.raises(RuntimeError, match=r"an online update \(update=True\) adds to a vocabulary: call build_vocab"):
        Word2Vec(**SMALL).build_vocab(sentences, update=True)
    model = Word2Vec(sentences, **dict(SMALL, min_count=3))
    with pytest.raises(CorpusError, match="holds no word of the vocabulary"):
        model.build_vocab([["unknown", "words"]], update=True)
    words = list(model.vocab.words)
    model.build_vocab_from_freq({"w1": 4, "extra": 3, "scarce": 1}, update=True)
    assert model.vocab.words == words + ["extra"]


# ---- train(): totals, learning rates, callbacks, loss ---------------------------------------

def test_totals_are_checked_against_what_build_vocab_counted(tmp_path, sentences):
    model = Word2Vec(**SMALL).build_vocab(sentences)
    words = sum(map(len, sentences))
    assert (model.corpus_count, model.corpus_total_words) == (len(sentences), words)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.train(sentences, total_examples=model.corpus_count, epochs=model.epochs)
        model.train(sentences, total_words=words)
    with pytest.warns(UserWarning, match=rf"total_examples=5\): build_vocab counted {len(sentences)} sentences"):
        model.train(sentences, total_examples=5)
    with pytest.warns(UserWarning, match=rf"total_words=9\): build_vocab counted {words} words"):
        model.train(sentences, total_words=9)
    for bad in (-1, 2.5, True):
        with pytest.raises(ValueError, match="total_examples must be an integer >= 0"):
            model.train(sentences, total_examples=bad)


def test_corpus_count_of_text_does_not_depend_on_the_threads(tmp_path):
    lines = zipf_lines(np.random.default_rng(2), 30, 3000)
    path = write_text(tmp_path / "c.txt", lines)
    one, two = (Word2Vec(**dict(SMALL, threads=t)).build_vocab(path) for t in (1, 2))
    assert one.corpus_count == two.corpus_count == len(lines)   # its lines, as gensim's LineSentence
    assert one.corpus_total_words == two.corpus_total_words == sum(len(line.split()) for line in lines)
    # a last line without a newline is a sentence too; each file's lines count
    with open(path, "w") as f:
        f.write("\n".join(lines))
    other = write_text(tmp_path / "d.txt", lines[:5])
    for t in (1, 2):
        assert Word2Vec(**dict(SMALL, threads=t)).build_vocab(path).corpus_count == len(lines)
        assert Word2Vec(**dict(SMALL, threads=t)).build_vocab([path, other]).corpus_count == len(lines) + 5


def test_start_and_end_alpha_set_the_learning_rates(sentences):
    recorder = BlockRecorder()
    model = Word2Vec(backend_hook=recorder, **dict(SMALL, model="sg")).build_vocab(sentences)
    model.train(sentences, start_alpha=0.01, end_alpha=0.005, epochs=1)
    assert (model.settings.alpha, model.settings.min_alpha) == (0.01, 0.005)   # kept, as gensim does
    assert 0.005 <= recorder.calls[-1]["result"]["alpha"] < 0.01
    with pytest.raises(ValueError, match="min_alpha must not exceed alpha"):
        model.train(sentences, end_alpha=0.5)


class Recording:
    """A gensim CallbackAny2Vec look-alike recording what it sees."""

    def __init__(self, log, name):
        self.log, self.name = log, name

    def on_train_begin(self, model):
        self.log.append((self.name, "train_begin", model.epochs_done))

    def on_epoch_begin(self, model):
        self.log.append((self.name, "epoch_begin", model.epochs_done))

    def on_epoch_end(self, model):
        self.log.append((self.name, "epoch_end", model.epochs_done, model.get_latest_training_loss()))

    def on_train_end(self, model):
        self.log.append((self.name, "train_end", model.epochs_done))


class EpochEndOnly:
    def __init__(self, log):
        self.log = log

    def on_epoch_end(self, model):
        self.log.append(("only", "epoch_end", model.epochs_done))


def test_gensim_callbacks_and_ours(sentences):
    log = []
    model = Word2Vec(callbacks=[Recording(log, "model's")], **dict(SMALL, epochs=2)).build_vocab(sentences)
    model.train(sentences, callbacks=[lambda m, stats: log.append(("ours", stats["epoch"])), EpochEndOnly(log)])
    assert [entry[:3] for entry in log] == [
        ("model's", "train_begin", 0),
        ("model's", "epoch_begin", 0),
        ("model's", "epoch_end", 1), ("ours", 1), ("only", "epoch_end", 1),
        ("model's", "epoch_begin", 1),
        ("model's", "epoch_end", 2), ("ours", 2), ("only", "epoch_end", 2),
        ("model's", "train_end", 2)]
    with pytest.raises(TypeError, match="a callback must be callable"):
        model.train(sentences, callbacks=[object()])


def test_latest_training_loss_is_the_summed_loss_of_the_call(sentences):
    log, recorder = [], BlockRecorder()
    model = Word2Vec(backend_hook=recorder, block_bytes=300, compute_loss=True,
                     **dict(SMALL, epochs=3, model="sg")).build_vocab(sentences)
    assert model.get_latest_training_loss() == 0.0 and model.compute_loss
    model.train(sentences, callbacks=[Recording(log, "r")])
    per_epoch = [LOSS_EVERY * sum(c["result"]["loss"] for c in recorder.calls if c["epoch"] == e) for e in range(3)]
    assert len(recorder.calls) > 6 and all(loss > 0 for loss in per_epoch)
    seen = [entry[3] for entry in log if entry[1] == "epoch_end"]
    assert seen == pytest.approx(np.cumsum(per_epoch).tolist(), rel=1e-9)   # cumulative within the call
    assert model.get_latest_training_loss() == pytest.approx(sum(per_epoch), rel=1e-9)
    # about the loss of every word trained: the mean per term x the terms of all words
    terms_per_word = sum(c["result"]["loss_terms"] for c in recorder.calls) * LOSS_EVERY / (3 * model.vocab.total)
    assert 1 < terms_per_word < 2 * model.settings.window * (1 + model.settings.negative)
    # a new call starts again from zero
    recorder.calls.clear()
    model.train(sentences, epochs=1)
    assert model.get_latest_training_loss() == pytest.approx(
        LOSS_EVERY * sum(c["result"]["loss"] for c in recorder.calls), rel=1e-9)


# ---- model.wv -----------------------------------------------------------------------------

def test_wv_is_one_object_kept_current_by_training(sentences, monkeypatch):
    made = []
    real_init = vectors.KeyedVectors.__init__

    def counting_init(self, *args, **kwargs):
        made.append(1)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(vectors.KeyedVectors, "__init__", counting_init)
    model = Word2Vec(sentences, **dict(SMALL, epochs=2))
    for word in model.vocab.words:   # gensim scripts loop over model.wv[word]
        model.wv[word]
        model.wv.similarity(word, model.vocab.words[0])
    assert len(made) == 1 and np.shares_memory(model.wv.vectors, model.input_table)
    wv = model.wv
    assert wv.key_to_index is model.vocab.index   # shared, not rebuilt
    stale = wv.unit_vectors.copy()
    stale_norms = wv.norms.copy()

    def check_current(m, stats):
        assert m.wv is wv
        np.testing.assert_allclose(wv.unit_vectors, unit(m.input), rtol=1e-5, atol=1e-6)

    model.train(sentences, callbacks=[check_current])
    assert not np.allclose(stale, wv.unit_vectors, atol=1e-3)
    np.testing.assert_allclose(wv.unit_vectors, unit(model.input), rtol=1e-5, atol=1e-6)
    assert not np.array_equal(stale_norms, wv.norms)
    np.testing.assert_allclose(wv.norms, np.linalg.norm(model.input, axis=1), rtol=1e-5)
    word = model.vocab.words[3]
    expected = unit(model.input) @ unit(model.input)[3]
    assert [w for w, _ in wv.most_similar(word, topn=3)] == [model.vocab.words[i] for i in np.argsort(-expected)[1:4]]
    assert model.wv is wv and len(made) == 1
    model.build_vocab([["brand", "new", "words"]] * 3, update=True)   # a new vocabulary: a new object
    assert model.wv is not wv and model.wv.words[-3:] == model.vocab.words[-3:] and "brand" in model.wv
    assert model.wv.key_to_index is model.vocab.index and len(made) == 2
    wv = model.wv
    model.set_weights(model.input * 2, model.output)   # new tables: a new object
    assert model.wv is not wv and np.shares_memory(model.wv.vectors, model.input_table)


def unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_whole_model_save_and_load_with_gensim_names(tmp_path, sentences):
    model = Word2Vec(sentences=sentences, vector_size=8, window=3, min_count=1, workers=1, sg=1, epochs=2,
                     ns_exponent=0.5, shrink_windows=False, **QUIET)
    model.save(str(tmp_path / "word2vec.model"))
    loaded = Word2Vec.load(str(tmp_path / "word2vec.model"), progress=False)
    assert loaded.settings == model.settings and (loaded.sg, loaded.vector_size) == (1, 8)
    assert (loaded.corpus_count, loaded.corpus_total_words) == (model.corpus_count, model.corpus_total_words)
    assert np.array_equal(loaded.wv.vectors, model.wv.vectors) and loaded.wv.words == model.wv.words
    loaded.train(sentences, total_examples=loaded.corpus_count, epochs=loaded.epochs)
    model.train(sentences, total_examples=model.corpus_count, epochs=model.epochs)
    assert np.array_equal(loaded.input, model.input)


def test_a_model_file_without_corpus_counts_or_gensim_settings_loads(tmp_path, sentences):
    """Files written before the corpus counts and ns_exponent / shrink_windows were stored:
    one epoch is the vocabulary's counts, the counts are unknown, the settings default."""
    model = Word2Vec(sentences, **SMALL)
    model.save(tmp_path / "new.model")
    old = rewritten(tmp_path / "new.model", tmp_path / "old.model", fields={"corpus": "del"},
                    settings={"ns_exponent": "del", "shrink_windows": "del"})
    loaded = Word2Vec.load(old, progress=False)
    assert loaded.vocab.epoch_words == loaded.vocab.total and (loaded.corpus_count, loaded.corpus_total_words) == (0, 0)
    assert (loaded.settings.ns_exponent, loaded.settings.shrink_windows) == (0.75, True) and loaded.finished
    assert np.array_equal(loaded.input, model.input)
