#include "sgns.h"

#include "cuda/warp_ops.cuh"
#include "w2v_math.h"

namespace w2v::cuda {

namespace {

// Index arithmetic for one skip-gram batch (as in cpu/sgns_cpu.cpp).
template <typename I>
struct SgnsLayout {
  NsBatch<I> b;
  __device__ int64_t context_at(int64_t r, int64_t j) const { return r * b.context_size + j; }
  __device__ int64_t negative_at(int64_t r, int64_t j, int64_t k) const {
    return b.negatives_per_context ? (r * b.context_size + j) * b.negatives + k : r * b.negatives + k;
  }
  __device__ bool is_pad(int64_t index) const { return index == b.padding_idx; }
};

// Calls visit(target, position in its index array, positive) for every target of row r
// (contexts, then negatives), with `context` giving the context slot of per-context negatives.
template <typename I, typename Visit>
__device__ __forceinline__ void for_each_target(const SgnsLayout<I>& at, int64_t r, Visit&& visit) {
  const NsBatch<I>& b = at.b;
  for (int64_t j = 0; j < b.context_size; ++j) {
    const int64_t ci = at.context_at(r, j), c = b.context[ci];
    if (at.is_pad(c)) continue;
    visit(c, ci, true);
    if (!b.negatives_per_context) continue;
    for (int64_t k = 0; k < b.negatives; ++k) {
      const int64_t ni = at.negative_at(r, j, k), n = b.negative[ni];
      if (!at.is_pad(n)) visit(n, ni, false);
    }
  }
  if (!b.negatives_per_context) {
    for (int64_t k = 0; k < b.negatives; ++k) {
      const int64_t ni = at.negative_at(r, 0, k), n = b.negative[ni];
      if (!at.is_pad(n)) visit(n, ni, false);
    }
  }
}

template <typename T, typename I>
__global__ void sgns_forward_kernel(EmbeddingPair<T> w, NsBatch<I> b, T* pos_loss, T* neg_loss) {
  const WarpSlot slot = warp_slot();
  if (slot.row >= b.rows) return;
  const SgnsLayout<I> at{b};
  const int64_t r = slot.row;
  T pos = 0, neg = 0;
  if (!at.is_pad(b.center[r])) {
    const T* h = w.input + static_cast<int64_t>(b.center[r]) * w.input_stride;
    for_each_target(at, r, [&](int64_t target, int64_t, bool positive) {
      const T score = warp_dot(h, w.output + target * w.output_stride, w.dim, slot.lane);
      (positive ? pos : neg) += bce_with_logits(score, positive);
    });
  }
  if (slot.lane == 0) pos_loss[r] = pos, neg_loss[r] = neg;
}

// One warp per row: grad_h accumulates in shared memory and is added to the centre's
// gradient row once; every target's row gets coef * h. Both with atomics.
template <typename T, typename I>
__global__ void sgns_backward_kernel(EmbeddingPair<T> w, NsBatch<I> b, const T* grad_pos, const T* grad_neg,
                                     GradRows<T> grad_input, GradRows<T> grad_output, NsSlots slots) {
  extern __shared__ unsigned char shared_bytes[];
  const WarpSlot slot = warp_slot();
  if (slot.row >= b.rows) return;
  const SgnsLayout<I> at{b};
  const int64_t r = slot.row, d = w.dim;
  const int64_t c = b.center[r];
  if (at.is_pad(c)) return;
  T* gh = reinterpret_cast<T*>(shared_bytes) + slot.warp_in_block * d;
  warp_fill(T(0), gh, d, slot.lane);
  const T* h = w.input + c * w.input_stride;
  for_each_target(at, r, [&](int64_t target, int64_t position, bool positive) {
    const T* u = w.output + target * w.output_stride;
    const T coef = (positive ? grad_pos[r] : grad_neg[r]) * bce_with_logits_grad(warp_dot(h, u, d, slot.lane), positive);
    warp_axpy(coef, u, gh, d, slot.lane);
    const int64_t* slot_of = positive ? slots.context : slots.negative;
    const int64_t row = slot_of ? slot_of[position] : target;
    warp_atomic_axpy(coef, h, grad_output.rows + row * grad_output.stride, d, slot.lane);
  });
  __syncwarp();
  const int64_t in_row = slots.center ? slots.center[r] : c;
  warp_atomic_axpy(T(1), gh, grad_input.rows + in_row * grad_input.stride, d, slot.lane);
}

// Scores, then updates, from the weights as they stand when the row (or, for [B, C, K]
// negatives, the (row, context) pair) starts: h is copied first, so a tied table whose
// centre row is also a target gets both steps.
template <typename T, typename I>
__global__ void sgns_sgd_step_kernel(EmbeddingPair<T> w, NsBatch<I> b, T lr, T* loss, int64_t max_targets) {
  extern __shared__ unsigned char shared_bytes[];
  const WarpSlot slot = warp_slot();
  if (slot.row >= b.rows) return;
  const SgnsLayout<I> at{b};
  const int64_t r = slot.row, d = w.dim;
  const int64_t c = b.center[r];
  if (at.is_pad(c)) return;
  T* h = reinterpret_cast<T*>(shared_bytes) + slot.warp_in_block * (2 * d + max_targets);
  T* gh = h + d;
  T* coef = gh + d;
  T* center_row = w.input + c * w.input_stride;
  T row_loss = 0;
  // One update unit: its targets, the first n_pos positive, given by the index positions.
  auto update = [&](auto&& targets_of) {
    for (int64_t i = slot.lane; i < d; i += kWarp) h[i] = center_row[i], gh[i] = 0;
    __syncwarp();
    int64_t n = 0;
    targets_of([&](int64_t target, bool positive) {
      const T* u = w.output + target * w.output_stride;
      const T score = warp_dot(h, u, d, slot.lane);
      row_loss += bce_with_logits(score, positive);
      const T g = -lr * bce_with_logits_grad(score, positive);
      if (slot.lane == 0) coef[n] = g;
      warp_axpy(g, u, gh, d, slot.lane);
      ++n;
    });
    __syncwarp();
    n = 0;
    targets_of([&](int64_t target, bool) {
      warp_axpy(coef[n++], h, w.output + target * w.output_stride, d, slot.lane);
      __syncwarp();
    });
    warp_axpy(T(1), gh, center_row, d, slot.lane);
    __syncwarp();
  };
  if (b.negatives_per_context) {
    for (int64_t j = 0; j < b.context_size; ++j) {
      const int64_t ctx = b.context[at.context_at(r, j)];
      if (at.is_pad(ctx)) continue;
      update([&](auto&& visit) {
        visit(ctx, true);
        for (int64_t k = 0; k < b.negatives; ++k) {
          const int64_t neg = b.negative[at.negative_at(r, j, k)];
          if (!at.is_pad(neg)) visit(neg, false);
        }
      });
    }
  } else {
    update([&](auto&& visit) { for_each_target(at, r, [&](int64_t t, int64_t, bool positive) { visit(t, positive); }); });
  }
  if (slot.lane == 0) atomicAdd(loss, row_loss);
}

}  // namespace

template <typename T, typename I>
void sgns_forward(const EmbeddingPair<T>& weights, const NsBatch<I>& batch, T* pos_loss, T* neg_loss, void* stream) {
  if (batch.rows == 0) return;
  sgns_forward_kernel<T, I><<<blocks_for_rows(batch.rows, kWarpsPerBlock), kWarpsPerBlock * kWarp, 0,
                              as_stream(stream)>>>(weights, batch, pos_loss, neg_loss);
  check_launch("sgns_forward");
}

template <typename T, typename I>
void sgns_backward(const EmbeddingPair<T>& weights, const NsBatch<I>& batch, const T* grad_pos, const T* grad_neg,
                   GradRows<T> grad_input, GradRows<T> grad_output, const NsSlots& slots, void* stream) {
  if (batch.rows == 0) return;
  const size_t per_warp = static_cast<size_t>(weights.dim) * sizeof(T);
  const int warps = warps_fitting(per_warp);
  sgns_backward_kernel<T, I><<<blocks_for_rows(batch.rows, warps), warps * kWarp, warps * per_warp,
                               as_stream(stream)>>>(weights, batch, grad_pos, grad_neg, grad_input, grad_output,
                                                    slots);
  check_launch("sgns_backward");
}

template <typename T, typename I>
void sgns_sgd_step(const EmbeddingPair<T>& weights, const NsBatch<I>& batch, T lr, T* loss, void* stream) {
  if (batch.rows == 0) return;
  const int64_t max_targets = batch.negatives_per_context ? 1 + batch.negatives : batch.context_size + batch.negatives;
  const size_t per_warp = static_cast<size_t>(2 * weights.dim + max_targets) * sizeof(T);
  const int warps = warps_fitting(per_warp);
  sgns_sgd_step_kernel<T, I><<<blocks_for_rows(batch.rows, warps), warps * kWarp, warps * per_warp,
                               as_stream(stream)>>>(weights, batch, lr, loss, max_targets);
  check_launch("sgns_sgd_step");
}

#define W2V_INSTANTIATE(T, I)                                                                              \
  template void sgns_forward<T, I>(const EmbeddingPair<T>&, const NsBatch<I>&, T*, T*, void*);            \
  template void sgns_backward<T, I>(const EmbeddingPair<T>&, const NsBatch<I>&, const T*, const T*,       \
                                    GradRows<T>, GradRows<T>, const NsSlots&, void*);                     \
  template void sgns_sgd_step<T, I>(const EmbeddingPair<T>&, const NsBatch<I>&, T, T*, void*);
W2V_INSTANTIATE(float, int32_t)
W2V_INSTANTIATE(float, int64_t)
W2V_INSTANTIATE(double, int32_t)
W2V_INSTANTIATE(double, int64_t)
#undef W2V_INSTANTIATE

}  // namespace w2v::cuda
