#include "cuda/emulation/shared_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cuda/emulation/sanitizers.h"

namespace w2v_emu {

namespace {

size_t page_size() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }

}  // namespace

SharedMemory::~SharedMemory() {
  if (mapping_) {
    unpoison(mapping_, mapping_bytes_ - page_size());
    munmap(mapping_, mapping_bytes_);
  }
}

void SharedMemory::reserve(size_t bytes) {
  const size_t page = page_size();
  const size_t usable = (bytes + 15 + page - 1) / page * page;
  if (!mapping_ || mapping_bytes_ - page < usable) {
    if (mapping_) {
      unpoison(mapping_, mapping_bytes_ - page);
      munmap(mapping_, mapping_bytes_);
    }
    mapping_bytes_ = usable + page;
    void* m = mmap(nullptr, mapping_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
      std::fprintf(stderr, "w2v_ext CUDA emulation: cannot map shared memory\n");
      std::abort();
    }
    mapping_ = static_cast<unsigned char*>(m);
    guard_ = mapping_ + usable;
    mprotect(guard_, page, PROT_NONE);
  }
  bytes_ = bytes;
  const uintptr_t end = reinterpret_cast<uintptr_t>(guard_);
  start_ = reinterpret_cast<unsigned char*>((end - bytes) & ~uintptr_t(15));
  unpoison(mapping_, static_cast<size_t>(guard_ - mapping_));
  poison(mapping_, static_cast<size_t>(start_ - mapping_));
  poison(start_ + bytes_, static_cast<size_t>(guard_ - (start_ + bytes_)));
}

unsigned char* SharedMemory::begin_block() {
  std::memset(start_, 0xff, bytes_);
  return start_;
}

bool SharedMemory::in_guard(const void* address) const {
  const auto* p = static_cast<const unsigned char*>(address);
  return guard_ && p >= guard_ && p < guard_ + page_size();
}

}  // namespace w2v_emu
