"""`w2v-ext convert IN OUT`: word2vec binary <-> text, native model -> word2vec vectors."""
from __future__ import annotations

from ..atomic_file import check_output_path
from .errors import CommandError
from .train_outputs import output_kind
from .vectors_input import load_vectors


def add_parser(sub) -> None:
    p = sub.add_parser("convert", help="convert vectors: word2vec .bin <-> .txt/.vec, native model -> vectors",
                       description="Read vectors (word2vec binary or text, told by the content, or a native model) "
                                   "and write them in the format OUT's extension names (or --format): .bin binary, "
                                   ".txt/.vec text, a further .gz/.bz2/.xz compressing them.")
    p.add_argument("input", help="word2vec .bin/.txt/.vec file or native model")
    p.add_argument("output", help="the file to write")
    p.add_argument("--format", choices=("bin", "txt"), default=None, help="OUT's format (default: by extension)")
    p.set_defaults(run=run)


def run(args) -> int:
    kind = output_kind(args.output, args.format, "OUT")
    if kind == "native":
        raise CommandError(f"OUT: {args.output} names a native model, which only training writes (it holds output "
                           f"weights and a training position): convert writes .bin, .txt or .vec")
    check_output_path(args.output, "OUT")
    kv = load_vectors(args.input)
    kv.save_word2vec_format(args.output, binary=kind == "binary")
    print(f"wrote {args.output}: {len(kv)} words, dim {kv.dim} ({'binary' if kind == 'binary' else 'text'})")
    return 0
