// The SGD update of one input vector against its targets, shared by the fused op
// steps and the corpus trainer.
#pragma once

#include <cstdint>

#include "cpu/sigmoid_table.h"
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

// pWord2Vec's HogBatch update: m input rows against n target rows (the first labelled 1,
// the rest 0) as three small matrix products, S = In Out^T, dIn = G Out, Out += G^T In,
// then In += dIn. Every score and both sides' steps come from the rows as they stand on
// entry. The d loops are innermost, so each pass reads and writes a row once.
// Returns the summed loss when want_loss.
W2V_INLINE double hogbatch_update(float* const* inputs, int64_t m, float* const* targets, int64_t n, float alpha,
                                  int64_t d, float* scores, float* grad_inputs, bool want_loss) {
  for (int64_t j = 0; j < m; ++j) {
    const float* x = inputs[j];
    int64_t t = 0;
    for (; t + 3 <= n; t += 3) {
      const float *a = targets[t], *b = targets[t + 1], *c = targets[t + 2];
      float sa = 0, sb = 0, sc = 0;
#pragma omp simd reduction(+ : sa, sb, sc)
      for (int64_t i = 0; i < d; ++i) {
        sa += x[i] * a[i];
        sb += x[i] * b[i];
        sc += x[i] * c[i];
      }
      scores[j * n + t] = sa, scores[j * n + t + 1] = sb, scores[j * n + t + 2] = sc;
    }
    for (; t < n; ++t) scores[j * n + t] = dot(x, targets[t], d);
  }
  double loss = 0;
  if (want_loss)
    for (int64_t j = 0; j < m; ++j)
      for (int64_t t = 0; t < n; ++t) loss += bce_with_logits(scores[j * n + t], t == 0);
  const SigmoidTable& sigmoid = SigmoidTable::instance();
  for (int64_t j = 0; j < m; ++j)
    for (int64_t t = 0; t < n; ++t) scores[j * n + t] = alpha * ((t == 0 ? 1.0f : 0.0f) - sigmoid(scores[j * n + t]));
  for (int64_t j = 0; j < m; ++j) {
    float* __restrict g = grad_inputs + j * d;
    const float* gj = scores + j * n;
    fill_zero(g, d);
    int64_t t = 0;
    for (; t + 3 <= n; t += 3) {
      const float *__restrict a = targets[t], *__restrict b = targets[t + 1], *__restrict c = targets[t + 2];
      const float ga = gj[t], gb = gj[t + 1], gc = gj[t + 2];
#pragma omp simd
      for (int64_t i = 0; i < d; ++i) g[i] += ga * a[i] + gb * b[i] + gc * c[i];
    }
    for (; t < n; ++t) axpy(gj[t], targets[t], g, d);
  }
  for (int64_t t = 0; t < n; ++t) {
    float* __restrict out = targets[t];
    int64_t j = 0;
    for (; j + 3 <= m; j += 3) {
      const float *__restrict a = inputs[j], *__restrict b = inputs[j + 1], *__restrict c = inputs[j + 2];
      const float ga = scores[j * n + t], gb = scores[(j + 1) * n + t], gc = scores[(j + 2) * n + t];
#pragma omp simd
      for (int64_t i = 0; i < d; ++i) out[i] += ga * a[i] + gb * b[i] + gc * c[i];
    }
    for (; j < m; ++j) axpy(scores[j * n + t], inputs[j], out, d);
  }
  for (int64_t j = 0; j < m; ++j) add(grad_inputs + j * d, inputs[j], d);
  return loss;
}

}  // namespace w2v::cpu
