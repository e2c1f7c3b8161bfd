"""The files a training run writes: each can be written, and none replaces a corpus file
or another output."""
from __future__ import annotations

import os
from typing import List, Optional, Tuple

from ..atomic_file import check_output_path, resolve_output
from ..compression import without_suffix
from .errors import CommandError

# --format's names, and the kind of file each writes
FORMATS = {"bin": "binary", "txt": "text", "model": "native"}
EXTENSIONS = {".bin": "binary", ".txt": "text", ".vec": "text", ".model": "native", ".npz": "native"}


def output_kind(path: str, format: Optional[str], argument: str) -> str:
    """'binary' / 'text' (word2vec formats) or 'native': the format given, else the one
    the extension names (a .gz/.bz2/.xz after it compresses the word2vec formats)."""
    if format is not None:
        return FORMATS[format]
    ext = os.path.splitext(without_suffix(path))[1].lower()
    if ext not in EXTENSIONS:
        raise CommandError(f"{argument}: cannot tell the format of {path} from its extension: end it with .bin, .txt "
                           f"or .vec (word2vec formats; .gz/.bz2/.xz may follow) or .model (the native model), "
                           f"or give --format bin|txt|model")
    return EXTENSIONS[ext]


def check_outputs(outputs: List[Tuple[str, str]], corpus: List[str]) -> None:
    """Every (argument, path) of `outputs` can be written and replaces neither a corpus
    file nor another output (a file only read at the start, such as --resume's model, may
    be written over)."""
    for argument, path in outputs:
        check_output_path(path, argument)
    replaced = [(argument, path) for argument, path in outputs if not resolve_output(path, argument)[1]]
    for i, (argument, path) in enumerate(replaced):
        conflict = _corpus_conflict(path, corpus)
        if conflict is not None:
            raise CommandError(f"{argument}: cannot write {path}: {conflict}")
        for other_argument, other in replaced[:i]:
            if same_file(path, other):
                raise CommandError(f"{argument}: cannot write {path}: it is the same file as {other_argument} "
                                   f"{other}")


def same_file(a: str, b: str) -> bool:
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
            if same_file(path, source):
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
        if not base.startswith(".") and same_file(parent, directory):
            return True
    return False


def _entry_linked_to(directory: str, path: str) -> Optional[str]:
    """The non-hidden file of `directory` that is `path` through a symlink or hard link."""
    if not os.path.exists(path):
        return None
    for base in os.listdir(directory):
        entry = os.path.join(directory, base)
        if not base.startswith(".") and os.path.isfile(entry) and same_file(path, entry):
            return entry
    return None
