// The emulation's own test kernels (selftest.h). Written as CUDA; each writes what its
// threads observed into `out`, which the Python tests compare with CUDA's documented
// semantics.
#include "cuda/emulation/selftest.h"

#include <cuda_runtime.h>

#include <functional>
#include <map>
#include <stdexcept>

#include "cuda/launch.cuh"

namespace w2v_emu::selftest {

namespace {

constexpr unsigned kFull = 0xffffffffu;

// 16 values per thread: the shuffle variants, votes, and collectives over half warps.
__global__ void shuffles_kernel(long long* out) {
  const int t = threadIdx.x, lane = t % 32, warp = t / 32;
  const int v = 100 * warp + lane;
  long long* o = out + 16 * t;
  o[0] = __shfl_sync(kFull, v, (lane * 7) % 32);
  o[1] = __shfl_sync(kFull, v, lane + 5, 16);
  o[2] = __shfl_up_sync(kFull, v, 3);
  o[3] = __shfl_up_sync(kFull, v, 3, 8);
  o[4] = __shfl_down_sync(kFull, v, 5);
  o[5] = __shfl_down_sync(kFull, v, 5, 16);
  o[6] = __shfl_xor_sync(kFull, v, 1);
  o[7] = __shfl_xor_sync(kFull, v, 12, 8);
  o[8] = static_cast<long long>(2 * __shfl_xor_sync(kFull, v + 0.25, 16));
  o[9] = __shfl_sync(kFull, 10000000000ll + v, 31 - lane);
  o[10] = __ballot_sync(kFull, lane % 3 == 0);
  o[11] = __any_sync(kFull, lane == 7 && warp == 1);
  o[12] = __all_sync(kFull, lane < 31);
  if (lane < 16) {
    o[13] = __shfl_sync(0x0000ffffu, v, 15 - lane);
    o[14] = __ballot_sync(0x0000ffffu, lane & 1);
  } else {
    o[13] = __ballot_sync(0xffff0000u, lane & 1);
    o[14] = __shfl_down_sync(0xffff0000u, v, 1, 16);
  }
  __syncwarp();
  o[15] = __popc(static_cast<unsigned>(v)) + 100 * __ffs(v) + 10000 * __clz(v);
}

// Barriers order shared memory between the warps of a block.
__global__ void block_barrier_kernel(long long* out) {
  __shared__ int values[256];
  const int t = threadIdx.x;
  values[t] = 3 * t + static_cast<int>(blockIdx.x);
  __syncthreads();
  out[2 * (blockIdx.x * 256 + t)] = values[(t + 37) % 256];
  __syncthreads();
  values[t] = -t;
  __syncthreads();
  out[2 * (blockIdx.x * 256 + t) + 1] = values[255 - t];
}

// atomics from 4 blocks of 128 threads
__global__ void atomics_kernel(float* f, double* d, int* i, unsigned long long* u, unsigned long long* first,
                               unsigned long long* smallest, int* largest) {
  const unsigned long long g = blockIdx.x * blockDim.x + threadIdx.x;
  atomicAdd(f, 1.0f);
  atomicAdd(d, 0.5);
  atomicAdd(i, 1);
  atomicAdd(u, 2ull);
  atomicCAS(first, ~0ull, g);
  atomicMin(smallest, g + 5);
  atomicMax(largest, static_cast<int>(g % 77));
}

// Dynamic shared memory: exactly sized, aligned, refilled with 0xff bytes for every block.
__global__ void dynamic_shared_kernel(long long* out) {
  W2V_DYNAMIC_SHARED(int, words);
  const int t = threadIdx.x, b = blockIdx.x;
  long long* o = out + 3 * (b * blockDim.x + t);
  o[0] = words[t];  // before any write: the fill
  words[t] = 1000 * b + t;
  __syncthreads();
  o[1] = words[(t + 1) % blockDim.x];
  o[2] = reinterpret_cast<unsigned long long>(words) % 16;
}

// Built-in variables on a 3-D grid of 3-D blocks.
__global__ void builtins_kernel(long long* out) {
  const unsigned block = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const unsigned thread = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  long long* o = out + 12 * (block * blockDim.x * blockDim.y * blockDim.z + thread);
  const unsigned values[12] = {threadIdx.x, threadIdx.y, threadIdx.z, blockIdx.x, blockIdx.y, blockIdx.z,
                               blockDim.x,  blockDim.y,  blockDim.z,  gridDim.x,  gridDim.y,  gridDim.z};
  for (int k = 0; k < 12; ++k) o[k] = values[k];
}

// A block of 40 threads: its second warp has 8 lanes, and collectives name only those.
__global__ void partial_warp_kernel(long long* out) {
  const int t = threadIdx.x, lane = t % 32;
  const unsigned mask = t < 32 ? kFull : 0xffu;
  out[2 * t] = __ballot_sync(mask, lane & 1);
  out[2 * t + 1] = __shfl_sync(mask, t, (t < 32 ? 31 : 7) - lane);
}

// Lanes 16-31 leave early; the others go on with a half-warp mask.
__global__ void early_exit_kernel(long long* out) {
  const int lane = threadIdx.x % 32;
  if (lane >= 16) return;
  int v = lane;
  for (int offset = 8; offset > 0; offset /= 2) v += __shfl_xor_sync(0x0000ffffu, v, offset);
  out[lane] = v;
}

// Reads that a missing barrier leaves unordered: lane 0 writes what every lane reads,
// and every lane writes what lane 0 sums. Two values per thread.
__global__ void unordered_shared_kernel(long long* out) {
  W2V_DYNAMIC_SHARED(int, words);
  const int t = threadIdx.x, lane = t % 32, warp = t / 32;
  int* broadcast = words + warp;
  int* row = words + 2 + 32 * warp;
  if (lane == 0) *broadcast = 7;
  out[2 * t] = *broadcast;  // no __syncwarp before this read
  row[lane] = lane;
  long long sum = 0;
  if (lane == 0)
    for (int k = 0; k < 32; ++k) sum += row[k];  // nor before these
  out[2 * t + 1] = sum;
}

// ---- faults: each aborts the process ------------------------------------------------

__global__ void bad_partial_warp_collective_kernel(long long* out) {
  const int lane = threadIdx.x % 32;
  if (lane >= 20) return;
  int v = lane;
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(kFull, v, offset);
  out[lane] = v;
}

__global__ void bad_mask_mismatch_kernel(long long* out) {
  const int lane = threadIdx.x % 32;
  if (lane < 16)
    out[lane] = __shfl_sync(kFull, lane, 0);
  else
    __syncwarp();
}

__global__ void bad_divergent_syncthreads_kernel(long long* out) {
  if (threadIdx.x >= 40) return;
  __syncthreads();
  out[threadIdx.x] = 1;
}

__global__ void bad_syncthreads_in_collective_kernel(long long* out) {
  if (threadIdx.x == 0)
    __syncthreads();
  else
    out[threadIdx.x] = __shfl_sync(kFull, 1, 0);
}

__global__ void bad_missing_lanes_kernel(long long* out) {
  out[threadIdx.x] = __ballot_sync(kFull, 1);  // the block has 40 threads: lanes 8-31 of warp 1 do not exist
}

__global__ void bad_shuffle_outside_mask_kernel(long long* out) {
  const int lane = threadIdx.x % 32;
  if (lane < 16) out[lane] = __shfl_sync(0x0000ffffu, lane, 20);
}

__global__ void bad_mask_without_caller_kernel(long long* out) { out[threadIdx.x] = __ballot_sync(1u, 1); }

__global__ void bad_dynamic_shared_overflow_kernel(long long* out) {
  W2V_DYNAMIC_SHARED(unsigned char, bytes);
  bytes[threadIdx.x * 8] = 1;  // 100 bytes were asked for; thread 15 writes byte 120
  out[threadIdx.x] = bytes[threadIdx.x];
}

__global__ void bad_static_shared_overflow_kernel(long long* out) {
  __shared__ float values[64];
  float* v = values;
  v[threadIdx.x] = 1.0f;  // 65 threads
  out[threadIdx.x] = static_cast<long long>(v[threadIdx.x]);
}

__global__ void bad_misaligned_atomic_kernel(long long* out) {
  atomicAdd(reinterpret_cast<int*>(reinterpret_cast<char*>(out) + 2), 1);
}

__global__ void plain_kernel(long long* out) { out[threadIdx.x] = 1; }

// Runs `launch` with a device buffer of n outputs (0xff-filled) and returns them.
std::vector<long long> with_output(size_t n, const std::function<void(long long*)>& launch) {
  long long* out = nullptr;
  cudaMalloc(&out, n * sizeof(long long));
  launch(out);
  std::vector<long long> host(n);
  if (cudaGetLastError() != cudaSuccess || cudaMemcpy(host.data(), out, n * sizeof(long long),
                                                      cudaMemcpyDeviceToHost) != cudaSuccess)
    throw std::runtime_error("selftest: a runtime call failed");
  cudaFree(out);
  return host;
}

// The runtime calls' error codes for misuse, and the emulated device's properties.
std::vector<long long> runtime_api() {
  std::vector<long long> r;
  char* d = nullptr;
  char host[128] = {};
  cudaMalloc(&d, 64);
  long long fill = 0;
  r.push_back(cudaMemcpy(&fill, d, sizeof(fill), cudaMemcpyDeviceToHost));
  r.push_back(fill);                                                          // a new allocation reads as 0xff bytes
  r.push_back(cudaMemcpy(d, host, 64, cudaMemcpyHostToDevice));
  r.push_back(cudaMemcpy(d, host, 65, cudaMemcpyHostToDevice));              // past the allocation
  r.push_back(cudaMemcpy(host, d + 8, 64, cudaMemcpyDeviceToHost));
  r.push_back(cudaMemcpy2D(d, 16, host, 16, 8, 4, cudaMemcpyHostToDevice));   // rows end at byte 56
  r.push_back(cudaMemcpy2D(d, 32, host, 32, 8, 3, cudaMemcpyHostToDevice));   // the last row ends at byte 72
  r.push_back(cudaMemset(d + 60, 0, 8));
  r.push_back(cudaFree(host));
  cudaStream_t stream = nullptr;
  cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking);
  r.push_back(cudaStreamSynchronize(stream));
  cudaStreamDestroy(stream);
  r.push_back(cudaStreamSynchronize(stream));                                 // destroyed
  r.push_back(cudaGetLastError());                                            // that error, then none
  r.push_back(cudaGetLastError());
  r.push_back(cudaSetDevice(1));
  cudaDeviceProp prop;
  cudaGetDeviceProperties(&prop, 0);
  r.push_back(prop.maxThreadsPerBlock);
  r.push_back(static_cast<long long>(prop.sharedMemPerBlock));
  r.push_back(prop.warpSize);
  cudaFree(d);
  cudaGetLastError();
  return r;
}

std::vector<long long> destroyed_stream_launch() {
  cudaStream_t stream = nullptr;
  cudaStreamCreate(&stream);
  cudaStreamDestroy(stream);
  return with_output(1, [stream](long long* o) { W2V_LAUNCH(plain_kernel, 1, 1, 0, stream)(o); });
}

struct AtomicTargets {
  float f;
  int i;
  double d;
  unsigned long long u, first, smallest;
  int largest;
};

std::vector<long long> atomics() {
  AtomicTargets* t = nullptr;
  cudaMalloc(&t, sizeof(AtomicTargets));
  cudaMemset(t, 0, sizeof(AtomicTargets));
  cudaMemset(&t->first, 0xff, sizeof(unsigned long long));
  cudaMemset(&t->smallest, 0xff, sizeof(unsigned long long));
  W2V_LAUNCH(atomics_kernel, 4, 128, 0, 0)(&t->f, &t->d, &t->i, &t->u, &t->first, &t->smallest, &t->largest);
  AtomicTargets h;
  if (cudaMemcpy(&h, t, sizeof(h), cudaMemcpyDeviceToHost) != cudaSuccess)
    throw std::runtime_error("selftest: a runtime call failed");
  cudaFree(t);
  return {static_cast<long long>(h.f), static_cast<long long>(2 * h.d), h.i, static_cast<long long>(h.u),
          static_cast<long long>(h.first), static_cast<long long>(h.smallest), h.largest};
}

const std::map<std::string, std::function<std::vector<long long>()>>& cases() {
  static const std::map<std::string, std::function<std::vector<long long>()>> all = {
      {"shuffles", [] { return with_output(64 * 16, [](long long* o) { W2V_LAUNCH(shuffles_kernel, 1, 64, 0, 0)(o); }); }},
      {"block_barrier",
       [] { return with_output(2 * 2 * 256, [](long long* o) { W2V_LAUNCH(block_barrier_kernel, 2, 256, 0, 0)(o); }); }},
      {"atomics", atomics},
      {"dynamic_shared",
       [] {
         return with_output(3 * 3 * 48, [](long long* o) {
           W2V_LAUNCH(dynamic_shared_kernel, 3, 48, 48 * sizeof(int), 0)(o);
         });
       }},
      {"builtins",
       [] {
         return with_output(12 * 6 * 16, [](long long* o) {
           W2V_LAUNCH(builtins_kernel, dim3(2, 3, 1), dim3(4, 2, 2), 0, 0)(o);
         });
       }},
      {"partial_warp",
       [] { return with_output(2 * 40, [](long long* o) { W2V_LAUNCH(partial_warp_kernel, 1, 40, 0, 0)(o); }); }},
      {"early_exit", [] { return with_output(16, [](long long* o) { W2V_LAUNCH(early_exit_kernel, 1, 32, 0, 0)(o); }); }},
      {"unordered_shared",
       [] {
         return with_output(2 * 64, [](long long* o) {
           W2V_LAUNCH(unordered_shared_kernel, 1, 64, (2 + 64) * sizeof(int), 0)(o);
         });
       }},
      {"runtime_api", runtime_api},
      {"bad_destroyed_stream", destroyed_stream_launch},
      {"bad_partial_warp_collective",
       [] { return with_output(32, [](long long* o) { W2V_LAUNCH(bad_partial_warp_collective_kernel, 1, 32, 0, 0)(o); }); }},
      {"bad_mask_mismatch",
       [] { return with_output(32, [](long long* o) { W2V_LAUNCH(bad_mask_mismatch_kernel, 1, 32, 0, 0)(o); }); }},
      {"bad_divergent_syncthreads",
       [] { return with_output(64, [](long long* o) { W2V_LAUNCH(bad_divergent_syncthreads_kernel, 1, 64, 0, 0)(o); }); }},
      {"bad_syncthreads_in_collective",
       [] {
         return with_output(32, [](long long* o) { W2V_LAUNCH(bad_syncthreads_in_collective_kernel, 1, 32, 0, 0)(o); });
       }},
      {"bad_missing_lanes",
       [] { return with_output(40, [](long long* o) { W2V_LAUNCH(bad_missing_lanes_kernel, 1, 40, 0, 0)(o); }); }},
      {"bad_shuffle_outside_mask",
       [] { return with_output(32, [](long long* o) { W2V_LAUNCH(bad_shuffle_outside_mask_kernel, 1, 32, 0, 0)(o); }); }},
      {"bad_mask_without_caller",
       [] { return with_output(32, [](long long* o) { W2V_LAUNCH(bad_mask_without_caller_kernel, 1, 32, 0, 0)(o); }); }},
      {"bad_dynamic_shared_overflow",
       [] {
         return with_output(32, [](long long* o) { W2V_LAUNCH(bad_dynamic_shared_overflow_kernel, 1, 32, 100, 0)(o); });
       }},
      {"bad_static_shared_overflow",
       [] { return with_output(65, [](long long* o) { W2V_LAUNCH(bad_static_shared_overflow_kernel, 1, 65, 0, 0)(o); }); }},
      {"bad_misaligned_atomic",
       [] { return with_output(2, [](long long* o) { W2V_LAUNCH(bad_misaligned_atomic_kernel, 1, 1, 0, 0)(o); }); }},
      {"bad_too_many_threads",
       [] { return with_output(1025, [](long long* o) { W2V_LAUNCH(plain_kernel, 1, 1025, 0, 0)(o); }); }},
      {"bad_grid_y", [] { return with_output(1, [](long long* o) { W2V_LAUNCH(plain_kernel, dim3(1, 65536), 1, 0, 0)(o); }); }},
      {"bad_dynamic_shared_size",
       [] { return with_output(1, [](long long* o) { W2V_LAUNCH(plain_kernel, 1, 1, 48 * 1024 + 1, 0)(o); }); }},
  };
  return all;
}

}  // namespace

std::vector<long long> run(const std::string& name) {
  auto it = cases().find(name);
  if (it == cases().end()) throw std::invalid_argument("no emulation selftest named " + name);
  return it->second();
}

std::vector<std::string> names() {
  std::vector<std::string> out;
  for (const auto& c : cases()) out.push_back(c.first);
  return out;
}

}  // namespace w2v_emu::selftest
