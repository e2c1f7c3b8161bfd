#!/usr/bin/env python3
"""Benchmark KeyedVectors queries against gensim 4's on the same vectors.

A table of V random vectors (standard normal, float32, words "w0".."w<V-1>") is loaded
into our KeyedVectors and into gensim's (when gensim is importable). Each query kind
then runs the same `--queries` prepared queries (random words, pairs and vectors from a
fixed seed) on both, interleaved: the time per query is the median over `--repeats`
timed passes, after one untimed pass (which also fills both sides' cached norms).
Before timing, the first queries of every kind are checked to give the same answer on
both sides. Two rows time what a first query costs: building the KeyedVectors from
(words, table) and the first most_similar (the norms computed then). BLAS runs on
`--blas-threads` threads (default 1, set before numpy loads; 0 leaves the environment
alone): on a small shared machine OpenBLAS's threads make a 0.35 ms matrix-vector
product take 3-8 ms on both sides, which hides what each side does.

    python bench/kv_query_bench.py                  # 200k x 100, 100 queries per kind
    python bench/kv_query_bench.py --quick          # 20k x 100, 20 queries per kind
    python bench/kv_query_bench.py --words 1000000 --dim 300 --kinds most_similar,distances

A markdown report goes to bench/results/; the last line printed is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import time
from typing import Callable, Dict, List, Optional


def _blas_threads_wanted() -> int:
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--blas-threads", type=int, default=1)
    return pre.parse_known_args()[0].blas_threads


if _blas_threads_wanted() > 0:   # before numpy loads its BLAS
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = str(_blas_threads_wanted())

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402

from w2v_ext import KeyedVectors  # noqa: E402

GET_VECTOR_CALLS = 100   # get_vector / similarity kinds: calls per query


def queries(rng: np.random.Generator, V: int, d: int, n: int) -> Dict[str, list]:
    """The prepared arguments: n of each shape."""
    word = lambda: f"w{rng.integers(V)}"   # noqa: E731
    return {
        "word": [word() for _ in range(n)],
        "pos_neg": [([word(), word()], [word()]) for _ in range(n)],
        "vector": [rng.standard_normal(d).astype(np.float32) for _ in range(n)],
        "group": [[word() for _ in range(4)] for _ in range(n)],
        "two_groups": [([word() for _ in range(3)], [word() for _ in range(3)]) for _ in range(n)],
        "pair": [(word(), word()) for _ in range(n)],
        "words": [[word() for _ in range(GET_VECTOR_CALLS)] for _ in range(n)],
        "pairs": [[(word(), word()) for _ in range(GET_VECTOR_CALLS)] for _ in range(n)],
    }


# kind -> (argument shape, what one query does)
KINDS: Dict[str, tuple] = {
    "most_similar": ("word", lambda kv, w: kv.most_similar(w, topn=10)),
    "most_similar positive/negative": ("pos_neg", lambda kv, a: kv.most_similar(positive=a[0], negative=a[1])),
    "most_similar_cosmul": ("pos_neg", lambda kv, a: kv.most_similar_cosmul(positive=a[0], negative=a[1])),
    "similar_by_vector": ("vector", lambda kv, v: kv.similar_by_vector(v, topn=10)),
    "doesnt_match (4 words)": ("group", lambda kv, ws: kv.doesnt_match(ws)),
    "n_similarity (3 vs 3 words)": ("two_groups", lambda kv, a: kv.n_similarity(*a)),
    "distances (word to all)": ("word", lambda kv, w: kv.distances(w)),
    "rank (random pair)": ("pair", lambda kv, a: kv.rank(*a)),
    "closer_than (random pair)": ("pair", lambda kv, a: kv.closer_than(*a)),
    f"get_vector x{GET_VECTOR_CALLS}": ("words", lambda kv, ws: [kv.get_vector(w) for w in ws]),
    f"get_vector(norm=True) x{GET_VECTOR_CALLS}": ("words", lambda kv, ws: [kv.get_vector(w, norm=True) for w in ws]),
    f"kv[word] x{GET_VECTOR_CALLS}": ("words", lambda kv, ws: [kv[w] for w in ws]),
    f"similarity x{GET_VECTOR_CALLS}": ("pairs", lambda kv, ps: [kv.similarity(a, b) for a, b in ps]),
}


def build_ours(words: List[str], table: np.ndarray) -> KeyedVectors:
    return KeyedVectors(words, table)


def build_gensim(words: List[str], table: np.ndarray):
    from gensim.models import KeyedVectors as GensimKeyedVectors
    kv = GensimKeyedVectors(table.shape[1])
    kv.add_vectors(words, table)
    return kv


def same_answer(a, b) -> bool:
    """Equal up to float32 rounding: lists of (word, score), arrays, numbers, words."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.shape(a) == np.shape(b) and np.allclose(a, b, rtol=1e-5, atol=1e-6)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(same_answer(x, y) for x, y in zip(a, b))
    if isinstance(a, (float, np.floating)):
        return bool(np.isclose(a, b, rtol=1e-5, atol=1e-6))
    return a == b


def time_pass(kv, call: Callable, args: list) -> float:
    """Seconds per query over one pass through args."""
    start = time.perf_counter()
    for a in args:
        call(kv, a)
    return (time.perf_counter() - start) / len(args)


def time_kind(systems: Dict[str, object], call: Callable, args: list, repeats: int) -> Dict[str, float]:
    """Median seconds per query for each system (an untimed pass first; passes interleaved)."""
    for kv in systems.values():
        time_pass(kv, call, args)
    times: Dict[str, List[float]] = {name: [] for name in systems}
    for _ in range(repeats):
        for name, kv in systems.items():
            times[name].append(time_pass(kv, call, args))
    return {name: statistics.median(t) for name, t in times.items()}


def time_first_query(builders: Dict[str, Callable], words, table, word: str, repeats: int) -> Dict[str, dict]:
    """Median seconds to build a KeyedVectors from (words, table) and for its first most_similar."""
    out: Dict[str, dict] = {name: {"build": [], "first": []} for name in builders}
    for _ in range(repeats):
        for name, build in builders.items():
            start = time.perf_counter()
            kv = build(words, table)
            built = time.perf_counter()
            kv.most_similar(word)
            out[name]["build"].append(built - start)
            out[name]["first"].append(time.perf_counter() - built)
            del kv
    return {name: {k: statistics.median(v) for k, v in d.items()} for name, d in out.items()}


def check_answers(systems: Dict[str, object], prepared: Dict[str, list], kinds: List[str], n: int) -> Dict[str, bool]:
    """Whether both systems answer the first n queries of each kind alike."""
    ours, theirs = systems["w2v_ext"], systems["gensim"]
    return {kind: all(same_answer(KINDS[kind][1](ours, a), KINDS[kind][1](theirs, a))
                      for a in prepared[KINDS[kind][0]][:n]) for kind in kinds}


def fmt_ms(seconds: Optional[float]) -> str:
    if seconds is None:
        return "-"
    ms = seconds * 1e3
    return f"{ms:.3f}" if ms < 1 else f"{ms:.2f}" if ms < 100 else f"{ms:.0f}"


def markdown(a, rows: List[dict], first: Dict[str, dict], checks: Dict[str, bool], versions, started) -> str:
    have_gensim = "gensim" in first
    extra = {"table": f"{a.words:,} words x {a.dim} (random standard normal, float32), seed {a.seed}",
             "queries": f"{a.queries} per kind (random words, pairs, vectors), median of {a.repeats} "
                        f"interleaved timed passes after an untimed one",
             "BLAS threads": f"--blas-threads {a.blas_threads}: OPENBLAS_NUM_THREADS="
                        f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, "
                        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}"}
    out = [f"# kv_query_bench{' (' + a.label + ')' if a.label else ''}\n", _common.metadata(versions, started, extra)]
    out.append("\nms per query (a get_vector / kv[word] / similarity query is "
               f"{GET_VECTOR_CALLS} calls); 'same answers': the first {a.check} queries give the same "
               "result on both sides (words in the same order, scores within 1e-5).\n\n")
    header = ["query", "w2v_ext ms", "gensim ms", "gensim / w2v_ext", "same answers"] if have_gensim \
        else ["query", "w2v_ext ms"]
    table_rows = []
    for r in rows:
        if have_gensim:
            table_rows.append([r["kind"], fmt_ms(r["w2v_ext"]), fmt_ms(r["gensim"]), f"{r['gensim'] / r['w2v_ext']:.1f}x",
                               "yes" if checks.get(r["kind"]) else "NO"])
        else:
            table_rows.append([r["kind"], fmt_ms(r["w2v_ext"])])
    for step, text in (("build", "build from (words, table)"), ("first", "first most_similar (norms computed)")):
        ours = first["w2v_ext"][step]
        if have_gensim:
            theirs = first["gensim"][step]
            table_rows.append([text, fmt_ms(ours), fmt_ms(theirs), f"{theirs / ours:.1f}x", "-"])
        else:
            table_rows.append([text, fmt_ms(ours)])
    out.append(_common.markdown_table(header, table_rows, "l" + "r" * (len(header) - 1)))
    if not have_gensim:
        out.append("\ngensim was not importable: our times only.\n")
    return "".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--words", type=int, default=200_000, help="V, the table's rows")
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--queries", type=int, default=100, help="queries per kind")
    ap.add_argument("--repeats", type=int, default=5, help="timed passes; the median is reported")
    ap.add_argument("--check", type=int, default=10, help="queries per kind checked against gensim")
    ap.add_argument("--kinds", default="", help="comma list of query kinds (default: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--blas-threads", type=int, default=1, help="BLAS threads (0: as the environment says)")
    ap.add_argument("--no-gensim", action="store_true", help="time ours only")
    ap.add_argument("--quick", action="store_true", help="20k words, 20 queries, 3 repeats")
    ap.add_argument("--label", default="")
    ap.add_argument("--results-dir", default=_common.RESULTS_DIR)
    ap.add_argument("--no-save", action="store_true")
    a = ap.parse_args(argv)
    if a.quick:
        a.words, a.queries, a.repeats = 20_000, 20, 3
    kinds = [k.strip() for k in a.kinds.split(",") if k.strip()] or list(KINDS)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        ap.error(f"unknown kinds {unknown}; choose from: {', '.join(KINDS)}")
    started = _common.now()
    logging.disable(logging.WARNING)   # gensim logs each call's details
    rng = np.random.default_rng(a.seed)
    words = [f"w{i}" for i in range(a.words)]
    table = rng.standard_normal((a.words, a.dim)).astype(np.float32)
    prepared = queries(rng, a.words, a.dim, a.queries)

    builders = {"w2v_ext": build_ours}
    if not a.no_gensim:
        try:
            import gensim  # noqa: F401
            builders["gensim"] = build_gensim
        except ImportError:
            print("gensim is not importable: timing ours only", file=sys.stderr)
    systems = {name: build(words, table) for name, build in builders.items()}
    checks = check_answers(systems, prepared, kinds, a.check) if "gensim" in systems else {}
    for kind, ok in checks.items():
        if not ok:
            print(f"warning: {kind}: the answers differ from gensim's", file=sys.stderr)

    rows = []
    for kind in kinds:
        shape, call = KINDS[kind]
        times = time_kind(systems, call, prepared[shape], a.repeats)
        rows.append({"kind": kind, **times})
        print(f"{kind:40s} " + "  ".join(f"{name} {fmt_ms(t)} ms" for name, t in times.items()), flush=True)
    first = time_first_query(builders, words, table, prepared["word"][0], a.repeats)
    for name, d in first.items():
        print(f"{name}: build {fmt_ms(d['build'])} ms, first most_similar {fmt_ms(d['first'])} ms")

    versions = _common.python_versions(modules=("numpy", "gensim", "scipy"))
    versions["w2v_ext"] = _common.python_versions(modules=("w2v_ext",)).get("w2v_ext", "?")
    report = markdown(a, rows, first, checks, versions, started)
    report += "\n## Raw\n\n```json\n" + json.dumps({"rows": rows, "first": first, "checks": checks}) + "\n```\n"
    print(report)
    _common.save_results(a, "kv_query_bench", started, report)
    print(json.dumps({"rows": rows, "first": first, "same_answers": all(checks.values()) if checks else None}))
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
