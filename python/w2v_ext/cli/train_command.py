"""`w2v-ext train CORPUS -o OUT [options]`: train vectors, options made from settings.py."""
from __future__ import annotations

import argparse
import sys
from typing import List

from ..settings import flag_of, options
from .arguments import DefaultsHelpFormatter, add_settings, positive_float, settings_of
from .train_outputs import FORMATS
from .training import TrainJob, run_training
from .word2vec_command import misread_flag_messages

ARGUMENTS = {"output": "-o/--output", "save_model": "--save-model", "save_vocab": "--save-vocab",
             "read_vocab": "--read-vocab", "curve": "--curve"}


def add_parser(sub) -> None:
    p = sub.add_parser(
        "train", help="train word vectors on a corpus",
        description="Train word vectors with word2vec.c's recipe (skip-gram or CBOW with negative sampling). "
                    "The output format follows OUT's extension (or --format): .bin word2vec binary, .txt/.vec "
                    "word2vec text (a further .gz/.bz2/.xz compresses them), .model the native model format "
                    "(resumable with --resume). word2vec.c's own flags: `w2v-ext word2vec`.",
        formatter_class=DefaultsHelpFormatter)
    p.foreign_flags = misread_flag_messages()
    p.add_argument("corpus", nargs="+",
                   help="text file(s) or directories; .gz/.bz2/.xz are read transparently. Words are separated "
                        "by whitespace, a newline ends a sentence")
    p.add_argument("-o", "--output", required=True, help="where to write the vectors (its directory must exist)")
    p.add_argument("--format", choices=tuple(FORMATS), default=None,
                   help="the output's format: word2vec binary, word2vec text or the native model (default: the one "
                        "OUT's extension names)")
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
    p.add_argument("--save-vocab", default=None, metavar="FILE",
                   help="also write the vocabulary here, word2vec.c's 'word count' lines, most frequent first")
    p.add_argument("--read-vocab", default=None, metavar="FILE",
                   help="read the vocabulary from such a file instead of counting the corpus (min-count and "
                        "max-final-vocab still apply)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(run=run)


def ignored_by_resume(args) -> List[str]:
    """The flags given (set to other than their default) that --resume ignores: the
    model's own settings and vocabulary win."""
    ignored = []
    defaults = settings_of(argparse.Namespace(**{**vars(args), **_setting_defaults()}))
    given = settings_of(args)
    for field, _ in options():
        if getattr(given, field.name) != getattr(defaults, field.name):
            ignored.append(flag_of(field))
    if args.read_vocab:
        ignored.append("--read-vocab")
    return ignored


def _setting_defaults() -> dict:
    parser = argparse.ArgumentParser()
    add_settings(parser, group="")
    add_settings(parser, group="distributed")
    return vars(parser.parse_args([]))


def run(args) -> int:
    if args.resume:
        ignored = ignored_by_resume(args)
        if ignored:
            print(f"w2v-ext train: warning: --resume continues with the model's own settings and vocabulary; "
                  f"ignored: {', '.join(ignored)}", file=sys.stderr)
    job = TrainJob(corpus=args.corpus, output=args.output, arguments=ARGUMENTS, output_format=args.format,
                   save_model=args.save_model, save_vocab=args.save_vocab, read_vocab=args.read_vocab,
                   resume=args.resume, curve=args.curve, progress=not args.quiet, report=not args.quiet,
                   distributed=args.distributed, dist_timeout=args.dist_timeout)
    args.job = job
    return run_training(job, settings_of(args))
