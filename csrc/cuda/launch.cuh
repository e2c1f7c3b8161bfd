// Kernel launches and dynamic shared memory, written once for nvcc and for the CPU
// emulation (csrc/cuda/emulation/cuda_on_cpu.h, which defines both macros itself), and
// the stream a launch goes on.
//
//   W2V_LAUNCH((kernel<T, I>), grid, block, shared_bytes, stream)(args...);
//   W2V_DYNAMIC_SHARED(unsigned char, shared_bytes);   // inside a kernel
//
// A kernel name with template arguments goes in parentheses (the macro would split it
// at the comma).
#pragma once

#include <cuda_runtime.h>

#if !defined(W2V_CUDA_EMULATION)
#define W2V_LAUNCH(kernel, grid, block, shared_bytes, stream) kernel<<<grid, block, shared_bytes, stream>>>
#define W2V_DYNAMIC_SHARED(type, name) extern __shared__ type name[]
#endif

namespace w2v::cuda {

// The stream the contract headers pass as a void* (a cudaStream_t).
inline cudaStream_t as_stream(void* stream) { return static_cast<cudaStream_t>(stream); }

}  // namespace w2v::cuda
