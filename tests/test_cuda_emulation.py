"""The CPU emulation of the CUDA kernels checked on its own (csrc/cuda/emulation): the
emulated module's check kernels (selftest_kernels.cu) against CUDA's documented
semantics of the built-in variables, shuffles, votes, barriers, shared memory, atomics
and runtime calls; the faults it must stop at, each in a subprocess that must abort
naming the kernel; and that nothing picks the emulation unless asked."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from w2v_ext import _native

emulated = _native.emulated_cuda()
pytestmark = [pytest.mark.cuda_emulated,
              pytest.mark.skipif(emulated is None, reason="built without the emulated CUDA kernels")]
SANITIZED = emulated is not None and emulated.__name__.endswith("_sanitized")
FULL = 0xFFFFFFFF


def per_thread(values, width):
    return [values[k:k + width] for k in range(0, len(values), width)]


def ballot(predicate, lanes=range(32)):
    return sum(1 << lane for lane in lanes if predicate(lane))


def bit_ops(x: int) -> int:
    """__popc(x) + 100 * __ffs(x) + 10000 * __clz(x), as the kernel combines them."""
    return bin(x).count("1") + 100 * (x & -x).bit_length() + 10000 * (32 - x.bit_length())


def test_shuffles_and_votes_follow_cuda():
    rows = per_thread(emulated.emulation_selftest("shuffles"), 16)
    for t, row in enumerate(rows):
        lane, warp = t % 32, t // 32
        v = lambda src: 100 * warp + src  # noqa: E731  (lane src's value)

        def within(width, src):  # CUDA: a lane outside its width-wide segment keeps its own value
            segment = lane & ~(width - 1)
            return src if segment <= src < segment + width else lane
        expected = [
            v((lane * 7) % 32),
            v((lane & ~15) + (lane + 5) % 16),
            v(lane - 3 if lane >= 3 else lane),
            v(lane - 3 if lane % 8 >= 3 else lane),
            v(within(32, lane + 5)),
            v(within(16, lane + 5)),
            v(lane ^ 1),
            v(lane ^ 12 if (lane ^ 12) < (lane & ~7) + 8 else lane),   # an earlier segment may be read
            2 * v(lane ^ 16),
            10_000_000_000 + v(31 - lane),
            ballot(lambda k: k % 3 == 0),
            int(warp == 1),
            0,
            v(15 - lane) if lane < 16 else ballot(lambda k: k & 1, range(16, 32)),
            ballot(lambda k: k & 1, range(16)) if lane < 16 else v(within(16, lane + 1)),
            bit_ops(v(lane)),
        ]
        assert row == expected, (t, [(k, a, b) for k, (a, b) in enumerate(zip(row, expected)) if a != b])


def test_partial_warps_and_half_warp_masks():
    rows = per_thread(emulated.emulation_selftest("partial_warp"), 2)
    for t, (votes, shuffled) in enumerate(rows):
        if t < 32:
            assert (votes, shuffled) == (ballot(lambda k: k & 1), 31 - t)
        else:   # the second warp has lanes 0-7 only
            assert (votes, shuffled) == (ballot(lambda k: k & 1, range(8)), 32 + 7 - (t - 32))
    assert emulated.emulation_selftest("early_exit") == [120] * 16


def test_syncthreads_orders_shared_memory_between_warps():
    rows = per_thread(emulated.emulation_selftest("block_barrier"), 2)
    for g, (first, second) in enumerate(rows):
        block, t = divmod(g, 256)
        assert (first, second) == (3 * ((t + 37) % 256) + block, -(255 - t)), g


def test_built_in_variables_on_a_3d_grid():
    rows = per_thread(emulated.emulation_selftest("builtins"), 12)
    expected = [[tx, ty, tz, bx, by, 0, 4, 2, 2, 2, 3, 1]
                for by in range(3) for bx in range(2) for tz in range(2) for ty in range(2) for tx in range(4)]
    assert rows == expected


def test_atomics_from_many_blocks():
    f, d2, i, u, first, smallest, largest = emulated.emulation_selftest("atomics")
    assert (f, d2, i, u, smallest, largest) == (512, 512, 512, 1024, 5, 76)
    assert 0 <= first < 512   # some thread won the compare-and-swap


def test_dynamic_shared_memory_is_exact_aligned_and_refilled_per_block():
    rows = per_thread(emulated.emulation_selftest("dynamic_shared"), 3)
    for g, (before, neighbour, misalignment) in enumerate(rows):
        block, t = divmod(g, 48)
        assert before == -1, g                      # 0xff bytes, also after the previous block wrote
        assert neighbour == 1000 * block + (t + 1) % 48
        assert misalignment == 0


def test_reads_a_missing_barrier_leaves_unordered_see_unwritten_memory():
    """Lanes run in descending order in warp 0 and ascending in warp 1 (of block 0), so
    both patterns of a missing __syncwarp read memory that is not written yet (-1)."""
    rows = per_thread(emulated.emulation_selftest("unordered_shared"), 2)
    warp0, warp1 = rows[:32], rows[32:]
    assert [r[0] for r in warp0] == [7] + [-1] * 31     # lane 0 writes last
    assert warp0[0][1] == sum(range(32))
    assert [r[0] for r in warp1] == [7] * 32            # lane 0 writes first ...
    assert warp1[0][1] == -31                           # ... and sums before the others wrote


def test_runtime_calls_return_cuda_errors_for_misuse():
    r = emulated.emulation_selftest("runtime_api")
    invalid_value, invalid_pointer, invalid_handle, invalid_device = 1, 17, 400, 101
    assert r == [0, -1, 0, invalid_value, invalid_value, 0, invalid_value, invalid_value, invalid_pointer, 0,
                 invalid_handle, invalid_handle, 0, invalid_device, 1024, 48 * 1024, 32]


FAULTS = {
    "bad_partial_warp_collective": r"__shfl_xor_sync with mask 0xffffffff, but lane\(s\) 20-31 of the mask have "
                                   r"exited \(a collective in a partial warp\)",
    "bad_mask_mismatch": r"reaches __shfl_sync with mask 0xffffffff while lane 16 waits in __syncwarp",
    "bad_divergent_syncthreads": r"wait at __syncthreads: not every thread reaches it",
    "bad_syncthreads_in_collective": r"__syncthreads while lane 1 waits for this lane in __shfl_sync",
    "bad_missing_lanes": r"names lane\(s\) 8-31, which this warp does not have \(it has 8 lanes: a partial warp\)",
    "bad_shuffle_outside_mask": r"lane 0 reads lane 20, which is not in the mask",
    "bad_mask_without_caller": r"mask 0x00000001, which leaves out the calling lane",
    "bad_dynamic_shared_overflow": r"memory access past the end of dynamic shared memory",
    "bad_misaligned_atomic": r"atomic operation on a misaligned address",
    "bad_too_many_threads": r"1025 threads per block .* a device allows 1024",
    "bad_grid_y": r"grid dimension y is 65536; a device allows 65535",
    "bad_dynamic_shared_size": r"49153 bytes of dynamic shared memory per block; a device allows 49152",
    "bad_destroyed_stream": r"on a stream that does not exist",
    # ASan and UBSan only: a static __shared__ array is a static variable of the kernel
    "bad_static_shared_overflow": r"the error above happened in kernel bad_static_shared_overflow_kernel",
}


def test_every_fault_case_is_tested():
    assert set(FAULTS) == {n for n in emulated.emulation_selftest_names() if n.startswith("bad_")}


@pytest.mark.parametrize("case", sorted(FAULTS))
def test_faults_abort_naming_the_kernel(case):
    if case == "bad_static_shared_overflow" and not SANITIZED:
        pytest.skip("needs the sanitized build (tests/test_cuda_sanitized.py runs it)")
    code = f"from w2v_ext import _native; _native.emulated_cuda().emulation_selftest({case!r}); print('no abort')"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "no abort" not in r.stdout, r.stdout + r.stderr
    assert "w2v_ext CUDA emulation:" in r.stderr
    assert re.search(FAULTS[case], r.stderr), r.stderr[-3000:]
    kernel = case + "_kernel"
    if not case.endswith(("_size", "_threads", "_grid_y", "_stream")):
        assert f"kernel {kernel}" in r.stderr and "block (0,0,0), thread (" in r.stderr, r.stderr[-3000:]


def test_nothing_picks_the_emulation_unless_asked():
    code = ("import sys, w2v_ext, w2v_ext.ops; from w2v_ext import _native; "
            "assert _native.kernels_for('cpu') is _native.cpu and _native.cuda_trainer_module() is _native.cuda; "
            "assert not [m for m in sys.modules if 'emulated' in m], sorted(sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert _native.kernels_for("cpu") is _native.cpu
    with _native.emulating_cuda() as module:
        assert _native.kernels_for("cpu") is module and _native.cuda_trainer_module() is module
        assert _native.runs_cuda_kernels("cpu")
    assert _native.kernels_for("cpu") is _native.cpu and not _native.runs_cuda_kernels("cpu")
