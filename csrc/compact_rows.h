// The rows a sparse gradient holds: the sorted unique indices of the entries that take
// part, and each entry's position among them.
#pragma once

#include <cstdint>
#include <vector>

namespace w2v::cpu {

// index[n] with keep[n] != 0 (indices >= 0 and < 2^32): fills `rows` with the sorted
// unique kept indices and slots[n] with the position of index[n] in rows (-1 where
// not kept). Linear time: a radix sort of (index, entry) pairs.
template <typename I>
void compact_rows(const I* index, const bool* keep, int64_t n, std::vector<int64_t>* rows, int64_t* slots);

}  // namespace w2v::cpu
