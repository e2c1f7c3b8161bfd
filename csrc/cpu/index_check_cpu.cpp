#include "index_check.h"

#include <algorithm>

#include "cpu/parallel.h"

namespace w2v::cpu {

template <typename I>
int64_t first_index_out_of_range(const I* index, int64_t n, int64_t rows, int64_t padding_idx, int threads) {
  int64_t first = n;
  const int team = threads_for(threads, n, 1 << 16);
#pragma omp parallel num_threads(team) reduction(min : first)
  {
    int64_t begin, end;
    split_range(n, omp_get_num_threads(), omp_get_thread_num(), &begin, &end);
    for (int64_t i = begin; i < end; ++i) {
      const int64_t v = index[i];
      if ((v < 0 || v >= rows) && v != padding_idx) {
        first = i;
        break;
      }
    }
  }
  return first == n ? -1 : first;
}

template int64_t first_index_out_of_range<int32_t>(const int32_t*, int64_t, int64_t, int64_t, int);
template int64_t first_index_out_of_range<int64_t>(const int64_t*, int64_t, int64_t, int64_t, int);

}  // namespace w2v::cpu
