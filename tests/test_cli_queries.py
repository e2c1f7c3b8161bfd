"""`w2v-ext similar` (--negative), `w2v-ext analogy`, both also reading queries from
stdin; `w2v-ext vocab`, `w2v-ext convert`, `w2v-ext --version`."""
from __future__ import annotations

import numpy as np
import pytest

import w2v_ext
from trainer_testing import run_cli
from w2v_ext.trainer import Word2Vec
from w2v_ext.vectors import KeyedVectors


@pytest.fixture(scope="module")
def trained(zipf_corpus, tmp_path_factory):
    """(native model path, .bin path, the model)."""
    d = tmp_path_factory.mktemp("q")
    model = Word2Vec(zipf_corpus(3, 40, 400), dim=10, min_count=2, epochs=2, threads=1, progress=False)
    model.save(d / "m.model")
    model.save(d / "v.bin")
    return d / "m.model", d / "v.bin", model


def answers(stdout: str):
    """The printed (word, score) blocks, one per query (each ends with a blank line; a
    failed query's block is empty)."""
    blocks, block = [], []
    for line in stdout.split("\n")[:-1]:
        if line:
            score, word = line.split()
            block.append((word, float(score)))
        else:
            blocks.append(block)
            block = []
    assert block == [], "the last block must end with a blank line"
    return blocks


def rounded(pairs):
    return [(w, round(float(s), 4)) for w, s in pairs]


def test_similar_with_negative_words(trained):
    _, vectors, model = trained
    w = model.vocab.words
    r = run_cli("similar", vectors, w[0], w[1], "--negative", w[2], "--topn", "4")
    assert r.returncode == 0, r.stderr
    got = [(line.split()[1], float(line.split()[0])) for line in r.stdout.splitlines()]
    kv = KeyedVectors.load_word2vec_format(vectors)
    assert got == rounded(kv.most_similar(positive=[w[0], w[1]], negative=[w[2]], topn=4))
    r = run_cli("similar", vectors, "--negative", w[2])
    assert r.returncode == 1 and r.stderr.strip() == "w2v-ext similar: error: --negative needs at least one " \
                                                     "positive WORD before it"


def test_similar_reads_queries_from_stdin(trained):
    _, vectors, model = trained
    w = model.vocab.words
    kv = KeyedVectors.load_word2vec_format(vectors)
    queries = f"{w[0]}\n{w[1]} {w[2]} - {w[3]}\nnotaword\n{w[4]}\n\n{w[5]}\n"
    r = run_cli("similar", vectors, "--topn", "3", input=queries)
    assert r.returncode == 1   # one query failed; the others were answered
    assert answers(r.stdout) == [rounded(kv.most_similar(w[0], topn=3)),
                                 rounded(kv.most_similar(positive=[w[1], w[2]], negative=[w[3]], topn=3)),
                                 [],
                                 rounded(kv.most_similar(w[4], topn=3))]   # the empty line ended: w[5] unread
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: 'notaword' is not in the vocabulary of {vectors}")
    r = run_cli("similar", vectors, "--topn", "2", input=f"{w[0]}")   # the end of input ends too
    assert r.returncode == 0 and answers(r.stdout) == [rounded(kv.most_similar(w[0], topn=2))]
    r = run_cli("similar", vectors, "--topn", "2", input=f"{w[0]}\nEXIT\n{w[1]}\n")   # word2vec.c's way to end
    assert r.returncode == 0 and answers(r.stdout) == [rounded(kv.most_similar(w[0], topn=2))], r.stdout


def test_analogy(trained):
    model_path, vectors, model = trained
    w = model.vocab.words
    kv = model.wv
    r = run_cli("analogy", model_path, w[0], w[1], w[2], "--topn", "3")
    assert r.returncode == 0, r.stderr
    assert answers(r.stdout + "\n") == [rounded(kv.analogy(w[0], w[1], w[2], topn=3))]
    r = run_cli("analogy", vectors, "--topn", "2", "--method", "3cosmul",
                input=f"{w[0]} {w[1]} {w[2]}\n{w[0]} {w[1]}\n{w[3]} {w[4]} {w[5]}\n")
    assert r.returncode == 1
    kv = KeyedVectors.load_word2vec_format(vectors)
    assert answers(r.stdout) == [rounded(kv.analogy(w[0], w[1], w[2], topn=2, method="3cosmul")), [],
                                 rounded(kv.analogy(w[3], w[4], w[5], topn=2, method="3cosmul"))]
    assert r.stderr.strip() == "error: expected three words a b c, got 2"
    r = run_cli("analogy", vectors, w[0], w[1])
    assert r.returncode == 1 and r.stderr.strip() == "w2v-ext analogy: error: analogy needs three words a b c " \
                                                     "(a : b :: c : ?), got 2"
    r = run_cli("analogy", vectors, w[0], w[1], "nope")
    assert r.returncode == 1 and r.stderr.startswith(f"w2v-ext analogy: error: 'nope' is not in the vocabulary")


def test_vocab_exports_the_counts(trained, tmp_path):
    model_path, vectors, model = trained
    expected = "".join(f"{w} {c}\n" for w, c in zip(model.vocab.words, model.vocab.counts.tolist()))
    r = run_cli("vocab", model_path)
    assert r.returncode == 0 and r.stdout == expected, r.stderr
    r = run_cli("vocab", model_path, "-o", tmp_path / "v.txt")
    assert r.returncode == 0 and (tmp_path / "v.txt").read_text() == expected
    r = run_cli("vocab", vectors)
    assert r.returncode == 1 and r.stderr.strip() == (
        f"w2v-ext vocab: error: {vectors} holds no word counts (word2vec files do not store them): give a native "
        f"model (train --save-model)")
    r = run_cli("vocab", model_path, "-o", tmp_path / "missing" / "v.txt")
    assert r.returncode == 1 and "-o/--output" in r.stderr and "does not exist" in r.stderr


def test_convert(trained, tmp_path):
    model_path, vectors, model = trained
    r = run_cli("convert", vectors, tmp_path / "v.txt")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"wrote {tmp_path / 'v.txt'}: {len(model.vocab)} words, dim 10 (text)"
    assert run_cli("convert", tmp_path / "v.txt", tmp_path / "back.bin").returncode == 0
    back = KeyedVectors.load_word2vec_format(tmp_path / "back.bin", binary=True)
    assert back.words == model.vocab.words and np.allclose(back.vectors, model.input, atol=1e-6)
    assert run_cli("convert", model_path, tmp_path / "m.bin").returncode == 0
    assert (tmp_path / "m.bin").read_bytes() == vectors.read_bytes()   # model -> vectors, bit-exact
    assert run_cli("convert", vectors, tmp_path / "v.data", "--format", "txt").returncode == 0
    assert (tmp_path / "v.data").read_bytes() == (tmp_path / "v.txt").read_bytes()
    r = run_cli("convert", vectors, tmp_path / "x.model")
    assert r.returncode == 1 and r.stderr.strip() == (
        f"w2v-ext convert: error: OUT: {tmp_path / 'x.model'} names a native model, which only training writes (it "
        f"holds output weights and a training position): convert writes .bin, .txt or .vec")
    r = run_cli("convert", vectors, tmp_path / "x.out")
    assert r.returncode == 1 and "OUT: cannot tell the format of" in r.stderr
    assert not (tmp_path / "x.model").exists() and not (tmp_path / "x.out").exists()


def test_version():
    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"w2v-ext {w2v_ext.__version__}"


def test_a_terminal_gets_a_prompt(trained):
    import os
    import pty
    import subprocess
    import sys
    _, vectors, model = trained
    main, secondary = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "w2v_ext", "similar", str(vectors), "--topn", "1"],
                            stdin=secondary, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    os.close(secondary)
    os.write(main, f"{model.vocab.words[0]}\n\n".encode())
    out, err = proc.communicate(timeout=60)
    os.close(main)
    assert proc.returncode == 0, err
    assert err.count("query (words (- words to subtract); an empty line or EXIT ends): ") == 2   # asked twice: the 2nd ends
    assert len(answers(out)) == 1
