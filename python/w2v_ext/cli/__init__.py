"""The w2v-ext command line (also `python -m w2v_ext`).

    w2v-ext demo [--output-dir DIR]           train on the shipped sample, show neighbours, analogies, plots
    w2v-ext train CORPUS -o OUT [options]     train vectors (see `w2v-ext train --help`)
    w2v-ext word2vec -train CORPUS -output OUT [-flag value ...]   ... with word2vec.c's flags and defaults
    torchrun --nproc-per-node N -m w2v_ext train CORPUS -o OUT [options]   ... on N processes (data parallel)
    w2v-ext eval VECTORS --analogies FILE --pairs FILE
    w2v-ext similar VECTORS [WORD... [--negative WORD...]] [--topn 10]   (no WORD: queries from stdin)
    w2v-ext analogy VECTORS [a b c] [--topn 10]                          (no words: queries from stdin)
    w2v-ext vocab MODEL [-o FILE]             a model's word counts, word2vec.c's vocabulary format
    w2v-ext convert IN OUT                    word2vec .bin <-> .txt, native model -> vectors
    w2v-ext plot VECTORS --words W1,W2,... -o words.png      (or --neighbours WORD)

One module per command. Errors print one line (the traceback with --verbose). Never
imports torch, except for distributed training (train --distributed, or launched by
torchrun with WORLD_SIZE > 1).
"""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from .. import interrupts
from ..plot import OptionalDependencyError
from .. import __version__
from . import (convert_command, demo_command, eval_command, plot_command, query_commands, train_command,
               vocab_command, word2vec_command)
from .arguments import CommandParser, settings_of
from .errors import EXIT_ERROR, EXIT_USAGE, CommandError, UsageError
from .vectors_input import load_vectors

__all__ = ["build_parser", "main", "settings_of", "load_vectors", "CommandError"]


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of w2v-ext and its commands."""
    parser = CommandParser(prog="w2v-ext", description="Fast word2vec: train, evaluate, query and plot "
                                                                  "vectors (start with: w2v-ext demo).")
    parser.add_argument("--verbose", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--version", action="version", version=f"w2v-ext {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    demo_command.add_parser(sub)
    train_command.add_parser(sub)
    word2vec_command.add_parser(sub)
    eval_command.add_parser(sub)
    query_commands.add_similar(sub)
    query_commands.add_analogy(sub)
    vocab_command.add_parser(sub)
    convert_command.add_parser(sub)
    plot_command.add_parser(sub)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Run w2v-ext with `argv` (default: sys.argv[1:]); returns the exit status (0 ok,
    1 error, 2 usage error, 128 + the signal's number when interrupted: 130 Ctrl-C,
    143 SIGTERM, 129 SIGHUP)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    verbose = argv[:1] == ["--verbose"]
    if argv[verbose:verbose + 1] == ["word2vec"]:   # word2vec.c's flags, which argparse would misread
        try:
            args = word2vec_command.parse(argv[verbose + 1:])
        except UsageError as e:
            print(f"w2v-ext word2vec: error: {e}", file=sys.stderr)
            return EXIT_USAGE
        args.verbose = verbose
    else:
        args = build_parser().parse_args(argv)
    try:
        with interrupts.terminations_interrupt():
            return args.run(args)
    except KeyboardInterrupt as e:
        print(f"interrupted ({interrupts.signal_name(e)})", file=sys.stderr)
        return interrupts.exit_status(e)
    except (CommandError, OptionalDependencyError, OSError, ValueError, RuntimeError, KeyError) as e:
        if args.verbose:
            raise
        message = e.args[0] if isinstance(e, KeyError) and e.args else e
        rank = getattr(getattr(args, "job", None), "rank", None)
        where = "" if rank is None else f" (rank {rank})"
        print(f"w2v-ext {args.command}{where}: error: {message}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
