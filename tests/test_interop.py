"""Vectors between w2v_ext, PyTorch and gensim: trained vectors into an nn.Embedding,
and, where gensim is installed, KeyedVectors and word2vec files both ways (CI has no
gensim: test_vectors.py covers to_gensim/from_gensim against a fake of its API)."""
from __future__ import annotations

import numpy as np
import pytest

from w2v_ext import KeyedVectors, Word2Vec


@pytest.fixture(scope="module")
def model(zipf_corpus):
    return Word2Vec(zipf_corpus(2, 50, 300), model="sg", dim=16, min_count=2, epochs=2, threads=1, progress=False)


def test_trained_vectors_to_embedding(model):
    torch = pytest.importorskip("torch")
    kv = model.wv
    emb = kv.to_embedding()
    assert emb.weight.shape == (len(kv), 16) and emb.weight.dtype == torch.float32
    words = [kv.words[5], kv.words[0], kv.words[-1]]
    rows = torch.tensor([kv.index(w) for w in words])
    assert np.array_equal(emb(rows).numpy(), kv[words])
    # a copy: training the embedding leaves the model alone
    trainable = kv.to_embedding(freeze=False)
    with torch.no_grad():
        trainable.weight += 1
    assert np.array_equal(kv.vectors, model.input)


def test_top_level_exports():
    import w2v_ext
    from w2v_ext.trainer import Word2Vec as W
    from w2v_ext.vectors import KeyedVectors as K
    assert w2v_ext.Word2Vec is W and w2v_ext.KeyedVectors is K
    assert {"Word2Vec", "KeyedVectors", "sgns_loss"} <= set(w2v_ext.__all__)


def test_real_gensim_both_ways(model, tmp_path):
    gensim_models = pytest.importorskip("gensim.models")
    kv = model.wv
    g = kv.to_gensim()
    assert isinstance(g, gensim_models.KeyedVectors)
    assert g.index_to_key == kv.words and np.array_equal(g.vectors, kv.vectors)
    assert [g.get_vecattr(w, "count") for w in kv.words] == list(kv.counts)
    word = kv.words[3]
    ours = kv.most_similar(word, topn=5)
    theirs = g.most_similar(word, topn=5)
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], rtol=1e-5, atol=1e-6)
    back = KeyedVectors.from_gensim(g)
    assert back.words == kv.words and np.array_equal(back.vectors, kv.vectors)
    assert np.array_equal(back.counts, kv.counts)
    # files: gensim reads ours, we read gensim's
    kv.save_word2vec_format(tmp_path / "ours.bin", binary=True)
    kv.save_word2vec_format(tmp_path / "ours.txt", binary=False)
    assert np.array_equal(gensim_models.KeyedVectors.load_word2vec_format(tmp_path / "ours.bin", binary=True).vectors,
                          kv.vectors)
    np.testing.assert_allclose(gensim_models.KeyedVectors.load_word2vec_format(tmp_path / "ours.txt").vectors,
                               kv.vectors, rtol=1e-5, atol=1e-6)
    g.save_word2vec_format(tmp_path / "theirs.bin", binary=True)
    g.save_word2vec_format(tmp_path / "theirs.txt", binary=False)
    for name in ("theirs.bin", "theirs.txt"):
        loaded = KeyedVectors.load_word2vec_format(tmp_path / name)
        assert loaded.words == kv.words
        np.testing.assert_allclose(loaded.vectors, kv.vectors, rtol=1e-5, atol=1e-6)
    # a gensim-trained model's vectors, with its real counts
    trained = gensim_models.Word2Vec([["a", "b", "c"] * 5, ["b", "c"] * 4], vector_size=4, min_count=1, epochs=1)
    ours = KeyedVectors.from_gensim(trained.wv)
    assert ours.words == list(trained.wv.index_to_key)
    assert dict(zip(ours.words, ours.counts.tolist())) == {"b": 9, "c": 9, "a": 5}
