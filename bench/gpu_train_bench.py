#!/usr/bin/env python3
"""GPU trainer benchmark: reading and counting speed, training throughput of the CUDA
trainer (skip-gram and CBOW) against the CPU trainer at the same settings, vector
quality of both, and the device-memory traffic behind the throughput.

    python bench/gpu_train_bench.py --corpus .carry/enwiki_text8style.txt.xz --eval-dir .carry/eval --out OUT

Training throughput counts corpus words x epochs over the time of the training loop
(vocabulary built and device initialised before the clock starts); the whole run's
wall time is reported beside it. A compressed corpus is unpacked to local disk first.
The last line is one JSON object with every figure.
"""
from __future__ import annotations

import argparse
import json
import lzma
import os
import shutil
import sys
import tempfile
import time

from w2v_ext.corpus import BLOCK_BYTES, Corpus
from w2v_ext.trainer import Word2Vec
from w2v_ext.vectors import KeyedVectors
from w2v_ext.vocab import count_words


def unpack(path: str, into: str) -> str:
    if not path.endswith(".xz"):
        return path
    out = os.path.join(into, os.path.basename(path)[:-3])
    with lzma.open(path, "rb") as src, open(out, "wb") as dst:
        shutil.copyfileobj(src, dst, 16 << 20)
    return out


def encode_rate(corpus: str, threads: int) -> dict:
    """Corpus words per second of the reader that feeds the trainer (read, tokenise, look up,
    cut sentences), in the GPU trainer's block size, with `threads` and with 1 thread."""
    from w2v_ext import _native
    m = Word2Vec(min_count=5, progress=False)
    m.build_vocab(corpus)
    blocks = list(Corpus(corpus).blocks(8 * BLOCK_BYTES))
    out = {}
    for n in (threads, 1):
        encoder = _native.cpu.CorpusEncoder(m.vocab.native_index, 1000)
        t = time.perf_counter()
        for i, block in enumerate(blocks):
            encoder.encode(block, last=i == len(blocks) - 1, threads=n)
        out["words_per_s" if n == threads else "words_per_s_1_thread"] = encoder.words_read / (time.perf_counter() - t)
    out["threads"] = threads
    return out


def copy_bandwidth_gb_s() -> float:
    """Device-to-device copy bandwidth (bytes read + written per second), via torch."""
    import torch
    a = torch.empty(1 << 28, dtype=torch.uint8, device="cuda")
    b = torch.empty_like(a)
    for _ in range(3):
        b.copy_(a)
    torch.cuda.synchronize()
    t = time.perf_counter()
    reps = 20
    for _ in range(reps):
        b.copy_(a)
    torch.cuda.synchronize()
    return 2 * a.numel() * reps / (time.perf_counter() - t) / 1e9


def quality(kv: KeyedVectors, eval_dir: str) -> dict:
    out = {"analogy": kv.evaluate_analogies(os.path.join(eval_dir, "questions-words.txt"))["accuracy"]}
    for name, file in (("ws353", "wordsim353.tsv"), ("simlex", "simlex999.txt")):
        out[name] = kv.evaluate_word_pairs(os.path.join(eval_dir, file))["spearman"]
    return out


def bytes_per_kept_word(model: Word2Vec) -> float:
    """Device-memory bytes behind one trained (kept) centre word, counting each row the
    kernel touches as read once and written once (repeat reads within a centre hit the
    cache): ~2 * window context rows (a reach uniform in [1, window] on both sides
    averages window + 1 rows) and 1 + negative target rows, padded to 4 floats."""
    s = model.settings
    row_bytes = ((s.dim + 3) // 4 * 4) * 4
    return 2 * row_bytes * ((s.window + 1) + (1 + s.negative))


def run(model_name: str, device: str, corpus: str, epochs: int, threads: int) -> dict:
    m = Word2Vec(model=model_name, dim=100, window=5, negative=5, sample=1e-3, min_count=5, epochs=epochs,
                 threads=threads, seed=1, device=device, progress=False)
    t0 = time.perf_counter()
    m.build_vocab(corpus)
    t_vocab = time.perf_counter() - t0
    stats = m.train(corpus)
    wall = time.perf_counter() - t0
    kept = sum(h["words_kept"] for h in m.history)
    return {"model": model_name, "device": device, "epochs": epochs, "vocab": len(m.vocab),
            "vocab_s": round(t_vocab, 2), "train_s": round(stats["seconds"], 2), "wall_s": round(wall, 2),
            "train_words_per_s": stats["corpus_words"] / stats["seconds"], "kept_words": kept,
            "kept_per_s": kept / stats["seconds"], "bytes_per_kept_word": bytes_per_kept_word(m),
            "kv": m.wv}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--eval-dir", required=True)
    ap.add_argument("--out", default=".")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--cpu-threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--skip-cpu", action="store_true", help="no CPU trainer runs (quality reference)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="w2v_gpu_bench_")
    results = {}
    try:
        corpus = unpack(a.corpus, tmp)
        words = None
        t = time.perf_counter()
        counter = count_words(Corpus(corpus), threads=a.cpu_threads)
        count_s = time.perf_counter() - t
        words = counter.total_words
        results["count"] = {"words": words, "seconds": round(count_s, 3), "words_per_s": words / count_s,
                            "threads": a.cpu_threads}
        print(f"reading + counting: {words} words in {count_s:.2f}s = {words / count_s / 1e6:.1f}M words/s "
              f"({a.cpu_threads} threads)", flush=True)
        results["encode"] = encode_rate(corpus, a.cpu_threads)
        print(f"reading + encoding to ids (the trainer's reader): {results['encode']['words_per_s'] / 1e6:.1f}M "
              f"words/s ({a.cpu_threads} threads; 1 thread: {results['encode']['words_per_s_1_thread'] / 1e6:.1f}M)",
              flush=True)
        bandwidth = copy_bandwidth_gb_s()
        results["copy_bandwidth_gb_s"] = round(bandwidth, 1)
        print(f"device copy bandwidth: {bandwidth:.0f} GB/s", flush=True)
        rows = []
        for model_name in ("sg", "cbow"):
            devices = ["cuda"] + ([] if a.skip_cpu else ["cpu"])
            for device in devices:
                r = run(model_name, device, corpus, a.epochs, a.cpu_threads)
                r.update(quality(r.pop("kv"), a.eval_dir))
                if device == "cuda":
                    r["achieved_gb_s"] = r["kept_per_s"] * r["bytes_per_kept_word"] / 1e9
                rows.append(r)
                print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}),
                      flush=True)
        results["runs"] = rows
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print("| model | device | train words/s | wall s | analogy | WS-353 | SimLex | est. GB/s |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results.get("runs", []):
        gbs = f"{r['achieved_gb_s']:.0f}" if "achieved_gb_s" in r else "-"
        print(f"| {r['model']} | {r['device']} | {r['train_words_per_s'] / 1e6:.1f}M | {r['wall_s']} | "
              f"{100 * r['analogy']:.2f}% | {r['ws353']:.3f} | {r['simlex']:.3f} | {gbs} |")
    with open(os.path.join(a.out, "gpu_train_bench.json"), "w") as f:
        json.dump(results, f, indent=1, default=float)
    print(json.dumps(results, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
