// Fibers for the CUDA emulation: stackful threads of execution that one OS thread
// switches between by hand, so that each CUDA thread of a block is a real thread of
// execution (it can stop at a barrier deep inside a device function and resume there)
// without an OS thread per CUDA thread.
#pragma once

#include <cstddef>

namespace w2v_emu {

class Fiber {
 public:
  using Entry = void (*)(void* arg);

  // The calling OS thread's own context: the fiber that switches into the others.
  Fiber();
  // A fiber with its own stack that starts in entry(arg) when first switched to;
  // entry must never return.
  Fiber(size_t stack_bytes, Entry entry, void* arg);
  ~Fiber();
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  // Suspends `from` (the fiber running now) and resumes `to`.
  static void switch_to(Fiber& from, Fiber& to);

 private:
  friend void fiber_start(Fiber* self);
  void* sp_ = nullptr;          // saved stack pointer while suspended
  void* context_ = nullptr;     // ucontext_t where there is no assembly switch
  unsigned char* mapping_ = nullptr;  // guard page + stack
  size_t mapping_bytes_ = 0;
  Entry entry_ = nullptr;
  void* arg_ = nullptr;
  // AddressSanitizer's view of the stack this fiber runs on
  const void* stack_bottom_ = nullptr;
  size_t stack_size_ = 0;
  void* fake_stack_ = nullptr;
};

}  // namespace w2v_emu
