"""Reading a corpus and building the vocabulary like word2vec.c: tokenisation, sentence
splitting, compressed files, directories and lists of files, token-list iterables, the
regex tokenizer, parallel counting over byte ranges, min_count / max_final_vocab /
max_vocab_size, sort order, bytes that are not UTF-8, a 100 MB line without a newline,
and words longer than 1000 bytes."""
from __future__ import annotations

import bz2
import gzip
import lzma
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from trainer_testing import (MAX_WORD_BYTES, BlockRecorder, encode, tokenize, word_counts, write_text,
                             zipf_lines)
from w2v_ext import _native
from w2v_ext.corpus import Corpus, CorpusError, read_range
from w2v_ext.vocab import Vocabulary, build_vocabulary, count_words
from w2v_ext.trainer import Word2Vec

SEPARATOR_RUNS = [b" ", b"  ", b"\t", b"\n", b"\r\n", b" \n ", b"\v", b"\f", b"\n\n", b" \t\r "]
NON_SEPARATOR = np.array(sorted(set(range(256)) - set(b" \t\n\r\v\f")), dtype=np.uint8)


def random_words(rng, n, long_words=0):
    """n random byte words (any byte but the six separators, UTF-8 or not), a few long."""
    words = [bytes(rng.choice(NON_SEPARATOR, int(rng.integers(1, 9)))) for _ in range(n)]
    words += [bytes(rng.choice(NON_SEPARATOR[:5], int(rng.integers(990, 1400)))) for _ in range(long_words)]
    return words


def random_text(rng, pool, n_tokens, zipf=1.2) -> bytes:
    p = 1.0 / np.arange(1, len(pool) + 1) ** zipf
    p /= p.sum()
    picks = rng.choice(len(pool), n_tokens, p=p)
    seps = rng.choice(len(SEPARATOR_RUNS), n_tokens)
    return b"".join(pool[i] + SEPARATOR_RUNS[s] for i, s in zip(picks, seps))


def counter_from_blocks(data: bytes, sizes, max_vocab_size=0):
    counter = _native.cpu.WordCounter(max_vocab_size)
    pos = 0
    for size in sizes:
        counter.add_block(data[pos:pos + size])
        pos += size
    counter.add_block(data[pos:], last=True)
    return counter


def counts_of(counter, min_count=1) -> dict:
    words, counts = counter.most_frequent(min_count)
    return dict(zip(words, counts.tolist()))


def random_sizes(rng, total, high):
    sizes, left = [], total
    while left > 0:
        sizes.append(int(rng.integers(1, high)))
        left -= sizes[-1]
    return sizes


def vocab_of(model):
    return list(zip(model.vocab.words, model.vocab.counts.tolist()))


SMALL = dict(model="sg", dim=8, window=3, negative=3, min_count=2, sample=1e-2, threads=1, epochs=1, progress=False)


def train_small(corpus, **kw):
    model = Word2Vec(**dict(SMALL, **kw))
    model.build_vocab(corpus)
    model.train(corpus)
    return model


@pytest.fixture(scope="module")
def zipf_file(tmp_path_factory):
    rng = np.random.default_rng(5)
    return write_text(tmp_path_factory.mktemp("zipf") / "corpus.txt", zipf_lines(rng, 50, 200))


# ---- tokenisation -------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(4))
def test_tokenisation_like_word2vec_c(seed):
    """Words are runs of bytes other than space, tab, CR, LF, VT and FF, whatever the
    block boundaries; every newline is counted."""
    rng = np.random.default_rng(seed)
    data = random_text(rng, random_words(rng, 80, long_words=2), 3000)
    expected = word_counts(data)
    for high in (2, 17, 4096):
        counter = counter_from_blocks(data, random_sizes(rng, len(data), high))
        assert counts_of(counter) == expected
        assert counter.total_words == sum(expected.values()) and counter.newlines == data.count(b"\n")


def test_separators_and_sentence_ends(tmp_path):
    """Tabs, CR, VT, FF separate words but only LF ends a sentence (CR LF works as one
    line end); blank lines make no empty sentences; a sentence longer than
    max_sentence_length (1000) is cut every 1000 in-vocabulary words."""
    long_line = " ".join(f"w{i % 7}" for i in range(2500))
    data = (b"w1\tw2\rw3\x0bw4\x0cw5\r\n\n\n  w6 w0 \r\n" + long_line.encode() + b"\nw1 oov w2").decode()
    path = tmp_path / "c.txt"
    path.write_bytes(data.encode())
    recorder = BlockRecorder()
    model = Word2Vec(str(path), backend_hook=recorder, **dict(SMALL, min_count=2))
    idx = model.vocab.index
    assert "oov" not in idx and set(idx) == {f"w{i}" for i in range(7)}
    sentences = recorder.sentences()
    assert [[model.vocab.words[i] for i in s] for s in sentences[:2]] == [["w1", "w2", "w3", "w4", "w5"],
                                                                          ["w6", "w0"]]
    assert [len(s) for s in sentences] == [5, 2, 1000, 1000, 500, 2]
    assert sentences == encode(data.encode(), idx, 1000)
    assert model.history[0]["words"] == model.vocab.total == 2509


@pytest.mark.parametrize("max_len", [1, 3, 1000])
def test_encoder_any_block_boundaries(max_len):
    rng = np.random.default_rng(max_len)
    pool = random_words(rng, 60, long_words=3)
    data = random_text(rng, pool, 4000)
    counter = counter_from_blocks(data, [len(data)])
    words, counts = counter.most_frequent(3)
    vocab = Vocabulary.from_bytes(words, counts)
    expected = encode(data, vocab.index, max_len)
    for high in (2, 50, 100000):
        encoder = _native.cpu.CorpusEncoder(vocab.native_index, max_len)
        got, pos = [], 0
        for size in random_sizes(rng, len(data), high) + [None]:
            block = data[pos:] if size is None else data[pos:pos + size]
            ids, ends = encoder.encode(block, last=size is None)
            starts = np.concatenate([[0], ends[:-1]]).astype(int)
            got += [ids[s:e].tolist() for s, e in zip(starts, ends)]
            pos += size or 0
        assert got == expected
        assert encoder.words_read == sum(map(len, tokenize(data)))
        assert encoder.words_encoded == sum(map(len, expected)) == vocab.total


@pytest.mark.parametrize("threads", [2, 8])
def test_encoder_in_parallel_pieces_equals_one_pass(threads):
    """Blocks of 2 MiB and more are cut into pieces encoded on several threads; with
    blocks cut anywhere (mid-word too), the sentences, their ends and the word counts
    are those of one sequential pass."""
    rng = np.random.default_rng(threads)
    pool = random_words(rng, 400, long_words=5)
    data = random_text(rng, pool, 1_200_000)
    assert len(data) > 6 * 2 ** 20
    words, counts = counter_from_blocks(data, [len(data)]).most_frequent(2)
    vocab = Vocabulary.from_bytes(words, counts)
    for max_len in (7, 1000):
        expected = encode(data, vocab.index, max_len)
        sizes = [int(rng.integers(2 ** 21, 3 * 2 ** 21)), 5, int(rng.integers(2 ** 21, 3 * 2 ** 21))]
        encoder = _native.cpu.CorpusEncoder(vocab.native_index, max_len)
        got, pos = [], 0
        for size in sizes + [None]:
            block = data[pos:] if size is None else data[pos:pos + size]
            ids, ends = encoder.encode(block, last=size is None, threads=threads)
            starts = np.concatenate([[0], ends[:-1]]).astype(int)
            got += [ids[s:e].tolist() for s, e in zip(starts, ends)]
            pos += size or 0
        assert got == expected
        assert encoder.words_read == sum(map(len, tokenize(data)))
        assert encoder.words_encoded == vocab.total


def test_words_longer_than_1000_bytes_are_truncated(tmp_path):
    stem = b"\xce\xb1" * 499 + b"b"                                   # 999 bytes
    long_a, long_b = stem + b"c" * 500, stem + b"cd" * 300             # the same first 1000 bytes
    data = b"x " + long_a + b" y\n" + long_b + b"\n" + long_a + b" x y\n"
    path = tmp_path / "long.txt"
    path.write_bytes(data)
    for high in (3, 600, 10 ** 6):   # truncation inside a block and across block boundaries
        counts = counts_of(counter_from_blocks(data, random_sizes(np.random.default_rng(high), len(data), high)))
        assert counts == {b"x": 2, b"y": 2, stem + b"c": 3}
    model = train_small(str(path), min_count=1)
    assert (stem + b"c").decode("utf-8", "surrogateescape") in model.vocab.index
    assert max(len(w) for w in model.vocab.word_bytes()) == MAX_WORD_BYTES
    assert model.history[0]["words"] == 7   # the truncated words map to the vocabulary word in training


# ---- sources ------------------------------------------------------------------------

@pytest.mark.parametrize("suffix,opener", [(".gz", gzip.open), (".bz2", bz2.open), (".xz", lzma.open)])
def test_compressed_corpus_same_as_plain(tmp_path, zipf_file, suffix, opener):
    data = open(zipf_file, "rb").read()
    packed = tmp_path / ("corpus.txt" + suffix)
    with opener(packed, "wb") as f:
        f.write(data)
    disguised = tmp_path / "compressed-but-named.txt"   # detected from the magic bytes, not the name
    disguised.write_bytes(packed.read_bytes())
    plain = train_small(zipf_file, threads=1)
    assert Corpus(str(packed)).ranges(4) == []       # cannot be split: counted by one thread
    for path in (packed, disguised):
        other = train_small(str(path))
        assert vocab_of(other) == vocab_of(plain)
        assert np.array_equal(other.input, plain.input) and np.array_equal(other.output, plain.output)
    # vocabulary with several threads: plain files are counted over byte ranges, compressed
    # ones sequentially; the same words either way
    assert vocab_of(Word2Vec(**dict(SMALL, threads=2)).build_vocab(zipf_file)) == vocab_of(plain)
    assert vocab_of(Word2Vec(**dict(SMALL, threads=2)).build_vocab(str(packed))) == vocab_of(plain)


def test_directory_and_list_of_files(tmp_path):
    rng = np.random.default_rng(8)
    parts = [zipf_lines(rng, 30, 60) for _ in range(3)]
    d = tmp_path / "dir"
    d.mkdir()
    for name, lines in zip(["b.txt", "a.txt", "c.txt"], parts):
        write_text(d / name, lines)
    write_text(d / ".hidden", ["hidden " * 50])
    (d / "sub").mkdir()
    write_text(d / "sub" / "z.txt", ["nested " * 50])
    # a directory reads its files in sorted order, skipping hidden files and subdirectories
    together = write_text(tmp_path / "all.txt", parts[1] + parts[0] + parts[2])
    ref = train_small(together)
    as_dir = train_small(str(d))
    assert vocab_of(as_dir) == vocab_of(ref) and "hidden" not in as_dir.vocab and "nested" not in as_dir.vocab
    assert np.array_equal(as_dir.input, ref.input) and np.array_equal(as_dir.output, ref.output)
    as_list = train_small([str(d / "a.txt"), str(d / "b.txt"), d / "c.txt"])
    assert np.array_equal(as_list.input, ref.input)
    # the order of a list is kept
    rev = write_text(tmp_path / "rev.txt", parts[2] + parts[0] + parts[1])
    assert np.array_equal(train_small([str(d / "c.txt"), str(d / "b.txt"), str(d / "a.txt")]).input,
                          train_small(rev).input)


def test_files_are_separate_sentences(tmp_path):
    """A file without a final newline: its last word does not run into the next file's first."""
    (tmp_path / "a.txt").write_bytes(b"x y x y end")
    (tmp_path / "b.txt").write_bytes(b"start x y\n")
    for threads in (1, 2):
        vocab = build_vocabulary(Corpus([str(tmp_path / "a.txt"), str(tmp_path / "b.txt")]), 1, threads=threads)
        assert dict(zip(vocab.words, vocab.counts.tolist())) == {"x": 3, "y": 3, "end": 1, "start": 1}


class Sentences:
    """A re-iterable corpus object (gensim style)."""

    def __init__(self, sentences):
        self.sentences = sentences

    def __iter__(self):
        return iter(self.sentences)


def test_iterable_of_token_lists_same_as_text_file(tmp_path, zipf_file):
    lines = open(zipf_file, encoding="utf-8").read().splitlines()
    tokens = [line.split() for line in lines]
    ref = train_small(zipf_file, epochs=2)
    for corpus in (tokens, Sentences(tokens), tuple(tokens)):
        other = train_small(corpus, epochs=2)
        assert vocab_of(other) == vocab_of(ref)
        assert np.array_equal(other.input, ref.input) and np.array_equal(other.output, ref.output)
    # bytes tokens (even invalid UTF-8) are taken byte for byte
    raw = [[b"caf\xe9", b"x"], [b"caf\xe9", b"y"]]
    vocab = build_vocabulary(Corpus(raw), 1)
    assert sorted(vocab.word_bytes()) == [b"caf\xe9", b"x", b"y"]
    with pytest.raises(CorpusError, match="list of tokens"):
        build_vocabulary(Corpus(Sentences(["a sentence as a string"])), 1)
    with pytest.raises(CorpusError, match="list of tokens"):
        build_vocabulary(Corpus([["fine"], "not fine"]), 1)
    # (a list of strings is a list of paths)
    with pytest.raises(FileNotFoundError, match="'the cat sat' does not exist"):
        Corpus(["the cat sat", "the dog ran"])


def test_regex_tokenizer(tmp_path):
    text = ("Hello, World! It's 3PM... Hello again?\n"
            "The QUICK brown fox -- jumps; over: the lazy dog.\n"
            "\tÉcole été, naïve!  \n")
    path = tmp_path / "r.txt"
    path.write_text(text, encoding="utf-8")
    expected_lines = [[t.lower() for t in re.findall(r"\b\w+\b|[,.!?]", line)] for line in text.split("\n")]
    expected = {}
    for line in expected_lines:
        for t in line:
            expected[t] = expected.get(t, 0) + 1
    assert expected["hello"] == 2 and expected["."] == 4 and "école" in expected and "It" not in expected
    for threads in (1, 2):   # the regex tokenizer is never split into byte ranges
        vocab = build_vocabulary(Corpus(str(path), tokenizer="regex"), 1, threads=threads)
        assert dict(zip(vocab.words, vocab.counts.tolist())) == expected
    # the same vocabulary and training from a token-list corpus with the regex tokenizer
    model = train_small(str(path), tokenizer="regex", min_count=1, epochs=2)
    tokens = [line.split() for line in text.split("\n") if line.strip()]
    other = train_small(tokens, tokenizer="regex", min_count=1, epochs=2)
    assert vocab_of(other) == vocab_of(model)
    assert np.array_equal(other.input, model.input)
    # and differs from the whitespace tokenizer
    assert "Hello," in train_small(str(path), min_count=1).vocab


# ---- parallel counting --------------------------------------------------------------

@pytest.mark.parametrize("seed", range(3))
def test_byte_ranges_cover_every_word_once(tmp_path, seed):
    """Consecutive byte ranges give the file's words in order, each exactly once, for any
    number of ranges and read block size (words straddling the range ends included)."""
    rng = np.random.default_rng(100 + seed)
    pool = random_words(rng, 40, long_words=2)
    paths = []
    for k in range(3):
        p = tmp_path / f"f{k}.txt"
        data = random_text(rng, pool, int(rng.integers(0, 800)))
        if k == 1:
            data = data.rstrip(b" \t\n\r\v\f")  # no separator at the very end
        p.write_bytes(data)
        paths.append(str(p))
    corpus = Corpus(paths)
    for parts in (1, 2, 7, 50, 400):
        ranges = corpus.ranges(parts)
        for path in paths:
            mine = [r for r in ranges if r[0] == path]
            if not mine:
                assert os.path.getsize(path) == 0
                continue
            assert mine[0][1] == 0 and mine[-1][2] == os.path.getsize(path)
            assert all(a[2] == b[1] for a, b in zip(mine, mine[1:]))
            got = []
            for r in mine:
                block = int(rng.integers(1, 64))
                got += [w for line in tokenize(b"".join(read_range(*r, block_bytes=block))) for w in line]
            data = open(path, "rb").read()
            assert got == [w for line in tokenize(data) for w in line], (parts, path)


@pytest.mark.parametrize("threads", [2, 3, 8])
def test_parallel_counting_equals_single_thread(tmp_path, threads):
    rng = np.random.default_rng(threads)
    pool = random_words(rng, 300, long_words=4)
    paths = []
    for k in range(2):
        paths.append(str(tmp_path / f"f{k}.txt"))
        open(paths[-1], "wb").write(random_text(rng, pool, 5000))
    corpus = Corpus(paths)
    assert len(corpus.ranges(threads)) >= threads
    single, parallel = count_words(corpus, threads=1), count_words(corpus, threads=threads)
    assert counts_of(parallel) == counts_of(single)
    assert parallel.total_words == single.total_words
    v1 = build_vocabulary(corpus, 2, threads=1)
    vn = build_vocabulary(corpus, 2, threads=threads)
    assert vn.words == v1.words and np.array_equal(vn.counts, v1.counts)   # sort order included


# ---- vocabulary -----------------------------------------------------------------------

def test_min_count_max_final_vocab_and_sort_order(tmp_path):
    """Count descending, ties in byte order (bytes compare unsigned: 0xc3 and 0xff after 'z')."""
    counts = {b"a": 3, b"z": 3, b"\xc3\xa9": 3, b"\xff": 3, b"B": 3, b"the": 9, b"of": 5, b"x1": 2, b"x2": 1}
    rng = np.random.default_rng(1)
    tokens = [w for w, c in counts.items() for _ in range(c)]
    rng.shuffle(tokens)
    path = tmp_path / "v.txt"
    path.write_bytes(b" ".join(tokens) + b"\n")
    corpus = Corpus(str(path))
    vocab = build_vocabulary(corpus, min_count=3)
    order = [b"the", b"of", b"B", b"a", b"z", b"\xc3\xa9", b"\xff"]
    assert vocab.word_bytes() == order and vocab.counts.tolist() == [counts[w] for w in order]
    assert vocab.words[5] == "é" and vocab.words[6] == "\udcff" and "\udcff" in vocab and vocab.total == 29
    assert build_vocabulary(corpus, min_count=1).word_bytes() == order + [b"x1", b"x2"]
    assert build_vocabulary(corpus, min_count=2).word_bytes() == order + [b"x1"]
    assert build_vocabulary(corpus, min_count=1, max_final_vocab=4).word_bytes() == order[:4]
    assert build_vocabulary(corpus, min_count=6, max_final_vocab=4).word_bytes() == [b"the"]
    model = Word2Vec(**dict(SMALL, min_count=3, max_final_vocab=3)).build_vocab(str(path))
    assert model.vocab.word_bytes() == order[:3] and model.input.shape == (3, 8)


def reduce_vocab_model(tokens, limit):
    """word2vec.c's ReduceVocab as the counter documents it: when more than `limit`
    distinct words are held, drop those seen <= min_reduce times, then min_reduce += 1,
    until back under the limit."""
    counts, min_reduce = {}, 1
    for w in tokens:
        counts[w] = counts.get(w, 0) + 1
        while len(counts) > limit:
            counts = {k: c for k, c in counts.items() if c > min_reduce}
            min_reduce += 1
    return counts, min_reduce


@pytest.mark.parametrize("limit", [5, 20, 60])
def test_max_vocab_size_pruning(limit):
    rng = np.random.default_rng(limit)
    pool = random_words(rng, 150)
    data = random_text(rng, pool, 6000, zipf=1.0)
    tokens = [w for line in tokenize(data) for w in line]
    expected, min_reduce = reduce_vocab_model(tokens, limit)
    assert min_reduce > 2   # pruning happened, more than once
    for high in (5, 10 ** 6):
        counter = counter_from_blocks(data, random_sizes(rng, len(data), high), max_vocab_size=limit)
        assert counts_of(counter) == expected
        assert counter.distinct_words <= limit and counter.total_words == len(tokens)


def test_max_vocab_size_through_build_vocab(tmp_path):
    rng = np.random.default_rng(3)
    data = random_text(rng, random_words(rng, 100), 5000, zipf=1.0)
    path = tmp_path / "p.txt"
    path.write_bytes(data)
    expected, _ = reduce_vocab_model([w for line in tokenize(data) for w in line], 30)
    model = Word2Vec(**dict(SMALL, min_count=3, max_vocab_size=30, threads=1)).build_vocab(str(path))
    want = sorted(((w, c) for w, c in expected.items() if c >= 3), key=lambda wc: (-wc[1], wc[0]))
    assert list(zip(model.vocab.word_bytes(), model.vocab.counts.tolist())) == want


# ---- bytes that are not UTF-8 -------------------------------------------------------------

def test_invalid_utf8_kept_byte_for_byte(tmp_path):
    bad = [b"caf\xe9", b"\xff\xfe", b"ok\x80", b"\xed\xa0\x80"]   # latin-1, junk, stray continuation, a surrogate
    lines = [b" ".join([bad[i % 4], b"good", bad[(i + 1) % 4], "ñandú".encode()]) for i in range(20)]
    path = tmp_path / "bytes.txt"
    path.write_bytes(b"\n".join(lines) + b"\n")
    model = train_small(str(path), min_count=1, epochs=2)
    assert set(model.vocab.word_bytes()) == set(bad) | {b"good", "ñandú".encode()}
    assert "caf\udce9" in model.vocab and "ñandú" in model.vocab
    for name, binary in (("v.bin", True), ("v.txt", False)):
        out = tmp_path / name
        model.save(out)
        raw = out.read_bytes()
        for w in bad:
            assert raw.count(w + b" ") == 1, (name, w)
        from w2v_ext.vectors import KeyedVectors
        kv = KeyedVectors.load_word2vec_format(out, errors="surrogateescape")
        assert kv.words == model.vocab.words
        np.testing.assert_allclose(kv.vectors, model.input, rtol=1e-5, atol=1e-6 if not binary else 0)


# ---- a 100 MB line --------------------------------------------------------------------

HUGE_LINE_SCRIPT = textwrap.dedent("""
    import resource, sys
    from w2v_ext.trainer import Word2Vec
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    m = Word2Vec(model="sg", epochs=1, dim=8, window=2, negative=1, min_count=5, threads=2, progress=False)
    m.build_vocab(sys.argv[1])
    stats = m.train(sys.argv[1])
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    print(len(m.vocab), m.vocab.total, stats["corpus_words"], m.history[0]["words"], m.history[0]["words_kept"],
          int(abs(m.input).sum() > 0), int(abs(m.output).sum() > 0), round(grown, 1))
""")


def test_a_100mb_line_without_newline(tmp_path):
    """~60 MB of words, then a 40 MB run without any whitespace (one word, cut to 1000
    bytes), then more words, and no newline anywhere: counting and training read it in
    blocks (memory stays bounded, far below the file's size) and still train vectors."""
    rng = np.random.default_rng(0)
    words = [(f"w{i:03d}" + "q" * 45).encode() for i in range(100)]
    chunk = b" ".join(words[i] for i in rng.integers(0, 100, 20000)) + b" "   # ~1 MB, 20000 words
    path = tmp_path / "huge.txt"
    with open(path, "wb") as f:
        for _ in range(60):
            f.write(chunk)
        f.write(b"x" * (40 << 20))
        f.write(b" " + chunk[:-1])
    assert os.path.getsize(path) > 100_000_000
    r = subprocess.run([sys.executable, "-c", HUGE_LINE_SCRIPT, str(path)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    vocab, total, corpus_words, trained, kept, in_nonzero, out_nonzero, grown_mb = r.stdout.split()
    assert int(vocab) == 100 and int(total) == 61 * 20000
    assert int(corpus_words) == 61 * 20000 + 1          # the 40 MB run is one (rare) word
    assert int(trained) == int(total) and 0 < int(kept) < int(total)
    assert in_nonzero == out_nonzero == "1"
    assert float(grown_mb) < 90, f"peak memory grew by {grown_mb} MB reading a 100 MB line"
