"""A gensim 4 tutorial script (gensim's Word2Vec docs and its "Word2Vec Model"
tutorial: build from token lists, save, load, train more, online training, loss and
callbacks, queries, evaluations) run with only its imports changed.

The corpus plants a grid: word w{i}_{j} occurs beside markers of row i and of column
j, so its vector is a row part plus a column part; analogies w_ij : w_ik :: w_lj : w_lk
hold and words sharing a row or a column are similar. The queries and evaluations used
are those this branch's KeyedVectors has (most_similar, similarity, evaluate_analogies,
evaluate_word_pairs); gensim spells the analogy evaluation evaluate_word_analogies and
returns tuples where ours return dicts, so those two lines differ from gensim's tutorial.
"""
from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

GRID = 6

TUTORIAL = '''
from w2v_ext import Word2Vec                           # gensim: from gensim.models import Word2Vec
from w2v_ext.callbacks import CallbackAny2Vec          # gensim: from gensim.models.callbacks import ...


class EpochLogger(CallbackAny2Vec):
    """Callback to log information about training."""

    def __init__(self):
        self.epoch = 0
        self.losses = []

    def on_epoch_begin(self, model):
        self.epoch += 1

    def on_epoch_end(self, model):
        self.losses.append(model.get_latest_training_loss())


logger = EpochLogger()
model = Word2Vec(sentences=sentences, vector_size=32, window=5, min_count=1, workers=1, sg=1, seed=1,
                 compute_loss=True, callbacks=[logger])
model.save(model_path)
model = Word2Vec.load(model_path)
model.train(sentences, total_examples=model.corpus_count, epochs=model.epochs)    # train more
model.train([["hello", "world"]], total_examples=1, epochs=1)                      # nothing it knows

vector = model.wv["w0_0"]                                  # the numpy vector of a word
sims = model.wv.most_similar("w0_0", topn=10)
answer = model.wv.most_similar(positive=["w2_3", "w1_0"], negative=["w1_3"], topn=1)
row_similarity = model.wv.similarity("w0_0", "w0_1")
other_similarity = model.wv.similarity("w0_0", "w3_4")
pairs = model.wv.evaluate_word_pairs(pairs_path)          # gensim: ((pearson, p), (spearman, p), oov)
analogies = model.wv.evaluate_analogies(questions_path)   # gensim: evaluate_word_analogies -> (score, sections)

# online training: a new row of the grid
model.build_vocab(new_sentences, update=True)
model.train(new_sentences, total_examples=model.corpus_count, epochs=model.epochs)
new_neighbours = model.wv.most_similar("w6_0", topn=5)
loss = model.get_latest_training_loss()

model.save(model_path)
model = Word2Vec.load(model_path)
'''


def grid_sentences(rng, rows, sentences):
    """Sentences of a word w{i}_{j} (i in rows) with two markers of row i and two of column j."""
    out = []
    for _ in range(sentences):
        i, j = int(rng.choice(rows)), int(rng.integers(GRID))
        sentence = [f"r{i}m{k}" for k in rng.integers(3, size=2)] + [f"c{j}m{k}" for k in rng.integers(3, size=2)]
        sentence.append(f"w{i}_{j}")
        rng.shuffle(sentence)
        out.append(sentence)
    return out


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("tutorial")
    rng = np.random.default_rng(0)
    with open(d / "questions.txt", "w") as f:
        f.write(": grid\n")
        for (i, l), (j, k) in itertools.product(itertools.permutations(range(GRID), 2), repeat=2):
            if rng.random() < 0.05:
                f.write(f"w{i}_{j} w{i}_{k} w{l}_{j} w{l}_{k}\n")
        f.write("w0_0 w0_1 unknown w9_9\n")
    with open(d / "pairs.tsv", "w") as f:   # shared row or column: 5, nothing shared: 0
        f.write("# word1\tword2\tscore\n")
        for _ in range(60):
            (i, j), (l, k) = rng.integers(GRID, size=(2, 2))
            f.write(f"w{i}_{j}\tw{l}_{k}\t{5.0 * ((i == l) + (j == k))}\n")
    return d


def test_a_gensim_tutorial_runs_with_only_its_imports_changed(files, tmp_path):
    rng = np.random.default_rng(1)
    namespace = {"sentences": grid_sentences(rng, range(GRID), 6000),
                 "new_sentences": grid_sentences(rng, [0, 6], 3000),
                 "model_path": str(tmp_path / "word2vec.model"), "pairs_path": str(files / "pairs.tsv"),
                 "questions_path": str(files / "questions.txt")}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(compile(TUTORIAL, "gensim_tutorial.py", "exec"), namespace)
    # train([["hello", "world"]], total_examples=1): gensim trains nothing there either
    assert [str(w.message).split(":")[0] for w in caught] == [
        "train(total_examples=1)", "corpus Corpus('list', tokenizer='whitespace') holds no word of the vocabulary"]
    ns = namespace
    model = ns["model"]
    assert model.settings.model == "sg" and model.settings.dim == 32 and model.epochs == 5
    assert ns["logger"].epoch == 5 and len(ns["logger"].losses) == 5
    assert all(b > a > 0 for a, b in zip(ns["logger"].losses, ns["logger"].losses[1:]))   # summed over the call
    assert ns["vector"].shape == (32,) and len(ns["sims"]) == 10
    assert ns["answer"][0][0] == "w2_0"                      # w2_3 - w1_3 + w1_0
    assert ns["row_similarity"] > ns["other_similarity"] + 0.2
    assert ns["pairs"]["pairs"] == 60 and ns["pairs"]["spearman"] > 0.7
    analogies = ns["analogies"]
    assert analogies["questions"] == analogies["total"] - 1 and analogies["accuracy"] >= 0.9
    # the new row learnt its columns: w6_0's neighbours are column 0's words and markers
    assert model.vocab.words[-1].startswith("w6_") and "r6m0" in model.vocab.words
    column_0 = [word for word, _ in ns["new_neighbours"] if word.endswith("_0") or word.startswith("c0m")]
    assert len(column_0) >= 4, ns["new_neighbours"]
    assert ns["loss"] > 0
    assert model.wv.words == model.vocab.words and model.corpus_count == 3000
