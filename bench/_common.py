"""Helpers shared by the benchmark scripts: run metadata and the results file.

Deliberately imports nothing heavy (no numpy, no torch): train_bench.py keeps its own
process small because a child's ru_maxrss can inherit the parent's peak.
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import subprocess
import sys
from typing import Dict, List, Optional

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_DIR = os.path.dirname(BENCH_DIR)
RESULTS_DIR = os.path.join(BENCH_DIR, "results")


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Each option's help ends with its default, except a None one (the help says it)."""

    def _get_help_string(self, action):
        return action.help if action.default is None else super()._get_help_string(action)


def _run(cmd: List[str], cwd: Optional[str] = None) -> str:
    try:
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine() -> Dict[str, str]:
    """CPU model and core counts from lscpu (falling back to platform), and total memory."""
    info = {}
    for line in _run(["lscpu"]).splitlines():
        key, _, value = line.partition(":")
        info[key.strip()] = value.strip()
    mem_gib = ""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_gib = f"{int(line.split()[1]) / 2 ** 20:.1f} GiB"
                    break
    except OSError:
        pass
    sockets = info.get("Socket(s)", "")
    cores_per_socket = info.get("Core(s) per socket", "")
    try:
        cores = str(int(sockets) * int(cores_per_socket))
    except ValueError:
        cores = ""
    return {
        "cpu_model": info.get("Model name") or platform.processor() or platform.machine(),
        "cpus": info.get("CPU(s)") or str(os.cpu_count()),
        "cores": cores,
        "threads_per_core": info.get("Thread(s) per core", ""),
        "hypervisor": info.get("Hypervisor vendor", ""),
        "memory": mem_gib,
        "os": platform.platform(),
    }


def git_commit() -> str:
    """HEAD's hash, with '+dirty' when tracked files differ from it."""
    head = _run(["git", "rev-parse", "HEAD"], cwd=REPO_DIR) or "unknown"
    dirty = _run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_DIR)
    return head + ("+dirty" if dirty else "")


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return ""


def python_versions(python: str = sys.executable, modules=("torch", "numpy")) -> Dict[str, str]:
    """Versions of `modules` as seen by `python` (a subprocess, so this process stays small)."""
    code = ("import importlib, importlib.metadata, json, sys\nout = {'python': sys.version.split()[0]}\n"
            f"for m in {list(modules)!r}:\n"
            "    try:\n        mod = importlib.import_module(m)\n"
            "    except Exception:\n        out[m] = 'not importable'\n        continue\n"
            "    out[m] = getattr(mod, '__version__', None)\n"
            "    for dist in (m, m + '-wheel'):\n"
            "        if out[m] is None:\n"
            "            try:\n                out[m] = importlib.metadata.version(dist)\n"
            "            except Exception:\n                pass\n"
            "    out[m] = out[m] or 'installed'\n"
            "print(json.dumps(out))")
    import json
    text = _run([python, "-c", code])
    try:
        return json.loads(text.splitlines()[-1])
    except (ValueError, IndexError):
        return {m: "unknown" for m in modules}


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).astimezone()


def command_line() -> str:
    return shlex.join([os.path.basename(sys.executable)] + sys.argv)


def metadata(versions: Dict[str, str], started: datetime.datetime, extra: Optional[Dict[str, str]] = None) -> str:
    """The markdown header every results file starts with."""
    m = machine()
    rows = [
        ("command", f"`{command_line()}` (in `{os.getcwd()}`)"),
        ("date", f"{started.isoformat(timespec='seconds')} to {now().isoformat(timespec='seconds')}"),
        ("machine", f"{m['cpu_model']}, {m['cores'] or '?'} cores / {m['cpus']} CPUs"
                    f"{', ' + m['threads_per_core'] + ' thread(s) per core' if m['threads_per_core'] else ''}"
                    f"{', ' + m['hypervisor'] + ' guest' if m['hypervisor'] else ''}, {m['memory']} RAM"),
        ("os", m["os"]),
        ("git commit", f"`{git_commit()}`"),
        ("versions", ", ".join(f"{k} {v}" for k, v in versions.items())),
        ("load average at end", load_average()),
    ]
    rows += list((extra or {}).items())
    return "\n".join(f"- **{k}**: {v}" for k, v in rows) + "\n"


def results_path(results_dir: str, name: str, started: datetime.datetime, label: str = "",
                 quick: bool = False) -> str:
    stamp = started.strftime("%Y%m%d-%H%M%S")
    parts = [name, stamp] + ([_slug(label)] if label else []) + (["quick"] if quick else [])
    os.makedirs(results_dir, exist_ok=True)
    return os.path.join(results_dir, "-".join(parts) + ".md")


def save_results(args, name: str, started: datetime.datetime, markdown: str) -> Optional[str]:
    """Write a benchmark's markdown report to args.results_dir (see results_path), unless
    args.no_save; written to a temporary name, then renamed. Returns the path or None."""
    if args.no_save:
        return None
    path = results_path(args.results_dir, name, started, args.label, args.quick)
    with open(path + ".tmp", "w") as f:
        f.write(markdown)
    os.replace(path + ".tmp", path)
    print(f"wrote {path}")
    return path


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "._" else "_" for c in text).strip("_")[:60] or "run"


def markdown_table(header: List[str], rows: List[List[str]], align: Optional[str] = None) -> str:
    """A GitHub markdown table; `align` is one of l/r per column (default: first l, rest r)."""
    align = align or "l" + "r" * (len(header) - 1)
    sep = ["---:" if a == "r" else ":---" for a in align]
    lines = [header, sep] + rows
    return "\n".join("| " + " | ".join(str(c) for c in line) + " |" for line in lines) + "\n"


def geomean(values) -> Optional[float]:
    import math
    values = [v for v in values if v is not None and v > 0]
    if not values:
        return None
    return math.exp(sum(math.log(v) for v in values) / len(values))


def median(values) -> Optional[float]:
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    n = len(values)
    return values[n // 2] if n % 2 else 0.5 * (values[n // 2 - 1] + values[n // 2])
