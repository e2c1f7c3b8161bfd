"""Stopping on Ctrl-C (SIGINT), SIGTERM and SIGHUP alike: training stops after the
block in progress and keeps what it trained; the command line saves it and exits with
128 + the signal's number (130, 143, 129).

Python turns SIGINT into KeyboardInterrupt by itself. `terminations_interrupt()` does
the same for SIGTERM and SIGHUP while a command runs (their default action kills the
process at once, leaving temporary files and losing the training), raising
`Interrupted`, a KeyboardInterrupt that says which signal it was. `DeferredInterrupt`
holds all three back while a native call trains a block.
"""
from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator

TERMINATION_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class Interrupted(KeyboardInterrupt):
    """A stop asked for by a signal (SIGINT, SIGTERM or SIGHUP)."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)


def exit_status(interrupt: KeyboardInterrupt) -> int:
    """The shell's status for a process stopped by this signal: 128 + its number."""
    return 128 + getattr(interrupt, "signum", int(signal.SIGINT))


def signal_name(interrupt: KeyboardInterrupt) -> str:
    return signal.Signals(getattr(interrupt, "signum", signal.SIGINT)).name


def _raise_interrupted(signum, frame):
    raise Interrupted(signum)


@contextlib.contextmanager
def terminations_interrupt() -> Iterator[None]:
    """While the block runs, SIGTERM and SIGHUP raise Interrupted in the main thread
    (where their handler is the default one)."""
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in TERMINATION_SIGNALS:
            if signal.getsignal(signum) is signal.SIG_DFL:
                previous[signum] = signal.signal(signum, _raise_interrupted)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class DeferredInterrupt:
    """A stop signal while training sets `pending` (the signal's number) and check()
    raises Interrupted once the block in progress is trained and counted; a second
    signal raises at once.

    Python runs a signal handler only between bytecodes: a Ctrl-C raised as the native
    call returns would stop the trainer before it records the position, and a saved and
    resumed model would train that block twice. Installed only in
    the main thread, over Python's default SIGINT handler and over SIGTERM/SIGHUP
    handlers that raise (see terminations_interrupt); a handler of the caller's is
    kept. With escalate=False (distributed runs) only Ctrl-C is held back and a second
    one only sets the flag too: the ranks stop together at their next sync, and
    torchrun sends every rank a SIGINT of its own on top of the terminal's."""

    def __init__(self, escalate: bool = True):
        self.pending = 0
        self.escalate = escalate
        self.previous = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            # torchrun ends a distributed job with SIGTERM, also when a rank hangs: there
            # it must act at once, never wait for a sync that may not come.
            for signum in (signal.SIGINT,) + (TERMINATION_SIGNALS if self.escalate else ()):
                if signal.getsignal(signum) in (signal.default_int_handler, _raise_interrupted):
                    self.previous[signum] = signal.signal(signum, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.pending and self.escalate:
            raise Interrupted(signum)
        self.pending = int(signum)

    def take(self) -> Interrupted:
        """The pending stop as an exception to raise (SIGINT if none is pending here, e.g.
        another rank's), clearing it."""
        signum, self.pending = self.pending or int(signal.SIGINT), 0
        return Interrupted(signum)

    def check(self) -> None:
        if self.pending:
            raise self.take()

    def __exit__(self, exc_type, *exc):
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
        self.previous = {}
        if self.pending and exc_type is None:  # a signal after the last check: still honoured
            raise self.take()
        return False
