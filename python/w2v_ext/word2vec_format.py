"""Read and write the word2vec text and binary vector formats (numpy only).

Layout, as word2vec.c writes it and gensim's ``KeyedVectors.load_word2vec_format``
reads it::

    header   b"<count> <dim>\\n"
    text     b"word v1 v2 ... v<dim>\\n"                 one record per line
    binary   b"word " + <dim> little-endian float32 + b"\\n"   (4*dim raw bytes)

Reading (:func:`read_word2vec_format`)
    * text vs binary is detected from the first record (``binary=None``), not the
      file name; gzip / bz2 / xz input is detected from its magic bytes.
    * accepts word2vec.c, gensim and fastText ``.vec`` text (trailing spaces,
      ``\\r\\n``, runs of spaces or tabs between numbers) and binary files with or
      without the newline after each vector.
    * words are decoded as UTF-8 with ``errors='replace'`` by default (invalid
      bytes become U+FFFD, so two distinct byte strings may decode to the same
      word); pass ``errors='strict'`` to fail instead, or ``'surrogateescape'`` to
      keep the exact bytes (the writer re-encodes them unchanged).
    * ``limit=N`` reads the first N records only, without reading the rest.
    * ``no_header=True`` reads text without the ``<count> <dim>`` line (GloVe's
      layout): the first line gives dim, a pass over the file counts the records.
    * a file that cannot be read raises :class:`VectorFileError` (a ``ValueError``)
      with one line naming the file and the line (text) or record (binary): bad
      header, wrong number of values, non-numeric value, a binary word holding a
      newline, tab or CR (records that do not match the header's dim), truncated
      record, fewer records than the header declares (a header claiming more than
      the file can hold sizes no allocation), corrupt or truncated compressed data, a
      NaN or infinite value (``drop_nonfinite=True`` skips those records instead).
      A word that is not UTF-8 with ``errors='strict'`` raises
      :class:`WordDecodeError` (both a VectorFileError and a ``UnicodeDecodeError``).
      The operating system's errors are ``OSError`` with the file's name
      (``FileNotFoundError``, ...). Nothing else is raised for any content. Records
      after the declared count are ignored (as gensim does).

Writing (:func:`write_word2vec_format`)
    * atomic: the file is written to a temporary file in the same directory and
      moved into place with ``os.replace``; on any error the temporary file is
      removed and an existing file at ``path`` is left untouched. A symlink's target
      is replaced; a device, FIFO or ``/dev/stdout`` is written through
      (see :mod:`w2v_ext.atomic_file`).
    * binary: exactly word2vec.c's layout (bit-exact float32 round trip).
    * text: ``%.<precision>g`` (default 6 significant digits, close to word2vec.c's
      ``%lf`` but without losing small values); ``precision=9`` round-trips
      float32 exactly.  gensim, fastText and word2vec tools all read it.
    * a ``.gz`` / ``.bz2`` / ``.xz`` suffix compresses the output.
    * ``write_header=False`` leaves out the ``<count> <dim>`` line (GloVe's layout).
    * words that are empty or contain ASCII whitespace (space, tab, newline,
      CR, VT, FF) are rejected: the format cannot represent them.
"""
from __future__ import annotations

import io
import os
import re
from typing import List, Optional, Sequence, Tuple

import numpy as np

from .atomic_file import atomic_write
from .compression import CORRUPT_DATA, compressing, open_read

__all__ = ["read_word2vec_format", "write_word2vec_format", "VectorFileError", "WordDecodeError"]

_CHUNK_BYTES = 1 << 20   # binary reader: bytes read per call
_TEXT_BATCH = 1 << 13    # text reader: lines parsed per np.fromstring call
_WRITE_BATCH = 1 << 12   # writer: records encoded per write call
_BAD_WORD = re.compile(r"[ \t\n\r\v\f]")
_NOT_TEXT = re.compile(rb"[^\x20-\x7e\t\r\n]")   # bytes never seen in ASCII number text
_WORD_BREAK = re.compile(r"[\t\n\r]")          # never inside a binary file's word (word2vec.c splits on them)
_PROBE_BYTES = 1 << 20   # most bytes read to tell text from binary
_PLAUSIBLE_RATIO = 64    # compressed input: decompress ahead to check a header claiming more than this x its size


class VectorFileError(ValueError):
    """A word2vec file that cannot be read; the message is one line naming the file."""


class WordDecodeError(VectorFileError, UnicodeDecodeError):
    """A word that is not valid UTF-8, read with errors='strict'."""

    def __init__(self, message: str, cause: UnicodeDecodeError):
        UnicodeDecodeError.__init__(self, cause.encoding, cause.object, cause.start, cause.end, cause.reason)
        self.message = message

    def __str__(self) -> str:
        return self.message


def os_error_naming(error: OSError, name: str) -> OSError:
    """`error`, or the same error with `name` as its file name when it has none."""
    if error.filename is not None or error.errno is None:
        return error
    return OSError(error.errno, error.strerror, name)   # OSError() picks the subclass of the errno


# ----------------------------------------------------------------------------- reading

def read_word2vec_format(path, binary: Optional[bool] = None, limit: Optional[int] = None,
                         errors: str = "replace", drop_nonfinite: bool = False,
                         no_header: bool = False) -> Tuple[List[str], np.ndarray]:
    """Read a word2vec text or binary file.

    Args:
        path: file name (str or os.PathLike); may be gzip/bz2/xz compressed.
        binary: True / False to force the format; None detects it from the content.
        limit: read only the first ``limit`` records (None: all).
        errors: how to decode words that are not valid UTF-8 (``str.decode`` errors).
        drop_nonfinite: skip records holding NaN or infinity (default: raise).
        no_header: the file is text without the ``<count> <dim>`` line (GloVe).

    Returns:
        (words, vectors): ``words`` a list of V str in file order, ``vectors`` a
        float32 array [V, dim].

    Raises:
        VectorFileError (a ValueError) for any content that is not a readable word2vec
        file; OSError (naming the file) when the system cannot read it.
    """
    name = os.fspath(path)
    if limit is not None and (int(limit) != limit or limit < 0):
        raise ValueError(f"limit must be a non-negative integer or None, got {limit!r}")
    if no_header and binary:
        raise ValueError("no_header=True reads text files only (binary files always have a header)")
    try:
        with open_read(name) as f:
            if no_header:
                words, vectors = _read_headerless_text(f, name, limit, errors)
            else:
                words, vectors = _read_with_header(f, name, binary, limit, errors)
    except CORRUPT_DATA as e:
        raise _corrupt_stream(name, e) from e
    except OSError as e:
        if e.errno is None:   # gzip's and bz2's reports of bad data
            raise _corrupt_stream(name, e) from e
        raise os_error_naming(e, name) from None
    return _finite_records(words, vectors, name, drop_nonfinite)


def _read_with_header(f, name, binary: Optional[bool], limit: Optional[int], errors: str):
    n, dim = _read_header(f, name)
    if limit is not None:
        n = min(n, int(limit))
    rows = _rows_room(f, name, n, dim)
    if binary is None:
        binary = n > 0 and _looks_binary(f, dim)
    reader = _read_binary if binary else _read_text
    return reader(f, n, np.empty((rows, dim), dtype=np.float32), name, errors)


def _read_headerless_text(f, name, limit: Optional[int], errors: str):
    n, dim = _headerless_shape(f, name, limit)
    return _read_text(f, n, np.empty((n, dim), dtype=np.float32), name, errors, lineno=0)


def _headerless_shape(f, name, limit: Optional[int]) -> Tuple[int, int]:
    """(records, dim) of a text file without a header: dim from the first line, the
    records counted as lines (up to `limit`); leaves f where it was."""
    start = f.tell()
    first = f.readline()
    dim = len(first.split()) - 1
    if dim < 1:
        raise VectorFileError(f"{name}: line 1: expected a word and its values (no_header=True), "
                              f"got {first[:80]!r}")
    f.seek(start)
    n, last = 0, b"\n"
    while limit is None or n < limit:
        chunk = f.read(_CHUNK_BYTES)
        if not chunk:
            n += not last.endswith(b"\n")   # a last line without a newline
            break
        n += chunk.count(b"\n")
        last = chunk
    f.seek(start)
    return (n if limit is None else min(n, int(limit))), dim


def _corrupt_stream(name, error) -> VectorFileError:
    return VectorFileError(f"{name}: corrupt or truncated compressed file ({error})")


def _read_header(f, name) -> Tuple[int, int]:
    line = f.readline(1024)
    parts = line.split()
    if len(parts) != 2 or not all(p.isdigit() and int(p) < 2 ** 63 for p in parts) or int(parts[1]) == 0:
        raise VectorFileError(f"{name}: line 1: expected a header '<count> <dim>' (two integers below 2**63, "
                              f"dim > 0), got {line[:80]!r}")
    return int(parts[0]), int(parts[1])


def _rows_room(f, name, n: int, dim: int) -> int:
    """The rows to allocate for the header's n records: no more than the rest of the
    file can hold (a record takes at least 2 * dim + 1 bytes: a 1-byte word, then dim
    1-digit values after a space each), so a lying header sizes no allocation; the
    reader then reports the records missing. Compressed input is decompressed ahead (as
    far as needed) only when the header claims much more than the compressed size."""
    record = 2 * dim + 1
    compressed = not isinstance(f, io.BufferedReader)
    if n == 0 or (compressed and n * record <= _PLAUSIBLE_RATIO * os.path.getsize(name)):
        return n
    start = f.tell()
    available = _bytes_ahead(f, n * record) if compressed else os.fstat(f.fileno()).st_size - start
    f.seek(start)
    return min(n, available // record)


def _bytes_ahead(f, wanted: int) -> int:
    """Bytes readable from f's position, counting no further than `wanted`."""
    seen = 0
    while seen < wanted:
        chunk = f.read(min(_CHUNK_BYTES, wanted - seen))
        if not chunk:
            break
        seen += len(chunk)
    return seen


def _looks_binary(f, dim) -> bool:
    """Peek at the first record. Text: the rest of the first line is `dim` numbers.
    Otherwise binary, unless the 4*dim bytes after the word are all printable ASCII
    (then it is text, malformed, and the text reader reports where)."""
    pos = f.tell()
    probe = f.read(min(4096 + 32 * dim, _PROBE_BYTES))
    f.seek(pos)
    line = probe.split(b"\n", 1)[0]
    word_end = line.find(b" ")
    values = line[word_end + 1:].split() if word_end >= 0 else []
    if len(values) == dim:
        try:
            [float(v) for v in values]
            return False
        except ValueError:
            pass
    after_word = probe[probe.find(b" ") + 1:][:4 * dim]
    return bool(_NOT_TEXT.search(after_word))


def _read_text(f, n, vectors, name, errors, lineno: int = 1):
    """Read n text records into vectors [rows, dim] (rows: as many as the file can hold);
    `lineno` is the number of the line before the first record (the header's)."""
    dim = vectors.shape[1]
    words: List[str] = []
    batch: List[bytes] = []
    for raw in f:
        if len(words) == n:
            break
        lineno += 1
        line = raw.rstrip()
        word, _, rest = line.partition(b" ")
        if not word:
            raise VectorFileError(f"{name}: line {lineno}: expected a word and {dim} values, got "
                                  f"{'an empty line' if not line else 'a line starting with a space'}")
        if rest.count(b" ") != dim - 1 and len(rest.split()) != dim:
            raise VectorFileError(f"{name}: line {lineno}: expected a word and {dim} values, "
                                  f"got {len(rest.split())} values")
        try:
            words.append(word.decode("utf-8", errors))
        except UnicodeDecodeError as e:
            raise _word_decode_error(name, f"line {lineno}", word, e) from None
        batch.append(rest)
        if len(batch) == _TEXT_BATCH:
            _parse_text_batch(batch, vectors[len(words) - len(batch):len(words)], name, lineno - len(batch) + 1)
            batch = []
    if batch:
        _parse_text_batch(batch, vectors[len(words) - len(batch):len(words)], name, lineno - len(batch) + 1)
    if len(words) < n:
        raise VectorFileError(f"{name}: file ends after {len(words)} records (line {lineno}) but the "
                              f"header declares {n}")
    return words, vectors


def _parse_text_batch(rests: Sequence[bytes], out: np.ndarray, name, first_lineno) -> None:
    """Parse the numeric parts of len(rests) lines into out [len(rests), dim]: one
    vectorised np.fromstring call; on any mismatch, redo line by line to find the bad value."""
    try:
        flat = np.fromstring(b" ".join(rests), dtype=np.float32, sep=" ")
        if flat.size == out.size:
            out[:] = flat.reshape(out.shape)
            return
    except ValueError:   # numpy >= 2.x raises on unparsable text (older numpy: short result)
        pass
    for k, rest in enumerate(rests):
        tokens = rest.split()
        if len(tokens) != out.shape[1]:
            raise VectorFileError(f"{name}: line {first_lineno + k}: expected {out.shape[1]} values, "
                                  f"got {len(tokens)}")
        try:
            out[k] = [float(t) for t in tokens]
        except ValueError:
            bad = next(t for t in tokens if not _is_float(t))
            raise VectorFileError(f"{name}: line {first_lineno + k}: non-numeric value {bad[:40]!r}") from None


def _is_float(token: bytes) -> bool:
    try:
        float(token)
        return True
    except ValueError:
        return False


def _read_binary(f, n, vectors, name, errors):
    """Read n binary records into vectors [rows, dim] (rows: as many as the file can hold)."""
    dim = vectors.shape[1]
    rec = 4 * dim
    words: List[str] = []
    buf, pos, offset = b"", 0, f.tell()   # offset: file position of buf[0] (for messages)
    for i in range(n):
        while True:
            space = buf.find(b" ", pos)
            if space >= 0 and space + 1 + rec <= len(buf):
                break
            more = f.read(_CHUNK_BYTES)
            if not more:
                _check_binary_words(words, name, dim)   # the likelier cause of a short file
                if not buf[pos:].strip():
                    raise VectorFileError(f"{name}: file ends after {i} records but the header declares {n}")
                what = ("no space after the word" if space < 0 else
                        f"{len(buf) - space - 1} of {rec} vector bytes")
                raise VectorFileError(f"{name}: record {i + 1} (byte {offset + pos}): truncated binary "
                                      f"record, {what} before the end of the file")
            offset += pos
            buf, pos = buf[pos:] + more, 0
        word = buf[pos:space].lstrip(b"\n")   # the newline after the previous vector is optional
        if not word:
            _check_binary_words(words, name, dim)
            raise VectorFileError(f"{name}: record {i + 1} (byte {offset + pos}): empty word "
                                  "(corrupt file, or wrong dim in the header?)")
        try:
            words.append(word.decode("utf-8", errors))
        except UnicodeDecodeError as e:
            raise _word_decode_error(name, f"record {i + 1}", word, e) from None
        vectors[i] = np.frombuffer(buf, dtype="<f4", count=dim, offset=space + 1)
        pos = space + 1 + rec
    _check_binary_words(words, name, dim)
    return words, vectors


def _check_binary_words(words: List[str], name, dim: int) -> None:
    """VectorFileError naming the first word holding a newline, tab or CR: what reading
    with the wrong dim (or a text file as binary) makes of the bytes. Words hold no
    space, so the joined words locate the record (one regex scan, not one per word)."""
    joined = " ".join(words)
    hit = _WORD_BREAK.search(joined)
    if hit is not None:
        k = joined.count(" ", 0, hit.start())
        raise VectorFileError(f"{name}: record {k + 1}: the word {words[k][:40]!r} holds a newline, tab or CR: "
                              f"the records do not match the header's dim {dim}, or the file is not binary")


def _word_decode_error(name, where: str, word: bytes, cause: UnicodeDecodeError) -> WordDecodeError:
    return WordDecodeError(f"{name}: {where}: the word {word[:40]!r} is not UTF-8 ({cause.reason}); "
                           "read it with errors='replace' or 'surrogateescape'", cause)


def _finite_records(words: List[str], vectors: np.ndarray, name, drop: bool) -> Tuple[List[str], np.ndarray]:
    """(words, vectors) without the records holding NaN or infinity if `drop`; else
    VectorFileError naming the first such record."""
    bad = nonfinite_rows(vectors)
    if not len(bad):
        return words, vectors
    if not drop:
        row = vectors[bad[0]]
        value = row[~np.isfinite(row)][0]
        raise VectorFileError(f"{name}: record {bad[0] + 1} ({words[bad[0]]!r}) holds a non-finite value "
                              f"({value}); drop_nonfinite=True skips such records")
    keep = np.ones(len(words), dtype=bool)
    keep[bad] = False
    return [w for w, kept in zip(words, keep) if kept], vectors[keep]


def nonfinite_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows of vectors [V, dim] holding NaN or infinity, checked a slice at a time (the
    temporary stays small)."""
    step = max(1, _CHUNK_BYTES // max(vectors.shape[1], 1))
    bad = [np.flatnonzero(~np.isfinite(vectors[s:s + step]).all(axis=1)) + s for s in range(0, len(vectors), step)]
    return np.concatenate(bad) if bad else np.zeros(0, dtype=np.int64)


# ----------------------------------------------------------------------------- writing

def write_word2vec_format(path, words: Sequence[str], vectors: np.ndarray, binary: bool = True,
                          precision: int = 6, write_header: bool = True, c_text: bool = False) -> None:
    """Write ``words`` and ``vectors`` [V, dim] in word2vec format, atomically.

    Args:
        path: output file; a .gz/.bz2/.xz suffix compresses it. Its directory must exist.
        words: V str without ASCII whitespace (encoded as UTF-8, surrogateescape).
        vectors: [V, dim] real array, written as float32.
        binary: word2vec.c binary layout (True) or text (False).
        precision: significant digits in text mode (``%.<precision>g``); 9 is exact.
        write_header: start with the ``<count> <dim>`` line (False: GloVe's layout).
        c_text: text as word2vec.c prints it (``%lf `` per value: six decimals, each
            followed by a space), instead of ``precision`` significant digits.
    """
    name = os.fspath(path)
    vectors = np.asarray(vectors)
    if vectors.ndim != 2 or vectors.shape[1] == 0 or not np.issubdtype(vectors.dtype, np.number) \
            or np.iscomplexobj(vectors):
        raise ValueError(f"vectors must be a real [V, dim] array with dim > 0, got shape "
                         f"{vectors.shape} dtype {vectors.dtype}")
    words = list(words)
    if len(words) != len(vectors):
        raise ValueError(f"{len(words)} words but {len(vectors)} vectors")
    for i, w in enumerate(words):
        if not isinstance(w, str):
            raise TypeError(f"word #{i} is {type(w).__name__}, not str: {w!r}")
        if not w or _BAD_WORD.search(w):
            raise ValueError(f"word #{i} {w!r} is empty or contains whitespace, which the "
                             "word2vec format cannot represent")
    if not isinstance(precision, int) or not 1 <= precision <= 17:
        raise ValueError(f"precision must be an int in 1..17, got {precision!r}")
    vectors = np.ascontiguousarray(vectors, dtype="<f4")
    with atomic_write(name) as raw:
        f = compressing(raw, name)
        if write_header:
            f.write(b"%d %d\n" % vectors.shape)
        for start in range(0, len(words), _WRITE_BATCH):
            stop = min(start + _WRITE_BATCH, len(words))
            f.write(_encode_records(words[start:stop], vectors[start:stop], binary, precision, c_text))
        if f is not raw:
            f.close()   # flushes the compressor; raw stays open


def _encode_records(words: Sequence[str], vectors: np.ndarray, binary: bool, precision: int,
                    c_text: bool = False) -> bytes:
    """Encode len(words) records; vectors [len(words), dim] little-endian float32."""
    if binary:
        rec = 4 * vectors.shape[1]
        data = vectors.tobytes()
        return b"".join(w.encode("utf-8", "surrogateescape") + b" " + data[k * rec:(k + 1) * rec] + b"\n"
                        for k, w in enumerate(words))
    line = "%s " + "%f " * vectors.shape[1] + "\n" if c_text else "%s" + f" %.{precision}g" * vectors.shape[1] + "\n"
    text = "".join(line % (w, *row) for w, row in zip(words, vectors.tolist()))
    return text.encode("utf-8", "surrogateescape")
