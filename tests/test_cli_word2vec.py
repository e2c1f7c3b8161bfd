"""`w2v-ext word2vec`: word2vec.c's command line (its flags and defaults, its output
files), and the train command's refusal of word2vec.c's flags, which argparse would
misread (-output as -o utput)."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from trainer_testing import run_cli, run_main
from w2v_ext import cli
from w2v_ext.cli import word2vec_command
from w2v_ext.settings import Settings
from w2v_ext.trainer import Word2Vec
from w2v_ext.vectors import KeyedVectors
from w2v_ext.vocab_file import read_vocab_file

FAST = ["-size", "12", "-iter", "2", "-min-count", "2", "-threads", "1", "-window", "3", "-negative", "3"]


@pytest.fixture(scope="module")
def corpus(zipf_corpus):
    return zipf_corpus(5, 60, 400)


def usage_error(capsys, *args) -> str:
    """The one error line of a refused command line (exit status 2, nothing trained)."""
    code, out, err = run_main(capsys, *args)
    assert code == 2 and out == "", (code, out, err)
    lines = err.strip().splitlines()
    assert "Traceback" not in err
    return lines[-1]


# ---- word2vec.c's demo-word.sh, only the program name changed -----------------------------

def test_demo_word_training_line_runs_unchanged(tmp_path, zipf_corpus):
    """demo-word.sh's line, as is: `./word2vec -train text8 -output vectors.bin -cbow 1 -size 200
    -window 8 -negative 25 -hs 0 -sample 1e-4 -threads 20 -binary 1 -iter 15`, on a small
    generated text8 (no flag shrunk: it takes seconds)."""
    shutil.copy(zipf_corpus(7, 300, 2000), tmp_path / "text8")
    line = "-train text8 -output vectors.bin -cbow 1 -size 200 -window 8 -negative 25 -hs 0 -sample 1e-4 " \
           "-threads 20 -binary 1 -iter 15"
    r = run_cli("word2vec", *line.split(), cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "wrote vectors.bin" in r.stderr and "epoch 1/15" in r.stderr   # -debug 2: progress shown
    kv = KeyedVectors.load_word2vec_format(tmp_path / "vectors.bin", binary=True)
    counted = Word2Vec(min_count=5, progress=False).build_vocab(str(tmp_path / "text8")).vocab
    assert kv.words == counted.words and kv.dim == 200
    assert np.isfinite(kv.vectors).all() and np.abs(kv.vectors).max() > 0.1   # trained, not the start


# ---- flags and defaults ----------------------------------------------------------------------

def settings_of(*tokens) -> Settings:
    return word2vec_command.settings_of(word2vec_command.parse(["-train", "c.txt", *tokens]))


def test_defaults_are_word2vec_c_s():
    s = settings_of()
    assert (s.model, s.dim, s.window, s.sample, s.negative, s.epochs, s.min_count, s.start_alpha, s.threads) == \
        ("cbow", 100, 5, 1e-3, 5, 5, 5, 0.05, 0)   # threads 0: every core (word2vec.c: 12)
    assert (s.init_range, s.max_sentence_length, s.min_alpha) == (0.5, 1000, 0.0)
    assert settings_of("-cbow", "0").start_alpha == 0.025   # skip-gram's default rate
    args = word2vec_command.parse(["-train", "c.txt"])
    assert (args.binary, args.debug, args.output, args.save_vocab, args.read_vocab) == (0, 2, None, None, None)


def test_every_flag_reaches_the_settings():
    s = settings_of("-cbow", "0", "-size", "30", "-window", "7", "-negative", "9", "-hs", "0", "-sample", "1e-4",
                    "-threads", "3", "-iter", "4", "-min-count", "6", "-alpha", "0.03", "-classes", "0")
    assert (s.model, s.dim, s.window, s.negative, s.sample, s.threads, s.epochs, s.min_count, s.alpha) == \
        ("sg", 30, 7, 9, 1e-4, 3, 4, 6, 0.03)
    args = word2vec_command.parse(["-train", "c", "-output", "o", "-binary", "1", "-debug", "0", "-save-vocab", "s",
                                   "-read-vocab", "r"])
    assert (args.train, args.output, args.binary, args.debug, args.save_vocab, args.read_vocab) == \
        ("c", "o", 1, 0, "s", "r")


def test_text_output_is_written_as_word2vec_c_writes_it(tmp_path, corpus):
    """-binary 0 (the default): the header, then per word `word ` and `%lf ` per value."""
    r = run_cli("word2vec", "-train", corpus, "-output", tmp_path / "v.txt", *FAST, "-debug", "0")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    r = run_cli("word2vec", "-train", corpus, "-output", tmp_path / "v.bin", "-binary", "1", *FAST, "-debug", "0")
    assert r.returncode == 0, r.stderr
    kv = KeyedVectors.load_word2vec_format(tmp_path / "v.bin", binary=True)
    expected = f"{len(kv)} 12\n" + "".join(
        f"{w} " + "".join(f"{x:f} " for x in row.tolist()) + "\n" for w, row in zip(kv.words, kv.vectors))
    assert (tmp_path / "v.txt").read_text() == expected
    back = KeyedVectors.load_word2vec_format(tmp_path / "v.txt")
    assert back.words == kv.words and np.allclose(back.vectors, kv.vectors, atol=5e-7)


def test_save_vocab_and_read_vocab(tmp_path, corpus):
    vocab = tmp_path / "v.txt"
    r = run_cli("word2vec", "-train", corpus, "-output", tmp_path / "a.bin", "-binary", "1", "-save-vocab", vocab,
                *FAST, "-debug", "1")
    assert r.returncode == 0, r.stderr
    assert "counted" in r.stderr and f"wrote {vocab}" in r.stderr and "epoch" not in r.stderr   # -debug 1
    counted = Word2Vec(min_count=2, progress=False).build_vocab(corpus).vocab
    assert vocab.read_text() == "".join(f"{w} {c}\n" for w, c in zip(counted.words, counted.counts.tolist()))
    # reading it back skips counting and trains the same vectors; the same file may be saved again
    r = run_cli("word2vec", "-train", corpus, "-output", tmp_path / "b.bin", "-binary", "1", "-read-vocab", vocab,
                "-save-vocab", vocab, *FAST, "-debug", "1")
    assert r.returncode == 0 and f"read from {vocab}" in r.stderr, r.stderr
    assert (tmp_path / "a.bin").read_bytes() == (tmp_path / "b.bin").read_bytes()
    # the vocabulary is the file's, not the corpus's: word2vec.c's </s> skipped, min-count applied, sorted
    (tmp_path / "few.txt").write_text(f"</s> 500\n{counted.words[3]} 7\n{counted.words[0]} 40\nrare 1\n")
    r = run_cli("word2vec", "-train", corpus, "-output", tmp_path / "c.bin", "-binary", "1", "-read-vocab",
                tmp_path / "few.txt", *FAST, "-debug", "0")
    assert r.returncode == 0, r.stderr
    assert KeyedVectors.load_word2vec_format(tmp_path / "c.bin").words == [counted.words[0], counted.words[3]]


def test_no_output_counts_the_vocabulary_only(tmp_path, corpus):
    r = run_cli("word2vec", "-train", corpus, "-save-vocab", tmp_path / "v.txt", "-min-count", "2")
    assert r.returncode == 0, r.stderr
    assert "epoch" not in r.stderr and "trained" not in r.stderr
    assert read_vocab_file(tmp_path / "v.txt").words == Word2Vec(min_count=2).build_vocab(corpus).vocab.words
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.txt"]


def test_a_bad_vocab_file_is_one_line_naming_its_line(tmp_path, corpus):
    (tmp_path / "bad.txt").write_text("the 5\nof five\n")
    r = run_cli("word2vec", "-train", corpus, "-output", tmp_path / "v.bin", "-read-vocab", tmp_path / "bad.txt")
    assert r.returncode == 1 and not (tmp_path / "v.bin").exists()
    assert r.stderr.strip().splitlines() == [
        f"w2v-ext word2vec: error: {tmp_path / 'bad.txt'}, line 2: expected 'word count' (a count >= 1), "
        f"got 'of five'"]
    r = run_cli("word2vec", "-train", corpus, "-output", tmp_path / "v.bin", "-read-vocab", tmp_path / "none.txt")
    assert r.returncode == 1 and r.stderr.strip().splitlines() == [
        f"w2v-ext word2vec: error: -read-vocab: vocabulary file {tmp_path / 'none.txt'} does not exist"]


# ---- refusals: one line each, before any work -------------------------------------------------

@pytest.mark.parametrize("tokens,message", [
    (["-hs", "1"], "-hs 1: hierarchical softmax is not supported: w2v_ext trains with negative sampling only "
                   "(-hs 0, -negative 1 or more)"),
    (["-classes", "500"], "-classes 500: word classes (K-means) are not supported: w2v_ext writes the vectors "
                          "(-classes 0); cluster them afterwards"),
    (["-negative", "0"], "-negative: expected a positive integer, got 0"),
    (["-size", "big"], "-size: expected a positive integer, got 'big'"),
    (["-binary", "2"], "-binary: expected 0 or 1, got '2'"),
    (["-alpha", "-1"], "-alpha: expected a number > 0, got -1"),
    (["-iter"], "-iter needs a value"),
    (["-iter", "3", "-iter", "4"], "-iter is given twice"),
    (["--output", "v.bin"], "unknown flag --output: word2vec.c's flags take one dash: -output"),
    (["extra"], "unexpected 'extra': word2vec.c's flags come in pairs, -flag value (flags: -train, -output, "),
    (["-fast", "1"], "unknown flag -fast (word2vec.c's flags: -train, -output, -size, "),
], ids=["hs", "classes", "negative", "size", "binary", "alpha", "no-value", "twice", "two-dashes", "stray",
        "unknown"])
def test_refused_flags(capsys, tmp_path, tokens, message):
    line = usage_error(capsys, "word2vec", "-train", "c.txt", "-output", tmp_path / "v.bin", *tokens)
    assert line.startswith(f"w2v-ext word2vec: error: {message}"), line
    assert not (tmp_path / "v.bin").exists()


def test_train_is_required(capsys):
    assert usage_error(capsys, "word2vec", "-output", "v.bin") == "w2v-ext word2vec: error: -train CORPUS is required"


def test_help_lists_the_flags_and_defaults(capsys):
    for tokens in ([], ["-h"], ["--help"]):
        code, out, _ = run_main(capsys, "word2vec", *tokens)
        assert code == 0
        for flag in word2vec_command.FLAGS:
            assert f"  {flag.name} " in out
        assert "every core; word2vec.c: 12" in out and "-iter        passes over the corpus (default: 5)" in out
    assert "word2vec  train with word2vec.c's flags" in cli.build_parser().format_help()


# ---- the train command refuses word2vec.c's flags, naming the right spelling --------------------

@pytest.mark.parametrize("flag", [f.name for f in word2vec_command.FLAGS])
def test_train_names_the_spelling_of_every_word2vec_c_flag(capsys, tmp_path, flag):
    line = usage_error(capsys, "train", "c.txt", "-o", tmp_path / "v.bin", flag, "1")
    spec = word2vec_command.BY_NAME[flag]
    assert line.startswith(f"w2v-ext train: error: {flag} is word2vec.c's flag"), line
    if spec.train is not None:
        assert f"use {spec.train} (or `w2v-ext word2vec`" in line


def test_train_misparse_examples(capsys, tmp_path):
    assert usage_error(capsys, "train", "c.txt", "-output", "vec.bin") == (
        "w2v-ext train: error: -output is word2vec.c's flag: use --output (or `w2v-ext word2vec`, which takes "
        "word2vec.c's flags)")
    assert "use --dim" in usage_error(capsys, "train", "c.txt", "-o", "v.bin", "-size=100")
    assert "use --epochs" in usage_error(capsys, "train", "c.txt", "-o", "v.bin", "-iter", "5")
    assert "hierarchical softmax is not supported" in usage_error(capsys, "train", "c.txt", "-o", "v.bin", "-hs", "0")
