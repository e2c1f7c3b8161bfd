"""The w2v-ext command line, run as `python -m w2v_ext` with this interpreter: train
(output format by extension, --save-model, --resume, Ctrl-C), eval, similar, --help,
--verbose; and the trainer and the CLI never import torch."""
from __future__ import annotations

import gzip
import json
import re
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from trainer_testing import REPO, run_cli, signal_during_training
from w2v_ext import cli
from w2v_ext.settings import Settings, options as setting_options
from w2v_ext.trainer import Word2Vec
from w2v_ext.vectors import KeyedVectors

COMMON = ["--model", "sg", "--dim", "12", "--min-count", "2", "--window", "3", "--negative", "3", "--epochs", "2", "--threads", "1",
          "--seed", "3"]
API = dict(model="sg", dim=12, min_count=2, window=3, negative=3, epochs=2, threads=1, seed=3, progress=False)


@pytest.fixture(scope="module")
def corpus(zipf_corpus):
    return zipf_corpus(4, 40, 150)


@pytest.fixture(scope="module")
def api_model(corpus):
    return Word2Vec(corpus, **API)


# ---- train ----------------------------------------------------------------------------

def test_train_writes_format_by_extension(tmp_path, corpus, api_model):
    outputs = {"bin": tmp_path / "v.bin", "txt": tmp_path / "v.txt", "vec": tmp_path / "v.vec",
               "native": tmp_path / "v.model", "txt.gz": tmp_path / "v.txt.gz"}
    for out in outputs.values():
        r = run_cli("train", corpus, "-o", out, *COMMON)
        assert r.returncode == 0, r.stderr
        assert f"wrote {out}" in r.stderr and re.search(r"vocabulary: \d+ words", r.stderr)
    raw = {k: p.read_bytes() for k, p in outputs.items()}
    V = len(api_model.vocab)
    assert raw["bin"].startswith(b"%d 12\n" % V) and raw["txt"].startswith(b"%d 12\n" % V)
    assert len(raw["bin"]) == len(b"%d 12\n" % V) + sum(len(w.encode()) + 2 + 48 for w in api_model.vocab.words)
    raw["txt"].decode("ascii")                          # text: printable numbers only
    assert raw["txt"] == raw["vec"] and raw["native"][:4] == b"PK\x03\x04"   # the native format is a zip
    assert gzip.decompress(raw["txt.gz"]) == raw["txt"]                    # .txt.gz: compressed text
    # the same vectors as the API with the same settings (binary and native bit-exact)
    kv_bin = KeyedVectors.load_word2vec_format(outputs["bin"], binary=True)
    assert kv_bin.words == api_model.vocab.words and np.array_equal(kv_bin.vectors, api_model.input)
    kv_txt = KeyedVectors.load_word2vec_format(outputs["txt"], binary=False)
    assert kv_txt.words == api_model.vocab.words
    np.testing.assert_allclose(kv_txt.vectors, api_model.input, rtol=1e-5, atol=1e-7)
    native = Word2Vec.load(outputs["native"], progress=False)
    assert np.array_equal(native.input, api_model.input) and np.array_equal(native.output, api_model.output)
    assert native.finished


def test_all_options_reach_the_model(tmp_path, corpus):
    out = tmp_path / "m.model"
    r = run_cli("train", corpus, "-o", out, "--model", "cbow", "--dim", "20", "--window", "2", "--negative", "4",
                "--sample", "0.01", "--min-count", "3", "--epochs", "3", "--threads", "2", "--alpha", "0.07",
                "--min-alpha", "0.003", "--init-range", "1.0", "--seed", "9", "--max-vocab-size", "1000",
                "--max-final-vocab", "15", "--cbow-sum",
                "--per-pair-negatives", "--tokenizer", "regex", "--quiet")
    assert r.returncode == 0 and r.stderr == "", r.stderr    # --quiet: nothing on stderr
    s = Word2Vec.load(out).settings
    assert (s.model, s.dim, s.window, s.negative, s.sample, s.min_count, s.epochs, s.threads, s.alpha,
            s.min_alpha, s.init_range, s.seed, s.max_vocab_size, s.max_final_vocab, s.cbow_mean, s.shared_negatives,
            s.tokenizer) == ("cbow", 20, 2, 4, 0.01, 3, 3, 2, 0.07, 0.003, 1.0, 9, 1000, 15, False, False, "regex")
    assert len(Word2Vec.load(out).vocab) == 15


def test_save_model_and_resume(tmp_path, corpus, api_model):
    model_path = tmp_path / "m.model"
    r = run_cli("train", corpus, "-o", tmp_path / "v.bin", "--save-model", model_path, *COMMON)
    assert r.returncode == 0, r.stderr
    saved = Word2Vec.load(model_path, progress=False)
    assert np.array_equal(saved.input, api_model.input) and saved.finished
    # --resume of a finished model trains a new schedule from its settings (theirs win over the flags)
    r = run_cli("train", corpus, "-o", tmp_path / "v2.bin", "--resume", model_path, "--dim", "50", "--quiet")
    assert r.returncode == 0, r.stderr
    again = Word2Vec.load(model_path, progress=False)
    again.train(corpus)
    kv = KeyedVectors.load_word2vec_format(tmp_path / "v2.bin")
    assert kv.dim == 12 and np.array_equal(kv.vectors, again.input)
    assert not np.array_equal(kv.vectors, api_model.input)


def test_ctrl_c_saves_and_resume_finishes_bit_identical(tmp_path, zipf_corpus):
    """SIGINT while training (--threads 1): exit code 130, the vectors and the native model
    are written; --resume then ends with exactly the vectors of an uninterrupted run (the
    block the native call was training when Ctrl-C came is finished and counted)."""
    corpus = zipf_corpus(0, 300, 8000, max_len=25)
    args = ["--model", "sg", "--threads", "1", "--epochs", "20", "--dim", "64", "--min-count", "1", "--sample", "0"]
    # an epoch is ~0.1 s, nearly all of it in the native call: land inside one, not at a boundary
    returncode, err = signal_during_training([corpus, "-o", tmp_path / "stopped.bin",
                                              "--save-model", tmp_path / "stopped.model", *args], signal.SIGINT)
    if returncode == 0:
        pytest.skip("training finished before SIGINT arrived (machine too fast for this corpus)")
    assert returncode == 130, err
    assert "interrupted at" in err and "resume with --resume" in err and "Traceback" not in err
    assert (tmp_path / "stopped.bin").exists() and (tmp_path / "stopped.model").exists()
    kv = KeyedVectors.load_word2vec_format(tmp_path / "stopped.bin")
    stopped = Word2Vec.load(tmp_path / "stopped.model", progress=False)
    assert not stopped.finished and 0 < stopped.words_done < stopped.words_planned
    assert np.array_equal(kv.vectors, stopped.input)
    r = run_cli("train", corpus, "-o", tmp_path / "resumed.bin", "--resume", tmp_path / "stopped.model", "--quiet")
    assert r.returncode == 0, r.stderr
    r = run_cli("train", corpus, "-o", tmp_path / "full.bin", *args, "--quiet")
    assert r.returncode == 0, r.stderr
    resumed = KeyedVectors.load_word2vec_format(tmp_path / "resumed.bin")
    full = KeyedVectors.load_word2vec_format(tmp_path / "full.bin")
    assert resumed.words == full.words
    assert np.array_equal(resumed.vectors, full.vectors), np.abs(resumed.vectors - full.vectors).max()


# ---- eval and similar -------------------------------------------------------------------

@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """Vectors with exact analogies (king - man + woman = queen, ...) and word pairs whose
    cosines rank like their scores."""
    d = tmp_path_factory.mktemp("planted")
    e = np.eye(10, dtype=np.float32)
    royal, male, female, person, capital, country, fr, it, x, y = e
    vectors = {"king": royal + male, "queen": royal + female, "man": person + male, "woman": person + female,
               "paris": capital + fr, "france": country + fr, "rome": capital + it, "italy": country + it,
               "the": x + y, "a": x + 2 * y}
    kv = KeyedVectors(list(vectors), np.stack(list(vectors.values())))
    kv.save_word2vec_format(d / "v.txt", binary=False)
    analogies = d / "questions.txt"
    analogies.write_text(": family\nman king woman queen\nwoman queen man king\n"
                         ": capital\nparis france rome italy\nrome italy paris france\nparis france oslo norway\n")
    pairs = d / "pairs.tsv"
    pairs.write_text("# word1\tword2\tscore\nking\tqueen\t9\nthe\ta\t10\nparis\tking\t1\n"
                     "unknownword\tking\t3\n")
    return d / "v.txt", analogies, pairs, kv


def test_eval_prints_accuracy_and_spearman(planted):
    vectors, analogies, pairs, kv = planted
    r = run_cli("eval", vectors, "--analogies", analogies, "--pairs", pairs)
    assert r.returncode == 0, r.stderr
    assert "analogies (3cosadd, top 30000 words): 100.00% (4/4 answered of 5)" in r.stdout
    assert "pairs.tsv: Spearman 1.0000 (3/4 pairs)" in r.stdout
    r = run_cli("eval", vectors, "--analogies", analogies, "--pairs", pairs, "--json", "--method", "3cosmul")
    result = json.loads(r.stdout)
    assert result["vocab"] == 10 and result["dim"] == 10
    assert result["analogy"] == {"accuracy": 1.0, "correct": 4, "questions": 4, "total": 5}
    assert result["pairs.tsv"]["spearman"] == pytest.approx(1.0) and result["pairs.tsv"]["pairs"] == 3
    direct = kv.evaluate_word_pairs(pairs)
    assert result["pairs.tsv"]["pearson"] == pytest.approx(direct["pearson"])


def test_eval_of_a_trained_native_model(tmp_path, corpus, api_model):
    api_model.save(tmp_path / "m.model")
    words = api_model.vocab.words
    (tmp_path / "q.txt").write_text(f": s\n{words[0]} {words[1]} {words[2]} {words[3]}\n")
    r = run_cli("eval", tmp_path / "m.model", "--analogies", tmp_path / "q.txt", "--json")
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    expected = api_model.wv.evaluate_analogies(tmp_path / "q.txt")
    assert result["analogy"]["correct"] == expected["correct"] and result["analogy"]["questions"] == 1


def test_similar(planted):
    vectors, *_ = planted
    r = run_cli("similar", vectors, "king", "--topn", "2")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert [line.split() for line in lines] == [["0.5000", "queen"], ["0.5000", "man"]]
    r = run_cli("similar", vectors, "the", "--topn", "1")
    assert r.stdout.split() == ["0.9487", "a"]
    # several words are averaged: paris + france is closest to rome and italy (each shares one part)
    r = run_cli("similar", vectors, "paris", "france", "--topn", "2")
    assert [line.split()[1] for line in r.stdout.strip().splitlines()] == ["rome", "italy"]


def test_similar_unknown_word(planted):
    vectors, *_ = planted
    r = run_cli("similar", vectors, "kingg")
    assert r.returncode == 1 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "'kingg' is not in the vocabulary" in lines[0]
    assert "closest vocabulary words: king" in lines[0] and "Traceback" not in r.stderr


# ---- help, verbose ------------------------------------------------------------------------

def test_train_help_mentions_every_option_with_its_default():
    r = run_cli("train", "--help")
    assert r.returncode == 0
    text = r.stdout
    parser = cli.build_parser()
    train = next(a for a in parser._subparsers._group_actions[0].choices.items() if a[0] == "train")[1]
    options = [a for a in train._actions if a.option_strings and a.dest != "help"]
    assert len(options) >= 15
    # the option's entry: from its line to the next option's line
    entries = re.split(r"\n(?=  -)", text)
    shown_defaults = {field.name: option.shown_default for field, option in setting_options()
                      if getattr(Settings(), field.name) is None}
    assert {"alpha", "min_alpha", "max_vocab_size"} <= set(shown_defaults)
    for action in options:
        entry = next((e for e in entries if re.match(r"\s*" + re.escape(action.option_strings[0]) + r"\b", e)),
                     None)
        assert entry is not None, action.option_strings
        entry = " ".join(entry.split())
        if action.default is not None:
            assert f"(default: {action.default})" in entry, (action.option_strings, entry)
        elif action.dest in shown_defaults:   # a setting without a default value says it in words
            assert entry.endswith(f"(default: {shown_defaults[action.dest]})"), (action.option_strings, entry)
    assert "(default: None)" not in text
    # and the defaults are the API's
    defaults = Settings()
    by_dest = {a.dest: a.default for a in options}
    for dest, field in [("model", "model"), ("dim", "dim"), ("window", "window"), ("negative", "negative"),
                        ("sample", "sample"), ("min_count", "min_count"), ("epochs", "epochs"),
                        ("threads", "threads"), ("alpha", "alpha"), ("min_alpha", "min_alpha"), ("init_range", "init_range"),
                        ("seed", "seed"), ("max_vocab_size", "max_vocab_size"), ("max_final_vocab", "max_final_vocab"),
                        ("tokenizer", "tokenizer")]:
        assert by_dest[dest] == getattr(defaults, field), dest
    assert by_dest["cbow_sum"] is (not defaults.cbow_mean) is False
    assert by_dest["per_pair_negatives"] is (not defaults.shared_negatives) is False
    assert "(default: 0.025 for sg, 0.05 for cbow)" in " ".join(text.split())


def test_verbose_shows_a_traceback(tmp_path):
    quiet = run_cli("train", tmp_path / "missing.txt", "-o", tmp_path / "v.bin")
    assert quiet.returncode == 1 and "Traceback" not in quiet.stderr
    loud = run_cli("--verbose", "train", tmp_path / "missing.txt", "-o", tmp_path / "v.bin")
    assert loud.returncode != 0 and "Traceback (most recent call last)" in loud.stderr
    assert "FileNotFoundError" in loud.stderr and "missing.txt" in loud.stderr


def test_no_command_is_an_argparse_error():
    r = run_cli()
    assert r.returncode == 2 and "usage: w2v-ext" in r.stderr


# ---- torch ----------------------------------------------------------------------------------

TORCH_FREE = textwrap.dedent("""
    import sys, importlib.abc

    class NoTorch(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "torch" or name.startswith("torch."):
                raise ImportError("torch is blocked in this test")

    if sys.argv[2] == "blocked":
        sys.meta_path.insert(0, NoTorch())
    import w2v_ext, w2v_ext.trainer, w2v_ext.cli
    from w2v_ext.trainer import Word2Vec
    m = Word2Vec(sys.argv[1], model="sg", epochs=1, dim=8, min_count=1, threads=2, progress=False)
    m.wv.most_similar(m.vocab.words[0])
    assert w2v_ext.cli.main(["train", sys.argv[1], "-o", sys.argv[1] + ".bin", "--model", "sg", "--epochs", "1",
                          "--dim", "8", "--quiet"]) == 0
    assert w2v_ext.cli.main(["similar", sys.argv[1] + ".bin", m.vocab.words[0]]) == 0
    print("TORCH_LOADED" if "torch" in sys.modules else "NO_TORCH")
""")


@pytest.mark.parametrize("mode", ["available", "blocked"])
def test_trainer_and_cli_never_import_torch(corpus, mode):
    r = subprocess.run([sys.executable, "-c", TORCH_FREE, corpus, mode], capture_output=True, text=True,
                       timeout=120, cwd=REPO)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "NO_TORCH"
