#include "cuda/device_info.h"

#include <cuda_runtime.h>

namespace w2v::cuda {

namespace {

cudaError_t query_device_count(int* count) {
  *count = 0;
  const cudaError_t status = cudaGetDeviceCount(count);
  if (status != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device / no driver" error
    *count = 0;
  }
  return status;
}

}  // namespace

int device_count() {
  int count = 0;
  query_device_count(&count);
  return count;
}

std::string device_error() {
  int count = 0;
  const cudaError_t status = query_device_count(&count);
  if (status != cudaSuccess) return cudaGetErrorString(status);
  return count > 0 ? "" : "no CUDA device";
}

}  // namespace w2v::cuda
