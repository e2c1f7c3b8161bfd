"""Training progress: percent, words/s, learning rate, recent loss, elapsed time, ETA.

On stderr when enabled: on a terminal the line is redrawn in place a few times a second
(cut to the terminal's width: it fits 80 columns); elsewhere (logs, CI) a line is
printed every `log_interval` seconds. The same line goes to the `w2v_ext` logger at INFO
every `log_interval` seconds, enabled or not (gensim users read progress there).
"""
from __future__ import annotations

import logging
import shutil
import sys
import time
from typing import Optional, TextIO

logger = logging.getLogger("w2v_ext")


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def progress_line(epoch: int, epochs: int, fraction: float, words_per_s: float, alpha: float,
                  loss: Optional[float], elapsed: float, eta: float) -> str:
    """The progress line: under 80 characters up to 999 epochs, 99M words/s and 99 hours."""
    loss_text = f" loss {loss:.4g}" if loss is not None else ""
    return (f"epoch {epoch}/{epochs} {100 * fraction:5.1f}% {words_per_s / 1e6:5.2f}M words/s lr {alpha:.5f}"
            f"{loss_text} {_clock(elapsed)} ETA {_clock(eta)}")


class Progress:
    """A progress line for training up to `total_words` words, from `done_before` words
    already trained (a resumed model's): the ETA counts the words this session trained."""

    def __init__(self, total_words: int, enabled: bool = True, stream: Optional[TextIO] = None,
                 log_interval: float = 10.0, done_before: int = 0):
        self.total = max(1, int(total_words))
        self.done_before = int(done_before)
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.interval = 0.25 if self.tty else log_interval
        self.log_interval = log_interval
        self.start = time.perf_counter()
        self.last_print = self.last_log = -1e9
        self.line = ""

    def update(self, words_done: int, corpus_words: int, alpha: float, loss: Optional[float], epoch: int,
               epochs: int, force: bool = False) -> None:
        """words_done: trained so far out of total; corpus_words: corpus words read in
        this call's session (for words/s, counted as word2vec.c does)."""
        now = time.perf_counter()
        shown = self.enabled and (force or now - self.last_print >= self.interval)
        logged = logger.isEnabledFor(logging.INFO) and (force or now - self.last_log >= self.log_interval)
        if not (shown or logged):
            return
        elapsed = now - self.start
        fraction = min(1.0, words_done / self.total)
        rate = corpus_words / elapsed if elapsed > 0 else 0.0
        session = words_done - self.done_before
        eta = elapsed * max(0, self.total - words_done) / session if session > 0 else 0.0
        self.line = progress_line(epoch, epochs, fraction, rate, alpha, loss, elapsed, eta)
        if logged:
            self.last_log = now
            logger.info(self.line)
        if shown:
            self.last_print = now
            self._show()

    def _show(self) -> None:
        if self.tty:
            width = shutil.get_terminal_size((80, 24)).columns
            self.stream.write("\r" + self.line[:max(1, width - 1)] + "\033[K")
        else:
            self.stream.write(self.line + "\n")
        self.stream.flush()

    def close(self, message: Optional[str] = None) -> None:
        """End the progress line, optionally with a message line."""
        if message:
            logger.info(message)
        if not self.enabled:
            return
        if self.tty and self.line:
            self.stream.write("\n")
        if message:
            self.stream.write(message + "\n")
        self.stream.flush()
