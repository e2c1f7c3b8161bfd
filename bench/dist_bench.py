#!/usr/bin/env python3
"""Data-parallel training: 1 process vs N processes (torchrun, gloo on 127.0.0.1) on one
corpus, and the effect of the sync interval (and of the learning-rate scaling) on quality.

Every run is one whole process tree, timed from start to exit: `python -m w2v_ext train`
for one process, `python -m torch.distributed.run --nproc-per-node N -m w2v_ext train`
for N (torchrun's start-up and every rank's `import torch` included). Settings: SG,
d=100, window 5, negative 5, sample 1e-3, min_count 5, 1 epoch, 1 thread per process,
seed 1. The vectors (word2vec binary, written by rank 0) are scored by the shared
`<shared>/bench/evaluate.py` (analogy accuracy over the 30000 most frequent words,
WS-353 and SimLex-999 Spearman).

Runs: "1 process" and "N processes, sync every --sync-words" `--repeat` times each,
interleaved (the median wall time is reported); then once each: N processes with the
other `--intervals`, N processes without the learning-rate scaling
(--dist-alpha-scale 1), and `--extra-world` processes (more processes than cores:
quality only, its speed means nothing).

    python bench/dist_bench.py                  # full corpus, ~5 min on 2 cores
    python bench/dist_bench.py --quick          # the first 2M words, to check the set-up

Writes bench/results/dist_bench-<date>-<time>[-label][-quick].md (command, machine, load
average before and after: the machine may be shared) and ends with one JSON line per run.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402
from train_bench import find_shared_dir, slice_corpus  # noqa: E402

TRAINED = re.compile(r"trained (\d+) words.* in ([\d.]+)s \(([\d.]+)M words/s\)")
SYNCS = re.compile(r"syncs: (\d+) weight averages of ([\d.]+) MB, ([\d.]+)s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def train_command(args, corpus, out, world, sync_words=None, alpha_scale=None):
    common = ["train", corpus, "-o", out, "--model", "sg", "--dim", str(args.dim), "--window", "5", "--negative", "5",
              "--sample", "1e-3", "--min-count", "5", "--epochs", str(args.epochs), "--threads", "1", "--seed", "1"]
    if world == 1:
        return [sys.executable, "-m", "w2v_ext"] + common
    extra = ["--sync-words", str(sync_words)] + (["--dist-alpha-scale", str(alpha_scale)] if alpha_scale else [])
    return [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(world), "--master-addr",
            "127.0.0.1", "--master-port", str(free_port()), "-m", "w2v_ext"] + common + extra


def run(args, evaluate, corpus, words, out_dir, name, world, sync_words=None, alpha_scale=None):
    out = os.path.join(out_dir, f"{name.replace(' ', '_')}.bin")
    cmd = train_command(args, corpus, out, world, sync_words, alpha_scale)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        raise SystemExit(f"{name}: exit {r.returncode}\n{r.stderr[-3000:]}")
    trained, syncs = TRAINED.search(r.stderr), SYNCS.search(r.stderr)
    scores = json.loads(subprocess.run([sys.executable, evaluate, out, "--data", args.eval_data], capture_output=True,
                                       text=True, check=True).stdout.strip().splitlines()[-1])
    os.remove(out)
    rec = {"name": name, "processes": world, "sync_words": sync_words,
           "alpha_per_process": 0.025 * (alpha_scale or world),
           "wall_s": wall, "cpu_s": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
           "words_per_s": words * args.epochs / wall,
           "train_s": float(trained.group(2)), "train_words_per_s": float(trained.group(3)) * 1e6,
           "syncs": int(syncs.group(1)) if syncs else 0, "sync_mb": float(syncs.group(2)) if syncs else 0.0,
           "sync_s": float(syncs.group(3)) if syncs else 0.0,
           "analogy": scores["analogy"]["accuracy"], "ws353": scores["ws353"]["spearman"],
           "simlex": scores["simlex"]["spearman"], "command": " ".join(cmd)}
    print(f"  {name}: {rec['words_per_s'] / 1e6:.2f}M words/s whole process ({wall:.1f}s), training "
          f"{rec['train_words_per_s'] / 1e6:.2f}M words/s, {rec['syncs']} syncs {rec['sync_s']:.2f}s, analogy "
          f"{100 * rec['analogy']:.2f}%", flush=True)
    return rec


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared-dir", default=None)
    ap.add_argument("--corpus", default=None, help="default <shared>/data/enwiki_text8style.txt")
    ap.add_argument("--eval-data", default=None, help="default <shared>/data/eval")
    ap.add_argument("--world", type=int, default=2, help="processes of the data-parallel runs")
    ap.add_argument("--sync-words", type=int, default=1_000_000, help="the main runs' sync interval")
    ap.add_argument("--intervals", default="250000,4000000,100000000",
                    help="other sync intervals, run once each (100M: only at the end of the epoch)")
    ap.add_argument("--extra-world", type=int, default=4, help="also one run on this many processes (0: none)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="the first 2M words of the corpus")
    ap.add_argument("--label", default="")
    ap.add_argument("--results-dir", default=_common.RESULTS_DIR)
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args(argv)
    shared = find_shared_dir(args.shared_dir)
    corpus = args.corpus or os.path.join(shared, "data", "enwiki_text8style.txt")
    args.eval_data = args.eval_data or os.path.join(shared, "data", "eval")
    evaluate = os.path.join(shared, "bench", "evaluate.py")
    started, load_before = _common.now(), _common.load_average()
    t0 = time.perf_counter()
    runs = []
    with tempfile.TemporaryDirectory(prefix="dist_bench-") as tmp:
        if args.quick:
            words = slice_corpus(corpus, os.path.join(tmp, "quick.txt"), 2_000_000)
            corpus = os.path.join(tmp, "quick.txt")
        else:
            with open(corpus, "rb") as f:
                words = sum(len(chunk.split()) for chunk in iter(lambda: f.read(1 << 24), b""))  # text8: one line
        print(f"corpus {corpus}: {words:,} words; load average {load_before}", flush=True)
        main_name = f"{args.world} processes"
        for i in range(args.repeat):   # interleaved, the order alternating
            pair = [("1 process", 1), (main_name, args.world)]
            for name, world in (pair if i % 2 == 0 else pair[::-1]):
                runs.append(run(args, evaluate, corpus, words, tmp, name, world, None if world == 1 else
                                args.sync_words))
        for interval in [int(x) for x in args.intervals.split(",") if x]:
            runs.append(run(args, evaluate, corpus, words, tmp, f"{args.world} processes, sync {interval:,}",
                            args.world, interval))
        runs.append(run(args, evaluate, corpus, words, tmp, f"{args.world} processes, alpha not scaled",
                        args.world, args.sync_words, alpha_scale=1))
        if args.extra_world:
            runs.append(run(args, evaluate, corpus, words, tmp, f"{args.extra_world} processes",
                            args.extra_world, args.sync_words))
    elapsed = time.perf_counter() - t0
    text = render(args, runs, corpus, words, started, load_before, elapsed)
    print(text)
    _common.save_results(args, "dist_bench", started, text)
    for rec in runs:
        print(json.dumps(rec))
    return 0


def render(args, runs, corpus, words, started, load_before, elapsed) -> str:
    by_name = {}
    for rec in runs:
        by_name.setdefault(rec["name"], []).append(rec)
    rows, medians = [], {}
    for name, recs in by_name.items():
        rec = sorted(recs, key=lambda r: r["wall_s"])[len(recs) // 2]   # the median wall time
        medians[name] = rec
        rows.append([name, rec["processes"], f"{rec['sync_words']:,}" if rec["sync_words"] else "-",
                     f"{rec['alpha_per_process']:.3f}", f"{rec['words_per_s']:,.0f}",
                     f"{rec['train_words_per_s']:,.0f}", f"{rec['wall_s']:.2f}", f"{rec['cpu_s']:.1f}",
                     f"{rec['syncs']} x {rec['sync_mb']:.0f} MB, {rec['sync_s']:.2f}s" if rec["syncs"] else "-",
                     f"{100 * rec['analogy']:.2f}", f"{rec['ws353']:.4f}", f"{rec['simlex']:.4f}", len(recs)])
    header = ["run", "processes", "sync every (words per process)", "alpha per process", "words/s (whole process)",
              "words/s (training)", "wall s", "cpu s", "syncs (rank 0: count x size, time incl. waiting)",
              "analogy %", "WS-353", "SimLex", "runs"]
    table = _common.markdown_table(header, rows, "lrrrrrrrlrrrr")
    one, many = medians.get("1 process"), medians.get(f"{args.world} processes")
    summary = ""
    if one and many:
        whole = many["words_per_s"] / one["words_per_s"]
        training = many["train_words_per_s"] / one["train_words_per_s"]
        summary = (f"\n{args.world} processes vs 1 (median runs): whole process {whole:.2f}x words/s, training phase "
                   f"{training:.2f}x; analogy {100 * (many['analogy'] - one['analogy']):+.2f} points, WS-353 "
                   f"{many['ws353'] - one['ws353']:+.4f}.\n")
    versions = _common.python_versions(sys.executable, ("torch", "numpy", "w2v_ext"))
    meta = _common.metadata(versions, started, {
        "load average at start": load_before,
        "corpus": f"`{corpus}`, {words:,} words",
        "settings": f"sg, dim {args.dim}, window 5, negative 5, sample 0.001, min_count 5, epochs {args.epochs}, "
                    f"1 thread per process, seed 1; alpha 0.025 x the process count unless noted",
        "launcher": "`python -m torch.distributed.run --nproc-per-node N --master-addr 127.0.0.1 --master-port P "
                    "-m w2v_ext train ...` (gloo)",
        "repeats": f"{args.repeat} interleaved for the first two rows (the median wall time shown), "
                   f"once for the others",
        "wall time": f"{elapsed:.0f}s"})
    notes = ("words/s (whole process): corpus words x epochs / wall time from start to exit (torchrun's start-up, "
             "every rank's `import torch`, the vocabulary, training, writing). words/s (training): the trainer's "
             "own rate over its training phase (rank 0's clock, all ranks' words). Analogy: 3CosAdd accuracy over "
             "the 30000 most frequent words; WS-353 / SimLex-999: Spearman (shared evaluate.py). Rows with more "
             "processes than cores measure quality only.")
    return (f"# dist_bench{' (quick)' if args.quick else ''}\n\n{meta}\n{notes}\n\n{table}{summary}\n"
            f"## Raw\n\n```json\n" + "\n".join(json.dumps(r) for r in runs) + "\n```\n")


if __name__ == "__main__":
    sys.exit(main())
