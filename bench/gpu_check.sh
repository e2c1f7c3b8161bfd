#!/usr/bin/env bash
# What a GPU session checks, in two calls of the device tool (at most 5 minutes each),
# on a machine with no package registry:
#   bench/gpu_check.sh verify OUTDIR   # build, device check, the CUDA tests, compute-sanitizer
#   bench/gpu_check.sh bench OUTDIR    # op benchmark, trainer benchmark (GPU vs CPU)
# `verify` stops at once, with the reason, when no device is usable. `bench` builds
# again only when the machine went cold after `verify`. Each call ends by printing its
# summary; OUTDIR then holds summary-PHASE.txt and one archive of every log,
# logs-PHASE.tar.gz (the device tool returns at most 8 files). The corpus and the
# evaluation sets travel in .carry/ (git-ignored): .carry/enwiki_text8style.txt.xz and
# .carry/eval/.
# GPU_CHECK_SECONDS (default 270) caps a call: every step gets at most its own cap and
# what is left, so a hung step still leaves the summary. Dry runs on a machine without a
# GPU: GPU_CHECK_ASSUME_DEVICE=1 skips the device check.
set -uo pipefail
PHASE=${1:?usage: bench/gpu_check.sh verify|bench OUTDIR}
OUT=${2:?usage: bench/gpu_check.sh verify|bench OUTDIR}
case "$PHASE" in verify|bench) ;; *) echo "phase must be verify or bench, got $PHASE" >&2; exit 2 ;; esac
mkdir -p "$OUT/logs"
LOGS=$OUT/logs
SUMMARY=$OUT/summary-$PHASE.txt
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
: "${W2V_CUDA_ARCHS:=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d .)}"
export W2V_CUDA_ARCHS
# The device image's torch lives in its python3; a plain "python" may not exist there.
PY=${PYTHON:-$(command -v python3 || command -v python)}
START=$SECONDS
DEADLINE=${GPU_CHECK_SECONDS:-270}
budget() {  # budget CAP -> seconds for the next step
  local left=$(( DEADLINE - (SECONDS - START) ))
  (( left < $1 )) && echo $(( left > 5 ? left : 5 )) || echo "$1"
}
timed_out() { [ "$1" = 124 ] || [ "$1" = 137 ]; }
status() { echo "$1: $2" | tee -a "$SUMMARY"; }
finish() {  # pack the logs, print the summary, exit with $1
  tar -czf "$OUT/logs-$PHASE.tar.gz" -C "$OUT" logs && rm -rf "$LOGS"
  echo "== summary: $PHASE ($(( SECONDS - START )) s)" | tee -a "$SUMMARY"
  cat "$SUMMARY"
  exit "$1"
}

{ echo "phase $PHASE, $(date -u +%FT%TZ)"
  nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader
  git log -1 --format='commit %H %s'
  "$PY" -c "import torch; print('torch', torch.__version__)"; } > "$SUMMARY" 2>&1
cat "$SUMMARY"

build() {
  # CMake finds nvcc on the PATH; the image may keep it only under /usr/local/cuda/bin
  command -v nvcc > /dev/null || { [ -x /usr/local/cuda/bin/nvcc ] && export PATH=/usr/local/cuda/bin:$PATH; }
  if timeout -k 5 "$(budget 150)" "$PY" -m pip install --no-build-isolation --no-deps -v . > "$LOGS/build.log" 2>&1
  then
    status build "ok for sm_$W2V_CUDA_ARCHS ($(( SECONDS - START )) s)"
  # an environment we may not write to: install beside the checkout instead
  elif timeout -k 5 "$(budget 150)" "$PY" -m pip install --no-build-isolation --no-deps -v --target .gpu-site . \
         > "$LOGS/build-target.log" 2>&1; then
    status build "ok into .gpu-site ($(( SECONDS - START )) s; the first try failed, see build.log)"
  else
    status build "FAILED: $(grep -m1 -E 'error|Error' "$LOGS/build.log" | cut -c1-200)"; finish 1
  fi
}

[ -d .gpu-site ] && export PYTHONPATH="$PWD/.gpu-site${PYTHONPATH:+:$PYTHONPATH}"
if [ "$PHASE" = verify ] || ! "$PY" -c "import w2v_ext._w2v_cuda" 2> /dev/null; then
  echo "== build (sm_$W2V_CUDA_ARCHS)"
  build
  [ -d .gpu-site ] && export PYTHONPATH="$PWD/.gpu-site${PYTHONPATH:+:$PYTHONPATH}"
fi

echo "== device check"
# without this a driver too old for the toolkit, or a CPU-only torch, makes every CUDA test skip
if [ "${GPU_CHECK_ASSUME_DEVICE:-0}" = 1 ]; then
  status "device check" "skipped (GPU_CHECK_ASSUME_DEVICE=1: a dry run)"
elif ! "$PY" -c "
import torch
from w2v_ext import _native as n
assert n.cuda is not None, 'the CUDA module was not built (see build.log)'
assert n.cuda.device_count() > 0, 'w2v_ext sees no device: ' + n.cuda.device_error()
assert torch.cuda.is_available(), 'torch ' + torch.__version__ + ' sees no CUDA device'
print('w2v_ext sees', n.cuda.device_count(), 'device(s); torch', torch.__version__, torch.cuda.get_device_name(0))
" > "$LOGS/device_check.log" 2>&1; then
  status "device check" "FAILED: $(tail -1 "$LOGS/device_check.log")"; finish 1
else
  status "device check" "$(tail -1 "$LOGS/device_check.log")"
fi

if [ "$PHASE" = verify ]; then
  echo "== CUDA tests (pytest -m cuda: the device-parametrised tests' cases on the GPU)"
  timeout -k 5 "$(budget 100)" "$PY" -m pytest tests -m cuda -q -p no:cacheprovider --durations=15 \
    > "$LOGS/tests.log" 2>&1
  rc=$?
  if timed_out $rc; then status tests "TIMED OUT (last line: $(tail -1 "$LOGS/tests.log" | cut -c1-80))"
  else status tests "$(tail -1 "$LOGS/tests.log")"; fi
  grep -E '^(FAILED|ERROR) ' "$LOGS/tests.log" | head -10 | tee -a "$SUMMARY"

  echo "== compute-sanitizer"
  SAN=$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -1)
  if [ -n "$SAN" ]; then
    # PyTorch's caching allocator hands out pieces of large blocks: memcheck sees an access
    # past a tensor only when every tensor is its own allocation.
    for tool in memcheck racecheck synccheck; do
      PYTORCH_NO_CUDA_MEMORY_CACHING=1 timeout -k 5 "$(budget 35)" "$SAN" --tool "$tool" --error-exitcode 9 \
        "$PY" bench/cuda_smoke.py > "$LOGS/sanitizer-$tool.log" 2>&1
      rc=$?
      status "sanitizer $tool" "exit $rc: $(grep -m1 'ERROR SUMMARY' "$LOGS/sanitizer-$tool.log" || echo 'no summary')"
    done
  else
    status sanitizer "compute-sanitizer not found"
  fi
  finish 0
fi

echo "== op benchmark (GPU)"
timeout -k 5 "$(budget 70)" "$PY" bench/op_bench.py --device cuda --threads 1 --dims 128 --vocab 1000000 \
  --batch 65536 --label gpu --results-dir "$LOGS" > "$LOGS/op_bench.log" 2>&1
status op_bench "$(tail -1 "$LOGS/op_bench.log" | "$PY" -c 'import json,sys; d=json.loads(sys.stdin.read()); print("fused", d["fused_step_speedup"], "autograd", d["autograd_speedup"])' 2>&1 | tail -1)"

echo "== fused steps on the corpus: atomic vs plain-store row updates, against the corpus trainer"
timeout -k 5 "$(budget 60)" "$PY" bench/fused_step_bench.py --corpus .carry/enwiki_text8style.txt.xz \
  --eval-dir .carry/eval --device cuda --out "$LOGS/fused_step_bench.json" > "$LOGS/fused_step_bench.log" 2>&1
grep -q '^| ' "$LOGS/fused_step_bench.log" && grep '^| ' "$LOGS/fused_step_bench.log" | tee -a "$SUMMARY" \
  || status fused_step_bench "FAILED: $(tail -1 "$LOGS/fused_step_bench.log" | cut -c1-200)"

echo "== trainer benchmark (GPU vs CPU)"
timeout -k 5 "$(budget 140)" "$PY" bench/gpu_train_bench.py --corpus .carry/enwiki_text8style.txt.xz \
  --eval-dir .carry/eval --epochs 3 --out "$LOGS" > "$LOGS/train_bench.log" 2>&1
tail -8 "$LOGS/train_bench.log"
status train_bench "$(tail -1 "$LOGS/train_bench.log" | cut -c1-1500)"
finish 0
