// Skip-gram with negative sampling: h = input[center]; every context word scores
// <h, output[context]> with label 1, every negative <h, output[negative]> with label 0;
// binary cross-entropy with logits on each score.
// T is the tables' storage type (their gradient rows too); the losses, their upstream
// gradients, SavedGrad and lr are in its compute type, compute_t<T> (compute_type.h).
#pragma once

#include "ns_batch.h"

namespace w2v {

// Term order within a row (SavedGrad::coef): its C contexts, then its negatives (K, or
// C * K for [B, C, K] negatives, context by context).
inline TermsPerRow sgns_terms_per_row(bool negatives_per_context) {
  return negatives_per_context ? TermsPerRow{0, 0, 1, 0, 1} : TermsPerRow{0, 0, 1, 1, 0};
}

}  // namespace w2v

namespace w2v::cpu {

// Per-row loss sums: pos_loss[B] over the row's context terms, neg_loss[B] over its
// negative terms. A row whose centre is padding gives 0. With saved.coef set, also fills
// `saved` for sgns_backward.
template <typename T, typename I>
void sgns_forward(const EmbeddingPair<T>& weights, const NsBatch<I>& batch, compute_t<T>* pos_loss,
                  compute_t<T>* neg_loss, const SavedGrad<compute_t<T>>& saved, int threads);

// Gradient of sum_b grad_pos[b] * pos_loss[b] + grad_neg[b] * neg_loss[b] (grad_pos[B],
// grad_neg[B]) from what the forward saved, into grad_input (rows of the input table)
// and grad_output (rows of the output table); see GradRows. Deterministic: every
// destination row is summed in one fixed order for any thread count.
template <typename T, typename I>
void sgns_backward(const NsBatch<I>& batch, const SavedGrad<compute_t<T>>& saved, int64_t dim,
                   const compute_t<T>* grad_pos, const compute_t<T>* grad_neg, GradRows<T> grad_input,
                   GradRows<T> grad_output, const NsSlots& slots, int threads);

// Fused forward + backward + SGD step on the summed loss, in place, one row (one
// (row, context) pair for [B, C, K] negatives) at a time: each row's scores and
// gradients use the weights as they stand when the row starts. Rows are split across
// threads without locks (Hogwild); with one thread the result is deterministic.
// Returns the summed loss, each row's part taken before its update.
template <typename T, typename I>
double sgns_sgd_step(const EmbeddingPair<T>& weights, const NsBatch<I>& batch, compute_t<T> lr, int threads);

}  // namespace w2v::cpu

namespace w2v::cuda {

// The same contracts as w2v::cpu's, launched on `stream` (a cudaStream_t). The backward
// adds into the gradient rows with atomics, so sums over repeated rows are not
// bit-reproducible; the step adds its summed loss into *loss (one element, on the device).
template <typename T, typename I>
void sgns_forward(const EmbeddingPair<T>& weights, const NsBatch<I>& batch, compute_t<T>* pos_loss,
                  compute_t<T>* neg_loss, const SavedGrad<compute_t<T>>& saved, void* stream);

template <typename T, typename I>
void sgns_backward(const NsBatch<I>& batch, const SavedGrad<compute_t<T>>& saved, int64_t dim,
                   const compute_t<T>* grad_pos, const compute_t<T>* grad_neg, GradRows<T> grad_input,
                   GradRows<T> grad_output, const NsSlots& slots, void* stream);

// atomic_updates: the rows' updates are atomic adds (see warp_update), else plain stores.
template <typename T, typename I>
void sgns_sgd_step(const EmbeddingPair<T>& weights, const NsBatch<I>& batch, compute_t<T> lr, bool atomic_updates,
                   compute_t<T>* loss, void* stream);

}  // namespace w2v::cuda
