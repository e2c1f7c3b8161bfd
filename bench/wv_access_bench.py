"""model.wv in a loop: the cost of reaching a trained model's vectors through model.wv.

A model of V words (random weights, no training needed) is queried the way gensim
scripts do: `model.wv[word]` for many words, `model.wv.most_similar(word)` in a loop,
and a query after each time training changes the weights (the cached norms reset). Run
it with another install's python (e.g. an older w2v_ext) to compare: the script only
uses what both have.

    python bench/wv_access_bench.py                 # 200k words x 100
    python bench/wv_access_bench.py --quick         # 20k words
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402

from w2v_ext.trainer import Word2Vec  # noqa: E402
from w2v_ext.vocab import Vocabulary  # noqa: E402


def seconds_per_call(call, n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        call(i)
    return (time.perf_counter() - start) / n


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--words", type=int, default=200_000, help="V, the model's vocabulary")
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--lookups", type=int, default=200, help="model.wv[word] calls timed")
    ap.add_argument("--queries", type=int, default=20, help="model.wv.most_similar calls timed")
    ap.add_argument("--quick", action="store_true", help="20k words")
    ap.add_argument("--label", default="")
    ap.add_argument("--results-dir", default=_common.RESULTS_DIR)
    ap.add_argument("--no-save", action="store_true")
    a = ap.parse_args(argv)
    if a.quick:
        a.words = 20_000
    started = _common.now()
    model = Word2Vec(dim=a.dim, threads=1, progress=False)
    model.set_vocabulary(Vocabulary([f"w{i}" for i in range(a.words)], np.arange(a.words, 0, -1)))
    words = [f"w{i}" for i in range(0, a.words, max(1, a.words // max(a.lookups, a.queries)))]

    t = time.perf_counter()
    model.wv.most_similar(words[0], topn=10)
    first = time.perf_counter() - t
    lookup = seconds_per_call(lambda i: model.wv[words[i % len(words)]], a.lookups)
    query = seconds_per_call(lambda i: model.wv.most_similar(words[i % len(words)], topn=10), a.queries)
    changed = getattr(model, "weights_changed", None)   # what training calls after each epoch (if there)

    def query_after_training(i):
        model.input[i % a.words] *= 1.0001   # as an epoch would, in place
        if changed is not None:
            changed()
        model.wv.most_similar(words[i % len(words)], topn=10)
    after = seconds_per_call(query_after_training, a.queries)
    same_object = model.wv is model.wv

    rows = [["first most_similar (builds the index and norms)", f"{first * 1e3:.1f} ms"],
            [f"model.wv[word], {a.lookups} calls", f"{lookup * 1e6:.1f} us per call"],
            [f"model.wv.most_similar(word), {a.queries} calls", f"{query * 1e3:.2f} ms per call"],
            ["most_similar after the weights changed (norms recomputed)", f"{after * 1e3:.2f} ms per call"],
            ["model.wv is model.wv", str(same_object)]]
    versions = _common.python_versions(modules=("numpy", "w2v_ext"))
    report = "# wv_access_bench\n" + _common.metadata(versions, started, {
        "model": f"{a.words:,} words x {a.dim} (random weights, counts descending)",
        "w2v_ext": os.path.dirname(sys.modules["w2v_ext"].__file__)}) + "\n"
    report += _common.markdown_table(["what", "time"], rows, "lr")
    raw = {"words": a.words, "dim": a.dim, "first_s": first, "lookup_s": lookup, "query_s": query,
           "query_after_change_s": after, "same_object": same_object}
    report += "\n## Raw\n\n```json\n" + json.dumps(raw) + "\n```\n"
    print(report)
    _common.save_results(a, "wv_access_bench", started, report)
    print(json.dumps(raw))
    return 0


if __name__ == "__main__":
    sys.exit(main())
