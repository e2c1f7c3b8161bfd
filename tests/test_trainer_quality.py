"""The trainer learns planted structure: corpora whose right neighbours are known.

- topics: 5 disjoint topics of 12 words, every sentence drawn from one topic; a word's
  nearest neighbours should be words of its topic;
- grammar: sentences from templates over word classes (determiners, adjectives, nouns,
  verbs, adverbs) where the words of a class are interchangeable; a word's nearest
  neighbours should be words of its class (they share contexts, never co-occur more).

The measure is the share of each word's top-5 cosine neighbours with its label; chance
is computed from the class sizes. 2 threads (Hogwild) must give the same quality.
"""
from __future__ import annotations

import numpy as np
import pytest

from trainer_testing import BlockRecorder
from w2v_ext.trainer import Word2Vec


def topic_corpus(path, rng, topics=5, per_topic=12, sentences=2500, length=8):
    words = [[f"t{t}w{i}" for i in range(per_topic)] for t in range(topics)]
    with open(path, "w") as f:
        for _ in range(sentences):
            t = rng.integers(topics)
            f.write(" ".join(rng.choice(words[t], length)) + "\n")
    return {w: t for t in range(topics) for w in words[t]}


GRAMMAR_CLASSES = {"det": 4, "adj": 8, "noun": 14, "verb": 10, "adv": 6}
TEMPLATES = [["det", "adj", "noun", "verb", "det", "noun"], ["det", "noun", "verb", "adv"],
             ["det", "adj", "adj", "noun", "verb", "adv"], ["noun", "verb", "det", "adj", "noun"]]


def grammar_corpus(path, rng, sentences=3000):
    words = {c: [f"{c}{i}" for i in range(k)] for c, k in GRAMMAR_CLASSES.items()}
    with open(path, "w") as f:
        for _ in range(sentences):
            template = TEMPLATES[rng.integers(len(TEMPLATES))]
            f.write(" ".join(rng.choice(words[c]) for c in template) + "\n")
    return {w: c for c in words for w in words[c]}


def neighbour_rate(model, label, k=5) -> float:
    """Share of the top-k cosine neighbours (self excluded) that carry the word's label."""
    kv = model.wv
    u = kv.unit_vectors.astype(np.float64)
    sims = u @ u.T
    np.fill_diagonal(sims, -np.inf)
    top = np.argsort(-sims, axis=1)[:, :k]
    labels = np.array([label[w] for w in kv.words])
    return float((labels[top] == labels[:, None]).mean())


def chance_rate(label) -> float:
    """Expected rate for neighbours drawn at random from the other words."""
    labels = list(label.values())
    sizes = {c: labels.count(c) for c in set(labels)}
    return float(np.mean([(sizes[c] - 1) / (len(labels) - 1) for c in labels]))


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    d = tmp_path_factory.mktemp("quality")
    rng = np.random.default_rng(2024)
    return {"topics": (str(d / "topics.txt"), topic_corpus(d / "topics.txt", rng)),
            "grammar": (str(d / "grammar.txt"), grammar_corpus(d / "grammar.txt", rng))}


SETTINGS = {"topics": dict(window=5, sample=1e-3), "grammar": dict(window=2, sample=0.0)}


def train(path, kind, model, threads, **extra):
    settings = dict(SETTINGS[kind], **extra)
    return Word2Vec(path, model=model, dim=24, negative=5, epochs=3, min_count=1, threads=threads, seed=5,
                    progress=False, **settings)


@pytest.mark.parametrize("kind", ["topics", "grammar"])
@pytest.mark.parametrize("model", ["sg", "cbow"])
def test_recovers_planted_neighbours(corpora, kind, model):
    path, label = corpora[kind]
    chance = chance_rate(label)
    assert chance < 0.35
    trained = train(path, kind, model, threads=1)
    assert sorted(trained.vocab.words) == sorted(label)
    rate = neighbour_rate(trained, label)
    assert rate >= 0.85, f"{model} on {kind}: top-5 neighbour rate {rate:.3f} (chance {chance:.3f})"
    # untrained vectors (the same initialisation) are at chance level: the rate measures training
    untrained = Word2Vec(model=model, dim=24, min_count=1, seed=5, progress=False)
    untrained.build_vocab(path)
    assert neighbour_rate(untrained, label) < chance + 0.15


def test_per_pair_negatives_and_cbow_sum_learn_too(corpora):
    path, label = corpora["topics"]
    for extra in (dict(model="sg", shared_negatives=False), dict(model="cbow", cbow_mean=False)):
        model = extra.pop("model")
        assert neighbour_rate(train(path, "topics", model, 1, **extra), label) >= 0.85, extra


@pytest.mark.parametrize("kind", ["topics", "grammar"])
@pytest.mark.parametrize("model", ["sg", "cbow"])
def test_two_threads_same_quality(corpora, kind, model):
    path, label = corpora[kind]
    one = train(path, kind, model, threads=1)
    recorder = BlockRecorder()
    two = train(path, kind, model, threads=2, backend_hook=recorder)
    # the kernel was asked for two threads, on blocks big enough to split (ranges of ~4096
    # words); whether the second thread got work is up to OpenMP's dynamic schedule
    assert {c["threads"] for c in recorder.calls} == {2}
    assert max(sum(map(len, c["sentences"])) for c in recorder.calls) > 2 * 4096
    r1, r2 = neighbour_rate(one, label), neighbour_rate(two, label)
    assert r2 >= 0.85 and r2 >= r1 - 0.05, (r1, r2)
    assert two.history[-1]["words"] == one.history[-1]["words"] == one.vocab.total


def test_two_threads_do_run_concurrently(tmp_path):
    """Hogwild with 2 threads updates in a different order than one thread, so at least one
    of a few runs on a corpus of ~40 kernel work ranges differs from the 1-thread result
    (a run where OpenMP left all the work to one thread is identical: hence the retries)."""
    path = tmp_path / "topics.txt"
    topic_corpus(path, np.random.default_rng(7), sentences=20000)
    kw = dict(model="sg", dim=16, window=3, negative=2, epochs=1, min_count=1, seed=5, progress=False)
    one = Word2Vec(str(path), threads=1, **kw)
    assert np.array_equal(one.input, Word2Vec(str(path), threads=1, **kw).input)
    assert any(not np.array_equal(one.input, Word2Vec(str(path), threads=2, **kw).input) for _ in range(3))
