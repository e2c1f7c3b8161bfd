// OpenMP helpers shared by the CPU drivers.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace w2v::cpu {

// Threads worth starting for `work` items: at least 1, at most `requested`, and no
// more than one per `grain` items so small batches do not pay for a thread team.
inline int threads_for(int requested, int64_t work, int64_t grain = 64) {
  const int64_t useful = std::max<int64_t>(1, work / std::max<int64_t>(1, grain));
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(std::max(requested, 1), useful)));
}

// [begin, end) of the `part`-th of `parts` near-equal pieces of [0, n).
inline void split_range(int64_t n, int parts, int part, int64_t* begin, int64_t* end) {
  const int64_t base = n / parts, extra = n % parts;
  *begin = part * base + std::min<int64_t>(part, extra);
  *end = *begin + base + (part < extra ? 1 : 0);
}

}  // namespace w2v::cpu
