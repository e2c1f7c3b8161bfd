"""Corpus sources as streams of byte blocks for the native tokeniser: TextFiles and
TokenLists, both a Corpus (blocks(), ranges(), token_records, total_bytes).

A corpus is a text file (plain, .gz, .bz2 or .xz, detected from its first bytes), a
directory (its files in sorted order), a list of paths, or an iterable of sentences
given as token lists (gensim style). Files are read in blocks, so memory does not grow
with the corpus. Text is tokenised like word2vec.c: words are separated by whitespace
and a newline ends a sentence; words are byte strings (a file in any encoding works,
and invalid UTF-8 is kept byte for byte) cut to MAX_WORD_BYTES bytes.

A pipe, FIFO or device (`/dev/stdin`, `<(zcat ...)`) is read once, into a temporary
file in TMPDIR that every pass then reads (a message on stderr says so); the copy is
kept, unnamed, for the life of the process, so a second Corpus of the same stream
reads the same text.

Token lists are taken token by token: a token is one word whatever it holds (spaces
too), a str (encoded as UTF-8) or bytes, cut to MAX_WORD_BYTES bytes like the words
of a file; they reach the native code as token records (csrc/corpus/tokenizer.h).

`Corpus(source, tokenizer="regex")` applies the tutorial's tokeniser instead: lower
case, tokens matching \\b\\w+\\b or one of , . ! ? (slower: it runs in Python), line
by line in text, token by token in token lists.
"""
from __future__ import annotations

import atexit
import codecs
import logging
import os
import re
import stat
import tempfile
from array import array
from contextlib import contextmanager
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from . import _native
from .compression import CORRUPT_DATA, decompressor

logger = logging.getLogger(__name__)   # shown on stderr unless the application configures logging

BLOCK_BYTES = 8 << 20
_SEPARATOR_SET = frozenset(b" \t\n\r\v\f")
_SEPARATOR_RE = re.compile(rb"[ \t\n\r\v\f]")
_REGEX_TOKEN = re.compile(r"\b\w+\b|[,.!?]")
_LAST_NON_WORD = re.compile(r"\W\w*\Z")
_WORD_CHARS = re.compile(r"\w*")
_READ_ERRORS = (OSError,) + CORRUPT_DATA
MAX_WORD_BYTES = _native.cpu.MAX_WORD_BYTES
# The regex tokenizer works on pieces of about this many characters: a longer line is
# cut between tokens (its memory is that of a piece, not of the line).
REGEX_PIECE_CHARS = 1 << 16
# ... and keeps this many characters of a longer run of word characters (one token, cut
# to MAX_WORD_BYTES later): enough that lower-casing and cutting give the bytes the whole
# run would.
_RUN_KEEP_CHARS = 4 * MAX_WORD_BYTES

Source = Union[str, os.PathLike, Sequence[Union[str, os.PathLike]], Iterable[Sequence[str]]]


class CorpusError(ValueError):
    """A corpus that cannot be read: missing, empty, damaged, or of an unknown kind."""


@contextmanager
def _reading(path: str):
    """Turns a failure to read or decompress `path` into a CorpusError naming it."""
    try:
        yield
    except FileNotFoundError:
        raise
    except _READ_ERRORS as e:
        raise CorpusError(f"corpus file {_shown(path)!r} could not be read: {e}") from e


def _opener(path: str):
    with _reading(path):
        return decompressor(path) or open


def _is_compressed(path: str) -> bool:
    return _opener(path) is not open


class Corpus:
    """A re-readable corpus: every `blocks()` call streams it again from the start.

    `Corpus(source, tokenizer)` is the corpus of either kind: TextFiles for a path or a
    list of paths, TokenLists for a re-iterable of token lists."""

    tokenizer: str
    token_records: bool           # blocks() gives token records (token lists) rather than text

    def __new__(cls, source: Source = None, tokenizer: str = "whitespace"):
        if cls is Corpus:
            cls = _kind_of(source)
        return super().__new__(cls)

    def __init__(self, source: Source, tokenizer: str = "whitespace"):
        if tokenizer not in ("whitespace", "regex"):
            raise ValueError(f"tokenizer must be 'whitespace' (word2vec.c) or 'regex' (the tutorial's), "
                             f"got {tokenizer!r}")
        self.tokenizer = tokenizer

    @property
    def total_bytes(self) -> Optional[int]:
        """Size on disk of the corpus files (None for an in-memory corpus)."""
        return None

    def blocks(self, block_bytes: int = BLOCK_BYTES) -> Iterator[bytes]:
        """The corpus as bytes, in blocks of about block_bytes: text, or token records
        for token lists (see token_records)."""
        raise NotImplementedError

    def ranges(self, parts: int) -> List[Tuple[str, int, int]]:
        """Byte ranges (path, start, end) that split the corpus into about `parts` pieces
        for parallel counting, or [] when it cannot be split."""
        return []


def _kind_of(source) -> type:
    if isinstance(source, (str, os.PathLike)) or \
            isinstance(source, (list, tuple)) and source and all(isinstance(s, (str, os.PathLike)) for s in source):
        return TextFiles
    if isinstance(source, Iterable):
        return TokenLists
    raise CorpusError(f"corpus must be a path, a list of paths or an iterable of token lists, "
                      f"got {type(source).__name__}")


class TextFiles(Corpus):
    """Text files (plain or compressed; a directory's files; a stream's copy), read in
    blocks. Files follow one another as separate sentences."""

    token_records = False

    def __init__(self, source: Union[str, os.PathLike, Sequence[Union[str, os.PathLike]]],
                 tokenizer: str = "whitespace"):
        super().__init__(source, tokenizer)
        sources = [source] if isinstance(source, (str, os.PathLike)) else source
        self.paths: List[str] = [p for s in sources for p in _expand(os.fspath(s))]

    def __repr__(self):
        return f"Corpus({[_shown(p) for p in self.paths]!r}, tokenizer={self.tokenizer!r})"

    @property
    def total_bytes(self) -> int:
        return sum(os.path.getsize(p) for p in self.paths)

    def blocks(self, block_bytes: int = BLOCK_BYTES) -> Iterator[bytes]:
        for path in self.paths:
            blocks = _file_blocks(path, block_bytes)
            if self.tokenizer == "regex":
                blocks = _regex_blocks(blocks)
            yield from blocks
            yield b"\n"

    def ranges(self, parts: int) -> List[Tuple[str, int, int]]:
        """[] for compressed files or the regex tokeniser (see Corpus.ranges)."""
        if self.tokenizer != "whitespace" or any(_is_compressed(p) for p in self.paths):
            return []
        step = max(1, -(-self.total_bytes // max(parts, 1)))
        out = []
        for path in self.paths:
            size = os.path.getsize(path)
            out.extend((path, s, min(size, s + step)) for s in range(0, size, step))
        return out


class TokenLists(Corpus):
    """Sentences given as token lists (a re-iterable: a list, or an object whose
    __iter__ starts over), read as blocks of token records."""

    token_records = True

    def __init__(self, source: Iterable[Sequence], tokenizer: str = "whitespace"):
        super().__init__(source, tokenizer)
        if iter(source) is source:
            raise CorpusError("corpus: a one-shot iterator cannot be read more than once (the vocabulary "
                              "scan and every epoch read it again); pass a list or a re-iterable object")
        self.sentences = source

    def __repr__(self):
        return f"Corpus({type(self.sentences).__name__!r}, tokenizer={self.tokenizer!r})"

    def blocks(self, block_bytes: int = BLOCK_BYTES) -> Iterator[bytes]:
        yield from _token_record_blocks(self.sentences, block_bytes, self.tokenizer)


def _expand(path: str) -> List[str]:
    if os.path.isdir(path):
        files = sorted(os.path.join(path, f) for f in os.listdir(path)
                       if os.path.isfile(os.path.join(path, f)) and not f.startswith("."))
        if not files:
            raise CorpusError(f"corpus directory {path!r} holds no files")
        return files
    if not os.path.exists(path):
        raise FileNotFoundError(f"corpus file {path!r} does not exist")
    if not os.path.isfile(path):
        return [_stream_copy(path)]
    return [path]


def _file_blocks(path: str, block_bytes: int) -> Iterator[bytes]:
    opener = _opener(path)
    with _reading(path), opener(path, "rb") as f:
        while True:
            block = f.read(block_bytes)
            if not block:
                return
            yield block


def read_range(path: str, start: int, end: int, block_bytes: int = BLOCK_BYTES) -> Iterator[bytes]:
    """The words of a plain file that start in [start, end): a word cut by `start`
    belongs to the range before, one cut by `end` to this one."""
    with _reading(path):
        yield from _range_blocks(path, start, end, block_bytes)


def _range_blocks(path: str, start: int, end: int, block_bytes: int) -> Iterator[bytes]:
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


# ---- streams: pipes, FIFOs, devices ----------------------------------------------------

COPY_PIECE_BYTES = 1 << 20
_STREAM_COPIES: Dict[Tuple[int, int], "_StreamCopy"] = {}   # (st_dev, st_ino) of a stream -> its copy
_SHOWN_AS: Dict[str, str] = {}                               # a copy's path -> the stream's path


class _StreamCopy:
    """A stream read to its end into a temporary file. The stream stays open, so its
    identity (a pipe's inode) is not reused while the copy stands for it."""

    def __init__(self, stream, fd: int, path: str):
        self.stream, self.fd, self.path = stream, fd, path
        atexit.register(stream.close)   # held to the end, then closed (no ResourceWarning at exit)


def _shown(path: str) -> str:
    """The path as the user gave it (a stream's, for its copy)."""
    return _SHOWN_AS.get(path, path)


def _stream_copy(path: str) -> str:
    """The path of a regular file holding the text of the pipe, FIFO or device at path,
    read once per process: a stream cannot be read again."""
    info = os.stat(path)
    key = (info.st_dev, info.st_ino)
    if key not in _STREAM_COPIES:
        copy = _copy_stream(path, "pipe" if stat.S_ISFIFO(info.st_mode) else "device")
        _STREAM_COPIES[key] = copy
        _SHOWN_AS[copy.path] = path
    return _STREAM_COPIES[key].path


def _copy_stream(path: str, kind: str) -> _StreamCopy:
    directory = tempfile.gettempdir()
    logger.warning(f"w2v_ext: corpus {path!r} is a {kind}, not a regular file: reading it once into a temporary "
                   f"file in {directory} (each pass over the corpus reads the copy); waiting for its data")
    try:
        fd, name = tempfile.mkstemp(prefix="w2v_ext-corpus-", dir=directory)
    except OSError as e:
        raise CorpusError(f"corpus {path!r}: cannot make a temporary file to copy the {kind} into: {e}; "
                          "set TMPDIR to a writable directory") from e
    copy_path = _unnamed(fd, name)
    try:
        stream = open(path, "rb", buffering=0)     # a FIFO waits here for a writer
        try:
            _copy_into(stream, fd, path, kind, directory)
        except BaseException:
            stream.close()
            raise
    except BaseException:
        os.close(fd)
        if copy_path == name:
            os.remove(name)
        raise
    return _StreamCopy(stream, fd, copy_path)


def _unnamed(fd: int, name: str) -> str:
    """A path that reopens the temporary file `name` (open as fd) independently. On
    Linux the file loses its name at once and is reached through /proc, so it vanishes
    with the process however that ends; elsewhere it keeps its name until exit."""
    reopen = f"/proc/self/fd/{fd}"
    if os.path.exists(reopen):
        os.remove(name)
        return reopen
    atexit.register(_remove_quietly, name)
    return name


def _remove_quietly(name: str) -> None:
    try:
        os.remove(name)
    except OSError:
        pass


def _copy_into(stream, fd: int, path: str, kind: str, directory: str) -> None:
    copied = 0
    while True:
        try:
            piece = stream.read(COPY_PIECE_BYTES)
        except OSError as e:
            raise CorpusError(f"corpus {path!r} could not be read: {e}") from e
        if not piece:
            return
        try:
            _write_all(fd, piece)
        except OSError as e:
            raise CorpusError(f"corpus {path!r}: copying the {kind} into {directory} failed after "
                              f"{copied / 1e6:.1f} MB: {e}; set TMPDIR to a directory with room for the whole "
                              "corpus, or write the corpus to a file and train on that") from e
        copied += len(piece)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


# ---- the regex tokenizer ------------------------------------------------------------

def _regex_blocks(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """The tutorial's tokeniser, applied line by line (lines are kept as sentences):
    a block of text in, the block's tokens out."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    piece = REGEX_PIECE_CHARS
    lines = _RegexLines(piece)
    for block in blocks:
        text = decoder.decode(block)
        done = b"".join([lines.feed(text[i:i + piece]) for i in range(0, len(text), piece)])
        if done:
            yield done
    done = lines.feed(decoder.decode(b"", final=True)) + lines.finish()
    if done:
        yield done


class _RegexLines:
    """The regex tokeniser over text fed in pieces. Whole lines are tokenised as they
    complete; a line longer than `limit` characters is tokenised in parts cut just after
    a non-word character (no token spans one), so its sentence stays whole. A run of
    word characters longer than that is one token: its first _RUN_KEEP_CHARS are kept."""

    def __init__(self, limit: int):
        self.limit = limit
        self.pending = ""        # the line in progress, not tokenised yet
        self.skipping = False    # inside an overlong run of word characters, dropping them

    def feed(self, text: str) -> bytes:
        """The tokens of the lines (or line parts) that `text` completes, as text."""
        if self.skipping:
            text = text[_WORD_CHARS.match(text).end():]
            if not text:
                return b""
            self.skipping = False
        data = self.pending + text
        cut = data.rfind("\n") + 1
        if cut:
            self.pending = data[cut:]
            return _regex_text(data[:cut])
        if len(data) <= self.limit:
            self.pending = data
            return b""
        hit = _LAST_NON_WORD.search(data)
        if hit is None:           # one run of word characters so far
            self.pending = data[:_RUN_KEEP_CHARS]
            self.skipping = len(data) > _RUN_KEEP_CHARS
            return b""
        self.pending = data[hit.start() + 1:]
        return _regex_text(data[:hit.start() + 1]) + b" "   # the line goes on: no newline

    def finish(self) -> bytes:
        """The tokens of the last line (one without a newline)."""
        data, self.pending, self.skipping = self.pending, "", False
        return _regex_text(data) if data else b""


def _regex_text(text: str) -> bytes:
    """The lines of text as their lower-cased tokens, space separated."""
    lines = text.split("\n")
    return "\n".join(" ".join(t.lower() for t in _REGEX_TOKEN.findall(line)) for line in lines).encode()


# ---- token lists ---------------------------------------------------------------------

def _token_record_blocks(sentences, block_bytes: int, tokenizer: str) -> Iterator[bytes]:
    """Sentences given as token lists, as blocks of token records of about block_bytes
    (whole sentences): a uint32 entry count, the entries (token lengths, 0 ending a
    sentence), then the tokens' bytes (csrc/corpus/tokenizer.h)."""
    lengths, parts, size = array("I"), [], 0
    for index, sentence in enumerate(sentences):
        data, token_lengths = _sentence_tokens(sentence, index, tokenizer)
        lengths.extend(token_lengths)
        lengths.append(0)
        parts.append(data)
        size += len(data)
        if size + 4 * len(lengths) >= block_bytes:
            yield _token_records(lengths, parts)
            lengths, parts, size = array("I"), [], 0
    if parts:
        yield _token_records(lengths, parts)


def _token_records(lengths: array, parts: List[bytes]) -> bytes:
    return array("I", [len(lengths)]).tobytes() + lengths.tobytes() + b"".join(parts)


def _sentence_tokens(sentence, index: int, tokenizer: str) -> Tuple[bytes, Iterable[int]]:
    """The sentence's words as (their bytes one after another, their lengths in bytes)."""
    tokens = _token_list(sentence, index)
    if tokenizer == "regex":
        tokens = _regex_tokens(tokens, index)
    common = _str_tokens(tokens)
    if common is not None:
        return common
    # an empty token is no word (as in text, where two separators hold none): dropped
    encoded = [data for data in (_token_bytes(token, index, position) for position, token in enumerate(tokens))
               if data]
    return b"".join(encoded), map(len, encoded)


def _str_tokens(tokens: Sequence) -> Optional[Tuple[bytes, Iterable[int]]]:
    """_sentence_tokens for the common case, at C speed: tokens that are all non-empty
    str. None when a token needs a closer look (bytes, empty, not a string, or holding
    bytes that were not UTF-8)."""
    try:
        text = "".join(tokens)
    except TypeError:
        return None
    if "" in tokens:
        return None
    if text.isascii():
        return text.encode("ascii"), map(len, tokens)
    try:
        encoded = list(map(str.encode, tokens))
    except UnicodeEncodeError:
        return None
    return b"".join(encoded), map(len, encoded)


def _token_list(sentence, index: int) -> Sequence:
    if isinstance(sentence, (list, tuple)):
        return sentence
    if isinstance(sentence, (str, bytes)):
        raise CorpusError(f"corpus: sentence {index} is a {type(sentence).__name__}, not a list of tokens "
                          "(split it into words first)")
    try:
        return list(sentence)
    except TypeError:
        raise CorpusError(f"corpus: sentence {index} is a {type(sentence).__name__} ({sentence!r:.50}), "
                          "not a list of tokens") from None


def _regex_tokens(tokens: Sequence, index: int) -> List[str]:
    """The regex tokeniser's words in the tokens (each token split on its own)."""
    try:
        text = " ".join(tokens)
    except TypeError:
        text = " ".join(_token_text(token, index, position) for position, token in enumerate(tokens))
    return [t.lower() for t in _REGEX_TOKEN.findall(text)]


def _token_text(token, index: int, position: int) -> str:
    if isinstance(token, str):
        return token
    if isinstance(token, (bytes, bytearray)):
        return bytes(token).decode("utf-8", "surrogateescape")
    raise _not_a_token(token, index, position)


def _token_bytes(token, index: int, position: int) -> bytes:
    if isinstance(token, str):
        data = token.encode("utf-8", "surrogateescape")
    elif isinstance(token, (bytes, bytearray)):
        data = bytes(token)
    else:
        raise _not_a_token(token, index, position)
    return data


def _not_a_token(token, index: int, position: int) -> CorpusError:
    return CorpusError(f"corpus: sentence {index}, token {position} is a {type(token).__name__} ({token!r:.50}), "
                       "not a string: tokens must be str or bytes")


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
