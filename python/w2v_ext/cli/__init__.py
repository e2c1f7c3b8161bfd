"""The w2v-ext command line (also `python -m w2v_ext`).

    w2v-ext demo [--output-dir DIR]           train on the shipped sample, show neighbours, analogies, plots
    w2v-ext train CORPUS -o OUT [options]     train vectors (see `w2v-ext train --help`)
    torchrun --nproc-per-node N -m w2v_ext train CORPUS -o OUT [options]   ... on N processes (data parallel)
    w2v-ext eval VECTORS --analogies FILE --pairs FILE
    w2v-ext similar VECTORS WORD [--topn 10]
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
from . import demo_command, eval_command, plot_command, query_commands, train_command
from .arguments import settings_of
from .errors import EXIT_ERROR, CommandError
from .vectors_input import load_vectors

__all__ = ["build_parser", "main", "settings_of", "load_vectors", "CommandError"]


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of w2v-ext and its commands."""
    parser = argparse.ArgumentParser(prog="w2v-ext", description="Fast word2vec: train, evaluate, query and plot "
                                                                  "vectors (start with: w2v-ext demo).")
    parser.add_argument("--verbose", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    demo_command.add_parser(sub)
    train_command.add_parser(sub)
    eval_command.add_parser(sub)
    query_commands.add_similar(sub)
    plot_command.add_parser(sub)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Run w2v-ext with `argv` (default: sys.argv[1:]); returns the exit status (0 ok,
    1 error, 2 usage error, 128 + the signal's number when interrupted: 130 Ctrl-C,
    143 SIGTERM, 129 SIGHUP)."""
    parser = build_parser()
    args = parser.parse_args(argv)
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
