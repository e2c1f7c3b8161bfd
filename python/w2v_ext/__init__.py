"""w2v_ext: fast word2vec (skip-gram and CBOW with negative sampling).

The PyTorch ops (sgns_loss, cbow_ns_loss, sgns_step_, cbow_ns_step_, SkipGramNS,
CBOWNS) load torch on first use; the corpus trainer and the CLI never import torch.
"""
from __future__ import annotations

__version__ = "0.1.0"

_TORCH_EXPORTS = {"sgns_loss", "cbow_ns_loss", "sgns_step_", "cbow_ns_step_", "SkipGramNS", "CBOWNS"}

__all__ = sorted(_TORCH_EXPORTS)


def __getattr__(name):
    if name in _TORCH_EXPORTS:
        try:
            from . import ops
        except ImportError as e:
            if "torch" in str(e):
                raise ImportError(f"w2v_ext.{name} needs PyTorch: pip install 'w2v_ext[torch]' "
                                  f"(or any torch >= 2.4)") from e
            raise
        return getattr(ops, name)
    raise AttributeError(f"module 'w2v_ext' has no attribute {name!r}")
