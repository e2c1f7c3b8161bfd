#include "sampling/sampling_tables.h"

#include <vector>

#include "w2v_math.h"

namespace w2v::sampling {

void build_alias_table(const double* weights, int64_t n, uint32_t* accept, int32_t* alias) {
  double total = 0;
  for (int64_t i = 0; i < n; ++i) total += weights[i];
  std::vector<double> scaled(n);
  std::vector<int64_t> small, large;
  for (int64_t i = 0; i < n; ++i) {
    scaled[i] = weights[i] * static_cast<double>(n) / total;
    (scaled[i] < 1.0 ? small : large).push_back(i);
  }
  while (!small.empty() && !large.empty()) {
    const int64_t s = small.back(), l = large.back();
    small.pop_back();
    accept[s] = keep_threshold(scaled[s]);
    alias[s] = static_cast<int32_t>(l);
    scaled[l] -= 1.0 - scaled[s];
    if (scaled[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
  // What is left is full up to rounding: always kept, its own alias.
  for (int64_t i : large) accept[i] = 0xffffffffu, alias[i] = static_cast<int32_t>(i);
  for (int64_t i : small) accept[i] = 0xffffffffu, alias[i] = static_cast<int32_t>(i);
}

}  // namespace w2v::sampling
