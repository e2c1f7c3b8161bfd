"""A rank of a distributed run for test_distributed.py, started by torchrun:

    python -m torch.distributed.run --nproc-per-node 2 ... tests/dist_worker.py CORPUS OUT_DIR [KEY=VALUE ...]

Trains with the Python API (distributed=True; KEY=VALUE are Word2Vec settings, values
as Python literals), then every rank writes what it holds to OUT_DIR/rank<R>.npz: its
vocabulary, weights and history, so the test can compare the ranks. Every rank also
calls model.save(OUT_DIR/vectors-rank<R>.bin), which writes on rank 0 only.
"""
import ast
import json
import os
import sys

import numpy as np

from w2v_ext.trainer import Word2Vec


def main():
    corpus, out_dir, *pairs = sys.argv[1:]
    settings = {k: ast.literal_eval(v) for k, v in (p.split("=", 1) for p in pairs)}
    model = Word2Vec(corpus, distributed=True, progress=False, **settings)
    model.save(os.path.join(out_dir, f"vectors-rank{model.rank}.bin"))
    np.savez(os.path.join(out_dir, f"rank{model.rank}.npz"), words=np.array(model.vocab.words),
             counts=model.vocab.counts, input=model.input, output=model.output,
             history=np.array(json.dumps(model.history)), words_done=model.words_done)


if __name__ == "__main__":
    main()
