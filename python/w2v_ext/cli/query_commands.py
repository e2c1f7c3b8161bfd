"""`w2v-ext similar VECTORS WORD...`: nearest neighbours."""
from __future__ import annotations

from .arguments import positive_int
from .vectors_input import load_vectors, require_words


def add_similar(sub) -> None:
    p = sub.add_parser("similar", help="nearest neighbours of a word")
    p.add_argument("vectors")
    p.add_argument("word", nargs="+", help="word(s); several are averaged")
    p.add_argument("--topn", type=positive_int, default=10)
    p.set_defaults(run=similar)


def similar(args) -> int:
    kv = load_vectors(args.vectors)
    require_words(kv, args.word, args.vectors)
    for word, score in kv.most_similar(args.word, topn=args.topn):
        print(f"{score:.4f}  {word}")
    return 0
