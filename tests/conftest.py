"""The tests' shared fixtures.

For the corpus trainer's tests: `zipf_corpus(seed, vocab, sentences, ...)`, a corpus
file of generated Zipf sentences, written once per session for each set of arguments.

For the op tests:
- every test runs with `w2v_ext.ops._views.POISON_OUTPUTS = True` (outputs a kernel must
  write start as NaN, so an unwritten element fails a comparison instead of passing as
  leftover zeros), restored afterwards;
- every test gets its torch thread count restored afterwards, so a test that calls
  torch.set_num_threads cannot leak into the next one;
- `gen` is a torch.Generator seeded from the test's node id: fresh random inputs for
  every parametrisation, the same ones on every run. The global torch seed is fixed too
  (nn.Module initialisation uses it);
- `kernel_device` runs a CUDA test once per device of tests/cuda_devices.py: on a GPU,
  and on the CUDA kernels emulated on the CPU (the test body runs inside the emulation).

torch is optional here: the corpus trainer's tests (test_trainer_*, test_corpus_vocab,
test_sampling, test_cli) never need it, so without torch these fixtures do nothing.
"""
from __future__ import annotations

import os
import signal
import zlib

# Before torch loads libgomp: on small machines OpenMP's default spin-then-sleep wait
# makes every tiny torch op that wakes the thread team cost milliseconds, which
# multiplies this suite's runtime. Passive waiting changes timing only, never results;
# an explicit setting in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# A run started in the background without job control (`nohup pytest &` in a script)
# inherits SIGINT ignored, and so would every CLI the tests start; the Ctrl-C tests need
# Python's handler here and the default disposition in children.
signal.signal(signal.SIGINT, signal.default_int_handler)

import pytest

import cuda_devices
from trainer_testing import write_text, zipf_lines

try:
    import torch
except ImportError:  # the trainer's tests run without torch
    torch = None


def _seed_for(nodeid: str) -> int:
    return zlib.crc32(nodeid.encode())


@pytest.fixture(autouse=True)
def poison_outputs():
    """Make kernel outputs start as NaN for the duration of the test."""
    if torch is None:
        yield
        return
    from w2v_ext.ops import _views

    old = _views.POISON_OUTPUTS
    _views.POISON_OUTPUTS = True
    try:
        yield
    finally:
        _views.POISON_OUTPUTS = old


@pytest.fixture(autouse=True)
def restore_num_threads():
    """Restore torch's intra-op thread count after the test."""
    if torch is None:
        yield
        return
    old = torch.get_num_threads()
    try:
        yield
    finally:
        torch.set_num_threads(old)


@pytest.fixture(autouse=True)
def _global_seed(request):
    if torch is not None:
        torch.manual_seed(_seed_for(request.node.nodeid))


@pytest.fixture
def gen(request) -> torch.Generator:
    """A CPU generator seeded from the test's node id."""
    return torch.Generator().manual_seed(_seed_for(request.node.nodeid))


@pytest.fixture
def one_thread():
    """Run the test body with torch.set_num_threads(1) (restored by restore_num_threads)."""
    torch.set_num_threads(1)
    yield


@pytest.fixture(params=cuda_devices.PARAMS)
def kernel_device(request):
    """A cuda_devices.KernelDevice; the test body runs with its kernels active."""
    device = cuda_devices.KernelDevice(request.param)
    with device.active():
        yield device


@pytest.fixture(scope="session")
def zipf_corpus(tmp_path_factory):
    """zipf_corpus(seed, vocab, sentences, max_len=14, extra=()): the path of a text file
    of trainer_testing.zipf_lines(default_rng(seed), vocab, sentences, max_len) and the
    `extra` lines, one sentence a line (written on first use, then shared)."""
    import numpy as np
    made = {}

    def make(seed: int, vocab: int, sentences: int, max_len: int = 14, extra=()) -> str:
        key = (seed, vocab, sentences, max_len, tuple(extra))
        if key not in made:
            lines = zipf_lines(np.random.default_rng(seed), vocab, sentences, max_len=max_len) + list(extra)
            made[key] = write_text(tmp_path_factory.mktemp("zipf") / "corpus.txt", lines)
        return made[key]
    return make
