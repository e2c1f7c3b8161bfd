#include "sgns.h"

#include "cuda/cuda_check.cuh"
#include "cuda/launch.cuh"
#include "cuda/warp_ops.cuh"
#include "ns_terms.h"
#include "w2v_math.h"

namespace w2v::cuda {

namespace {

// One warp per row. With saved.coef set, also the row's coefficients, the two halves of
// grad_h (each lane its own elements) and h.
template <typename T, typename I>
__global__ void sgns_forward_kernel(EmbeddingPair<T> w, NsBatch<I> b, compute_t<T>* pos_loss, compute_t<T>* neg_loss,
                                    SavedGrad<compute_t<T>> saved) {
  using CT = compute_t<T>;
  const WarpSlot slot = warp_slot();
  if (slot.row >= b.rows || batch_blocked(b)) return;
  const SgnsLayout<I> at{b};
  const int64_t r = slot.row, d = w.dim;
  const bool keep = saved.keep;
  CT *coef = nullptr, *gh_pos = nullptr, *gh_neg = nullptr, *hidden = nullptr;
  if (keep) {
    coef = saved.coef + r * saved.terms_per_row, gh_pos = saved.grad_h_pos + r * d;
    gh_neg = saved.grad_h_neg + r * d, hidden = saved.hidden + r * d;
    for (int64_t t = slot.lane; t < saved.terms_per_row; t += kWarp) coef[t] = 0;
    warp_fill(CT(0), gh_pos, d, slot.lane), warp_fill(CT(0), gh_neg, d, slot.lane);
    warp_fill(CT(0), hidden, d, slot.lane);
    __syncwarp();  // lane 0 writes coefficients other lanes zeroed
  }
  CT pos = 0, neg = 0;
  if (!at.is_pad(b.center[r])) {
    const T* h = w.input + static_cast<int64_t>(b.center[r]) * w.input_stride;
    if (keep) warp_axpy(CT(1), h, hidden, d, slot.lane);
    sgns_for_each_term(at, r, [&](int64_t target, int64_t, int64_t term, bool positive) {
      const T* u = w.output + target * w.output_stride;
      const CT score = warp_dot(h, u, d, slot.lane);
      (positive ? pos : neg) += bce_with_logits(score, positive);
      if (keep) {
        const CT g = bce_with_logits_grad(score, positive);
        if (slot.lane == 0) coef[term] = g;
        warp_axpy(g, u, positive ? gh_pos : gh_neg, d, slot.lane);
      }
    });
  }
  if (slot.lane == 0) pos_loss[r] = pos, neg_loss[r] = neg;
}

// One warp per row, from the saved forward: the centre's row gets grad_pos * grad_h_pos +
// grad_neg * grad_h_neg, every target's row upstream * coef * h; both with atomics.
template <typename T, typename I>
__global__ void sgns_backward_kernel(NsBatch<I> b, SavedGrad<compute_t<T>> saved, int64_t d,
                                     const compute_t<T>* grad_pos, const compute_t<T>* grad_neg,
                                     GradRows<T> grad_input, GradRows<T> grad_output, NsSlots slots) {
  using CT = compute_t<T>;
  const WarpSlot slot = warp_slot();
  if (slot.row >= b.rows || batch_blocked(b)) return;
  const SgnsLayout<I> at{b};
  const int64_t r = slot.row;
  const int64_t c = b.center[r];
  if (at.is_pad(c)) return;
  const CT* gh_pos = saved.grad_h_pos + r * d;
  const CT* gh_neg = saved.grad_h_neg + r * d;
  T* in_row = grad_input.rows + (slots.center ? slots.center[r] : c) * grad_input.stride;
  for (int64_t i = slot.lane; i < d; i += kWarp)
    atomicAdd(in_row + i, static_cast<T>(grad_pos[r] * gh_pos[i] + grad_neg[r] * gh_neg[i]));
  const CT* coef = saved.coef + r * saved.terms_per_row;
  const CT* h = saved.hidden + r * d;
  sgns_for_each_term(at, r, [&](int64_t target, int64_t position, int64_t term, bool positive) {
    const int64_t* slot_of = positive ? slots.context : slots.negative;
    const int64_t row = slot_of ? slot_of[position] : target;
    warp_atomic_axpy((positive ? grad_pos[r] : grad_neg[r]) * coef[term], h,
                     grad_output.rows + row * grad_output.stride, d, slot.lane);
  });
}

// Scores, then updates, from the weights as they stand when the row (or, for [B, C, K]
// negatives, the (row, context) pair) starts: h is copied first, so a tied table whose
// centre row is also a target gets both steps. The rows are updated with warp_update.
template <typename T, typename I>
__global__ void sgns_sgd_step_kernel(EmbeddingPair<T> w, NsBatch<I> b, compute_t<T> lr, bool atomic,
                                     compute_t<T>* loss, int64_t max_targets) {
  using CT = compute_t<T>;
  W2V_DYNAMIC_SHARED(unsigned char, shared_bytes);
  const WarpSlot slot = warp_slot();
  if (slot.row >= b.rows || batch_blocked(b)) return;
  const SgnsLayout<I> at{b};
  const int64_t r = slot.row, d = w.dim;
  const int64_t c = b.center[r];
  if (at.is_pad(c)) return;
  CT* h = reinterpret_cast<CT*>(shared_bytes) + slot.warp_in_block * (2 * d + max_targets);
  CT* gh = h + d;
  CT* coef = gh + d;
  T* center_row = w.input + c * w.input_stride;
  CT row_loss = 0;
  // One update unit: its targets, the first n_pos positive, given by the index positions.
  auto update = [&](auto&& targets_of) {
    for (int64_t i = slot.lane; i < d; i += kWarp) h[i] = static_cast<CT>(center_row[i]), gh[i] = 0;
    __syncwarp();
    int64_t n = 0;
    targets_of([&](int64_t target, bool positive) {
      const T* u = w.output + target * w.output_stride;
      const CT score = warp_dot(h, u, d, slot.lane);
      row_loss += bce_with_logits(score, positive);
      const CT g = -lr * bce_with_logits_grad(score, positive);
      if (slot.lane == 0) coef[n] = g;
      warp_axpy(g, u, gh, d, slot.lane);
      ++n;
    });
    __syncwarp();
    n = 0;
    targets_of([&](int64_t target, bool) {
      warp_update(atomic, coef[n++], h, w.output + target * w.output_stride, d, slot.lane);
      __syncwarp();
    });
    warp_update(atomic, CT(1), gh, center_row, d, slot.lane);
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
    update([&](auto&& visit) {
      sgns_for_each_term(at, r, [&](int64_t t, int64_t, int64_t, bool positive) { visit(t, positive); });
    });
  }
  if (slot.lane == 0) atomicAdd(loss, row_loss);
}

}  // namespace

template <typename T, typename I>
void sgns_forward(const EmbeddingPair<T>& weights, const NsBatch<I>& batch, compute_t<T>* pos_loss,
                  compute_t<T>* neg_loss, const SavedGrad<compute_t<T>>& saved, void* stream) {
  if (batch.rows == 0) return;
  W2V_LAUNCH((sgns_forward_kernel<T, I>), blocks_for_rows(batch.rows, kWarpsPerBlock), kWarpsPerBlock * kWarp, 0,
             as_stream(stream))(weights, batch, pos_loss, neg_loss, saved);
  check_launch("sgns_forward");
}

template <typename T, typename I>
void sgns_backward(const NsBatch<I>& batch, const SavedGrad<compute_t<T>>& saved, int64_t dim,
                   const compute_t<T>* grad_pos, const compute_t<T>* grad_neg, GradRows<T> grad_input,
                   GradRows<T> grad_output, const NsSlots& slots, void* stream) {
  if (batch.rows == 0) return;
  W2V_LAUNCH((sgns_backward_kernel<T, I>), blocks_for_rows(batch.rows, kWarpsPerBlock), kWarpsPerBlock * kWarp, 0,
             as_stream(stream))(batch, saved, dim, grad_pos, grad_neg, grad_input, grad_output, slots);
  check_launch("sgns_backward");
}

template <typename T, typename I>
void sgns_sgd_step(const EmbeddingPair<T>& weights, const NsBatch<I>& batch, compute_t<T> lr, bool atomic_updates,
                   compute_t<T>* loss, void* stream) {
  if (batch.rows == 0) return;
  const int64_t max_targets = batch.negatives_per_context ? 1 + batch.negatives : batch.context_size + batch.negatives;
  const size_t per_warp = static_cast<size_t>(2 * weights.dim + max_targets) * sizeof(compute_t<T>);
  const int warps = warps_fitting(per_warp);
  W2V_LAUNCH((sgns_sgd_step_kernel<T, I>), blocks_for_rows(batch.rows, warps), warps * kWarp, warps * per_warp,
             as_stream(stream))(weights, batch, lr, atomic_updates, loss, max_targets);
  check_launch("sgns_sgd_step");
}

#define W2V_INSTANTIATE(T, I)                                                                                \
  template void sgns_forward<T, I>(const EmbeddingPair<T>&, const NsBatch<I>&, compute_t<T>*, compute_t<T>*,  \
                                   const SavedGrad<compute_t<T>>&, void*);                                  \
  template void sgns_backward<T, I>(const NsBatch<I>&, const SavedGrad<compute_t<T>>&, int64_t,             \
                                    const compute_t<T>*, const compute_t<T>*, GradRows<T>, GradRows<T>,     \
                                    const NsSlots&, void*);                                                 \
  template void sgns_sgd_step<T, I>(const EmbeddingPair<T>&, const NsBatch<I>&, compute_t<T>, bool,         \
                                    compute_t<T>*, void*);
W2V_INSTANTIATE(float, int32_t)
W2V_INSTANTIATE(float, int64_t)
W2V_INSTANTIATE(double, int32_t)
W2V_INSTANTIATE(double, int64_t)
#undef W2V_INSTANTIATE

}  // namespace w2v::cuda
