"""Bad and unusual corpus inputs (issue 14): corrupt compressed files, read errors,
pipes and FIFOs, token lists with tokens that are not plain words, and the regex
tokenizer on a line longer than a block. Everything that could hang runs in a
subprocess under a timeout."""
from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from trainer_testing import MAX_WORD_BYTES, run_cli, write_text, zipf_lines
from w2v_ext import _native
from w2v_ext import corpus as corpus_module
from w2v_ext.corpus import Corpus, CorpusError
from w2v_ext.trainer import Word2Vec
from w2v_ext.vectors import KeyedVectors
from w2v_ext.vocab import build_vocabulary

SMALL = dict(model="sg", dim=8, window=3, negative=3, min_count=1, sample=1e-2, threads=1, epochs=2, seed=1, progress=False)
CLI_SMALL = ["--model", "sg", "--dim", "8", "--window", "3", "--negative", "3", "--min-count", "1", "--threads", "1",
             "--epochs", "2", "--seed", "1", "--quiet"]


def train_small(corpus, **kw):
    model = Word2Vec(**dict(SMALL, **kw))
    model.build_vocab(corpus)
    model.train(corpus)
    return model


def vocab_of(model):
    return list(zip(model.vocab.words, model.vocab.counts.tolist()))


@pytest.fixture(scope="module")
def text_file(tmp_path_factory):
    rng = np.random.default_rng(7)
    return write_text(tmp_path_factory.mktemp("inputs") / "corpus.txt", zipf_lines(rng, 60, 400))


def one_line_error(r: subprocess.CompletedProcess) -> str:
    """The CLI's error line, checking it failed with exit 1, one line and no traceback."""
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


# ---- corrupt compressed files and read errors ----------------------------------------------

def corrupted(data: bytes) -> bytes:
    """data with bytes flipped past the header (a bad stream, not a bad magic)."""
    out = bytearray(data)
    for i in range(20, min(60, len(out) - 10)):
        out[i] ^= 0x55
    return bytes(out)


COMPRESSORS = {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}


@pytest.mark.parametrize("damage", ["corrupt", "truncated"])
@pytest.mark.parametrize("suffix", sorted(COMPRESSORS))
def test_damaged_compressed_corpus_is_a_corpus_error_naming_the_file(tmp_path, suffix, damage):
    packed = COMPRESSORS[suffix](b"the cat sat on the mat\n" * 3000)
    data = corrupted(packed) if damage == "corrupt" else packed[:len(packed) // 2]
    path = tmp_path / f"damaged.{suffix}"
    path.write_bytes(data)
    with pytest.raises(CorpusError, match=re.escape(repr(str(path)))):
        build_vocabulary(Corpus(str(path)), 1)
    line = one_line_error(run_cli("train", path, "-o", tmp_path / "v.bin", "--quiet", timeout=60))
    assert str(path) in line and "could not be read" in line


class FailingReads(io.RawIOBase):
    """A readable file whose reads fail like a disk error."""

    def readable(self):
        return True

    def seekable(self):
        return True

    def seek(self, offset, whence=0):
        return 0

    def readinto(self, buffer):
        raise OSError(5, "Input/output error")


def test_read_errors_name_the_file(tmp_path, monkeypatch):
    path = tmp_path / "disk.txt"
    path.write_bytes(b"some words here\n" * 10)
    corpus = Corpus(str(path))
    real_open = open
    monkeypatch.setattr(corpus_module, "open", lambda p, *a, **k: FailingReads() if os.fspath(p) == str(path)
                        else real_open(p, *a, **k), raising=False)
    with pytest.raises(CorpusError, match=re.escape(repr(str(path))) + ".*Input/output error"):
        list(corpus.blocks())
    with pytest.raises(CorpusError, match=re.escape(repr(str(path))) + ".*Input/output error"):
        list(corpus_module.read_range(str(path), 0, 100))


# ---- pipes and FIFOs ------------------------------------------------------------------------

def trained_vectors(path) -> KeyedVectors:
    return KeyedVectors.load_word2vec_format(path)


def assert_same_vectors(path_a, path_b):
    a, b = trained_vectors(path_a), trained_vectors(path_b)
    assert a.words == b.words
    assert np.array_equal(a.vectors, b.vectors)


@pytest.fixture
def reference(tmp_path, text_file):
    """Vectors trained by the CLI on the corpus as a regular file."""
    out = tmp_path / "reference.txt"
    r = run_cli("train", text_file, "-o", out, *CLI_SMALL, timeout=120)
    assert r.returncode == 0, r.stderr
    return out


def spool_dir(tmp_path):
    path = tmp_path / "spool"
    path.mkdir()
    return path


def test_piped_stdin_trains_like_the_file(tmp_path, text_file, reference):
    """`cat corpus | w2v-ext train /dev/stdin`: the whole stream is read once (a copy
    in TMPDIR, removed from the directory at once), nothing is lost, the result is the
    file's; a gzip stream on a pipe is decompressed like a .gz file."""
    tmp = spool_dir(tmp_path)
    env = dict(os.environ, TMPDIR=str(tmp))
    data = open(text_file, "rb").read()
    for name, stream in (("plain", data), ("gzip", gzip.compress(data))):
        out = tmp_path / f"{name}.txt"
        r = subprocess.run([sys.executable, "-m", "w2v_ext", "train", "/dev/stdin", "-o", str(out), *CLI_SMALL],
                           input=stream, capture_output=True, timeout=120, env=env)
        assert r.returncode == 0, r.stderr.decode()
        assert r.stderr == b""   # --quiet: the copy is not announced either
        assert_same_vectors(out, reference)
    assert os.listdir(tmp) == []


def test_process_substitution_and_named_fifo_train_like_the_file(tmp_path, text_file, reference):
    tmp = spool_dir(tmp_path)
    env = dict(os.environ, TMPDIR=str(tmp))
    out = tmp_path / "substituted.txt"
    command = f'"{sys.executable}" -m w2v_ext train <(cat "{text_file}") -o "{out}" ' + " ".join(CLI_SMALL)
    r = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    assert_same_vectors(out, reference)

    fifo = tmp_path / "corpus.fifo"
    os.mkfifo(fifo)
    writer = subprocess.Popen(["sh", "-c", f'cat "{text_file}" > "{fifo}"'])
    try:
        out = tmp_path / "fifo.txt"
        r = run_cli("train", fifo, "-o", out, *CLI_SMALL, timeout=120, env=env)
        assert r.returncode == 0, r.stderr
        assert_same_vectors(out, reference)
        assert writer.wait(timeout=30) == 0
    finally:
        writer.kill()
    assert os.listdir(tmp) == []


def wait_for_stderr(proc, pattern: str, timeout: float) -> str:
    """proc's stderr up to the first line matching pattern (fails after timeout)."""
    seen, found = [], threading.Event()

    def read():
        for line in proc.stderr:
            seen.append(line)
            if re.search(pattern, line):
                found.set()
                return

    threading.Thread(target=read, daemon=True).start()
    if not found.wait(timeout):
        proc.kill()
        pytest.fail(f"no line matching {pattern!r} within {timeout}s; stderr so far: {''.join(seen)!r}")
    return "".join(seen)


def test_fifo_without_writer_says_so_and_ctrl_c_leaves_nothing(tmp_path):
    """A FIFO nobody writes to: a message naming it comes at once (opening it then waits
    for a writer, as a shell would); Ctrl-C while waiting, or while the copy is being
    made, ends the run with nothing left in TMPDIR."""
    tmp = spool_dir(tmp_path)
    env = dict(os.environ, TMPDIR=str(tmp))
    fifo = tmp_path / "idle.fifo"
    os.mkfifo(fifo)
    command = [sys.executable, "-m", "w2v_ext", "train", str(fifo), "-o", str(tmp_path / "v.bin")]
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
    try:
        said = wait_for_stderr(proc, "idle.fifo", timeout=60)
        assert "pipe" in said and "temporary file" in said, said
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130
    finally:
        proc.kill()
    assert os.listdir(tmp) == []

    # Ctrl-C while copying: the writer has sent part of the corpus and stalls
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
    try:
        wait_for_stderr(proc, "idle.fifo", timeout=60)
        with open(fifo, "wb") as writer:
            writer.write(b"some words " * 100_000)
            writer.flush()
            time.sleep(1.0)
            assert os.listdir(tmp) == []        # the copy has no name in the directory
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=30) == 130
    finally:
        proc.kill()
    assert os.listdir(tmp) == []


def test_pipe_copy_that_runs_out_of_space_is_a_one_line_error(tmp_path, monkeypatch):
    read_end, write_end = os.pipe()
    os.write(write_end, b"a few words\n" * 100)
    os.close(write_end)
    path = f"/proc/self/fd/{read_end}" if os.path.exists("/proc/self/fd") else f"/dev/fd/{read_end}"

    def disk_full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(corpus_module, "_write_all", disk_full)
    try:
        with pytest.raises(CorpusError, match=re.escape(repr(path)) + ".*No space left on device.*TMPDIR"):
            Corpus(path)
    finally:
        os.close(read_end)


def test_a_pipe_is_read_once_per_process(tmp_path):
    """Two Corpus objects for one pipe (build_vocab and train each make one) share the
    copy: the pipe itself is read once."""
    read_end, write_end = os.pipe()
    os.write(write_end, b"alpha beta\nbeta gamma\n")
    os.close(write_end)
    path = f"/proc/self/fd/{read_end}" if os.path.exists("/proc/self/fd") else f"/dev/fd/{read_end}"
    try:
        first = b"".join(Corpus(path).blocks())
        second = b"".join(Corpus(path).blocks())
        assert first == second == b"alpha beta\nbeta gamma\n\n"
        assert path in repr(Corpus(path))
    finally:
        os.close(read_end)


# ---- token lists ----------------------------------------------------------------------------

def test_tokens_are_kept_as_given(tmp_path):
    """A token holding whitespace stays one word; bytes tokens are byte strings; a token
    longer than the native limit is cut like a word of a file."""
    long = "x" * (MAX_WORD_BYTES + 500)
    sentences = [["new york", "is", "big"], ["new york", "tab\there", b"caf\xe9"], [long, "is"]]
    vocab = build_vocabulary(Corpus(sentences), 1)
    counts = dict(zip(vocab.word_bytes(), vocab.counts.tolist()))
    assert counts == {b"new york": 2, b"is": 2, b"big": 1, b"tab\there": 1, b"caf\xe9": 1,
                      b"x" * MAX_WORD_BYTES: 1}
    model = train_small(sentences)
    assert vocab_of(model) == list(zip(vocab.words, vocab.counts.tolist()))
    assert model.history[0]["words"] == 8


def encoded_sentences(corpus, vocab, block_bytes=4096):
    """The sentences (lists of ids) the trainer's reader hands to the training kernel."""
    from w2v_ext.reader import EncodedBlocks
    out = []
    with EncodedBlocks(corpus, vocab.native_index, 1000, block_bytes) as blocks:
        for ids, ends, _ in blocks:
            starts = [0] + ends[:-1].tolist()
            out += [ids[s:e].tolist() for s, e in zip(starts, ends.tolist())]
    return out


def test_token_list_sentences_and_ids_match_a_file(tmp_path):
    """The encoder sees the same sentences from token lists as from the text of those
    lists written as a file, long sentences cut at max_sentence_length."""
    rng = np.random.default_rng(3)
    lines = zipf_lines(rng, 40, 300, max_len=30) + [" ".join(["w1"] * 2500)]
    path = write_text(tmp_path / "c.txt", lines)
    from_file, from_tokens = Corpus(path), Corpus([line.split() for line in lines])
    vocab = build_vocabulary(from_file, 1)
    other = build_vocabulary(from_tokens, 1)
    assert vocab.words == other.words and np.array_equal(vocab.counts, other.counts)
    sentences = encoded_sentences(from_file, vocab)
    assert encoded_sentences(from_tokens, vocab) == sentences
    assert [len(s) for s in sentences[-3:]] == [1000, 1000, 500]


@pytest.mark.parametrize("bad, where", [
    ([["fine", None]], "sentence 0, token 1"),
    ([["a"], ["b", "c", 3]], "sentence 1, token 2"),
    ([["a"], ["b"], [1.5]], "sentence 2, token 0"),
])
@pytest.mark.parametrize("tokenizer", ["whitespace", "regex"])
def test_tokens_that_are_not_words_are_rejected(bad, where, tokenizer):
    with pytest.raises(CorpusError, match=where):
        build_vocabulary(Corpus(bad, tokenizer=tokenizer), 1)


def test_empty_tokens_are_dropped_like_double_spaces():
    """"a  b".split(" ") holds an empty token: no word, as between two separators in text."""
    vocab = build_vocabulary(Corpus(["a  b".split(" "), ["", "b", b""]]), 1)
    assert vocab.words == ["b", "a"] and vocab.counts.tolist() == [2, 1]


def test_a_sentence_that_is_not_a_list_of_tokens_is_rejected():
    with pytest.raises(CorpusError, match=r"sentence 1\b.*int"):
        build_vocabulary(Corpus([["a"], 5]), 1)


def u32(*values) -> bytes:
    return np.array(values, dtype=np.uint32).tobytes()


@pytest.mark.parametrize("block", [b"\x01", u32(3, 1), u32(2, 2, 0) + b"a", u32(1, 1) + b"ab",
                                   u32(1, 0xFFFFFFFF) + b"a", u32(0xFFFFFFFF)])
def test_malformed_token_records_are_refused(block):
    """The native reader of token records checks the framing (no read past the block)."""
    index = _native.cpu.WordIndex([b"a"])
    with pytest.raises(ValueError, match="token records"):
        _native.cpu.WordCounter(token_records=True).add_block(block)
    with pytest.raises(ValueError, match="token records"):
        _native.cpu.CorpusEncoder(index, 1000, token_records=True).encode(block, last=True)


def test_regex_tokenizer_on_token_lists():
    """The regex tokenizer splits each token (a token holding a space gives two words)."""
    vocab = build_vocabulary(Corpus([["New York!", "it's"]], tokenizer="regex"), 1)
    assert sorted(vocab.words) == sorted(["new", "york", "!", "it", "s"])


# ---- the regex tokenizer on a long line -----------------------------------------------------

def sentences_of(blocks):
    """The sentences the native tokeniser sees in the blocks, words cut as it cuts them."""
    data = b"".join(blocks)
    lines = [[w[:MAX_WORD_BYTES] for w in re.split(rb"[ \t\r\v\f]+", line) if w] for line in data.split(b"\n")]
    return [line for line in lines if line]


def regex_sentences(text: str):
    """The tutorial's tokeniser applied to whole lines, as sentences_of gives them."""
    lines = [[t.lower().encode()[:MAX_WORD_BYTES] for t in re.findall(r"\b\w+\b|[,.!?]", line)]
             for line in text.split("\n")]
    return [line for line in lines if line]


@pytest.mark.parametrize("piece, block", [(7, 5), (64, 100), (1000, 64), (1 << 16, 7)])
def test_regex_tokenizer_cuts_long_lines_without_splitting_tokens(tmp_path, monkeypatch, piece, block):
    """Lines longer than a piece are cut between tokens (after a non-word character):
    the tokens and sentences are those of whole lines; a run of word characters longer
    than a piece is one word, cut to the native limit as before."""
    text = ("Hello, World! It's 3PM... naïve École été, Straße ΣΑΣ 东京，大阪。 " * 40 + "\n"
            + "word " * 200 + "\n\nshort line.\n" + "Ünïcödé" * 1000 + " tail, end\n")
    data = text.encode() + b"\xff\xfe invalid UTF-8"
    path = tmp_path / "r.txt"
    path.write_bytes(data)
    want = regex_sentences(data.decode("utf-8", "replace"))
    monkeypatch.setattr(corpus_module, "REGEX_PIECE_CHARS", piece)
    assert sentences_of(Corpus(str(path), tokenizer="regex").blocks(block)) == want


REGEX_MEMORY_SCRIPT = textwrap.dedent("""
    import resource, sys
    from w2v_ext import _native
    from w2v_ext.corpus import Corpus
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    counter = _native.cpu.WordCounter()
    for block in Corpus(sys.argv[1], tokenizer="regex").blocks():
        counter.add_block(block)
    counter.add_block(b"", last=True)
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    print(counter.total_words, counter.newlines, round(grown, 1))
""")


def test_regex_tokenizer_memory_is_bounded_by_the_block_size(tmp_path):
    """A 40 MB line: the regex tokenizer's memory stays far below the line's size (it
    held the whole line, decoded and tokenised, before)."""
    path = tmp_path / "line.txt"
    chunk = ("Some Words, and more words! " * 40_000).encode()     # ~1.1 MB, 280k tokens
    with open(path, "wb") as f:
        for _ in range(36):
            f.write(chunk)
    r = subprocess.run([sys.executable, "-c", REGEX_MEMORY_SCRIPT, str(path)], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    words, newlines, grown_mb = r.stdout.split()
    assert int(words) == 36 * 40_000 * 7 and int(newlines) == 1
    assert float(grown_mb) < 100, f"peak memory grew by {grown_mb} MB for a 40 MB line"
