"""w2v_ext: fast word2vec (skip-gram and CBOW with negative sampling).

    from w2v_ext import Word2Vec, KeyedVectors     # corpus trainer and vectors (numpy only)
    import w2v_ext; w2v_ext.sgns_loss(...)          # fused PyTorch ops (need torch)

The PyTorch ops (sgns_loss, cbow_ns_loss, sgns_step_, cbow_ns_step_, SkipGramNS,
CBOWNS) load torch on first use; the corpus trainer, the vectors and the CLI never
import torch. Everything is imported on first use, so `import w2v_ext` is cheap.
Submodules: trainer, vectors, word2vec_format, plot (needs matplotlib), demo, cli.
"""
from __future__ import annotations

__version__ = "0.1.0"

_TORCH_EXPORTS = {"sgns_loss", "cbow_ns_loss", "sgns_step_", "cbow_ns_step_", "SkipGramNS", "CBOWNS",
                  "check_index_errors", "set_sync_index_checks"}
_NUMPY_EXPORTS = {"Word2Vec": "trainer", "KeyedVectors": "vectors"}

__all__ = sorted(_TORCH_EXPORTS | set(_NUMPY_EXPORTS))


def __getattr__(name):
    if name in _NUMPY_EXPORTS:
        import importlib
        return getattr(importlib.import_module(f".{_NUMPY_EXPORTS[name]}", __name__), name)
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
