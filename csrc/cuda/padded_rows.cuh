// Row pieces for the CUDA corpus trainer, whose device tables it allocates itself: rows
// are padded with zeros to a multiple of 4 floats, so a lane reads and writes four
// columns at a time as one float4 (16-byte loads and stores); the padding stays zero.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace w2v::cuda {

// Columns [offset, offset + 4) of a row of `stride` floats; zeros past its end.
__device__ __forceinline__ float4 load4(const float* row, int64_t offset, int64_t stride) {
  return offset < stride ? *reinterpret_cast<const float4*>(row + offset) : make_float4(0.f, 0.f, 0.f, 0.f);
}

__device__ __forceinline__ void store4(float* row, int64_t offset, int64_t stride, float4 v) {
  if (offset < stride) *reinterpret_cast<float4*>(row + offset) = v;
}

__device__ __forceinline__ float4 zero4() { return make_float4(0.f, 0.f, 0.f, 0.f); }

__device__ __forceinline__ float dot4(float4 a, float4 b) { return a.x * b.x + a.y * b.y + a.z * b.z + a.w * b.w; }

// a * x + y
__device__ __forceinline__ float4 fma4(float a, float4 x, float4 y) {
  return make_float4(fmaf(a, x.x, y.x), fmaf(a, x.y, y.y), fmaf(a, x.z, y.z), fmaf(a, x.w, y.w));
}

__device__ __forceinline__ float4 add4(float4 x, float4 y) { return make_float4(x.x + y.x, x.y + y.y, x.z + y.z, x.w + y.w); }

}  // namespace w2v::cuda
