// Error checks of the CUDA runtime's calls and of kernel launches: a failure throws,
// naming what failed (a RuntimeError in Python).
#pragma once

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace w2v::cuda {

inline void check_cuda(cudaError_t err, const char* what) {
  if (err != cudaSuccess) throw std::runtime_error(std::string("CUDA error in ") + what + ": " + cudaGetErrorString(err));
}
#define W2V_CUDA_CHECK(expr) ::w2v::cuda::check_cuda((expr), #expr)

// After a launch: the launch's own error (a bad configuration, too much shared memory).
inline void check_launch(const char* what) {
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(err));
}

}  // namespace w2v::cuda
