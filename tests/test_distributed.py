"""Data-parallel training (w2v_ext.distributed): shards, the merged vocabulary, and real
2-rank runs on gloo over loopback (127.0.0.1), launched with torchrun like a user would.

- in process (no torch needed): the shards of every kind of corpus hold the corpus's
  words exactly once; the vocabulary merged from shard counts is the one-process one;
- torchrun, 2 ranks x 1 thread on the planted-topics corpus: the vectors are as good as
  one process's, both ranks hold the same vocabulary (the one-process one) and the same
  weights, only rank 0 writes; the CLI under torchrun; a rank that raises, exits or
  hangs makes the job exit non-zero, with a clear error, within the collective timeout.
"""
from __future__ import annotations

import bz2
import gzip
import json
import os
import subprocess
import sys
import time
from collections import Counter

import numpy as np
import pytest

from test_trainer_quality import neighbour_rate, topic_corpus
from trainer_testing import REPO, block_sentences, free_port, write_text, zipf_lines
from w2v_ext import cli, shard
from fault_cli import FAULT_ENV
from w2v_ext.corpus import Corpus, CorpusError
from w2v_ext.distributed import launched
from w2v_ext.epochs import sync_pieces
from w2v_ext.shard import CorpusShard
from w2v_ext.settings import Settings
from w2v_ext.trainer import Word2Vec
from w2v_ext.vectors import KeyedVectors
from w2v_ext.vocab import build_vocabulary, count_words, counted_words, merge_counted

HERE = os.path.dirname(os.path.abspath(__file__))


# ---- shards and the merged vocabulary (in process) ------------------------------------------

def shard_words(corpus, rank, world):
    return [w for line in block_sentences(CorpusShard(corpus, rank, world)) for w in line]


@pytest.fixture
def small_pieces(monkeypatch):
    monkeypatch.setattr(shard, "PIECE_BYTES", 3000)
    monkeypatch.setattr(shard, "UNIT_BYTES", 1000)


@pytest.mark.parametrize("kind", ["plain", "two files", "gzip", "bz2 + plain", "regex", "sentences"])
def test_shards_hold_every_word_once(tmp_path, small_pieces, kind):
    lines = zipf_lines(np.random.default_rng(3), 300, 2000)
    a = write_text(tmp_path / "a.txt", lines[:1200])
    b = write_text(tmp_path / "b.txt", lines[1200:])
    if kind == "gzip":
        (tmp_path / "a.gz").write_bytes(gzip.compress(open(a, "rb").read()))
        source = str(tmp_path / "a.gz")
    elif kind == "bz2 + plain":
        (tmp_path / "a.bz2").write_bytes(bz2.compress(open(a, "rb").read()))
        source = [str(tmp_path / "a.bz2"), b]
    elif kind == "sentences":
        source = [line.split() for line in lines]
    else:
        source = [a, b] if kind == "two files" else a
    corpus = Corpus(source, tokenizer="regex" if kind == "regex" else "whitespace")
    whole = Counter(w for line in block_sentences(corpus) for w in line)
    for world in (1, 2, 3):
        shards = [shard_words(corpus, r, world) for r in range(world)]
        assert Counter(w for s in shards for w in s) == whole, (kind, world)
        assert all(len(s) > len(whole) / (3 * world) for s in shards), [len(s) for s in shards]
    expected = "byte ranges" if kind in ("plain", "two files") else "sentences" if kind == "sentences" \
        else "stream units"
    assert CorpusShard(corpus, 0, 2).kind == expected


def test_plain_shards_are_interleaved_byte_ranges(tmp_path, small_pieces):
    path = write_text(tmp_path / "c.txt", zipf_lines(np.random.default_rng(5), 100, 3000))
    corpus = Corpus(path)
    r0, r1 = CorpusShard(corpus, 0, 2).ranges(), CorpusShard(corpus, 1, 2).ranges()
    assert len(r0) >= 4 and sorted(r0 + r1) == corpus.ranges(len(r0) + len(r1))
    assert [r[1] for r in r0] < [r[1] for r in r1] and r0[1][1] > r1[0][1]   # r0 takes ranges 0, 2, 4, ...
    # counting a shard in parallel over its ranges gives its single-thread count
    one, two = count_words(CorpusShard(corpus, 1, 2), threads=1), count_words(CorpusShard(corpus, 1, 2), threads=2)
    assert one.most_frequent(1)[0] == two.most_frequent(1)[0] and one.total_words == two.total_words


@pytest.mark.parametrize("min_count, max_final_vocab", [(1, None), (3, None), (2, 50)])
def test_merged_vocabulary_is_the_one_process_vocabulary(tmp_path, small_pieces, min_count, max_final_vocab):
    path = write_text(tmp_path / "c.txt", zipf_lines(np.random.default_rng(6), 400, 3000))
    corpus = Corpus(path)
    one = build_vocabulary(corpus, min_count, None, max_final_vocab)
    for world in (2, 3):
        parts = [counted_words(count_words(CorpusShard(corpus, r, world))) for r in range(world)]
        merged = merge_counted(parts, min_count, max_final_vocab)
        assert merged.words == one.words and np.array_equal(merged.counts, one.counts)


def test_merge_errors_like_one_process(tmp_path):
    empty = counted_words(count_words(Corpus(write_text(tmp_path / "e.txt", [" "]))))
    with pytest.raises(CorpusError, match="contains no words"):
        merge_counted([empty, empty])
    once = counted_words(count_words(Corpus(write_text(tmp_path / "o.txt", ["a b c"]))))
    with pytest.raises(CorpusError, match="min_count=5"):
        merge_counted([once, empty], min_count=5)


def test_sync_pieces_cut_blocks_at_sentence_ends():
    ends = np.array([3, 7, 8, 15, 20, 21, 30])
    assert list(sync_pieces(ends, 5, 10)) == [(0, 2), (2, 5), (5, 7)]   # 7 words, then 20 - 7 >= 10, rest
    assert list(sync_pieces(ends, 100, 100)) == [(0, 7)]


def test_settings_and_environment(monkeypatch):
    for bad in (dict(sync_words=0), dict(dist_alpha_scale=0), dict(dist_alpha_scale=True)):
        with pytest.raises(ValueError):
            Settings(**bad).validate()
    for value, expected in ((None, False), ("1", False), ("2", True), ("x", False)):
        if value is None:
            monkeypatch.delenv("WORLD_SIZE", raising=False)
        else:
            monkeypatch.setenv("WORLD_SIZE", value)
        assert launched() is expected
    args = cli.build_parser().parse_args(["train", "c.txt", "-o", "v.bin", "--distributed", "--sync-words", "500"])
    assert args.distributed and args.sync_words == 500 and args.dist_timeout == 300


# ---- real runs: torchrun, 2 gloo ranks on 127.0.0.1 --------------------------------------------

def _torch_distributed() -> bool:
    try:
        import torch.distributed
    except ImportError:
        return False
    return torch.distributed.is_available() and torch.distributed.is_gloo_available()


needs_torch = pytest.mark.skipif(not _torch_distributed(), reason="distributed training needs torch.distributed "
                                                                  "with gloo")

SETTINGS = dict(model="sg", dim=24, negative=5, window=5, sample=1e-3, epochs=3, min_count=1, threads=1, seed=5)
SYNC_WORDS = 2000   # ~5 syncs per epoch and rank on the 20,000-word corpus


# w2v-ext with one rank made to fail on purpose (see fault_cli.py)
FAULT_CLI = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fault_cli.py")


def torchrun(*args, timeout=90, env=None):
    """python -m torch.distributed.run --nproc-per-node 2 on 127.0.0.1; returns (result, seconds)."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
           "--master-port", str(free_port()), *map(str, args)]
    start = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO,
                       env=dict(os.environ, **(env or {})))
    return r, time.perf_counter() - start


@pytest.fixture(scope="module")
def topics(tmp_path_factory):
    path = tmp_path_factory.mktemp("dist") / "topics.txt"
    label = topic_corpus(path, np.random.default_rng(2024))
    one = Word2Vec(str(path), progress=False, **SETTINGS)
    return str(path), label, one


@needs_torch
def test_two_ranks_same_vocabulary_same_weights_as_good_as_one(topics, tmp_path):
    path, label, one = topics
    pairs = [f"{k}={v!r}" for k, v in dict(SETTINGS, sync_words=SYNC_WORDS).items()]
    r, _ = torchrun(os.path.join(HERE, "dist_worker.py"), path, tmp_path, *pairs)
    assert r.returncode == 0, r.stderr
    ranks = [np.load(tmp_path / f"rank{k}.npz") for k in (0, 1)]
    # the vocabulary merged from the two shards' counts: the one-process vocabulary, on both ranks
    for rank in ranks:
        assert rank["words"].tolist() == one.vocab.words and np.array_equal(rank["counts"], one.vocab.counts)
    # both ranks end with the same weights (the last average) and the same global history
    assert np.array_equal(ranks[0]["input"], ranks[1]["input"])
    assert np.array_equal(ranks[0]["output"], ranks[1]["output"])
    history = json.loads(str(ranks[0]["history"]))
    assert [h["words"] for h in history] == [one.vocab.total] * 3 and int(ranks[0]["words_done"]) == 3 * one.vocab.total
    assert [h["loss"] for h in history] == [h["loss"] for h in json.loads(str(ranks[1]["history"]))]
    assert not np.array_equal(ranks[0]["input"], one.input)   # trained differently: the shards, not a copy
    # as good as one process on the planted topics
    model = Word2Vec(progress=False, **SETTINGS)
    model.set_vocabulary(one.vocab)
    model.set_weights(ranks[0]["input"], ranks[0]["output"])
    r1, r2 = neighbour_rate(one, label), neighbour_rate(model, label)
    assert r2 >= 0.85 and r2 >= r1 - 0.05, (r1, r2)
    # model.save() wrote on rank 0 only
    assert sorted(p.name for p in tmp_path.glob("vectors-*")) == ["vectors-rank0.bin"]


@needs_torch
def test_cli_under_torchrun(topics, tmp_path):
    path, label, one = topics
    out = tmp_path / "vectors.bin"
    r, _ = torchrun("-m", "w2v_ext", "train", path, "-o", out, "--model", "sg", "--dim", 24, "--min-count", 1, "--epochs", 3,
                    "--threads", 1, "--seed", 5, "--sync-words", SYNC_WORDS, "--save-model", tmp_path / "m.model")
    assert r.returncode == 0, r.stderr
    # rank 0 alone prints and writes; the counts are global
    assert r.stderr.count("vocabulary: 60 words, 20000 occurrences") == 1
    assert r.stderr.count("distributed: 2 processes (gloo), weights averaged every 2,000 words per process") == 1
    assert r.stderr.count(f"wrote {out}") == 1 and "trained 60000 words on 2 processes" in r.stderr
    kv = KeyedVectors.load_word2vec_format(out)
    assert sorted(kv.words) == sorted(label)
    model = Word2Vec.load(tmp_path / "m.model", progress=False)
    assert model.finished and model.settings.sync_words == SYNC_WORDS and model.words_done == 3 * 20000
    assert neighbour_rate(model, label) >= 0.85


@needs_torch
@pytest.mark.parametrize("fault, message", [
    ("1:raise", "rank 1 failed: RuntimeError: injected test fault"),          # training raises on rank 1
    ("1:raise@vocab", "rank 1 failed: RuntimeError: injected test fault"),    # counting raises on rank 1
    ("1:hang", "within the 3s timeout"),                                      # rank 1 stops answering
])
def test_a_failing_rank_stops_the_job_with_a_clear_error(topics, tmp_path, fault, message):
    path = topics[0]
    out = tmp_path / "v.bin"
    r, seconds = torchrun(FAULT_CLI, "train", path, "-o", out, "--model", "sg", "--dim", 8, "--min-count", 1, "--threads", 1,
                          "--epochs", 3, "--sync-words", SYNC_WORDS, "--dist-timeout", 3, "--quiet",
                          env={FAULT_ENV: fault}, timeout=60)
    assert r.returncode != 0
    assert "w2v-ext train (rank 0): error: " in r.stderr and message in r.stderr, r.stderr[-3000:]
    if fault != "1:hang":   # the failing rank says it too
        assert f"w2v-ext train (rank 1): error: {message}" in r.stderr
    assert not out.exists() and seconds < 30


@needs_torch
def test_a_rank_that_dies_without_torchrun(topics, tmp_path):
    """Launched by hand (no torchrun to stop the job): rank 1 exits in the middle of training;
    rank 0 finds the connection closed at its next sync and exits with an error."""
    path, port = topics[0], free_port()
    procs = []
    for rank in (0, 1):
        env = dict(os.environ, RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2", LOCAL_WORLD_SIZE="2",
                   MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), **{FAULT_ENV: "1:exit"})
        args = ["train", path, "-o", tmp_path / "v.bin", "--model", "sg", "--epochs", 1, "--dim", 8, "--min-count", 1,
                "--threads", 1,
                "--sync-words", SYNC_WORDS, "--dist-timeout", 10, "--quiet"]
        procs.append(subprocess.Popen([sys.executable, FAULT_CLI, *map(str, args)], env=env, cwd=REPO, text=True,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    outputs = [p.communicate(timeout=60) for p in procs]
    assert procs[1].returncode == 3
    assert procs[0].returncode == 1
    assert "w2v-ext train (rank 0): error: rank 0: a sync with the other ranks failed" in outputs[0][1], outputs[0][1]


@needs_torch
def test_distributed_without_a_launcher_says_how(tmp_path, monkeypatch, capsys):
    for name in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    path = write_text(tmp_path / "c.txt", ["a b c"])
    assert cli.main(["train", path, "-o", str(tmp_path / "v.bin"), "--distributed", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "not set; launch with torchrun" in err and not (tmp_path / "v.bin").exists()
