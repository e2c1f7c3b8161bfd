"""`w2v-ext demo`: train on the sample shipped with the package and show the results."""
from __future__ import annotations

import argparse

from .arguments import DefaultsHelpFormatter, non_negative_int, positive_int


def add_parser(sub) -> None:
    p = sub.add_parser(
        "demo", help="train on the sample corpus shipped with w2v_ext and show the results",
        description="Train skip-gram (train's default is CBOW) on the sample shipped inside the package (2M "
                    "words of English Wikipedia, CC BY-SA 4.0), print nearest neighbours and analogies, and write the vectors, a neighbours "
                    "plot and a training curve (the plots need matplotlib). No network needed.",
        formatter_class=DefaultsHelpFormatter)
    p.add_argument("--output-dir", default="w2v_ext_demo", help="where the files go (created if needed)")
    p.add_argument("--epochs", type=positive_int, default=5, help="passes over the sample")
    p.add_argument("--threads", type=non_negative_int, default=0, help="worker threads (0: every core)")
    p.add_argument("--dim", type=positive_int, default=100, help="vector size")
    p.add_argument("--seed", type=non_negative_int, default=1, help="random seed")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..demo import run_demo
    run_demo(args.output_dir, epochs=args.epochs, threads=args.threads, dim=args.dim, seed=args.seed,
             progress=not args.quiet)
    return 0
