// Views of the tensors one negative-sampling kernel call works on. The Python layer
// validates shapes, dtypes, devices and index ranges before a kernel sees them; the
// kernels assume valid input.
#pragma once

#include <cstdint>

#include "compute_type.h"

namespace w2v {

// The two embedding tables. `input` and `output` may point to the same table (tied
// weights, as in the tutorial) or to two (word2vec.c's syn0 / syn1neg).
template <typename T>
struct EmbeddingPair {
  T* input;               // [input_rows, dim], row stride input_stride, unit column stride
  int64_t input_rows;
  int64_t input_stride;
  T* output;              // [output_rows, dim], row stride output_stride
  int64_t output_rows;
  int64_t output_stride;
  int64_t dim;
};

// The number of scores a batch row has (the size of a row of SavedGrad::coef), as a
// sum of size products, so that Python evaluates this same rule over symbolic sizes
// (torch.compile's fake kernels) instead of restating it.
struct TermsPerRow {
  int64_t constant, rows, contexts, negatives, contexts_x_negatives;

  int64_t count(int64_t B, int64_t C, int64_t K) const {
    return constant + rows * B + contexts * C + negatives * K + contexts_x_negatives * C * K;
  }
};

// One batch of negative-sampling rows (contiguous index arrays). A slot equal to
// padding_idx contributes nothing.
template <typename I>
struct NsBatch {
  const I* center;        // [B]
  const I* context;       // [B, C]
  const I* negative;      // [B, K], or [B, C, K] when negatives_per_context
  int64_t rows;           // B
  int64_t context_size;   // C
  int64_t negatives;      // K
  bool negatives_per_context;  // skip-gram only: word2vec.c's K negatives for every context word
  bool in_batch_positives;     // CBOW only: every other row's centre is a label-0 target too
  int64_t padding_idx;
  // CUDA: the device's index-check state (see index_check.h); while it records an error
  // every kernel given this batch returns without touching memory. Null on the CPU.
  const unsigned long long* index_error = nullptr;
};

// Where gradients go: a [count, dim] matrix of the tables' storage type. With the `slot` arrays null (dense), an
// index's gradient is added to its own row (count = rows of the weight) of a
// zero-initialised matrix. Otherwise (compact) index n of an array lands on row slot[n]
// (count = unique rows): the CPU kernels then write every row (no zeroing needed), the
// CUDA kernels add with atomics into a zeroed matrix.
template <typename T>
struct GradRows {
  T* rows;
  int64_t stride;
  int64_t count;
};

// What a forward keeps when gradients will follow, so that the backward never reads the
// weights again: per row, every term's d(bce)/d(score) = sigmoid(score) - label, the
// gradient of h split into its positive and negative terms' parts, and h itself. The
// backward scales them by the upstream gradients. A forward given keep = false computes
// the losses only (the pointers may then be null). The kernels take a
// SavedGrad<compute_t<T>>: what is saved is computed, not a table row, so it keeps the
// compute type's precision (as do the per-row losses and their upstream gradients).
template <typename T>
struct SavedGrad {
  bool keep;
  T* coef;            // [B, terms_per_row]; 0 for a term that takes no part
  T* grad_h_pos;      // [B, dim]: sum over the row's positive terms of coef * target row
  T* grad_h_neg;      // [B, dim]: the same over its negative terms
  T* hidden;          // [B, dim]: h (0 for a row that takes no part)
  int64_t terms_per_row;
};

struct NsSlots {
  const int64_t* center;    // [B] or null
  const int64_t* context;   // [B, C] or null
  const int64_t* negative;  // same shape as NsBatch::negative, or null
};

}  // namespace w2v
