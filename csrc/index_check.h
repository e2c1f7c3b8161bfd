// Index validation at the Python boundary: the kernels assume every index is padding or
// a valid row, so one cheap scan runs before them.
#pragma once

#include <cstdint>

namespace w2v::cpu {

// Position of the first index that is neither padding_idx nor in [0, rows), or -1.
template <typename I>
int64_t first_index_out_of_range(const I* index, int64_t n, int64_t rows, int64_t padding_idx, int threads);

}  // namespace w2v::cpu

namespace w2v::cuda {

// Lowers *first_bad (device, caller-initialised to n) to the position of the first index
// that is neither padding_idx nor in [0, rows).
template <typename I>
void first_index_out_of_range(const I* index, int64_t n, int64_t rows, int64_t padding_idx,
                              unsigned long long* first_bad, void* stream);

}  // namespace w2v::cuda
