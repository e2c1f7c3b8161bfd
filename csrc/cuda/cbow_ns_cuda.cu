#include "cbow_ns.h"

#include "cuda/warp_ops.cuh"
#include "w2v_math.h"

namespace w2v::cuda {

namespace {

template <typename I>
__device__ __forceinline__ bool is_pad(const NsBatch<I>& b, int64_t index) {
  return index == b.padding_idx;
}

// A row takes part when its centre is not padding and it has a non-padding context.
template <typename I>
__device__ __forceinline__ bool row_is_valid(const NsBatch<I>& b, int64_t r) {
  if (is_pad(b, b.center[r])) return false;
  for (int64_t j = 0; j < b.context_size; ++j)
    if (!is_pad(b, b.context[r * b.context_size + j])) return true;
  return false;
}

// h = mean of row r's non-padding context vectors (the warp's own scratch); returns how many.
template <typename T, typename I>
__device__ __forceinline__ int64_t context_mean(const EmbeddingPair<T>& w, const NsBatch<I>& b, int64_t r, T* h,
                                                int lane) {
  warp_fill(T(0), h, w.dim, lane);
  int64_t n = 0;
  for (int64_t j = 0; j < b.context_size; ++j) {
    const int64_t c = b.context[r * b.context_size + j];
    if (is_pad(b, c)) continue;
    warp_axpy(T(1), w.input + c * w.input_stride, h, w.dim, lane);
    ++n;
  }
  if (n > 1) {
    const T share = T(1) / static_cast<T>(n);
    for (int64_t i = lane; i < w.dim; i += kWarp) h[i] *= share;
  }
  __syncwarp();
  return n;
}

// Calls visit(target, position in its index array or -1, is_center, label) for every target
// of valid row r: its own centre (or, in-batch, every valid row's centre) and its negatives.
template <typename I, typename Visit>
__device__ __forceinline__ void for_each_target(const NsBatch<I>& b, int64_t r, Visit&& visit) {
  if (b.in_batch_positives) {
    for (int64_t q = 0; q < b.rows; ++q)
      if (row_is_valid(b, q)) visit(static_cast<int64_t>(b.center[q]), q, true, q == r);
  } else {
    visit(static_cast<int64_t>(b.center[r]), r, true, true);
  }
  for (int64_t k = 0; k < b.negatives; ++k) {
    const int64_t ni = r * b.negatives + k, n = b.negative[ni];
    if (!is_pad(b, n)) visit(n, ni, false, false);
  }
}

template <typename T, typename I>
__global__ void cbow_forward_kernel(EmbeddingPair<T> w, NsBatch<I> b, T* pos_loss, T* neg_loss) {
  extern __shared__ unsigned char shared_bytes[];
  const WarpSlot slot = warp_slot();
  if (slot.row >= b.rows) return;
  const int64_t r = slot.row;
  T* h = reinterpret_cast<T*>(shared_bytes) + slot.warp_in_block * w.dim;
  T pos = 0, neg = 0;
  if (!is_pad(b, b.center[r]) && context_mean(w, b, r, h, slot.lane) > 0) {
    for_each_target(b, r, [&](int64_t target, int64_t, bool is_center, bool label) {
      const T score = warp_dot(h, w.output + target * w.output_stride, w.dim, slot.lane);
      (is_center ? pos : neg) += bce_with_logits(score, label);
    });
  }
  if (slot.lane == 0) pos_loss[r] = pos, neg_loss[r] = neg;
}

template <typename T, typename I>
__global__ void cbow_backward_kernel(EmbeddingPair<T> w, NsBatch<I> b, const T* grad_pos, const T* grad_neg,
                                     GradRows<T> grad_input, GradRows<T> grad_output, NsSlots slots) {
  extern __shared__ unsigned char shared_bytes[];
  const WarpSlot slot = warp_slot();
  if (slot.row >= b.rows) return;
  const int64_t r = slot.row, d = w.dim;
  if (!row_is_valid(b, r)) return;
  T* h = reinterpret_cast<T*>(shared_bytes) + slot.warp_in_block * 2 * d;
  T* gh = h + d;
  const int64_t n_context = context_mean(w, b, r, h, slot.lane);
  warp_fill(T(0), gh, d, slot.lane);
  for_each_target(b, r, [&](int64_t target, int64_t position, bool is_center, bool label) {
    const T* u = w.output + target * w.output_stride;
    const T coef = (is_center ? grad_pos[r] : grad_neg[r]) * bce_with_logits_grad(warp_dot(h, u, d, slot.lane), label);
    warp_axpy(coef, u, gh, d, slot.lane);
    const int64_t* slot_of = is_center ? slots.center : slots.negative;
    const int64_t row = slot_of ? slot_of[position] : target;
    warp_atomic_axpy(coef, h, grad_output.rows + row * grad_output.stride, d, slot.lane);
  });
  __syncwarp();
  const T share = T(1) / static_cast<T>(n_context);
  for (int64_t j = 0; j < b.context_size; ++j) {
    const int64_t ci = r * b.context_size + j, c = b.context[ci];
    if (is_pad(b, c)) continue;
    const int64_t row = slots.context ? slots.context[ci] : c;
    warp_atomic_axpy(share, gh, grad_input.rows + row * grad_input.stride, d, slot.lane);
  }
}

template <typename T, typename I>
__global__ void cbow_sgd_step_kernel(EmbeddingPair<T> w, NsBatch<I> b, T lr, bool exact_context_gradient, T* loss) {
  extern __shared__ unsigned char shared_bytes[];
  const WarpSlot slot = warp_slot();
  if (slot.row >= b.rows) return;
  const int64_t r = slot.row, d = w.dim;
  if (is_pad(b, b.center[r])) return;
  T* h = reinterpret_cast<T*>(shared_bytes) + slot.warp_in_block * (2 * d + 1 + b.negatives);
  T* gh = h + d;
  T* coef = gh + d;
  const int64_t n_context = context_mean(w, b, r, h, slot.lane);
  if (n_context == 0) return;
  warp_fill(T(0), gh, d, slot.lane);
  T row_loss = 0;
  int64_t n = 0;
  for_each_target(b, r, [&](int64_t target, int64_t, bool, bool label) {
    const T* u = w.output + target * w.output_stride;
    const T score = warp_dot(h, u, d, slot.lane);
    row_loss += bce_with_logits(score, label);
    const T g = -lr * bce_with_logits_grad(score, label);
    if (slot.lane == 0) coef[n] = g;
    warp_axpy(g, u, gh, d, slot.lane);
    ++n;
  });
  __syncwarp();
  n = 0;
  for_each_target(b, r, [&](int64_t target, int64_t, bool, bool) {
    warp_axpy(coef[n++], h, w.output + target * w.output_stride, d, slot.lane);
    __syncwarp();
  });
  const T share = exact_context_gradient ? T(1) / static_cast<T>(n_context) : T(1);
  for (int64_t j = 0; j < b.context_size; ++j) {
    const int64_t c = b.context[r * b.context_size + j];
    if (is_pad(b, c)) continue;
    warp_axpy(share, gh, w.input + c * w.input_stride, d, slot.lane);
    __syncwarp();
  }
  if (slot.lane == 0) atomicAdd(loss, row_loss);
}

}  // namespace

template <typename T, typename I>
void cbow_ns_forward(const EmbeddingPair<T>& weights, const NsBatch<I>& batch, T* pos_loss, T* neg_loss,
                     void* stream) {
  if (batch.rows == 0) return;
  const size_t per_warp = static_cast<size_t>(weights.dim) * sizeof(T);
  const int warps = warps_fitting(per_warp);
  cbow_forward_kernel<T, I><<<blocks_for_rows(batch.rows, warps), warps * kWarp, warps * per_warp,
                              as_stream(stream)>>>(weights, batch, pos_loss, neg_loss);
  check_launch("cbow_ns_forward");
}

template <typename T, typename I>
void cbow_ns_backward(const EmbeddingPair<T>& weights, const NsBatch<I>& batch, const T* grad_pos,
                      const T* grad_neg, GradRows<T> grad_input, GradRows<T> grad_output, const NsSlots& slots,
                      void* stream) {
  if (batch.rows == 0) return;
  const size_t per_warp = static_cast<size_t>(2 * weights.dim) * sizeof(T);
  const int warps = warps_fitting(per_warp);
  cbow_backward_kernel<T, I><<<blocks_for_rows(batch.rows, warps), warps * kWarp, warps * per_warp,
                               as_stream(stream)>>>(weights, batch, grad_pos, grad_neg, grad_input, grad_output,
                                                    slots);
  check_launch("cbow_ns_backward");
}

template <typename T, typename I>
void cbow_ns_sgd_step(const EmbeddingPair<T>& weights, const NsBatch<I>& batch, T lr, bool exact_context_gradient,
                      T* loss, void* stream) {
  if (batch.rows == 0) return;
  const size_t per_warp = static_cast<size_t>(2 * weights.dim + 1 + batch.negatives) * sizeof(T);
  const int warps = warps_fitting(per_warp);
  cbow_sgd_step_kernel<T, I><<<blocks_for_rows(batch.rows, warps), warps * kWarp, warps * per_warp,
                               as_stream(stream)>>>(weights, batch, lr, exact_context_gradient, loss);
  check_launch("cbow_ns_sgd_step");
}

#define W2V_INSTANTIATE(T, I)                                                                                 \
  template void cbow_ns_forward<T, I>(const EmbeddingPair<T>&, const NsBatch<I>&, T*, T*, void*);            \
  template void cbow_ns_backward<T, I>(const EmbeddingPair<T>&, const NsBatch<I>&, const T*, const T*,       \
                                       GradRows<T>, GradRows<T>, const NsSlots&, void*);                     \
  template void cbow_ns_sgd_step<T, I>(const EmbeddingPair<T>&, const NsBatch<I>&, T, bool, T*, void*);
W2V_INSTANTIATE(float, int32_t)
W2V_INSTANTIATE(float, int64_t)
W2V_INSTANTIATE(double, int32_t)
W2V_INSTANTIATE(double, int64_t)
#undef W2V_INSTANTIATE

}  // namespace w2v::cuda
