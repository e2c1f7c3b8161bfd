// Software prefetch of embedding rows. Rows are addressed at random, so the hardware
// prefetchers cannot see them coming; asking for the next batch row's (or the next
// centre's) rows while the current one computes overlaps their cache misses.
#pragma once

#include <cstdint>

#include "cpu/vector_ops.h"
#include "ns_batch.h"

namespace w2v::cpu {

template <typename T, int Locality = 3>
W2V_INLINE void prefetch_row(const T* row, int64_t d) {
  for (int64_t i = 0; i < d; i += 64 / static_cast<int64_t>(sizeof(T))) __builtin_prefetch(row + i, 0, Locality);
}

template <int Locality = 3, typename T, typename I>
W2V_INLINE void prefetch_rows(const T* table, int64_t stride, const I* index, int64_t n, int64_t padding_idx,
                              int64_t d) {
  for (int64_t k = 0; k < n; ++k)
    if (index[k] != padding_idx) prefetch_row<T, Locality>(table + static_cast<int64_t>(index[k]) * stride, d);
}

// Every row batch row r reads: its centre (in the input table when center_is_input, as
// in skip-gram, else the output table), its contexts (the other table) and negatives.
template <int Locality = 3, typename T, typename I>
W2V_INLINE void prefetch_batch_row(const EmbeddingPair<T>& w, const NsBatch<I>& b, int64_t r, bool center_is_input) {
  const int64_t d = w.dim, C = b.context_size;
  const int64_t K = b.negatives_per_context ? C * b.negatives : b.negatives;
  const T* center_table = center_is_input ? w.input : w.output;
  const T* context_table = center_is_input ? w.output : w.input;
  const int64_t center_stride = center_is_input ? w.input_stride : w.output_stride;
  const int64_t context_stride = center_is_input ? w.output_stride : w.input_stride;
  prefetch_rows<Locality>(center_table, center_stride, b.center + r, 1, b.padding_idx, d);
  prefetch_rows<Locality>(context_table, context_stride, b.context + r * C, C, b.padding_idx, d);
  prefetch_rows<Locality>(w.output, w.output_stride, b.negative + r * K, K, b.padding_idx, d);
}

}  // namespace w2v::cpu
