"""The examples run (with quick settings) and say the op agrees with plain PyTorch."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from plot_testing import assert_drawn_png
from trainer_testing import REPO

pytest.importorskip("torch")
EXAMPLES = os.path.join(REPO, "examples")


def run_example(name, *args, timeout=300):
    return subprocess.run([sys.executable, os.path.join(EXAMPLES, name), *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, cwd=REPO)


def test_tutorial_toy(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "toy.png"
    r = run_example("tutorial_toy.py", "--epochs", "50", "-o", out)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("gradients equal") == 2 and "DIFFER" not in r.stdout
    assert r.stdout.count("50 epochs (550 Adam steps)") == 2
    for kind in ("skip-gram", "cbow"):   # the loss falls during training
        line = next(line for line in r.stdout.split(f"{kind}:")[1].splitlines() if "mean batch loss" in line)
        first, last = (float(v) for v in line.split("mean batch loss")[1].split("->"))
        assert last < first, line
    assert f"wrote {out}" in r.stdout
    assert_drawn_png(out, size=(1100, 500))


def test_tutorial_toy_module_pieces():
    """The example's modules reproduce the tutorial's start exactly: same seed, same
    N(0, 1) table as the tutorial's nn.Embedding, same loss on a batch."""
    import numpy as np
    import torch

    sys.path.insert(0, EXAMPLES)
    try:
        import tutorial_toy
    finally:
        sys.path.remove(EXAMPLES)
    import tutorial_reference as ref

    vocab = tutorial_toy.build_vocab(tutorial_toy.TOY_CORPUS)
    assert vocab == ref.build_vocab(ref.TOY_CORPUS)
    ours = tutorial_toy.make_examples(tutorial_toy.TOY_CORPUS, vocab, rng=np.random.default_rng(0))
    theirs = ref.make_examples(ref.TOY_CORPUS, vocab, rng=np.random.default_rng(0))
    for a, b in zip(ours, theirs):
        assert torch.equal(a, b)
    for kind, ref_loss in (("skip-gram", ref.sg_loss), ("cbow", ref.cbow_loss)):
        model, loss = tutorial_toy.make_model(kind, len(vocab) + 1, 2, seed=0)
        torch.manual_seed(0)
        emb = torch.nn.Embedding(len(vocab) + 1, 2)                    # the tutorial's start
        assert torch.equal(model.embeddings, emb.weight)
        c, x, n = (t[:4] for t in ours)
        torch.testing.assert_close(loss(c, x, n), ref_loss(emb.weight, c, x, n), rtol=1e-6, atol=1e-6)


def test_custom_model():
    r = run_example("custom_model.py", "--steps", "20", "--words", "200000", "--batch", "256")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "fused op vs plain PyTorch on one batch" in r.stdout and "gradients equal" in r.stdout
    assert "step    20" in r.stdout and "forward + backward of a 256-row batch" in r.stdout
