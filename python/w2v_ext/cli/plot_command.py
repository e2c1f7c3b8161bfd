"""`w2v-ext plot VECTORS --words W1,W2,... -o words.png` (or --neighbours WORD)."""
from __future__ import annotations

import os
from typing import List

from ..atomic_file import check_output_path
from ..plot import MAX_LABELS
from .arguments import positive_int
from .errors import CommandError
from .vectors_input import load_vectors, require_words


def add_parser(sub) -> None:
    p = sub.add_parser(
        "plot", help="plot words (or a word's nearest neighbours) projected to 2-D",
        description="Project word vectors to 2-D and draw them, each point labelled with its word. Needs "
                    "matplotlib (pip install 'w2v_ext[plot]'); --method tsne also needs scikit-learn.")
    p.add_argument("vectors", help="word2vec .bin/.txt/.vec file or native model")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--words", action="append", metavar="W1,W2,...",
                      help="the words to plot, comma-separated (may be repeated)")
    what.add_argument("--neighbours", "--neighbors", action="append", metavar="WORD",
                      help="plot this word with its nearest neighbours (comma-separated or repeated: a colour "
                           "per word)")
    p.add_argument("-o", "--output", required=True, help="image file; the format follows the extension "
                                                         "(.png, .svg, .pdf)")
    p.add_argument("--topn", type=positive_int, default=10, help="neighbours per word with --neighbours "
                                                                  f"(default: 10; at most {MAX_LABELS} labels in all)")
    p.add_argument("--method", choices=("pca", "tsne"), default="pca",
                   help="projection: PCA of the unit vectors (default), or t-SNE (needs scikit-learn)")
    p.set_defaults(run=run)


def check_image_format(path: str, argument: str) -> None:
    """matplotlib is installed (said now, not after the work) and writes the format the
    extension names."""
    from ..plot import _matplotlib
    _, canvas = _matplotlib()
    supported = canvas.get_supported_filetypes()
    ext = os.path.splitext(path)[1][1:].lower()
    if ext not in supported:
        raise CommandError(f"{argument}: cannot tell the image format of {path!r}: end it with .png, .svg or .pdf "
                           f"(or another format matplotlib writes: {', '.join(sorted(supported))})")


def _split_words(values: List[str]) -> List[str]:
    return [w for value in values for w in value.split(",") if w]


def run(args) -> int:
    from .. import plot
    check_output_path(args.output, "-o/--output")   # before loading the vectors
    check_image_format(args.output, "-o/--output")
    kv = load_vectors(args.vectors)
    words = _split_words(args.words or args.neighbours)
    if not words:
        raise CommandError("no words given: --words dog,cat,... or --neighbours WORD")
    require_words(kv, words, args.vectors)
    if args.words:
        plot.plot_words(kv, words, args.output, method=args.method)
        print(f"wrote {args.output}: {len(dict.fromkeys(words))} words ({args.method})")
    else:
        _check_neighbour_labels(kv, words, args.topn)
        plot.plot_neighbours(kv, words, args.output, topn=args.topn, method=args.method)
        print(f"wrote {args.output}: {', '.join(words)} and {args.topn} nearest neighbours each ({args.method})")
    return 0


def _check_neighbour_labels(kv, words: List[str], topn: int) -> None:
    """Refuse, before any work, a --neighbours plot that may need more labels than a plot shows."""
    queries = len(dict.fromkeys(words))
    most = min(len(kv), queries * (1 + min(topn, len(kv) - 1)))
    if most > MAX_LABELS:
        raise CommandError(f"--topn {topn} with {queries} word(s) may plot {most} labels, more than a plot can show "
                           f"(at most {MAX_LABELS}): lower --topn")
