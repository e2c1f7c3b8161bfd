// A block's dynamic shared memory for the CPU emulation: exactly the requested bytes,
// 16-byte aligned, ending at most 15 bytes before a PROT_NONE guard page (an access past
// the end faults; under AddressSanitizer every byte outside the block's share is
// poisoned too), and filled with 0xff bytes at the start of every block.
#pragma once

#include <cstddef>

namespace w2v_emu {

class SharedMemory {
 public:
  SharedMemory() = default;
  ~SharedMemory();
  SharedMemory(const SharedMemory&) = delete;
  SharedMemory& operator=(const SharedMemory&) = delete;

  // Sizes the region for a launch (bytes <= 48 KiB).
  void reserve(size_t bytes);
  // Refills the region for the next block; returns its start.
  unsigned char* begin_block();
  unsigned char* data() const { return start_; }
  // True when `address` lies in the guard page after the region.
  bool in_guard(const void* address) const;

 private:
  unsigned char* mapping_ = nullptr;
  size_t mapping_bytes_ = 0;
  unsigned char* guard_ = nullptr;
  unsigned char* start_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace w2v_emu
