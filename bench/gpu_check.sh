#!/usr/bin/env bash
# Everything a GPU session checks, in one go, on a machine with no package registry:
#   bench/gpu_check.sh OUTDIR
# Builds the package (pip install --no-build-isolation), runs the CUDA tests,
# compute-sanitizer (memcheck, racecheck) on a small run of every kernel, the op
# benchmark on the GPU, and the trainer benchmark on the corpus, then prints a short
# table. Logs and figures go under OUTDIR. The corpus and the evaluation sets travel in
# .carry/ (git-ignored): .carry/enwiki_text8style.txt.xz and .carry/eval/.
set -uo pipefail
OUT=${1:?usage: bench/gpu_check.sh OUTDIR}
mkdir -p "$OUT"
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
: "${W2V_CUDA_ARCHS:=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d .)}"
export W2V_CUDA_ARCHS
status() { echo "$1: $2" | tee -a "$OUT/summary.txt"; }
# The device image's torch lives in its python3; a plain "python" may not exist there.
PY=${PYTHON:-$(command -v python3 || command -v python)}
# The device tool stops a command at 600 s: every step gets at most its cap and what is
# left before GPU_CHECK_SECONDS (default 560), so a hung step still leaves a summary.
START=$SECONDS
DEADLINE=${GPU_CHECK_SECONDS:-560}
budget() {  # budget CAP -> seconds for the next step
  local left=$(( DEADLINE - (SECONDS - START) ))
  (( left < $1 )) && echo $(( left > 5 ? left : 5 )) || echo "$1"
}
timed_out() { [ "$1" = 124 ] || [ "$1" = 137 ]; }

{ nvidia-smi; git log -1 --format='commit %H %s'; "$PY" -c "import torch; print('torch', torch.__version__)"; } \
  > "$OUT/machine.txt" 2>&1
cat "$OUT/machine.txt"

echo "== build (archs $W2V_CUDA_ARCHS)"
# CMake finds nvcc on the PATH; the image may keep it only under /usr/local/cuda/bin
command -v nvcc > /dev/null || { [ -x /usr/local/cuda/bin/nvcc ] && export PATH=/usr/local/cuda/bin:$PATH; }
if timeout -k 5 "$(budget 300)" "$PY" -m pip install --no-build-isolation --no-deps -v . > "$OUT/build.log" 2>&1; then
  status build "ok ($(( SECONDS - START )) s)"
# an environment we may not write to: install beside the checkout instead
elif timeout -k 5 "$(budget 300)" "$PY" -m pip install --no-build-isolation --no-deps -v --target .gpu-site . \
       > "$OUT/build-target.log" 2>&1; then
  export PYTHONPATH="$PWD/.gpu-site${PYTHONPATH:+:$PYTHONPATH}"
  status build "ok into .gpu-site ($(( SECONDS - START )) s; the first try failed, see build.log)"
else
  status build FAILED; tail -40 "$OUT/build.log" "$OUT/build-target.log"; exit 1
fi

echo "== device check"
# without this a driver too old for the toolkit, or a CPU-only torch, makes every CUDA test skip
if ! "$PY" -c "
import torch
from w2v_ext import _native as n
assert n.cuda is not None, 'the CUDA module was not built (see build.log)'
assert n.cuda.device_count() > 0, 'w2v_ext sees no device: ' + n.cuda.device_error()
assert torch.cuda.is_available(), 'torch ' + torch.__version__ + ' sees no CUDA device'
print('w2v_ext sees', n.cuda.device_count(), 'device(s); torch', torch.__version__, torch.cuda.get_device_name(0))
" > "$OUT/device_check.log" 2>&1; then
  status "device check" "FAILED: $(tail -1 "$OUT/device_check.log")"; exit 1
fi
status "device check" "$(tail -1 "$OUT/device_check.log")"

echo "== CUDA tests"
timeout -k 5 "$(budget 150)" "$PY" -m pytest tests/test_ops_cuda.py tests/test_trainer_cuda.py -q -x \
  -p no:cacheprovider --durations=15 > "$OUT/tests.log" 2>&1
rc=$?
if timed_out $rc; then status tests "TIMED OUT (see tests.log; last line: $(tail -1 "$OUT/tests.log" | cut -c1-80))"
else status tests "$(tail -1 "$OUT/tests.log")"; fi

echo "== compute-sanitizer"
SAN=$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -1)
if [ -n "$SAN" ]; then
  for tool in memcheck racecheck; do
    timeout -k 5 "$(budget 60)" "$SAN" --tool "$tool" --error-exitcode 9 "$PY" bench/cuda_smoke.py \
      > "$OUT/sanitizer-$tool.log" 2>&1
    status "sanitizer $tool" "exit $? ($(grep -c 'ERROR SUMMARY: 0 errors' "$OUT/sanitizer-$tool.log") clean summaries)"
  done
else
  status sanitizer "not found"
fi

echo "== op benchmark (GPU)"
timeout -k 5 "$(budget 80)" "$PY" bench/op_bench.py --device cuda --threads 1 --dims 128 --vocab 1000000 --batch 65536 \
  --label gpu --results-dir "$OUT" > "$OUT/op_bench.log" 2>&1
status op_bench "$(tail -1 "$OUT/op_bench.log" | "$PY" -c 'import json,sys; d=json.loads(sys.stdin.read()); print("fused", d["fused_step_speedup"], "autograd", d["autograd_speedup"])' 2>&1)"

echo "== trainer benchmark (GPU)"
timeout -k 5 "$(budget 200)" "$PY" bench/gpu_train_bench.py --corpus .carry/enwiki_text8style.txt.xz --eval-dir .carry/eval --out "$OUT" \
  > "$OUT/train_bench.log" 2>&1
tail -8 "$OUT/train_bench.log"
status train_bench "$(tail -1 "$OUT/train_bench.log")"

echo "== summary ($(( SECONDS - START )) s)"
cat "$OUT/summary.txt"
