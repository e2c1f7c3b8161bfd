// The emulated device's runtime calls (cuda_runtime_on_cpu.h). Device allocations,
// streams and events are registered, so that a copy or memset that runs past a device
// allocation, a free of a pointer that is not one, and a stale stream or event handle
// fail as they would on a device.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <map>
#include <mutex>
#include <set>
#include <type_traits>

#include "cuda/emulation/cuda_on_cpu.h"

struct CUstream_st {
  unsigned flags;
};
struct CUevent_st {
  unsigned flags;
};

namespace {

struct Registry {
  std::mutex mutex;
  std::map<uintptr_t, size_t> device;  // start -> bytes
  std::set<void*> pinned;
  std::set<cudaStream_t> streams;
  std::set<cudaEvent_t> events;
};

Registry& registry() {
  static Registry* r = new Registry();  // outlives static destructors
  return *r;
}

thread_local cudaError_t t_last_error = cudaSuccess;

cudaError_t status(cudaError_t error) {
  if (error != cudaSuccess) t_last_error = error;
  return error;
}

// True when [p, p + bytes) lies inside one device allocation.
bool in_device_allocation(const void* p, size_t bytes) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  auto it = r.device.upper_bound(a);
  if (it == r.device.begin()) return false;
  --it;
  return a >= it->first && a + bytes <= it->first + it->second;
}

// The device-side ranges of a copy must lie inside device allocations.
cudaError_t check_copy(void* dst, const void* src, size_t dst_span, size_t src_span, cudaMemcpyKind kind) {
  const bool dst_device = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  const bool src_device = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  if (kind < cudaMemcpyHostToHost || kind > cudaMemcpyDefault) return cudaErrorInvalidMemcpyDirection;
  if ((dst_device && !in_device_allocation(dst, dst_span)) || (src_device && !in_device_allocation(src, src_span)))
    return cudaErrorInvalidValue;
  return cudaSuccess;
}

cudaError_t check_stream(cudaStream_t stream) {
  return w2v_emu::is_valid_stream(stream) ? cudaSuccess : cudaErrorInvalidResourceHandle;
}

// Streams and events are handles to small objects holding their flags, registered while
// they live.
template <typename Handle>
using Handles = std::set<Handle> Registry::*;

template <typename Handle>
bool is_registered(Handle handle, Handles<Handle> handles) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  return (r.*handles).count(handle) != 0;
}

template <typename Handle>
cudaError_t create_handle(Handle* handle, Handles<Handle> handles, unsigned flags, unsigned allowed_flags) {
  if (flags & ~allowed_flags) return status(cudaErrorInvalidValue);
  *handle = new std::remove_pointer_t<Handle>{flags};
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  (r.*handles).insert(*handle);
  return cudaSuccess;
}

template <typename Handle>
cudaError_t destroy_handle(Handle handle, Handles<Handle> handles) {
  Registry& r = registry();
  {
    std::lock_guard<std::mutex> lock(r.mutex);
    if ((r.*handles).erase(handle) == 0) return status(cudaErrorInvalidResourceHandle);
  }
  delete handle;
  return cudaSuccess;
}

bool is_event(cudaEvent_t event) { return is_registered(event, &Registry::events); }

}  // namespace

namespace w2v_emu {

bool is_valid_stream(cudaStream_t stream) {
  if (stream == nullptr || stream == cudaStreamLegacy || stream == cudaStreamPerThread) return true;
  return is_registered(stream, &Registry::streams);
}

}  // namespace w2v_emu

cudaError_t cudaGetLastError() {
  const cudaError_t error = t_last_error;
  t_last_error = cudaSuccess;
  return error;
}

cudaError_t cudaPeekAtLastError() { return t_last_error; }

const char* cudaGetErrorName(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevicePointer: return "cudaErrorInvalidDevicePointer";
    case cudaErrorInvalidMemcpyDirection: return "cudaErrorInvalidMemcpyDirection";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorNotReady: return "cudaErrorNotReady";
  }
  return "cudaErrorUnknown";
}

const char* cudaGetErrorString(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidDevicePointer: return "invalid device pointer";
    case cudaErrorInvalidMemcpyDirection: return "invalid copy direction for memcpy";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorNotReady: return "device not ready";
  }
  return "unrecognized error code";
}

cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) { return status(device == 0 ? cudaSuccess : cudaErrorInvalidDevice); }

cudaError_t cudaGetDevice(int* device) {
  *device = 0;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (device != 0) return status(cudaErrorInvalidDevice);
  std::memset(prop, 0, sizeof(*prop));
  std::strncpy(prop->name, "w2v_ext CUDA emulation on the CPU", sizeof(prop->name) - 1);
  prop->totalGlobalMem = static_cast<size_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<size_t>(sysconf(_SC_PAGESIZE));
  prop->sharedMemPerBlock = prop->sharedMemPerBlockOptin = 48 * 1024;
  prop->warpSize = 32;
  prop->maxThreadsPerBlock = 1024;
  prop->maxThreadsDim[0] = prop->maxThreadsDim[1] = 1024;
  prop->maxThreadsDim[2] = 64;
  prop->maxGridSize[0] = 2147483647;
  prop->maxGridSize[1] = prop->maxGridSize[2] = 65535;
  prop->multiProcessorCount = 1;
  prop->major = 8;
  prop->minor = 0;
  return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }

cudaError_t cudaMalloc(void** pointer, size_t bytes) {
  *pointer = nullptr;
  if (bytes == 0) return cudaSuccess;
  void* p = nullptr;
  if (posix_memalign(&p, 256, bytes) != 0) return status(cudaErrorMemoryAllocation);
  std::memset(p, 0xff, bytes);
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.device[reinterpret_cast<uintptr_t>(p)] = bytes;
  *pointer = p;
  return cudaSuccess;
}

cudaError_t cudaFree(void* pointer) {
  if (pointer == nullptr) return cudaSuccess;
  Registry& r = registry();
  {
    std::lock_guard<std::mutex> lock(r.mutex);
    if (r.device.erase(reinterpret_cast<uintptr_t>(pointer)) == 0) return status(cudaErrorInvalidDevicePointer);
  }
  std::free(pointer);
  return cudaSuccess;
}

cudaError_t cudaHostAlloc(void** pointer, size_t bytes, unsigned int flags) {
  *pointer = nullptr;
  if (flags & ~(cudaHostAllocPortable | cudaHostAllocMapped | cudaHostAllocWriteCombined))
    return status(cudaErrorInvalidValue);
  void* p = nullptr;
  if (posix_memalign(&p, 256, bytes == 0 ? 1 : bytes) != 0) return status(cudaErrorMemoryAllocation);
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.pinned.insert(p);
  *pointer = p;
  return cudaSuccess;
}

cudaError_t cudaMallocHost(void** pointer, size_t bytes) { return cudaHostAlloc(pointer, bytes, cudaHostAllocDefault); }

cudaError_t cudaFreeHost(void* pointer) {
  if (pointer == nullptr) return cudaSuccess;
  Registry& r = registry();
  {
    std::lock_guard<std::mutex> lock(r.mutex);
    if (r.pinned.erase(pointer) == 0) return status(cudaErrorInvalidValue);
  }
  std::free(pointer);
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  if (bytes == 0) return cudaSuccess;
  if (cudaError_t e = check_copy(dst, src, bytes, bytes, kind)) return status(e);
  std::memmove(dst, src, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t stream) {
  if (cudaError_t e = check_stream(stream)) return status(e);
  return cudaMemcpy(dst, src, bytes, kind);
}

cudaError_t cudaMemcpy2D(void* dst, size_t dst_pitch, const void* src, size_t src_pitch, size_t width, size_t height,
                         cudaMemcpyKind kind) {
  if (width == 0 || height == 0) return cudaSuccess;
  if (width > dst_pitch || width > src_pitch) return status(cudaErrorInvalidValue);
  if (cudaError_t e = check_copy(dst, src, dst_pitch * (height - 1) + width, src_pitch * (height - 1) + width, kind))
    return status(e);
  for (size_t row = 0; row < height; ++row)
    std::memmove(static_cast<unsigned char*>(dst) + row * dst_pitch,
                 static_cast<const unsigned char*>(src) + row * src_pitch, width);
  return cudaSuccess;
}

cudaError_t cudaMemcpy2DAsync(void* dst, size_t dst_pitch, const void* src, size_t src_pitch, size_t width,
                              size_t height, cudaMemcpyKind kind, cudaStream_t stream) {
  if (cudaError_t e = check_stream(stream)) return status(e);
  return cudaMemcpy2D(dst, dst_pitch, src, src_pitch, width, height, kind);
}

cudaError_t cudaMemset(void* dst, int value, size_t bytes) {
  if (bytes == 0) return cudaSuccess;
  if (!in_device_allocation(dst, bytes)) return status(cudaErrorInvalidValue);
  std::memset(dst, value, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* dst, int value, size_t bytes, cudaStream_t stream) {
  if (cudaError_t e = check_stream(stream)) return status(e);
  return cudaMemset(dst, value, bytes);
}

cudaError_t cudaStreamCreate(cudaStream_t* stream) { return cudaStreamCreateWithFlags(stream, cudaStreamDefault); }

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int flags) {
  return create_handle(stream, &Registry::streams, flags, cudaStreamNonBlocking);
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) { return destroy_handle(stream, &Registry::streams); }

cudaError_t cudaStreamSynchronize(cudaStream_t stream) { return status(check_stream(stream)); }
cudaError_t cudaStreamQuery(cudaStream_t stream) { return status(check_stream(stream)); }

cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned int flags) {
  if (cudaError_t e = check_stream(stream)) return status(e);
  if (!is_event(event) || flags != 0) return status(cudaErrorInvalidResourceHandle);
  return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* event) { return cudaEventCreateWithFlags(event, cudaEventDefault); }

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int flags) {
  return create_handle(event, &Registry::events, flags, cudaEventBlockingSync | cudaEventDisableTiming);
}

cudaError_t cudaEventDestroy(cudaEvent_t event) { return destroy_handle(event, &Registry::events); }

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  if (cudaError_t e = check_stream(stream)) return status(e);
  return status(is_event(event) ? cudaSuccess : cudaErrorInvalidResourceHandle);
}

cudaError_t cudaEventQuery(cudaEvent_t event) {
  return status(is_event(event) ? cudaSuccess : cudaErrorInvalidResourceHandle);
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) { return cudaEventQuery(event); }
