"""The progress line: it fits an 80-column terminal, its ETA counts the words trained in
this session (right after a resume), and it also goes to the `w2v_ext` logger."""
from __future__ import annotations

import io
import logging

import pytest

from w2v_ext import progress
from w2v_ext.progress import Progress, progress_line
from w2v_ext.trainer import Word2Vec


def test_the_line_fits_80_columns():
    widest = progress_line(999, 999, 1.0, 99.99e6, 0.05, 123.4567, 99 * 3600 + 3599, 99 * 3600 + 3599)
    assert len(widest) < 80, widest
    assert progress_line(2, 5, 0.5, 2.5e6, 0.0125, 2.51, 12, 40) == \
        "epoch 2/5  50.0%  2.50M words/s lr 0.01250 loss 2.51 0:00:12 ETA 0:00:40"


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(progress.time, "perf_counter", c)
    return c


def test_eta_counts_this_session_s_words(clock):
    """Resumed at 900 of 1000 words: 50 words in 10 s leaves 50 words, 10 s (not the
    schedule's 950/1000 done in 10 s, which would say 0.5 s)."""
    out = io.StringIO()
    p = Progress(1000, stream=out, log_interval=0.0, done_before=900)
    clock.now += 10
    p.update(950, 50, 0.01, None, 5, 5)
    assert out.getvalue().endswith(" 0:00:10 ETA 0:00:10\n") and " 95.0%" in out.getvalue()
    fresh = Progress(1000, stream=io.StringIO(), log_interval=0.0)
    clock.now += 10
    fresh.update(250, 250, 0.01, None, 1, 5)
    assert fresh.line.endswith(" 0:00:10 ETA 0:00:30")


def test_a_terminal_line_is_cut_to_its_width(clock, monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    out = Tty()
    monkeypatch.setattr(progress.shutil, "get_terminal_size", lambda fallback: __import__("os").terminal_size((40, 9)))
    p = Progress(1000, stream=out)
    p.update(10, 10, 0.025, 1.0, 1, 1)
    assert out.getvalue() == "\r" + p.line[:39] + "\033[K"


def test_progress_goes_to_the_logger(caplog, zipf_corpus):
    caplog.set_level(logging.INFO, logger="w2v_ext")
    Word2Vec(zipf_corpus(1, 30, 200), dim=8, min_count=1, epochs=2, threads=1, progress=False)
    lines = [r.getMessage() for r in caplog.records if r.name == "w2v_ext"]
    assert lines and all(line.startswith("epoch ") and " ETA " in line for line in lines)
    caplog.clear()
    caplog.set_level(logging.WARNING, logger="w2v_ext")
    Word2Vec(zipf_corpus(1, 30, 200), dim=8, min_count=1, epochs=1, threads=1, progress=False)
    assert not [r for r in caplog.records if r.name == "w2v_ext"]
