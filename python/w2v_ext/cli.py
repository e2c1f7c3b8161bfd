"""The w2v-ext command line (also `python -m w2v_ext`).

    w2v-ext train CORPUS -o OUT [options]     train vectors (see `w2v-ext train --help`)
    w2v-ext eval VECTORS --analogies FILE --pairs FILE
    w2v-ext similar VECTORS WORD [--topn 10]

Errors print one line (the traceback with --verbose). Never imports torch.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import List, Optional

EXIT_ERROR, EXIT_INTERRUPTED = 1, 130


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
    p.add_argument("--model", choices=("sg", "cbow"), default="sg", help="skip-gram or CBOW (word2vec.c: -cbow)")
    p.add_argument("--dim", type=_positive_int, default=100, help="vector size (word2vec.c: -size)")
    p.add_argument("--window", type=_positive_int, default=5,
                   help="maximum context distance; each word uses a random one in [1, window]")
    p.add_argument("--negative", type=_positive_int, default=5, help="negative samples per word")
    p.add_argument("--sample", type=_non_negative_float, default=1e-3,
                   help="frequent-word subsampling threshold (0: off)")
    p.add_argument("--min-count", type=_positive_int, default=5, help="drop words seen fewer times")
    p.add_argument("--epochs", type=_positive_int, default=1, help="passes over the corpus (word2vec.c: -iter)")
    p.add_argument("--threads", type=_non_negative_int, default=0, help="worker threads (0: every core)")
    p.add_argument("--alpha", type=_positive_float, default=None,
                   help="starting learning rate (default 0.025 for sg, 0.05 for cbow); it decays linearly to "
                        "alpha * 1e-4")
    p.add_argument("--seed", type=_non_negative_int, default=1,
                   help="random seed; with --threads 1 the vectors are identical from run to run")
    p.add_argument("--max-vocab-size", type=_positive_int, default=None,
                   help="most distinct words held while counting; the rarest are pruned as word2vec.c does")
    p.add_argument("--max-final-vocab", type=_positive_int, default=None, help="keep only this many words")
    p.add_argument("--cbow-sum", action="store_true", help="CBOW: sum the context vectors instead of averaging")
    p.add_argument("--per-pair-negatives", action="store_true",
                   help="skip-gram: draw negatives for every (word, context) pair as word2vec.c does, instead "
                        "of once per window (HogBatch; faster, same quality)")
    p.add_argument("--tokenizer", choices=("whitespace", "regex"), default="whitespace",
                   help="whitespace (word2vec.c) or regex (the tutorial's lower-case \\b\\w+\\b|[,.!?])")
    p.add_argument("--save-model", default=None,
                   help="also write the native model (weights, vocabulary, training position) here")
    p.add_argument("--resume", default=None, help="continue training a native model file (its settings win)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(run=_train)


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="w2v-ext", description="Fast word2vec: train, evaluate and query vectors.")
    parser.add_argument("--verbose", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    _add_train(sub)
    _add_eval(sub)
    _add_similar(sub)
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


def _check_output(path: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise CommandError(f"output directory {directory} does not exist")
    if os.path.isdir(path):
        raise CommandError(f"output {path!r} is a directory")


def _train(args) -> int:
    from .trainer import Word2Vec
    _check_output(args.output)
    if args.save_model:
        _check_output(args.save_model)
    corpus = args.corpus[0] if len(args.corpus) == 1 else args.corpus
    progress = not args.quiet
    if args.resume:
        model = Word2Vec.load(args.resume, progress=progress)
    else:
        model = Word2Vec(model=args.model, dim=args.dim, window=args.window, negative=args.negative,
                         sample=args.sample, min_count=args.min_count, epochs=args.epochs, threads=args.threads,
                         alpha=args.alpha, seed=args.seed, max_vocab_size=args.max_vocab_size,
                         max_final_vocab=args.max_final_vocab, cbow_mean=not args.cbow_sum,
                         shared_negatives=not args.per_pair_negatives, tokenizer=args.tokenizer,
                         progress=progress)
    log = (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
    start = time.perf_counter()
    if not args.resume:
        model.build_vocab(corpus)
        log(f"vocabulary: {len(model.vocab)} words, {model.vocab.total} occurrences "
            f"({model.vocab_seconds:.2f}s)")
    interrupted = False
    try:
        stats = model.train(corpus)
    except KeyboardInterrupt:
        interrupted = True
        stats = None
    _save(model, args, log)
    if interrupted:
        log(f"interrupted at {100 * model.words_done / max(model.words_planned, 1):.1f}%: saved what was trained"
            + (f"; resume with --resume {args.save_model}" if args.save_model else ""))
        return EXIT_INTERRUPTED
    log(f"trained {stats['corpus_words']} words in {stats['seconds']:.2f}s ({stats['words_per_s'] / 1e6:.3f}M "
        f"words/s); total {time.perf_counter() - start:.2f}s")
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
    for path in args.pairs:
        r = kv.evaluate_word_pairs(path)
        result[os.path.basename(path)] = {k: r[k] for k in ("spearman", "pearson", "pairs", "total")}
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{args.vectors}: {result['vocab']} words, dim {result['dim']}")
    if "analogy" in result:
        a = result["analogy"]
        print(f"  analogies ({args.method}, top {args.restrict} words): {100 * a['accuracy']:.2f}% "
              f"({a['correct']}/{a['questions']} answered of {a['total']})")
    for path in args.pairs:
        r = result[os.path.basename(path)]
        print(f"  {os.path.basename(path)}: Spearman {r['spearman']:.4f} ({r['pairs']}/{r['total']} pairs)")
    return 0


def _similar(args) -> int:
    kv = load_vectors(args.vectors)
    missing = [w for w in args.word if w not in kv]
    if missing:
        word = missing[0]
        close = kv.closest_words(word)
        hint = f"; closest vocabulary words: {', '.join(close)}" if close else ""
        raise CommandError(f"{word!r} is not in the vocabulary of {args.vectors}{hint}")
    for word, score in kv.most_similar(args.word, topn=args.topn):
        print(f"{score:.4f}  {word}")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (CommandError, OSError, ValueError, RuntimeError, KeyError) as e:
        if args.verbose:
            raise
        message = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"w2v-ext {args.command}: error: {message}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
