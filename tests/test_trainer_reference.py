"""The native corpus trainer (threads=1) against tests/trainer_reference.py, a plain
Python restatement of the recipe with the same counter-based draws: skip-gram with
shared and per-pair negatives, CBOW mean and sum, with and without subsampling, one
and two epochs, several windows and negative counts, full windows (shrink_windows=False)
and other noise distributions (ns_exponent)."""
from __future__ import annotations

import numpy as np
import pytest

import trainer_reference as ref
from trainer_testing import BlockRecorder, encode, zipf_lines
from w2v_ext.trainer import Word2Vec

ARCHS = {
    "sg": dict(model="sg"),
    "sg-per-pair": dict(model="sg", shared_negatives=False),
    "cbow-mean": dict(model="cbow", cbow_mean=True),
    "cbow-sum": dict(model="cbow", cbow_mean=False),
}
WINDOW_NEGATIVE = [(1, 1), (3, 5), (5, 2)]
CASES = [(arch, sample, epochs, *WINDOW_NEGATIVE[k % 3])
         for k, (arch, sample, epochs) in enumerate((a, s, e) for a in ARCHS for s in (0.0, 1e-2) for e in (1, 2))]


def corpus_bytes(seed: int) -> bytes:
    """Zipf sentences with the encoder's corner cases: out-of-vocabulary words (count 1
    with min_count=2), tabs, CR LF, blank lines, runs of spaces, a line longer than the
    max_sentence_length used below, and no newline at the very end."""
    rng = np.random.default_rng(seed)
    lines = zipf_lines(rng, 40, 50)
    lines += [f"oov{k} " + line for k, line in enumerate(zipf_lines(rng, 40, 10))]
    lines += ["", "w0\tw1\r", "  w2   w3  ", " ".join(zipf_lines(rng, 40, 6, max_len=12))]
    order = rng.permutation(len(lines))
    return ("\n".join(lines[i] for i in order)).encode()


def train_both(tmp_path, arch, sample, epochs, window, negative, dim=12, max_sentence_length=23, seed=7, **extra):
    data = corpus_bytes(seed)
    path = tmp_path / "corpus.txt"
    path.write_bytes(data)
    model = Word2Vec(dim=dim, window=window, negative=negative, sample=sample, epochs=epochs, min_count=2,
                     threads=1, seed=seed, max_sentence_length=max_sentence_length, progress=False, **ARCHS[arch],
                     **extra)
    model.build_vocab(str(path))
    input_init = model.input.copy()
    sentences = encode(data, model.vocab.index, max_sentence_length)
    model.train(str(path))
    reference = {k: v for k, v in extra.items() if k != "min_alpha"}
    syn0, syn1 = ref.train_reference(sentences, model.vocab.counts, dim, window=window, negative=negative,
                                     sample=sample, epochs=epochs, seed=seed, input_init=input_init,
                                     min_alpha=model.settings.end_alpha, **ARCHS[arch], **reference)
    return model, input_init, syn0, syn1


@pytest.mark.parametrize("arch,sample,epochs,window,negative", CASES)
def test_native_trainer_matches_reference(tmp_path, arch, sample, epochs, window, negative):
    model, input_init, syn0, syn1 = train_both(tmp_path, arch, sample, epochs, window, negative)
    # the comparison means something: training moved both tables well beyond the tolerance
    assert np.abs(syn0 - input_init).max() > 1e-4 and np.abs(syn1).max() > 1e-4
    np.testing.assert_allclose(model.input, syn0, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(model.output, syn1, rtol=1e-4, atol=1e-6)
    assert model.finished and [h["epoch"] for h in model.history] == list(range(1, epochs + 1))


@pytest.mark.parametrize("arch", list(ARCHS))
@pytest.mark.parametrize("extra", [dict(shrink_windows=False), dict(ns_exponent=0.0), dict(ns_exponent=-0.5),
                                   dict(shrink_windows=False, ns_exponent=1.0)],
                         ids=["full-window", "uniform-noise", "rare-noise", "full-window-unigram-noise"])
def test_gensim_settings_match_reference(tmp_path, arch, extra):
    """shrink_windows=False (every centre reaches the whole window) and ns_exponent (the
    noise distribution's power) reach the native trainer with the reference's meaning."""
    model, input_init, syn0, syn1 = train_both(tmp_path, arch, 1e-2, 2, 3, 4, **extra)
    np.testing.assert_allclose(model.input, syn0, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(model.output, syn1, rtol=1e-4, atol=1e-6)
    # and they change the result: the default settings train other vectors
    default, _, _, _ = train_both(tmp_path, arch, 1e-2, 2, 3, 4)
    assert np.abs(default.input - model.input).max() > 1e-4


@pytest.mark.parametrize("arch", ["sg", "cbow-mean"])
def test_word2vec_c_schedule_matches_reference(tmp_path, arch):
    """min_alpha=0: word2vec.c's fall toward 0, stopping at alpha * 1e-4."""
    model, _, syn0, syn1 = train_both(tmp_path, arch, 1e-2, 2, 3, 5, min_alpha=0.0)
    np.testing.assert_allclose(model.input, syn0, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(model.output, syn1, rtol=1e-4, atol=1e-6)
    default, _, _, _ = train_both(tmp_path, arch, 1e-2, 2, 3, 5)
    assert not np.allclose(default.input, model.input, rtol=1e-4, atol=1e-6)


def test_padding_columns_stay_zero_and_dim_not_multiple_of_16(tmp_path):
    """dim=20 is stored padded to 32 columns: the padding must stay exactly zero and the
    vectors still match the reference (the kernel runs over whole padded rows)."""
    model, _, syn0, syn1 = train_both(tmp_path, "sg", 1e-2, 2, 3, 5, dim=20)
    assert model.input_table.shape[1] == 32 and model.input.shape == (len(model.vocab), 20)
    assert not model.input_table[:, 20:].any() and not model.output_table[:, 20:].any()
    assert model.input_table.ctypes.data % 64 == 0 and model.input_table.strides[0] % 64 == 0
    np.testing.assert_allclose(model.input, syn0, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(model.output, syn1, rtol=1e-4, atol=1e-6)


def test_sentences_given_to_the_kernel_are_the_encoders(tmp_path):
    """What the reference is fed is what the trainer trains on: the sentences passed to
    train_chunk, in order, equal the independent restatement in trainer_testing.encode."""
    data = corpus_bytes(3)
    path = tmp_path / "c.txt"
    path.write_bytes(data)
    recorder = BlockRecorder()
    model = Word2Vec(dim=8, min_count=2, threads=1, epochs=2, max_sentence_length=5, progress=False,
                     backend_hook=recorder)
    model.build_vocab(str(path))
    model.train(str(path))
    expected = encode(data, model.vocab.index, 5)
    assert max(len(s) for s in expected) == 5 and any(len(s) < 5 for s in expected)
    assert recorder.sentences(0) == expected and recorder.sentences(1) == expected
    assert sum(map(len, expected)) == model.vocab.total


def test_a_different_sentence_split_changes_the_result(tmp_path):
    """The reference comparison is sensitive to how sentences are cut: feeding the
    reference sentences split differently (max_sentence_length 23 vs 5) must not match."""
    model, input_init, syn0, _ = train_both(tmp_path, "sg", 0.0, 1, 3, 5)
    other, _ = ref.train_reference(encode(corpus_bytes(7), model.vocab.index, 5), model.vocab.counts, 12,
                                   window=3, negative=5, sample=0.0, epochs=1, seed=7, input_init=input_init)
    assert np.abs(other - syn0).max() > 1e-4
    assert not np.allclose(model.input, other, rtol=1e-4, atol=1e-6)
