#include "cbow_ns.h"

#include "cuda/cuda_check.cuh"
#include "cuda/launch.cuh"
#include "cuda/warp_ops.cuh"
#include "ns_terms.h"
#include "w2v_math.h"

namespace w2v::cuda {

namespace {

// h = mean of row r's non-padding context vectors (the warp's own scratch), in the
// compute type; returns how many there were.
template <typename T, typename I>
__device__ __forceinline__ int64_t context_mean(const EmbeddingPair<T>& w, const NsBatch<I>& b, int64_t r,
                                                compute_t<T>* h, int lane) {
  using CT = compute_t<T>;
  warp_fill(CT(0), h, w.dim, lane);
  int64_t n = 0;
  for (int64_t j = 0; j < b.context_size; ++j) {
    const int64_t c = b.context[r * b.context_size + j];
    if (is_padding(b, c)) continue;
    warp_axpy(CT(1), w.input + c * w.input_stride, h, w.dim, lane);
    ++n;
  }
  if (n > 1) {
    const CT share = CT(1) / static_cast<CT>(n);
    for (int64_t i = lane; i < w.dim; i += kWarp) h[i] *= share;
  }
  __syncwarp();
  return n;
}

template <typename T, typename I>
__global__ void cbow_forward_kernel(EmbeddingPair<T> w, NsBatch<I> b, compute_t<T>* pos_loss, compute_t<T>* neg_loss,
                                    SavedGrad<compute_t<T>> saved) {
  using CT = compute_t<T>;
  W2V_DYNAMIC_SHARED(unsigned char, shared_bytes);
  const WarpSlot slot = warp_slot();
  if (slot.row >= b.rows || batch_blocked(b)) return;
  const int64_t r = slot.row, d = w.dim;
  const bool keep = saved.keep;
  CT* h = keep ? saved.hidden + r * d : reinterpret_cast<CT*>(shared_bytes) + slot.warp_in_block * d;
  CT *coef = nullptr, *gh_pos = nullptr, *gh_neg = nullptr;
  if (keep) {
    coef = saved.coef + r * saved.terms_per_row, gh_pos = saved.grad_h_pos + r * d, gh_neg = saved.grad_h_neg + r * d;
    for (int64_t t = slot.lane; t < saved.terms_per_row; t += kWarp) coef[t] = 0;
    warp_fill(CT(0), gh_pos, d, slot.lane), warp_fill(CT(0), gh_neg, d, slot.lane);
    __syncwarp();  // lane 0 writes coefficients other lanes zeroed
  }
  CT pos = 0, neg = 0;
  if (cbow_row_is_valid(b, r)) {
    context_mean(w, b, r, h, slot.lane);
    cbow_for_each_term(b, r, [&](int64_t q) { return cbow_row_is_valid(b, q); }, [&](int64_t target, int64_t, int64_t term, bool is_center, bool label) {
      const T* u = w.output + target * w.output_stride;
      const CT score = warp_dot(h, u, d, slot.lane);
      (is_center ? pos : neg) += bce_with_logits(score, label);
      if (keep) {
        const CT g = bce_with_logits_grad(score, label);
        if (slot.lane == 0) coef[term] = g;
        warp_axpy(g, u, is_center ? gh_pos : gh_neg, d, slot.lane);
      }
    });
  } else if (keep) {
    warp_fill(CT(0), h, d, slot.lane);
  }
  if (slot.lane == 0) pos_loss[r] = pos, neg_loss[r] = neg;
}

// One warp per row, from the saved forward: every context row gets (grad_pos * grad_h_pos
// + grad_neg * grad_h_neg) / n, every target row upstream * coef * h; both with atomics.
template <typename T, typename I>
__global__ void cbow_backward_kernel(NsBatch<I> b, SavedGrad<compute_t<T>> saved, int64_t d,
                                     const compute_t<T>* grad_pos, const compute_t<T>* grad_neg,
                                     GradRows<T> grad_input, GradRows<T> grad_output, NsSlots slots) {
  using CT = compute_t<T>;
  const WarpSlot slot = warp_slot();
  if (slot.row >= b.rows || batch_blocked(b)) return;
  const int64_t r = slot.row;
  if (!cbow_row_is_valid(b, r)) return;
  const CT* gh_pos = saved.grad_h_pos + r * d;
  const CT* gh_neg = saved.grad_h_neg + r * d;
  int64_t n_context = 0;
  for (int64_t j = 0; j < b.context_size; ++j) n_context += !is_padding(b, b.context[r * b.context_size + j]);
  const CT share = CT(1) / static_cast<CT>(n_context);
  for (int64_t j = 0; j < b.context_size; ++j) {
    const int64_t ci = r * b.context_size + j, c = b.context[ci];
    if (is_padding(b, c)) continue;
    T* row = grad_input.rows + (slots.context ? slots.context[ci] : c) * grad_input.stride;
    for (int64_t i = slot.lane; i < d; i += kWarp)
      atomicAdd(row + i, static_cast<T>(share * (grad_pos[r] * gh_pos[i] + grad_neg[r] * gh_neg[i])));
  }
  const CT* coef = saved.coef + r * saved.terms_per_row;
  const CT* h = saved.hidden + r * d;
  cbow_for_each_term(b, r, [&](int64_t q) { return cbow_row_is_valid(b, q); }, [&](int64_t target, int64_t position, int64_t term, bool is_center, bool) {
    const int64_t* slot_of = is_center ? slots.center : slots.negative;
    const int64_t row = slot_of ? slot_of[position] : target;
    warp_atomic_axpy((is_center ? grad_pos[r] : grad_neg[r]) * coef[term], h,
                     grad_output.rows + row * grad_output.stride, d, slot.lane);
  });
}

template <typename T, typename I>
__global__ void cbow_sgd_step_kernel(EmbeddingPair<T> w, NsBatch<I> b, compute_t<T> lr, bool exact_context_gradient,
                                     bool atomic, compute_t<T>* loss) {
  using CT = compute_t<T>;
  // The step trains each row on its own centre and negatives, as the CPU step does; coef
  // holds 1 + K terms, not the B + K of in-batch positives.
  b.in_batch_positives = false;
  W2V_DYNAMIC_SHARED(unsigned char, shared_bytes);
  const WarpSlot slot = warp_slot();
  if (slot.row >= b.rows || batch_blocked(b)) return;
  const int64_t r = slot.row, d = w.dim;
  if (is_padding(b, b.center[r])) return;
  CT* h = reinterpret_cast<CT*>(shared_bytes) + slot.warp_in_block * (2 * d + 1 + b.negatives);
  CT* gh = h + d;
  CT* coef = gh + d;
  const int64_t n_context = context_mean(w, b, r, h, slot.lane);
  if (n_context == 0) return;
  warp_fill(CT(0), gh, d, slot.lane);
  CT row_loss = 0;
  int64_t n = 0;
  cbow_for_each_term(b, r, [&](int64_t q) { return cbow_row_is_valid(b, q); }, [&](int64_t target, int64_t, int64_t, bool, bool label) {
    const T* u = w.output + target * w.output_stride;
    const CT score = warp_dot(h, u, d, slot.lane);
    row_loss += bce_with_logits(score, label);
    const CT g = -lr * bce_with_logits_grad(score, label);
    if (slot.lane == 0) coef[n] = g;
    warp_axpy(g, u, gh, d, slot.lane);
    ++n;
  });
  __syncwarp();
  n = 0;
  cbow_for_each_term(b, r, [&](int64_t q) { return cbow_row_is_valid(b, q); }, [&](int64_t target, int64_t, int64_t, bool, bool) {
    warp_update(atomic, coef[n++], h, w.output + target * w.output_stride, d, slot.lane);
    __syncwarp();
  });
  const CT share = exact_context_gradient ? CT(1) / static_cast<CT>(n_context) : CT(1);
  for (int64_t j = 0; j < b.context_size; ++j) {
    const int64_t c = b.context[r * b.context_size + j];
    if (is_padding(b, c)) continue;
    warp_update(atomic, share, gh, w.input + c * w.input_stride, d, slot.lane);
    __syncwarp();
  }
  if (slot.lane == 0) atomicAdd(loss, row_loss);
}

}  // namespace

template <typename T, typename I>
void cbow_ns_forward(const EmbeddingPair<T>& weights, const NsBatch<I>& batch, compute_t<T>* pos_loss,
                     compute_t<T>* neg_loss, const SavedGrad<compute_t<T>>& saved, void* stream) {
  if (batch.rows == 0) return;
  const size_t per_warp = saved.keep ? 0 : static_cast<size_t>(weights.dim) * sizeof(compute_t<T>);
  const int warps = warps_fitting(per_warp);
  W2V_LAUNCH((cbow_forward_kernel<T, I>), blocks_for_rows(batch.rows, warps), warps * kWarp, warps * per_warp,
             as_stream(stream))(weights, batch, pos_loss, neg_loss, saved);
  check_launch("cbow_ns_forward");
}

template <typename T, typename I>
void cbow_ns_backward(const NsBatch<I>& batch, const SavedGrad<compute_t<T>>& saved, int64_t dim,
                      const compute_t<T>* grad_pos, const compute_t<T>* grad_neg, GradRows<T> grad_input,
                      GradRows<T> grad_output, const NsSlots& slots, void* stream) {
  if (batch.rows == 0) return;
  W2V_LAUNCH((cbow_backward_kernel<T, I>), blocks_for_rows(batch.rows, kWarpsPerBlock), kWarpsPerBlock * kWarp, 0,
             as_stream(stream))(batch, saved, dim, grad_pos, grad_neg, grad_input, grad_output, slots);
  check_launch("cbow_ns_backward");
}

template <typename T, typename I>
void cbow_ns_sgd_step(const EmbeddingPair<T>& weights, const NsBatch<I>& batch, compute_t<T> lr,
                      bool exact_context_gradient, bool atomic_updates, compute_t<T>* loss, void* stream) {
  if (batch.rows == 0) return;
  const size_t per_warp = static_cast<size_t>(2 * weights.dim + 1 + batch.negatives) * sizeof(compute_t<T>);
  const int warps = warps_fitting(per_warp);
  W2V_LAUNCH((cbow_sgd_step_kernel<T, I>), blocks_for_rows(batch.rows, warps), warps * kWarp, warps * per_warp,
             as_stream(stream))(weights, batch, lr, exact_context_gradient, atomic_updates, loss);
  check_launch("cbow_ns_sgd_step");
}

#define W2V_INSTANTIATE(T, I)                                                                                   \
  template void cbow_ns_forward<T, I>(const EmbeddingPair<T>&, const NsBatch<I>&, compute_t<T>*, compute_t<T>*,  \
                                      const SavedGrad<compute_t<T>>&, void*);                                  \
  template void cbow_ns_backward<T, I>(const NsBatch<I>&, const SavedGrad<compute_t<T>>&, int64_t,             \
                                       const compute_t<T>*, const compute_t<T>*, GradRows<T>, GradRows<T>,     \
                                       const NsSlots&, void*);                                                 \
  template void cbow_ns_sgd_step<T, I>(const EmbeddingPair<T>&, const NsBatch<I>&, compute_t<T>, bool, bool,   \
                                       compute_t<T>*, void*);
W2V_INSTANTIATE(float, int32_t)
W2V_INSTANTIATE(float, int64_t)
W2V_INSTANTIATE(double, int32_t)
W2V_INSTANTIATE(double, int64_t)
#undef W2V_INSTANTIATE

}  // namespace w2v::cuda
