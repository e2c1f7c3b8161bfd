"""`w2v-ext train CORPUS -o OUT [options]`: train vectors, options made from settings.py."""
from __future__ import annotations

import argparse

from .arguments import add_settings, positive_float, settings_of
from .training import TrainJob, run_training

ARGUMENTS = {"output": "-o/--output", "save_model": "--save-model", "curve": "--curve"}


def add_parser(sub) -> None:
    p = sub.add_parser(
        "train", help="train word vectors on a corpus",
        description="Train word vectors with word2vec.c's recipe (skip-gram or CBOW with negative sampling). "
                    "The output format follows OUT's extension: .bin word2vec binary, .txt/.vec word2vec text "
                    "(a further .gz/.bz2/.xz compresses them), anything else the native model format "
                    "(resumable with --resume).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("corpus", nargs="+",
                   help="text file(s) or directories; .gz/.bz2/.xz are read transparently. Words are separated "
                        "by whitespace, a newline ends a sentence")
    p.add_argument("-o", "--output", required=True, help="where to write the vectors (its directory must exist)")
    add_settings(p, group="")
    dist = p.add_argument_group(
        "distributed training",
        "data parallel over torch.distributed (gloo on the CPU, NCCL with --device cuda), launched with torchrun: "
        "torchrun --nproc-per-node N -m w2v_ext train ... Each process trains its shard of the corpus; the weights "
        "are averaged every --sync-words words per process and at the end of every epoch. Only rank 0 prints and "
        "writes files.")
    dist.add_argument("--distributed", action="store_true",
                      help="train data-parallel (on by itself when torchrun starts several processes)")
    add_settings(dist, group="distributed")
    dist.add_argument("--dist-timeout", type=positive_float, default=300.0,
                      help="seconds a process waits for the others at a collective before failing")
    p.add_argument("--save-model", default=None,
                   help="also write the native model (weights, vocabulary, training position) here")
    p.add_argument("--resume", default=None, help="continue training a native model file (its settings win)")
    p.add_argument("--curve", default=None, metavar="PNG",
                   help="also plot the loss and words/s per ~8 MB block of corpus here (needs matplotlib)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(run=run)


def run(args) -> int:
    job = TrainJob(corpus=args.corpus, output=args.output, arguments=ARGUMENTS, save_model=args.save_model,
                   resume=args.resume, curve=args.curve, progress=not args.quiet, report=not args.quiet,
                   distributed=args.distributed, dist_timeout=args.dist_timeout)
    args.job = job
    return run_training(job, settings_of(args))
