#include "index_check.h"

#include "cuda/warp_ops.cuh"

namespace w2v::cuda {

namespace {

template <typename I>
__global__ void first_index_out_of_range_kernel(const I* __restrict__ index, int64_t n, int64_t rows,
                                                int64_t padding_idx, unsigned long long* first_bad) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t v = index[i];
    if ((v < 0 || v >= rows) && v != padding_idx) atomicMin(first_bad, static_cast<unsigned long long>(i));
  }
}

}  // namespace

template <typename I>
void first_index_out_of_range(const I* index, int64_t n, int64_t rows, int64_t padding_idx,
                              unsigned long long* first_bad, void* stream) {
  if (n == 0) return;
  const int threads = 256;
  const int64_t blocks = (n + threads - 1) / threads;
  first_index_out_of_range_kernel<<<static_cast<unsigned>(blocks < 4096 ? blocks : 4096), threads, 0,
                                    as_stream(stream)>>>(index, n, rows, padding_idx, first_bad);
  check_launch("first_index_out_of_range");
}

template void first_index_out_of_range<int32_t>(const int32_t*, int64_t, int64_t, int64_t, unsigned long long*, void*);
template void first_index_out_of_range<int64_t>(const int64_t*, int64_t, int64_t, int64_t, unsigned long long*, void*);

}  // namespace w2v::cuda
