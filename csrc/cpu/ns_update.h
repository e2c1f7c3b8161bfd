// The SGD update of one input vector against its targets, shared by the fused op
// steps and the corpus trainer.
#pragma once

#include <cstdint>

#include "cpu/padded_rows.h"
#include "cpu/sigmoid_table.h"
#include "cpu/vector_ops.h"
#include "w2v_math.h"

namespace w2v::cpu {

// h scores each of n targets (the first n_positive labelled 1, the rest 0). Adds each
// target's SGD step, lr * (label - sigmoid(score)) * h, to its row, and accumulates the
// input's step, sum_t lr * (label - sigmoid(score_t)) * target_t, into grad_h. Every
// score and step is taken from the rows as they stand on entry, so a target listed twice
// gets both steps, exactly as the summed loss's gradient says. `coef` is scratch [n].
// `h` must not alias a target row (callers pass a copy). Targets are table rows (T);
// h, grad_h, coef and lr are in the compute type. Returns the summed loss when
// want_loss, else 0.
template <typename T>
W2V_INLINE double sgd_update_targets(const compute_t<T>* h, T* const* targets, int64_t n, int64_t n_positive,
                                     compute_t<T> lr, compute_t<T>* grad_h, compute_t<T>* coef, int64_t dim,
                                     bool want_loss) {
  double loss = 0;
  for (int64_t t = 0; t < n; ++t) {
    const compute_t<T> score = dot(h, targets[t], dim);
    const bool positive = t < n_positive;
    if (want_loss) loss += bce_with_logits(score, positive);
    coef[t] = -lr * bce_with_logits_grad(score, positive);
    axpy(coef[t], targets[t], grad_h, dim);
  }
  for (int64_t t = 0; t < n; ++t) axpy(coef[t], h, targets[t], dim);
  return loss;
}

// pWord2Vec's HogBatch update: m input rows against n target rows (the first labelled 1,
// the rest 0) as three small matrix products, S = In Out^T, dIn = G Out, Out += G^T In,
// then In += dIn. Every score and both sides' steps come from the rows as they stand on
// entry. Rows are padded (see padded_rows.h): d is a multiple of kLanes.
// `scores` is scratch [m * n], `grad_inputs` scratch [m * d]. Returns the summed loss
// when want_loss.
W2V_INLINE double hogbatch_update(float* const* inputs, int64_t m, float* const* targets, int64_t n, float alpha,
                                  int64_t d, float* scores, float* grad_inputs, bool want_loss) {
  for (int64_t j = 0; j < m; ++j) dot_many(inputs[j], targets, n, d, scores + j * n);
  double loss = 0;
  if (want_loss)
    for (int64_t j = 0; j < m; ++j)
      for (int64_t t = 0; t < n; ++t) loss += bce_with_logits(scores[j * n + t], t == 0);
  const SigmoidTable& sigmoid = SigmoidTable::instance();
  for (int64_t j = 0; j < m; ++j)
    for (int64_t t = 0; t < n; ++t) scores[j * n + t] = alpha * ((t == 0 ? 1.0f : 0.0f) - sigmoid(scores[j * n + t]));
  for (int64_t j = 0; j < m; ++j) combine_many<true>(scores + j * n, 1, targets, n, grad_inputs + j * d, d);
  for (int64_t t = 0; t < n; ++t) combine_many<false>(scores + t, n, inputs, m, targets[t], d);
  for (int64_t j = 0; j < m; ++j) add(grad_inputs + j * d, inputs[j], d);
  return loss;
}

}  // namespace w2v::cpu
