// Which scores ("terms") a batch row has, in the order SavedGrad::coef keeps them, for
// the CPU and the CUDA kernels alike: host/device inline functions that call a visitor
// for every term that takes part (padding slots are skipped).
#pragma once

#include <cstdint>

#include "ns_batch.h"

#if defined(__CUDACC__)
#define W2V_HD_INLINE __host__ __device__ __forceinline__
#else
// always_inline: so that the CPU kernels' instruction-set clones compile the visitor too
#define W2V_HD_INLINE inline __attribute__((always_inline))
#endif

namespace w2v {

template <typename I>
W2V_HD_INLINE bool is_padding(const NsBatch<I>& b, int64_t index) {
  return index == b.padding_idx;
}

// Skip-gram index arithmetic: row r's context j and its negatives.
template <typename I>
struct SgnsLayout {
  NsBatch<I> b;
  W2V_HD_INLINE int64_t context_at(int64_t r, int64_t j) const { return r * b.context_size + j; }
  // Position of negative k for row r, context j (j ignored when the row shares them).
  W2V_HD_INLINE int64_t negative_at(int64_t r, int64_t j, int64_t k) const {
    return b.negatives_per_context ? (r * b.context_size + j) * b.negatives + k : r * b.negatives + k;
  }
  W2V_HD_INLINE bool is_pad(int64_t index) const { return is_padding(b, index); }
};

// Skip-gram: visit(target, position in its index array, term, positive) for every term
// of row r that takes part: its C contexts (terms 0..C-1), then its negatives (K, or
// C * K for [B, C, K] negatives, context by context; a padded context drops its own).
template <typename I, typename Visit>
W2V_HD_INLINE void sgns_for_each_term(const SgnsLayout<I>& at, int64_t r, Visit&& visit) {
  const NsBatch<I>& b = at.b;
  const int64_t C = b.context_size;
  for (int64_t j = 0; j < C; ++j) {
    const int64_t ci = at.context_at(r, j), c = b.context[ci];
    if (at.is_pad(c)) continue;
    visit(c, ci, j, true);
    if (!b.negatives_per_context) continue;
    for (int64_t k = 0; k < b.negatives; ++k) {
      const int64_t ni = at.negative_at(r, j, k), n = b.negative[ni];
      if (!at.is_pad(n)) visit(n, ni, C + j * b.negatives + k, false);
    }
  }
  if (!b.negatives_per_context) {
    for (int64_t k = 0; k < b.negatives; ++k) {
      const int64_t ni = at.negative_at(r, 0, k), n = b.negative[ni];
      if (!at.is_pad(n)) visit(n, ni, C + k, false);
    }
  }
}

// CBOW: a row takes part when its centre is not padding and it has a non-padding context.
template <typename I>
W2V_HD_INLINE bool cbow_row_is_valid(const NsBatch<I>& b, int64_t r) {
  if (is_padding(b, b.center[r])) return false;
  for (int64_t j = 0; j < b.context_size; ++j)
    if (!is_padding(b, b.context[r * b.context_size + j])) return true;
  return false;
}

// CBOW: visit(target, position in its index array, term, is_centre, label) for every
// term of valid row r: its centre (term 0), or in-batch every row q for which
// row_valid(q) holds (term q, label q == r); then its K negatives.
template <typename I, typename RowValid, typename Visit>
W2V_HD_INLINE void cbow_for_each_term(const NsBatch<I>& b, int64_t r, RowValid&& row_valid, Visit&& visit) {
  int64_t first_negative = 1;
  if (b.in_batch_positives) {
    for (int64_t q = 0; q < b.rows; ++q)
      if (row_valid(q)) visit(static_cast<int64_t>(b.center[q]), q, q, true, q == r);
    first_negative = b.rows;
  } else {
    visit(static_cast<int64_t>(b.center[r]), r, 0, true, true);
  }
  for (int64_t k = 0; k < b.negatives; ++k) {
    const int64_t ni = r * b.negatives + k, n = b.negative[ni];
    if (!is_padding(b, n)) visit(n, ni, first_negative + k, false, false);
  }
}

}  // namespace w2v
