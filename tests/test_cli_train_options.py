"""`w2v-ext train`'s output format (--format, or the extension: an unknown one is an
error), --save-vocab / --read-vocab, --max-sentence-length, and the warning naming the
flags --resume ignores."""
from __future__ import annotations

import numpy as np
import pytest

from trainer_testing import run_cli
from w2v_ext.trainer import Word2Vec
from w2v_ext.vectors import KeyedVectors
from w2v_ext.vocab_file import read_vocab_file

COMMON = ["--dim", "8", "--min-count", "2", "--epochs", "1", "--threads", "1", "--quiet"]


@pytest.fixture(scope="module")
def corpus(zipf_corpus):
    return zipf_corpus(11, 50, 300)


def one_line_error(r) -> str:
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


def test_format_overrides_the_extension(tmp_path, corpus):
    for fmt, name in [("txt", "v.bin"), ("bin", "v.out"), ("model", "v.weights")]:
        r = run_cli("train", corpus, "-o", tmp_path / name, "--format", fmt, *COMMON)
        assert r.returncode == 0, r.stderr
    assert (tmp_path / "v.bin").read_bytes()[:20].decode("ascii").split("\n")[1].startswith("w")   # text
    kv = KeyedVectors.load_word2vec_format(tmp_path / "v.out", binary=True)
    text = KeyedVectors.load_word2vec_format(tmp_path / "v.bin", binary=False)
    assert kv.words == text.words and np.allclose(kv.vectors, text.vectors, atol=1e-6)
    model = Word2Vec.load(tmp_path / "v.weights", progress=False)
    assert np.array_equal(model.input, kv.vectors)


def test_an_unknown_extension_is_an_error_before_counting(tmp_path, corpus):
    r = run_cli("train", corpus, "-o", tmp_path / "vectors.out", *COMMON)
    assert one_line_error(r) == (
        f"w2v-ext train: error: -o/--output: cannot tell the format of {tmp_path / 'vectors.out'} from its extension: "
        f"end it with .bin, .txt or .vec (word2vec formats; .gz/.bz2/.xz may follow) or .model (the native model), or "
        f"give --format bin|txt|model")
    assert list(tmp_path.iterdir()) == []
    r = run_cli("train", corpus, "-o", tmp_path / "v.bin", "--format", "npy", *COMMON)
    assert r.returncode == 2 and "argument --format: invalid choice: 'npy'" in r.stderr


def test_save_vocab_then_read_vocab(tmp_path, corpus):
    vocab = tmp_path / "vocab.txt"
    r = run_cli("train", corpus, "-o", tmp_path / "a.bin", "--save-vocab", vocab, *COMMON)
    assert r.returncode == 0, r.stderr
    counted = Word2Vec(min_count=2, progress=False).build_vocab(corpus).vocab
    assert vocab.read_text().splitlines() == [f"{w} {c}" for w, c in zip(counted.words, counted.counts.tolist())]
    r = run_cli("train", corpus, "-o", tmp_path / "b.bin", "--read-vocab", vocab, *COMMON)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "a.bin").read_bytes() == (tmp_path / "b.bin").read_bytes()
    # min-count applies to the counts read (a word counted 2 times goes at --min-count 3)
    r = run_cli("train", corpus, "-o", tmp_path / "c.bin", "--read-vocab", vocab, *COMMON, "--min-count", "3")
    assert r.returncode == 0, r.stderr
    kept = [w for w, c in zip(counted.words, counted.counts) if c >= 3]
    assert KeyedVectors.load_word2vec_format(tmp_path / "c.bin").words == kept == \
        read_vocab_file(vocab, min_count=3).words


def test_save_vocab_is_checked_with_the_other_outputs(tmp_path, corpus):
    r = run_cli("train", corpus, "-o", tmp_path / "v.bin", "--save-vocab", corpus, *COMMON)
    assert one_line_error(r) == f"w2v-ext train: error: --save-vocab: cannot write {corpus}: it is the corpus file " \
                                f"{corpus}"
    r = run_cli("train", corpus, "-o", tmp_path / "v.bin", "--save-vocab", tmp_path / "v.bin", *COMMON)
    assert "--save-vocab: cannot write" in one_line_error(r) and "same file as -o/--output" in r.stderr
    r = run_cli("train", corpus, "-o", tmp_path / "v.bin", "--save-vocab", tmp_path / "no" / "v.txt", *COMMON)
    assert "--save-vocab" in one_line_error(r) and "does not exist" in r.stderr
    assert list(tmp_path.iterdir()) == []


def test_max_sentence_length_reaches_the_model(tmp_path, corpus):
    r = run_cli("train", corpus, "-o", tmp_path / "m.model", "--max-sentence-length", "3", *COMMON)
    assert r.returncode == 0, r.stderr
    model = Word2Vec.load(tmp_path / "m.model", progress=False)
    assert model.settings.max_sentence_length == 3
    api = Word2Vec(corpus, dim=8, min_count=2, epochs=1, threads=1, max_sentence_length=3, progress=False)
    assert np.array_equal(model.input, api.input)
    default = Word2Vec(corpus, dim=8, min_count=2, epochs=1, threads=1, progress=False)
    assert default.settings.max_sentence_length == 1000 and not np.array_equal(default.input, api.input)


def test_resume_warns_of_the_flags_it_ignores(tmp_path, corpus):
    model = tmp_path / "m.model"
    assert run_cli("train", corpus, "-o", model, *COMMON).returncode == 0
    r = run_cli("train", corpus, "-o", tmp_path / "v.bin", "--resume", model, "--dim", "50", "--window", "2",
                "--cbow-sum", "--read-vocab", tmp_path / "nothing.txt", "--quiet")
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip().splitlines() == [
        "w2v-ext train: warning: --resume continues with the model's own settings and vocabulary; ignored: --dim, "
        "--window, --cbow-sum, --read-vocab"]
    assert KeyedVectors.load_word2vec_format(tmp_path / "v.bin").dim == 8
    r = run_cli("train", corpus, "-o", tmp_path / "v.bin", "--resume", model, "--quiet")
    assert r.returncode == 0 and r.stderr == "", r.stderr   # nothing ignored: no warning
