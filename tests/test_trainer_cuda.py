"""The CUDA corpus trainer (Word2Vec(device="cuda")). Skipped where no CUDA device is
visible. One warp trains one sentence, centre after centre, so on a corpus of one
sentence there are no races and the GPU must match the CPU trainer (one thread) to
float32 rounding; on larger corpora warps race (Hogwild) and the quality must match."""
from __future__ import annotations

import numpy as np
import pytest

from test_trainer_quality import chance_rate, neighbour_rate, topic_corpus
from w2v_ext import _native
from w2v_ext.trainer import Word2Vec

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(not _native.has_cuda_device(), reason="no CUDA device")]


def _train(path, device, **settings):
    kw = dict(dim=40, window=3, negative=4, min_count=1, epochs=2, threads=1, seed=7, progress=False)
    kw.update(settings)
    return Word2Vec(path, device=device, **kw)


@pytest.mark.parametrize("model", ["sg", "cbow"])
@pytest.mark.parametrize("sample", [0.0, 1e-2])
def test_one_sentence_matches_cpu(tmp_path, model, sample):
    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in range(30)]
    p = 1.0 / np.arange(1, 31)
    path = tmp_path / "one.txt"
    path.write_text(" ".join(rng.choice(words, size=600, p=p / p.sum())) + "\n")
    cpu = _train(path, "cpu", model=model, sample=sample)
    gpu = _train(path, "cuda", model=model, sample=sample)
    assert gpu.vocab.words == cpu.vocab.words
    np.testing.assert_allclose(gpu.input, cpu.input, rtol=2e-3, atol=2e-5)
    np.testing.assert_allclose(gpu.output, cpu.output, rtol=2e-3, atol=2e-5)
    assert gpu.history[-1]["words_kept"] == cpu.history[-1]["words_kept"]


@pytest.mark.parametrize("model", ["sg", "cbow"])
def test_recovers_planted_topics(tmp_path, model):
    label = topic_corpus(tmp_path / "topics.txt", np.random.default_rng(2024))
    gpu = _train(tmp_path / "topics.txt", "cuda", model=model, dim=24, window=5, negative=5, epochs=3,
                 sample=1e-3)
    cpu = _train(tmp_path / "topics.txt", "cpu", model=model, dim=24, window=5, negative=5, epochs=3,
                 sample=1e-3)
    rate_gpu, rate_cpu = neighbour_rate(gpu, label), neighbour_rate(cpu, label)
    assert rate_gpu >= 0.85 > chance_rate(label) + 0.4
    assert rate_gpu >= rate_cpu - 0.05


def test_weights_come_back_from_the_device(tmp_path):
    """The weights are copied back from the device when training stops, also early."""
    label = topic_corpus(tmp_path / "t.txt", np.random.default_rng(1))
    m = _train(tmp_path / "t.txt", "cuda", epochs=1)
    assert np.isfinite(m.input).all() and np.abs(m.output).sum() > 0
    assert len(m.vocab) == len(label)


def test_cuda_rejects_per_pair_negatives(tmp_path):
    (tmp_path / "c.txt").write_text("a b c a b c\n")
    with pytest.raises(ValueError, match="shared_negatives"):
        _train(tmp_path / "c.txt", "cuda", shared_negatives=False)
