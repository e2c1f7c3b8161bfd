"""The w2v-ext command line (also `python -m w2v_ext`).

    w2v-ext demo [--output-dir DIR]           train on the shipped sample, show neighbours, analogies, plots
    w2v-ext train CORPUS -o OUT [options]     train vectors (see `w2v-ext train --help`)
    torchrun --nproc-per-node N -m w2v_ext train CORPUS -o OUT [options]   ... on N processes (data parallel)
    w2v-ext eval VECTORS --analogies FILE --pairs FILE
    w2v-ext similar VECTORS WORD [--topn 10]
    w2v-ext plot VECTORS --words W1,W2,... -o words.png      (or --neighbours WORD)

Errors print one line (the traceback with --verbose). Never imports torch, except for
distributed training (train --distributed, or launched by torchrun with WORLD_SIZE > 1).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from typing import List, Optional, Tuple

from .atomic_file import check_output_path, resolve_output
from . import interrupts
from .plot import MAX_LABELS, OptionalDependencyError
from .settings import Choice, Flag, Integer, Number, Option, Real, Settings, flag_of, options

EXIT_ERROR = 1


class CommandError(Exception):
    """An error to report to the user in one line."""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}")
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text}")
    return value


def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}")
    if not abs(value) < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = _non_negative_float(text)
    if value == 0:
        raise argparse.ArgumentTypeError("expected a number > 0, got 0")
    return value


def _add_train(sub) -> None:
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
    _add_settings(p, group="")
    dist = p.add_argument_group(
        "distributed training",
        "data parallel over torch.distributed (gloo on the CPU, NCCL with --device cuda), launched with torchrun: "
        "torchrun --nproc-per-node N -m w2v_ext train ... Each process trains its shard of the corpus; the weights "
        "are averaged every --sync-words words per process and at the end of every epoch. Only rank 0 prints and "
        "writes files.")
    dist.add_argument("--distributed", action="store_true",
                      help="train data-parallel (on by itself when torchrun starts several processes)")
    _add_settings(dist, group="distributed")
    dist.add_argument("--dist-timeout", type=_positive_float, default=300.0,
                      help="seconds a process waits for the others at a collective before failing")
    p.add_argument("--save-model", default=None,
                   help="also write the native model (weights, vocabulary, training position) here")
    p.add_argument("--resume", default=None, help="continue training a native model file (its settings win)")
    p.add_argument("--curve", default=None, metavar="PNG",
                   help="also plot the loss and words/s per ~8 MB block of corpus here (needs matplotlib)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(run=_train)


def _add_settings(parser, group: str) -> None:
    """An option for each setting of `group` that has a flag, as settings.py describes it."""
    defaults = Settings()
    for field, option in options():
        flag = flag_of(field)
        if flag is not None and option.group == group:
            parser.add_argument(flag, help=option.help, **_parsing(option, getattr(defaults, field.name)))


def _parsing(option: Option, default) -> dict:
    """How argparse reads a setting: its type or choices (the rule's lower bound; the rest
    is Settings.validate's), and its default."""
    rule = option.rule
    if isinstance(rule, Flag):
        return {"action": "store_true"}   # a negated flag (--cbow-sum) sets its setting False
    if isinstance(rule, Choice):
        return {"choices": rule.choices, "default": default}
    if isinstance(rule, Integer):
        return {"type": _positive_int if rule.low >= 1 else _non_negative_int, "default": default}
    if isinstance(rule, Real):
        return {"type": _positive_float if rule.positive else _non_negative_float, "default": default}
    if isinstance(rule, Number):
        return {"type": _finite_float, "default": default}
    return {"default": default}


def _settings_of(args) -> Settings:
    """The settings the train command's flags give."""
    values = {}
    for field, option in options():
        flag = flag_of(field)
        if flag is not None:
            value = getattr(args, flag[2:].replace("-", "_"))
            values[field.name] = not value if option.negated else value
    return Settings(**values)


def _add_eval(sub) -> None:
    p = sub.add_parser("eval", help="score vectors on analogy and word-similarity sets",
                       description="Score a vector file (word2vec .bin/.txt/.vec or a native model).")
    p.add_argument("vectors")
    p.add_argument("--analogies", default=None, help="questions-words.txt style file")
    p.add_argument("--pairs", action="append", default=[],
                   help="word-pair similarity file (WordSim-353, SimLex-999 style); may be repeated")
    p.add_argument("--restrict", type=_positive_int, default=30000,
                   help="analogies use the most frequent N words, like word2vec.c's compute-accuracy")
    p.add_argument("--method", choices=("3cosadd", "3cosmul"), default="3cosadd", help="analogy scoring")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=_eval)


def _add_similar(sub) -> None:
    p = sub.add_parser("similar", help="nearest neighbours of a word")
    p.add_argument("vectors")
    p.add_argument("word", nargs="+", help="word(s); several are averaged")
    p.add_argument("--topn", type=_positive_int, default=10)
    p.set_defaults(run=_similar)


def _add_plot(sub) -> None:
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
    p.add_argument("--topn", type=_positive_int, default=10, help="neighbours per word with --neighbours "
                                                                   f"(default: 10; at most {MAX_LABELS} labels in all)")
    p.add_argument("--method", choices=("pca", "tsne"), default="pca",
                   help="projection: PCA of the unit vectors (default), or t-SNE (needs scikit-learn)")
    p.set_defaults(run=_plot)


def _add_demo(sub) -> None:
    p = sub.add_parser(
        "demo", help="train on the sample corpus shipped with w2v_ext and show the results",
        description="Train skip-gram (train's default is CBOW) on the sample shipped inside the package (2M "
                    "words of English Wikipedia, CC BY-SA 4.0), print nearest neighbours and analogies, and write the vectors, a neighbours "
                    "plot and a training curve (the plots need matplotlib). No network needed.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--output-dir", default="w2v_ext_demo", help="where the files go (created if needed)")
    p.add_argument("--epochs", type=_positive_int, default=5, help="passes over the sample")
    p.add_argument("--threads", type=_non_negative_int, default=0, help="worker threads (0: every core)")
    p.add_argument("--dim", type=_positive_int, default=100, help="vector size")
    p.add_argument("--seed", type=_non_negative_int, default=1, help="random seed")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(run=_demo)


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of w2v-ext and its commands."""
    parser = argparse.ArgumentParser(prog="w2v-ext", description="Fast word2vec: train, evaluate, query and plot "
                                                                  "vectors (start with: w2v-ext demo).")
    parser.add_argument("--verbose", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    _add_demo(sub)
    _add_train(sub)
    _add_eval(sub)
    _add_similar(sub)
    _add_plot(sub)
    return parser


# ---- commands ----------------------------------------------------------------------

def load_vectors(path: str):
    """KeyedVectors from a word2vec file or a native model file."""
    from .model_format import kind_of
    from .vectors import KeyedVectors
    if not os.path.exists(path):
        raise CommandError(f"vectors file {path!r} does not exist")
    if kind_of(path) == "native" and _is_zip(path):
        from .trainer import Word2Vec
        return Word2Vec.load(path, progress=False).wv
    try:
        return KeyedVectors.load_word2vec_format(path)
    except ValueError as e:
        raise CommandError(str(e)) from e


def _is_zip(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == b"PK\x03\x04"


def _check_image_output(path: str, argument: str) -> None:
    """The image can be written (see check_output_path) in the format it names."""
    check_output_path(path, argument)
    _check_image_format(path, argument)


def _check_image_format(path: str, argument: str) -> None:
    """matplotlib is installed (said now, not after the work) and writes the format the
    extension names."""
    from .plot import _matplotlib
    _, canvas = _matplotlib()
    supported = canvas.get_supported_filetypes()
    ext = os.path.splitext(path)[1][1:].lower()
    if ext not in supported:
        raise CommandError(f"{argument}: cannot tell the image format of {path!r}: end it with .png, .svg or .pdf "
                           f"(or another format matplotlib writes: {', '.join(sorted(supported))})")


TRAIN_OUTPUTS = (("output", "-o/--output"), ("save_model", "--save-model"), ("curve", "--curve"))


def _train_outputs(args) -> List[Tuple[str, str]]:
    """(argument, path) of every file this `train` run writes."""
    return [(argument, getattr(args, attr)) for attr, argument in TRAIN_OUTPUTS if getattr(args, attr)]


def _check_train_outputs(args) -> None:
    """Every output can be written and replaces neither a corpus file nor another output
    (--resume's model may be saved over: it is read once, at the start)."""
    outputs = _train_outputs(args)
    for argument, path in outputs:
        check_output_path(path, argument)
    replaced = [(argument, path) for argument, path in outputs if not resolve_output(path, argument)[1]]
    for i, (argument, path) in enumerate(replaced):
        conflict = _corpus_conflict(path, args.corpus)
        if conflict is not None:
            raise CommandError(f"{argument}: cannot write {path}: {conflict}")
        for other_argument, other in replaced[:i]:
            if _same_file(path, other):
                raise CommandError(f"{argument}: cannot write {path}: it is the same file as {other_argument} "
                                   f"{other}")
    if args.curve:
        _check_image_format(args.curve, "--curve")


def _same_file(a: str, b: str) -> bool:
    """Whether paths a and b name one file: the same real path, or (both existing) the
    same inode, as hard links are."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _corpus_conflict(path: str, corpus: List[str]) -> Optional[str]:
    """Why writing `path` would clobber the corpus, or None."""
    for source in corpus:
        if not os.path.isdir(source):
            if _same_file(path, source):
                return f"it is the corpus file {source}"
            continue
        if _in_directory(path, source):
            return f"it is in the corpus directory {source}, whose files are all read as corpus"
        entry = _entry_linked_to(source, path)
        if entry is not None:
            return f"it is the corpus file {entry} (of the corpus directory {source})"
    return None


def _in_directory(path: str, directory: str) -> bool:
    """Whether `path`, as named or once resolved, is a file the corpus reader reads from
    `directory` (a non-hidden entry), whether it exists yet or not: a later run reads it."""
    for name in (os.path.abspath(path), os.path.realpath(path)):
        parent, base = os.path.split(name)
        if not base.startswith(".") and _same_file(parent, directory):
            return True
    return False


def _entry_linked_to(directory: str, path: str) -> Optional[str]:
    """The non-hidden file of `directory` that is `path` through a symlink or hard link."""
    if not os.path.exists(path):
        return None
    for base in os.listdir(directory):
        entry = os.path.join(directory, base)
        if not base.startswith(".") and os.path.isfile(entry) and _same_file(path, entry):
            return entry
    return None


def _train(args) -> int:
    from . import distributed
    wanted = args.distributed or distributed.launched()
    settings = _settings_of(args)
    settings.validate(distributed=wanted)   # before any work (a resumed model's own settings win later)
    if not wanted:
        return _train_here(args, settings, None)
    dp = distributed.data_parallel(settings.device, args.dist_timeout)   # starts the process group
    args.rank = dp.rank
    try:
        return _train_here(args, settings, dp)
    finally:
        distributed.shutdown()


def _train_here(args, settings: Settings, dp) -> int:
    """Train in this process: alone (dp None) or as one rank of a distributed run (only
    rank 0 checks and writes the outputs and prints)."""
    from .trainer import Word2Vec
    rank0 = dp is None or dp.rank == 0

    def check_outputs():
        if rank0:
            _check_train_outputs(args)

    if dp is None:
        check_outputs()
    else:   # every rank fails together, with rank 0's message
        dp.agree(check_outputs, "the output checks")
    records: List[dict] = []
    corpus = args.corpus[0] if len(args.corpus) == 1 else args.corpus
    progress = not args.quiet and rank0
    if args.resume:
        model = Word2Vec.load(args.resume, progress=progress)
        model.distributed, model.dist_timeout = dp is not None, args.dist_timeout
    else:
        model = Word2Vec(progress=progress, distributed=dp is not None, dist_timeout=args.dist_timeout,
                         **dataclasses.asdict(settings))
    log = (lambda msg: None) if not progress else (lambda msg: print(msg, file=sys.stderr, flush=True))
    start = time.perf_counter()
    if dp is not None:
        log(f"distributed: {dp.size} processes ({dp.backend}), weights averaged every "
            f"{model.settings.sync_words:,} words per process")
    if not args.resume:
        model.build_vocab(corpus)
        log(f"vocabulary: {len(model.vocab)} words, {model.vocab.total} occurrences "
            f"({model.vocab_seconds:.2f}s)")
    interrupted = None
    try:
        stats = model.train(corpus, block_callbacks=[lambda m, r: records.append(r)] if args.curve else ())
    except KeyboardInterrupt as e:   # Ctrl-C, SIGTERM or SIGHUP: keep what was trained
        interrupted = e
        stats = None
    if rank0:
        _save(model, args, log)
    if args.curve and records and rank0:
        from .plot import plot_training_curve
        plot_training_curve(records, args.curve)
        log(f"wrote {args.curve}")
    if interrupted is not None:
        log(f"interrupted at {100 * model.words_done / max(model.words_planned, 1):.1f}% "
            f"({interrupts.signal_name(interrupted)}): saved what was trained"
            + (f"; resume with --resume {args.save_model}" if args.save_model else ""))
        return interrupts.exit_status(interrupted)
    where = "" if dp is None else f" on {dp.size} processes"
    log(f"trained {stats['corpus_words']} words{where} in {stats['seconds']:.2f}s "
        f"({stats['words_per_s'] / 1e6:.3f}M words/s); total {time.perf_counter() - start:.2f}s")
    if dp is not None:
        log(f"syncs: {dp.syncs} weight averages of {dp.sync_bytes / 1e6:.1f} MB, {dp.sync_seconds:.2f}s on rank 0 "
            f"(waiting for the other ranks included)")
    return 0


def _save(model, args, log) -> None:
    from .model_format import save_model
    model.save(args.output)
    log(f"wrote {args.output}")
    if args.save_model:  # always the native format, whatever its extension
        save_model(args.save_model, model)
        log(f"wrote {args.save_model}")


def _eval(args) -> int:
    if not args.analogies and not args.pairs:
        raise CommandError("nothing to evaluate: give --analogies FILE and/or --pairs FILE")
    for path in [args.analogies] + args.pairs:
        if path and not os.path.exists(path):
            raise CommandError(f"evaluation file {path!r} does not exist")
    kv = load_vectors(args.vectors)
    result = {"vectors": args.vectors, "vocab": len(kv), "dim": kv.dim}
    if args.analogies:
        r = kv.evaluate_analogies(args.analogies, restrict_vocab=args.restrict, method=args.method)
        result["analogy"] = {k: r[k] for k in ("accuracy", "correct", "questions", "total")}
    labels = _pair_file_labels(args.pairs)
    for path, label in labels.items():
        r = kv.evaluate_word_pairs(path, restrict_vocab=None)
        result[label] = {k: r[k] for k in ("spearman", "pearson", "pairs", "total")}
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{args.vectors}: {result['vocab']} words, dim {result['dim']}")
    if "analogy" in result:
        a = result["analogy"]
        print(f"  analogies ({args.method}, top {args.restrict} words): {100 * a['accuracy']:.2f}% "
              f"({a['correct']}/{a['questions']} answered of {a['total']})")
    for label in labels.values():
        r = result[label]
        print(f"  {label}: Spearman {r['spearman']:.4f} ({r['pairs']}/{r['total']} pairs)")
    return 0


def _pair_file_labels(paths: List[str]) -> dict:
    """path -> the name its results go under: its base name, or the path as given when
    another file has the same base name. A path given twice is evaluated once."""
    paths = list(dict.fromkeys(paths))
    names = [os.path.basename(p) for p in paths]
    return {p: name if names.count(name) == 1 else p for p, name in zip(paths, names)}


def _require_words(kv, words: List[str], vectors: str) -> None:
    """CommandError naming the first unknown word and the closest vocabulary words."""
    missing = [w for w in words if w not in kv]
    if missing:
        word = missing[0]
        close = kv.closest_words(word)
        hint = f"; closest vocabulary words: {', '.join(close)}" if close else ""
        raise CommandError(f"{word!r} is not in the vocabulary of {vectors}{hint}")


def _similar(args) -> int:
    kv = load_vectors(args.vectors)
    _require_words(kv, args.word, args.vectors)
    for word, score in kv.most_similar(args.word, topn=args.topn):
        print(f"{score:.4f}  {word}")
    return 0


def _split_words(values: List[str]) -> List[str]:
    return [w for value in values for w in value.split(",") if w]


def _plot(args) -> int:
    from . import plot
    _check_image_output(args.output, "-o/--output")   # before loading the vectors
    kv = load_vectors(args.vectors)
    words = _split_words(args.words or args.neighbours)
    if not words:
        raise CommandError("no words given: --words dog,cat,... or --neighbours WORD")
    _require_words(kv, words, args.vectors)
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


def _demo(args) -> int:
    from .demo import run_demo
    run_demo(args.output_dir, epochs=args.epochs, threads=args.threads, dim=args.dim, seed=args.seed,
             progress=not args.quiet)
    return 0


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
        rank = getattr(args, "rank", None)
        where = "" if rank is None else f" (rank {rank})"
        print(f"w2v-ext {args.command}{where}: error: {message}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
