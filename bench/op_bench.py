#!/usr/bin/env python3
"""Benchmark the fused PyTorch ops against the same SGD step written in plain torch.

One training step (forward + backward + SGD update on the summed negative-sampling
loss) is timed three ways, each on the same tables and the same indices:

  plain     nn.Embedding(sparse=True) tables, gathers through the embeddings,
            einsum scores, F.binary_cross_entropy_with_logits(reduction='sum'),
            loss.backward() and torch.optim.SGD on the sparse gradients
  autograd  w2v_ext.sgns_loss / cbow_ns_loss(..., sparse=True) + the same SGD
  fused     w2v_ext.sgns_step_ / cbow_ns_step_ (in place, no gradient tensors)

Models: sg (skip-gram, negatives [B, K] shared by a centre's contexts), sg_ck
(skip-gram, word2vec.c's negatives [B, C, K] per context word) and cbow (mean of the
context vectors, negatives [B, K]). Each (config, variant) runs in a fresh process
(forked from a server that has imported torch; --exec: a new interpreter each), so
that its peak memory is measured on its own: the peak resident memory of the warm-up
and timed steps above the resident memory once the tables and indices are allocated
("extra" memory; it should not grow with V). Indices are uniform random, drawn for
every step before the timing starts; the rate reported is the median over the timed
repeats of steps per second.

    python bench/op_bench.py            # the full grid (about 15-30 minutes)
    python bench/op_bench.py --quick    # the headline config only, about 30 s

The last line printed is one JSON object: fused_step_speedup and autograd_speedup
(the geometric mean over the three models of the headline config: B=4096, C=10, K=5,
d=128, V=10^6, 2 threads), the per-model headline ratios, the geometric mean over all
configs run, and every config's numbers. A markdown report goes to bench/results/.
"""
from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402

MODELS = ("sg", "sg_ck", "cbow")
MODEL_TEXT = {"sg": "skip-gram, negatives [B, K]", "sg_ck": "skip-gram, negatives [B, C, K] (word2vec.c)",
              "cbow": "CBOW (mean), negatives [B, K]"}
VARIANTS = ("plain", "autograd", "fused")
HEADLINE = dict(B=4096, C=10, K=5, d=128, V=10 ** 6, threads=2)
TARGETS = {"fused_step_speedup": 5.0, "autograd_speedup": 2.0}
RESULT_TAG = "OP_BENCH_RESULT "


# ---- the three steps (used by the timed workers and by the self-check) --------------

def make_step(model: str, variant: str, in_emb, out_emb, lr: float):
    """A function step(center, context, negative) -> loss doing one SGD step in place.

    Index roles: sg/sg_ck: center [B] -> input table, context [B, C] and negative
    ([B, K] or [B, C, K]) -> output table. cbow: context [B, C] -> input table (mean),
    center [B] and negative [B, K] -> output table.
    """
    import torch
    import torch.nn.functional as F
    import w2v_ext

    if variant == "fused":
        w_in, w_out = in_emb.weight, out_emb.weight
        if model == "cbow":
            return lambda c, x, n: w2v_ext.cbow_ns_step_(w_in, w_out, c, x, n, lr)
        return lambda c, x, n: w2v_ext.sgns_step_(w_in, w_out, c, x, n, lr)

    opt = torch.optim.SGD([in_emb.weight, out_emb.weight], lr=lr)
    targets = {}

    def target(shape, value):  # BCE labels, made once per shape (not timed after the first step)
        key = (tuple(shape), value)
        if key not in targets:
            targets[key] = torch.full(shape, value, dtype=in_emb.weight.dtype, device=in_emb.weight.device)
        return targets[key]

    if variant == "plain":
        def loss_fn(c, x, n):
            if model == "cbow":
                h = in_emb(x).mean(dim=1)                                  # [B, d]
                pos = torch.einsum("bd,bd->b", h, out_emb(c))              # [B]
                neg = torch.einsum("bd,bkd->bk", h, out_emb(n))            # [B, K]
            else:
                h = in_emb(c)                                              # [B, d]
                pos = torch.einsum("bd,bcd->bc", h, out_emb(x))            # [B, C]
                if n.dim() == 3:
                    neg = torch.einsum("bd,bckd->bck", h, out_emb(n))      # [B, C, K]
                else:
                    neg = torch.einsum("bd,bkd->bk", h, out_emb(n))        # [B, K]
            return (F.binary_cross_entropy_with_logits(pos, target(pos.shape, 1.0), reduction="sum")
                    + F.binary_cross_entropy_with_logits(neg, target(neg.shape, 0.0), reduction="sum"))
    elif variant == "autograd":
        fn = w2v_ext.cbow_ns_loss if model == "cbow" else w2v_ext.sgns_loss

        def loss_fn(c, x, n):
            return fn(in_emb.weight, out_emb.weight, c, x, n, reduction="sum", sparse=True)
    else:
        raise ValueError(f"unknown variant {variant!r}")

    def step(c, x, n):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(c, x, n)
        loss.backward()
        opt.step()
        return loss.detach()

    return step


def draw_indices(model: str, steps: int, B: int, C: int, K: int, V: int, dtype, generator):
    """Fresh uniform indices for `steps` steps: (center [S, B], context [S, B, C], negative),
    drawn on the generator's device (a GPU draws millions at once; one CPU thread would
    take longer than the steps)."""
    import torch
    neg_shape = (steps, B, C, K) if model == "sg_ck" else (steps, B, K)
    device = generator.device
    return (torch.randint(V, (steps, B), dtype=dtype, generator=generator, device=device),
            torch.randint(V, (steps, B, C), dtype=dtype, generator=generator, device=device),
            torch.randint(V, neg_shape, dtype=dtype, generator=generator, device=device))


# ---- memory --------------------------------------------------------------------------

def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def rss_kb() -> int:
    try:
        return _status_kb("VmRSS")
    except (OSError, KeyError):
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_kb(reset_ok: bool) -> int:
    if reset_ok:
        try:
            return _status_kb("VmHWM")
        except (OSError, KeyError):
            pass
    import resource  # ru_maxrss: peak since the process started (an upper bound here)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# ---- worker: one (config, variant) in its own process --------------------------------

def run_worker(spec: dict) -> dict:
    import torch
    from torch import nn

    torch.set_num_threads(spec["threads"])
    model, variant = spec["model"], spec["variant"]
    B, C, K, d, V = spec["B"], spec["C"], spec["K"], spec["d"], spec["V"]
    index_dtype = getattr(torch, spec["index_dtype"])
    gen = torch.Generator().manual_seed(spec["seed"])

    device = torch.device(spec.get("device", "cpu"))
    cuda = device.type == "cuda"
    rss0 = rss_kb()
    # word2vec.c-like scale for both tables (output not zero, so every score differs)
    w_in = torch.empty(V, d).uniform_(-0.5 / d, 0.5 / d, generator=gen).to(device)
    w_out = torch.empty(V, d).uniform_(-0.5 / d, 0.5 / d, generator=gen).to(device)
    in_emb = nn.Embedding.from_pretrained(w_in, freeze=False, sparse=True)
    out_emb = nn.Embedding.from_pretrained(w_out, freeze=False, sparse=True)
    tables_mb = (rss_kb() - rss0) / 1024 if not cuda else torch.cuda.memory_allocated() / 2 ** 20

    # the CPU keeps drawing from `gen` after the tables (the same indices as before)
    index_gen = torch.Generator(device=device).manual_seed(spec["seed"]) if cuda else gen

    def indices(steps, V_, gen_, B_=B):
        return draw_indices(model, steps, B_, C, K, V_, index_dtype, gen_)

    def sync():
        if cuda:
            torch.cuda.synchronize()

    def peak_reset():
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            return True
        return reset_peak()

    def current():
        return torch.cuda.memory_allocated() / 1024 if cuda else rss_kb()

    def peak(ok):
        if cuda:
            torch.cuda.synchronize()
            return torch.cuda.max_memory_allocated() / 1024
        return peak_kb(ok)
    step = make_step(model, variant, in_emb, out_emb, spec["lr"])

    # one step on tiny tables first: loads the native library, starts thread pools and
    # the autograd engine, so that "extra" memory is what the steps themselves need
    tiny = [nn.Embedding.from_pretrained(torch.zeros(64, d, device=device), freeze=False, sparse=True)
            for _ in range(2)]
    make_step(model, variant, tiny[0], tiny[1], spec["lr"])(*(t[0] for t in indices(
        1, 64, torch.Generator(device=device).manual_seed(0), B_=4)))
    sync()
    del tiny

    # warm-up (also measures a step's time, which sets the timed steps per repeat)
    warm = indices(spec["warmup"], V, index_gen)
    reset_ok = peak_reset()
    base = current()
    loss0, t_warm = None, []
    for i in range(spec["warmup"]):
        t = time.perf_counter()
        loss = step(warm[0][i], warm[1][i], warm[2][i])
        sync()
        t_warm.append(time.perf_counter() - t)
        if i == 0:
            loss0 = float(loss)
    extra_warm = (peak(reset_ok) - base) / 1024
    del warm
    per_step = min(t_warm[1:] or t_warm)
    steps = max(spec["min_steps"], min(spec["max_steps"], math.ceil(spec["min_repeat_s"] / max(per_step, 1e-9))))

    idx = indices(steps * spec["repeats"], V, index_gen)
    reset_ok = peak_reset()
    base = current()
    rates = []
    k = 0
    for _ in range(spec["repeats"]):
        sync()
        t = time.perf_counter()
        for _ in range(steps):
            step(idx[0][k], idx[1][k], idx[2][k])
            k += 1
        sync()
        rates.append(steps / (time.perf_counter() - t))
    extra_timed = (peak(reset_ok) - base) / 1024
    rates_sorted = sorted(rates)
    n = len(rates_sorted)
    median = rates_sorted[n // 2] if n % 2 else 0.5 * (rates_sorted[n // 2 - 1] + rates_sorted[n // 2])
    return {
        "steps_per_s": median, "rates": [round(r, 3) for r in rates], "steps_per_repeat": steps,
        "extra_mb": max(extra_warm, extra_timed), "extra_mb_warmup": extra_warm, "extra_mb_timed": extra_timed,
        "tables_mb": tables_mb, "rss_mb": rss_kb() / 1024, "loss0": loss0,
        "memory_method": ("torch.cuda.max_memory_allocated" if cuda else
                          "VmHWM reset via /proc/self/clear_refs" if reset_ok else "ru_maxrss (upper bound)"),
    }


# ---- self-check: the three variants are the same step ---------------------------------

def run_check() -> dict:
    """On tiny float64 tables with no index repeated across rows (where the fused
    step's row-by-row updates equal one step of the summed loss), compare the tables
    after one step of each variant. sg_ck's fused step applies (row, context) pairs
    one after another (word2vec.c: a pair sees the centre row as the previous pair
    left it), so there only plain and autograd are compared."""
    import torch
    from torch import nn

    torch.set_num_threads(1)
    V, d, B, C, K, lr = 1000, 16, 8, 4, 3, 0.5
    gen = torch.Generator().manual_seed(0)
    out = {}
    for model in MODELS:
        perm_in, perm_out = torch.randperm(V, generator=gen), torch.randperm(V, generator=gen)
        if model == "cbow":
            x = perm_in[:B * C].view(B, C)
            rest = perm_out[:B * (1 + K)].view(B, 1 + K)
            c, n = rest[:, 0].contiguous(), rest[:, 1:].contiguous()
        else:
            c = perm_in[:B]
            n_neg = C * K if model == "sg_ck" else K
            rest = perm_out[:B * (C + n_neg)].view(B, C + n_neg)
            x = rest[:, :C].contiguous()
            n = rest[:, C:].reshape((B, C, K) if model == "sg_ck" else (B, K)).contiguous()
        w_in = torch.randn(V, d, dtype=torch.float64, generator=gen) * 0.3
        w_out = torch.randn(V, d, dtype=torch.float64, generator=gen) * 0.3
        res, losses = {}, {}
        for variant in VARIANTS:
            ie = nn.Embedding.from_pretrained(w_in.clone(), freeze=False, sparse=True)
            oe = nn.Embedding.from_pretrained(w_out.clone(), freeze=False, sparse=True)
            losses[variant] = float(make_step(model, variant, ie, oe, lr)(c, x, n))
            res[variant] = (ie.weight.detach(), oe.weight.detach())

        def diff(a, b):
            return max(float((res[a][0] - res[b][0]).abs().max()), float((res[a][1] - res[b][1]).abs().max()))

        compared = ("autograd",) if model == "sg_ck" else ("autograd", "fused")
        r = {"autograd_vs_plain_max_abs": diff("autograd", "plain"),
             "loss_rel_diff": max(abs(losses[v] - losses["plain"]) / abs(losses["plain"]) for v in compared)}
        if model != "sg_ck":
            r["fused_vs_plain_max_abs"] = diff("fused", "plain")
        r["ok"] = all(v < 1e-9 for k, v in r.items() if k != "ok")
        out[model] = r
    return out


# ---- parent ---------------------------------------------------------------------------

def _int_list(text: str):
    return [int(float(t)) for t in text.split(",") if t]


class Launcher:
    """Runs each worker in a fresh process.

    Default: forked from a forkserver that has already imported torch, torch._dynamo
    (torch.library's custom ops import it on their first call, ~1.5 s) and w2v_ext, so
    a worker costs only its own work; the server runs no parallel region, so the
    children's OpenMP pools start clean. exec=True starts a new interpreter per worker
    instead (slower; for comparison or if forking misbehaves)."""

    def __init__(self, exec_: bool, timeout: float):
        self.exec, self.timeout = exec_, timeout
        self.ctx = None
        if not exec_:
            import multiprocessing
            self.ctx = multiprocessing.get_context("forkserver")
            self.ctx.set_forkserver_preload(["__main__", "torch", "torch._dynamo", "w2v_ext.ops"])

    def __call__(self, kind: str, spec: dict) -> dict:
        return self._exec(kind, spec) if self.exec else self._fork(kind, spec)

    def _fork(self, kind, spec):
        recv, send = self.ctx.Pipe(duplex=False)
        p = self.ctx.Process(target=_child, args=(kind, spec, send), daemon=True)
        p.start()
        send.close()
        try:
            if not recv.poll(self.timeout):
                p.kill()
                return {"error": f"timed out after {self.timeout:.0f}s"}
            return recv.recv()
        except EOFError:
            p.join()
            return {"error": f"worker died (exit code {p.exitcode})"}
        finally:
            p.join(5)
            recv.close()

    def _exec(self, kind, spec):
        threads = spec.get("threads", 1)
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
        flag = "--worker-check" if kind == "check" else "--worker"
        cmd = [sys.executable, os.path.abspath(__file__), flag, json.dumps(spec)]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {self.timeout:.0f}s"}
        for line in reversed(p.stdout.splitlines()):
            if line.startswith(RESULT_TAG):
                return json.loads(line[len(RESULT_TAG):])
        tail = (p.stderr or p.stdout).strip().splitlines()[-3:]
        return {"error": f"exit {p.returncode}: " + " | ".join(tail)}


def _child(kind, spec, conn):
    try:
        result = run_check() if kind == "check" else run_worker(spec)
    except BaseException as e:  # report it rather than die silently
        import traceback
        result = {"error": f"{type(e).__name__}: {e} | " + " | ".join(
            traceback.format_exc().strip().splitlines()[-4:-1])}
    conn.send(result)
    conn.close()


def fmt(x, spec=".2f", none="-"):
    return none if x is None else format(x, spec)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=_common.HelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="only the headline config (d=128, V=10^6, 2 threads), 1 warm-up step, 3 repeats of >= 0.1s")
    ap.add_argument("--models", default=",".join(MODELS), help=f"comma list of {', '.join(MODELS)}")
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma list of plain, autograd, fused")
    ap.add_argument("--dims", default="128,300")
    ap.add_argument("--vocab", default="100000,1000000", help="table rows V (comma list)")
    ap.add_argument("--threads", default="1,2", help="torch.set_num_threads values (comma list)")
    ap.add_argument("--device", default="cpu", help="cpu or cuda (tables, indices and steps on that device)")
    ap.add_argument("--batch", type=int, default=4096, help="B")
    ap.add_argument("--context", type=int, default=10, help="C")
    ap.add_argument("--negatives", type=int, default=5, help="K")
    ap.add_argument("--lr", type=float, default=0.025)
    ap.add_argument("--index-dtype", default="int64", choices=("int64", "int32"))
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first (at least 1)")
    ap.add_argument("--repeats", type=int, default=5, help="timed repeats; the median rate is reported")
    ap.add_argument("--min-repeat-s", type=float, default=1.0,
                    help="each timed repeat runs enough steps to last about this long")
    ap.add_argument("--min-steps", type=int, default=3)
    ap.add_argument("--max-steps", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=1200, help="seconds allowed per worker process")
    ap.add_argument("--exec", action="store_true",
                    help="start each worker as a new interpreter instead of forking it from a preloaded server")
    ap.add_argument("--no-check", action="store_true", help="skip the self-check that the variants agree")
    ap.add_argument("--label", default="", help="a name for this run (results file name and report)")
    ap.add_argument("--results-dir", default=_common.RESULTS_DIR)
    ap.add_argument("--no-save", action="store_true", help="do not write the markdown report")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--worker-check", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)

    if a.worker is not None:
        print(RESULT_TAG + json.dumps(run_worker(json.loads(a.worker))), flush=True)
        return 0
    if a.worker_check is not None:
        print(RESULT_TAG + json.dumps(run_check()), flush=True)
        return 0

    if a.quick:
        a.dims, a.vocab, a.threads = "128", "1000000", "2"
        a.warmup, a.repeats, a.min_repeat_s, a.min_steps = 1, 3, 0.1, 1
    models = [m for m in a.models.split(",") if m]
    variants = [v for v in a.variants.split(",") if v]
    for m in models:
        if m not in MODELS:
            ap.error(f"unknown model {m!r}")
    for v in variants:
        if v not in VARIANTS:
            ap.error(f"unknown variant {v!r}")
    a.warmup = max(1, a.warmup)
    started = _common.now()
    t_start = time.perf_counter()

    launch = Launcher(a.exec, a.timeout)
    check = None
    if not a.no_check:
        check = launch("check", {"threads": 1})
        ok = "error" not in check and all(r["ok"] for r in check.values())
        print(f"self-check (tiny float64 tables, variants compared after one step): "
              f"{'ok' if ok else 'FAILED'} {json.dumps(check)}", flush=True)

    configs = []
    for V, d, threads, model in itertools.product(_int_list(a.vocab), _int_list(a.dims), _int_list(a.threads),
                                                  models):
        configs.append(dict(model=model, B=a.batch, C=a.context, K=a.negatives, d=d, V=V, threads=threads))
    print(f"{len(configs)} configs x {len(variants)} variants, each in a fresh process", flush=True)

    rows = []
    for cfg in configs:
        row = dict(cfg)
        for variant in variants:
            spec = dict(cfg, variant=variant, device=a.device, lr=a.lr, index_dtype=a.index_dtype, seed=a.seed, warmup=a.warmup,
                        repeats=a.repeats, min_repeat_s=a.min_repeat_s, min_steps=a.min_steps,
                        max_steps=a.max_steps)
            r = launch("worker", spec)
            row[variant] = r
            desc = " ".join(f"{k}={cfg[k]}" for k in ("model", "d", "V", "threads"))
            if "error" in r:
                print(f"  {desc} {variant:8s} ERROR {r['error']}", flush=True)
            else:
                print(f"  {desc} {variant:8s} {r['steps_per_s']:8.2f} steps/s  extra {r['extra_mb']:7.1f} MB  "
                      f"({r['steps_per_repeat']} steps x {len(r['rates'])})", flush=True)
        rate = {v: row[v].get("steps_per_s") for v in variants}
        plain = rate.get("plain")
        row["fused_speedup"] = rate["fused"] / plain if plain and rate.get("fused") else None
        row["autograd_speedup"] = rate["autograd"] / plain if plain and rate.get("autograd") else None
        losses = [row[v].get("loss0") for v in variants if row[v].get("loss0") is not None]
        row["loss0_rel_spread"] = (max(losses) - min(losses)) / abs(losses[0]) if len(losses) > 1 and losses[0] else None
        rows.append(row)

    summary = summarize(rows, variants)
    elapsed = time.perf_counter() - t_start
    import torch
    import numpy
    versions = {"python": sys.version.split()[0], "torch": torch.__version__, "numpy": numpy.__version__}
    report = render(a, rows, variants, summary, check, versions, started, elapsed)
    print()
    print(report["table"])
    path = _common.save_results(a, "op_bench", started, report["markdown"])
    out = dict(summary, benchmark="op_bench", label=a.label, quick=a.quick, elapsed_s=round(elapsed, 1),
               results_file=path, check_ok=None if check is None else
               ("error" not in check and all(r["ok"] for r in check.values())),
               versions=versions, commit=_common.git_commit(),
               configs=[compact_row(r, variants) for r in rows])
    print(json.dumps(out), flush=True)
    return 0


def compact_row(row: dict, variants) -> dict:
    out = {k: row[k] for k in ("model", "B", "C", "K", "d", "V", "threads")}
    for v in variants:
        r = row[v]
        if "error" in r:
            out[v] = {"error": r["error"]}
        else:
            out[v] = {"steps_per_s": round(r["steps_per_s"], 3), "extra_mb": round(r["extra_mb"], 1),
                      "rates": r["rates"], "loss0": r["loss0"]}
    for k in ("fused_speedup", "autograd_speedup"):
        out[k] = None if row[k] is None else round(row[k], 3)
    return out


def _is_headline(row) -> bool:
    return all(row[k] == v for k, v in HEADLINE.items())


def summarize(rows, variants) -> dict:
    head = [r for r in rows if _is_headline(r)]
    per_model = {r["model"]: {"fused_step_speedup": _round(r["fused_speedup"]),
                              "autograd_speedup": _round(r["autograd_speedup"])} for r in head}
    if head:
        basis = ("geometric mean over models " + ",".join(r["model"] for r in head)
                 + " at the headline config " + ", ".join(f"{k}={v}" for k, v in HEADLINE.items()))
        fused = _common.geomean(r["fused_speedup"] for r in head)
        auto = _common.geomean(r["autograd_speedup"] for r in head)
    else:
        basis = "geometric mean over all configs run (the headline config was not run)"
        fused = _common.geomean(r["fused_speedup"] for r in rows)
        auto = _common.geomean(r["autograd_speedup"] for r in rows)
    # peak extra memory against V: for each (model, d, threads, variant), extra(V_max) / extra(V_min)
    mem = {}
    vs = sorted({r["V"] for r in rows})
    if len(vs) > 1:
        for r_lo in (r for r in rows if r["V"] == vs[0]):
            for r_hi in (r for r in rows if r["V"] == vs[-1]):
                if all(r_lo[k] == r_hi[k] for k in ("model", "d", "threads")):
                    for v in variants:
                        lo, hi = r_lo[v].get("extra_mb"), r_hi[v].get("extra_mb")
                        if lo and hi:
                            mem.setdefault(v, []).append(hi / lo)
    return {
        "fused_step_speedup": _round(fused), "autograd_speedup": _round(auto), "headline_basis": basis,
        "headline_per_model": per_model,
        "geomean_all_configs": {"fused_step_speedup": _round(_common.geomean(r["fused_speedup"] for r in rows)),
                                "autograd_speedup": _round(_common.geomean(r["autograd_speedup"] for r in rows))},
        "targets": TARGETS,
        "meets_targets": {k: (None if v is None else v >= TARGETS[k])
                          for k, v in (("fused_step_speedup", fused), ("autograd_speedup", auto))},
        "extra_memory_ratio_vmax_over_vmin": ({v: {"V": [vs[0], vs[-1]], "max": _round(max(x)),
                                                  "median": _round(_common.median(x))} for v, x in mem.items()}
                                              if mem else None),
    }


def _round(x, n=3):
    return None if x is None else round(x, n)


def render(a, rows, variants, summary, check, versions, started, elapsed) -> dict:
    header = ["model", "d", "V", "thr"] + [f"{v} steps/s" for v in variants]
    if "plain" in variants:
        header += [f"{v}/plain" for v in variants if v != "plain"]
    header += [f"{v} extra MB" for v in variants] + ["loss0 spread"]
    table_rows = []
    for r in rows:
        line = [r["model"], r["d"], f"{r['V']:.0e}".replace("e+0", "e"), r["threads"]]
        line += [fmt(r[v].get("steps_per_s")) if "error" not in r[v] else "error" for v in variants]
        if "plain" in variants:
            line += [fmt(r.get(f"{v}_speedup"), ".2f") + "x" for v in variants if v != "plain"]
        line += [fmt(r[v].get("extra_mb"), ".1f") for v in variants]
        line += [fmt(r["loss0_rel_spread"], ".1e")]
        table_rows.append(line)
    table = _common.markdown_table(header, table_rows)
    s = summary
    lines = [f"# op_bench{': ' + a.label if a.label else ''}{' (--quick)' if a.quick else ''}", "",
             _common.metadata(versions, started, {
                 "settings": f"B={a.batch}, C={a.context}, K={a.negatives}, lr={a.lr}, float32 tables, "
                             f"{a.index_dtype} uniform random indices; {a.warmup} warm-up steps, median of "
                             f"{a.repeats} timed repeats of >= {a.min_repeat_s}s",
                 "wall time": f"{elapsed:.0f}s"}), "",
             "## Headline", "",
             f"- fused / plain: **{fmt(s['fused_step_speedup'])}x** (target >= {TARGETS['fused_step_speedup']}x)",
             f"- autograd / plain: **{fmt(s['autograd_speedup'])}x** (target >= {TARGETS['autograd_speedup']}x)",
             f"- basis: {s['headline_basis']}",
             "- per model at the headline config: " + (", ".join(
                 f"{m}: fused {fmt(v['fused_step_speedup'])}x, autograd {fmt(v['autograd_speedup'])}x"
                 for m, v in s["headline_per_model"].items()) or "not run"),
             f"- geometric mean over all {len(rows)} configs: fused "
             f"{fmt(s['geomean_all_configs']['fused_step_speedup'])}x, autograd "
             f"{fmt(s['geomean_all_configs']['autograd_speedup'])}x", ""]
    if s["extra_memory_ratio_vmax_over_vmin"]:
        lines += ["- peak extra memory at the largest V over that at the smallest V (same model, d, threads): "
                  + ", ".join(f"{v}: median {fmt(x['median'])}, max {fmt(x['max'])}"
                              for v, x in s["extra_memory_ratio_vmax_over_vmin"].items()), ""]
    lines += ["## Per config", "",
              "Models: " + "; ".join(f"`{m}` = {t}" for m, t in MODEL_TEXT.items()) + ". "
              "steps/s: median over the timed repeats. extra MB: peak resident memory during the warm-up and "
              "timed steps above the resident memory once tables and indices were allocated, measured in a "
              "fresh process per (config, variant). loss0 spread: relative spread of the first step's loss "
              "across variants (same tables and indices; the fused step applies rows one after another, so "
              "it differs slightly where indices repeat across rows).", "", table]
    if check is not None:
        lines += ["## Self-check", "", "One step of each variant on tiny float64 tables with no index repeated "
                  "across rows; max abs difference of the updated tables:", "", "```",
                  json.dumps(check, indent=1), "```", ""]
    lines += ["## Raw", "", "```json"] + [json.dumps(compact_row(r, variants)) for r in rows] + ["```", ""]
    return {"table": table, "markdown": "\n".join(lines)}


if __name__ == "__main__":
    sys.exit(main())
