// Row kernels for the corpus trainer, whose tables it allocates itself: every row is
// padded with zeros to a multiple of kLanes floats, so the loops run over whole
// vectors with no scalar tail (the padding stays zero: it only ever meets zeros).
// Written with GCC vector types, which each W2V_CLONES clone compiles for its own
// instruction set (one zmm, two ymm or four xmm per vector).
#pragma once

#include <cstdint>

#include "cpu/vector_ops.h"

namespace w2v::cpu {

constexpr int64_t kLanes = 16;
typedef float lanes_t __attribute__((vector_size(kLanes * sizeof(float)), aligned(sizeof(float))));

W2V_INLINE lanes_t load_lanes(const float* p) { return *reinterpret_cast<const lanes_t*>(p); }
W2V_INLINE void store_lanes(float* p, lanes_t v) { *reinterpret_cast<lanes_t*>(p) = v; }

W2V_INLINE float sum_lanes(lanes_t v) {
  float s = 0;
  for (int64_t i = 0; i < kLanes; ++i) s += v[i];
  return s;
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

// out[0:n] = <x, rows[t]>, in blocks of 4, 2 and 1 rows.
W2V_INLINE void dot_many(const float* x, float* const* rows, int64_t n, int64_t d, float* out) {
  int64_t t = 0;
  for (; t + 4 <= n; t += 4) dot_rows<4>(x, rows + t, d, out + t);
  if (t + 2 <= n) dot_rows<2>(x, rows + t, d, out + t), t += 2;
  if (t < n) dot_rows<1>(x, rows + t, d, out + t);
}

// y = sum_t coef[t * coef_stride] * rows[t] (overwrite) or y += that.
template <bool Overwrite>
W2V_INLINE void combine_many(const float* coef, int64_t coef_stride, float* const* rows, int64_t n, float* y,
                             int64_t d) {
  float c[4];
  int64_t t = 0;
  bool first = Overwrite;
  auto gather = [&](int64_t count) {
    for (int64_t b = 0; b < count; ++b) c[b] = coef[(t + b) * coef_stride];
  };
  for (; t + 4 <= n; t += 4, first = false) {
    gather(4);
    first ? combine_rows<4, true>(c, rows + t, y, d) : combine_rows<4, false>(c, rows + t, y, d);
  }
  if (t + 2 <= n) {
    gather(2);
    first ? combine_rows<2, true>(c, rows + t, y, d) : combine_rows<2, false>(c, rows + t, y, d);
    t += 2, first = false;
  }
  if (t < n) {
    gather(1);
    first ? combine_rows<1, true>(c, rows + t, y, d) : combine_rows<1, false>(c, rows + t, y, d);
  } else if (first) {
    fill_zero(y, d);
  }
}

}  // namespace w2v::cpu
