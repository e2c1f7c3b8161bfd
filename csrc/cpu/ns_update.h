// The SGD update of one input vector against its targets, shared by the fused op
// steps and the corpus trainer.
#pragma once

#include <cstdint>

#include "cpu/vector_ops.h"
#include "w2v_math.h"

namespace w2v::cpu {

// h scores each of n targets (the first n_positive labelled 1, the rest 0). Adds each
// target's SGD step, lr * (label - sigmoid(score)) * h, to its row, and accumulates the
// input's step, sum_t lr * (label - sigmoid(score_t)) * target_t, into grad_h. Every
// score and step is taken from the rows as they stand on entry, so a target listed twice
// gets both steps, exactly as the summed loss's gradient says. `coef` is scratch [n].
// `h` must not alias a target row (callers pass a copy). Returns the summed loss when
// want_loss, else 0.
template <typename T>
W2V_INLINE double sgd_update_targets(const T* h, T* const* targets, int64_t n, int64_t n_positive,
                                     T lr, T* grad_h, T* coef, int64_t dim, bool want_loss) {
  double loss = 0;
  for (int64_t t = 0; t < n; ++t) {
    const T score = dot(h, targets[t], dim);
    const bool positive = t < n_positive;
    if (want_loss) loss += bce_with_logits(score, positive);
    coef[t] = -lr * bce_with_logits_grad(score, positive);
    axpy(coef[t], targets[t], grad_h, dim);
  }
  for (int64_t t = 0; t < n; ++t) axpy(coef[t], h, targets[t], dim);
  return loss;
}

}  // namespace w2v::cpu
