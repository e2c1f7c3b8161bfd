"""gensim 4's KeyedVectors API on ours. Every case of gensim_reference.py must give
gensim's answer: computed by gensim where it is installed, else the answer recorded
from it (gensim_expected.json; CI has no gensim). Then what the recorded cases cannot
show: both forms of evaluate_word_pairs' result, p-values against scipy, where we
deliberately differ (zero vectors, restrict_vocab in most_similar_cosmul)."""
from __future__ import annotations

import json
import logging
import pickle
import warnings

import numpy as np
import pytest

from gensim_reference import (CASES, EXPECTED_PATH, answer, assert_same, gensim_keyed_vectors, record, table,
                              write_eval_files)
from w2v_ext import KeyedVectors
from w2v_ext.vectors import Correlation, UnknownWordError, WordPairsResult

try:
    import gensim  # noqa: F401
    HAVE_GENSIM = True
except ImportError:
    HAVE_GENSIM = False

pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated:DeprecationWarning")   # gensim's own calls


@pytest.fixture(scope="module")
def eval_files(tmp_path_factory):
    return write_eval_files(str(tmp_path_factory.mktemp("gensim_eval")))


@pytest.fixture(scope="module")
def ours():
    return KeyedVectors(*table())


@pytest.fixture(scope="module")
def recorded():
    with open(EXPECTED_PATH) as f:
        return json.load(f)["answers"]


@pytest.fixture(scope="module")
def gensims_answer(eval_files, recorded):
    """name, call -> gensim's answer: live when gensim is installed, else the recorded one."""
    if not HAVE_GENSIM:
        return lambda name, call: recorded[name]
    logging.getLogger("gensim").setLevel(logging.ERROR)   # it logs each unknown word
    kv = gensim_keyed_vectors()
    return lambda name, call: answer(call, kv, eval_files)


@pytest.mark.parametrize("name, call", CASES, ids=[name for name, _ in CASES])
def test_same_answer_as_gensim(name, call, ours, eval_files, gensims_answer):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # doesnt_match's warning about unknown words
        got = answer(call, ours, eval_files)
    assert_same(got, gensims_answer(name, call), name)


def test_recorded_answers_cover_every_case(recorded):
    assert set(recorded) == {name for name, _ in CASES}


@pytest.mark.skipif(not HAVE_GENSIM, reason="gensim not installed")
def test_recorded_answers_are_gensims(recorded):
    logging.getLogger("gensim").setLevel(logging.ERROR)
    assert_same(record(), recorded, "recorded")


def test_case_answers_are_not_trivial(recorded):
    """The planted table makes the evaluations mix right and wrong answers, and the
    second spelling 'Paris' is met."""
    score, sections = recorded["evaluate_word_analogies"]
    assert 0.5 < score < 1 and len(sections) == 3 and sections[-1]["section"] == "Total accuracy"
    assert ["FRANCE", "PARIS", "FRANCE", "PARIS"] in sections[0]["incorrect"]   # 'Paris' shown, skipped
    assert recorded["evaluate_word_pairs"][2] > 0 and recorded["lookups"][4] is False


# ---------------------------------------------------------------------------------- lookups

def test_keys_ints_and_views():
    kv = KeyedVectors(["a", "b", "c"], np.arange(6.0).reshape(3, 2), counts=[5, 3, 1])
    assert kv.key_to_index == {"a": 0, "b": 1, "c": 2} and kv.index_to_key is kv.words
    assert kv.get_index(2) == 2 and 2 in kv and 3 not in kv and -1 not in kv and np.zeros(2) not in kv
    view = kv.get_vector("b")
    assert np.shares_memory(view, kv.vectors) and not view.flags.writeable and kv.vectors.flags.writeable
    assert np.array_equal(kv.get_vector("b", norm=True), kv.get_normed_vectors()[1])
    with pytest.raises(UnknownWordError, match="'d' not in vocabulary"):
        kv.get_vector("d")
    assert isinstance(UnknownWordError("d", kv), KeyError)
    assert kv.get_vecattr("c", "count") == 1
    with pytest.raises(KeyError, match="'sample_int' not present"):
        kv.get_vecattr("c", "sample_int")
    with pytest.raises(KeyError, match="no counts"):
        KeyedVectors(["a"], [[1.0]]).get_vecattr("a", "count")


def test_zero_vectors_score_zero_where_gensim_gives_nan():
    kv = KeyedVectors(["zero", "x", "y"], [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
    assert kv.similarity("zero", "x") == 0.0
    assert kv.most_similar("x") == [("y", pytest.approx(0.5 ** 0.5)), ("zero", 0.0)]
    np.testing.assert_allclose(kv.distances("zero"), [1.0, 1.0, 1.0])
    assert kv.get_vector("zero", norm=True).tolist() == [0.0, 0.0]
    assert kv.norms.tolist() == [0.0, 1.0, pytest.approx(2 ** 0.5)]
    assert kv.most_similar_cosmul("x", topn=None)[0] == pytest.approx(0.5 / (1 + 1e-6))


# ---------------------------------------------------------------------------------- queries

def test_most_similar_cosmul_honours_restrict_vocab(ours):
    """gensim 4.4 ignores restrict_vocab here and scores every row."""
    full = ours.most_similar_cosmul("cat", topn=None)
    restricted = ours.most_similar_cosmul("cat", topn=None, restrict_vocab=10)
    np.testing.assert_allclose(restricted, full[:10], rtol=1e-6)
    assert {w for w, _ in ours.most_similar_cosmul("cat", topn=50, restrict_vocab=10)} <= set(ours.words[:10])


def test_query_argument_errors(ours):
    with pytest.raises(ValueError, match="topn must be an int or None"):
        ours.most_similar("cat", topn=2.5)
    with pytest.raises(ValueError, match="restrict_vocab must be positive"):
        ours.most_similar("cat", restrict_vocab=-3)
    with pytest.raises(ValueError, match=r"query vectors must have shape \(16,\)"):
        ours.most_similar_cosmul(np.ones(3))
    with pytest.raises(ValueError, match="one value per key"):
        ours.get_mean_vector(["cat", "dog"], weights=[1.0])
    with pytest.raises(ValueError, match="at least one key"):
        ours.get_mean_vector([])
    with pytest.raises(UnknownWordError, match="'nope'"):
        ours.get_mean_vector(["cat", "nope"], ignore_missing=False)


def test_doesnt_match_warns_about_unknown_words(ours):
    with pytest.warns(UserWarning, match="'unknownword'"):
        assert ours.doesnt_match(["cat", "dog", "unknownword", "paris"]) == "paris"


def test_rank_and_closer_than_agree(ours):
    for a, b in (("paris", "france"), ("cat", "w7"), ("w3", "w3")):
        closer = ours.closer_than(a, b)
        assert ours.rank(a, b) == len(closer) + 1 and a not in closer
        d = ours.distances(a)
        assert all(d[ours.get_index(w)] < d[ours.get_index(b)] for w in closer)


# ---------------------------------------------------------------------------------- evaluations

def test_evaluate_word_pairs_reads_both_ways(ours, eval_files):
    result = ours.evaluate_word_pairs(eval_files["pairs"])
    pearson, spearman, oov_ratio = result                          # gensim's form
    assert isinstance(result, WordPairsResult) and isinstance(spearman, Correlation)
    assert spearman[0] == spearman.statistic == spearman.correlation == result["spearman"]
    assert pearson.statistic == result["pearson"]
    assert (result["pairs"], result["total"], result["oov"]) == (42, 43, 1)   # our report
    assert oov_ratio == pytest.approx(100 / 43) and result.report["pairs"] == 42
    assert pickle.loads(pickle.dumps(result)) == result and pickle.loads(pickle.dumps(result))["oov"] == 1
    assert "spearman=" in repr(result)


def test_word_pair_p_values_match_scipy(ours, tmp_path):
    stats = pytest.importorskip("scipy.stats")
    words = ours.words
    pairs = [(words[(k * 7) % 40], words[(k * 11 + 3) % 40], float((k * 37) % 11)) for k in range(30)]
    (tmp_path / "pairs.tsv").write_text("".join(f"{a}\t{b}\t{score}\n" for a, b, score in pairs))
    gold, model = [score for *_, score in pairs], [ours.similarity(a, b) for a, b, _ in pairs]
    pearson, spearman, _ = ours.evaluate_word_pairs(tmp_path / "pairs.tsv")
    p, s = stats.pearsonr(gold, model), stats.spearmanr(gold, model)
    assert pearson.statistic == pytest.approx(p.statistic, abs=1e-12)
    assert pearson.pvalue == pytest.approx(p.pvalue, rel=1e-9)
    assert spearman.statistic == pytest.approx(s.statistic, abs=1e-12)
    assert spearman.pvalue == pytest.approx(s.pvalue, rel=1e-9)


def test_word_pairs_without_scipy_have_nan_p_values(ours, eval_files, monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "scipy.special", None)
    monkeypatch.setitem(sys.modules, "scipy", None)
    pearson, spearman, _ = ours.evaluate_word_pairs(eval_files["pairs"])
    assert np.isnan(pearson.pvalue) and np.isnan(spearman.pvalue) and not np.isnan(spearman.statistic)


def test_word_pairs_delimiter_and_no_pairs(ours, tmp_path):
    (tmp_path / "spaces.txt").write_text("cat dog 3\ncar trees 1.5\ncats dogs 4\n")
    spaced = ours.evaluate_word_pairs(tmp_path / "spaces.txt", delimiter=None)
    assert spaced["pairs"] == 3 and not np.isnan(spaced["spearman"])
    (tmp_path / "unknown.txt").write_text("nope\tzilch\t3\n")
    result = ours.evaluate_word_pairs(tmp_path / "unknown.txt")   # gensim raises ValueError here
    assert result["pairs"] == 0 and np.isnan(result[1].statistic) and result[2] == 100.0


def test_evaluate_word_analogies_refuses_other_similarity_functions(ours, eval_files, tmp_path):
    with pytest.raises(ValueError, match="similarity_function.*method='3cosmul'"):
        ours.evaluate_word_analogies(eval_files["analogies"], similarity_function="most_similar_cosmul")
    (tmp_path / "headless.txt").write_text("\nparis france rome italy\n")
    with pytest.raises(ValueError, match=r"headless.txt: line 2: a question before the first ': section'"):
        ours.evaluate_word_analogies(tmp_path / "headless.txt")
    (tmp_path / "empty.txt").write_text("")
    assert ours.evaluate_word_analogies(tmp_path / "empty.txt") == (0.0, [
        {"section": "Total accuracy", "correct": [], "incorrect": []}])
