"""gensim 4's Word2Vec tutorial ("Word2Vec Model", run_word2vec.py) and the Word2Vec
docs' usage, run with only their imports changed: a corpus class streaming token lists
from a file, Word2Vec(sentences=...) with gensim's arguments, model.wv queries
(most_similar with positive/negative, doesnt_match, similarity), evaluate_word_analogies
and evaluate_word_pairs on small files, save / load, training more, online training
(build_vocab(update=True)), the training loss and a CallbackAny2Vec callback.

gensim's tutorial reads lee_background.cor and gensim's questions-words.txt /
wordsim353.tsv through gensim.test.utils.datapath; here the test writes small files of
its own (no gensim, no data outside tests/). The corpus plants a grid: word w{i}_{j}
occurs beside markers of row i and of column j, so its vector is a row part plus a
column part; analogies w_ij : w_ik :: w_lj : w_lk hold, and words sharing a row or a
column are similar.
"""
from __future__ import annotations

import itertools
import tempfile
import warnings

import numpy as np
import pytest

GRID = 6

TUTORIAL = '''
import tempfile

from w2v_ext import Word2Vec                        # gensim: from gensim.models import Word2Vec
from w2v_ext.callbacks import CallbackAny2Vec       # gensim: from gensim.models.callbacks import CallbackAny2Vec


class MyCorpus:
    """An iterator that yields sentences (lists of str)."""

    def __iter__(self):
        for line in open(corpus_path):
            # assume there's one document per line, tokens separated by whitespace
            yield line.lower().split()


class EpochLogger(CallbackAny2Vec):
    """Callback to log information about training."""

    def __init__(self):
        self.epoch = 0
        self.losses = []

    def on_epoch_begin(self, model):
        self.epoch += 1

    def on_epoch_end(self, model):
        self.losses.append(model.get_latest_training_loss())


# the Word2Vec docs: a list of token lists
logger = EpochLogger()
model = Word2Vec(sentences=token_lists, vector_size=32, window=5, min_count=1, workers=1, sg=1, epochs=5, seed=1,
                 compute_loss=True, callbacks=[logger])

# the tutorial: a corpus streamed from a file; or build_vocab, then train
sentences = MyCorpus()
streamed = Word2Vec(sentences=sentences, vector_size=32, min_count=1, workers=1, sg=1, seed=1)
two_steps = Word2Vec(vector_size=32, min_count=1, workers=1, sg=1, seed=1)
two_steps.build_vocab(sentences)
two_steps.train(sentences, total_examples=two_steps.corpus_count, epochs=two_steps.epochs)

vec_w0_0 = model.wv["w0_0"]
first_words = []
for index, word in enumerate(model.wv.index_to_key):
    if index == 10:
        break
    first_words.append(f"word #{index}/{len(model.wv.index_to_key)} is {word}")

answer = model.wv.most_similar(positive=["w2_3", "w1_0"], negative=["w1_3"], topn=1)
neighbours = model.wv.most_similar(positive=["w0_0"], topn=5)
odd_one = model.wv.doesnt_match(["w0_0", "w0_1", "w0_2", "w0_3", "w5_5"])
row_similarity = model.wv.similarity("w0_0", "w0_1")
other_similarity = model.wv.similarity("w0_0", "w3_4")

with tempfile.NamedTemporaryFile(prefix="gensim-model-", delete=False) as tmp:
    temporary_filepath = tmp.name
    model.save(temporary_filepath)
    new_model = Word2Vec.load(temporary_filepath)

score, sections = model.wv.evaluate_word_analogies(questions_path)
pearson, spearman, oov_ratio = model.wv.evaluate_word_pairs(pairs_path)

# the Word2Vec docs: train more, and on a sentence it does not know
new_model.train(sentences, total_examples=new_model.corpus_count, epochs=new_model.epochs)
new_model.train([["hello", "world"]], total_examples=1, epochs=1)

# online training: a new row of the grid
model.build_vocab(new_sentences, update=True)
model.train(new_sentences, total_examples=model.corpus_count, epochs=model.epochs)
new_neighbours = model.wv.most_similar("w6_0", topn=5)
training_loss = model.get_latest_training_loss()
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


def test_a_gensim_tutorial_runs_with_only_its_imports_changed(files, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))   # the tutorial's temporary file goes there
    rng = np.random.default_rng(1)
    corpus_path = tmp_path / "grid.cor"
    token_lists = grid_sentences(rng, range(GRID), 6000)
    corpus_path.write_text("".join(" ".join(sentence) + "\n" for sentence in token_lists))
    namespace = {"token_lists": token_lists, "corpus_path": str(corpus_path),
                 "new_sentences": grid_sentences(rng, [0, 6], 3000),
                 "pairs_path": str(files / "pairs.tsv"), "questions_path": str(files / "questions.txt")}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(compile(TUTORIAL, "gensim_tutorial.py", "exec"), namespace)
    ns = namespace
    # train([["hello", "world"]], total_examples=1): gensim trains nothing there either
    # (gensim's MyCorpus leaves its files to the garbage collector: ResourceWarnings)
    assert [str(w.message).split(":")[0] for w in caught if w.category is not ResourceWarning] == [
        "train(total_examples=1)", "corpus Corpus('list', tokenizer='whitespace') holds no word of the vocabulary"]
    model, new_model = ns["model"], ns["new_model"]
    assert model.settings.model == "sg" and model.settings.dim == 32 and model.epochs == 5
    # the model keeps its callbacks, as gensim's: 5 epochs, then 5 of online training
    losses = ns["logger"].losses
    assert ns["logger"].epoch == 10 and len(losses) == 10
    assert all(b > a > 0 for a, b in zip(losses[:5], losses[1:5]))   # summed over each train() call
    assert losses[9] == ns["training_loss"] and 0 < losses[5] < losses[9]
    assert ns["vec_w0_0"].shape == (32,) and len(ns["first_words"]) == 10
    assert ns["answer"][0][0] == "w2_0"                      # w2_3 - w1_3 + w1_0
    assert len(ns["neighbours"]) == 5 and all(isinstance(w, str) and -1 <= s <= 1 for w, s in ns["neighbours"])
    assert ns["odd_one"] == "w5_5"
    assert ns["row_similarity"] > ns["other_similarity"] + 0.05
    # gensim's shapes: (score, sections + "Total accuracy"), ((r, p), (rho, p), oov %)
    sections = ns["sections"]
    assert [s["section"] for s in sections] == ["grid", "Total accuracy"]
    total = sections[-1]
    assert ns["score"] == len(total["correct"]) / (len(total["correct"]) + len(total["incorrect"])) >= 0.9
    assert ns["spearman"][0] > 0.7 and ns["pearson"][0] > 0.5 and ns["oov_ratio"] == 0.0
    back = type(model).load(ns["temporary_filepath"], progress=False)   # as saved: before new_model trained
    assert back.wv.index_to_key == new_model.wv.index_to_key and len(back.history) == 5
    # the same corpus streamed from its file, or counted then trained, trains the same vectors
    for other in (ns["streamed"], ns["two_steps"]):
        assert other.wv.index_to_key == back.wv.index_to_key and other.corpus_count == back.corpus_count == 6000
        assert np.array_equal(other.wv.vectors, back.wv.vectors)
    # the loaded model trained on: 5 epochs more, then 1 over a sentence it does not know
    assert [h["words"] > 0 for h in new_model.history] == [True] * 10 + [False]
    # the new row learnt its columns: w6_0's neighbours are column 0's words and markers
    assert model.vocab.words[-1].startswith("w6_") and "r6m0" in model.vocab.words
    column_0 = [word for word, _ in ns["new_neighbours"] if word.endswith("_0") or word.startswith("c0m")]
    assert len(column_0) >= 4, ns["new_neighbours"]
    assert ns["training_loss"] > 0
    assert model.wv.index_to_key == model.vocab.words and model.corpus_count == 3000
