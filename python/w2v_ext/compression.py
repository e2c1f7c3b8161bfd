"""Compressed files (gzip, bzip2, xz) for the corpus and the vector files: a file read is
recognised by its first bytes, a file written is compressed by its name's suffix."""
from __future__ import annotations

import bz2
import gzip
import lzma
import os
import zlib
from typing import BinaryIO, Callable, Optional

_MAGIC = ((b"\x1f\x8b", gzip.open), (b"BZh", bz2.open), (b"\xfd7zXZ\x00", lzma.open))
SUFFIXES = (".gz", ".bz2", ".xz")
# What damaged compressed data raises while being read, besides OSError (gzip's and
# bz2's own reports of bad data are OSErrors without an errno).
CORRUPT_DATA = (EOFError, zlib.error, lzma.LZMAError)


def decompressor(path: str) -> Optional[Callable[..., BinaryIO]]:
    """gzip.open, bz2.open or lzma.open when the file at `path` is compressed, else None."""
    with open(path, "rb") as f:
        head = f.read(6)
    for magic, opener in _MAGIC:
        if head.startswith(magic):
            return opener
    return None


def open_read(path: str) -> BinaryIO:
    """The file at `path` opened to read bytes, decompressed if it is compressed."""
    return (decompressor(path) or open)(path, "rb")


def without_suffix(name: str) -> str:
    """`name` without a compression suffix (any case)."""
    for suffix in SUFFIXES:
        if name.lower().endswith(suffix):
            return name[:-len(suffix)]
    return name


def compressing(raw: BinaryIO, name: str) -> BinaryIO:
    """A writer that compresses into `raw` as `name`'s suffix says, or `raw` itself. Close
    the writer (not `raw`) to flush it."""
    lower = name.lower()
    if lower.endswith(".gz"):
        return gzip.GzipFile(filename=without_suffix(os.path.basename(name)), mode="wb", fileobj=raw)
    if lower.endswith(".bz2"):
        return bz2.BZ2File(raw, "wb")
    if lower.endswith(".xz"):
        return lzma.LZMAFile(raw, "wb")
    return raw
