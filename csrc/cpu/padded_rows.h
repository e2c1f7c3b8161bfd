// Row kernels for the corpus trainer, whose tables it allocates itself: every row is
// padded with zeros to a multiple of kLanes floats, so the loops run over whole
// vectors with no scalar tail (the padding stays zero: it only ever meets zeros).
// Written with GCC vector types, which each W2V_CLONES clone compiles for its own
// instruction set (one zmm, two ymm or four xmm per vector).
#pragma once

#include <cstdint>
#include <type_traits>

#include "cpu/vector_ops.h"

namespace w2v::cpu {

constexpr int64_t kLanes = 16;
typedef float lanes_t __attribute__((vector_size(kLanes * sizeof(float)), aligned(sizeof(float))));

W2V_INLINE lanes_t load_lanes(const float* p) { return *reinterpret_cast<const lanes_t*>(p); }
W2V_INLINE void store_lanes(float* p, lanes_t v) { *reinterpret_cast<lanes_t*>(p) = v; }

typedef float half_lanes_t __attribute__((vector_size(kLanes / 2 * sizeof(float))));
typedef float quarter_lanes_t __attribute__((vector_size(kLanes / 4 * sizeof(float))));

// A pairwise tree (16 -> 8 -> 4 -> 2 -> 1): four dependent adds instead of the fifteen a
// left-to-right sum takes (which the compiler may not reorder without -ffast-math).
W2V_INLINE float sum_lanes(lanes_t v) {
  const half_lanes_t h = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) +
                         __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
  const quarter_lanes_t q = __builtin_shufflevector(h, h, 0, 1, 2, 3) + __builtin_shufflevector(h, h, 4, 5, 6, 7);
  return (q[0] + q[2]) + (q[1] + q[3]);
}

// out[b] = <x, rows[b]> for b < B; d a multiple of kLanes.
template <int B>
W2V_INLINE void dot_rows(const float* x, float* const* rows, int64_t d, float* out) {
  lanes_t acc[B];
  for (int b = 0; b < B; ++b) acc[b] = lanes_t{};
  for (int64_t i = 0; i < d; i += kLanes) {
    const lanes_t xi = load_lanes(x + i);
    for (int b = 0; b < B; ++b) acc[b] += xi * load_lanes(rows[b] + i);
  }
  for (int b = 0; b < B; ++b) out[b] = sum_lanes(acc[b]);
}

// y (+)= sum_b coef[b] * rows[b] for b < B (overwrite: y = ...); d a multiple of kLanes.
template <int B, bool Overwrite>
W2V_INLINE void combine_rows(const float* coef, float* const* rows, float* y, int64_t d) {
  lanes_t c[B];
  for (int b = 0; b < B; ++b) c[b] = lanes_t{} + coef[b];
  for (int64_t i = 0; i < d; i += kLanes) {
    lanes_t acc = Overwrite ? lanes_t{} : load_lanes(y + i);
    for (int b = 0; b < B; ++b) acc += c[b] * load_lanes(rows[b] + i);
    store_lanes(y + i, acc);
  }
}

// Calls fn(std::integral_constant<int, B>, offset) over [0, n) in blocks: one block when
// n <= 8 (one pass over the rows for the usual 1 + negative targets), else blocks of 8
// and the rest.
template <typename Fn>
W2V_INLINE void for_each_block(int64_t n, Fn&& fn) {
  int64_t t = 0;
  for (; n - t > 8; t += 8) fn(std::integral_constant<int, 8>{}, t);
  switch (n - t) {
    case 8: fn(std::integral_constant<int, 8>{}, t); break;
    case 7: fn(std::integral_constant<int, 7>{}, t); break;
    case 6: fn(std::integral_constant<int, 6>{}, t); break;
    case 5: fn(std::integral_constant<int, 5>{}, t); break;
    case 4: fn(std::integral_constant<int, 4>{}, t); break;
    case 3: fn(std::integral_constant<int, 3>{}, t); break;
    case 2: fn(std::integral_constant<int, 2>{}, t); break;
    case 1: fn(std::integral_constant<int, 1>{}, t); break;
    default: break;
  }
}

// out[0:n] = <x, rows[t]>.
W2V_INLINE void dot_many(const float* x, float* const* rows, int64_t n, int64_t d, float* out) {
  for_each_block(n, [&](auto block, int64_t t) W2V_LAMBDA_INLINE { dot_rows<decltype(block)::value>(x, rows + t, d, out + t); });
}

// y = sum_t coef[t * coef_stride] * rows[t] (Overwrite) or y += that.
template <bool Overwrite>
W2V_INLINE void combine_many(const float* coef, int64_t coef_stride, float* const* rows, int64_t n, float* y,
                             int64_t d) {
  if (Overwrite && n == 0) fill_zero(y, d);
  bool first = Overwrite;
  for_each_block(n, [&](auto block, int64_t t) W2V_LAMBDA_INLINE {
    constexpr int B = decltype(block)::value;
    float c[B];
    for (int b = 0; b < B; ++b) c[b] = coef[(t + b) * coef_stride];
    if (first) combine_rows<B, true>(c, rows + t, y, d);
    else combine_rows<B, false>(c, rows + t, y, d);
    first = false;
  });
}

}  // namespace w2v::cpu
