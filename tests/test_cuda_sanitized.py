"""The emulated CUDA tests once more, on the kernels built with AddressSanitizer and
UndefinedBehaviorSanitizer (_w2v_cuda_emulated_sanitized): an out-of-bounds access
(tables, index arrays, gradient rows, static or dynamic shared memory) or undefined
behaviour in a kernel fails here, with the kernel, block and thread named.

The sanitizers' runtime has to be in the process before anything else, so the tests
run in a child pytest started with libasan (and libstdc++, whose exceptions ASan
intercepts) preloaded; leak detection is off (the interpreter keeps memory on purpose)."""
from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys

import pytest

from w2v_ext import _native

SANITIZED = "_w2v_cuda_emulated_sanitized"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILES = ["tests/test_cuda_emulation.py", "tests/test_ops_cuda.py", "tests/test_trainer_cuda.py"]

pytestmark = pytest.mark.cuda_emulated


def preloads(module_path: str) -> str:
    """LD_PRELOAD for the module: the libasan and libstdc++ it was linked with (ldd)."""
    found = dict(re.findall(r"^\s*(lib(?:asan|stdc\+\+)\.so[.\d]*) => (\S+)",
                            subprocess.run(["ldd", module_path], capture_output=True, text=True).stdout, re.M))
    asan = [path for name, path in found.items() if name.startswith("libasan")]
    stdcxx = [path for name, path in found.items() if name.startswith("libstdc++")]
    assert asan, f"ldd finds no libasan for {module_path}"
    return " ".join(asan + stdcxx)


def test_emulated_cuda_tests_pass_under_sanitizers():
    if os.environ.get(_native.EMULATED_MODULE_ENV) == SANITIZED:
        pytest.skip("already the sanitized run")
    spec = importlib.util.find_spec(f"w2v_ext.{SANITIZED}")
    if spec is None:
        pytest.skip("built without the sanitized emulated module (-Ccmake.define.W2V_CUDA_EMULATION=ON builds it)")
    env = dict(os.environ, LD_PRELOAD=preloads(spec.origin), ASAN_OPTIONS="detect_leaks=0",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1", **{_native.EMULATED_MODULE_ENV: SANITIZED})
    # --capture=sys: a sanitizer's report goes to file descriptor 2, which must reach us
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--capture=sys",
                        "-m", "cuda_emulated", *FILES], cwd=REPO, env=env, capture_output=True, text=True,
                       timeout=1800)
    output = r.stdout + r.stderr
    assert r.returncode == 0, output[-20000:]
    summary = output.strip().splitlines()[-1]
    assert re.search(r"\d+ passed", summary) and "failed" not in summary and "error" not in summary, summary
