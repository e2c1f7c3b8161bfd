#include "compact_rows.h"

#include <array>
#include <cstddef>

namespace w2v::cpu {

namespace {

// LSD radix sort of 64-bit (key << 32 | entry) values by their high 32 bits, 16 at a time.
void radix_sort_by_key(std::vector<uint64_t>* values) {
  std::vector<uint64_t> scratch(values->size());
  for (int shift = 32; shift < 64; shift += 16) {
    std::array<std::size_t, (1 << 16) + 1> offsets{};
    for (uint64_t v : *values) ++offsets[((v >> shift) & 0xffff) + 1];
    for (std::size_t b = 0; b < (1 << 16); ++b) offsets[b + 1] += offsets[b];
    for (uint64_t v : *values) scratch[offsets[(v >> shift) & 0xffff]++] = v;
    values->swap(scratch);
  }
}

}  // namespace

template <typename I>
void compact_rows(const I* index, const bool* keep, int64_t n, std::vector<int64_t>* rows, int64_t* slots) {
  std::vector<uint64_t> pairs;
  pairs.reserve(n);
  for (int64_t i = 0; i < n; ++i) {
    slots[i] = -1;
    if (keep[i]) pairs.push_back(static_cast<uint64_t>(index[i]) << 32 | static_cast<uint32_t>(i));
  }
  radix_sort_by_key(&pairs);
  rows->clear();
  for (uint64_t pair : pairs) {
    const int64_t row = static_cast<int64_t>(pair >> 32);
    if (rows->empty() || rows->back() != row) rows->push_back(row);
    slots[static_cast<uint32_t>(pair)] = static_cast<int64_t>(rows->size()) - 1;
  }
}

template void compact_rows<int32_t>(const int32_t*, const bool*, int64_t, std::vector<int64_t>*, int64_t*);
template void compact_rows<int64_t>(const int64_t*, const bool*, int64_t, std::vector<int64_t>*, int64_t*);

}  // namespace w2v::cpu
