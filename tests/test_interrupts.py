"""Ctrl-C, SIGTERM and SIGHUP: training stops after the block in progress, saves what
was trained and exits with 128 + the signal's number; vocabulary counting stops between
blocks. Each case runs in a subprocess."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from trainer_testing import signal_during_training, write_text, zipf_lines
from w2v_ext import KeyedVectors, Word2Vec


@pytest.fixture(scope="module")
def corpus(zipf_corpus):
    return zipf_corpus(0, 300, 8000, max_len=25)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_termination_signals_save_like_ctrl_c(corpus, tmp_path, signum):
    args = ["--model", "sg", "--threads", "1", "--epochs", "40", "--dim", "64", "--min-count", "1", "--sample", "0"]
    returncode, err = signal_during_training([corpus, "-o", tmp_path / "stopped.bin",
                                              "--save-model", tmp_path / "stopped.model", *args], signum)
    if returncode == 0:
        pytest.skip("training finished before the signal arrived (machine too fast for this corpus)")
    assert returncode == 128 + signum, err
    assert "interrupted at" in err and signal.Signals(signum).name in err and "Traceback" not in err
    stopped = Word2Vec.load(tmp_path / "stopped.model", progress=False)
    assert not stopped.finished and 0 < stopped.words_done < stopped.words_planned
    assert np.array_equal(KeyedVectors.load_word2vec_format(tmp_path / "stopped.bin").vectors, stopped.input)
    assert sorted(os.listdir(tmp_path)) == ["stopped.bin", "stopped.model"]   # no temporary file left


def test_ctrl_c_stops_multi_threaded_counting_between_blocks(tmp_path):
    """Counting threads used to run their whole byte range to the end after Ctrl-C."""
    lines = zipf_lines(np.random.default_rng(1), 300, 4000)
    path = write_text(tmp_path / "c.txt", lines * 60)    # ~14 MB: two ranges of ~100 blocks
    code = textwrap.dedent(f"""
        import os, signal, threading, time
        import w2v_ext.vocab as vocab
        from w2v_ext.corpus import Corpus

        real = vocab.read_range
        def slow_range(path, start, end):     # ~10 s per range: 64 KiB blocks, 0.1 s each
            for block in real(path, start, end, block_bytes=1 << 16):
                time.sleep(0.1)
                yield block

        vocab.read_range = slow_range
        threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT)).start()
        t0 = time.perf_counter()
        try:
            vocab.count_words(Corpus({path!r}), threads=2)
            print("finished", time.perf_counter() - t0)
        except KeyboardInterrupt:
            print("interrupted", time.perf_counter() - t0)
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    what, seconds = r.stdout.split()
    assert what == "interrupted" and float(seconds) < 3.0, r.stdout
