"""`w2v-ext eval VECTORS --analogies FILE --pairs FILE`: analogy accuracy and word-pair correlations."""
from __future__ import annotations

import json
import os
from typing import List

from .arguments import positive_int
from .errors import CommandError
from .vectors_input import load_vectors


def add_parser(sub) -> None:
    p = sub.add_parser("eval", help="score vectors on analogy and word-similarity sets",
                       description="Score a vector file (word2vec .bin/.txt/.vec or a native model).")
    p.add_argument("vectors")
    p.add_argument("--analogies", default=None, help="questions-words.txt style file")
    p.add_argument("--pairs", action="append", default=[],
                   help="word-pair similarity file (WordSim-353, SimLex-999 style); may be repeated")
    p.add_argument("--restrict", type=positive_int, default=30000,
                   help="analogies use the most frequent N words, like word2vec.c's compute-accuracy")
    p.add_argument("--method", choices=("3cosadd", "3cosmul"), default="3cosadd", help="analogy scoring")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=run)


def run(args) -> int:
    if not args.analogies and not args.pairs:
        raise CommandError("nothing to evaluate: give --analogies FILE and/or --pairs FILE")
    for path in [args.analogies] + args.pairs:
        if path and not os.path.exists(path):
            raise CommandError(f"evaluation file {path!r} does not exist")
    kv = load_vectors(args.vectors)
    result = {"vectors": args.vectors, "vocab": len(kv), "dim": kv.dim}
    if args.analogies:
        r = kv.evaluate_analogies(args.analogies, restrict_vocab=args.restrict, method=args.method)
        result["analogy"] = {k: r[k] for k in ("accuracy", "correct", "questions", "total")}
    labels = _pair_file_labels(args.pairs)
    for path, label in labels.items():
        r = kv.evaluate_word_pairs(path, restrict_vocab=None)
        result[label] = {k: r[k] for k in ("spearman", "pearson", "pairs", "total")}
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{args.vectors}: {result['vocab']} words, dim {result['dim']}")
    if "analogy" in result:
        a = result["analogy"]
        print(f"  analogies ({args.method}, top {args.restrict} words): {100 * a['accuracy']:.2f}% "
              f"({a['correct']}/{a['questions']} answered of {a['total']})")
    for label in labels.values():
        r = result[label]
        print(f"  {label}: Spearman {r['spearman']:.4f} ({r['pairs']}/{r['total']} pairs)")
    return 0


def _pair_file_labels(paths: List[str]) -> dict:
    """path -> the name its results go under: its base name, or the path as given when
    another file has the same base name. A path given twice is evaluated once."""
    paths = list(dict.fromkeys(paths))
    names = [os.path.basename(p) for p in paths]
    return {p: name if names.count(name) == 1 else p for p, name in zip(paths, names)}
