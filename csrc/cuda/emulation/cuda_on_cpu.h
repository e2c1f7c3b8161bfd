// CUDA C++ on the CPU: force-included (-include) when the project's .cu files are
// compiled as ordinary C++ for the emulated module. It gives the kernels exactly what
// they use, with a device's semantics and its checks:
//
// - each CUDA thread of a block is a fiber (fiber.h): a real thread of execution that
//   stops at a barrier or a warp collective until the threads it waits for get there;
//   the blocks of a grid run one after another, one launch at a time in the process;
// - the emulation aborts, naming the kernel, block and thread, when a warp collective's
//   mask does not match the lanes that reach it (a lane exited, waits elsewhere, or does
//   not exist in a partial warp), when __syncthreads is not reached by every thread of
//   the block, when a launch exceeds a device limit, and when dynamic shared memory is
//   indexed past its end (a guard page; the sanitizer build also sees smaller overruns
//   and those of static __shared__ arrays);
// - after each barrier the released threads run in a fixed order that alternates
//   between warps (lane 31 first in one, lane 0 first in the next), and dynamic shared
//   memory starts every block filled with 0xff bytes (NaN as floats): a read of shared
//   memory before the barrier that should order it gets stale or NaN data.
//
// Kernel sources change only at launch sites (W2V_LAUNCH) and dynamic shared memory
// declarations (W2V_DYNAMIC_SHARED), see csrc/cuda/launch.cuh. Static __shared__
// arrays become function-local statics: one copy, used by one block at a time.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>

#include "cuda/emulation/cuda_runtime_on_cpu.h"

#define W2V_CUDA_EMULATION 1

// ---- qualifiers ----------------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __shared__ static
// __restrict__ is a GCC and Clang keyword already.

// ---- vector types --------------------------------------------------------------------
struct uint3 {
  unsigned int x, y, z;
};

struct dim3 {
  unsigned int x, y, z;
  constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1) : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
  constexpr operator uint3() const { return {x, y, z}; }
};

struct alignas(8) float2 { float x, y; };
struct alignas(16) float4 { float x, y, z, w; };
struct alignas(8) int2 { int x, y; };
struct alignas(16) int4 { int x, y, z, w; };
struct alignas(16) uint4 { unsigned int x, y, z, w; };
struct alignas(16) double2 { double x, y; };

inline float2 make_float2(float x, float y) { return {x, y}; }
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
inline int2 make_int2(int x, int y) { return {x, y}; }
inline int4 make_int4(int x, int y, int z, int w) { return {x, y, z, w}; }
inline uint4 make_uint4(unsigned int x, unsigned int y, unsigned int z, unsigned int w) { return {x, y, z, w}; }
inline double2 make_double2(double x, double y) { return {x, y}; }

// ---- the emulation's interface (grid_runner.cpp) -------------------------------------
namespace w2v_emu {

enum class Collective : unsigned char { syncwarp, shfl, shfl_up, shfl_down, shfl_xor, ballot, any, all };

// The calling CUDA thread's part in a warp collective: returns its result once every
// lane named in `mask` has reached a collective of the same kind and mask.
uint64_t warp_collective(Collective kind, unsigned mask, uint64_t value, int lane_arg, int width);
void sync_block();
const uint3& thread_index();
const uint3& block_index();
const dim3& block_dim();
const dim3& grid_dim();
void* dynamic_shared_memory();
// Prints `message` with the running kernel, block and thread, then aborts.
[[noreturn]] void kernel_error(const char* message);

struct KernelSite {
  const char* expression;  // as written at the launch site
  const char* file;
  int line;
  const char* signature;   // the kernel's parameter types
};

// Runs thread_body(context) once per thread of every block of the grid.
void launch_grid(const KernelSite& site, dim3 grid, dim3 block, size_t dynamic_shared_bytes, cudaStream_t stream,
                 void (*thread_body)(void*), void* context);

template <class T>
uint64_t to_bits(T value) {
  static_assert(std::is_arithmetic<T>::value && sizeof(T) <= 8, "warp collectives take integers and floats");
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(T));
  return bits;
}

template <class T>
T from_bits(uint64_t bits) {
  T value;
  std::memcpy(&value, &bits, sizeof(T));
  return value;
}

template <class T>
void check_atomic_address(const T* address) {
  if (reinterpret_cast<uintptr_t>(address) % sizeof(T) != 0) kernel_error("atomic operation on a misaligned address");
}

template <class T, class Update>
T atomic_update(T* address, Update update) {
  check_atomic_address(address);
  T expected;
  __atomic_load(address, &expected, __ATOMIC_RELAXED);
  T desired = update(expected);
  while (!__atomic_compare_exchange(address, &expected, &desired, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
    desired = update(expected);
  return expected;
}

// A launch: W2V_LAUNCH(...) gives one, and calling it with the kernel's arguments runs
// the grid. Every thread gets its own copy of the arguments, converted to the kernel's
// parameter types as the CUDA runtime does.
template <typename... Params>
class KernelLaunch {
 public:
  KernelLaunch(void (*kernel)(Params...), KernelSite site, dim3 grid, dim3 block, size_t shared, cudaStream_t stream)
      : kernel_(kernel), site_(site), grid_(grid), block_(block), shared_(shared), stream_(stream) {}

  template <typename... Args>
  void operator()(Args&&... args) const {
    static_assert(sizeof...(Args) == sizeof...(Params), "wrong number of kernel arguments");
    struct Context {
      void (*kernel)(Params...);
      std::tuple<std::decay_t<Params>...> params;
    } context{kernel_, std::tuple<std::decay_t<Params>...>(std::forward<Args>(args)...)};
    launch_grid(site_, grid_, block_, shared_, stream_,
                [](void* p) {
                  auto* c = static_cast<Context*>(p);
                  std::apply(c->kernel, c->params);
                },
                &context);
  }

 private:
  void (*kernel_)(Params...);
  KernelSite site_;
  dim3 grid_, block_;
  size_t shared_;
  cudaStream_t stream_;
};

template <typename... Params>
KernelLaunch<Params...> kernel_launch(void (*kernel)(Params...), const char* expression, const char* file, int line,
                                      dim3 grid, dim3 block, size_t shared, cudaStream_t stream) {
  return KernelLaunch<Params...>(kernel, KernelSite{expression, file, line, __PRETTY_FUNCTION__}, grid, block,
                                 shared, stream);
}

}  // namespace w2v_emu

#define W2V_LAUNCH(kernel, grid, block, shared_bytes, stream) \
  ::w2v_emu::kernel_launch(kernel, #kernel, __FILE__, __LINE__, grid, block, shared_bytes, stream)
#define W2V_DYNAMIC_SHARED(type, name) type* const name = static_cast<type*>(::w2v_emu::dynamic_shared_memory())

// ---- built-in variables --------------------------------------------------------------
#define threadIdx (::w2v_emu::thread_index())
#define blockIdx (::w2v_emu::block_index())
#define blockDim (::w2v_emu::block_dim())
#define gridDim (::w2v_emu::grid_dim())
constexpr int warpSize = 32;

// ---- barriers and warp collectives ---------------------------------------------------
inline void __syncthreads() { ::w2v_emu::sync_block(); }
inline void __syncwarp(unsigned mask = 0xffffffffu) {
  ::w2v_emu::warp_collective(::w2v_emu::Collective::syncwarp, mask, 0, 0, warpSize);
}

template <class T>
T __shfl_sync(unsigned mask, T var, int src_lane, int width = warpSize) {
  return ::w2v_emu::from_bits<T>(
      ::w2v_emu::warp_collective(::w2v_emu::Collective::shfl, mask, ::w2v_emu::to_bits(var), src_lane, width));
}
template <class T>
T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize) {
  return ::w2v_emu::from_bits<T>(::w2v_emu::warp_collective(::w2v_emu::Collective::shfl_up, mask,
                                                            ::w2v_emu::to_bits(var), static_cast<int>(delta), width));
}
template <class T>
T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize) {
  return ::w2v_emu::from_bits<T>(::w2v_emu::warp_collective(::w2v_emu::Collective::shfl_down, mask,
                                                            ::w2v_emu::to_bits(var), static_cast<int>(delta), width));
}
template <class T>
T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = warpSize) {
  return ::w2v_emu::from_bits<T>(
      ::w2v_emu::warp_collective(::w2v_emu::Collective::shfl_xor, mask, ::w2v_emu::to_bits(var), lane_mask, width));
}
inline unsigned __ballot_sync(unsigned mask, int predicate) {
  return static_cast<unsigned>(
      ::w2v_emu::warp_collective(::w2v_emu::Collective::ballot, mask, predicate != 0, 0, warpSize));
}
inline int __any_sync(unsigned mask, int predicate) {
  return static_cast<int>(::w2v_emu::warp_collective(::w2v_emu::Collective::any, mask, predicate != 0, 0, warpSize));
}
inline int __all_sync(unsigned mask, int predicate) {
  return static_cast<int>(::w2v_emu::warp_collective(::w2v_emu::Collective::all, mask, predicate != 0, 0, warpSize));
}

inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
template <class T>
T __ldg(const T* address) {
  return *address;
}

// ---- bit operations ------------------------------------------------------------------
inline int __popc(unsigned int x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __ffsll(long long x) { return __builtin_ffsll(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(static_cast<unsigned>(x)); }
inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll(static_cast<unsigned long long>(x)); }

// ---- min / max (CUDA's device overloads for one type) ---------------------------------
template <class T, class = std::enable_if_t<std::is_arithmetic<T>::value>>
constexpr T min(T a, T b) {
  return b < a ? b : a;
}
template <class T, class = std::enable_if_t<std::is_arithmetic<T>::value>>
constexpr T max(T a, T b) {
  return a < b ? b : a;
}

// ---- atomics (CUDA's overloads) ------------------------------------------------------
#define W2V_EMU_INTEGER_ATOMIC(name, T, builtin)                    \
  inline T name(T* address, T value) {                               \
    ::w2v_emu::check_atomic_address(address);                        \
    return builtin(address, value, __ATOMIC_RELAXED);                \
  }
W2V_EMU_INTEGER_ATOMIC(atomicAdd, int, __atomic_fetch_add)
W2V_EMU_INTEGER_ATOMIC(atomicAdd, unsigned int, __atomic_fetch_add)
W2V_EMU_INTEGER_ATOMIC(atomicAdd, unsigned long long, __atomic_fetch_add)
W2V_EMU_INTEGER_ATOMIC(atomicSub, int, __atomic_fetch_sub)
W2V_EMU_INTEGER_ATOMIC(atomicSub, unsigned int, __atomic_fetch_sub)
W2V_EMU_INTEGER_ATOMIC(atomicExch, int, __atomic_exchange_n)
W2V_EMU_INTEGER_ATOMIC(atomicExch, unsigned int, __atomic_exchange_n)
W2V_EMU_INTEGER_ATOMIC(atomicExch, unsigned long long, __atomic_exchange_n)
W2V_EMU_INTEGER_ATOMIC(atomicAnd, int, __atomic_fetch_and)
W2V_EMU_INTEGER_ATOMIC(atomicAnd, unsigned int, __atomic_fetch_and)
W2V_EMU_INTEGER_ATOMIC(atomicAnd, unsigned long long, __atomic_fetch_and)
W2V_EMU_INTEGER_ATOMIC(atomicOr, int, __atomic_fetch_or)
W2V_EMU_INTEGER_ATOMIC(atomicOr, unsigned int, __atomic_fetch_or)
W2V_EMU_INTEGER_ATOMIC(atomicOr, unsigned long long, __atomic_fetch_or)
W2V_EMU_INTEGER_ATOMIC(atomicXor, int, __atomic_fetch_xor)
W2V_EMU_INTEGER_ATOMIC(atomicXor, unsigned int, __atomic_fetch_xor)
W2V_EMU_INTEGER_ATOMIC(atomicXor, unsigned long long, __atomic_fetch_xor)
#undef W2V_EMU_INTEGER_ATOMIC

inline float atomicAdd(float* address, float value) {
  return ::w2v_emu::atomic_update(address, [value](float old) { return old + value; });
}
inline double atomicAdd(double* address, double value) {
  return ::w2v_emu::atomic_update(address, [value](double old) { return old + value; });
}
inline float atomicExch(float* address, float value) {
  return ::w2v_emu::atomic_update(address, [value](float) { return value; });
}

#define W2V_EMU_MIN_MAX_ATOMICS(T)                                                                    \
  inline T atomicMin(T* address, T value) {                                                          \
    return ::w2v_emu::atomic_update(address, [value](T old) { return value < old ? value : old; }); \
  }                                                                                                  \
  inline T atomicMax(T* address, T value) {                                                          \
    return ::w2v_emu::atomic_update(address, [value](T old) { return old < value ? value : old; }); \
  }
W2V_EMU_MIN_MAX_ATOMICS(int)
W2V_EMU_MIN_MAX_ATOMICS(unsigned int)
W2V_EMU_MIN_MAX_ATOMICS(long long)
W2V_EMU_MIN_MAX_ATOMICS(unsigned long long)
#undef W2V_EMU_MIN_MAX_ATOMICS

#define W2V_EMU_CAS(T)                                                                           \
  inline T atomicCAS(T* address, T compare, T value) {                                          \
    ::w2v_emu::check_atomic_address(address);                                                   \
    __atomic_compare_exchange_n(address, &compare, value, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED); \
    return compare;                                                                             \
  }
W2V_EMU_CAS(int)
W2V_EMU_CAS(unsigned int)
W2V_EMU_CAS(unsigned long long)
#undef W2V_EMU_CAS
