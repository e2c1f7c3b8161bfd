"""The native model file: everything needed to use or resume a Word2Vec model.

An uncompressed .npz (numpy arrays, loaded without pickle) holding the input and
output weights, the vocabulary (UTF-8 words with surrogateescape, and counts), the
settings, the training position and what the corpus last counted held (its words,
sentences and words of the vocabulary per epoch) as JSON. Written atomically.

Loading checks everything before a model is built: the zip container and each array
against the bytes it holds (no allocation sized by a header), the metadata (JSON,
format, version, known settings of the right kinds, positions that are integers >= 0
and agree with each other), the vocabulary (positive integer counts, word offsets
that fit), and the weights ([V, dim] floats, finite). A file that fails raises
:class:`ModelFileError` (a ``ValueError``) with one line naming the file and the field;
the operating system's errors are ``OSError`` with the file's name. Nothing else is
raised for any content.
"""
from __future__ import annotations

import dataclasses
import io
import json
import math
import os
import struct
import zipfile
import zlib
from typing import Dict, NoReturn, Optional

import numpy as np

from .atomic_file import atomic_write
from .compression import without_suffix
from .position import TrainingPosition
from .settings import Settings
from .vocab import ENCODING, ERRORS, Vocabulary
from .word2vec_format import nonfinite_rows, os_error_naming

FORMAT = "w2v_ext.model"
VERSION = 2   # 2: min_alpha None means the default end rate, alpha x 0.1 (see _from_version_1)
ARRAYS = ("input", "output", "counts", "words", "word_offsets", "meta")
# what a damaged zip container or .npy header raises while being decoded
_CORRUPT = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, KeyError, NotImplementedError, RuntimeError,
            struct.error, OverflowError)


class ModelFileError(ValueError):
    """A native model file that cannot be loaded; the message is one line naming the file."""


def kind_of(path, binary: Optional[bool] = None) -> str:
    """'binary' / 'text' (word2vec formats) or 'native', from `binary` or the extension
    (a .gz/.bz2/.xz suffix after it, which compresses the word2vec formats, is skipped)."""
    if binary is not None:
        return "binary" if binary else "text"
    ext = os.path.splitext(without_suffix(os.fspath(path)))[1].lower()
    if ext == ".bin":
        return "binary"
    if ext in (".txt", ".vec"):
        return "text"
    return "native"


def save_model(path, model) -> None:
    """Write a Word2Vec model (weights [V, dim] x 2, vocabulary, settings, position) to path."""
    words = [w.encode(ENCODING, ERRORS) for w in model.vocab.words]
    offsets = np.cumsum([0] + [len(w) for w in words], dtype=np.int64)
    vocab = model.vocab
    meta = {"format": FORMAT, "version": VERSION, "settings": dataclasses.asdict(model.settings),
            **model.position.as_dict(), "history": model.history,
            "corpus": {"words": vocab.corpus_words, "sentences": vocab.corpus_sentences,
                       "epoch_words": vocab.epoch_words}}
    with atomic_write(path) as f:
        np.savez(f, input=model.input, output=model.output, counts=model.vocab.counts,
                 words=np.frombuffer(b"".join(words), dtype=np.uint8), word_offsets=offsets,
                 meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))


def load_model(path, cls, progress: bool = True):
    """A `cls` (Word2Vec) model read from a file save_model wrote; ModelFileError (a
    ValueError naming the file and the field) if it is not one, or is damaged."""
    name = os.fspath(path)
    arrays = _read_arrays(name)
    meta = _metadata(arrays["meta"], name)
    vocab = _vocabulary(arrays, name)
    _set_corpus_counts(vocab, meta, name)
    model = _new_model(cls, meta, name, progress)
    _set_weights(model, vocab, arrays, name)
    _set_position(model, meta, name)
    model.history = meta.get("history", [])
    return model


def _read_arrays(name) -> Dict[str, np.ndarray]:
    """The model's arrays, each checked against the bytes it holds."""
    try:
        zf = zipfile.ZipFile(name)
    except (OSError, *_CORRUPT) as e:
        _raise_damaged(e, name, f"{name} is not a w2v_ext model file ({e}); word2vec .bin/.txt vectors load "
                                f"with w2v_ext.KeyedVectors.load_word2vec_format")
    try:
        with zf:
            members = set(zf.namelist())
            if "meta.npy" not in members:
                raise ModelFileError(f"{name} is not a w2v_ext model file (no metadata)")
            missing = [a for a in ARRAYS if a + ".npy" not in members]
            if missing:
                raise ModelFileError(f"{name}: no '{missing[0]}' array in the file")
            return {a: _npy_array(zf.read(a + ".npy")) for a in ARRAYS}
    except ModelFileError:
        raise
    except (OSError, *_CORRUPT) as e:
        _raise_damaged(e, name, f"{name}: corrupt model file ({type(e).__name__}: {e})")


def _raise_damaged(error: Exception, name, message: str) -> NoReturn:
    """Raise the OSError of a failing system (naming the file), or else ModelFileError(message)."""
    if isinstance(error, OSError) and error.errno is not None:
        raise os_error_naming(error, name) from None
    raise ModelFileError(message) from error


def _npy_array(blob: bytes) -> np.ndarray:
    """The array in .npy bytes (read-only, sharing blob's memory); ValueError unless
    the bytes after the header are exactly what the header's shape and dtype need."""
    f = io.BytesIO(blob)
    version = np.lib.format.read_magic(f)
    if version not in ((1, 0), (2, 0)):
        raise ValueError(f".npy version {version} not supported")
    read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, fortran_order, dtype = read_header(f)
    if dtype.hasobject or dtype.itemsize == 0:
        raise ValueError(f"unsupported .npy dtype {dtype}")
    count = math.prod(shape)
    if count * dtype.itemsize != len(blob) - f.tell():
        raise ValueError(f"an array of shape {shape} {dtype} in {len(blob) - f.tell()} bytes")
    flat = np.frombuffer(blob, dtype=dtype, count=count, offset=f.tell())
    return flat.reshape(shape, order="F" if fortran_order else "C")


def _metadata(raw: np.ndarray, name) -> dict:
    """The metadata object, its format and version checked."""
    try:
        meta = json.loads(raw.tobytes().decode())
    except (ValueError, RecursionError) as e:   # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise ModelFileError(f"{name}: the metadata is not valid JSON ({e})") from e
    if not isinstance(meta, dict):
        raise ModelFileError(f"{name}: the metadata is not a JSON object")
    version = meta.get("version", 0)
    if meta.get("format") != FORMAT:
        raise ModelFileError(f"{name}: unsupported model format {meta.get('format')!r} version {version!r}")
    if not _is_int(version):
        raise ModelFileError(f"{name}: 'version' must be an integer, got {version!r}")
    if not 1 <= version <= VERSION:
        raise ModelFileError(f"{name}: unsupported model format {FORMAT!r} version {version} (this w2v_ext reads "
                             f"versions up to {VERSION})")
    if version == 1:
        _from_version_1(meta)
    history = meta.get("history", [])
    if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
        raise ModelFileError(f"{name}: 'history' must be a list of JSON objects")
    return meta


def _from_version_1(meta: dict) -> None:
    """In version 1, min_alpha None meant word2vec.c's schedule, which is min_alpha 0 now:
    a resumed model keeps the schedule it was trained on."""
    settings = meta.get("settings")
    if isinstance(settings, dict) and "min_alpha" in settings and settings["min_alpha"] is None:
        settings["min_alpha"] = 0.0


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _vocabulary(arrays: Dict[str, np.ndarray], name) -> Vocabulary:
    """The words and their counts, checked: positive integer counts, offsets that cut
    the words' bytes into one word per count."""
    counts, blob, offsets = arrays["counts"], arrays["words"], arrays["word_offsets"]
    if counts.ndim != 1 or counts.dtype.kind not in "iu" or len(counts) == 0:
        raise ModelFileError(f"{name}: 'counts' must be a non-empty 1-D integer array, got shape {counts.shape} "
                             f"dtype {counts.dtype}")
    if blob.ndim != 1 or blob.dtype != np.uint8:
        raise ModelFileError(f"{name}: 'words' must be a 1-D uint8 array, got shape {blob.shape} dtype {blob.dtype}")
    if offsets.shape != (len(counts) + 1,) or offsets.dtype.kind not in "iu":
        raise ModelFileError(f"{name}: 'word_offsets' must be {len(counts) + 1} integers (one more than the "
                             f"counts), got shape {offsets.shape} dtype {offsets.dtype}")
    if offsets[0] != 0 or offsets[-1] != len(blob) or (np.diff(offsets.astype(np.int64)) < 0).any():
        raise ModelFileError(f"{name}: 'word_offsets' must rise from 0 to the {len(blob)} bytes of 'words'")
    bounds = offsets.tolist()
    empty = np.flatnonzero(np.diff(offsets.astype(np.int64)) == 0)
    if len(empty):
        raise ModelFileError(f"{name}: word {int(empty[0])} is empty (a word has at least one byte)")
    data = blob.tobytes()
    words = [data[bounds[i]:bounds[i + 1]] for i in range(len(counts))]
    bad = np.flatnonzero(counts < 1)
    if len(bad):
        i = int(bad[0])
        raise ModelFileError(f"{name}: 'counts' must be positive; word {i} ({words[i].decode(ENCODING, ERRORS)!r}) "
                             f"has count {counts[i]}")
    if int(counts.max()) > (2 ** 63 - 1) // len(counts):
        raise ModelFileError(f"{name}: 'counts' are too large: their sum must fit in 64 bits")
    return Vocabulary.from_bytes(words, counts.astype(np.int64))


def _set_corpus_counts(vocab: Vocabulary, meta: dict, name) -> None:
    """What the corpus last counted held (a file without them: unknown, and one epoch is
    the vocabulary's counts)."""
    counts = meta.get("corpus", {})
    if not isinstance(counts, dict):
        raise ModelFileError(f"{name}: 'corpus' must be a JSON object, got {type(counts).__name__}")
    for key in ("words", "sentences"):
        value = counts.get(key)
        if value is not None and not (_is_int(value) and value >= 0):
            raise ModelFileError(f"{name}: 'corpus' '{key}' must be an integer >= 0 or null, got {value!r}")
    epoch_words = counts.get("epoch_words", vocab.total)
    if not (_is_int(epoch_words) and 1 <= epoch_words <= vocab.total):
        raise ModelFileError(f"{name}: 'corpus' 'epoch_words' must be an integer in [1, {vocab.total}] (the "
                             f"vocabulary's counts), got {epoch_words!r}")
    vocab.counted_in(counts.get("words"), counts.get("sentences"))
    vocab.epoch_words = epoch_words


def _new_model(cls, meta: dict, name, progress: bool):
    """cls built with the file's settings (each known, of its default's kind, and valid)."""
    settings = meta.get("settings")
    if not isinstance(settings, dict):
        raise ModelFileError(f"{name}: 'settings' must be a JSON object, got {type(settings).__name__}")
    defaults = dataclasses.asdict(Settings())
    for key, value in settings.items():
        if key not in defaults:
            raise ModelFileError(f"{name}: unknown setting {key!r} (a file from a newer w2v_ext?)")
        kind, fits = _SETTING_KINDS.get(type(defaults[key]), ("valid", lambda v: True))   # validate() decides
        if not fits(value):
            raise ModelFileError(f"{name}: settings: {key} must be {kind}, got {value!r}")
    try:
        return cls(progress=progress, **settings)
    except (ValueError, TypeError, AttributeError) as e:   # Settings.validate on the file's values
        raise ModelFileError(f"{name}: settings: {e}") from None


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# the type of a setting's default -> (what the setting holds, a test of a JSON value);
# None defaults are optional numbers
_SETTING_KINDS = {bool: ("true or false", lambda v: isinstance(v, bool)),
                  str: ("a string", lambda v: isinstance(v, str)),
                  int: ("an integer", _is_int),
                  float: ("a number", _is_number),
                  type(None): ("a number or null", lambda v: v is None or _is_number(v))}


def _set_weights(model, vocab: Vocabulary, arrays: Dict[str, np.ndarray], name) -> None:
    """Give model the vocabulary and the weights: [V, dim] float arrays, finite."""
    shape = (len(vocab), model.settings.dim)
    for key in ("input", "output"):
        w = arrays[key]
        if w.shape != shape or w.dtype.kind != "f":
            raise ModelFileError(f"{name}: '{key}' must be a [{shape[0]}, {shape[1]}] float array (the vocabulary's "
                                 f"words x dim), got shape {w.shape} dtype {w.dtype}")
    model.vocab = vocab
    with np.errstate(over="ignore"):   # values beyond float32 become inf, refused below
        model.set_weights(arrays["input"], arrays["output"])
    for key, table in (("input", model.input), ("output", model.output)):
        bad = nonfinite_rows(table)
        if len(bad):
            raise ModelFileError(f"{name}: '{key}' holds a non-finite value (row {bad[0]}, word "
                                 f"{vocab.words[bad[0]]!r})")


def _set_position(model, meta: dict, name) -> None:
    """The training position (see TrainingPosition.from_dict for what is checked)."""
    try:
        model.position = TrainingPosition.from_dict(meta, model.vocab.epoch_words)
    except ValueError as e:
        raise ModelFileError(f"{name}: {e}") from None
