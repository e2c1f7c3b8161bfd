"""PyTorch ops: fused negative-sampling losses (autograd-aware, torch.compile-friendly),
fused in-place SGD steps, float64 references and nn.Module wrappers. Needs torch."""
from ._cuda_index_errors import check_index_errors, set_sync_index_checks
from .losses import cbow_ns_loss, cbow_ns_step_, sgns_loss, sgns_step_
from .modules import CBOWNS, SkipGramNS

__all__ = ["sgns_loss", "cbow_ns_loss", "sgns_step_", "cbow_ns_step_", "SkipGramNS", "CBOWNS",
           "check_index_errors", "set_sync_index_checks"]
