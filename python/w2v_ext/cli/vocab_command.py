"""`w2v-ext vocab MODEL [-o FILE]`: a native model's word counts in word2vec.c's
vocabulary format ("word count" lines, most frequent first)."""
from __future__ import annotations

import sys

from ..atomic_file import check_output_path
from .errors import CommandError
from .vectors_input import load_vectors


def add_parser(sub) -> None:
    p = sub.add_parser("vocab", help="export a model's word counts (word2vec.c's -save-vocab format)",
                       description="Write the words and counts of a native model as word2vec.c's vocabulary file: "
                                   "'word count' lines, most frequent first (train --read-vocab reads it).")
    p.add_argument("model", help="native model file (word2vec files hold no counts)")
    p.add_argument("-o", "--output", default=None, help="file to write (default: stdout)")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..vocab_file import write_vocab_file
    if args.output:
        check_output_path(args.output, "-o/--output")
    kv = load_vectors(args.model)
    if kv.counts is None:
        raise CommandError(f"{args.model} holds no word counts (word2vec files do not store them): give a native "
                           f"model (train --save-model)")
    if args.output:
        write_vocab_file(args.output, kv.words, kv.counts)
    else:
        sys.stdout.writelines(f"{w} {c}\n" for w, c in zip(kv.words, kv.counts.tolist()))
    return 0
