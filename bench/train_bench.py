#!/usr/bin/env python3
"""Train word vectors on one corpus with our trainer and the peer implementations,
with the same settings and in the same run, time each whole process and score every
vector file.

Each system runs through the shared peer runner (`<shared>/bench/run_peers.py`, one
process per system and run): it times the whole process (vocabulary scan, training,
saving binary vectors) and reports corpus words per second of that wall time, CPU time
and peak RSS, then scores the vectors with `<shared>/bench/evaluate.py` (analogy
accuracy over the 30000 most frequent words, WS-353 and SimLex-999 Spearman).

Systems: w2v_ext (our CLI, `python -m w2v_ext train ...`, with its default recipe),
w2v_ext_gensim_recipe (the same with gensim 4's departures from that recipe: --min-alpha
set to where gensim's learning rate actually ends and --init-range 1.0, see
GENSIM_RECIPE_VARIANT below; run when gensim runs with 2+ threads), gensim and fasttext
(PyPI; installed into bench/.peers-venv when missing), word2vec.c and pWord2Vec (only
when the W2VC / PW2V environment variables name their binaries; pWord2Vec is
skip-gram only). With --repeat N every system runs N times, interleaved (the order
rotates each round), and the run with the median wall time is reported; the machine
is shared, so single timings are noisy.

    python bench/train_bench.py                 # full corpus, sg and cbow, every peer found
    python bench/train_bench.py --quick         # a 2M-word slice, for checking the set-up
    python bench/train_bench.py --repeat 3 --label alpha075 --ours-args "--alpha 0.075"

The last lines printed are one JSON object per (system, model). A markdown report goes
to bench/results/. This process imports neither numpy nor torch and stays small: a
child's ru_maxrss can inherit its parent's peak.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402

ALL_SYSTEMS = ("w2v_ext", "w2v_ext_gensim_recipe", "gensim", "fasttext", "word2vec.c", "pWord2Vec")
# gensim 4.4's corpus_file mode stops each worker's learning-rate clock at its share of
# the words (word2vec_corpusfile.pyx: a worker trains while total_words <= expected_words
# / workers, and get_next_alpha's progress is (epoch + total_words / expected_words) /
# epochs), so with W workers and E epochs each epoch's rate falls only 1/W of its way and
# the last ends at alpha - (alpha - min_alpha) * (E - 1 + 1/W) / E; and its input vectors
# start uniform in +-1/dim (keyedvectors.prep_vectors), word2vec.c's in +-0.5/dim. The
# w2v_ext_gensim_recipe row runs our trainer with both (--min-alpha at that end, linear
# over all epochs, and --init-range 1.0).
GENSIM_RECIPE_VARIANT = "w2v_ext_gensim_recipe"
GENSIM_INIT_RANGE = 1.0
PIP_PEERS = {"gensim": "gensim", "fasttext": "fasttext-wheel"}   # peer -> PyPI package
BINARY_PEERS = {"word2vec.c": "W2VC", "pWord2Vec": "PW2V"}       # peer -> environment variable
DEFAULT_VENV = os.path.join(_common.BENCH_DIR, ".peers-venv")
OURS_TEMPLATE = ("{python} -m w2v_ext train '{corpus}' -o '{out}' --model {model} --dim {dim} --window {window} "
                 "--negative {negative} --sample {sample} --min-count {min_count} --epochs {epochs} "
                 "--threads {threads} --alpha {alpha} --quiet")   # + --seed <repeat number>
# not asserted; reported against gensim measured in the same run
TARGETS = {"sg": {"speed": 4.5}, "cbow": {"speed": 1.5}, "analogy_points_below": 1.0, "ws353_below": 0.02,
           "max_rss_bytes": 0.35e9}


def find_shared_dir(given):
    if given:
        return os.path.abspath(given)
    for cand in (os.path.join(_common.REPO_DIR, "..", "shared"), "/work/shared"):
        if os.path.isfile(os.path.join(cand, "bench", "run_peers.py")):
            return os.path.abspath(cand)
    return "/work/shared"


def slice_corpus(src: str, dst: str, n_words: int) -> int:
    """Copy the first n_words whitespace-separated words of src to dst (line breaks
    kept), reading 1 MiB at a time. Returns the number of words written."""
    written, tail = 0, b""
    with open(src, "rb") as f, open(dst, "wb") as out:
        while written < n_words:
            chunk = f.read(1 << 20)
            buf = tail + chunk
            if not chunk:
                body, tail = buf, b""
            else:
                cut = max(buf.rfind(b" "), buf.rfind(b"\n"), buf.rfind(b"\t")) + 1  # keep a cut word for later
                body, tail = buf[:cut], buf[cut:]
            count = len(body.split())
            if written + count <= n_words:
                out.write(body)
                written += count
            else:
                for i, m in enumerate(re.finditer(rb"\S+", body)):
                    if i == n_words - written - 1:
                        out.write(body[:m.end()])
                        break
                written = n_words
            if not chunk:
                break
        out.write(b"\n")
    return written


def ensure_peer_python(args, wanted, notes):
    """A python that imports the wanted pip peers: --peer-python, $PEER_PY, or the bench
    venv (created and filled with pip when missing). Returns (python or None, versions)."""
    if not wanted:
        return None, {}
    modules = tuple(wanted)
    explicit = args.peer_python or os.environ.get("PEER_PY")
    candidates = [explicit] if explicit else [os.path.join(args.peers_venv, "bin", "python")]
    py = candidates[0]
    if not explicit and not args.no_install:
        if not os.path.exists(py):
            print(f"creating {args.peers_venv} for the peers", flush=True)
            r = subprocess.run([sys.executable, "-m", "venv", args.peers_venv])
            if r.returncode != 0:
                notes.append(f"python -m venv {args.peers_venv} failed (exit {r.returncode})")
        versions = _common.python_versions(py, modules)
        missing = [m for m in modules if versions.get(m) in ("not importable", "unknown", None)]
        if missing:
            pkgs = [PIP_PEERS[m] for m in missing]
            print(f"installing {' '.join(pkgs)} into {args.peers_venv}", flush=True)
            r = subprocess.run([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"] + pkgs)
            if r.returncode != 0:
                notes.append(f"pip install {' '.join(pkgs)} failed (exit {r.returncode})")
    if not os.path.exists(py):
        notes.append(f"no peer python at {py}: {', '.join(modules)} skipped")
        return None, {}
    versions = _common.python_versions(py, modules + ("numpy",))
    return py, versions


def gensim_end_alpha(model: str, workers: int, epochs: int) -> float:
    """Where gensim's corpus_file schedule ends with `workers` workers and `epochs` epochs
    (run_peers gives it alpha 0.025 / 0.05 and min_alpha = alpha * 1e-4)."""
    alpha = 0.025 if model == "sg" else 0.05
    return alpha - (alpha - alpha * 1e-4) * (epochs - 1 + 1 / workers) / epochs


def run_one(args, run_peers, corpus, out_dir, system, model, env, seed: int):
    """One system, one model, through run_peers.py. Returns its JSON record. Our trainer
    gets `seed` (each repeat its own: with few threads one seed barely varies between
    runs, while the peers vary through their threads' races)."""
    peer = system
    env = dict(env, W2V_EXT_CMD=env["W2V_EXT_CMD"] + f" --seed {seed}")
    if system == GENSIM_RECIPE_VARIANT:
        peer = "w2v_ext"
        end = gensim_end_alpha(model, args.threads, args.epochs)
        env = dict(env, W2V_EXT_CMD=env["W2V_EXT_CMD"] + f" --min-alpha {end:.6g} --init-range {GENSIM_INIT_RANGE:g}")
    cmd = [sys.executable, run_peers, corpus, "--model", model, "--dim", str(args.dim), "--window",
           str(args.window), "--negative", str(args.negative), "--sample", str(args.sample), "--min-count",
           str(args.min_count), "--epochs", str(args.epochs), "--threads", str(args.threads), "--binary", "1",
           "--peers", peer, "--eval-data", args.eval_data, "--out", out_dir]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return {"peer": system, "model": model, "error": f"timed out after {args.timeout}s"}
    recs = []
    for line in p.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                recs.append(json.loads(line))
            except ValueError:
                pass
    recs = [r for r in recs if r.get("peer") == peer]
    if recs:
        return dict(recs[-1], peer=system)
    tail = (p.stderr or p.stdout or "no output").strip().splitlines()[-3:]
    return {"peer": system, "model": model, "error": f"run_peers exit {p.returncode}: " + " | ".join(tail)}


def flatten(rec):
    """run_peers' record -> the fields we report."""
    if "wall_s" not in rec:  # training failed
        return {"error": rec.get("error", "no result")}
    out = {k: rec.get(k) for k in ("wall_s", "cpu_s", "max_rss_mb", "words_per_s", "corpus_words", "vocab")}
    out["analogy"] = (rec.get("analogy") or {}).get("accuracy")
    for key in ("ws353", "simlex"):
        out[key] = (rec.get(key) or {}).get("spearman")
    if "note" in rec:
        out["note"] = rec["note"]
    if "error" in rec:  # trained, but evaluate.py failed
        out["eval_error"] = rec["error"]
    return out


def aggregate(runs):
    """The run with the median wall time of one (system, model), plus the spread."""
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return {"error": runs[-1]["error"] if runs else "not run"}
    ok_sorted = sorted(ok, key=lambda r: r["wall_s"])
    med = ok_sorted[(len(ok_sorted) - 1) // 2]  # the lower median: an actual run
    out = dict(med)
    out["runs"] = len(ok)
    out["failed_runs"] = len(runs) - len(ok)
    out["wall_s_all"] = [r["wall_s"] for r in ok]
    for key in ("analogy", "ws353", "simlex"):
        out[f"{key}_all"] = [r[key] for r in ok]
    out["max_rss_mb_max"] = max(r["max_rss_mb"] for r in ok)
    return out


def pct(x):
    return "-" if x is None else f"{100 * x:.2f}"


def num(x, spec):
    return "-" if x is None else format(x, spec)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=_common.HelpFormatter)
    ap.add_argument("--shared-dir", default=None,
                    help="holds bench/run_peers.py, bench/evaluate.py, data/ (default: ../shared next to the "
                         "repo, else /work/shared)")
    ap.add_argument("--corpus", default=None, help="default: <shared>/data/enwiki_text8style.txt")
    ap.add_argument("--eval-data", default=None, help="default: <shared>/data/eval")
    ap.add_argument("--models", default="sg,cbow")
    ap.add_argument("--peers", default=",".join(ALL_SYSTEMS),
                    help="systems to run (w2v_ext is ours); missing binary peers are skipped with a note")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs per system, interleaved; the run with the median wall time is kept (with an even "
                         "count, the faster of the middle two): prefer an odd count")
    ap.add_argument("--quick", action="store_true", help="train on a slice of the corpus (see --quick-words)")
    ap.add_argument("--quick-words", type=int, default=2_000_000)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--window", type=int, default=5)
    ap.add_argument("--negative", type=int, default=5)
    ap.add_argument("--sample", type=float, default=1e-3)
    ap.add_argument("--min-count", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ours-cmd", default=OURS_TEMPLATE,
                    help="shell template for our trainer; run_peers fills {corpus} {out} {model} {dim} {window} "
                         "{negative} {sample} {min_count} {epochs} {threads} {alpha} {sg} {binary}; {python} is "
                         "this interpreter")
    ap.add_argument("--ours-args", default="", help='extra flags for our trainer, e.g. "--alpha 0.075" '
                                                    "(appended, so they win over the template's)")
    ap.add_argument("--label", default="", help="a name for this run (results file name and report)")
    ap.add_argument("--peers-venv", default=DEFAULT_VENV, help="virtual environment for gensim and fasttext")
    ap.add_argument("--peer-python", default=None, help="use this python for gensim/fasttext instead "
                                                         "(default: $PEER_PY, else the venv)")
    ap.add_argument("--no-install", action="store_true", help="never create the venv or pip install")
    ap.add_argument("--out-dir", default=None,
                    help="keep the vector files in a new folder under this one (default: a temp dir, removed)")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds allowed per run")
    ap.add_argument("--results-dir", default=_common.RESULTS_DIR)
    ap.add_argument("--no-save", action="store_true", help="do not write the markdown report")
    argv = list(sys.argv[1:] if argv is None else argv)
    for i, arg in enumerate(argv[:-1]):  # `--ours-args --flag` would read --flag as one of ours
        if arg in ("--ours-args", "--ours-cmd"):
            argv[i:i + 2] = [f"{arg}={argv[i + 1]}"]
            break
    args = ap.parse_args(argv)

    started = _common.now()
    t_start = time.perf_counter()
    shared = find_shared_dir(args.shared_dir)
    run_peers = os.path.join(shared, "bench", "run_peers.py")
    evaluate = os.path.join(shared, "bench", "evaluate.py")
    for path in (run_peers, evaluate):
        if not os.path.isfile(path):
            ap.error(f"{path} not found (set --shared-dir)")
    args.corpus = os.path.abspath(args.corpus or os.path.join(shared, "data", "enwiki_text8style.txt"))
    args.eval_data = os.path.abspath(args.eval_data or os.path.join(shared, "data", "eval"))
    if not os.path.isfile(args.corpus):
        ap.error(f"corpus {args.corpus} not found")
    models = [m for m in args.models.split(",") if m]
    for m in models:
        if m not in ("sg", "cbow"):
            ap.error(f"unknown model {m!r} (sg, cbow)")
    systems = [s for s in args.peers.split(",") if s]
    for s in systems:
        if s not in ALL_SYSTEMS:
            ap.error(f"unknown system {s!r} (one of {', '.join(ALL_SYSTEMS)})")

    notes = []
    env = dict(os.environ)
    for peer, var in BINARY_PEERS.items():
        if peer in systems:
            path = os.environ.get(var)
            if not path or not os.access(path, os.X_OK):
                notes.append(f"{peer} skipped: set {var} to its binary" + (f" ({path} is not executable)"
                                                                            if path else ""))
                systems.remove(peer)
            else:
                notes.append(f"{peer}: {var}={path} (sha256 {_file_sha256(path)[:16]}; built outside this project)")
    if GENSIM_RECIPE_VARIANT in systems and (args.threads < 2 or "gensim" not in systems):
        notes.append(f"{GENSIM_RECIPE_VARIANT} not run: it matches gensim's schedule with 2+ workers")
        systems.remove(GENSIM_RECIPE_VARIANT)
    peer_py, peer_versions = ensure_peer_python(args, [s for s in systems if s in PIP_PEERS], notes)
    for peer in [s for s in systems if s in PIP_PEERS]:
        if peer_py is None or peer_versions.get(peer) in (None, "not importable", "unknown"):
            notes.append(f"{peer} skipped: not importable by {peer_py or 'any peer python'}")
            systems.remove(peer)
    if peer_py:
        env["PEER_PY"] = peer_py
    ours_cmd = args.ours_cmd.replace("{python}", shlex.quote(sys.executable))
    if args.ours_args:
        # run_peers calls str.format on the template: keep braces in the extra flags literal
        ours_cmd += " " + args.ours_args.replace("{", "{{").replace("}", "}}")
    env["W2V_EXT_CMD"] = ours_cmd

    work = tempfile.mkdtemp(prefix="train_bench-")
    out_dir = work
    if args.out_dir:
        # a new folder per run: run_peers reuses any gensim_input_wrapped.txt it finds there
        out_dir = os.path.join(os.path.abspath(args.out_dir), "-".join(
            [started.strftime("%Y%m%d-%H%M%S")] + ([args.label] if args.label else [])).replace("/", "_"))
        os.makedirs(out_dir, exist_ok=True)
    corpus = args.corpus
    if args.quick:
        corpus = os.path.join(work, f"quick_{args.quick_words}.txt")
        n = slice_corpus(args.corpus, corpus, args.quick_words)
        print(f"quick: first {n} words of {args.corpus} -> {corpus}", flush=True)
    for note in notes:
        print(f"note: {note}", flush=True)
    print(f"systems: {', '.join(systems)}; models: {', '.join(models)}; repeat {args.repeat}", flush=True)
    print(f"ours: {ours_cmd}", flush=True)
    if args.out_dir:
        print(f"vectors kept in {out_dir}", flush=True)

    runs = {}   # (system, model) -> [flattened record]
    try:
        for r in range(args.repeat):
            order = systems[r % len(systems):] + systems[:r % len(systems)] if systems else []
            for model in models:
                for system in order:
                    if system == "pWord2Vec" and model != "sg":
                        continue
                    rec = flatten(run_one(args, run_peers, corpus, out_dir, system, model, env, seed=r + 1))
                    runs.setdefault((system, model), []).append(rec)
                    if "error" in rec:
                        print(f"  [{r + 1}/{args.repeat}] {model:4s} {system:10s} ERROR {rec['error'][-400:]}",
                              flush=True)
                        continue
                    if "eval_error" in rec:
                        print(f"  [{r + 1}/{args.repeat}] {model:4s} {system:10s} evaluate.py failed: "
                              f"{rec['eval_error'][-300:]}", flush=True)
                    print(f"  [{r + 1}/{args.repeat}] {model:4s} {system:10s} {rec['words_per_s']:>10,} words/s "
                          f"wall {rec['wall_s']:7.2f}s  rss {rec['max_rss_mb']:5} MB  analogy "
                          f"{pct(rec['analogy'])}%  ws353 {num(rec['ws353'], '.4f')}  simlex "
                          f"{num(rec['simlex'], '.4f')}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # the quick slice, and the vectors unless --out-dir

    if "pWord2Vec" in systems and "cbow" in models:
        notes.append("pWord2Vec is skip-gram only: not run for cbow")
    results = summarize(runs, models, args)
    elapsed = time.perf_counter() - t_start
    versions = _common.python_versions(sys.executable, ("torch", "numpy", "scipy", "w2v_ext"))
    versions.update({f"peer {k}": v for k, v in peer_versions.items() if k != "python"})
    md, table = render(args, results, models, notes, versions, started, elapsed, ours_cmd, corpus)
    print()
    print(table)
    path = _common.save_results(args, "train_bench", started, md)
    for rec in results:
        print(json.dumps(dict(rec, label=args.label, quick=args.quick, results_file=path)), flush=True)
    return 0


def summarize(runs, models, args):
    out = []
    for model in models:
        agg = {s: aggregate(rs) for (s, m), rs in runs.items() if m == model}
        gensim = agg.get("gensim", {})
        for system, a in agg.items():
            rec = {"system": system, "model": model}
            for key in ("words_per_s", "analogy", "ws353", "simlex", "max_rss_mb", "wall_s", "cpu_s",
                        "corpus_words", "vocab"):
                rec[key] = a.get(key)
            ok = "error" not in a and "error" not in gensim and gensim
            rec["ratio_to_gensim"] = round(a["words_per_s"] / gensim["words_per_s"], 3) if ok else None
            for key in ("analogy", "ws353", "simlex"):
                rec[f"{key}_minus_gensim"] = (round(a[key] - gensim[key], 4)
                                              if ok and a.get(key) is not None and gensim.get(key) is not None
                                              else None)
            rec.update({k: a[k] for k in ("runs", "failed_runs", "wall_s_all", "analogy_all", "ws353_all",
                                          "simlex_all", "max_rss_mb_max", "note", "eval_error") if k in a})
            if "error" in a:
                rec["error"] = a["error"]
            rec["settings"] = {k: getattr(args, k) for k in ("dim", "window", "negative", "sample", "min_count",
                                                             "epochs", "threads")}
            if system in ("w2v_ext", GENSIM_RECIPE_VARIANT):
                rec["ours_args"] = args.ours_args
                if system == GENSIM_RECIPE_VARIANT:
                    rec["min_alpha"] = round(gensim_end_alpha(model, args.threads, args.epochs), 8)
                    rec["init_range"] = GENSIM_INIT_RANGE
                rec["targets"] = check_targets(rec, model)
            out.append(rec)
    return out


def _file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_targets(rec, model):
    """Our numbers against the targets (gensim measured in the same run); None = unknown."""
    def met(cond):
        return None if cond is None else bool(cond)
    t = {}
    ratio = rec.get("ratio_to_gensim")
    t["speed"] = {"target": f">= {TARGETS[model]['speed']}x gensim", "value": ratio,
                  "met": met(None if ratio is None else ratio >= TARGETS[model]["speed"])}
    d = rec.get("analogy_minus_gensim")
    t["analogy"] = {"target": f">= gensim - {TARGETS['analogy_points_below']} point",
                    "value_points": None if d is None else round(100 * d, 2),
                    "met": met(None if d is None else 100 * d >= -TARGETS["analogy_points_below"] - 1e-9)}
    d = rec.get("ws353_minus_gensim")
    t["ws353"] = {"target": f">= gensim - {TARGETS['ws353_below']}", "value": d,
                  "met": met(None if d is None else d >= -TARGETS["ws353_below"] - 1e-9)}
    rss = rec.get("max_rss_mb_max")
    limit_mb = TARGETS["max_rss_bytes"] / 2 ** 20
    t["memory"] = {"target": f"<= 0.35 GB ({limit_mb:.0f} MiB)", "value_mb": rss,
                   "met": met(None if rss is None else rss <= limit_mb)}
    return t


def render(args, results, models, notes, versions, started, elapsed, ours_cmd, corpus):
    header = ["model", "system", "words/s", "x gensim", "wall s", "cpu s", "peak RSS MB", "analogy %", "WS-353",
              "SimLex", "runs"]
    rows = []
    for r in results:
        if "error" in r:
            rows.append([r["model"], r["system"], "error", "-", "-", "-", "-", "-", "-", "-",
                         f"{r.get('runs', 0)}"])
            continue
        rows.append([r["model"], r["system"], f"{r['words_per_s']:,}",
                     "-" if r["ratio_to_gensim"] is None else f"{r['ratio_to_gensim']:.2f}x",
                     num(r["wall_s"], ".2f"), num(r["cpu_s"], ".2f"), r["max_rss_mb_max"], pct(r["analogy"]),
                     num(r["ws353"], ".4f"), num(r["simlex"], ".4f"), r["runs"]])
    table = _common.markdown_table(header, rows, "llrrrrrrrrr")
    words = next((r["corpus_words"] for r in results if r.get("corpus_words")), None)
    lines = [f"# train_bench{': ' + args.label if args.label else ''}{' (--quick)' if args.quick else ''}", "",
             _common.metadata(versions, started, {
                 "corpus": f"`{args.corpus}`" + (f", first {args.quick_words} words (`--quick`)" if args.quick
                                                 else "") + (f", {words:,} words" if words else ""),
                 "settings": f"dim {args.dim}, window {args.window}, negative {args.negative}, sample "
                             f"{args.sample}, min_count {args.min_count}, epochs {args.epochs}, threads "
                             f"{args.threads}; alpha 0.025 (sg) / 0.05 (cbow) unless --ours-args overrides ours",
                 "our command": f"`{ours_cmd}`",
                 "repeats": f"{args.repeat} per system, interleaved, ours with --seed 1..{args.repeat}; the run with "
                            "the median wall time is shown (peak RSS: the largest over the runs)",
                 "wall time": f"{elapsed:.0f}s"}), "",
             "words/s: corpus words x epochs per second of the whole process (vocabulary, training, saving). "
             "Analogy: 3CosAdd accuracy over the 30000 most frequent words; WS-353 / SimLex-999: Spearman. "
             "Scored by the shared evaluate.py.", "", table]
    ours = [r for r in results if "targets" in r]
    if ours:
        lines += ["## Targets (w2v_ext vs gensim in this run; not asserted)", ""]
        for r in ours:
            t = r["targets"]
            parts = [f"speed {num(t['speed']['value'], '.2f')}x ({t['speed']['target']}): {_met(t['speed'])}",
                     f"analogy {num(t['analogy']['value_points'], '+.2f')} points ({t['analogy']['target']}): "
                     f"{_met(t['analogy'])}",
                     f"WS-353 {num(t['ws353']['value'], '+.4f')} ({t['ws353']['target']}): {_met(t['ws353'])}",
                     f"peak RSS {t['memory']['value_mb']} MB ({t['memory']['target']}): {_met(t['memory'])}"]
            who = ("" if r["system"] == "w2v_ext" else
                   f" ({r['system']}, --min-alpha {r['min_alpha']:g} --init-range {r['init_range']:g})")
            lines.append(f"- **{r['model']}**{who}: " + "; ".join(parts))
        lines.append("")
    if notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    lines += ["## Raw", "", "```json"] + [json.dumps(r) for r in results] + ["```", ""]
    return "\n".join(lines), table


def _met(t):
    return {True: "met", False: "**missed**", None: "unknown"}[t["met"]]


if __name__ == "__main__":
    sys.exit(main())
