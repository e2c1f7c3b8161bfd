"""Bad vector and model files: each is refused with one line naming the file and the
problem (a VectorFileError / ModelFileError, both ValueErrors, or an OSError carrying the
file name), never a traceback from zlib, zipfile, json or numpy, an allocation sized by a
lying header, or garbage loaded as words. Also: `eval` with two pair files of the same
name, and `plot --neighbours` with more labels than a plot can hold."""
from __future__ import annotations

import bz2
import errno
import gzip
import json
import re

import numpy as np
import pytest

from trainer_testing import run_cli
from w2v_ext import model_format
from w2v_ext import word2vec_format as w2vf
from w2v_ext.trainer import Word2Vec
from w2v_ext.vectors import KeyedVectors


def text_vectors(rows) -> bytes:
    """A word2vec text file: rows of (word, values)."""
    dim = len(rows[0][1])
    lines = [b"%d %d" % (len(rows), dim)] + [w.encode() + b" " + b" ".join(str(v).encode() for v in vs)
                                             for w, vs in rows]
    return b"\n".join(lines) + b"\n"


def binary_vectors(words, vectors, dim=None, newline=True) -> bytes:
    """A word2vec.c binary file; `dim` overrides the header's dimension."""
    vectors = np.asarray(vectors, dtype="<f4")
    out = b"%d %d\n" % (len(words), vectors.shape[1] if dim is None else dim)
    for w, v in zip(words, vectors):
        out += w.encode() + b" " + v.tobytes() + (b"\n" if newline else b"")
    return out


def read_error(path, **kwargs) -> str:
    """The one-line message of the VectorFileError reading `path` raises."""
    with pytest.raises(ValueError) as e:
        w2vf.read_word2vec_format(path, **kwargs)
    assert isinstance(e.value, w2vf.VectorFileError), type(e.value)
    message = str(e.value)
    assert str(path) in message and "\n" not in message, message
    return message


# ---- vector files: corrupt compressed data, lying headers, OS errors --------------------

GOOD_TEXT = text_vectors([(f"w{i}", [i / 7, -i / 3, 0.5]) for i in range(200)])


def test_corrupt_gzip_data_is_a_one_line_error(tmp_path):
    data = bytearray(gzip.compress(GOOD_TEXT, mtime=0))
    data[12] ^= 0xFF   # the start of the deflate stream: zlib.error before
    path = tmp_path / "v.txt.gz"
    path.write_bytes(bytes(data))
    assert "corrupt or truncated compressed file" in read_error(path)


def test_corrupt_bz2_data_names_the_file(tmp_path):
    data = bytearray(bz2.compress(GOOD_TEXT))
    data[20] ^= 0xFF   # OSError('Invalid data stream') without the file's name before
    path = tmp_path / "v.txt.bz2"
    path.write_bytes(bytes(data))
    assert "corrupt or truncated compressed file" in read_error(path)


@pytest.mark.parametrize("header, match", [
    (b"1000000000000 3", r"file ends after 1 records .* but the header declares 1000000000000"),
    (b"1 1000000000000", r"line 2: expected a word and 1000000000000 values, got 3"),
    (b"99999999999999999999 3", r"line 1: expected a header .*below 2\*\*63"),
])
@pytest.mark.parametrize("compress", [None, gzip.compress, bz2.compress])
def test_header_numbers_are_bounded_by_the_file_size(tmp_path, header, match, compress):
    """A header claiming 10^12 words or dimensions sizes no allocation beyond what the
    file can hold (before: a MemoryError from allocating for it)."""
    data = header + b"\na 1 2 3\n"
    path = tmp_path / "v.txt"
    path.write_bytes(compress(data) if compress else data)
    assert re.search(match, read_error(path))


def test_read_errors_carry_the_file_name(tmp_path, monkeypatch):
    """An OSError while reading (a failing disk) names the file, as one from open() does."""
    path = tmp_path / "v.txt"
    path.write_bytes(GOOD_TEXT)

    class FailingFile:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def __getattr__(self, name):
            return getattr(self.f, name)

        def readline(self, *args):
            raise OSError(errno.EIO, "Input/output error")

    real_open = w2vf.open_read
    monkeypatch.setattr(w2vf, "open_read", lambda name: FailingFile(real_open(name)))
    with pytest.raises(OSError) as e:
        w2vf.read_word2vec_format(path)
    assert e.value.errno == errno.EIO and e.value.filename == str(path)


def test_strict_decoding_error_names_the_file_and_record(tmp_path):
    path = tmp_path / "v.bin"
    path.write_bytes(binary_vectors(["ok", "x"], np.ones((2, 2))).replace(b"x ", b"\xff ", 1))
    with pytest.raises(UnicodeDecodeError) as e:
        w2vf.read_word2vec_format(path, errors="strict")
    assert isinstance(e.value, w2vf.VectorFileError)
    assert str(path) in str(e.value) and "record 2" in str(e.value)


# ---- vector files: records that do not fit the header -----------------------------------

def test_binary_records_longer_than_the_header_dim_are_rejected(tmp_path):
    """Before: loaded as words made of raw float bytes and newlines."""
    words = ["alpha", "beta", "gamma", "delta"]
    path = tmp_path / "v.bin"
    path.write_bytes(binary_vectors(words, np.arange(20).reshape(4, 5) + 0.5, dim=3))
    message = read_error(path)
    assert "record 2" in message and "dim" in message


def test_binary_forced_on_a_text_file_is_rejected(tmp_path):
    path = tmp_path / "v.txt"
    path.write_bytes(text_vectors([("alpha", [0.125, -2.5, 3.0]), ("beta", [1.0, 22.75, -0.5]),
                                   ("gamma", [7.0, 8.0, 9.0])]))
    read_error(path, binary=True)


def test_binary_files_without_newlines_and_odd_words_still_load(tmp_path):
    words = ["a\x00b", "é", "x"]
    # finite floats whose bytes include newline, tab, CR and space
    vectors = np.frombuffer(b"\n\t\r\x41 \n\x20\x42\x00\x00\x00\x00" * 3, dtype="<f4").reshape(3, 3)
    for newline in (True, False):
        path = tmp_path / f"v{newline}.bin"
        path.write_bytes(binary_vectors(words, vectors, newline=newline))
        got_words, got = w2vf.read_word2vec_format(path)
        assert got_words == words and np.array_equal(got, vectors)


# ---- vector files: NaN and infinity -----------------------------------------------------

@pytest.mark.parametrize("binary", [False, True])
def test_non_finite_vectors_are_rejected_naming_the_record_and_word(tmp_path, binary):
    vectors = np.array([[1, 2], [3, np.nan], [np.inf, 0], [5, 6]], dtype=np.float32)
    words = ["a", "bad", "worse", "d"]
    path = tmp_path / ("v.bin" if binary else "v.txt")
    path.write_bytes(binary_vectors(words, vectors) if binary else
                     text_vectors(list(zip(words, vectors.tolist()))))
    message = read_error(path)
    assert "record 2" in message and "'bad'" in message and "non-finite" in message
    kv = KeyedVectors.load_word2vec_format(path, drop_nonfinite=True)
    assert kv.words == ["a", "d"] and np.array_equal(kv.vectors, vectors[[0, 3]])


def test_cli_similar_on_non_finite_vectors_is_one_line(tmp_path):
    """Before: `similar` answered with the query word itself, scored -inf."""
    path = tmp_path / "v.txt"
    path.write_bytes(text_vectors([("a", [1.0, 2.0]), ("b", [float("nan"), 1.0]), ("c", [2.0, 1.0])]))
    r = run_cli("similar", path, "a")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.strip().startswith(f"w2v-ext similar: error: {path}: record 2 ('b')"), r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


# ---- native model files --------------------------------------------------------------------

@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    d = tmp_path_factory.mktemp("models")
    (d / "c.txt").write_text("a b c a b a d\n" * 20)
    model = Word2Vec(dim=4, min_count=1, threads=1, progress=False)
    model.build_vocab(str(d / "c.txt"))
    model.save(d / "m.model")
    return d / "m.model"


def rewritten(src, dst, fields=None, settings=None, meta_bytes=None, **arrays):
    """A copy of the model file src at dst with metadata fields, settings, the metadata's
    bytes or arrays replaced (a field set to "del" or an array to None is removed)."""
    with np.load(src) as data:
        members = {k: data[k] for k in data.files}
    info = json.loads(members["meta"].tobytes())
    for target, changes in ((info, fields or {}), (info["settings"], settings or {})):
        for key, value in changes.items():
            if value == "del":
                del target[key]
            else:
                target[key] = value
    members["meta"] = np.frombuffer(meta_bytes or json.dumps(info).encode(), dtype=np.uint8)
    for key, value in arrays.items():
        if value is None:
            del members[key]
        else:
            members[key] = value
    with open(dst, "wb") as f:
        np.savez(f, **members)
    return dst


def load_error(path) -> str:
    """The one-line message of the ModelFileError Word2Vec.load(path) raises."""
    with pytest.raises(ValueError) as e:
        Word2Vec.load(path, progress=False)
    assert isinstance(e.value, model_format.ModelFileError), type(e.value)
    message = str(e.value)
    assert message.startswith(str(path)) and "\n" not in message, message
    return message


def test_model_with_a_bad_crc_is_a_one_line_error(model_file, tmp_path):
    data = bytearray(model_file.read_bytes())
    data[data.find(b"\x93NUMPY") + 140] ^= 1   # in the input weights: BadZipFile before
    path = tmp_path / "crc.model"
    path.write_bytes(bytes(data))
    assert "corrupt" in load_error(path)


def test_model_metadata_that_is_not_json(model_file, tmp_path):
    path = rewritten(model_file, tmp_path / "m.model", meta_bytes=b"{not json")
    assert "metadata" in load_error(path)


@pytest.mark.parametrize("fields, settings, words", [
    ({"version": "1"}, None, "'version' must be an integer"),
    ({"version": 3}, None, "version 3"),
    (None, {"newthing": 1}, "unknown setting 'newthing'"),
    (None, {"dim": "4"}, "dim must be an integer"),
    (None, {"dim": 0}, "dim must be a positive integer"),
    (None, {"model": ["sg"]}, "settings"),
    ({"words_done": -5}, None, "'words_done' must be an integer >= 0, got -5"),
    ({"epochs_done": -1}, None, "'epochs_done'"),
    ({"epoch_position": -3}, None, "'epoch_position'"),
    ({"epochs_planned": 1.5}, None, "'epochs_planned'"),
    ({"words_planned": "x"}, None, "'words_planned'"),
    ({"words_done": "del"}, None, "'words_done'"),
    ({"epochs_done": 1}, None, "'epochs_done' (1) exceeds 'epochs_planned' (0)"),
    ({"epochs_planned": 2}, None, "'words_planned' (0) must be 'epochs_planned' (2) x"),
    ({"history": {"a": 1}}, None, "'history'"),
    ({"corpus": [1]}, None, "'corpus' must be a JSON object"),
    ({"corpus": {"sentences": -1}}, None, "'corpus' 'sentences' must be an integer >= 0 or null, got -1"),
    ({"corpus": {"words": 2.5}}, None, "'corpus' 'words'"),
    ({"corpus": {"epoch_words": 0}}, None, "'corpus' 'epoch_words' must be an integer in [1, "),
    ({"corpus": {"epoch_words": 10**6}}, None, "'corpus' 'epoch_words'"),
    (None, {"ns_exponent": 11}, "ns_exponent must be a number in [-10, 10]"),
    (None, {"shrink_windows": 1}, "shrink_windows must be true or false"),
])
def test_model_metadata_is_checked(model_file, tmp_path, fields, settings, words):
    path = rewritten(model_file, tmp_path / "m.model", fields=fields, settings=settings)
    assert words in load_error(path)


def test_version_1_models_keep_word2vec_c_schedule(model_file, tmp_path):
    """Version 1 wrote min_alpha null for word2vec.c's schedule; the default now ends at
    alpha x 0.1, so such a file resumes with min_alpha 0, and a version 2 null stays the default."""
    old = Word2Vec.load(rewritten(model_file, tmp_path / "v1.model", fields={"version": 1},
                                  settings={"min_alpha": None}), progress=False)
    assert old.settings.min_alpha == 0.0
    kept = Word2Vec.load(rewritten(model_file, tmp_path / "v1-set.model", fields={"version": 1},
                                   settings={"min_alpha": 0.001}), progress=False)
    assert kept.settings.min_alpha == 0.001
    new = Word2Vec.load(rewritten(model_file, tmp_path / "v2.model", settings={"min_alpha": None}), progress=False)
    assert new.settings.min_alpha is None


def test_model_metadata_that_is_not_an_object(model_file, tmp_path):
    path = rewritten(model_file, tmp_path / "m.model", meta_bytes=b"[1, 2]")
    assert "metadata" in load_error(path)


@pytest.mark.parametrize("arrays, words", [
    ({"counts": np.zeros(4, dtype=np.int64)}, "'counts'"),
    ({"word_offsets": np.array([0, 1, 1, 3, 4])}, "word 1 is empty"),
    ({"counts": np.array([5, 3, -1, 1])}, "'counts'"),
    ({"counts": np.array([5.0, 3.0, 2.0, 1.0])}, "'counts'"),
    ({"counts": np.array([2 ** 63, 3, 2, 1], dtype=np.uint64)}, "'counts' are too large"),
    ({"input": np.full((4, 4), np.nan, dtype=np.float32)}, "'input' holds a non-finite value"),
    ({"output": np.full((4, 4), np.inf, dtype=np.float32)}, "'output' holds a non-finite value"),
    ({"input": np.full((4, 4), 1e308)}, "'input' holds a non-finite value"),   # beyond float32
    ({"input": np.zeros((4, 5), dtype=np.float32)}, "'input'"),
    ({"input": np.zeros((4, 4), dtype="U3")}, "'input'"),
    ({"word_offsets": np.array([0, 2, 1, 3, 4])}, "'word_offsets'"),
    ({"word_offsets": np.array([0, 1, 2, 3, 999])}, "'word_offsets'"),
    ({"word_offsets": np.array([0, 1, 2])}, "'word_offsets'"),
    ({"counts": None}, "'counts'"),
])
def test_model_arrays_are_checked(model_file, tmp_path, arrays, words):
    """Zero counts, NaN weights and the like were accepted before (and trained on NaN tables)."""
    path = rewritten(model_file, tmp_path / "m.model", **arrays)
    assert words in load_error(path)


def test_model_member_declaring_a_huge_shape(model_file, tmp_path):
    """An .npy header inside the model claiming 10^12 rows is not trusted for the allocation."""
    data = model_file.read_bytes()
    start = data.find(b"\x93NUMPY")
    header = data[start:start + 128]
    shape = header[header.find(b"'shape': ") + 9:header.find(b")", header.find(b"'shape': ")) + 1]
    huge = b"(10000000000000, 4)"
    padded = header.replace(shape, huge).replace(b" " * (len(huge) - len(shape)) + b"\n", b"\n", 1)
    assert len(padded) == len(header)
    path = tmp_path / "huge.model"
    path.write_bytes(data[:start] + padded + data[start + 128:])
    message = load_error(path)
    assert "corrupt" in message or "'input'" in message


def test_not_a_model_file(tmp_path):
    path = tmp_path / "m.model"
    path.write_bytes(b"PK\x03\x04 garbage")
    assert "not a w2v_ext model file" in load_error(path)


def test_cli_reports_a_bad_model_in_one_line(model_file, tmp_path):
    path = rewritten(model_file, tmp_path / "m.model", counts=np.zeros(4, dtype=np.int64))
    r = run_cli("similar", path, "a")
    assert r.returncode == 1 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"w2v-ext similar: error: {path}: 'counts'"), r.stderr


def test_the_saved_model_still_loads(model_file):
    model = Word2Vec.load(model_file, progress=False)
    assert model.vocab.words == ["a", "b", "c", "d"] and model.input.shape == (4, 4)


# ---- eval with pair files of the same name --------------------------------------------------

def test_eval_pair_files_with_the_same_basename(tmp_path):
    """Before: both results were stored under 'ws.tsv' and the second printed twice."""
    path = tmp_path / "v.txt"
    path.write_bytes(text_vectors([("a", [1.0, 0.0]), ("b", [1.0, 0.1]), ("c", [0.0, 1.0])]))
    for sub, (ab, ac, bc) in (("x", (9, 0, 1)), ("y", (1, 9, 0))):   # cosines rank ab > bc > ac
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "ws.tsv").write_text(f"a\tb\t{ab}\na\tc\t{ac}\nb\tc\t{bc}\n")
    first, second = tmp_path / "x" / "ws.tsv", tmp_path / "y" / "ws.tsv"
    r = run_cli("eval", path, "--pairs", first, "--pairs", second)
    assert r.returncode == 0, r.stderr
    assert f"{first}: Spearman 1.0000" in r.stdout and f"{second}: Spearman -0.5000" in r.stdout, r.stdout
    result = json.loads(run_cli("eval", path, "--pairs", first, "--pairs", second, "--json").stdout)
    assert result[str(first)]["spearman"] == pytest.approx(1.0)
    assert result[str(second)]["spearman"] == pytest.approx(-0.5)


# ---- plot --neighbours with very many labels ------------------------------------------------

def test_plot_with_more_labels_than_a_plot_holds_fails_at_once(tmp_path):
    """Before: the labels were placed and drawn for minutes (quadratic placement)."""
    pytest.importorskip("matplotlib")
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(6000)]
    path = tmp_path / "v.bin"
    KeyedVectors(words, rng.normal(size=(len(words), 8))).save_word2vec_format(path, binary=True)
    r = run_cli("plot", path, "--neighbours", "w0", "--topn", "5999", "-o", tmp_path / "p.png", timeout=60)
    assert r.returncode == 1 and not (tmp_path / "p.png").exists()
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "labels" in lines[0] and "--topn" in lines[0], r.stderr


def test_label_placement_looks_only_at_nearby_boxes(monkeypatch):
    """Each label is checked against the boxes filed near it, not against every label
    placed before (quadratic before: 1000 labels took seconds to place, more took minutes)."""
    pytest.importorskip("matplotlib")
    from w2v_ext import plot
    side = 20
    lattice = np.array([(i, j) for i in range(side) for j in range(side)], dtype=float)
    words = [f"w{i}" for i in range(len(lattice))]
    seen = []
    real_near = plot._BoxGrid.near

    def near(self, low, high):
        boxes = real_near(self, low, high)
        seen.append(len(boxes))
        return boxes

    monkeypatch.setattr(plot._BoxGrid, "near", near)
    fig = plot.plot_words(KeyedVectors(words, lattice), words, method="none")
    assert [t.get_text() for t in fig.axes[0].texts] == words
    assert len(seen) == len(words) and max(seen) < 2 * len(words) / 4   # of 800 boxes (points and labels)


def test_plot_functions_refuse_more_labels_than_a_plot_holds(monkeypatch):
    pytest.importorskip("matplotlib")
    from w2v_ext import plot
    monkeypatch.setattr(plot, "MAX_LABELS", 5)
    words = [f"w{i}" for i in range(8)]
    kv = KeyedVectors(words, np.random.default_rng(0).normal(size=(8, 3)))
    with pytest.raises(ValueError, match=r"6 labels are more than a plot can show \(at most 5\); lower topn"):
        plot.plot_neighbours(kv, "w0", topn=5)
    with pytest.raises(ValueError, match=r"8 labels .*; plot fewer words"):
        plot.plot_words(kv, words)
    assert [t.get_text() for t in plot.plot_neighbours(kv, "w0", topn=4).axes[0].texts][0] == "w0"


def test_plot_refuses_non_finite_vectors():
    pytest.importorskip("matplotlib")
    from w2v_ext import plot
    kv = KeyedVectors(["a", "b", "c"], np.array([[0.0, 1.0], [np.nan, 1.0], [1.0, 0.0]]))
    for method in ("pca", "none"):
        with pytest.raises(ValueError, match="vectors must be finite; row 1 is not"):
            plot.plot_words(kv, ["a", "b", "c"], method=method)
