// CBOW with negative sampling: h = mean of input[context] over the row's non-padding
// slots; <h, output[center]> scores label 1 and <h, output[negative]> label 0; binary
// cross-entropy with logits on each score. With in_batch_positives (the tutorial's
// form) row b also scores every other row's centre, with label 0.
// T is the tables' storage type (their gradient rows too); the losses, their upstream
// gradients, SavedGrad and lr are in its compute type, compute_t<T> (compute_type.h).
#pragma once

#include "ns_batch.h"

namespace w2v {

// Term order within a row (SavedGrad::coef): its centre (in-batch: every row's centre,
// in row order), then its K negatives.
inline TermsPerRow cbow_ns_terms_per_row(bool in_batch_positives) {
  return in_batch_positives ? TermsPerRow{0, 1, 0, 1, 0} : TermsPerRow{1, 0, 0, 1, 0};
}

}  // namespace w2v

namespace w2v::cpu {

// Per-row loss sums (pos_loss[B], neg_loss[B]). In-batch, pos_loss[b] sums the row's
// scores against every valid row's centre (label 1 for its own). A row whose centre is
// padding, or whose contexts are all padding, gives 0. With saved.coef set, also fills
// `saved` for cbow_ns_backward.
template <typename T, typename I>
void cbow_ns_forward(const EmbeddingPair<T>& weights, const NsBatch<I>& batch, compute_t<T>* pos_loss,
                     compute_t<T>* neg_loss, const SavedGrad<compute_t<T>>& saved, int threads);

// Gradient of sum_b grad_pos[b] * pos_loss[b] + grad_neg[b] * neg_loss[b] from what the
// forward saved, into grad_input (context rows) and grad_output (centre and negative
// rows). Deterministic.
template <typename T, typename I>
void cbow_ns_backward(const NsBatch<I>& batch, const SavedGrad<compute_t<T>>& saved, int64_t dim,
                      const compute_t<T>* grad_pos, const compute_t<T>* grad_neg, GradRows<T> grad_input,
                      GradRows<T> grad_output, const NsSlots& slots, int threads);

// Fused SGD step on the summed loss, in place, one row at a time (Hogwild across
// threads). exact_context_gradient: each context row gets the true gradient of the mean
// (neu1e / n); false: word2vec.c's update, the whole neu1e to every context row.
// Returns the summed loss, each row's part taken before its update.
template <typename T, typename I>
double cbow_ns_sgd_step(const EmbeddingPair<T>& weights, const NsBatch<I>& batch, compute_t<T> lr,
                        bool exact_context_gradient, int threads);

}  // namespace w2v::cpu

namespace w2v::cuda {

// The same contracts as w2v::cpu's, launched on `stream` (a cudaStream_t). The backward
// adds into the gradient rows with atomics, so sums over repeated rows are not
// bit-reproducible; the step adds its summed loss into *loss (one element, on the device).
template <typename T, typename I>
void cbow_ns_forward(const EmbeddingPair<T>& weights, const NsBatch<I>& batch, compute_t<T>* pos_loss,
                     compute_t<T>* neg_loss, const SavedGrad<compute_t<T>>& saved, void* stream);

template <typename T, typename I>
void cbow_ns_backward(const NsBatch<I>& batch, const SavedGrad<compute_t<T>>& saved, int64_t dim,
                      const compute_t<T>* grad_pos, const compute_t<T>* grad_neg, GradRows<T> grad_input,
                      GradRows<T> grad_output, const NsSlots& slots, void* stream);

template <typename T, typename I>
void cbow_ns_sgd_step(const EmbeddingPair<T>& weights, const NsBatch<I>& batch, compute_t<T> lr,
                      bool exact_context_gradient, bool atomic_updates, compute_t<T>* loss, void* stream);

}  // namespace w2v::cuda
