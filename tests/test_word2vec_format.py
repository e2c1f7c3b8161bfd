"""word2vec text/binary format: round trips, foreign layouts, compression, errors, atomic writes."""
import bz2
import gzip
import lzma
import os
import struct
import subprocess
import sys

import numpy as np
import pytest

from w2v_ext import word2vec_format as w2vf
from w2v_ext.word2vec_format import read_word2vec_format, write_word2vec_format

WORDS = ["</s>", "the", "König", "日本", "a_b-c.d", "x"]


def _vectors(n=len(WORDS), d=5, seed=0):
    rng = np.random.default_rng(seed)
    v = rng.standard_normal((n, d)).astype(np.float32)
    if n >= 3:
        v[0, 0], v[1, 1], v[2, 2] = 1e-30, -3.4e38, 0.0   # extremes survive both formats
    return v


def _w2v_c_binary(words, vectors, newline=True):
    """Bytes exactly as word2vec.c writes them: header, then word, space, raw float32, newline."""
    out = b"%d %d\n" % (len(words), vectors.shape[1])
    for w, v in zip(words, vectors):
        out += w.encode() + b" " + struct.pack("<%df" % len(v), *v) + (b"\n" if newline else b"")
    return out


def test_binary_round_trip_is_bit_exact_and_word2vec_c_layout(tmp_path):
    v = _vectors()
    path = tmp_path / "v.bin"
    write_word2vec_format(path, WORDS, v, binary=True)
    assert path.read_bytes() == _w2v_c_binary(WORDS, v)
    words, got = read_word2vec_format(path)
    assert words == WORDS and got.dtype == np.float32
    assert np.array_equal(got.view(np.uint32), v.view(np.uint32))


@pytest.mark.parametrize("newline", [True, False])
def test_reads_byte_built_word2vec_c_binary(tmp_path, newline):
    v = np.arange(12, dtype=np.float32).reshape(4, 3) / 7
    words = ["</s>", "in", "the", "city"]
    (tmp_path / "c.bin").write_bytes(_w2v_c_binary(words, v, newline=newline))
    got_words, got = read_word2vec_format(tmp_path / "c.bin")
    assert got_words == words and np.array_equal(got, v)


def test_text_round_trip(tmp_path):
    v = _vectors()
    write_word2vec_format(tmp_path / "v.txt", WORDS, v, binary=False)
    lines = (tmp_path / "v.txt").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "6 5" and lines[1].startswith("</s> 1e-30 ")
    words, got = read_word2vec_format(tmp_path / "v.txt")
    assert words == WORDS
    np.testing.assert_allclose(got, v, rtol=1e-5)          # 6 significant digits
    write_word2vec_format(tmp_path / "v9.txt", WORDS, v, binary=False, precision=9)
    assert np.array_equal(read_word2vec_format(tmp_path / "v9.txt")[1], v)   # 9 digits: exact


def test_text_values_format(tmp_path):
    write_word2vec_format(tmp_path / "t.txt", ["a", "b"], [[0.5, -2.0], [1 / 3, 1e-7]], binary=False)
    assert (tmp_path / "t.txt").read_bytes() == b"2 2\na 0.5 -2\nb 0.333333 1e-07\n"


def test_reads_fasttext_vec_and_gensim_text(tmp_path):
    # fastText .vec: trailing space after the last value; gensim: repr() values; also CRLF and tabs
    (tmp_path / "ft.vec").write_bytes(b"3 2\n, 0.1 -0.2 \nthe 1e-3 2.5 \nword\xc3\xa9 3 4 \n")
    words, v = read_word2vec_format(tmp_path / "ft.vec")
    assert words == [",", "the", "wordé"]
    np.testing.assert_array_equal(v, np.array([[0.1, -0.2], [1e-3, 2.5], [3, 4]], np.float32))
    (tmp_path / "g.txt").write_bytes(b"2 3\r\na 0.10000000149011612 0.2 0.3\r\nb 1.0\t2.0  3.0\r\n")
    words, v = read_word2vec_format(tmp_path / "g.txt", binary=False)
    assert words == ["a", "b"] and np.array_equal(v[1], [1, 2, 3])


@pytest.mark.parametrize("binary", [True, False])
@pytest.mark.parametrize("opener,suffix", [(gzip.open, ".gz"), (bz2.open, ".bz2"), (lzma.open, ".xz")])
def test_compressed_input_and_output(tmp_path, binary, opener, suffix):
    v = _vectors()
    plain = tmp_path / "v"
    write_word2vec_format(plain, WORDS, v, binary=binary, precision=9)
    with opener(tmp_path / ("in" + suffix), "wb") as f:   # content-detected, not by name
        f.write(plain.read_bytes())
    words, got = read_word2vec_format(tmp_path / ("in" + suffix))
    assert words == WORDS and np.array_equal(got, v)
    write_word2vec_format(tmp_path / ("out" + suffix), WORDS, v, binary=binary, precision=9)
    with opener(tmp_path / ("out" + suffix), "rb") as f:
        assert f.read() == plain.read_bytes()


@pytest.mark.parametrize("binary", [True, False])
def test_limit(tmp_path, binary):
    v = _vectors()
    write_word2vec_format(tmp_path / "v", WORDS, v, binary=binary, precision=9)
    for limit in (0, 1, 4, 6, 100):
        words, got = read_word2vec_format(tmp_path / "v", limit=limit)
        assert words == WORDS[:limit] and np.array_equal(got, v[:limit])
        assert got.shape == (min(limit, 6), 5)
    with pytest.raises(ValueError, match="limit"):
        read_word2vec_format(tmp_path / "v", limit=-1)


def test_detection_and_forced_format(tmp_path):
    v = np.zeros((2, 4), np.float32)   # all-zero bytes: still detected as binary
    write_word2vec_format(tmp_path / "b", ["a", "b"], v, binary=True)
    write_word2vec_format(tmp_path / "t", ["a", "b"], v, binary=False)
    for name, binary in (("b", True), ("t", False)):
        for forced in (None, binary):
            words, got = read_word2vec_format(tmp_path / name, binary=forced)
            assert words == ["a", "b"] and np.array_equal(got, v)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_headerless_text_glove_layout(tmp_path, suffix, monkeypatch):
    v = _vectors()
    path = tmp_path / ("glove.txt" + suffix)
    write_word2vec_format(path, WORDS, v, binary=False, precision=9, write_header=False)
    opener = gzip.open if suffix else open
    with opener(path, "rt", encoding="utf-8") as f:
        assert f.readline().startswith("</s> 1e-30 ")
    words, got = read_word2vec_format(path, no_header=True)
    assert words == WORDS and np.array_equal(got, v)
    for limit in (0, 2, 6, 9):
        words, got = read_word2vec_format(path, no_header=True, limit=limit)
        assert words == WORDS[:limit] and np.array_equal(got, v[:limit])
    monkeypatch.setattr(w2vf, "_CHUNK_BYTES", 7)   # records counted across read chunks
    assert read_word2vec_format(path, no_header=True)[0] == WORDS


def test_headerless_text_without_final_newline_and_errors(tmp_path):
    (tmp_path / "g.txt").write_bytes(b"a 1 2\nb 3 4")
    words, got = read_word2vec_format(tmp_path / "g.txt", no_header=True)
    assert words == ["a", "b"] and got.tolist() == [[1, 2], [3, 4]]
    (tmp_path / "bad.txt").write_bytes(b"a 1 2\nb 3\n")
    with pytest.raises(ValueError, match=r"bad.txt: line 2: expected a word and 2 values, got 1"):
        read_word2vec_format(tmp_path / "bad.txt", no_header=True)
    (tmp_path / "one.txt").write_bytes(b"lonely\n")
    with pytest.raises(ValueError, match=r"one.txt: line 1: expected a word and its values"):
        read_word2vec_format(tmp_path / "one.txt", no_header=True)
    with pytest.raises(ValueError, match="no_header=True reads text files only"):
        read_word2vec_format(tmp_path / "g.txt", no_header=True, binary=True)


def test_empty_file_and_many_batches(tmp_path, monkeypatch):
    write_word2vec_format(tmp_path / "e", [], np.zeros((0, 3)), binary=True)
    words, v = read_word2vec_format(tmp_path / "e")
    assert words == [] and v.shape == (0, 3)
    # records spanning several read chunks / parse batches
    monkeypatch.setattr(w2vf, "_CHUNK_BYTES", 7)
    monkeypatch.setattr(w2vf, "_TEXT_BATCH", 2)
    monkeypatch.setattr(w2vf, "_WRITE_BATCH", 3)
    v = _vectors()
    for binary in (True, False):
        write_word2vec_format(tmp_path / "v", WORDS, v, binary=binary, precision=9)
        words, got = read_word2vec_format(tmp_path / "v")
        assert words == WORDS and np.array_equal(got, v)


def test_non_utf8_words(tmp_path):
    raw = b"\xff\xfeab"
    (tmp_path / "v.bin").write_bytes(b"1 2\n" + raw + b" " + struct.pack("<2f", 1, 2) + b"\n")
    words, _ = read_word2vec_format(tmp_path / "v.bin")
    assert words == ["\ufffd\ufffdab"]
    with pytest.raises(UnicodeDecodeError):
        read_word2vec_format(tmp_path / "v.bin", errors="strict")
    words, v = read_word2vec_format(tmp_path / "v.bin", errors="surrogateescape")
    write_word2vec_format(tmp_path / "copy.bin", words, v)   # exact bytes survive
    assert (tmp_path / "copy.bin").read_bytes() == (tmp_path / "v.bin").read_bytes()


@pytest.mark.parametrize("content,match", [
    (b"", r"line 1: expected a header"),
    (b"hello world\n", r"line 1: expected a header"),
    (b"3\n", r"line 1: expected a header"),
    (b"3 4 5\n", r"line 1: expected a header"),
    (b"-1 4\n", r"line 1: expected a header"),
    (b"2 0\n", r"line 1: expected a header"),
    (b"2 3\na 1 2 3\nb 1 2\n", r"line 3: expected a word and 3 values, got 2"),
    (b"2 3\na 1 2 3\nb 1 2 3 4\n", r"line 3: expected a word and 3 values, got 4"),
    (b"2 3\na 1 2\nb 1 2 3\n", r"line 2: expected a word and 3 values, got 2"),
    (b"2 3\na 1 2 3\nb 1 x2 3\n", r"line 3: non-numeric value b'x2'"),
    (b"2 3\na 1 2 3\nb 1 2 3,5\n", r"line 3: non-numeric value b'3,5'"),
    (b"3 3\na 1 2 3\n\nb 1 2 3\n", r"line 3: expected a word and 3 values, got an empty line"),
    (b"3 3\na 1 2 3\nb 1 2 3\n", r"file ends after 2 records \(line 3\) but the header declares 3"),
])
def test_malformed_text_raises_value_error_naming_file_and_line(tmp_path, content, match):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=match) as e:
        read_word2vec_format(path)
    assert str(path) in str(e.value)


def test_malformed_binary_raises_value_error(tmp_path):
    data = _w2v_c_binary(WORDS, _vectors())
    rec = len(b"a_b-c.d") + 1 + 20 + 1
    path = tmp_path / "bad.bin"
    for cut, match in ((len(data) - 3, r"record 6 .*truncated binary record, 18 of 20 vector bytes"),
                       (len(data) - rec - 10, r"record 5 .*truncated"),
                       (len(data) - 22, r"record 6 .*truncated binary record, no space")):
        path.write_bytes(data[:cut])
        with pytest.raises(ValueError, match=match) as e:
            read_word2vec_format(path)
        assert str(path) in str(e.value)
    path.write_bytes(data.replace(b"6 5\n", b"7 5\n", 1))
    with pytest.raises(ValueError, match="file ends after 6 records but the header declares 7"):
        read_word2vec_format(path)
    path.write_bytes(gzip.compress(data)[:-30])
    with pytest.raises(ValueError, match="truncated compressed file"):
        read_word2vec_format(path)


def test_atomic_write_leaves_no_partial_file(tmp_path, monkeypatch):
    v = _vectors()
    out = tmp_path / "v.bin"
    out.write_bytes(b"old content")
    monkeypatch.setattr(w2vf, "_WRITE_BATCH", 2)
    real, calls = w2vf._encode_records, []

    def failing(*args):
        calls.append(1)
        if len(calls) == 3:   # after two batches (4 records) have been written
            raise RuntimeError("disk on fire")
        return real(*args)

    monkeypatch.setattr(w2vf, "_encode_records", failing)
    for binary in (True, False):
        calls.clear()
        with pytest.raises(RuntimeError, match="disk on fire"):
            write_word2vec_format(out, WORDS, v, binary=binary)
        assert out.read_bytes() == b"old content"
        assert os.listdir(tmp_path) == ["v.bin"]   # temp file removed
        calls.clear()
        with pytest.raises(RuntimeError):
            write_word2vec_format(tmp_path / "new.bin", WORDS, v, binary=binary)
        assert os.listdir(tmp_path) == ["v.bin"]


def test_write_errors(tmp_path):
    v = _vectors(2, 3)
    with pytest.raises(FileNotFoundError, match="directory .*missing.* does not exist"):
        write_word2vec_format(tmp_path / "missing" / "v.bin", ["a", "b"], v)
    with pytest.raises(IsADirectoryError):
        write_word2vec_format(tmp_path, ["a", "b"], v)
    for bad in ("a b", "a\tb", "a\nb", "ab\r", ""):
        with pytest.raises(ValueError, match="word #1 .*whitespace"):
            write_word2vec_format(tmp_path / "v.bin", ["ok", bad], v)
    with pytest.raises(TypeError, match="word #0"):
        write_word2vec_format(tmp_path / "v.bin", [b"a", "b"], v)
    with pytest.raises(ValueError, match="3 words but 2 vectors"):
        write_word2vec_format(tmp_path / "v.bin", ["a", "b", "c"], v)
    with pytest.raises(ValueError, match=r"\[V, dim\]"):
        write_word2vec_format(tmp_path / "v.bin", ["a", "b"], v[0])
    with pytest.raises(ValueError, match="precision"):
        write_word2vec_format(tmp_path / "v.txt", ["a", "b"], v, binary=False, precision=0)
    assert os.listdir(tmp_path) == []
    write_word2vec_format(tmp_path / "nbsp.bin", ["a\u00a0b", "b"], v)   # non-ASCII space is allowed
    assert read_word2vec_format(tmp_path / "nbsp.bin")[0] == ["a\u00a0b", "b"]


def test_module_does_not_import_torch():
    code = ("import sys, w2v_ext.word2vec_format, w2v_ext.vectors; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
