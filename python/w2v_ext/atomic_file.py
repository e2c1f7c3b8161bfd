"""Atomic file output: write to a temporary file beside the target, then rename it
into place, so a reader never sees a half-written file and a failed or interrupted
write leaves any existing file untouched.

What is at the path is respected: a symlink is followed and the file it points to is
replaced; a target that is not a regular file (a device such as /dev/null, a FIFO, a
link to an open descriptor such as /dev/stdout) is written through in place; a
directory is never replaced.

Temporary files are named .NAME.HOST-PID.RANDOM.tmp; a write to NAME removes those
left by writers of this host whose process is gone (killed mid-write)."""
from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import secrets
import socket
import stat
import zlib
from typing import BinaryIO, Iterator, Optional, Tuple

# Tells this host's temporary files from those of another machine writing the same
# shared directory, whose process ids mean nothing here.
_HOST = f"{zlib.crc32(socket.gethostname().encode()) & 0xffff:04x}"
_DESCRIPTOR_DIR = re.compile(r"/proc/[^/]+(/task/[^/]+)?/fd\Z")
_MAX_LINKS = 40


def _temp_name(target: str) -> str:
    """A new temporary file's path beside `target`, naming this host and process."""
    directory, base = os.path.split(target)
    return os.path.join(directory, f".{base}.{_HOST}-{os.getpid()}.{secrets.token_hex(4)}.tmp")


def _stale_temp_pattern(base: str) -> "re.Pattern[str]":
    """Matches the names _temp_name gives on this host for `base`; group 1 is the pid."""
    return re.compile(rf"\.{re.escape(base)}\.{_HOST}-(\d+)\.[0-9a-f]{{8}}\.tmp\Z")


def _process_alive(pid: int) -> bool:
    """False only when no process `pid` exists on this host (never guesses 'dead')."""
    if os.name != "posix" or pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:   # PermissionError: alive, another user's
        return True
    return True


def remove_stale_temporaries(target: str) -> None:
    """Remove the temporary files beside `target` that writers of `target` on this host
    left when they were killed (their process is gone)."""
    directory, base = os.path.split(target)
    pattern = _stale_temp_pattern(base)
    with contextlib.suppress(OSError):
        for entry in os.listdir(directory):
            match = pattern.match(entry)
            if match and not _process_alive(int(match.group(1))):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(directory, entry))


def _names_a_descriptor(name: str) -> bool:
    """True when `name` reaches its file through an open descriptor's link (/dev/stdout,
    /dev/fd/N, /proc/self/fd/N): someone's open stream, to write into, not replace."""
    path = os.path.abspath(name)
    for _ in range(_MAX_LINKS):
        if _DESCRIPTOR_DIR.match(os.path.realpath(os.path.dirname(path))):
            return True
        if not os.path.islink(path):
            return False
        path = os.path.join(os.path.dirname(path), os.readlink(path))
    return False


def _error(kind, name: str, argument: Optional[str], problem: str) -> OSError:
    """`ARGUMENT: cannot write NAME: PROBLEM` (one line) as an exception of `kind`."""
    prefix = f"{argument}: " if argument else ""
    return kind(f"{prefix}cannot write {name}: {problem}")


def _creation_error(e: OSError, name: str, argument: Optional[str], tmp: str) -> OSError:
    """The error for failing to create NAME's temporary file `tmp`."""
    directory = os.path.dirname(tmp)
    if e.errno == errno.ENAMETOOLONG:
        length = len(os.fsencode(os.path.basename(tmp)))
        return _error(OSError, name, argument, f"the name is too long: its temporary file's name "
                                               f"(.NAME.HOST-PID.RANDOM.tmp) has {length} bytes"
                                               f"{_name_limit(directory)}")
    if e.errno in (errno.EACCES, errno.EPERM):
        return _error(PermissionError, name, argument, f"no permission to create files in {directory}")
    if e.errno == errno.EROFS:
        return _error(OSError, name, argument, f"{directory} is on a read-only file system")
    return _error(type(e), name, argument, f"cannot create a file in {directory}: {e.strerror}")


def _name_limit(directory: str) -> str:
    """', more than the N this file system allows', or '' where unknown."""
    try:
        return f", more than the {os.pathconf(directory, 'PC_NAME_MAX')} this file system allows"
    except (OSError, ValueError, AttributeError):
        return ""


def resolve_output(path, argument: Optional[str] = None) -> Tuple[str, bool]:
    """(where to write, write through): the path itself, written in place, for a device,
    FIFO or open descriptor; else the real path of the regular file to create or replace.
    Raises an OSError naming `argument` (e.g. "-o/--output") and the problem."""
    name = os.fspath(path)
    if not name:
        raise _error(FileNotFoundError, name, argument, "the path is empty")
    try:
        st: Optional[os.stat_result] = os.stat(name)
    except FileNotFoundError:
        st = None
    except NotADirectoryError as e:
        directory = os.path.dirname(os.path.abspath(name))
        raise _error(NotADirectoryError, name, argument, f"{directory} is not a directory") from e
    except OSError as e:
        raise _error(type(e), name, argument, e.strerror) from e
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise _error(IsADirectoryError, name, argument, "it is a directory")
    if st is not None and stat.S_ISSOCK(st.st_mode):
        raise _error(OSError, name, argument, "it is a socket")
    if (st is not None and not stat.S_ISREG(st.st_mode)) or _names_a_descriptor(name):
        if not os.access(name, os.W_OK):
            raise _error(PermissionError, name, argument, "no permission to write it")
        return name, True
    directory = os.path.dirname(os.path.abspath(name))
    if not os.path.isdir(directory):
        raise _error(FileNotFoundError, name, argument, f"output directory {directory} does not exist")
    real = os.path.realpath(name)
    if not os.path.isdir(os.path.dirname(real)):
        raise _error(FileNotFoundError, name, argument, f"it links to {real}, whose directory does not exist")
    return real, False


def _create_temp(target: str, name: str, argument: Optional[str]) -> Tuple[str, int]:
    """(path, descriptor) of a new temporary file beside `target` (the real path of `name`)."""
    tmp = _temp_name(target)
    try:
        return tmp, os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as e:
        raise _creation_error(e, name, argument, tmp) from e


def check_output_path(path, argument: Optional[str] = None) -> str:
    """The one check of an output path, to run before long work: raises an OSError naming
    `argument` and the problem when atomic_write(path) could not write it. For a regular
    file it creates and removes the real temporary file (so a read-only or unwritable
    directory, or a name too long with the suffix, fails now). Returns the path as a str."""
    name = os.fspath(path)
    target, through = resolve_output(name, argument)
    if not through:
        tmp, fd = _create_temp(target, name, argument)
        os.close(fd)
        os.unlink(tmp)
    return name


class _Unseekable(io.RawIOBase):
    """A written-through device or FIFO as a stream that cannot seek: /dev/null accepts
    seeks but stays at position 0, which a zip writer would take for its offsets."""

    def __init__(self, fd: int):
        self.fd = fd

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        return os.write(self.fd, data)


@contextlib.contextmanager
def _write_through(name: str) -> Iterator[BinaryIO]:
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with io.BufferedWriter(_Unseekable(fd)) as f:
            yield f
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path) -> Iterator[BinaryIO]:
    """with atomic_write(path) as f: f.write(...)  -- the file appears at `path` only
    when the block ends without an exception (a device, FIFO or stdout is written
    through as the block writes)."""
    name = os.fspath(path)
    target, through = resolve_output(name)
    if through:
        with _write_through(name) as f:
            yield f
        return
    remove_stale_temporaries(target)
    tmp, fd = _create_temp(target, name, None)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
