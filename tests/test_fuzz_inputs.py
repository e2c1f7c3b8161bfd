"""Fuzzing the readers of untrusted files: the word2vec text and binary readers, the
native model loader and the corpus reader (with vocabulary building) get mutated
inputs (truncations, byte and bit flips, inserted and deleted bytes, huge header
numbers, random bytes, compressed and corrupt-compressed streams, and for the model
file, metadata fields and arrays replaced by wrong values) for a fixed time each.
Every input must either load, giving a well-formed result, or raise one of the reader's
documented exceptions with a one-line message:

    word2vec files    VectorFileError (a ValueError naming the file), OSError
    native model      ModelFileError (a ValueError naming the file), OSError
    corpus            CorpusError (a ValueError), FileNotFoundError

Case i of a reader is built from its own seeded random generator, so a failure names
the case and the mutations that made it and replays alone: `python
tests/test_fuzz_inputs.py READER CASE` prints what case CASE does. The corpus reader
counts words in native code, so its cases run in a child process (a crash there fails
the test naming the case instead of killing pytest).
"""
from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import random
import shutil
import subprocess
import sys
import time
import warnings
from typing import Callable, List, Optional, Tuple

import numpy as np
import pytest

SEED = 20261201
# seconds and cases per reader: a few thousand inputs in about 25 s in all
BUDGET = {"text": (4.0, 5000), "binary": (4.0, 5000), "model": (7.0, 5000), "corpus": (6.0, 5000)}
MIN_CASES = 50   # fewer means the machine was too slow for the fuzz to say anything

HUGE_NUMBERS = [b"0", b"1", b"3", b"-1", b"1000000000000", b"99999999999999999999", b"18446744073709551617",
                b"1e3", b"x", b"", b"+5", b"0x10", b"\xd9\xa1"]
INSERTS = [b"\n", b" ", b"\t", b"\r", b"\r\n", b"\x00", b"\xff", b"nan", b"-inf", b"1e999", b"\xed\xa0\x80",
           b"PK\x03\x04", b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00"]


# ---- byte mutations ----------------------------------------------------------------------

def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[:rng.randrange(len(data) + 1)]


def flip_bytes(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if out:
            out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def flip_bits(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if out:
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


def insert_bytes(data: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(data) + 1)
    piece = rng.choice(INSERTS) if rng.random() < 0.7 else rng.randbytes(rng.randint(1, 64))
    return data[:at] + piece * rng.randint(1, 3) + data[at:]


def delete_range(data: bytes, rng: random.Random) -> bytes:
    start = rng.randrange(len(data) + 1)
    return data[:start] + data[start + rng.randint(1, 40):]


def duplicate_range(data: bytes, rng: random.Random) -> bytes:
    start = rng.randrange(len(data) + 1)
    piece = data[start:start + rng.randint(1, 80)]
    at = rng.randrange(len(data) + 1)
    return data[:at] + piece * rng.randint(1, 4) + data[at:]


def huge_header(data: bytes, rng: random.Random) -> bytes:
    """The first line replaced by two (or one, or three) numbers, often absurd ones."""
    rest = data.split(b"\n", 1)[1] if b"\n" in data else b""
    fields = [rng.choice(HUGE_NUMBERS) for _ in range(rng.choice((1, 2, 2, 2, 3)))]
    return b" ".join(fields) + b"\n" + rest


def random_bytes(data: bytes, rng: random.Random) -> bytes:
    return rng.randbytes(rng.randrange(0, 3000))


def compress(data: bytes, rng: random.Random) -> bytes:
    kind = rng.choice(("gz", "bz2", "xz"))
    if kind == "gz":
        return gzip.compress(data, mtime=0)
    return bz2.compress(data) if kind == "bz2" else lzma.compress(data)


BYTE_MUTATIONS = [truncate, flip_bytes, flip_bits, insert_bytes, delete_range, duplicate_range, random_bytes]


def mutate_bytes(data: bytes, rng: random.Random, extra: Tuple[Callable, ...] = ()) -> Tuple[bytes, List[str]]:
    """1-3 mutations of data, then sometimes compression, sometimes damaged after it."""
    steps = []
    for fn in rng.choices(BYTE_MUTATIONS + list(extra), k=rng.randint(1, 3)):
        data = fn(data, rng)
        steps.append(fn.__name__)
    if rng.random() < 0.25:
        data = compress(data, rng)
        steps.append("compress")
        if rng.random() < 0.6:
            fn = rng.choice([truncate, flip_bytes, flip_bits, delete_range])
            data = fn(data, rng)
            steps.append(fn.__name__)
    return data, steps


def one_line_naming(error: BaseException, name: str) -> Optional[str]:
    """Why error's message is not one line naming `name`, or None."""
    message = str(error)
    if "\n" in message:
        return "message of several lines"
    if name not in message:
        return "message does not name the file"
    return None


# ---- word2vec files ----------------------------------------------------------------------

def vector_seeds() -> dict:
    """Valid files to mutate, by kind: text (LF, CRLF, fastText-style trailing space) and
    binary (with and without the newline after each vector)."""
    rng = np.random.default_rng(0)
    words = ["</s>", "the", "König", "日本", "a_b", "x", "dog", "cat"]
    vectors = rng.standard_normal((len(words), 4)).astype(np.float32)
    header = b"%d 4\n" % len(words)
    text = header + "".join(f"{w} " + " ".join(f"{x:.6g}" for x in v) + "\n" for w, v in zip(words, vectors)).encode()
    binary = [header + b"".join(w.encode() + b" " + v.astype("<f4").tobytes() + end for w, v in zip(words, vectors))
              for end in (b"\n", b"")]
    return {"text": [text, text.replace(b"\n", b"\r\n"), text.replace(b"\n", b" \n")], "binary": binary}


def vector_case(kind: str, index: int, seeds: dict) -> Tuple[bytes, dict, List[str]]:
    """(file bytes, read_word2vec_format options, mutation names) of case `index`."""
    rng = random.Random(f"{SEED}-{kind}-{index}")
    seed = rng.choice(seeds[kind])
    data, steps = mutate_bytes(seed, rng, extra=(huge_header, huge_header))
    options = {"binary": rng.choice((None, None, kind == "binary")),
               "limit": rng.choice((None, None, None, 0, 1, 3, 10 ** 12)),
               "errors": rng.choice(("replace", "replace", "strict", "surrogateescape")),
               "drop_nonfinite": rng.random() < 0.3}
    return data, options, steps


def check_vectors(path: str, options: dict) -> Optional[str]:
    """None if reading path either gives well-formed vectors or raises a documented error."""
    from w2v_ext.word2vec_format import VectorFileError, read_word2vec_format
    try:
        words, vectors = read_word2vec_format(path, **options)
    except VectorFileError as e:
        return one_line_naming(e, path)
    except OSError as e:
        return None if e.filename == path or path in str(e) else f"OSError without the file name: {e!r}"
    except Exception as e:  # noqa: BLE001 (the point: anything else is a failure)
        return f"undocumented {type(e).__name__}: {e!r:.300}"
    if not (isinstance(vectors, np.ndarray) and vectors.dtype == np.float32 and vectors.ndim == 2
            and len(words) == len(vectors)):
        return f"malformed result: {len(words)} words, vectors {getattr(vectors, 'shape', None)}"
    if not np.isfinite(vectors).all():
        return "non-finite vectors loaded"
    if any(" " in w or "\n" in w for w in words):
        return f"a word holds a space or newline: {next(w for w in words if ' ' in w or chr(10) in w)!r:.80}"
    return None


# ---- native model files ------------------------------------------------------------------

SEED_VOCABULARY = 5   # words in the seed model
ODD_VALUES = [-1, 0, 1, 2.5, -0.0, 1e308, float("nan"), float("inf"), 2 ** 70, -(2 ** 63), "x", "", "1", None, True,
              False, [], [1], {}, {"a": 1}]


def model_seed(directory: str) -> bytes:
    from w2v_ext.trainer import Word2Vec
    corpus = os.path.join(directory, "seed_corpus.txt")
    with open(corpus, "w", encoding="utf-8") as f:
        f.write("a b c a b a d König\n" * 10)
    model = Word2Vec(dim=4, min_count=1, threads=1, progress=False)
    model.build_vocab(corpus)
    assert len(model.vocab) == SEED_VOCABULARY
    path = os.path.join(directory, "seed.model")
    model.save(path)
    with open(path, "rb") as f:
        return f.read()


def _members(data: bytes) -> dict:
    with np.load(io.BytesIO(data)) as npz:
        return {k: npz[k] for k in npz.files}


def _pack(members: dict, rng: random.Random) -> bytes:
    out = io.BytesIO()
    (np.savez_compressed if rng.random() < 0.2 else np.savez)(out, **members)
    return out.getvalue()


def mutate_meta(members: dict, rng: random.Random) -> str:
    try:
        meta = json.loads(members["meta"].tobytes())
    except (KeyError, ValueError, RecursionError):   # replaced or removed by an earlier mutation
        return "meta unchanged"
    if not isinstance(meta, dict) or not isinstance(meta.get("settings"), dict):
        return "meta unchanged"
    target = meta["settings"] if rng.random() < 0.4 else meta
    key = rng.choice(sorted(target) + ["new_key"])
    if rng.random() < 0.15:
        target.pop(key, None)
        what = f"del {key}"
    else:
        target[key] = rng.choice(ODD_VALUES)
        what = f"{key}={target[key]!r}"
    members["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    return f"meta {what}"


def raw_meta(members: dict, rng: random.Random) -> str:
    raw = rng.choice([b"{", b"[]", b"null", b"7", b'"s"', b"\xff\xfe{}", b"[" * 100000, b'{"format": "w2v_ext.model"}',
                      b'{"format": "w2v_ext.model", "version": 1}', rng.randbytes(50)])
    members["meta"] = np.frombuffer(raw, dtype=np.uint8)
    return f"meta bytes {raw[:20]!r}"


def replace_array(members: dict, rng: random.Random) -> str:
    key = rng.choice(sorted(members))
    V = SEED_VOCABULARY
    shape = rng.choice([(), (0,), (3,), (V,), (V + 1,), (V, 4), (V, 5), (V - 1, 4), (2, 2, 2), (0, 4)])
    dtype = rng.choice(["<f4", "<f8", "<f2", "<i8", "<i4", "<u1", "<u8", "?", "<c8", "<U3", "S2", ">f4", "O"])
    size = int(np.prod(shape))
    values = np.array([rng.choice([0, 1, -1, 3, 7, 2 ** 31, 2 ** 63, 1e308, float("nan"), float("inf"), 0.5])
                       for _ in range(size)], dtype=object).reshape(shape)
    with warnings.catch_warnings():   # casts that overflow are wanted here
        warnings.simplefilter("ignore")
        try:
            members[key] = values.astype(dtype)
        except (ValueError, OverflowError, TypeError):
            members[key] = np.zeros(shape, dtype=dtype)
    return f"{key} -> {dtype}{shape}"


def drop_array(members: dict, rng: random.Random) -> str:
    key = rng.choice(sorted(members))
    del members[key]
    return f"del {key}"


def model_case(index: int, seed: bytes) -> Tuple[bytes, List[str]]:
    """(file bytes, mutation names) of model case `index`: field and array changes,
    byte mutations of the zip, or both."""
    rng = random.Random(f"{SEED}-model-{index}")
    steps: List[str] = []
    data = seed
    if rng.random() < 0.6:
        members = _members(seed)
        for fn in rng.choices([mutate_meta, mutate_meta, mutate_meta, raw_meta, replace_array, replace_array,
                               drop_array], k=rng.randint(1, 3)):
            steps.append(fn(members, rng))
        data = _pack(members, rng)
    if not steps or rng.random() < 0.4:
        for fn in rng.choices([truncate, flip_bytes, flip_bits, insert_bytes, delete_range, duplicate_range],
                              k=rng.randint(1, 2)):
            data = fn(data, rng)
            steps.append(fn.__name__)
    return data, steps


def check_model(path: str) -> Optional[str]:
    from w2v_ext.model_format import ModelFileError
    from w2v_ext.trainer import Word2Vec
    try:
        model = Word2Vec.load(path, progress=False)
    except ModelFileError as e:
        return one_line_naming(e, path)
    except OSError as e:
        return None if e.filename == path or path in str(e) else f"OSError without the file name: {e!r}"
    except Exception as e:  # noqa: BLE001
        return f"undocumented {type(e).__name__}: {e!r:.300}"
    V, dim = len(model.vocab), model.settings.dim
    if model.input.shape != (V, dim) or model.output.shape != (V, dim) or len(model.vocab.counts) != V:
        return "inconsistent shapes loaded"
    if not (np.isfinite(model.input).all() and np.isfinite(model.output).all() and (model.vocab.counts > 0).all()):
        return "non-finite weights or counts < 1 loaded"
    positions = [model.words_done, model.words_planned, model.epochs_planned, model.epochs_done, model.epoch_position]
    if not all(type(p) is int and p >= 0 for p in positions):
        return f"position loaded as {positions!r:.120}"
    return None


# ---- corpus files (run in a child process) -----------------------------------------------

def corpus_seed() -> bytes:
    lines = ["the cat sat on the mat", "König 日本 the dog", "a\tb  c\r\nd", "x " * 50, "caf\udce9 w0 w1"]
    return "\n".join(lines).encode("utf-8", "surrogateescape") + b"\xff\xfe w2\n"


def corpus_case(index: int, seed: bytes, directory: str) -> Tuple[object, dict, List[str]]:
    """(corpus source, build_vocabulary options, mutation names) of corpus case `index`;
    the files are written under `directory`."""
    rng = random.Random(f"{SEED}-corpus-{index}")
    data, steps = mutate_bytes(seed, rng)
    path = os.path.join(directory, "c.txt")
    with open(path, "wb") as f:
        f.write(data)
    source: object = path
    layout = rng.random()
    if layout < 0.15:   # a directory holding the file, an empty file and a hidden one
        sub = os.path.join(directory, "corpus")
        os.mkdir(sub)
        os.replace(path, os.path.join(sub, "c.txt"))
        open(os.path.join(sub, "empty.txt"), "wb").close()
        with open(os.path.join(sub, ".hidden"), "wb") as f:
            f.write(b"never read")
        source, steps = sub, steps + ["in a directory"]
    elif layout < 0.25:
        source, steps = [path, path], steps + ["listed twice"]
    options = {"tokenizer": rng.choice(("whitespace", "whitespace", "regex")), "min_count": rng.choice((1, 1, 2, 5)),
               "max_vocab_size": rng.choice((None, None, 3)), "threads": rng.choice((1, 2))}
    return source, options, steps


def check_corpus(source, options: dict) -> Optional[str]:
    from w2v_ext.corpus import Corpus, CorpusError
    from w2v_ext.vocab import build_vocabulary
    try:
        vocab = build_vocabulary(Corpus(source, tokenizer=options["tokenizer"]), options["min_count"],
                                 options["max_vocab_size"], None, options["threads"])
    except (CorpusError, FileNotFoundError) as e:
        return "message of several lines" if "\n" in str(e) else None
    except Exception as e:  # noqa: BLE001
        return f"undocumented {type(e).__name__}: {e!r:.300}"
    if len(vocab) == 0 or (vocab.counts < options["min_count"]).any():
        return f"malformed vocabulary: {vocab!r}"
    return None


def run_corpus_cases(budget: float, max_cases: int, directory: str) -> None:
    """The child process: run corpus cases, printing START before each (the last one
    seen names a case that crashed), FAIL for each failure and DONE at the end."""
    seed, start, index = corpus_seed(), time.monotonic(), 0
    while index < max_cases and time.monotonic() - start < budget:
        case_directory = os.path.join(directory, f"case{index}")
        os.mkdir(case_directory)
        source, options, steps = corpus_case(index, seed, case_directory)
        print(f"START {index} {steps} {options}", flush=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            problem = check_corpus(source, options)
        if problem:
            print(f"FAIL {index} {steps} {options}: {problem}", flush=True)
        else:
            shutil.rmtree(case_directory)
        index += 1
    print(f"DONE {index}", flush=True)


# ---- the tests ---------------------------------------------------------------------------

def _fuzz(reader: str, make_case: Callable[[int], Tuple[bytes, str, Callable[[str], Optional[str]], List[str]]],
          tmp_path) -> None:
    """Run cases of `reader` until its case count or time budget is reached; fail listing
    the first failures (case number, mutations, problem)."""
    budget, max_cases = BUDGET[reader]
    failures, start, index = [], time.monotonic(), 0
    while index < max_cases and time.monotonic() - start < budget:
        data, suffix, check, steps = make_case(index)
        path = str(tmp_path / f"{reader}{index}{suffix}")
        with open(path, "wb") as f:
            f.write(data)
        with warnings.catch_warnings():   # a warning (numpy's overflow, ...) fails the case too
            warnings.simplefilter("error")
            problem = check(path)
        if problem:
            failures.append(f"case {index} {steps}: {problem}")
        else:
            os.remove(path)
        index += 1
    assert not failures, f"{len(failures)} of {index} {reader} cases failed:\n" + "\n".join(failures[:10])
    assert index >= MIN_CASES, f"only {index} {reader} cases ran in {budget} s"


@pytest.mark.parametrize("kind", ["text", "binary"])
def test_word2vec_readers_load_or_raise_documented_errors(kind, tmp_path):
    seeds = vector_seeds()

    def make_case(index):
        data, options, steps = vector_case(kind, index, seeds)
        suffix = (".txt", ".bin", ".vec", ".gz", "")[index % 5]   # the content decides the format, not the name
        return data, suffix, (lambda path: check_vectors(path, options)), steps + [options]

    _fuzz(kind, make_case, tmp_path)


def test_model_loader_loads_or_raises_documented_errors(tmp_path):
    seed = model_seed(str(tmp_path))

    def make_case(index):
        data, steps = model_case(index, seed)
        return data, ".model", check_model, steps

    _fuzz("model", make_case, tmp_path)


def test_corpus_reader_loads_or_raises_documented_errors(tmp_path):
    budget, max_cases = BUDGET["corpus"]
    child = subprocess.run([sys.executable, __file__, "corpus", str(budget), str(max_cases), str(tmp_path)],
                           capture_output=True, text=True, timeout=budget + 120,
                           cwd=os.path.dirname(os.path.abspath(__file__)))
    lines = child.stdout.splitlines()
    started = [line for line in lines if line.startswith("START")]
    assert child.returncode == 0, (f"the corpus reader crashed (exit {child.returncode}) in "
                                   f"{started[-1] if started else 'no case'}\n{child.stderr[-2000:]}")
    failures = [line for line in lines if line.startswith("FAIL")]
    done = int(lines[-1].split()[1])
    assert not failures, f"{len(failures)} of {done} corpus cases failed:\n" + "\n".join(failures[:10])
    assert done >= MIN_CASES, f"only {done} corpus cases ran in {budget} s"


if __name__ == "__main__":
    # python tests/test_fuzz_inputs.py corpus BUDGET MAX_CASES DIR   (the corpus test's child)
    # python tests/test_fuzz_inputs.py READER CASE                    (show one case)
    if sys.argv[1] == "corpus" and len(sys.argv) == 5:
        run_corpus_cases(float(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    else:
        reader, case = sys.argv[1], int(sys.argv[2])
        if reader in ("text", "binary"):
            data, options, steps = vector_case(reader, case, vector_seeds())
            print(steps, options, data[:300])
        elif reader == "model":
            import tempfile
            with tempfile.TemporaryDirectory() as d:
                print(model_case(case, model_seed(d))[1])
        else:
            import tempfile
            with tempfile.TemporaryDirectory() as d:
                print(corpus_case(case, corpus_seed(), d))
