"""KeyedVectors: lookups, similarity queries on planted vectors, analogy and word-pair evaluation."""
import json
import os
import subprocess
import sys
import types

import numpy as np
import pytest

from w2v_ext.vectors import KeyedVectors, UnknownWordError, pearson, spearman

EVALUATE_PY = "/work/shared/bench/evaluate.py"
EVAL_DATA = "/work/shared/data/eval"


def planted():
    """king - man + woman = queen exactly (all vectors have norm sqrt(2)), plus distractors."""
    e = np.eye(8, dtype=np.float32)
    royal, male, female, person, x, y, z, w = e
    words = ["the", "king", "queen", "man", "woman", "apple", "pear", "plum"]
    vectors = np.stack([x + y, royal + male, royal + female, male + person, female + person,
                        x - y, z + w, z - w])
    return KeyedVectors(words, vectors, counts=np.arange(8, 0, -1) * 10)


# ------------------------------------------------------------------------------------ basics

def test_basics_and_unknown_words():
    kv = planted()
    assert len(kv) == 8 and kv.dim == 8 and "king" in kv and "kong" not in kv and np.zeros(3) not in kv
    assert kv.index("queen") == 2 and kv.words[2] == "queen" and kv.counts[0] == 80
    v = kv["king"]
    v[:] = 0   # a copy
    assert kv.vectors[1].any() and kv["king"].dtype == np.float32
    assert kv[["man", "woman"]].shape == (2, 8)
    np.testing.assert_allclose(np.linalg.norm(kv.unit_vectors, axis=1), 1, rtol=1e-6)
    with pytest.raises(KeyError, match="'kingg' not in vocabulary .*close words: king"):
        kv["kingg"]
    with pytest.raises(UnknownWordError):
        kv.most_similar("quen")
    assert kv.closest_words("wman") == ["woman", "man"]
    assert kv.similarity("king", "queen") == pytest.approx(0.5)
    assert repr(kv) == "KeyedVectors(8 words, dim=8)"


def test_duplicates_zero_vectors_and_validation():
    kv = KeyedVectors(["a", "b", "a"], [[1, 0], [0, 0], [0, 1]])
    assert kv.index("a") == 0 and np.array_equal(kv.unit_vectors[1], [0, 0])
    with pytest.raises(ValueError, match="shape"):
        KeyedVectors(["a"], np.zeros((2, 3)))
    with pytest.raises(ValueError, match="counts"):
        KeyedVectors(["a"], np.zeros((1, 3)), counts=[1, 2])


# ------------------------------------------------------------------------------------ the cache

def test_vectors_are_shared_not_copied():
    table = np.zeros((8, 12), dtype=np.float32)   # a model's padded table: rows strided
    table[:, :8] = planted().vectors
    index = {w: i for i, w in enumerate(planted().words)}
    kv = KeyedVectors(planted().words, table[:, :8], key_to_index=index)
    assert np.shares_memory(kv.vectors, table) and kv.key_to_index is index
    assert kv.most_similar(positive=["king", "woman"], negative=["man"], topn=1)[0][0] == "queen"
    assert kv.analogy("man", "king", "woman")[0][0] == "queen"


def test_reset_cache_after_changing_vectors_in_place():
    kv = planted()
    assert kv.most_similar("apple", topn=1)[0][0] != "plum"
    unit, norms = kv.unit_vectors, kv.norms
    assert kv.unit_vectors is unit and not unit.flags.writeable and not norms.flags.writeable
    kv.vectors[kv.index("plum")] = 3 * kv.vectors[kv.index("apple")]   # in place: the cache is now stale
    kv.reset_cache()
    assert kv.most_similar("apple", topn=1) == [("plum", pytest.approx(1.0))]
    assert kv.norms[kv.index("plum")] == pytest.approx(3 * 2 ** 0.5) and kv.unit_vectors is not unit
    kv.vectors[kv.index("pear")] = kv.vectors[kv.index("apple")]
    kv.fill_norms(force=True)   # gensim's way
    assert {w for w, _ in kv.most_similar("apple", topn=2)} == {"pear", "plum"}


def test_assigning_vectors_or_forgetting_norms_resets_the_cache():
    kv = planted()
    kv.norms   # cached
    kv.vectors = -kv.vectors.astype(np.float64)
    assert kv.vectors.dtype == np.float32 and kv.most_similar("king", topn=1)[0][1] == pytest.approx(0.5)
    kv.vectors[0] *= 2
    kv.norms = None
    assert kv.norms[0] == pytest.approx(2 * 2 ** 0.5)
    with pytest.raises(ValueError, match="norms can only be set to None"):
        kv.norms = np.ones(8)
    with pytest.raises(ValueError, match=r"vectors must be \[len\(words\)=8, d\]"):
        kv.vectors = np.zeros((7, 8))


def test_init_sims_replace_normalises_in_place_as_gensim(tmp_path):
    kv = KeyedVectors(["a", "b", "zero"], np.array([[3, 4], [0, -2], [0, 0]], dtype=np.float32))
    table = kv.vectors
    with pytest.warns(DeprecationWarning, match="fill_norms"):
        kv.init_sims()
    np.testing.assert_array_equal(kv.vectors, [[3, 4], [0, -2], [0, 0]])   # without replace: only norms
    with pytest.warns(DeprecationWarning):
        kv.init_sims(replace=True)
    assert kv.vectors is table
    np.testing.assert_allclose(kv.vectors, [[0.6, 0.8], [0, -1], [0, 0]], rtol=1e-6)
    np.testing.assert_allclose(kv.norms, [1, 1, 0], rtol=1e-6)
    assert kv.similarity("a", "b") == pytest.approx(-0.8)
    kv.save(str(tmp_path / "kv"))
    mapped = KeyedVectors.load(str(tmp_path / "kv"), mmap="r")
    with pytest.raises(ValueError, match="read-only .*get_normed_vectors"):
        mapped.unit_normalize_all()


# ------------------------------------------------------------------------------------ queries

def test_planted_analogy_3cosadd_and_3cosmul():
    kv = planted()
    (word, score), = kv.analogy("man", "king", "woman")
    assert word == "queen" and score == pytest.approx(1.0, abs=1e-6)
    best = kv.analogy("man", "king", "woman", method="3cosmul", topn=2)
    # cos(queen, king) = cos(queen, woman) = 1/2 -> 3/4; cos(queen, man) = 0 -> 1/2
    assert best[0][0] == "queen" and best[0][1] == pytest.approx(0.75 * 0.75 / (0.5 + 1e-3), rel=1e-6)
    assert best[1][1] == pytest.approx(0.5 * 0.5 / (0.5 + 1e-3), rel=1e-6)   # orthogonal distractor
    with pytest.raises(ValueError, match="method"):
        kv.analogy("man", "king", "woman", method="cos")


def test_most_similar_semantics():
    kv = planted()
    top = kv.most_similar(positive=["king", "woman"], negative=["man"], topn=3)
    assert top[0][0] == "queen" and top[0][1] == pytest.approx(1.0, abs=1e-6)
    assert not {"king", "woman", "man"} & {w for w, _ in kv.most_similar(["king", "woman"], ["man"], topn=100)}
    assert len(kv.most_similar(["king", "woman"], ["man"], topn=100)) == 5
    assert kv.most_similar("king", topn=1)[0][0] in {"queen", "man"}   # both at cosine 1/2
    assert kv.most_similar("king", topn=2) == [("queen", pytest.approx(0.5)), ("man", pytest.approx(0.5))]
    # a vector is used as given and not excluded
    assert kv.most_similar(kv["queen"], topn=1) == [("queen", pytest.approx(1.0))]
    assert kv.most_similar([kv["king"], kv["woman"]], [kv["man"]], topn=1)[0][0] == "queen"
    # restrict_vocab: only the first rows are candidates
    assert [w for w, _ in kv.most_similar("queen", topn=10, restrict_vocab=4)] == ["king", "the", "man"]
    assert kv.analogy("man", "king", "woman", restrict_vocab=2)[0][0] == "the"
    assert kv.most_similar("king", topn=0) == []
    with pytest.raises(ValueError, match="at least one"):
        kv.most_similar([])
    with pytest.raises(ValueError, match="shape"):
        kv.most_similar(np.zeros(3))


def test_analogy_matches_brute_force_reference():
    rng = np.random.default_rng(1)
    words = [f"w{i}" for i in range(60)]
    kv = KeyedVectors(words, rng.standard_normal((60, 12)))
    u = kv.vectors.astype(np.float64)
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    for a, b, c in rng.integers(0, 60, size=(10, 3)):
        if len({a, b, c}) < 3:
            continue
        target = u[b] - u[a] + u[c]
        target /= np.linalg.norm(target)
        cos = lambda i, j: float(u[i] @ u[j])
        ref = {"3cosadd": {x: float(u[x] @ target) for x in range(60)},
               "3cosmul": {x: (cos(x, b) + 1) / 2 * (cos(x, c) + 1) / 2 / ((cos(x, a) + 1) / 2 + 1e-3)
                           for x in range(60)}}
        for method, scores in ref.items():
            expect = sorted((x for x in scores if x not in (a, b, c)), key=lambda x: -scores[x])[:5]
            got = kv.analogy(words[a], words[b], words[c], topn=5, method=method)
            assert [w for w, _ in got] == [words[x] for x in expect]
            np.testing.assert_allclose([s for _, s in got], [scores[x] for x in expect], rtol=1e-5)


# ------------------------------------------------------------------------------------ analogies

def capitals_and_plurals():
    """Planted relations: capital_i = c_i + R, country_i = c_i + S, sing_j = n_j + SG, plural_j = n_j + PL
    (orthonormal directions, so b - a + c is exactly the answer). tokyo/japan are the last rows."""
    caps = ["paris", "berlin", "rome", "madrid", "tokyo"]
    countries = ["france", "germany", "italy", "spain", "japan"]
    nouns = ["cat", "dog", "car", "tree"]
    e = np.eye(5 + 2 + 4 + 2 + 2, dtype=np.float32)
    R, S, SG, PL = e[5], e[6], e[11], e[12]
    rows = {}
    for i in range(4):
        rows[caps[i]], rows[countries[i]] = e[i] + R, e[i] + S
    for j, n in enumerate(nouns):
        rows[n], rows[n + "s"] = e[7 + j] + SG, e[7 + j] + PL
    rows["apple"], rows["pear"] = e[13] + e[14], e[13] - e[14]
    rows["tokyo"], rows["japan"] = e[4] + R, e[4] + S
    return KeyedVectors(list(rows), np.stack(list(rows.values()))), caps, countries, nouns


def write_questions(path, caps, countries, nouns):
    lines = [": capital-common-countries"]
    for i in range(4):
        for j in range(4):
            if i != j:   # Title case: matched case-insensitively
                lines.append(f"{caps[i].title()} {countries[i].title()} {caps[j].title()} {countries[j].title()}")
    lines += ["Paris France Berlin Italy", "paris france rome germany",     # wrong expected answers
              "paris france atlantis atlantica",                           # out of vocabulary
              "paris france tokyo japan",                                  # outside restrict_vocab
              ": gram-plural"]
    for i in range(4):
        for j in range(4):
            if i != j:
                lines.append(f"{nouns[i]} {nouns[i]}s {nouns[j]} {nouns[j]}s")
    lines += ["cat cats dog trees", "cat cats dog", ""]                   # wrong; malformed (ignored)
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("method", ["3cosadd", "3cosmul"])
def test_evaluate_analogies_known_accuracy(tmp_path, method):
    kv, caps, countries, nouns = capitals_and_plurals()
    write_questions(tmp_path / "q.txt", caps, countries, nouns)
    res = kv.evaluate_analogies(tmp_path / "q.txt", restrict_vocab=len(kv) - 2, method=method)
    assert res["sections"] == {
        "capital-common-countries": {"correct": 12, "questions": 14, "total": 16, "accuracy": 12 / 14},
        "gram-plural": {"correct": 12, "questions": 13, "total": 13, "accuracy": 12 / 13}}
    assert (res["correct"], res["questions"], res["total"], res["skipped"]) == (24, 27, 29, 2)
    assert res["accuracy"] == 24 / 27
    res = kv.evaluate_analogies(tmp_path / "q.txt", restrict_vocab=None, method=method)
    assert (res["correct"], res["questions"]) == (25, 28)
    res = kv.evaluate_analogies(tmp_path / "q.txt", case_insensitive=False, method=method)
    assert (res["correct"], res["questions"], res["total"]) == (13, 15, 29)   # only the lower-case lines
    (tmp_path / "empty.txt").write_text(": section\n")
    assert kv.evaluate_analogies(tmp_path / "empty.txt")["accuracy"] == 0.0


def test_evaluate_analogies_excludes_other_spellings_of_the_question_words(tmp_path):
    kv = planted()
    # "KING" (a later row, so "king" maps to row 1) sits exactly on the answer
    kv = KeyedVectors(kv.words[:2] + ["KING"] + kv.words[2:], np.insert(kv.vectors, 2, kv.vectors[2], axis=0))
    (tmp_path / "q.txt").write_text(": royals\nman king woman queen\n")
    assert kv.evaluate_analogies(tmp_path / "q.txt")["correct"] == 1
    assert kv.evaluate_analogies(tmp_path / "q.txt", case_insensitive=False)["correct"] == 0   # KING wins the tie


# ------------------------------------------------------------------------------------ word pairs

def test_spearman_and_pearson_match_scipy():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    for n in (2, 3, 10, 200):
        x, y = rng.integers(0, 5, n).astype(float), rng.standard_normal(n).round(1)   # many ties
        if np.ptp(x) == 0 or np.ptp(y) == 0:
            continue
        assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).correlation, abs=1e-12)
        assert pearson(x, y) == pytest.approx(stats.pearsonr(x, y)[0], abs=1e-12)
    assert np.isnan(spearman([1, 2, 3], [1, 1, 1])) and np.isnan(spearman([1], [2]))
    assert np.isnan(spearman([1, np.nan, 3], [1, 2, 3]))


def write_pairs(path, words, rng, header=False, n=60):
    lines = ["# generated pairs", "# Word 1\tWord 2\tHuman (mean)"]
    if header:
        lines.append("word1\tword2\tSimLex999")
    for _ in range(n):
        a, b = rng.choice(words, 2)
        lines.append(f"{a.upper() if rng.random() < 0.2 else a}\t{b}\t{rng.integers(0, 4)}.00")
    lines += ["tiger\tunknownword\t5.0", "", "# trailing comment"]
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("score", ["nan", "inf", "-inf"])
def test_word_pairs_with_a_non_finite_score_are_refused(tmp_path, score):
    path = tmp_path / "pairs.txt"
    path.write_text(f"king\tqueen\t3\nman\twoman\t{score}\napple\tpear\t1\n")
    with pytest.raises(ValueError, match=rf"pairs.txt: line 2: the score must be a finite number, got '{score}'"):
        planted().evaluate_word_pairs(str(path))


def test_evaluate_word_pairs_matches_scipy_with_ties(tmp_path):
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in range(15)]
    base = rng.standard_normal((5, 6))
    kv = KeyedVectors(words, base[np.arange(15) % 5])   # repeated vectors: tied cosines
    write_pairs(tmp_path / "pairs.txt", words, rng, header=True)
    res = kv.evaluate_word_pairs(tmp_path / "pairs.txt")
    gold, pred = [], []
    for line in (tmp_path / "pairs.txt").read_text().splitlines()[3:-3]:
        a, b, s = line.split("\t")
        gold.append(float(s))
        pred.append(kv.similarity(a.lower(), b))
    assert (res["pairs"], res["total"], res["oov"]) == (60, 61, 1)
    assert res["spearman"] == pytest.approx(stats.spearmanr(gold, pred).correlation, abs=1e-12)
    assert res["pearson"] == pytest.approx(stats.pearsonr(gold, pred)[0], abs=1e-12)
    assert kv.evaluate_word_pairs(tmp_path / "pairs.txt", case_insensitive=False)["pairs"] < 60
    assert kv.evaluate_word_pairs(tmp_path / "pairs.txt", restrict_vocab=5)["oov"] > 1
    (tmp_path / "bad.txt").write_text("w1\tw2\t1.0\nw1\tw2\tlots\n")
    with pytest.raises(ValueError, match="line 2"):
        kv.evaluate_word_pairs(tmp_path / "bad.txt")


# ------------------------------------------------------------------------------------ cross-checks

@pytest.mark.skipif(not os.path.exists(EVALUATE_PY), reason="shared bench/evaluate.py not present")
def test_matches_shared_evaluate_py(tmp_path):
    pytest.importorskip("scipy")
    rng = np.random.default_rng(7)
    n_rel, dim = 20, 40
    concepts = rng.standard_normal((n_rel, dim))
    R, S = rng.standard_normal((2, dim))
    caps, countries = [f"cap{i}" for i in range(n_rel)], [f"land{i}" for i in range(n_rel)]
    fillers = [f"filler{i}" for i in range(200)]
    words = caps + countries + fillers
    vecs = np.concatenate([concepts + R, concepts + S, rng.standard_normal((200, dim))])
    vecs[:2 * n_rel] += 0.6 * rng.standard_normal((2 * n_rel, dim))   # noise: some answers wrong
    order = rng.permutation(len(words))
    kv = KeyedVectors([words[i] for i in order], vecs[order])
    kv.save_word2vec_format(tmp_path / "vecs.bin", binary=True)

    data = tmp_path / "eval"
    data.mkdir()
    lines = [": capitals"] + [f"{caps[i]} {countries[i]} {caps[j]} {countries[j]}"
                              for i in range(n_rel) for j in range(n_rel) if i != j]
    lines += [": random"] + [" ".join(rng.choice(fillers, 4)) for _ in range(300)]
    (data / "questions-words.txt").write_text("\n".join(lines) + "\n")
    write_pairs(data / "wordsim353.tsv", words, rng, n=200)
    write_pairs(data / "simlex999.txt", words, rng, n=200)

    restrict = 150
    out = subprocess.run([sys.executable, EVALUATE_PY, str(tmp_path / "vecs.bin"), "--data", str(data),
                          "--restrict", str(restrict)], check=True, capture_output=True, text=True)
    ref = json.loads(out.stdout)
    loaded = KeyedVectors.load_word2vec_format(tmp_path / "vecs.bin")
    res = loaded.evaluate_analogies(data / "questions-words.txt", restrict_vocab=restrict)
    assert 0 < res["correct"] < res["questions"] < res["total"]
    assert (round(res["accuracy"], 4), res["questions"], res["total"]) == \
           (ref["analogy"]["accuracy"], ref["analogy"]["questions"], ref["analogy"]["total"])
    for name, key in (("wordsim353.tsv", "ws353"), ("simlex999.txt", "simlex")):
        pairs = loaded.evaluate_word_pairs(data / name)
        assert (round(pairs["spearman"], 4), pairs["pairs"], pairs["total"]) == \
               (ref[key]["spearman"], ref[key]["pairs"], ref[key]["total"])


@pytest.mark.skipif(not os.path.isdir(EVAL_DATA), reason="shared evaluation data not present")
def test_parses_the_shared_evaluation_files():
    words = set()
    for name in ("wordsim353.tsv", "simlex999.txt"):
        with open(os.path.join(EVAL_DATA, name), encoding="utf-8") as f:
            for line in f:
                if not line.startswith("#") and line.strip():
                    words.update(w.lower() for w in line.split("\t")[:2])
    words = sorted(words)
    kv = KeyedVectors(words, np.random.default_rng(0).standard_normal((len(words), 10)))
    for name, total in (("wordsim353.tsv", 353), ("simlex999.txt", 999)):
        res = kv.evaluate_word_pairs(os.path.join(EVAL_DATA, name))
        assert res["total"] == res["pairs"] == total and res["oov"] == 0 and abs(res["spearman"]) < 0.2
    res = kv.evaluate_analogies(os.path.join(EVAL_DATA, "questions-words.txt"))
    assert res["total"] == 19544 and len(res["sections"]) == 14


# ------------------------------------------------------------------------------------ I/O and interop

@pytest.mark.parametrize("binary", [True, False])
def test_save_load_round_trip(tmp_path, binary):
    kv = planted()
    kv.save_word2vec_format(tmp_path / "kv", binary=binary)
    back = KeyedVectors.load_word2vec_format(tmp_path / "kv", limit=5)
    assert back.words == kv.words[:5] and np.array_equal(back.vectors, kv.vectors[:5]) and back.counts is None


def test_save_word2vec_format_defaults_to_text_as_gensim(tmp_path):
    kv = planted()
    kv.save_word2vec_format(tmp_path / "kv.txt")
    lines = (tmp_path / "kv.txt").read_text().splitlines()
    assert lines[0] == "8 8" and lines[1] == "the 0 0 0 0 1 1 0 0"
    kv.save_word2vec_format(tmp_path / "glove.txt", write_header=False)
    assert (tmp_path / "glove.txt").read_text().splitlines() == lines[1:]
    back = KeyedVectors.load_word2vec_format(tmp_path / "glove.txt", no_header=True, limit=3)
    assert back.words == kv.words[:3] and np.array_equal(back.vectors, kv.vectors[:3])


def test_load_word2vec_format_unicode_errors(tmp_path):
    (tmp_path / "v.txt").write_bytes(b"2 2\nk\xc3nig 1 2\nok 3 4\n")
    with pytest.raises(UnicodeDecodeError, match="not UTF-8"):
        KeyedVectors.load_word2vec_format(tmp_path / "v.txt", unicode_errors="strict")
    assert KeyedVectors.load_word2vec_format(tmp_path / "v.txt", unicode_errors="ignore").words == ["knig", "ok"]
    assert KeyedVectors.load_word2vec_format(tmp_path / "v.txt").words == ["k\ufffdnig", "ok"]


def _maps_a_file(array: np.ndarray) -> bool:
    while array is not None and not isinstance(array, np.memmap):
        array = array.base if isinstance(array.base, np.ndarray) else None
    return array is not None


def test_save_load_and_memory_map(tmp_path):
    kv = KeyedVectors(planted().words[:-1] + ["\udcff\u65e5"], planted().vectors, counts=planted().counts)
    kv.save(tmp_path / "kv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kv", "kv.vectors.npy"]
    assert np.array_equal(np.load(tmp_path / "kv.vectors.npy"), kv.vectors)   # a plain .npy table
    back = KeyedVectors.load(tmp_path / "kv")
    assert back.words == kv.words and np.array_equal(back.vectors, kv.vectors)
    assert np.array_equal(back.counts, kv.counts) and back.vectors.flags.writeable
    mapped = KeyedVectors.load(str(tmp_path / "kv"), mmap="r")
    assert _maps_a_file(mapped.vectors) and not mapped.vectors.flags.writeable
    assert mapped.most_similar("king", topn=3) == kv.most_similar("king", topn=3)
    assert mapped.get_vector("queen").tolist() == kv["queen"].tolist()
    KeyedVectors(["a"], [[1.0, 2.0]]).save(tmp_path / "small")
    assert KeyedVectors.load(tmp_path / "small").counts is None


def test_load_refuses_what_save_did_not_write(tmp_path):
    import pickle
    from w2v_ext.word2vec_format import VectorFileError
    planted().save(tmp_path / "kv")
    (tmp_path / "gensim.kv").write_bytes(pickle.dumps({"vectors": None}))
    with pytest.raises(VectorFileError, match=r"gensim.kv: a pickle.*from_gensim"):
        KeyedVectors.load(tmp_path / "gensim.kv")
    (tmp_path / "other.json").write_text('{"format": "something else"}')
    with pytest.raises(VectorFileError, match="not a w2v_ext KeyedVectors file"):
        KeyedVectors.load(tmp_path / "other.json")
    meta = json.loads((tmp_path / "kv").read_text())
    (tmp_path / "future").write_text(json.dumps(dict(meta, version=99)))
    with pytest.raises(VectorFileError, match="version 99"):
        KeyedVectors.load(tmp_path / "future")
    (tmp_path / "short").write_text(json.dumps(dict(meta, words=meta["words"][:3])))
    with pytest.raises(VectorFileError, match=r"'shape' must be \[3, dim\]"):
        KeyedVectors.load(tmp_path / "short")
    (tmp_path / "mixed").write_text((tmp_path / "kv").read_text())
    np.save(tmp_path / "mixed.vectors.npy", np.zeros((8, 3), np.float32))
    with pytest.raises(VectorFileError, match="files from different saves"):
        KeyedVectors.load(tmp_path / "mixed")
    (tmp_path / "alone").write_text((tmp_path / "kv").read_text())
    with pytest.raises(FileNotFoundError, match="alone.vectors.npy"):
        KeyedVectors.load(tmp_path / "alone")
    with pytest.raises(ValueError, match="mmap must be one of"):
        KeyedVectors.load(tmp_path / "kv", mmap="w+")


def test_to_embedding():
    torch = pytest.importorskip("torch")
    kv = planted()
    emb = kv.to_embedding()
    assert isinstance(emb, torch.nn.Embedding) and not emb.weight.requires_grad
    assert np.array_equal(emb(torch.tensor([2])).detach().numpy()[0], kv["queen"])
    assert kv.to_embedding(freeze=False).weight.requires_grad


def test_to_embedding_without_torch(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)   # makes `import torch` fail
    with pytest.raises(ImportError, match="to_embedding needs PyTorch"):
        planted().to_embedding()


class FakeGensimKeyedVectors:
    """The slice of gensim 4's KeyedVectors API that to_gensim/from_gensim use, written
    after gensim 4.4's code (tests/test_interop.py runs against the real one where it
    is installed). Like gensim's, add_vectors fails when given extras."""

    def __init__(self, vector_size, count=0, dtype=np.float32):
        self.index_to_key, self.key_to_index, self.expandos = [], {}, {}
        self.vectors = np.zeros((count, vector_size), dtype=dtype)

    def add_vectors(self, keys, weights, extras=None, replace=False):
        if extras:
            raise ValueError("too many values to unpack (expected 2)")   # gensim 4.4 iterates the dict
        for k in keys:
            self.key_to_index[k] = len(self.index_to_key)
            self.index_to_key.append(k)
        self.vectors = np.vstack([self.vectors, np.asarray(weights, dtype=self.vectors.dtype)])

    def allocate_vecattrs(self, attrs=None, types=None):
        for attr, t in zip(attrs, types):
            if attr not in self.expandos:
                self.expandos[attr] = np.zeros(len(self.index_to_key), dtype=t)

    def get_vecattr(self, key, attr):
        return self.expandos[attr][self.key_to_index[key]]


def test_gensim_interop(monkeypatch):
    models = types.ModuleType("gensim.models")
    models.KeyedVectors = FakeGensimKeyedVectors
    gensim = types.ModuleType("gensim")
    gensim.models = models
    monkeypatch.setitem(sys.modules, "gensim", gensim)
    monkeypatch.setitem(sys.modules, "gensim.models", models)
    kv = KeyedVectors(["a", "b", "a", "c"], np.arange(8.0).reshape(4, 2), counts=[9, 8, 7, 6])
    g = kv.to_gensim()
    assert g.index_to_key == ["a", "b", "c"] and g.get_vecattr("c", "count") == 6
    assert np.array_equal(g.vectors, kv.vectors[[0, 1, 3]])
    back = KeyedVectors.from_gensim(g)
    assert back.words == ["a", "b", "c"] and list(back.counts) == [9, 8, 6]
    assert KeyedVectors.from_gensim(KeyedVectors(["x"], [[1.0, 2.0]]).to_gensim()).counts is None


def test_to_gensim_without_gensim(monkeypatch):
    monkeypatch.setitem(sys.modules, "gensim", None)
    monkeypatch.setitem(sys.modules, "gensim.models", None)
    with pytest.raises(ImportError, match="to_gensim needs gensim"):
        planted().to_gensim()
