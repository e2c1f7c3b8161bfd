"""word2vec.c's sampling distributions as the trainer uses them: subsampling keep
probabilities and thresholds, the unigram^0.75 noise distribution (alias table and the
kernel's alias draw), the random window in [1, window], and the linear learning rate.

Draws are replayed with tests/trainer_reference.py's restatement of csrc/w2v_math.h's
counter-based generator (which the native trainer matches draw for draw in
test_trainer_reference.py)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import trainer_reference as ref
from trainer_reference import alias_draw, bounded_random, counter_random, keep_word
from trainer_testing import BlockRecorder, train_one_block, write_text, zipf_lines
from w2v_ext import _native, sampling
from w2v_ext.trainer import Word2Vec, padded_table


def zipf_counts(V=50, top=20000, exponent=1.1):
    return np.maximum(1, np.round(top / np.arange(1, V + 1) ** exponent)).astype(np.int64)


# ---- subsampling ----------------------------------------------------------------------

def test_keep_probabilities_word2vec_formula():
    counts = np.concatenate([zipf_counts(V=2000, top=100000), [3, 2, 1, 1]])
    train_words = int(counts.sum())
    for sample in (1e-3, 1e-4, 1e-5):
        p = sampling.keep_probabilities(counts, sample)
        for cn, got in zip(counts.tolist(), p.tolist()):
            # word2vec.c: ran = (sqrt(cn / (sample * train_words)) + 1) * (sample * train_words) / cn
            ran = (math.sqrt(cn / (sample * train_words)) + 1) * (sample * train_words) / cn
            assert got == pytest.approx(min(1.0, ran), rel=1e-12)
        assert np.all(np.diff(p) >= 0)  # the more frequent, the more often dropped
        assert p[0] < 0.5 and p[-1] == 1.0


def test_keep_thresholds():
    counts = np.concatenate([zipf_counts(V=2000, top=100000), [3, 2, 1, 1]])
    assert sampling.keep_thresholds(counts, 0) is None and sampling.keep_thresholds(counts, 0.0) is None
    p = sampling.keep_probabilities(counts, 1e-4)
    t = sampling.keep_thresholds(counts, 1e-4)
    assert t.dtype == np.uint32 and t.shape == counts.shape
    always = p >= 1
    assert always.any() and (~always).any()
    assert np.all(t[always] == 0xFFFFFFFF)
    assert np.all(t[~always] == np.floor(p[~always] * 2.0 ** 32))
    # the probability a uniform 32-bit draw falls below the threshold is p (to 2^-32)
    np.testing.assert_allclose(t[~always] / 2.0 ** 32, p[~always], atol=2.0 ** -32)


def test_native_subsampling_keeps_what_the_draws_say(tmp_path):
    """The kernel's words_kept equals the count of positions whose draw is under the word's
    threshold, and per word the kept share is its keep probability (binomial z-scores)."""
    rng = np.random.default_rng(1)
    counts = zipf_counts(V=40, top=30000)
    p_word = counts / counts.sum()
    ids = rng.choice(len(counts), 200000, p=p_word).astype(np.int32)
    keep = sampling.keep_thresholds(counts, 1e-3)
    accept, alias = sampling.noise_table(counts)
    V, dim = len(counts), 16
    table_in, table_out = padded_table(V, dim), padded_table(V, dim)
    seed, epoch, first = 9, 2, 1000
    settings = _native.cpu.TrainSettings(architecture=0, window=1, negative=1, alpha=1e-6, cbow_mean=True,
                                         shared_negatives=True, seed=seed, loss_every=0)
    ends = np.arange(100, len(ids) + 1, 100, dtype=np.int64)
    r = train_one_block(table_in, table_out, keep, accept, alias, settings, ids, ends, epoch, first,
                        0.0, float(len(ids)), 1)
    draws = counter_random(ref.stream_key(seed, epoch, 1), np.arange(first, first + len(ids)))
    kept = keep_word(keep[ids], draws)
    assert r["words_kept"] == int(kept.sum())
    p = sampling.keep_probabilities(counts, 1e-3)
    n = np.bincount(ids, minlength=V)
    k = np.bincount(ids[kept], minlength=V)
    z = (k - n * p) / np.sqrt(np.maximum(n * p * (1 - p), 1e-12))
    assert np.all(np.abs(z[n > 0]) < 5), z
    # without subsampling every word is kept
    r0 = train_one_block(table_in, table_out, None, accept, alias, settings, ids, ends, epoch, first,
                         0.0, float(len(ids)), 1)
    assert r0["words_kept"] == len(ids)


# ---- noise distribution ---------------------------------------------------------------

def alias_probabilities(accept, alias):
    V = len(accept)
    keep = accept.astype(np.float64) / 2.0 ** 32
    keep[accept == 0xFFFFFFFF] = 1.0
    p = keep.copy()
    np.add.at(p, alias, 1.0 - keep)
    return p / V


@pytest.mark.parametrize("V", [1, 2, 7, 50, 1000])
def test_alias_table_encodes_unigram_075(V):
    counts = zipf_counts(V=V, top=50000) if V > 1 else np.array([5])
    accept, alias = sampling.noise_table(counts)
    assert accept.dtype == np.uint32 and alias.dtype == np.int32 and np.all((alias >= 0) & (alias < V))
    expected = counts.astype(np.float64) ** 0.75 / (counts.astype(np.float64) ** 0.75).sum()
    np.testing.assert_allclose(sampling.noise_distribution(counts), expected, rtol=1e-12)
    np.testing.assert_allclose(alias_probabilities(accept, alias), expected, rtol=1e-6, atol=1e-9)


def test_noise_draws_chi_square():
    """Many draws with the kernel's alias draw and noise stream follow unigram^0.75 (and
    clearly not the plain unigram distribution: the test has the power to tell)."""
    counts = zipf_counts(V=50, top=20000)
    accept, alias = sampling.noise_table(counts)
    key = ref.stream_key(1, 0, 3)
    draws = alias_draw(accept, alias, counter_random(key, np.arange(300000)))
    observed = np.bincount(draws, minlength=len(counts))
    n = observed.sum()
    for power, should_fit in ((0.75, True), (1.0, False)):
        expected = n * counts ** power / (counts ** power).sum()
        p = stats.chisquare(observed, expected).pvalue
        assert (p > 1e-3) if should_fit else (p < 1e-6), (power, p)


def test_native_negatives_are_the_alias_draws():
    """The rows a skip-gram update touches in the output table are the centre and exactly
    the noise words the restated draw gives (each centre's draws equal to it skipped)."""
    counts = zipf_counts(V=30, top=5000)
    accept, alias = sampling.noise_table(counts)
    V, dim, negative, seed = len(counts), 16, 6, 4
    settings = _native.cpu.TrainSettings(architecture=0, window=1, negative=negative, alpha=0.5, cbow_mean=True,
                                         shared_negatives=True, seed=seed, loss_every=0)
    key = ref.stream_key(seed, 0, 3)
    for position in (0, 17, 123456):
        table_in, table_out = padded_table(V, dim), padded_table(V, dim)
        table_in[:, :dim] = 0.1
        # one sentence [centre, context]: each word is the other's only context
        center, context = 3, 5
        train_one_block(table_in, table_out, None, accept, alias, settings,
                        np.array([center, context], dtype=np.int32), np.array([2], dtype=np.int64),
                        0, position, 0.0, 1e9, 1)
        touched = set(np.flatnonzero(np.abs(table_out).sum(1)).tolist())
        expected = {center, context}
        for p, c in ((position, center), (position + 1, context)):
            draws = alias_draw(accept, alias, counter_random(key, p * negative + np.arange(negative)))
            expected |= {int(w) for w in draws if w != c}
        assert len(expected) > 4 and touched == expected, position


# ---- window ---------------------------------------------------------------------------

@pytest.mark.parametrize("window", [1, 2, 5, 10])
def test_window_reach_uniform(window):
    reach = window - bounded_random(counter_random(ref.stream_key(3, 1, 2), np.arange(200000)), window)
    assert reach.min() == 1 and reach.max() == window
    observed = np.bincount(reach.astype(np.int64), minlength=window + 1)[1:]
    if window > 1:
        assert stats.chisquare(observed).pvalue > 1e-3
        # power: a window shrunk to [1, window-1] half the time would be rejected
        skewed = observed.astype(float).copy()
        skewed[-1] *= 0.9
        skewed[0] += observed[-1] * 0.1
        assert stats.chisquare(skewed).pvalue < 1e-6


# ---- learning rate --------------------------------------------------------------------

def test_linear_learning_rate_formula():
    start, total = 0.025, 1000.0
    for done in [0, 1, 10, 500, 999, 1000, 1001, 5000]:
        expected = max(start * (1 - done / (total + 1)), start * 1e-4)
        assert ref.linear_learning_rate(start, done, total) == pytest.approx(expected, rel=1e-6)
    assert ref.linear_learning_rate(start, 0, total) == np.float32(start)
    assert ref.linear_learning_rate(start, 10 * total, total) == np.float32(start * 1e-4)
    end = start / 10
    for done in [0, 1, 500, 1000, 5000]:
        expected = max(start + (end - start) * done / (total + 1), end)
        assert ref.linear_learning_rate(start, done, total, end) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("model,alpha,min_alpha", [("sg", None, 0.0), ("cbow", None, 0.0), ("sg", 0.1, 0.0),
                                                   ("cbow", 0.05, 0.02), ("sg", None, None), ("cbow", 0.07, None)])
def test_native_learning_rate_schedule(tmp_path, model, alpha, min_alpha):
    """The alpha a block gives (the rate of its last sentence) follows
    start + (end - start) * done / (total + 1) over both epochs, end being min_alpha or by
    default start * 0.1; min_alpha=0 is word2vec.c's start * (1 - done / (total + 1)),
    from start down towards start * 1e-4."""
    path = write_text(tmp_path / "c.txt", zipf_lines(np.random.default_rng(2), 30, 120))
    recorder = BlockRecorder()
    m = Word2Vec(model=model, alpha=alpha, min_alpha=min_alpha, dim=8, min_count=1, epochs=2, threads=1,
                 progress=False, block_bytes=50, backend_hook=recorder)
    m.build_vocab(path)
    m.train(path)
    start = {"sg": 0.025, "cbow": 0.05}[model] if alpha is None else alpha
    end = start * 0.1 if min_alpha is None else min_alpha
    total = 2 * m.vocab.total
    got, expected = [], []
    for c in recorder.calls:
        assert c["words_total"] == total
        assert c["words_done"] == c["epoch"] * m.vocab.total + c["first_position"]
        last_begin = int(c["ends"][-2]) if len(c["ends"]) > 1 else 0
        got.append(c["result"]["alpha"])
        progress = (c["words_done"] + last_begin) / (total + 1)
        expected.append(start * (1 - progress) if end == 0 else start + (end - start) * progress)
    assert len(got) > 20
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert start * 0.99 < got[0] <= start
    assert np.all(np.diff(got) < 0)
    if end == 0:
        assert got[-1] < start * 0.1
    else:
        assert end <= got[-1] < end + 0.1 * (start - end)
    # and the floor: past the end of the schedule the rate stays at start * 1e-4
    V = len(m.vocab)
    accept, alias = sampling.noise_table(m.vocab.counts)
    settings = _native.cpu.TrainSettings(architecture=0, window=2, negative=2, alpha=start, cbow_mean=True,
                                         shared_negatives=True, seed=1, loss_every=0)
    ids = np.zeros(5, dtype=np.int32)
    r = train_one_block(padded_table(V, 16), padded_table(V, 16), None, accept, alias, settings, ids,
                        np.array([5], dtype=np.int64), 0, 0, float(10 * total), float(total), 1)
    assert r["alpha"] == pytest.approx(start * 1e-4, rel=1e-6)
    # with min_alpha the floor is min_alpha
    settings = _native.cpu.TrainSettings(architecture=0, window=2, negative=2, alpha=start, cbow_mean=True,
                                         shared_negatives=True, seed=1, loss_every=0, min_alpha=start / 3)
    r = train_one_block(padded_table(V, 16), padded_table(V, 16), None, accept, alias, settings, ids,
                        np.array([5], dtype=np.int64), 0, 0, float(10 * total), float(total), 1)
    assert r["alpha"] == pytest.approx(start / 3, rel=1e-6)


@pytest.mark.parametrize("min_alpha,message", [(-1e-3, "min_alpha must be >= 0"), (True, "min_alpha must be >= 0"),
                                               (0.5, "min_alpha must not exceed alpha")])
def test_min_alpha_is_validated(min_alpha, message):
    with pytest.raises(ValueError, match=message):
        Word2Vec(model="sg", min_alpha=min_alpha)


@pytest.mark.parametrize("init_range", [0.5, 1.0, 0.05])
def test_initial_weights_uniform_in_init_range(tmp_path, init_range):
    """Input rows start uniform in +-init_range/dim (word2vec.c: 0.5, the default), output
    rows at zero; init_range only scales the same draws."""
    path = write_text(tmp_path / "c.txt", zipf_lines(np.random.default_rng(5), 400, 40))
    dim = 64
    m = Word2Vec(dim=dim, min_count=1, seed=7, init_range=init_range, progress=False).build_vocab(path)
    w = m.input.astype(np.float64)
    bound = init_range / dim
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    # uniform: mean 0, std bound/sqrt(3), and a flat histogram (chi-square over 20 bins)
    assert abs(w.mean()) < 0.01 * bound and w.std() == pytest.approx(bound / math.sqrt(3), rel=0.01)
    hist, _ = np.histogram(w, bins=20, range=(-bound, bound))
    assert stats.chisquare(hist).pvalue > 1e-4
    assert not m.output.any()
    default = Word2Vec(dim=dim, min_count=1, seed=7, progress=False).build_vocab(path)
    assert np.array_equal(m.input, default.input * np.float32(init_range / 0.5))


@pytest.mark.parametrize("name,rule", [("alpha", "> 0"), ("min_alpha", ">= 0")])
@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_rates_must_be_finite(name, rule, value):
    with pytest.raises(ValueError, match=f"{name} must be {rule} and finite"):
        Word2Vec(model="sg", **{name: value})


@pytest.mark.parametrize("init_range", [0.0, -0.5, float("inf"), float("nan"), None, True])
def test_init_range_is_validated(init_range):
    with pytest.raises(ValueError, match="init_range must be > 0"):
        Word2Vec(model="sg", init_range=init_range)


def test_progress_line_shows_the_schedule(tmp_path, capsys):
    path = write_text(tmp_path / "c.txt", zipf_lines(np.random.default_rng(3), 20, 50))
    Word2Vec(path, model="sg", dim=8, min_count=1, epochs=1, threads=1, progress=True)
    err = capsys.readouterr().err
    assert "epoch 1/1" in err and "100.0%" in err and "lr 0.0" in err and "words/s" in err
    Word2Vec(path, model="sg", dim=8, min_count=1, epochs=1, threads=1, progress=False)
    assert capsys.readouterr().err == ""
