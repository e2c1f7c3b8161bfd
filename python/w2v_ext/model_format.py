"""The native model file: everything needed to use or resume a Word2Vec model.

An uncompressed .npz (numpy arrays, loaded without pickle) holding the input and
output weights, the vocabulary (UTF-8 words with surrogateescape, and counts), the
settings and the training position as JSON. Written atomically.
"""
from __future__ import annotations

import dataclasses
import json
import os
from typing import Optional

import numpy as np

from .atomic_file import atomic_write
from .vocab import ENCODING, ERRORS, Vocabulary

FORMAT = "w2v_ext.model"
VERSION = 1


def kind_of(path, binary: Optional[bool] = None) -> str:
    """'binary' / 'text' (word2vec formats) or 'native', from `binary` or the extension
    (a .gz/.bz2/.xz suffix after it, which compresses the word2vec formats, is skipped)."""
    if binary is not None:
        return "binary" if binary else "text"
    name = os.fspath(path).lower()
    for suffix in (".gz", ".bz2", ".xz"):
        if name.endswith(suffix):
            name = name[:-len(suffix)]
            break
    ext = os.path.splitext(name)[1]
    if ext == ".bin":
        return "binary"
    if ext in (".txt", ".vec"):
        return "text"
    return "native"


def save_model(path, model) -> None:
    """Write a Word2Vec model (weights [V, dim] x 2, vocabulary, settings, position) to path."""
    words = [w.encode(ENCODING, ERRORS) for w in model.vocab.words]
    offsets = np.cumsum([0] + [len(w) for w in words], dtype=np.int64)
    meta = {"format": FORMAT, "version": VERSION, "settings": dataclasses.asdict(model.settings),
            "words_done": int(model.words_done), "words_planned": int(model.words_planned),
            "epochs_planned": int(getattr(model, "epochs_planned", model.settings.epochs)),
            "epochs_done": int(model.epochs_done), "epoch_position": int(model.epoch_position),
            "history": model.history}
    with atomic_write(path) as f:
        np.savez(f, input=model.input, output=model.output, counts=model.vocab.counts,
                 words=np.frombuffer(b"".join(words), dtype=np.uint8), word_offsets=offsets,
                 meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))


def load_model(path, cls, progress: bool = True):
    """A `cls` (Word2Vec) model read from a file save_model wrote; ValueError if it is not one."""
    name = os.fspath(path)
    try:
        data = np.load(name, allow_pickle=False)
    except FileNotFoundError:
        raise
    except Exception as e:
        raise ValueError(f"{name} is not a w2v_ext model file ({e}); word2vec .bin/.txt vectors load with "
                         f"w2v_ext.KeyedVectors.load_word2vec_format") from e
    with data:
        if "meta" not in data.files:
            raise ValueError(f"{name} is not a w2v_ext model file (no metadata)")
        meta = json.loads(data["meta"].tobytes().decode())
        if meta.get("format") != FORMAT or meta.get("version", 0) > VERSION:
            raise ValueError(f"{name}: unsupported model format {meta.get('format')!r} version {meta.get('version')}")
        blob, offsets = data["words"].tobytes(), data["word_offsets"]
        words = [blob[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)]
        model = cls(progress=progress, **meta["settings"])
        model.vocab = Vocabulary.from_bytes(words, data["counts"])
        model.set_weights(data["input"], data["output"])
    model.words_done = meta["words_done"]
    model.words_planned = meta["words_planned"]
    model.epochs_planned = meta["epochs_planned"]
    if "epochs_done" in meta:
        model.epochs_done, model.epoch_position = meta["epochs_done"], meta["epoch_position"]
    else:  # files written before these were stored
        per_epoch = max(model.vocab.total, 1)
        model.epochs_done = min(model.words_done // per_epoch, model.epochs_planned)
        model.epoch_position = model.words_done - model.epochs_done * per_epoch
    model.history = meta["history"]
    return model
