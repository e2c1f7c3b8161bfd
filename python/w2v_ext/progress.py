"""Training progress on stderr: percent, words/s, learning rate, recent loss, ETA.

On a terminal the line is redrawn in place a few times a second; elsewhere (logs, CI)
a line is printed every `log_interval` seconds.
"""
from __future__ import annotations

import sys
import time
from typing import Optional, TextIO


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """A progress line for `total_words` words of training (disabled: does nothing)."""

    def __init__(self, total_words: int, enabled: bool = True, stream: Optional[TextIO] = None,
                 log_interval: float = 10.0):
        self.total = max(1, int(total_words))
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.interval = 0.25 if self.tty else log_interval
        self.start = time.perf_counter()
        self.last_print = -1e9
        self.line = ""

    def update(self, words_done: int, corpus_words: int, alpha: float, loss: Optional[float], epoch: int,
               epochs: int, force: bool = False) -> None:
        """words_done: trained so far out of total; corpus_words: corpus words read in
        this call's session (for words/s, counted as word2vec.c does)."""
        if not self.enabled:
            return
        now = time.perf_counter()
        if not force and now - self.last_print < self.interval:
            return
        self.last_print = now
        elapsed = now - self.start
        fraction = min(1.0, words_done / self.total)
        rate = corpus_words / elapsed if elapsed > 0 else 0.0
        eta = (elapsed / fraction - elapsed) if fraction > 0 else 0.0
        loss_text = f"  loss {loss:.4f}" if loss is not None else ""
        self.line = (f"epoch {epoch}/{epochs}  {100 * fraction:5.1f}%  {rate / 1e6:6.3f}M words/s  "
                     f"lr {alpha:.6f}{loss_text}  elapsed {_clock(elapsed)}  ETA {_clock(eta)}")
        if self.tty:
            self.stream.write("\r" + self.line + "\033[K")
        else:
            self.stream.write(self.line + "\n")
        self.stream.flush()

    def close(self, message: Optional[str] = None) -> None:
        """End the progress line, optionally with a message line."""
        if not self.enabled:
            return
        if self.tty and self.line:
            self.stream.write("\n")
        if message:
            self.stream.write(message + "\n")
        self.stream.flush()
