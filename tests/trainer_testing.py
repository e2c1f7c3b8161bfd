"""Helpers shared by the corpus trainer's tests (test_trainer_*, test_corpus_vocab,
test_sampling, test_cli): generated corpora, an independent restatement of how the
corpus encoder splits text into sentences, and a backend hook that records the blocks
trained. Never imports torch.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

STATS_FIELDS = ("loss", "loss_terms", "words_kept", "alpha")   # a native trainer's BlockStats
MAX_WORD_BYTES = 1000                       # csrc/corpus/tokenizer.h kMaxWordBytes
SEPARATORS = re.compile(rb"[ \t\r\v\f]+")   # word2vec.c's separators other than the newline
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tokenize(data: bytes) -> List[List[bytes]]:
    """word2vec.c's tokenisation restated: one list of words per line (a newline ends a
    sentence), words are runs of non-whitespace bytes cut to MAX_WORD_BYTES."""
    return [[w[:MAX_WORD_BYTES] for w in SEPARATORS.split(line) if w] for line in data.split(b"\n")]


def token_record_sentences(data: bytes) -> List[List[bytes]]:
    """The sentences of a block of token records (csrc/corpus/tokenizer.h): a uint32
    entry count, the entries (token lengths, 0 ending a sentence), then the tokens."""
    count = int(np.frombuffer(data, np.uint32, 1)[0])
    entries = np.frombuffer(data, np.uint32, count, offset=4).tolist()
    out, sentence, pos = [], [], 4 * (count + 1)
    for length in entries:
        if length == 0:
            out.append(sentence)
            sentence = []
        else:
            sentence.append(data[pos:pos + length][:MAX_WORD_BYTES])
            pos += length
    return out


def block_sentences(corpus, block_bytes: int = 1 << 12) -> List[List[bytes]]:
    """The sentences of corpus.blocks() (a Corpus or a CorpusShard), text or token records."""
    if corpus.token_records:
        return [s for block in corpus.blocks(block_bytes) for s in token_record_sentences(block)]
    return tokenize(b"".join(corpus.blocks(block_bytes)))


def word_counts(data: bytes) -> Dict[bytes, int]:
    counts: Dict[bytes, int] = {}
    for line in tokenize(data):
        for w in line:
            counts[w] = counts.get(w, 0) + 1
    return counts


def encode(data: bytes, index: Dict[str, int], max_sentence_length: int = 1000) -> List[List[int]]:
    """The training sentences as the encoder must produce them: ids of in-vocabulary
    words, a newline ends a sentence, a sentence is cut every max_sentence_length
    in-vocabulary words, empty sentences are dropped."""
    out = []
    for line in tokenize(data):
        ids = [index[w.decode("utf-8", "surrogateescape")] for w in line
               if w.decode("utf-8", "surrogateescape") in index]
        out.extend(ids[k:k + max_sentence_length] for k in range(0, len(ids), max_sentence_length))
    return out


def zipf_lines(rng: np.random.Generator, vocab: int, sentences: int, max_len: int = 14,
               prefix: str = "w", exponent: float = 1.0) -> List[str]:
    """Sentences of Zipf-distributed words w0, w1, ... (random lengths 1..max_len)."""
    p = 1.0 / np.arange(1, vocab + 1) ** exponent
    p /= p.sum()
    words = np.array([f"{prefix}{i}" for i in range(vocab)])
    return [" ".join(rng.choice(words, int(rng.integers(1, max_len + 1)), p=p)) for _ in range(sentences)]


def write_text(path, lines: Sequence[str], newline: str = "\n") -> str:
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(newline.join(lines) + newline)
    return os.fspath(path)


def train_one_block(input, output, keep, accept, alias, settings, ids, ends, epoch: int, first_position: int,
                    words_done: float, words_total: float, threads: int) -> dict:
    """One block through a fresh CPU trainer (_w2v_cpu.Trainer) on padded tables, every
    column trained; the stats it gives, as a dict."""
    from w2v_ext import _native
    trainer = _native.cpu.Trainer(input, output, input.shape[1], keep, accept, alias, settings, threads)
    trainer.train_block(ids, ends, epoch, first_position, words_done, words_total)
    stats = trainer.collect()
    return {name: getattr(stats, name) for name in STATS_FIELDS}


class BlockRecorder:
    """A backend hook (Word2Vec(backend_hook=...) or model.backend_hook) that records
    every block trained: its sentences, epoch, position, schedule, the backend's threads
    and the stats it gave; the calls of several train() calls accumulate. `stop_before`
    / `signal_after`: simulate Ctrl-C before the n-th block (no work done) or during it
    (a real SIGINT raised as the block's native call returns)."""

    def __init__(self, stop_before: Optional[int] = None, signal_after: Optional[int] = None):
        self.calls: List[dict] = []
        self.stop_before, self.signal_after = stop_before, signal_after

    def __call__(self, backend):
        return _RecordingBackend(self, backend)

    def sentences(self, epoch: int = 0) -> List[List[int]]:
        return [s for c in self.calls if c["epoch"] == epoch for s in c["sentences"]]


class _RecordingBackend:
    def __init__(self, recorder: BlockRecorder, backend):
        self.recorder, self.backend = recorder, backend

    def __getattr__(self, name):
        return getattr(self.backend, name)

    def train_block(self, ids, ends, epoch, first_position, words_done, words_total, last=True):
        recorder = self.recorder
        n = len(recorder.calls) + 1
        if recorder.stop_before == n:
            recorder.stop_before = None
            raise KeyboardInterrupt
        r = self.backend.train_block(ids, ends, epoch, first_position, words_done, words_total, last=last)
        starts = np.concatenate([[0], ends[:-1]]).astype(np.int64)
        recorder.calls.append({"sentences": [ids[s:e].tolist() for s, e in zip(starts, ends)], "epoch": epoch,
                               "first_position": first_position, "words_done": words_done,
                               "words_total": words_total, "threads": self.backend.threads, "ends": np.array(ends),
                               "result": {name: getattr(r, name) for name in STATS_FIELDS}})
        if recorder.signal_after == n:
            import signal
            recorder.signal_after = None
            signal.raise_signal(signal.SIGINT)
        return r


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now (for a torchrun rendezvous)."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_cli(*args, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    """`python -m w2v_ext ARGS` with this interpreter."""
    return subprocess.run([sys.executable, "-m", "w2v_ext", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, **kwargs)


def run_main(capsys, *args):
    """cli.main in-process: (exit code, stdout, stderr); argparse errors give SystemExit."""
    from w2v_ext import cli
    try:
        code = cli.main([str(a) for a in args])
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def signal_during_training(args, signum: int, delay: float = 0.25) -> Tuple[Optional[int], str]:
    """`python -m w2v_ext train ARGS` (with progress on) sent `signum` `delay` seconds
    after its first progress line, landing inside a native call rather than at a block
    boundary; (its exit status, everything it wrote to stderr)."""
    import time
    proc = subprocess.Popen([sys.executable, "-m", "w2v_ext", "train", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    try:
        for line in proc.stderr:          # progress: one line after the first block, then every 10 s
            seen.append(line)
            if line.startswith("epoch "):
                break
        time.sleep(delay)
        proc.send_signal(signum)
        _, rest = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, "".join(seen) + rest

