// Growable buffers of device memory and of pinned host memory (the staging side of
// asynchronous copies), freed with their owner.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>

#include "cuda/cuda_check.cuh"

namespace w2v::cuda {

template <typename T>
struct DeviceBuffer {
  T* data = nullptr;
  size_t capacity = 0;
  // Room for n elements; what it held is lost when it grows.
  void reserve(size_t n) {
    if (n <= capacity) return;
    if (data) W2V_CUDA_CHECK(cudaFree(data));
    data = nullptr;
    W2V_CUDA_CHECK(cudaMalloc(&data, std::max<size_t>(n, 1) * sizeof(T)));
    capacity = n;
  }
  ~DeviceBuffer() { if (data) cudaFree(data); }
};

template <typename T>
struct PinnedBuffer {
  T* data = nullptr;
  size_t capacity = 0;
  void reserve(size_t n) {
    if (n <= capacity) return;
    if (data) W2V_CUDA_CHECK(cudaFreeHost(data));
    data = nullptr;
    W2V_CUDA_CHECK(cudaHostAlloc(&data, std::max<size_t>(n, 1) * sizeof(T), cudaHostAllocDefault));
    capacity = n;
  }
  ~PinnedBuffer() { if (data) cudaFreeHost(data); }
};

}  // namespace w2v::cuda
