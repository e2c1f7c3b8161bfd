#include "cuda/device_info.h"

#include <cuda_runtime.h>

namespace w2v::cuda {

int device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device / no driver" error
    return 0;
  }
  return count;
}

}  // namespace w2v::cuda
