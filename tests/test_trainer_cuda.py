"""The CUDA corpus trainer (Word2Vec(device="cuda")) against the CPU trainer, once per
kernel device (cuda_devices.py: a GPU, and the same kernels emulated on the CPU).

One warp trains one sentence, centre after centre. On a corpus of one sentence nothing
races, so the device must draw the same random numbers as the CPU (subsampling,
windows, noise words: w2v_math.h's counter-based generator), match the CPU trainer (one
thread) to float32 rounding, and give the same bits on every run. On larger corpora
warps race (Hogwild) and the quality must match: the planted neighbours are found and
class analogies answered."""
from __future__ import annotations

import numpy as np
import pytest

from test_trainer_quality import chance_rate, grammar_corpus, neighbour_rate, topic_corpus
from trainer_testing import BlockRecorder
from w2v_ext.trainer import Word2Vec


def _train(path, device, **settings):
    kw = dict(model="sg", dim=40, window=3, negative=4, min_count=1, epochs=2, threads=1, seed=7, progress=False)
    kw.update(settings)
    return Word2Vec(path, device=device, **kw)


def _untrained(path, **settings):
    """The model _train starts from (its vocabulary and initial vectors)."""
    kw = dict(dim=40, min_count=1, seed=7, progress=False)
    kw.update(settings)
    model = Word2Vec(**kw)
    model.build_vocab(path)
    return model


def _one_sentence(path, words, seed=3):
    rng = np.random.default_rng(seed)
    vocab = [f"w{i}" for i in range(30)]
    p = 1.0 / np.arange(1, 31)
    path.write_text(" ".join(rng.choice(vocab, size=words, p=p / p.sum())) + "\n")
    return path


@pytest.mark.parametrize("model", ["sg", "cbow"])
@pytest.mark.parametrize("sample", [0.0, 1e-2])
def test_one_sentence_matches_cpu(kernel_device, tmp_path, model, sample):
    path = _one_sentence(tmp_path / "one.txt", 600)
    cpu = _train(path, "cpu", model=model, sample=sample)
    gpu = _train(path, "cuda", model=model, sample=sample)
    again = _train(path, "cuda", model=model, sample=sample)   # one warp: nothing races
    assert np.array_equal(gpu.input, again.input) and np.array_equal(gpu.output, again.output)
    assert gpu.vocab.words == cpu.vocab.words
    assert np.abs(cpu.input - _untrained(path, model=model).input).max() > 1e-3   # training moved them
    np.testing.assert_allclose(gpu.input, cpu.input, rtol=2e-3, atol=2e-5)
    np.testing.assert_allclose(gpu.output, cpu.output, rtol=2e-3, atol=2e-5)
    assert gpu.history[-1]["words_kept"] == cpu.history[-1]["words_kept"]
    assert gpu.history[-1]["loss"] == pytest.approx(cpu.history[-1]["loss"], rel=1e-3)


@pytest.mark.parametrize("settings", [dict(model="cbow", cbow_mean=False), dict(model="sg", min_alpha=1e-3, alpha=0.05),
                                      dict(model="cbow", init_range=1.0, seed=11),
                                      dict(model="sg", shrink_windows=False, ns_exponent=0.3),
                                      dict(model="cbow", shrink_windows=False, ns_exponent=-0.5)],
                         ids=["cbow-sum", "sg-min-alpha", "cbow-init-seed", "sg-fixed-window", "cbow-fixed-window"])
def test_one_sentence_settings_match_cpu(kernel_device, tmp_path, settings):
    path = _one_sentence(tmp_path / "one.txt", 300, seed=6)
    cpu, gpu = _train(path, "cpu", **settings), _train(path, "cuda", **settings)
    np.testing.assert_allclose(gpu.input, cpu.input, rtol=2e-3, atol=2e-5)
    np.testing.assert_allclose(gpu.output, cpu.output, rtol=2e-3, atol=2e-5)


@pytest.mark.parametrize("model", ["sg", "cbow"])
@pytest.mark.parametrize("window,negative", [(8, 10), (16, 15), (30, 25)],
                         ids=["kernel16x11", "kernel32x16", "kernel64x26"])
def test_wide_windows_match_cpu(kernel_device, tmp_path, model, window, negative):
    """The larger train_kernel instantiations (more inputs and targets per centre). With
    up to 60 x 26 scores per centre, summed in another order than on the CPU, a score
    now and then lands in the next bucket of the quantised sigmoid: atol 1e-4."""
    path = _one_sentence(tmp_path / "one.txt", 150, seed=4)
    kw = dict(model=model, window=window, negative=negative, sample=1e-2, epochs=1, dim=13)
    cpu, gpu = _train(path, "cpu", **kw), _train(path, "cuda", **kw)
    assert gpu.history[-1]["words_kept"] == cpu.history[-1]["words_kept"]
    np.testing.assert_allclose(gpu.input, cpu.input, rtol=2e-3, atol=1e-4)
    np.testing.assert_allclose(gpu.output, cpu.output, rtol=2e-3, atol=1e-4)


@pytest.mark.parametrize("model", ["sg", "cbow"])
def test_recovers_planted_topics(kernel_device, tmp_path, model):
    label = topic_corpus(tmp_path / "topics.txt", np.random.default_rng(2024))
    kw = dict(model=model, dim=24, window=5, negative=5, epochs=3, sample=1e-3)
    gpu = _train(tmp_path / "topics.txt", "cuda", **kw)
    cpu = _train(tmp_path / "topics.txt", "cpu", **kw)
    rate_gpu, rate_cpu = neighbour_rate(gpu, label), neighbour_rate(cpu, label)
    assert rate_gpu >= 0.85 > chance_rate(label) + 0.4
    assert rate_gpu >= rate_cpu - 0.05


def class_analogy_rate(model, label, rng, questions=200) -> float:
    """Share of a : b :: c : ? questions (a, c of one class, b of another) whose 3CosAdd
    answer is of b's class: the grammar corpus's classes are interchangeable."""
    by_class = {}
    for w in model.wv.words:
        by_class.setdefault(label[w], []).append(w)
    classes = sorted(by_class)
    right = 0
    for _ in range(questions):
        x, y = rng.choice(classes, 2, replace=False)
        a, c = rng.choice(by_class[x], 2, replace=False)
        answer = model.wv.analogy(a, rng.choice(by_class[y]), c, topn=1)[0][0]
        right += label[answer] == y
    return right / questions


@pytest.mark.parametrize("model", ["sg", "cbow"])
def test_grammar_classes_neighbours_and_analogies(kernel_device, tmp_path, model):
    label = grammar_corpus(tmp_path / "grammar.txt", np.random.default_rng(2024))
    kw = dict(model=model, dim=24, window=2, negative=5, epochs=3, sample=0.0, seed=5)
    gpu = _train(tmp_path / "grammar.txt", "cuda", **kw)
    cpu = _train(tmp_path / "grammar.txt", "cpu", **kw)
    rate_gpu, rate_cpu = neighbour_rate(gpu, label), neighbour_rate(cpu, label)
    assert rate_gpu >= 0.85 > chance_rate(label) + 0.4
    assert rate_gpu >= rate_cpu - 0.05
    analogy_gpu = class_analogy_rate(gpu, label, np.random.default_rng(0))
    analogy_cpu = class_analogy_rate(cpu, label, np.random.default_rng(0))
    assert analogy_gpu >= 0.9 and analogy_gpu >= analogy_cpu - 0.05
    untrained = _untrained(tmp_path / "grammar.txt", model=model, dim=24, seed=5)
    assert class_analogy_rate(untrained, label, np.random.default_rng(0)) < 0.5


@pytest.mark.parametrize("model", ["sg", "cbow"])
def test_many_chunks(kernel_device, tmp_path, model):
    """Blocks of ~2 KB (the GPU reads 8 of them per chunk): chunk after chunk through the
    trainer's two alternating buffers, with positions, learning rates and statistics
    carried across. Subsampling keys its draws by position, so every epoch keeps the
    same words as on the CPU, races or not."""
    label = topic_corpus(tmp_path / "topics.txt", np.random.default_rng(9))
    kw = dict(model=model, dim=24, window=5, negative=5, epochs=3, sample=1e-3, block_bytes=2048)
    chunks = BlockRecorder()
    gpu = _train(tmp_path / "topics.txt", "cuda", backend_hook=chunks, **kw)
    cpu = _train(tmp_path / "topics.txt", "cpu", **kw)
    assert len(chunks.calls) >= 3 * 4
    assert [h["words_kept"] for h in gpu.history] == [h["words_kept"] for h in cpu.history]
    assert gpu.history[-1]["loss"] == pytest.approx(cpu.history[-1]["loss"], rel=0.05)
    assert neighbour_rate(gpu, label) >= max(0.85, neighbour_rate(cpu, label) - 0.05)


class _StatsRecorder:
    """A backend hook noting what each train_block and flush call returned."""

    def __init__(self):
        self.returned = []   # ("block" or "flush", words_kept)

    def __call__(self, backend):
        recorder = self

        class Recording:
            def __getattr__(self, name):
                return getattr(backend, name)

            def train_block(self, *args, **kwargs):
                stats = backend.train_block(*args, **kwargs)
                recorder.returned.append(("block", stats.words_kept))
                return stats

            def flush(self):
                stats = backend.flush()
                recorder.returned.append(("flush", stats.words_kept))
                return stats
        return Recording()


def test_block_stats_are_read_after_the_next_block_is_queued(kernel_device, tmp_path):
    """The host never waits for the block it just queued: train_block returns the stats
    of the blocks queued before it (none, for an epoch's first), flush() the rest at the
    epoch's end, and together they are the epoch's."""
    topic_corpus(tmp_path / "topics.txt", np.random.default_rng(9))
    recorder = _StatsRecorder()
    gpu = _train(tmp_path / "topics.txt", "cuda", epochs=2, sample=1e-3, block_bytes=2048, backend_hook=recorder)
    returned = recorder.returned
    epoch_ends = [i for i, (what, kept) in enumerate(returned) if what == "flush" and kept > 0]
    assert len(epoch_ends) == 2
    starts = [0] + [end + 1 for end in epoch_ends[:-1]]
    for epoch, (start, end) in enumerate(zip(starts, epoch_ends)):
        calls = returned[start:end + 1]
        assert sum(what == "block" for what, _ in calls) >= 4
        assert calls[0] == ("block", 0) and calls[-1][0] == "flush"
        assert sum(kept for _, kept in calls) == gpu.history[epoch]["words_kept"]


def test_weights_come_back_from_the_device(kernel_device, tmp_path):
    """The weights are copied back from the device when training stops."""
    label = topic_corpus(tmp_path / "t.txt", np.random.default_rng(1), sentences=300)
    m = _train(tmp_path / "t.txt", "cuda", epochs=1)
    assert np.isfinite(m.input).all() and np.abs(m.output).sum() > 0
    assert len(m.vocab) == len(label)


def test_cuda_rejects_per_pair_negatives(kernel_device, tmp_path):
    (tmp_path / "c.txt").write_text("a b c a b c\n")
    with pytest.raises(ValueError, match="shared_negatives"):
        _train(tmp_path / "c.txt", "cuda", shared_negatives=False)
