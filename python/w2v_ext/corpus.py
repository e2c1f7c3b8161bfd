"""Corpus sources as streams of byte blocks for the native tokeniser.

A corpus is a text file (plain, .gz, .bz2 or .xz, detected from its first bytes), a
directory (its files in sorted order), a list of paths, or an iterable of sentences
given as token lists (gensim style). Files are read in blocks, so memory does not grow
with the corpus. Text is tokenised like word2vec.c: words are separated by whitespace
and a newline ends a sentence; words are byte strings (a file in any encoding works,
and invalid UTF-8 is kept byte for byte).

`Corpus(source, tokenizer="regex")` applies the tutorial's tokeniser instead: lower
case, tokens matching \\b\\w+\\b or one of , . ! ? (slower: it runs in Python).
"""
from __future__ import annotations

import bz2
import gzip
import lzma
import os
import re
from typing import Iterable, Iterator, List, Optional, Sequence, Tuple, Union

BLOCK_BYTES = 8 << 20
_SEPARATOR_SET = frozenset(b" \t\n\r\v\f")
_SEPARATOR_RE = re.compile(rb"[ \t\n\r\v\f]")
_MAGIC = ((b"\x1f\x8b", gzip.open), (b"BZh", bz2.open), (b"\xfd7zXZ\x00", lzma.open))
_REGEX_TOKEN = re.compile(r"\b\w+\b|[,.!?]")

Source = Union[str, os.PathLike, Sequence[Union[str, os.PathLike]], Iterable[Sequence[str]]]


class CorpusError(ValueError):
    """A corpus that cannot be read: missing, empty, or of an unknown kind."""


def _opener(path: str):
    with open(path, "rb") as f:
        head = f.read(6)
    for magic, opener in _MAGIC:
        if head.startswith(magic):
            return opener
    return open


def _is_compressed(path: str) -> bool:
    return _opener(path) is not open


class Corpus:
    """A re-readable corpus: every `blocks()` call streams it again from the start."""

    def __init__(self, source: Source, tokenizer: str = "whitespace"):
        if tokenizer not in ("whitespace", "regex"):
            raise ValueError(f"tokenizer must be 'whitespace' (word2vec.c) or 'regex' (the tutorial's), "
                             f"got {tokenizer!r}")
        self.tokenizer = tokenizer
        self.paths: Optional[List[str]] = None
        self.sentences = None
        if isinstance(source, (str, os.PathLike)):
            self.paths = _expand(os.fspath(source))
        elif isinstance(source, (list, tuple)) and source and all(isinstance(s, (str, os.PathLike)) for s in source):
            self.paths = [p for s in source for p in _expand(os.fspath(s))]
        elif isinstance(source, Iterable):
            if iter(source) is source:
                raise CorpusError("corpus: a one-shot iterator cannot be read more than once (the vocabulary "
                                  "scan and every epoch read it again); pass a list or a re-iterable object")
            self.sentences = source
        else:
            raise CorpusError(f"corpus must be a path, a list of paths or an iterable of token lists, "
                              f"got {type(source).__name__}")

    def __repr__(self):
        what = self.paths if self.paths is not None else type(self.sentences).__name__
        return f"Corpus({what!r}, tokenizer={self.tokenizer!r})"

    @property
    def total_bytes(self) -> Optional[int]:
        """Size on disk of the corpus files (None for an in-memory corpus)."""
        return None if self.paths is None else sum(os.path.getsize(p) for p in self.paths)

    def blocks(self, block_bytes: int = BLOCK_BYTES) -> Iterator[bytes]:
        """The corpus as bytes, in blocks of about block_bytes. Files follow one another
        as separate sentences."""
        if self.sentences is not None:
            yield from _sentence_blocks(self.sentences, block_bytes, self.tokenizer)
            return
        for path in self.paths:
            blocks = _file_blocks(path, block_bytes)
            if self.tokenizer == "regex":
                blocks = _regex_blocks(blocks)
            yield from blocks
            yield b"\n"

    def ranges(self, parts: int) -> List[Tuple[str, int, int]]:
        """Byte ranges (path, start, end) that split the plain-text files into about
        `parts` pieces for parallel counting, or [] when the corpus cannot be split
        (compressed files, an in-memory corpus, the regex tokeniser)."""
        if self.paths is None or self.tokenizer != "whitespace" or any(_is_compressed(p) for p in self.paths):
            return []
        total = sum(os.path.getsize(p) for p in self.paths)
        step = max(1, -(-total // max(parts, 1)))
        out = []
        for path in self.paths:
            size = os.path.getsize(path)
            out.extend((path, s, min(size, s + step)) for s in range(0, size, step))
        return out


def _expand(path: str) -> List[str]:
    if os.path.isdir(path):
        files = sorted(os.path.join(path, f) for f in os.listdir(path)
                       if os.path.isfile(os.path.join(path, f)) and not f.startswith("."))
        if not files:
            raise CorpusError(f"corpus directory {path!r} holds no files")
        return files
    if not os.path.exists(path):
        raise FileNotFoundError(f"corpus file {path!r} does not exist")
    return [path]


def _file_blocks(path: str, block_bytes: int) -> Iterator[bytes]:
    opener = _opener(path)
    try:
        with opener(path, "rb") as f:
            while True:
                block = f.read(block_bytes)
                if not block:
                    return
                yield block
    except (OSError, EOFError, lzma.LZMAError) as e:
        if isinstance(e, FileNotFoundError):
            raise
        raise CorpusError(f"corpus file {path!r} could not be read: {e}") from e


def read_range(path: str, start: int, end: int, block_bytes: int = BLOCK_BYTES) -> Iterator[bytes]:
    """The words of a plain file that start in [start, end): a word cut by `start`
    belongs to the range before, one cut by `end` to this one."""
    with open(path, "rb") as f:
        if start > 0:
            f.seek(start - 1)
            if f.read(1)[0] not in _SEPARATOR_SET:
                _seek_past_word(f)
        pos, last = f.tell(), None
        while pos < end:
            block = f.read(min(block_bytes, end - pos))
            if not block:
                return
            pos, last = pos + len(block), block[-1]
            yield block
        if last is not None and last not in _SEPARATOR_SET:  # finish the word that straddles `end`
            while True:
                block = f.read(1 << 16)
                hit = _SEPARATOR_RE.search(block)
                if hit is not None or not block:
                    yield block[:hit.start()] if hit else block
                    return
                yield block


def _seek_past_word(f) -> None:
    """Move f to the first separator at or after its position (or the end)."""
    while True:
        block = f.read(1 << 16)
        if not block:
            return
        hit = _SEPARATOR_RE.search(block)
        if hit is not None:
            f.seek(f.tell() - len(block) + hit.start())
            return


def _regex_blocks(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """The tutorial's tokeniser, applied line by line (lines are kept as sentences)."""
    tail = b""
    for block in blocks:
        data = tail + block
        cut = data.rfind(b"\n")
        if cut < 0:
            tail = data
            continue
        tail = data[cut + 1:]
        yield _regex_lines(data[:cut + 1])
    if tail:
        yield _regex_lines(tail)


def _regex_lines(data: bytes) -> bytes:
    lines = data.decode("utf-8", "replace").split("\n")
    return "\n".join(" ".join(t.lower() for t in _REGEX_TOKEN.findall(line)) for line in lines).encode()


def _sentence_blocks(sentences, block_bytes: int, tokenizer: str) -> Iterator[bytes]:
    return batched(_sentence_lines(sentences, tokenizer), block_bytes)


def _sentence_lines(sentences, tokenizer: str) -> Iterator[bytes]:
    for sentence in sentences:
        if isinstance(sentence, (str, bytes)):
            raise CorpusError("corpus: each sentence must be a list of tokens, got a "
                              f"{type(sentence).__name__} (split it into words first)")
        tokens = [t.decode("utf-8", "surrogateescape") if isinstance(t, bytes) else str(t) for t in sentence]
        if tokenizer == "regex":
            tokens = [t.lower() for tok in tokens for t in _REGEX_TOKEN.findall(tok)]
        yield (" ".join(tokens) + "\n").encode("utf-8", "surrogateescape")


def batched(units: Iterable[bytes], block_bytes: int) -> Iterator[bytes]:
    """Join consecutive byte strings into blocks of about block_bytes (each unit whole)."""
    parts, size = [], 0
    for unit in units:
        parts.append(unit)
        size += len(unit)
        if size >= block_bytes:
            yield b"".join(parts)
            parts, size = [], 0
    if parts:
        yield b"".join(parts)
