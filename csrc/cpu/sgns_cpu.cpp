#include "sgns.h"

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

template <typename T, typename I>
W2V_CLONES void sgns_forward_rows(const EmbeddingPair<T> w, const NsBatch<I> b, compute_t<T>* pos_loss,
                                  compute_t<T>* neg_loss, const SavedGrad<compute_t<T>> saved, int64_t begin,
                                  int64_t end) {
  using CT = compute_t<T>;
  const SgnsLayout<I> at{b};
  const int64_t d = w.dim, per_row = saved.terms_per_row;
  const bool keep = saved.keep;
  for (int64_t r = begin; r < end; ++r) {
    if (r + 4 < end) prefetch_batch_row<1>(w, b, r + 4, true);
    if (r + 1 < end) prefetch_batch_row(w, b, r + 1, true);
    CT pos = 0, neg = 0;
    CT *coef = nullptr, *gh_pos = nullptr, *gh_neg = nullptr, *hidden = nullptr;
    if (keep) {
      coef = saved.coef + r * per_row, gh_pos = saved.grad_h_pos + r * d;
      gh_neg = saved.grad_h_neg + r * d, hidden = saved.hidden + r * d;
      fill_zero(coef, per_row), fill_zero(gh_pos, d), fill_zero(gh_neg, d);
      if (at.is_pad(b.center[r])) fill_zero(hidden, d);
    }
    if (!at.is_pad(b.center[r])) {
      const T* h = w.input + static_cast<int64_t>(b.center[r]) * w.input_stride;
      if (keep) copy(h, hidden, d);
      sgns_for_each_term(at, r, [&](int64_t target, int64_t, int64_t term, bool positive) W2V_LAMBDA_INLINE {
        const T* u = w.output + target * w.output_stride;
        const CT score = dot(h, u, d);
        (positive ? pos : neg) += bce_with_logits(score, positive);
        if (keep) {
          coef[term] = bce_with_logits_grad(score, positive);
          axpy(coef[term], u, positive ? gh_pos : gh_neg, d);
        }
      });
    }
    pos_loss[r] = pos;
    neg_loss[r] = neg;
  }
}

// Backward, first half: per row, the centre's gradient (grad_pos * grad_h_pos + grad_neg
// * grad_h_neg, into `combined`) and one scatter term per output row it touched (its
// upstream gradient * coef * h). Rows are independent, so this is race-free. Everything
// here is in the compute type CT.
template <typename CT, typename I>
W2V_CLONES void sgns_backward_rows(const NsBatch<I> b, const SavedGrad<CT> saved, int64_t d, const CT* grad_pos,
                                   const CT* grad_neg, const NsSlots slots, CT* combined,
                                   ScatterTerm<CT>* input_terms, ScatterTerm<CT>* output_terms,
                                   int64_t begin, int64_t end) {
  const SgnsLayout<I> at{b};
  const int64_t per_row = saved.terms_per_row;
  for (int64_t r = begin; r < end; ++r) {
    ScatterTerm<CT>* terms = output_terms + r * per_row;
    for (int64_t t = 0; t < per_row; ++t) terms[t].row = -1;
    input_terms[r].row = -1;
    if (at.is_pad(b.center[r])) continue;
    CT* gh = combined + r * d;
    const CT* gh_pos = saved.grad_h_pos + r * d;
    const CT* gh_neg = saved.grad_h_neg + r * d;
    for (int64_t i = 0; i < d; ++i) gh[i] = grad_pos[r] * gh_pos[i] + grad_neg[r] * gh_neg[i];
    const int64_t c = b.center[r];
    input_terms[r] = {slots.center ? slots.center[r] : c, CT(1), gh};
    const CT* coef = saved.coef + r * per_row;
    const CT* h = saved.hidden + r * d;
    sgns_for_each_term(at, r, [&](int64_t target, int64_t position, int64_t term, bool positive) W2V_LAMBDA_INLINE {
      const int64_t* slot_of = positive ? slots.context : slots.negative;
      terms[term] = {slot_of ? slot_of[position] : target, (positive ? grad_pos[r] : grad_neg[r]) * coef[term], h};
    });
  }
}

template <typename T, typename I>
W2V_CLONES double sgns_sgd_step_rows(const EmbeddingPair<T> w, const NsBatch<I> b, compute_t<T> lr,
                                     int64_t begin, int64_t end) {
  using CT = compute_t<T>;
  const SgnsLayout<I> at{b};
  const int64_t d = w.dim;
  const int64_t max_targets = b.context_size + b.negatives;
  std::vector<CT> h_copy(d), grad_h(d), coef(max_targets);
  std::vector<T*> targets(max_targets);
  double loss = 0;
  auto out_row = [&](int64_t i) W2V_LAMBDA_INLINE { return w.output + i * w.output_stride; };
  // Update the centre against the gathered targets, the first n_pos of them positive.
  auto update = [&](T* h, int64_t n, int64_t n_pos) W2V_LAMBDA_INLINE {
    copy(h, h_copy.data(), d);
    fill_zero(grad_h.data(), d);
    loss += sgd_update_targets(h_copy.data(), targets.data(), n, n_pos, lr, grad_h.data(), coef.data(), d, true);
    add(grad_h.data(), h, d);
  };
  for (int64_t r = begin; r < end; ++r) {
    if (r + 4 < end) prefetch_batch_row<1>(w, b, r + 4, true);
    if (r + 1 < end) prefetch_batch_row(w, b, r + 1, true);
    if (at.is_pad(b.center[r])) continue;
    T* h = w.input + static_cast<int64_t>(b.center[r]) * w.input_stride;
    if (b.negatives_per_context) {
      for (int64_t j = 0; j < b.context_size; ++j) {
        const int64_t c = b.context[at.context_at(r, j)];
        if (at.is_pad(c)) continue;
        int64_t n = 0;
        targets[n++] = out_row(c);
        for (int64_t k = 0; k < b.negatives; ++k) {
          const int64_t neg = b.negative[at.negative_at(r, j, k)];
          if (!at.is_pad(neg)) targets[n++] = out_row(neg);
        }
        update(h, n, 1);
      }
    } else {
      int64_t n = 0;
      for (int64_t j = 0; j < b.context_size; ++j) {
        const int64_t c = b.context[at.context_at(r, j)];
        if (!at.is_pad(c)) targets[n++] = out_row(c);
      }
      const int64_t n_pos = n;
      for (int64_t k = 0; k < b.negatives; ++k) {
        const int64_t neg = b.negative[at.negative_at(r, 0, k)];
        if (!at.is_pad(neg)) targets[n++] = out_row(neg);
      }
      if (n > 0) update(h, n, n_pos);
    }
  }
  return loss;
}

}  // namespace

template <typename T, typename I>
void sgns_forward(const EmbeddingPair<T>& weights, const NsBatch<I>& batch, compute_t<T>* pos_loss,
                  compute_t<T>* neg_loss, const SavedGrad<compute_t<T>>& saved, int threads) {
  const int team = threads_for(threads, batch.rows, 16);
#pragma omp parallel num_threads(team)
  {
    int64_t begin, end;
    split_range(batch.rows, omp_get_num_threads(), omp_get_thread_num(), &begin, &end);
    sgns_forward_rows(weights, batch, pos_loss, neg_loss, saved, begin, end);
  }
}

template <typename T, typename I>
void sgns_backward(const NsBatch<I>& batch, const SavedGrad<compute_t<T>>& saved, int64_t dim,
                   const compute_t<T>* grad_pos, const compute_t<T>* grad_neg, GradRows<T> grad_input,
                   GradRows<T> grad_output, const NsSlots& slots, int threads) {
  using CT = compute_t<T>;
  const int64_t B = batch.rows;
  std::vector<CT> combined(B * dim);
  std::vector<ScatterTerm<CT>> input_terms(B), output_terms(B * saved.terms_per_row);
  const int team = threads_for(threads, B, 16);
#pragma omp parallel num_threads(team)
  {
    int64_t begin, end;
    split_range(B, omp_get_num_threads(), omp_get_thread_num(), &begin, &end);
    sgns_backward_rows(batch, saved, dim, grad_pos, grad_neg, slots, combined.data(), input_terms.data(),
                       output_terms.data(), begin, end);
  }
  if (slots.center || slots.context || slots.negative)
    sum_terms_by_row(grad_input, input_terms, grad_output, output_terms, dim, threads);
  else
    scatter_terms(grad_input, input_terms, grad_output, output_terms, dim, threads);
}

template <typename T, typename I>
double sgns_sgd_step(const EmbeddingPair<T>& weights, const NsBatch<I>& batch, compute_t<T> lr, int threads) {
  const int team = threads_for(threads, batch.rows, 16);
  double loss = 0;
#pragma omp parallel num_threads(team) reduction(+ : loss)
  {
    int64_t begin, end;
    split_range(batch.rows, omp_get_num_threads(), omp_get_thread_num(), &begin, &end);
    loss += sgns_sgd_step_rows(weights, batch, lr, begin, end);
  }
  return loss;
}

#define W2V_INSTANTIATE(T, I)                                                                                \
  template void sgns_forward<T, I>(const EmbeddingPair<T>&, const NsBatch<I>&, compute_t<T>*, compute_t<T>*,  \
                                   const SavedGrad<compute_t<T>>&, int);                                    \
  template void sgns_backward<T, I>(const NsBatch<I>&, const SavedGrad<compute_t<T>>&, int64_t,             \
                                    const compute_t<T>*, const compute_t<T>*, GradRows<T>, GradRows<T>,     \
                                    const NsSlots&, int);                                                   \
  template double sgns_sgd_step<T, I>(const EmbeddingPair<T>&, const NsBatch<I>&, compute_t<T>, int);
W2V_INSTANTIATE(float, int32_t)
W2V_INSTANTIATE(float, int64_t)
W2V_INSTANTIATE(double, int32_t)
W2V_INSTANTIATE(double, int64_t)
#undef W2V_INSTANTIATE

}  // namespace w2v::cpu
