#include "cbow_ns.h"

#include <vector>

#include "cpu/ns_update.h"
#include "cpu/parallel.h"
#include "cpu/prefetch.h"
#include "cpu/row_scatter.h"
#include "cpu/vector_ops.h"
#include "w2v_math.h"

namespace w2v::cpu {

namespace {

template <typename I>
W2V_INLINE bool is_pad(const NsBatch<I>& b, int64_t index) {
  return index == b.padding_idx;
}

// h = mean of row r's non-padding context vectors; returns how many there were (0: h unset).
template <typename T, typename I>
W2V_INLINE int64_t context_mean(const EmbeddingPair<T>& w, const NsBatch<I>& b, int64_t r, T* h) {
  const int64_t d = w.dim;
  int64_t n = 0;
  fill_zero(h, d);
  for (int64_t j = 0; j < b.context_size; ++j) {
    const int64_t c = b.context[r * b.context_size + j];
    if (is_pad(b, c)) continue;
    add(w.input + c * w.input_stride, h, d);
    ++n;
  }
  if (n > 1) scale(T(1) / static_cast<T>(n), h, d);
  return n;
}

// A row takes part when its centre is not padding and it has at least one context word.
template <typename I>
W2V_INLINE bool row_is_valid(const NsBatch<I>& b, int64_t r) {
  if (is_pad(b, b.center[r])) return false;
  for (int64_t j = 0; j < b.context_size; ++j)
    if (!is_pad(b, b.context[r * b.context_size + j])) return true;
  return false;
}

template <typename I>
std::vector<char> valid_rows(const NsBatch<I>& b) {
  std::vector<char> valid(b.rows);
  for (int64_t r = 0; r < b.rows; ++r) valid[r] = row_is_valid(b, r);
  return valid;
}

template <typename T, typename I>
W2V_CLONES void cbow_forward_rows(const EmbeddingPair<T> w, const NsBatch<I> b, const char* valid,
                                  T* pos_loss, T* neg_loss, int64_t begin, int64_t end) {
  const int64_t d = w.dim;
  std::vector<T> h(d);
  auto score = [&](int64_t target) W2V_LAMBDA_INLINE { return dot(h.data(), w.output + target * w.output_stride, d); };
  for (int64_t r = begin; r < end; ++r) {
    if (r + 1 < end) prefetch_batch_row(w, b, r + 1, false);
    T pos = 0, neg = 0;
    if (!is_pad(b, b.center[r]) && context_mean(w, b, r, h.data()) > 0) {
      if (b.in_batch_positives) {
        for (int64_t q = 0; q < b.rows; ++q)
          if (valid[q]) pos += bce_with_logits(score(b.center[q]), q == r);
      } else {
        pos = bce_with_logits(score(b.center[r]), true);
      }
      for (int64_t k = 0; k < b.negatives; ++k) {
        const int64_t n = b.negative[r * b.negatives + k];
        if (!is_pad(b, n)) neg += bce_with_logits(score(n), false);
      }
    }
    pos_loss[r] = pos;
    neg_loss[r] = neg;
  }
}

// Backward, first half, per row: h (kept for the output gradients), grad_h, one term
// per context row (grad_h / n) and per centre/negative row (coef * h). In-batch
// positives keep their coefficients in in_batch_coef[B, B] instead of terms.
template <typename T, typename I>
W2V_CLONES void cbow_backward_rows(const EmbeddingPair<T> w, const NsBatch<I> b, const char* valid,
                                   const T* grad_pos, const T* grad_neg, const NsSlots slots,
                                   T* hidden, T* grad_h, T* in_batch_coef,
                                   ScatterTerm<T>* input_terms, ScatterTerm<T>* output_terms,
                                   int64_t begin, int64_t end) {
  const int64_t d = w.dim, C = b.context_size, K = b.negatives, per_row = 1 + K;
  for (int64_t r = begin; r < end; ++r) {
    if (r + 1 < end) prefetch_batch_row(w, b, r + 1, false);
    ScatterTerm<T>* in_terms = input_terms + r * C;
    ScatterTerm<T>* out_terms = output_terms + r * per_row;
    for (int64_t j = 0; j < C; ++j) in_terms[j].row = -1;
    for (int64_t t = 0; t < per_row; ++t) out_terms[t].row = -1;
    T* h = hidden + r * d;
    if (b.in_batch_positives)
      for (int64_t q = 0; q < b.rows; ++q) in_batch_coef[r * b.rows + q] = 0;
    if (!valid[r]) continue;
    const int64_t n_context = context_mean(w, b, r, h);
    T* gh = grad_h + r * d;
    fill_zero(gh, d);
    auto coef_of = [&](int64_t target, T upstream, bool positive) W2V_LAMBDA_INLINE {
      const T* u = w.output + target * w.output_stride;
      const T coef = upstream * bce_with_logits_grad(dot(h, u, d), positive);
      axpy(coef, u, gh, d);
      return coef;
    };
    if (b.in_batch_positives) {
      for (int64_t q = 0; q < b.rows; ++q)
        if (valid[q]) in_batch_coef[r * b.rows + q] = coef_of(b.center[q], grad_pos[r], q == r);
    } else {
      const int64_t c = b.center[r];
      out_terms[0] = {slots.center ? slots.center[r] : c, coef_of(c, grad_pos[r], true), h};
    }
    for (int64_t k = 0; k < K; ++k) {
      const int64_t ni = r * K + k, n = b.negative[ni];
      if (!is_pad(b, n)) out_terms[1 + k] = {slots.negative ? slots.negative[ni] : n, coef_of(n, grad_neg[r], false), h};
    }
    const T share = T(1) / static_cast<T>(n_context);
    for (int64_t j = 0; j < C; ++j) {
      const int64_t ci = r * C + j, c = b.context[ci];
      if (!is_pad(b, c)) in_terms[j] = {slots.context ? slots.context[ci] : c, share, gh};
    }
  }
}

// In-batch positives, second half: output[center[q]] += sum_r coef[r, q] * h_r. Thread
// `owner` of `owners` takes the destination rows it owns (row % owners), as scatter_terms.
template <typename T, typename I>
W2V_CLONES void cbow_in_batch_scatter(const NsBatch<I> b, const char* valid, const int64_t* center_slots,
                                      const T* hidden, const T* in_batch_coef, GradRows<T> dst,
                                      int64_t d, int owner, int owners) {
  for (int64_t q = 0; q < b.rows; ++q) {
    if (!valid[q]) continue;
    const int64_t row = center_slots ? center_slots[q] : static_cast<int64_t>(b.center[q]);
    if (row % owners != owner) continue;
    T* out = dst.rows + row * dst.stride;
    for (int64_t r = 0; r < b.rows; ++r)
      if (valid[r]) axpy(in_batch_coef[r * b.rows + q], hidden + r * d, out, d);
  }
}

template <typename T, typename I>
W2V_CLONES double cbow_sgd_step_rows(const EmbeddingPair<T> w, const NsBatch<I> b, T lr,
                                     bool exact_context_gradient, int64_t begin, int64_t end) {
  const int64_t d = w.dim, K = b.negatives;
  std::vector<T> h(d), grad_h(d), coef(1 + K);
  std::vector<T*> targets(1 + K);
  double loss = 0;
  for (int64_t r = begin; r < end; ++r) {
    if (r + 1 < end) prefetch_batch_row(w, b, r + 1, false);
    if (is_pad(b, b.center[r])) continue;
    const int64_t n_context = context_mean(w, b, r, h.data());
    if (n_context == 0) continue;
    int64_t n = 0;
    targets[n++] = w.output + static_cast<int64_t>(b.center[r]) * w.output_stride;
    for (int64_t k = 0; k < K; ++k) {
      const int64_t neg = b.negative[r * K + k];
      if (!is_pad(b, neg)) targets[n++] = w.output + neg * w.output_stride;
    }
    fill_zero(grad_h.data(), d);
    loss += sgd_update_targets(h.data(), targets.data(), n, 1, lr, grad_h.data(), coef.data(), d, true);
    const T share = exact_context_gradient ? T(1) / static_cast<T>(n_context) : T(1);
    for (int64_t j = 0; j < b.context_size; ++j) {
      const int64_t c = b.context[r * b.context_size + j];
      if (!is_pad(b, c)) axpy(share, grad_h.data(), w.input + c * w.input_stride, d);
    }
  }
  return loss;
}

}  // namespace

template <typename T, typename I>
void cbow_ns_forward(const EmbeddingPair<T>& weights, const NsBatch<I>& batch, T* pos_loss,
                     T* neg_loss, int threads) {
  const std::vector<char> valid = batch.in_batch_positives ? valid_rows(batch) : std::vector<char>();
  const int team = threads_for(threads, batch.in_batch_positives ? batch.rows * batch.rows : batch.rows, 16);
#pragma omp parallel num_threads(team)
  {
    int64_t begin, end;
    split_range(batch.rows, omp_get_num_threads(), omp_get_thread_num(), &begin, &end);
    cbow_forward_rows(weights, batch, valid.data(), pos_loss, neg_loss, begin, end);
  }
}

template <typename T, typename I>
void cbow_ns_backward(const EmbeddingPair<T>& weights, const NsBatch<I>& batch, const T* grad_pos,
                      const T* grad_neg, GradRows<T> grad_input, GradRows<T> grad_output,
                      const NsSlots& slots, int threads) {
  const int64_t B = batch.rows, d = weights.dim;
  const std::vector<char> valid = valid_rows(batch);
  std::vector<T> hidden(B * d), grad_h(B * d);
  std::vector<T> in_batch_coef(batch.in_batch_positives ? B * B : 0);
  std::vector<ScatterTerm<T>> input_terms(B * batch.context_size), output_terms(B * (1 + batch.negatives));
  const int team = threads_for(threads, batch.in_batch_positives ? B * B : B, 16);
#pragma omp parallel num_threads(team)
  {
    int64_t begin, end;
    split_range(B, omp_get_num_threads(), omp_get_thread_num(), &begin, &end);
    cbow_backward_rows(weights, batch, valid.data(), grad_pos, grad_neg, slots, hidden.data(), grad_h.data(),
                       in_batch_coef.data(), input_terms.data(), output_terms.data(), begin, end);
  }
  if (slots.center || slots.context || slots.negative)
    sum_terms_by_row(grad_input, input_terms, grad_output, output_terms, d, threads);
  else
    scatter_terms(grad_input, input_terms, grad_output, output_terms, d, threads);
  if (batch.in_batch_positives) {
#pragma omp parallel num_threads(team)
    cbow_in_batch_scatter(batch, valid.data(), slots.center, hidden.data(), in_batch_coef.data(), grad_output,
                          d, omp_get_thread_num(), omp_get_num_threads());
  }
}

template <typename T, typename I>
double cbow_ns_sgd_step(const EmbeddingPair<T>& weights, const NsBatch<I>& batch, T lr,
                        bool exact_context_gradient, int threads) {
  const int team = threads_for(threads, batch.rows, 16);
  double loss = 0;
#pragma omp parallel num_threads(team) reduction(+ : loss)
  {
    int64_t begin, end;
    split_range(batch.rows, omp_get_num_threads(), omp_get_thread_num(), &begin, &end);
    loss += cbow_sgd_step_rows(weights, batch, lr, exact_context_gradient, begin, end);
  }
  return loss;
}

#define W2V_INSTANTIATE(T, I)                                                                           \
  template void cbow_ns_forward<T, I>(const EmbeddingPair<T>&, const NsBatch<I>&, T*, T*, int);        \
  template void cbow_ns_backward<T, I>(const EmbeddingPair<T>&, const NsBatch<I>&, const T*, const T*, \
                                       GradRows<T>, GradRows<T>, const NsSlots&, int);                 \
  template double cbow_ns_sgd_step<T, I>(const EmbeddingPair<T>&, const NsBatch<I>&, T, bool, int);
W2V_INSTANTIATE(float, int32_t)
W2V_INSTANTIATE(float, int64_t)
W2V_INSTANTIATE(double, int32_t)
W2V_INSTANTIATE(double, int64_t)
#undef W2V_INSTANTIATE

}  // namespace w2v::cpu
