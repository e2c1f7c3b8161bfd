"""gensim 4's KeyedVectors answers on a fixed table, for tests/test_gensim_compat.py.

The table (planted capitals and plurals, a second spelling of one word, fillers) and
the evaluation files are built without a random generator, so the answers recorded in
gensim_expected.json hold on any numpy. The test runs every case against gensim when it
is installed and against the recorded answers when it is not (CI has no gensim).
Re-record after changing a case (needs gensim):

    python tests/gensim_reference.py     # writes tests/gensim_expected.json
"""
from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from typing import Callable, Dict, List, Tuple

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
EXPECTED_PATH = os.path.join(HERE, "gensim_expected.json")
DIM = 16
COUNTRIES = ["france", "germany", "italy", "spain", "japan"]
CAPITALS = ["paris", "berlin", "rome", "madrid", "tokyo"]
NOUNS = ["cat", "dog", "car", "tree"]
FILLERS = [f"w{i}" for i in range(30)]


def _pseudo_random(rows: int, salt: int) -> np.ndarray:
    """[rows, DIM] values in [-0.5, 0.5), from integer arithmetic (the same everywhere)."""
    i = np.arange(rows)[:, None]
    j = np.arange(DIM)[None, :]
    return ((i * 7919 + j * 104729 + salt * 15485863) % 1009) / 1009.0 - 0.5


def table() -> Tuple[List[str], np.ndarray, np.ndarray]:
    """(words, vectors [V, DIM] float32, counts [V]): capital = concept + R, country =
    concept + S, plural = noun + PL (plus noise), fillers, and 'Paris' (a later row) next to 'paris'."""
    concept, nouns = _pseudo_random(5, 1), _pseudo_random(4, 2)
    R, S, SG, PL = _pseudo_random(4, 3)
    noise = 0.3 * _pseudo_random(20, 4)
    rows: Dict[str, np.ndarray] = {}
    for k in range(5):
        rows[COUNTRIES[k]] = concept[k] + S
        rows[CAPITALS[k]] = concept[k] + R + noise[k]
    for k, noun in enumerate(NOUNS):
        rows[noun] = nouns[k] + SG
        rows[noun + "s"] = nouns[k] + PL + noise[5 + k]
    for word, vector in zip(FILLERS, _pseudo_random(len(FILLERS), 5)):
        rows[word] = vector
    rows["Paris"] = rows["paris"] + 0.05 * noise[10]
    words = list(rows)
    return words, np.stack(list(rows.values())).astype(np.float32), np.arange(len(words), 0, -1) * 3


def write_eval_files(directory: str) -> Dict[str, str]:
    """An analogy file and a word-pair file, in `directory`."""
    lines = [": capital-common-countries"]
    for a in range(5):
        for b in range(5):
            if a != b:
                lines.append(f"{COUNTRIES[a]} {CAPITALS[a]} {COUNTRIES[b]} {CAPITALS[b]}")
    lines += ["France Paris Germany Berlin", "paris france atlantis atlantica",
              "france paris france paris", ": gram-plural"]
    for a in range(4):
        for b in range(4):
            if a != b:
                lines.append(f"{NOUNS[a]} {NOUNS[a]}s {NOUNS[b]} {NOUNS[b]}s")
    lines += ["cat cats dog", "cat cats w3 trees"]
    analogies = os.path.join(directory, "questions.txt")
    with open(analogies, "w") as f:
        f.write("\n".join(lines) + "\n")
    words = COUNTRIES + CAPITALS + NOUNS + FILLERS[:10]
    pair_lines = ["# word1\tword2\tscore"]
    for k in range(40):
        a, b = words[(k * 7) % len(words)], words[(k * 11 + 3) % len(words)]
        pair_lines.append(f"{a.upper() if k % 5 == 0 else a}\t{b}\t{(k * 37) % 11 + 0.5}")
    pair_lines += ["Paris\tfrance\t9.5", "unknownword\tcat\t3.0", "tokyo\tjapan\t8.25"]
    pairs = os.path.join(directory, "pairs.tsv")
    with open(pairs, "w") as f:
        f.write("\n".join(pair_lines) + "\n")
    return {"analogies": analogies, "pairs": pairs}


VECTOR = _pseudo_random(1, 6)[0].astype(np.float32)
UNIT = (VECTOR / np.linalg.norm(VECTOR)).astype(np.float32)

# (id, call): the same call runs on our KeyedVectors and on gensim's
CASES: List[Tuple[str, Callable]] = [
    ("most_similar_word", lambda kv, f: kv.most_similar("paris")),
    ("most_similar_positive_negative", lambda kv, f: kv.most_similar(positive=["paris", "germany"],
                                                                     negative=["france"], topn=5)),
    ("most_similar_vector", lambda kv, f: kv.most_similar(VECTOR, topn=4)),
    ("most_similar_weighted", lambda kv, f: kv.most_similar(positive=[("cat", 0.5), ("dogs", 2.0)],
                                                            negative=[("dog", -0.25)], topn=6)),
    ("most_similar_words_and_vectors", lambda kv, f: kv.most_similar(positive=["tree", VECTOR], negative=["w4"])),
    ("most_similar_array_of_vectors", lambda kv, f: kv.most_similar(np.stack([VECTOR, -VECTOR[::-1]]), topn=3)),
    ("most_similar_int_key", lambda kv, f: kv.most_similar(7, topn=3)),
    ("most_similar_restrict_vocab", lambda kv, f: kv.most_similar("berlin", topn=20, restrict_vocab=12)),
    ("most_similar_topn_none", lambda kv, f: kv.most_similar("cat", topn=None)),
    ("most_similar_topn_none_restricted", lambda kv, f: kv.most_similar("cat", topn=None, restrict_vocab=9)),
    ("most_similar_topn_0", lambda kv, f: kv.most_similar("cat", topn=0)),
    ("most_similar_topn_past_the_end", lambda kv, f: kv.most_similar(["cat", "dog"], topn=100)),
    ("similar_by_word", lambda kv, f: kv.similar_by_word("rome", topn=3)),
    ("similar_by_key", lambda kv, f: kv.similar_by_key("rome", topn=3, restrict_vocab=15)),
    ("similar_by_vector", lambda kv, f: kv.similar_by_vector(VECTOR, topn=5)),
    ("most_similar_cosmul", lambda kv, f: kv.most_similar_cosmul(positive=["paris", "germany"],
                                                                 negative=["france"], topn=5)),
    ("most_similar_cosmul_single", lambda kv, f: kv.most_similar_cosmul("cats")),
    ("most_similar_cosmul_unit_vector", lambda kv, f: kv.most_similar_cosmul([UNIT, "w2"], ["w9"], topn=4)),
    ("most_similar_cosmul_topn_none", lambda kv, f: kv.most_similar_cosmul(["cars"], ["car"], topn=None)),
    ("doesnt_match", lambda kv, f: kv.doesnt_match(["france", "germany", "spain", "cats"])),
    ("doesnt_match_unknown_left_out", lambda kv, f: kv.doesnt_match(["cat", "dog", "unknownword", "paris"])),
    ("rank_by_centrality", lambda kv, f: kv.rank_by_centrality(["cat", "dog", "car", "w1", "w2"])),
    ("rank_by_centrality_raw", lambda kv, f: kv.rank_by_centrality(["cat", "dog", "w1"], use_norm=False)),
    ("n_similarity", lambda kv, f: kv.n_similarity(["paris", "rome"], ["france", "italy"])),
    ("n_similarity_unknown_left_out", lambda kv, f: kv.n_similarity(["paris", "nope"], ["cat", "dog", "car"])),
    ("similarity", lambda kv, f: kv.similarity("tokyo", "japan")),
    ("distance", lambda kv, f: kv.distance("tokyo", "japan")),
    ("distances_to_all", lambda kv, f: kv.distances("madrid")),
    ("distances_to_some", lambda kv, f: kv.distances("madrid", ["spain", "w3", "Paris"])),
    ("distances_from_vector", lambda kv, f: kv.distances(VECTOR)),
    ("rank", lambda kv, f: kv.rank("paris", "france")),
    ("rank_of_itself", lambda kv, f: kv.rank("paris", "paris")),
    ("closer_than", lambda kv, f: kv.closer_than("paris", "w5")),
    ("cosine_similarities", lambda kv, f: kv.cosine_similarities(VECTOR, kv.vectors[:7])),
    ("get_mean_vector", lambda kv, f: kv.get_mean_vector(["cat", "dog", VECTOR])),
    ("get_mean_vector_weighted", lambda kv, f: kv.get_mean_vector(["cat", "dog", "nope"], weights=[2.0, -1.0, 5.0])),
    ("get_mean_vector_raw_normalised", lambda kv, f: kv.get_mean_vector(["cat", "dog"], pre_normalize=False,
                                                                       post_normalize=True)),
    ("get_vector", lambda kv, f: kv.get_vector("tree")),
    ("get_vector_norm", lambda kv, f: kv.get_vector("tree", norm=True)),
    ("get_normed_vectors", lambda kv, f: kv.get_normed_vectors()),
    ("norms", lambda kv, f: (kv.fill_norms(), kv.norms)[1]),
    ("lookups", lambda kv, f: [kv.get_index("cats"), kv.get_index(3), kv.get_index("nope", 99),
                               kv.has_index_for("Paris"), kv.has_index_for("PARIS"), "dogs" in kv, 5 in kv,
                               len(kv), kv.vector_size, kv.index_to_key[:3], kv.key_to_index["Paris"],
                               kv.get_vecattr("rome", "count")]),
    ("item_and_items", lambda kv, f: [kv["cat"], kv[["cat", "dog"]]]),
    ("unknown_key_most_similar", lambda kv, f: kv.most_similar("nope")),
    ("unknown_key_get_vector", lambda kv, f: kv.get_vector("nope")),
    ("unknown_key_distances", lambda kv, f: kv.distances("paris", ["nope"])),
    ("n_similarity_empty", lambda kv, f: kv.n_similarity([], ["cat"])),
    ("cosmul_without_positive", lambda kv, f: kv.most_similar_cosmul(negative=["cat"])),
    ("doesnt_match_none_known", lambda kv, f: kv.doesnt_match(["nope", "zilch"])),
    ("evaluate_word_analogies", lambda kv, f: kv.evaluate_word_analogies(f["analogies"])),
    ("evaluate_word_analogies_restricted", lambda kv, f: kv.evaluate_word_analogies(f["analogies"], restrict_vocab=14)),
    ("evaluate_word_analogies_case_sensitive",
     lambda kv, f: kv.evaluate_word_analogies(f["analogies"], case_insensitive=False)),
    ("evaluate_word_analogies_dummy4unknown",
     lambda kv, f: kv.evaluate_word_analogies(f["analogies"], restrict_vocab=20, dummy4unknown=True)),
    ("evaluate_word_pairs", lambda kv, f: kv.evaluate_word_pairs(f["pairs"])),
    ("evaluate_word_pairs_restricted", lambda kv, f: kv.evaluate_word_pairs(f["pairs"], restrict_vocab=20)),
    ("evaluate_word_pairs_case_sensitive",
     lambda kv, f: kv.evaluate_word_pairs(f["pairs"], case_insensitive=False)),
    ("evaluate_word_pairs_dummy4unknown",
     lambda kv, f: kv.evaluate_word_pairs(f["pairs"], restrict_vocab=25, dummy4unknown=True)),
]


def answer(call: Callable, kv, files: Dict[str, str]):
    """The call's result in JSON terms, or {"raises": [class names of the exception's MRO]}."""
    try:
        return normalise(call(kv, files))
    except Exception as e:   # noqa: BLE001 - the exception is the answer
        return {"raises": [cls.__name__ for cls in type(e).__mro__]}


def normalise(x):
    """Results as JSON values: arrays as {"array": [...]}, scipy/our correlations as [statistic, pvalue]."""
    if isinstance(x, np.ndarray):
        return {"array": x.astype(np.float64).tolist()}
    if hasattr(x, "statistic") and hasattr(x, "pvalue"):
        return [float(x.statistic), float(x.pvalue)]
    if isinstance(x, (list, tuple)):
        return [normalise(v) for v in x]
    if isinstance(x, dict):
        return {str(k): normalise(v) for k, v in x.items()}
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x)
    if isinstance(x, str):
        return x
    raise TypeError(f"cannot record a {type(x).__name__}: {x!r}")


def assert_same(ours, expected, where: str = "", rtol: float = 1e-5, atol: float = 1e-6) -> None:
    """ours equals expected: same structure and words, numbers within rtol/atol (NaN == NaN)."""
    if isinstance(expected, dict) and "raises" in expected:
        assert isinstance(ours, dict) and "raises" in ours, f"{where}: expected {expected['raises'][0]}, got {ours!r}"
        assert expected["raises"][0] in ours["raises"], f"{where}: raised {ours['raises'][0]}, " \
                                                        f"not a {expected['raises'][0]}"
        return
    if isinstance(expected, dict):
        assert isinstance(ours, dict) and ours.keys() == expected.keys(), f"{where}: {ours!r} vs {expected!r}"
        for k in expected:
            assert_same(ours[k], expected[k], f"{where}.{k}", rtol, atol)
    elif isinstance(expected, list):
        assert isinstance(ours, list) and len(ours) == len(expected), f"{where}: {ours!r} vs {expected!r}"
        for k, (a, b) in enumerate(zip(ours, expected)):
            assert_same(a, b, f"{where}[{k}]", rtol, atol)
    elif isinstance(expected, float) or isinstance(ours, float):
        assert isinstance(ours, (int, float)) and not isinstance(ours, bool), f"{where}: {ours!r} vs {expected!r}"
        if math.isnan(expected):
            assert math.isnan(ours), f"{where}: {ours!r} vs NaN"
        else:
            assert math.isclose(ours, expected, rel_tol=rtol, abs_tol=atol), f"{where}: {ours!r} vs {expected!r}"
    else:
        assert ours == expected, f"{where}: {ours!r} vs {expected!r}"


def gensim_keyed_vectors():
    """gensim's KeyedVectors holding table() (the counts as vector attribute 'count')."""
    from gensim.models import KeyedVectors
    words, vectors, counts = table()
    kv = KeyedVectors(DIM)
    kv.add_vectors(words, vectors)
    kv.allocate_vecattrs(["count"], [np.int64])
    kv.expandos["count"][:] = counts
    return kv


def record() -> dict:
    """Every case's answer from gensim."""
    import logging
    logging.disable(logging.WARNING)   # gensim logs each unknown word
    kv = gensim_keyed_vectors()
    with tempfile.TemporaryDirectory() as d:
        files = write_eval_files(d)
        return {name: answer(call, kv, files) for name, call in CASES}


if __name__ == "__main__":
    import gensim
    answers = record()
    with open(EXPECTED_PATH, "w") as f:
        json.dump({"gensim": gensim.__version__, "answers": answers}, f, indent=1)
        f.write("\n")
    print(f"wrote {EXPECTED_PATH}: {len(answers)} cases (gensim {gensim.__version__})", file=sys.stderr)
