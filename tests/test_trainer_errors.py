"""Errors of the corpus trainer and the CLI: each a clear exception naming the problem
(the CLI: one line, exit code 1, no traceback; argparse errors exit 2); a failed save
leaves no partial file."""
from __future__ import annotations

import gzip
import os

import numpy as np
import pytest

import w2v_ext.model_format
import w2v_ext.word2vec_format
from trainer_testing import run_cli, run_main, write_text
from w2v_ext.corpus import CorpusError
from w2v_ext.trainer import Word2Vec

SMALL = dict(model="sg", epochs=1, dim=8, min_count=1, threads=1, progress=False)


@pytest.fixture(scope="module")
def corpus(zipf_corpus):
    return zipf_corpus(0, 20, 40)


@pytest.fixture
def model(corpus):
    return Word2Vec(corpus, **SMALL)


def assert_one_line_error(code, err, *needles):
    assert code == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


# ---- corpus problems --------------------------------------------------------------------

def test_missing_corpus(tmp_path, corpus):
    missing = str(tmp_path / "nope.txt")
    with pytest.raises(FileNotFoundError, match="nope.txt.* does not exist"):
        Word2Vec(missing, **SMALL)
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        Word2Vec(**SMALL).build_vocab([corpus, missing])
    model = Word2Vec(**SMALL).build_vocab(corpus)
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        model.train(missing)


def test_missing_corpus_cli(tmp_path, capsys):
    code, _, err = run_main(capsys, "train", tmp_path / "nope.txt", "-o", tmp_path / "v.bin", "--quiet")
    assert_one_line_error(code, err, "w2v-ext train: error:", "nope.txt", "does not exist")
    assert not (tmp_path / "v.bin").exists()


@pytest.mark.parametrize("content", [b"", b"\n\n  \t\r\n"])
def test_empty_corpus(tmp_path, capsys, content):
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(CorpusError, match="contains no words"):
        Word2Vec(str(path), **SMALL)
    with pytest.raises(CorpusError, match="contains no words"):
        Word2Vec([], **SMALL)
    (tmp_path / "emptydir").mkdir()
    with pytest.raises(CorpusError, match="holds no files"):
        Word2Vec(str(tmp_path / "emptydir"), **SMALL)
    code, _, err = run_main(capsys, "train", path, "-o", tmp_path / "v.bin", "--quiet")
    assert_one_line_error(code, err, "contains no words")


def test_no_word_reaches_min_count(tmp_path, capsys):
    path = write_text(tmp_path / "rare.txt", ["a b c a", "d e"])
    with pytest.raises(CorpusError, match=r"min_count=3 .*most frequent occurs 2 times.*lower min_count"):
        Word2Vec(path, **dict(SMALL, min_count=3))
    code, _, err = run_main(capsys, "train", path, "-o", tmp_path / "v.bin", "--min-count", 3, "--quiet")
    assert_one_line_error(code, err, "min_count=3")


def test_training_corpus_without_vocabulary_words(tmp_path, corpus):
    """As in gensim (whose docs train a model on [["hello", "world"]]): each epoch trains
    nothing, with a warning naming the corpus."""
    other = write_text(tmp_path / "other.txt", ["nothing here is known", "at all"])
    model = Word2Vec(**dict(SMALL, epochs=2)).build_vocab(corpus)
    before = model.input.copy(), model.output.copy()
    with pytest.warns(UserWarning, match=r"other.txt.*holds no word of the vocabulary: epoch \d trained nothing"):
        stats = model.train(other)
    assert stats["words"] == 0 and stats["finished"] and [h["words"] for h in model.history] == [0, 0]
    assert np.array_equal(model.input, before[0]) and np.array_equal(model.output, before[1])


def test_corrupt_compressed_corpus(tmp_path, corpus):
    packed = gzip.compress(open(corpus, "rb").read())
    path = tmp_path / "cut.txt.gz"
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(CorpusError, match="cut.txt.gz.*could not be read"):
        Word2Vec(str(path), **SMALL)


def test_one_shot_iterator(corpus):
    sentences = [["a", "b"], ["b", "c"]]
    for one_shot in (iter(sentences), (s for s in sentences)):
        with pytest.raises(CorpusError, match="one-shot iterator"):
            Word2Vec(one_shot, **SMALL)
    with pytest.raises(CorpusError, match="must be a path"):
        Word2Vec(42, **SMALL)


# ---- settings ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["dim", "window", "negative", "epochs", "min_count", "max_sentence_length"])
@pytest.mark.parametrize("value", [0, -1, 2.5, True, "5"])
def test_integer_settings(name, value):
    with pytest.raises(ValueError, match=f"{name} must be a positive integer"):
        Word2Vec(**{**SMALL, name: value})


@pytest.mark.parametrize("kw,needle", [(dict(alpha=0), "alpha must be > 0"), (dict(alpha=-0.1), "alpha must be > 0"),
                                       (dict(sample=-1e-3), "sample must be >= 0"),
                                       (dict(threads=-1), "threads must be >= 0"),
                                       (dict(model="skipgram"), "model must be 'sg' or 'cbow'"),
                                       (dict(max_vocab_size=0), "max_vocab_size must be a positive"),
                                       (dict(max_final_vocab=-5), "max_final_vocab must be a positive"),
                                       (dict(tokenizer="nltk"), "tokenizer must be")])
def test_other_settings(kw, needle):
    with pytest.raises(ValueError, match=needle):
        Word2Vec(**{**SMALL, **kw})


def test_unknown_setting_and_bad_epochs_in_train(corpus):
    with pytest.raises(TypeError, match="size"):
        Word2Vec(size=100)
    model = Word2Vec(**SMALL).build_vocab(corpus)
    for epochs in (0, -2):
        with pytest.raises(ValueError, match="epochs must be a positive integer"):
            model.train(corpus, epochs=epochs)


@pytest.mark.parametrize("option,value", [("--dim", 0), ("--window", -1), ("--negative", 0), ("--epochs", 0),
                                          ("--min-count", 0), ("--dim", "ten"), ("--alpha", 0), ("--alpha", -1),
                                          ("--sample", -0.5), ("--threads", -2), ("--max-vocab-size", 0),
                                          ("--model", "skipgram")])
def test_cli_argument_errors_exit_2(tmp_path, capsys, corpus, option, value):
    code, _, err = run_main(capsys, "train", corpus, "-o", tmp_path / "v.bin", option, value)
    assert code == 2 and f"argument {option}" in err and "Traceback" not in err, err
    assert not (tmp_path / "v.bin").exists()


def test_cli_argument_error_in_a_subprocess(tmp_path, corpus):
    r = run_cli("train", corpus, "-o", tmp_path / "v.bin", "--window", "0")
    assert r.returncode == 2 and "argument --window: expected a positive integer, got 0" in r.stderr
    assert "Traceback" not in r.stderr


# ---- before build_vocab -------------------------------------------------------------------

def test_train_before_build_vocab(corpus, tmp_path):
    model = Word2Vec(**SMALL)
    for call in (lambda: model.train(corpus), lambda: model.wv, lambda: model.save(tmp_path / "m.bin")):
        with pytest.raises(RuntimeError, match=r"no vocabulary yet: call build_vocab"):
            call()
    assert model.input is None and model.output is None


# ---- output paths and atomic saves ----------------------------------------------------------

@pytest.mark.parametrize("name", ["v.bin", "v.txt", "v.model"])
def test_save_into_missing_directory(model, tmp_path, name):
    target = tmp_path / "missing" / name
    with pytest.raises(FileNotFoundError, match="directory .*missing does not exist"):
        model.save(target)
    assert not (tmp_path / "missing").exists()
    with pytest.raises(IsADirectoryError):
        model.save(tmp_path)


@pytest.mark.parametrize("flag", ["-o", "--save-model"])
def test_cli_output_in_missing_directory_fails_before_training(tmp_path, capsys, corpus, flag):
    args = ["train", corpus, "-o", tmp_path / "v.bin"]
    if flag == "--save-model":
        args += ["--save-model", tmp_path / "missing" / "m.model"]
    else:
        args[3] = tmp_path / "missing" / "v.bin"
    code, _, err = run_main(capsys, *args)
    assert_one_line_error(code, err, "output directory", "missing", "does not exist")
    assert "vocabulary:" not in err   # checked before any work
    assert not (tmp_path / "v.bin").exists()


def test_cli_other_errors(tmp_path, capsys, corpus):
    code, _, err = run_main(capsys, "train", corpus, "-o", tmp_path / "v.bin", "--resume", tmp_path / "no.model")
    assert_one_line_error(code, err, "no.model")
    code, _, err = run_main(capsys, "eval", tmp_path / "v.bin")
    assert_one_line_error(code, err, "nothing to evaluate")
    code, _, err = run_main(capsys, "eval", tmp_path / "none.bin", "--analogies", corpus)
    assert_one_line_error(code, err, "vectors file", "none.bin", "does not exist")
    code, _, err = run_main(capsys, "similar", corpus, "w0")   # a corpus is not a vector file
    assert_one_line_error(code, err, "header")


def leftovers(directory):
    return sorted(f for f in os.listdir(directory) if f.startswith("."))


@pytest.mark.parametrize("name", ["v.model", "v.bin", "v.txt"])
@pytest.mark.parametrize("exc", [OSError("disk full"), KeyboardInterrupt()])
def test_failed_save_leaves_no_partial_file(model, tmp_path, monkeypatch, name, exc):
    """A save that fails half-way (after bytes were written) leaves nothing at the target,
    keeps an existing file there unchanged, and removes its temporary file."""
    def failing_savez(f, **arrays):
        f.write(b"PK\x03\x04 partial")
        raise exc

    real_encode = w2v_ext.word2vec_format._encode_records

    def failing_encode(*args):
        real_encode(*args)
        raise exc

    monkeypatch.setattr(w2v_ext.model_format.np, "savez", failing_savez)
    monkeypatch.setattr(w2v_ext.word2vec_format, "_encode_records", failing_encode)
    target = tmp_path / name
    with pytest.raises(type(exc)):
        model.save(target)
    assert not target.exists() and leftovers(tmp_path) == []
    target.write_bytes(b"the old file")
    with pytest.raises(type(exc)):
        model.save(target)
    assert target.read_bytes() == b"the old file" and leftovers(tmp_path) == []
    monkeypatch.undo()
    model.save(target)   # and a save that works replaces it
    assert target.read_bytes() != b"the old file" and leftovers(tmp_path) == []


def test_load_errors(tmp_path, model):
    with pytest.raises(FileNotFoundError):
        Word2Vec.load(tmp_path / "none.model")
    model.save(tmp_path / "v.bin")
    with pytest.raises(ValueError, match="not a w2v_ext model file.*load_word2vec_format"):
        Word2Vec.load(tmp_path / "v.bin")
