"""`w2v-ext word2vec -train corpus.txt -output vec.bin ...`: word2vec.c's command line,
flags and defaults, so that a word2vec.c script only changes the program name. The flags
become Settings and a TrainJob, trained as `w2v-ext train` trains."""
from __future__ import annotations

import argparse
import dataclasses
from typing import Any, Callable, Dict, List, Optional

from ..settings import Settings
from .arguments import non_negative_float, non_negative_int, positive_float, positive_int
from .errors import UsageError
from .training import TrainJob, run_training


def zero_or_one(text: str) -> int:
    if text not in ("0", "1"):
        raise argparse.ArgumentTypeError(f"expected 0 or 1, got {text!r}")
    return int(text)


@dataclasses.dataclass(frozen=True)
class CFlag:
    """A word2vec.c flag: how its value is read, its default (word2vec.c's), the train
    command's spelling of it (None: no equivalent) and its help."""
    name: str
    parse: Callable[[str], Any]
    default: Any
    train: Optional[str]
    help: str


FLAGS = [
    CFlag("-train", str, None, "CORPUS (train's first argument)", "the corpus: a text file (.gz/.bz2/.xz too)"),
    CFlag("-output", str, None, "--output", "where to write the vectors (none: count the vocabulary only)"),
    CFlag("-size", positive_int, 100, "--dim", "vector size"),
    CFlag("-window", positive_int, 5, "--window", "maximum context distance"),
    CFlag("-sample", non_negative_float, 1e-3, "--sample", "frequent-word subsampling threshold (0: off)"),
    CFlag("-hs", zero_or_one, 0, None, "hierarchical softmax: only 0 (w2v_ext trains with negative sampling)"),
    CFlag("-negative", positive_int, 5, "--negative", "negative samples per word (at least 1)"),
    CFlag("-threads", positive_int, None, "--threads", "worker threads (default: every core; word2vec.c: 12)"),
    CFlag("-iter", positive_int, 5, "--epochs", "passes over the corpus"),
    CFlag("-min-count", positive_int, 5, "--min-count", "drop words seen fewer times"),
    CFlag("-alpha", positive_float, None, "--alpha", "starting learning rate (default 0.05 for CBOW, 0.025 for "
                                                      "skip-gram)"),
    CFlag("-classes", non_negative_int, 0, None, "word classes (K-means): only 0 (vectors are written)"),
    CFlag("-debug", non_negative_int, 2, "--quiet", "0: silent, 1: what was counted and written, 2: progress too"),
    CFlag("-binary", zero_or_one, 0, "--format bin (or an output ending in .bin)", "1: binary output, 0: text"),
    CFlag("-save-vocab", str, None, "--save-vocab", "write the vocabulary ('word count' lines) here"),
    CFlag("-read-vocab", str, None, "--read-vocab", "read the vocabulary from here instead of counting the corpus"),
    CFlag("-cbow", zero_or_one, 1, "--model cbow|sg", "1: CBOW, 0: skip-gram"),
]
BY_NAME: Dict[str, CFlag] = {flag.name: flag for flag in FLAGS}
ARGUMENTS = {"output": "-output", "save_model": "--save-model", "save_vocab": "-save-vocab",
             "read_vocab": "-read-vocab", "curve": "--curve"}


def misread_flag_messages() -> Dict[str, str]:
    """word2vec.c flag -> the message the train command gives for it."""
    messages = {}
    for flag in FLAGS:
        if flag.train is None:
            what = "hierarchical softmax is not supported" if flag.name == "-hs" else "word classes are not supported"
            messages[flag.name] = f"{flag.name} is word2vec.c's flag, and {what} (`w2v-ext word2vec` takes " \
                                  f"word2vec.c's flags)"
        else:
            messages[flag.name] = f"{flag.name} is word2vec.c's flag: use {flag.train} (or `w2v-ext word2vec`, " \
                                  f"which takes word2vec.c's flags)"
    return messages


def add_parser(sub) -> None:
    """The command in `w2v-ext --help`'s list; main() parses its flags (see parse)."""
    sub.add_parser("word2vec", add_help=False,
                   help="train with word2vec.c's flags and defaults: w2v-ext word2vec -train corpus.txt -output "
                        "vec.bin ...")


def usage() -> str:
    lines = ["usage: w2v-ext word2vec -train CORPUS [-output FILE] [-flag value ...]", "",
             "word2vec.c's command line: its flags, its defaults (CBOW, 5 iterations, text output unless -binary 1),",
             "trained by w2v_ext (negative sampling; see `w2v-ext train --help` for more options).", "", "flags:"]
    for flag in FLAGS:
        default = "" if flag.default is None else f" (default: {flag.default})"
        lines.append(f"  {flag.name:<12} {flag.help}{default}")
    return "\n".join(lines)


def show_usage(args) -> int:
    print(usage())
    return 0


def parse(tokens: List[str]) -> argparse.Namespace:
    """The command's arguments from word2vec.c's `-flag value` pairs; UsageError naming
    the flag for an unknown flag, a bad value or an unsupported setting."""
    if not tokens or tokens[0] in ("-h", "-help", "--help"):
        return argparse.Namespace(command="word2vec", run=show_usage)
    values: Dict[str, Any] = {}
    for i in range(0, len(tokens), 2):
        name = tokens[i]
        flag = BY_NAME.get(name)
        if flag is None:
            raise UsageError(_unknown(name))
        if name in values:
            raise UsageError(f"{name} is given twice")
        if i + 1 == len(tokens):
            raise UsageError(f"{name} needs a value")
        try:
            values[name] = flag.parse(tokens[i + 1])
        except argparse.ArgumentTypeError as e:
            raise UsageError(f"{name}: {e}") from None
    given = {flag.name[1:].replace("-", "_"): values.get(flag.name, flag.default) for flag in FLAGS}
    if given["hs"]:
        raise UsageError("-hs 1: hierarchical softmax is not supported: w2v_ext trains with negative sampling only "
                         "(-hs 0, -negative 1 or more)")
    if given["classes"]:
        raise UsageError(f"-classes {given['classes']}: word classes (K-means) are not supported: w2v_ext writes the "
                         f"vectors (-classes 0); cluster them afterwards")
    if given["train"] is None:
        raise UsageError("-train CORPUS is required")
    return argparse.Namespace(command="word2vec", run=run, **given)


def _unknown(name: str) -> str:
    known = ", ".join(flag.name for flag in FLAGS)
    if name.startswith("--") and "-" + name[2:] in BY_NAME:
        return f"unknown flag {name}: word2vec.c's flags take one dash: -{name[2:]}"
    if not name.startswith("-"):
        return f"unexpected {name!r}: word2vec.c's flags come in pairs, -flag value (flags: {known})"
    return f"unknown flag {name} (word2vec.c's flags: {known})"


def settings_of(args) -> Settings:
    """word2vec.c's settings: the flags given, its defaults for the rest (its recipe:
    input vectors in +-0.5/dim, the learning rate falling toward 0 (min_alpha=0), sentences
    cut at 1000 words)."""
    return Settings(model="cbow" if args.cbow else "sg", dim=args.size, window=args.window, negative=args.negative,
                    sample=args.sample, min_count=args.min_count, epochs=args.iter, threads=args.threads or 0,
                    alpha=args.alpha, min_alpha=0.0, init_range=0.5, max_sentence_length=1000)


def run(args) -> int:
    job = TrainJob(corpus=[args.train], output=args.output, arguments=ARGUMENTS,
                   output_format="bin" if args.binary else "txt", c_text=True, save_vocab=args.save_vocab,
                   read_vocab=args.read_vocab, progress=args.debug >= 2, report=args.debug >= 1)
    args.job = job
    return run_training(job, settings_of(args))
