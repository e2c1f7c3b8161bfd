"""Atomic file output: write to a temporary file beside the target, then rename it
into place, so a reader never sees a half-written file and a failed or interrupted
write leaves any existing file untouched."""
from __future__ import annotations

import contextlib
import os
import secrets
from typing import BinaryIO, Iterator


def check_output_path(path) -> str:
    """The path as a string; raises if its directory is missing or it is a directory."""
    name = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(name))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot write {name}: directory {directory} does not exist")
    if os.path.isdir(name):
        raise IsADirectoryError(f"cannot write {name}: it is a directory")
    return name


@contextlib.contextmanager
def atomic_write(path) -> Iterator[BinaryIO]:
    """with atomic_write(path) as f: f.write(...)  -- the file appears at `path` only
    when the block ends without an exception."""
    name = check_output_path(path)
    directory = os.path.dirname(os.path.abspath(name))
    tmp = os.path.join(directory, f".{os.path.basename(name)}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, name)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
