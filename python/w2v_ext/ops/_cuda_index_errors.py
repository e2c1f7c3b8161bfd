"""Index checks on CUDA without a device-to-host wait in every call.

The scans run on the device, on the op's stream, into a per-device state of two words
(csrc/index_check.h): the serial number of the op call whose indices first failed a
check, and that call's first failing (check, position). Every kernel of that call and
of every later call finds the state set and returns before reading an index, so a bad
index never reaches a table. The host learns of it a little later: after each call's
scans the state is copied to a pinned host slot and an event recorded; each later call
(and check_index_errors()) looks at the copies that have landed, oldest first, and
raises IndexError for the first that shows an error, naming the call, the argument and
the position. At most MAX_PENDING calls are in flight unverified; a call beyond that
waits for the oldest.

W2V_EXT_SYNC_INDEX_CHECKS=1 (or set_sync_index_checks(True)) waits at every call
instead, so that the call with the bad index raises itself (one synchronisation each).

The CUDA kernels emulated on the CPU (_native.emulating_cuda()) have one device whose
state is a CPU tensor; their work is done when a call returns, so its copies have
always landed by the next call.
"""
from __future__ import annotations

import collections
import contextlib
import os
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import torch

MAX_PENDING = 32
_NO_ERROR = -1                 # kNoIndexError (all bits set) read as int64
_POSITION_BITS = 56            # the state's key is check << 56 | position

_sync = os.environ.get("W2V_EXT_SYNC_INDEX_CHECKS", "") not in ("", "0")


def set_sync_index_checks(enabled: bool) -> None:
    """Make every CUDA op call wait for its own index check (True) or not (False)."""
    global _sync
    _sync = bool(enabled)


@dataclass
class _Call:
    serial: int
    slot: int
    op: str
    checks: List[Tuple[str, Tuple[int, ...], str, int]]   # (argument, shape, weight, rows)
    padding_idx: int
    indices: Optional[list] = None   # the index tensors, kept only while waiting at once (sync mode)


class _DoneEvent:
    """The emulated device's event: its work is done when recorded."""

    def record(self) -> None:
        pass

    def query(self) -> bool:
        return True

    def synchronize(self) -> None:
        pass


class DeviceIndexErrors:
    """The index-check state of one CUDA device (a CPU device: the emulated one) and the
    calls not yet verified."""

    def __init__(self, device: torch.device):
        self.device = device
        real = device.type == "cuda"
        self.state = torch.full((2,), _NO_ERROR, dtype=torch.int64, device=device)
        self.host = torch.empty((MAX_PENDING, 2), dtype=torch.int64, pin_memory=real)
        self.events = [torch.cuda.Event() if real else _DoneEvent() for _ in range(MAX_PENDING)]
        self.pending: "collections.deque[_Call]" = collections.deque()
        self.serial = 0

    def begin_call(self) -> int:
        """Raise for an earlier call's bad index that has come to light; return the new
        call's serial number (waiting first when MAX_PENDING calls are unverified)."""
        self.raise_landed(wait_for=1 if len(self.pending) >= MAX_PENDING else 0)
        self.serial += 1
        return self.serial

    def end_call(self, serial: int, op: str, checks, padding_idx: int, indices: list) -> None:
        """After the call's scans were queued: copy the state out behind them."""
        call = _Call(serial, serial % MAX_PENDING, op, checks, padding_idx, indices if _sync else None)
        self.host[call.slot].copy_(self.state, non_blocking=True)
        self.events[call.slot].record()
        self.pending.append(call)
        if _sync:
            self.raise_landed(wait_for=len(self.pending), in_call=True)

    def raise_landed(self, wait_for: int = 0, in_call: bool = False) -> None:
        """Verify the pending calls whose state copies have landed (waiting for the
        oldest `wait_for` of them); raise IndexError for the first that failed."""
        while self.pending:
            call = self.pending[0]
            if wait_for > 0:
                self.events[call.slot].synchronize()
                wait_for -= 1
            elif not self.events[call.slot].query():
                return
            self.pending.popleft()
            owner, key = int(self.host[call.slot, 1]), int(self.host[call.slot, 0])
            if owner != _NO_ERROR:
                self._fail(call, owner, key, in_call)

    def _fail(self, call: _Call, owner: int, key: int, in_call: bool) -> None:
        later = self.serial - call.serial
        self.pending.clear()
        self.state.fill_(_NO_ERROR)   # later calls run again
        if owner != call.serial:      # cannot happen: each call's copy follows its own scans
            raise IndexError(f"w2v_ext: an index out of range was found on {self.device} in an earlier op call")
        check, position = key >> _POSITION_BITS, key & ((1 << _POSITION_BITS) - 1)
        name, shape, weight_name, rows = call.checks[check]
        where = ", ".join(str(p) for p in _unravel(position, shape))
        if call.indices is not None:
            where += f"] = {int(call.indices[check].reshape(-1)[position])}"
        else:
            where += "]"
        if in_call:
            raise IndexError(f"{name}[{where} is out of range for {weight_name} with {rows} rows (valid: "
                             f"0..{rows - 1}, or padding_idx={call.padding_idx})")
        raise IndexError(f"{name}[{where} is out of range for {weight_name} with {rows} rows (valid: 0..{rows - 1}, "
                         f"or padding_idx={call.padding_idx}) in an earlier call to {call.op} on {self.device}, "
                         f"followed by {later} more op call(s). That call and those after it did nothing: no weight "
                         f"was changed and their outputs are undefined. CUDA checks indices on the device without "
                         f"waiting; W2V_EXT_SYNC_INDEX_CHECKS=1 makes the call itself raise")


def _unravel(position: int, shape) -> List[int]:
    out = []
    for size in reversed(shape):
        out.append(position % size)
        position //= size
    return list(reversed(out))


_trackers: Dict[object, DeviceIndexErrors] = {}


def tracker_for(device: torch.device) -> DeviceIndexErrors:
    if device.type == "cpu":  # the emulated device
        key, tracked = "emulated", torch.device("cpu")
    else:
        key = device.index if device.index is not None else torch.cuda.current_device()
        tracked = torch.device("cuda", key)
    tracker = _trackers.get(key)
    if tracker is None:
        tracker = _trackers[key] = DeviceIndexErrors(tracked)
    return tracker


def state_pointer(device: torch.device) -> int:
    """The device's state, for the kernels' NsBatch.index_error."""
    return tracker_for(device).state.data_ptr()


def check_index_errors(device: Optional[torch.device] = None) -> None:
    """Wait for the CUDA ops' pending index checks (on `device`, or every device used so
    far) and raise IndexError if one of them found an index out of range."""
    trackers = list(_trackers.values()) if device is None else [tracker_for(torch.device(device))]
    for tracker in trackers:
        real = tracker.device.type == "cuda"
        with torch.cuda.device(tracker.device) if real else contextlib.nullcontext():
            tracker.raise_landed(wait_for=len(tracker.pending))
