// Warp-level building blocks of the CUDA kernels: one warp owns one batch row (or one
// centre word); its 32 lanes stride over the embedding dimension.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <type_traits>

#include "compute_type.h"
#include "index_check.h"

namespace w2v::cuda {

constexpr int kWarp = 32;
constexpr int kWarpsPerBlock = 8;
constexpr unsigned kFullMask = 0xffffffffu;

template <typename T>
__device__ __forceinline__ T warp_sum(T v) {
#pragma unroll
  for (int offset = kWarp / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(kFullMask, v, offset);
  return v;
}

// The helpers below take table rows (storage type T) and scratch (compute_t<T>) alike:
// they load into the compute type, compute there and convert back on the store. For
// float and double every conversion is the identity.

// <a, b> over d elements, in the compute type; every lane gets the result.
template <typename A, typename B>
__device__ __forceinline__ compute_t<A> warp_dot(const A* a, const B* b, int64_t d, int lane) {
  using CT = compute_t<A>;
  static_assert(std::is_same_v<CT, compute_t<B>>, "dot of rows with different compute types");
  CT s = 0;
  for (int64_t i = lane; i < d; i += kWarp) s += static_cast<CT>(a[i]) * static_cast<CT>(b[i]);
  return warp_sum(s);
}

// y += alpha * x, each lane its own elements (no other warp may touch y).
template <typename CT, typename X, typename Y>
__device__ __forceinline__ void warp_axpy(CT alpha, const X* x, Y* y, int64_t d, int lane) {
  for (int64_t i = lane; i < d; i += kWarp)
    y[i] = static_cast<Y>(static_cast<CT>(y[i]) + alpha * static_cast<CT>(x[i]));
}

// y += alpha * x where other warps may add to y at the same time: the product is
// computed in the compute type and added as Y.
template <typename CT, typename X, typename Y>
__device__ __forceinline__ void warp_atomic_axpy(CT alpha, const X* x, Y* y, int64_t d, int lane) {
  for (int64_t i = lane; i < d; i += kWarp) atomicAdd(y + i, static_cast<Y>(alpha * static_cast<CT>(x[i])));
}

// y += alpha * x into a weight row: atomic adds when `atomic` (warps of other rows that
// share the word add theirs at the same time: nothing is lost), else plain stores
// (Hogwild: faster, but concurrent updates of one row overwrite each other).
template <typename CT, typename X, typename Y>
__device__ __forceinline__ void warp_update(bool atomic, CT alpha, const X* x, Y* y, int64_t d, int lane) {
  if (atomic)
    warp_atomic_axpy(alpha, x, y, d, lane);
  else
    warp_axpy(alpha, x, y, d, lane);
}

template <typename T>
__device__ __forceinline__ void warp_fill(T value, T* y, int64_t d, int lane) {
  for (int64_t i = lane; i < d; i += kWarp) y[i] = value;
}

// True while the device's index-check state records an error (index_check.h): the
// kernel must then return before reading an index. Called by the whole warp: lane 0
// reads the state and every lane gets its answer, so the warp returns as one (the
// state can change while a warp reads it, and the warp's later shuffles need all lanes).
template <typename Batch>
__device__ __forceinline__ bool batch_blocked(const Batch& b) {
  if (b.index_error == nullptr) return false;
  int blocked = 0;
  if ((threadIdx.x & (kWarp - 1)) == 0)
    blocked = *reinterpret_cast<const volatile unsigned long long*>(b.index_error + 1) != kNoIndexError;
  return __shfl_sync(kFullMask, blocked, 0) != 0;
}

// This thread's warp and lane, and the batch row its warp owns.
struct WarpSlot {
  int lane;
  int warp_in_block;
  int64_t row;
};

__device__ __forceinline__ WarpSlot warp_slot() {
  const int warp_in_block = threadIdx.x / kWarp;
  return {static_cast<int>(threadIdx.x % kWarp), warp_in_block,
          static_cast<int64_t>(blockIdx.x) * (blockDim.x / kWarp) + warp_in_block};
}

// Blocks of `warps` warps covering `rows` rows, one warp per row.
inline dim3 blocks_for_rows(int64_t rows, int warps) { return dim3(static_cast<unsigned>((rows + warps - 1) / warps)); }

// Warps per block that fit `bytes_per_warp` of shared memory in the default 48 KiB.
inline int warps_fitting(size_t bytes_per_warp) {
  constexpr size_t kSharedBytes = 48 * 1024;
  if (bytes_per_warp > kSharedBytes)
    throw std::invalid_argument("embedding dim too large for the CUDA kernels' shared-memory scratch");
  const size_t fit = kSharedBytes / (bytes_per_warp == 0 ? 1 : bytes_per_warp);
  return static_cast<int>(fit < static_cast<size_t>(kWarpsPerBlock) ? fit : kWarpsPerBlock);
}

}  // namespace w2v::cuda
