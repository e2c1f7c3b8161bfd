"""Saving and loading trained models: the native format keeps the vocabulary (words that
are not UTF-8 included), counts, both weight tables, the settings and the training
position; the word2vec .bin/.txt outputs load with KeyedVectors.load_word2vec_format
and match model.wv."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from trainer_testing import zipf_lines
from w2v_ext import model_format
from w2v_ext.trainer import Word2Vec
from w2v_ext.vectors import KeyedVectors

SETTINGS = dict(model="sg", epochs=1, dim=10, window=3, negative=3, min_count=1, sample=1e-2, threads=1, progress=False)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("io")
    lines = [line.encode() for line in zipf_lines(np.random.default_rng(6), 30, 120)]
    lines += [b"caf\xe9 w0 \xff\xfe w1", b"w2 caf\xe9 \xed\xa0\x80 w3 \xff\xfe"] * 3   # not UTF-8
    path = d / "c.txt"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return str(path)


def assert_same_model(a: Word2Vec, b: Word2Vec):
    assert a.vocab.words == b.vocab.words and a.vocab.word_bytes() == b.vocab.word_bytes()
    assert np.array_equal(a.vocab.counts, b.vocab.counts) and b.vocab.counts.dtype == np.int64
    assert np.array_equal(a.input, b.input) and np.array_equal(a.output, b.output)
    assert b.input.dtype == np.float32 and not b.input_table[:, b.settings.dim:].any()
    assert dataclasses.asdict(a.settings) == dataclasses.asdict(b.settings)
    for name in ("words_done", "words_planned", "epochs_planned", "epochs_done", "epoch_position"):
        assert getattr(a, name) == getattr(b, name), name
    timeless = [[{k: v for k, v in h.items() if k != "seconds"} for h in m.history] for m in (a, b)]
    assert timeless[0] == timeless[1]


@pytest.mark.parametrize("name", ["m.model", "m.npz", "m"])
def test_native_round_trip(tmp_path, corpus, name):
    model = Word2Vec(corpus, **dict(SETTINGS, model="cbow", cbow_mean=False, epochs=2, alpha=0.03, seed=4,
                                    max_final_vocab=100, tokenizer="whitespace"))
    assert {"caf\udce9", "\udcff\udcfe", "\udced\udca0\udc80"} <= set(model.vocab.words)
    model.save(tmp_path / name)
    assert (tmp_path / name).read_bytes()[:4] == b"PK\x03\x04"
    loaded = Word2Vec.load(tmp_path / name, progress=False)
    assert_same_model(model, loaded)
    assert loaded.finished and len(loaded.history) == 2 and loaded.progress is False
    # a plain .npz without pickled objects: readable by numpy with allow_pickle=False
    with np.load(tmp_path / name, allow_pickle=False) as data:
        assert set(data.files) == {"input", "output", "counts", "words", "word_offsets", "meta"}
        meta = json.loads(data["meta"].tobytes())
        assert meta["format"] == "w2v_ext.model" and meta["settings"]["model"] == "cbow"
        assert data["words"].tobytes().count(b"caf\xe9") == 1


def test_interrupted_model_keeps_its_position(tmp_path, corpus):
    """The position of an unfinished schedule survives save/load, and training the loaded
    model continues exactly like training the original object."""

    def count_and_stop(model, stats):
        raise KeyboardInterrupt

    model = Word2Vec(callbacks=[count_and_stop], block_bytes=200, **dict(SETTINGS, epochs=3))
    model.build_vocab(corpus)
    with pytest.raises(KeyboardInterrupt):
        model.train(corpus)
    model.callbacks = []
    assert model.epochs_done == 1 and not model.finished
    model_format.save_model(tmp_path / "m.model", model)
    loaded = Word2Vec.load(tmp_path / "m.model", progress=False)
    loaded.block_bytes = 200
    assert_same_model(model, loaded)
    model.train(corpus)
    loaded.train(corpus)
    assert_same_model(model, loaded)
    assert [h["epoch"] for h in loaded.history] == [1, 2, 3] and loaded.finished


def test_word2vec_outputs_match_wv(tmp_path, corpus):
    model = Word2Vec(corpus, **SETTINGS)
    wv = model.wv
    assert np.shares_memory(wv.vectors, model.input_table) and wv.words == model.vocab.words
    assert np.array_equal(wv.counts, model.vocab.counts)
    for name, binary, exact in (("v.bin", None, True), ("v.txt", None, False), ("v.vec", None, False),
                                ("v.dat", True, True), ("w.bin", False, False)):
        model.save(tmp_path / name, binary=binary)
        raw = (tmp_path / name).read_bytes()
        assert raw.startswith(b"%d 10\n" % len(model.vocab))
        is_binary = name == "v.bin" or binary is True
        kv = KeyedVectors.load_word2vec_format(tmp_path / name, binary=is_binary, errors="surrogateescape")
        assert kv.words == wv.words, name
        if exact:
            assert np.array_equal(kv.vectors, wv.vectors), name
        else:
            np.testing.assert_allclose(kv.vectors, wv.vectors, rtol=1e-5, atol=1e-7)
        # the default reader replaces invalid UTF-8 but keeps every row
        assert len(KeyedVectors.load_word2vec_format(tmp_path / name)) == len(model.vocab)
    # the nearest neighbours read back from the file are the model's
    kv = KeyedVectors.load_word2vec_format(tmp_path / "v.bin", errors="surrogateescape")
    assert kv.most_similar("w0", topn=5) == wv.most_similar("w0", topn=5)


def test_loaded_vectors_in_gensim(tmp_path, corpus):
    gensim_models = pytest.importorskip("gensim.models")
    model = Word2Vec(corpus, **SETTINGS)
    model.save(tmp_path / "v.bin")
    kv = gensim_models.KeyedVectors.load_word2vec_format(str(tmp_path / "v.bin"), binary=True,
                                                        unicode_errors="ignore")
    assert np.array_equal(kv["w0"], model.wv["w0"])


@pytest.mark.parametrize("name,magic,binary", [("v.bin.gz", b"\x1f\x8b", True), ("v.txt.bz2", b"BZh", False),
                                               ("v.vec.xz", b"\xfd7zXZ\x00", False), ("v.TXT.GZ", b"\x1f\x8b", False)])
def test_compressed_word2vec_outputs(tmp_path, corpus, name, magic, binary):
    """vectors.txt.gz is compressed word2vec text (not the native format under that name)."""
    model = Word2Vec(corpus, **SETTINGS)
    model.save(tmp_path / name)
    assert (tmp_path / name).read_bytes().startswith(magic)
    kv = KeyedVectors.load_word2vec_format(tmp_path / name, errors="surrogateescape")
    assert kv.words == model.vocab.words
    if binary:
        assert np.array_equal(kv.vectors, model.input)
    else:
        np.testing.assert_allclose(kv.vectors, model.input, rtol=1e-5, atol=1e-7)
    # names that only end in a compression suffix stay native
    model.save(tmp_path / "m.gz")
    assert Word2Vec.load(tmp_path / "m.gz", progress=False).vocab.words == model.vocab.words
