"""`w2v-ext similar VECTORS WORD... [--negative WORD...]` and `w2v-ext analogy VECTORS a b c`:
one query from the arguments, or, with none given, one per line of stdin (the vectors
loaded once, as word2vec.c's distance and word-analogy and fastText's nn and analogies
do); an empty line or the end of input ends. An unknown word fails its query only."""
from __future__ import annotations

import sys
from typing import Callable, List, Optional

from .arguments import positive_int
from .errors import CommandError
from .vectors_input import load_vectors, unknown_word_message

INTERACTIVE = ("with no {what} given, read one query per line from stdin (an empty line, EXIT as word2vec.c's "
               "tools take it, or the end of input ends)")


def add_similar(sub) -> None:
    p = sub.add_parser("similar", help="nearest neighbours of a word (or of several, added and subtracted)",
                       description="Nearest neighbours by cosine: of a word, of the mean of several, or of "
                                   "WORD... minus --negative WORD... (gensim's most_similar). "
                                   + INTERACTIVE.format(what="WORD") + ": a line is WORD... [- WORD...].")
    p.add_argument("vectors")
    p.add_argument("word", nargs="*", help="word(s); several are averaged")
    p.add_argument("--negative", nargs="+", default=[], metavar="WORD", help="words to subtract")
    p.add_argument("--topn", type=positive_int, default=10)
    p.set_defaults(run=similar)


def add_analogy(sub) -> None:
    p = sub.add_parser("analogy", help="answer a : b :: c : ? (man king woman -> queen)",
                       description="Answer a : b :: c : ?, the words closest to b - a + c (3CosAdd; 3CosMul with "
                                   "--method). " + INTERACTIVE.format(what="words") + ": a line is a b c.")
    p.add_argument("vectors")
    p.add_argument("words", nargs="*", metavar="a b c", help="the three words")
    p.add_argument("--topn", type=positive_int, default=10)
    p.add_argument("--method", choices=("3cosadd", "3cosmul"), default="3cosadd", help="analogy scoring")
    p.set_defaults(run=analogy)


def similar(args) -> int:
    if args.negative and not args.word:
        raise CommandError("--negative needs at least one positive WORD before it")
    kv = load_vectors(args.vectors)

    def answer(positive: List[str], negative: List[str]):
        message = unknown_word_message(kv, positive + negative, args.vectors)
        if message is not None:
            return message
        return kv.most_similar(positive=positive, negative=negative, topn=args.topn)

    if args.word:
        return _print_answer(answer(args.word, args.negative), fail=True)
    return _interactive("words (- words to subtract)", lambda words: answer(*_split_negative(words)))


def analogy(args) -> int:
    if args.words and len(args.words) != 3:
        raise CommandError(f"analogy needs three words a b c (a : b :: c : ?), got {len(args.words)}")
    kv = load_vectors(args.vectors)

    def answer(words: List[str]):
        if len(words) != 3:
            return f"expected three words a b c, got {len(words)}"
        message = unknown_word_message(kv, words, args.vectors)
        if message is not None:
            return message
        return kv.analogy(*words, topn=args.topn, method=args.method)

    if args.words:
        return _print_answer(answer(args.words), fail=True)
    return _interactive("a b c", answer)


def _split_negative(words: List[str]):
    """A line's WORD... [- WORD...] as (positive, negative)."""
    if "-" in words:
        i = words.index("-")
        return words[:i], words[i + 1:]
    return words, []


def _print_answer(answer, fail: bool) -> int:
    """Print (word, score) pairs, best first, or the error message of a failed query:
    raised (fail) or printed to stderr. Returns 0, or 1 for a failed query."""
    if isinstance(answer, str):
        if fail:
            raise CommandError(answer)
        print(f"error: {answer}", file=sys.stderr, flush=True)
        return 1
    for word, score in answer:
        print(f"{score:.4f}  {word}")
    return 0


def _interactive(what: str, answer: Callable[[List[str]], object]) -> int:
    """Answer stdin's lines until an empty one, EXIT or the end; 1 if a query failed."""
    prompt: Optional[str] = f"query ({what}; an empty line or EXIT ends): " if sys.stdin.isatty() else None
    status = 0
    while True:
        if prompt:
            print(prompt, end="", file=sys.stderr, flush=True)
        line = sys.stdin.readline()
        words = line.split()
        if not words or words == ["EXIT"]:
            return status
        status |= _print_answer(answer(words), fail=False)
        print(flush=True)   # a blank line after each answer
