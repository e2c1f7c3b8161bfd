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

// The device's index-check state, two words: state[1] is the serial number of the op call
// whose indices first failed a check (kNoIndexError: none), state[0] the smallest
// (check << 56 | position) that call found. Checks run on the device without the host
// waiting; every kernel of that call and of later calls sees the state set and skips
// its work, until the host reads the state (raising IndexError) and resets it.
constexpr unsigned long long kNoIndexError = ~0ull;

// Records in `state` the entries of `index` (check number `check` of call `serial`)
// that are neither padding_idx nor in [0, rows), unless another call's error is pending.
template <typename I>
void check_index_range(const I* index, int64_t n, int64_t rows, int64_t padding_idx, int check,
                       unsigned long long serial, unsigned long long* state, void* stream);

}  // namespace w2v::cuda
