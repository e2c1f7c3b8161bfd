#include "index_check.h"

#include "cuda/cuda_check.cuh"
#include "cuda/launch.cuh"
#include "cuda/warp_ops.cuh"

namespace w2v::cuda {

namespace {

template <typename I>
__global__ void check_index_range_kernel(const I* __restrict__ index, int64_t n, int64_t rows, int64_t padding_idx,
                                         unsigned long long key_base, unsigned long long serial,
                                         unsigned long long* state) {
  const unsigned long long owner = *reinterpret_cast<volatile unsigned long long*>(state + 1);
  if (owner != kNoIndexError && owner != serial) return;  // an earlier call's error is still pending
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t v = index[i];
    if ((v < 0 || v >= rows) && v != padding_idx) {
      atomicCAS(state + 1, kNoIndexError, serial);
      atomicMin(state, key_base | static_cast<unsigned long long>(i));
    }
  }
}

}  // namespace

template <typename I>
void check_index_range(const I* index, int64_t n, int64_t rows, int64_t padding_idx, int check,
                       unsigned long long serial, unsigned long long* state, void* stream) {
  if (n == 0) return;
  const int threads = 256;
  const int64_t blocks = (n + threads - 1) / threads;
  W2V_LAUNCH(check_index_range_kernel<I>, static_cast<unsigned>(blocks < 4096 ? blocks : 4096), threads, 0,
             as_stream(stream))(index, n, rows, padding_idx, static_cast<unsigned long long>(check) << 56, serial, state);
  check_launch("check_index_range");
}

template void check_index_range<int32_t>(const int32_t*, int64_t, int64_t, int64_t, int, unsigned long long,
                                         unsigned long long*, void*);
template void check_index_range<int64_t>(const int64_t*, int64_t, int64_t, int64_t, int, unsigned long long,
                                         unsigned long long*, void*);

}  // namespace w2v::cuda
