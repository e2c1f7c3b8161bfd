#include "cbow_ns.h"

#include <vector>

#include "cpu/ns_update.h"
#include "cpu/parallel.h"
#include "cpu/prefetch.h"
#include "cpu/row_scatter.h"
#include "cpu/vector_ops.h"
#include "ns_terms.h"
#include "w2v_math.h"

namespace w2v::cpu {

namespace {

// h = mean of row r's non-padding context vectors, in the compute type; returns how many
// there were (0: h unset).
template <typename T, typename I>
W2V_INLINE int64_t context_mean(const EmbeddingPair<T>& w, const NsBatch<I>& b, int64_t r, compute_t<T>* h) {
  using CT = compute_t<T>;
  const int64_t d = w.dim;
  int64_t n = 0;
  fill_zero(h, d);
  for (int64_t j = 0; j < b.context_size; ++j) {
    const int64_t c = b.context[r * b.context_size + j];
    if (is_padding(b, c)) continue;
    add(w.input + c * w.input_stride, h, d);
    ++n;
  }
  if (n > 1) scale(CT(1) / static_cast<CT>(n), h, d);
  return n;
}

template <typename I>
std::vector<char> valid_rows(const NsBatch<I>& b) {
  std::vector<char> valid(b.rows);
  for (int64_t r = 0; r < b.rows; ++r) valid[r] = cbow_row_is_valid(b, r);
  return valid;
}

template <typename T, typename I>
W2V_CLONES void cbow_forward_rows(const EmbeddingPair<T> w, const NsBatch<I> b, const char* valid,
                                  compute_t<T>* pos_loss, compute_t<T>* neg_loss, const SavedGrad<compute_t<T>> saved,
                                  int64_t begin, int64_t end) {
  using CT = compute_t<T>;
  const int64_t d = w.dim, per_row = saved.terms_per_row;
  const bool keep = saved.keep;
  std::vector<CT> scratch(keep ? 0 : d);
  for (int64_t r = begin; r < end; ++r) {
    if (r + 4 < end) prefetch_batch_row<1>(w, b, r + 4, false);
    if (r + 1 < end) prefetch_batch_row(w, b, r + 1, false);
    CT pos = 0, neg = 0;
    CT *coef = nullptr, *gh_pos = nullptr, *gh_neg = nullptr;
    CT* h = keep ? saved.hidden + r * d : scratch.data();
    if (keep) {
      coef = saved.coef + r * per_row, gh_pos = saved.grad_h_pos + r * d, gh_neg = saved.grad_h_neg + r * d;
      fill_zero(coef, per_row), fill_zero(gh_pos, d), fill_zero(gh_neg, d);
    }
    if (valid[r]) {
      context_mean(w, b, r, h);
      cbow_for_each_term(b, r, [&](int64_t q) W2V_LAMBDA_INLINE { return valid[q] != 0; }, [&](int64_t target, int64_t, int64_t term, bool is_center, bool label)
                                     W2V_LAMBDA_INLINE {
        const T* u = w.output + target * w.output_stride;
        const CT score = dot(h, u, d);
        (is_center ? pos : neg) += bce_with_logits(score, label);
        if (keep) {
          coef[term] = bce_with_logits_grad(score, label);
          axpy(coef[term], u, is_center ? gh_pos : gh_neg, d);
        }
      });
    } else if (keep) {
      fill_zero(h, d);
    }
    pos_loss[r] = pos;
    neg_loss[r] = neg;
  }
}

// Backward, first half, per row: h's gradient (grad_pos * grad_h_pos + grad_neg *
// grad_h_neg, into `combined`), one term per context row (combined / n) and per
// centre/negative row (upstream * coef * h). In-batch positives are scattered apart
// (cbow_in_batch_scatter). Everything here is in the compute type CT.
template <typename CT, typename I>
W2V_CLONES void cbow_backward_rows(const NsBatch<I> b, const char* valid, const SavedGrad<CT> saved, int64_t d,
                                   const CT* grad_pos, const CT* grad_neg, const NsSlots slots, CT* combined,
                                   ScatterTerm<CT>* input_terms, ScatterTerm<CT>* output_terms,
                                   int64_t begin, int64_t end) {
  const int64_t C = b.context_size, K = b.negatives, per_row = saved.terms_per_row;
  for (int64_t r = begin; r < end; ++r) {
    ScatterTerm<CT>* in_terms = input_terms + r * C;
    ScatterTerm<CT>* out_terms = output_terms + r * (1 + K);
    for (int64_t j = 0; j < C; ++j) in_terms[j].row = -1;
    for (int64_t t = 0; t < 1 + K; ++t) out_terms[t].row = -1;
    if (!valid[r]) continue;
    CT* gh = combined + r * d;
    const CT* gh_pos = saved.grad_h_pos + r * d;
    const CT* gh_neg = saved.grad_h_neg + r * d;
    for (int64_t i = 0; i < d; ++i) gh[i] = grad_pos[r] * gh_pos[i] + grad_neg[r] * gh_neg[i];
    const CT* coef = saved.coef + r * per_row;
    const CT* h = saved.hidden + r * d;
    cbow_for_each_term(b, r, [&](int64_t q) W2V_LAMBDA_INLINE { return valid[q] != 0; }, [&](int64_t target, int64_t position, int64_t term, bool is_center, bool)
                                   W2V_LAMBDA_INLINE {
      if (b.in_batch_positives && is_center) return;
      const int64_t* slot_of = is_center ? slots.center : slots.negative;
      out_terms[is_center ? 0 : 1 + (term - (per_row - K))] = {slot_of ? slot_of[position] : target,
                                                                (is_center ? grad_pos[r] : grad_neg[r]) * coef[term], h};
    });
    int64_t n_context = 0;
    for (int64_t j = 0; j < C; ++j) n_context += !is_padding(b, b.context[r * C + j]);
    const CT share = CT(1) / static_cast<CT>(n_context);
    for (int64_t j = 0; j < C; ++j) {
      const int64_t ci = r * C + j, c = b.context[ci];
      if (!is_padding(b, c)) in_terms[j] = {slots.context ? slots.context[ci] : c, share, gh};
    }
  }
}

// In-batch positives, second half: output[center[q]] += sum_r grad_pos[r] * coef[r, q] * h_r.
// Thread `owner` of `owners` takes the destination rows it owns (row % owners), as
// scatter_terms does, so the sums are race-free.
template <typename T, typename I>
W2V_CLONES void cbow_in_batch_scatter(const NsBatch<I> b, const char* valid, const int64_t* center_slots,
                                      const SavedGrad<compute_t<T>> saved, const compute_t<T>* grad_pos,
                                      GradRows<T> dst, int64_t d, int owner, int owners) {
  for (int64_t q = 0; q < b.rows; ++q) {
    if (!valid[q]) continue;
    const int64_t row = center_slots ? center_slots[q] : static_cast<int64_t>(b.center[q]);
    if (row % owners != owner) continue;
    T* out = dst.rows + row * dst.stride;
    for (int64_t r = 0; r < b.rows; ++r)
      if (valid[r]) axpy(grad_pos[r] * saved.coef[r * saved.terms_per_row + q], saved.hidden + r * d, out, d);
  }
}

template <typename T, typename I>
W2V_CLONES double cbow_sgd_step_rows(const EmbeddingPair<T> w, const NsBatch<I> b, compute_t<T> lr,
                                     bool exact_context_gradient, int64_t begin, int64_t end) {
  using CT = compute_t<T>;
  const int64_t d = w.dim, K = b.negatives;
  std::vector<CT> h(d), grad_h(d), coef(1 + K);
  std::vector<T*> targets(1 + K);
  double loss = 0;
  for (int64_t r = begin; r < end; ++r) {
    if (r + 4 < end) prefetch_batch_row<1>(w, b, r + 4, false);
    if (r + 1 < end) prefetch_batch_row(w, b, r + 1, false);
    if (is_padding(b, b.center[r])) continue;
    const int64_t n_context = context_mean(w, b, r, h.data());
    if (n_context == 0) continue;
    int64_t n = 0;
    targets[n++] = w.output + static_cast<int64_t>(b.center[r]) * w.output_stride;
    for (int64_t k = 0; k < K; ++k) {
      const int64_t neg = b.negative[r * K + k];
      if (!is_padding(b, neg)) targets[n++] = w.output + neg * w.output_stride;
    }
    fill_zero(grad_h.data(), d);
    loss += sgd_update_targets(h.data(), targets.data(), n, 1, lr, grad_h.data(), coef.data(), d, true);
    const CT share = exact_context_gradient ? CT(1) / static_cast<CT>(n_context) : CT(1);
    for (int64_t j = 0; j < b.context_size; ++j) {
      const int64_t c = b.context[r * b.context_size + j];
      if (!is_padding(b, c)) axpy(share, grad_h.data(), w.input + c * w.input_stride, d);
    }
  }
  return loss;
}

}  // namespace

template <typename T, typename I>
void cbow_ns_forward(const EmbeddingPair<T>& weights, const NsBatch<I>& batch, compute_t<T>* pos_loss,
                     compute_t<T>* neg_loss, const SavedGrad<compute_t<T>>& saved, int threads) {
  const std::vector<char> valid = valid_rows(batch);
  const int team = threads_for(threads, batch.in_batch_positives ? batch.rows * batch.rows : batch.rows, 16);
#pragma omp parallel num_threads(team)
  {
    int64_t begin, end;
    split_range(batch.rows, omp_get_num_threads(), omp_get_thread_num(), &begin, &end);
    cbow_forward_rows(weights, batch, valid.data(), pos_loss, neg_loss, saved, begin, end);
  }
}

template <typename T, typename I>
void cbow_ns_backward(const NsBatch<I>& batch, const SavedGrad<compute_t<T>>& saved, int64_t dim,
                      const compute_t<T>* grad_pos, const compute_t<T>* grad_neg, GradRows<T> grad_input,
                      GradRows<T> grad_output, const NsSlots& slots, int threads) {
  using CT = compute_t<T>;
  const int64_t B = batch.rows;
  const std::vector<char> valid = valid_rows(batch);
  std::vector<CT> combined(B * dim);
  std::vector<ScatterTerm<CT>> input_terms(B * batch.context_size), output_terms(B * (1 + batch.negatives));
  const int team = threads_for(threads, B, 16);
#pragma omp parallel num_threads(team)
  {
    int64_t begin, end;
    split_range(B, omp_get_num_threads(), omp_get_thread_num(), &begin, &end);
    cbow_backward_rows(batch, valid.data(), saved, dim, grad_pos, grad_neg, slots, combined.data(),
                       input_terms.data(), output_terms.data(), begin, end);
  }
  if (slots.center || slots.context || slots.negative)
    sum_terms_by_row(grad_input, input_terms, grad_output, output_terms, dim, threads);
  else
    scatter_terms(grad_input, input_terms, grad_output, output_terms, dim, threads);
  if (batch.in_batch_positives) {
    const int in_batch_team = threads_for(threads, B * B, 16);
#pragma omp parallel num_threads(in_batch_team)
    cbow_in_batch_scatter(batch, valid.data(), slots.center, saved, grad_pos, grad_output, dim,
                          omp_get_thread_num(), omp_get_num_threads());
  }
}

template <typename T, typename I>
double cbow_ns_sgd_step(const EmbeddingPair<T>& weights, const NsBatch<I>& batch, compute_t<T> lr,
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

#define W2V_INSTANTIATE(T, I)                                                                                   \
  template void cbow_ns_forward<T, I>(const EmbeddingPair<T>&, const NsBatch<I>&, compute_t<T>*, compute_t<T>*,  \
                                      const SavedGrad<compute_t<T>>&, int);                                    \
  template void cbow_ns_backward<T, I>(const NsBatch<I>&, const SavedGrad<compute_t<T>>&, int64_t,             \
                                       const compute_t<T>*, const compute_t<T>*, GradRows<T>, GradRows<T>,     \
                                       const NsSlots&, int);                                                   \
  template double cbow_ns_sgd_step<T, I>(const EmbeddingPair<T>&, const NsBatch<I>&, compute_t<T>, bool, int);
W2V_INSTANTIATE(float, int32_t)
W2V_INSTANTIATE(float, int64_t)
W2V_INSTANTIATE(double, int32_t)
W2V_INSTANTIATE(double, int64_t)
#undef W2V_INSTANTIATE

}  // namespace w2v::cpu
