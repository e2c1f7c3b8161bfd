#!/usr/bin/env python3
"""Fused SGD steps trained on a real corpus: what concurrent rows cost the vectors.

    python bench/fused_step_bench.py --corpus .carry/enwiki_text8style.txt.xz --eval-dir .carry/eval --device cuda

Trains skip-gram with `w2v_ext.sgns_step_` over batches of B centre words (each with its
window as context, padded, and K noise words for each (centre, context) pair, as
word2vec.c draws them), with the rows' updates atomic (the default) and as plain stores (Hogwild), and
the corpus trainer at the same settings as the reference. Reports the loss reached (mean
over the last tenth of the steps), words/s and the analogy / WS-353 scores of each. A
GPU runs tens of thousands of rows at once, so a frequent word's row is updated by many
rows together: plain stores lose most of those updates. The last line is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpu_train_bench import quality, unpack  # noqa: E402

import w2v_ext  # noqa: E402
from w2v_ext import _native, sampling  # noqa: E402
from w2v_ext.corpus import Corpus  # noqa: E402
from w2v_ext.trainer import Word2Vec  # noqa: E402
from w2v_ext.vectors import KeyedVectors  # noqa: E402

SETTINGS = dict(model="sg", dim=100, window=5, negative=5, sample=1e-3, min_count=5, seed=1)


def encoded(corpus: str, vocab) -> tuple:
    """The corpus as vocabulary ids and a sentence number per id."""
    encoder = _native.cpu.CorpusEncoder(vocab.native_index, 1000)
    blocks = list(Corpus(corpus).blocks())
    ids, sentence, first = [], [], 0
    for i, block in enumerate(blocks):
        block_ids, ends = encoder.encode(block, last=i == len(blocks) - 1)
        lengths = np.diff(np.concatenate([[0], ends]))
        ids.append(block_ids)
        sentence.append(np.repeat(np.arange(first, first + len(ends)), lengths))
        first += len(ends)
    return np.concatenate(ids), np.concatenate(sentence)


class Batches:
    """Skip-gram batches on the device: subsampled centres in corpus order, each with
    the words of a window shrunk at random (-1 pads the rest) and K noise words per
    (centre, context) pair drawn from the unigram^0.75 distribution."""

    def __init__(self, ids, sentence, counts, device, window: int, negative: int, sample: float, seed: int):
        self.device = torch.device(device)
        self.gen = torch.Generator(device=self.device).manual_seed(seed)
        self.ids = torch.from_numpy(ids.astype(np.int64)).to(self.device)
        self.sentence = torch.from_numpy(sentence.astype(np.int64)).to(self.device)
        self.keep = torch.from_numpy(sampling.keep_probabilities(counts, sample)).to(self.device)
        self.noise = torch.from_numpy(sampling.noise_distribution(counts)).to(self.device)
        self.window, self.negative = window, negative

    def epoch(self):
        """(kept ids, their sentence numbers) of one epoch's subsampling."""
        u = torch.rand(len(self.ids), generator=self.gen, device=self.device, dtype=torch.float64)
        kept = u < self.keep[self.ids]
        return self.ids[kept], self.sentence[kept]

    def batch(self, ids, sentence, start: int, size: int):
        n, w = len(ids), self.window
        at = torch.arange(start, min(start + size, n), device=self.device)
        reach = torch.randint(1, w + 1, (len(at), 1), generator=self.gen, device=self.device)
        offsets = torch.tensor([o for o in range(-w, w + 1) if o != 0], device=self.device)
        where = at[:, None] + offsets[None, :]
        inside = (where >= 0) & (where < n)
        where = where.clamp(0, n - 1)
        ok = inside & (sentence[where] == sentence[at][:, None]) & (offsets.abs()[None, :] <= reach)
        context = torch.where(ok, ids[where], torch.full_like(where, -1))
        negative = torch.multinomial(self.noise, context.numel() * self.negative, replacement=True,
                                     generator=self.gen).view(len(at), 2 * w, self.negative)
        return ids[at], context, negative


def fused_run(corpus_ids, sentence, vocab, device: str, atomic: bool, batch: int, epochs: int, alpha: float) -> dict:
    s = SETTINGS
    V, d = len(vocab), s["dim"]
    gen = torch.Generator().manual_seed(s["seed"])
    w_in = ((torch.rand(V, d, generator=gen) - 0.5) / d).to(device)
    w_out = torch.zeros(V, d, device=device)
    batches = Batches(corpus_ids, sentence, vocab.counts, device, s["window"], s["negative"], s["sample"], s["seed"])
    total = epochs * len(corpus_ids)
    done, losses, steps = 0, [], 0
    t0 = time.perf_counter()
    for _ in range(epochs):
        ids, sent = batches.epoch()
        scale = len(corpus_ids) / max(len(ids), 1)   # corpus words per kept word, for the rate's clock
        for start in range(0, len(ids), batch):
            c, x, n = batches.batch(ids, sent, start, batch)
            lr = max(alpha * (1 - done / (total + 1)), alpha * 1e-4)
            loss = w2v_ext.sgns_step_(w_in, w_out, c, x, n, lr, atomic_updates=atomic)
            terms = (x >= 0).sum() * (1 + s["negative"])   # each (centre, context) pair: 1 + K scores
            losses.append((loss, terms))
            done += len(c) * scale
            steps += 1
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    tail = losses[-max(1, len(losses) // 10):]
    final = float(sum(float(l) for l, _ in tail)) / max(sum(int(t) for _, t in tail), 1)
    kv = KeyedVectors(vocab.words, w_in.cpu().numpy(), vocab.counts)
    return {"run": f"sgns_step_ {device} " + ("atomic" if atomic else "plain stores"), "seconds": round(seconds, 2),
            "corpus_words_per_s": total / seconds, "steps": steps, "final_loss": final, "kv": kv}


def trainer_run(corpus: str, epochs: int, threads: int, alpha: float) -> dict:
    m = Word2Vec(**SETTINGS, epochs=epochs, threads=threads, alpha=alpha, progress=False)
    m.build_vocab(corpus)
    stats = m.train(corpus)
    return {"run": f"corpus trainer cpu ({threads} threads)", "seconds": round(stats["seconds"], 2),
            "corpus_words_per_s": stats["words_per_s"], "steps": None, "final_loss": m.history[-1]["loss"],
            "kv": m.wv}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--eval-dir", required=True)
    ap.add_argument("--device", default="cuda", help="where the fused steps run")
    ap.add_argument("--batch", type=int, default=65536, help="centre words per step")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--alpha", type=float, default=0.025)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="the corpus trainer's threads")
    ap.add_argument("--out", default=None, help="also write the JSON here")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="w2v_fused_bench_")
    rows = []
    try:
        corpus = unpack(a.corpus, tmp)
        reference = trainer_run(corpus, a.epochs, a.threads, a.alpha)
        vocab = Word2Vec(**SETTINGS, progress=False).build_vocab(corpus).vocab
        ids, sentence = encoded(corpus, vocab)
        for r in [reference] + [fused_run(ids, sentence, vocab, a.device, atomic, a.batch, a.epochs, a.alpha)
                                for atomic in (True, False)]:
            r.update(quality(r.pop("kv"), a.eval_dir))
            rows.append(r)
            print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n| run | s | corpus words/s | final loss | analogy | WS-353 |  (B={a.batch}, {a.epochs} epoch(s))")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['run']} | {r['seconds']} | {r['corpus_words_per_s'] / 1e6:.2f}M | {r['final_loss']:.4f} | "
              f"{100 * r['analogy']:.2f}% | {r['ws353']:.3f} |")
    result = {"batch": a.batch, "epochs": a.epochs, "device": a.device, "runs": rows}
    if a.out:
        with open(a.out, "w") as f:
            json.dump(result, f, indent=1, default=float)
    print(json.dumps(result, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
