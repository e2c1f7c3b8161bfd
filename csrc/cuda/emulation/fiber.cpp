// Fiber switching. On x86-64 a few instructions save the callee-saved registers and swap
// stack pointers (a switch costs nanoseconds; the emulation switches once per CUDA
// thread per barrier or warp collective). Elsewhere ucontext, whose swapcontext makes a
// system call per switch: correct, slower. AddressSanitizer is told about every switch.
#include "cuda/emulation/fiber.h"

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "cuda/emulation/sanitizers.h"

#if defined(__x86_64__) && !defined(W2V_EMU_UCONTEXT)
#define W2V_EMU_ASM_SWITCH 1
#else
#include <ucontext.h>
#endif

namespace w2v_emu {

void fiber_start(Fiber* self);

}  // namespace w2v_emu

#if defined(W2V_EMU_ASM_SWITCH)
extern "C" {
// Saves the callee-saved registers, x87 control word and MXCSR on the current stack,
// stores the stack pointer in *save_sp, and resumes the stack at load_sp.
void w2v_emu_swap_context(void** save_sp, void* load_sp);
// First code a new fiber runs: its Fiber* was restored into rbx.
void w2v_emu_fiber_trampoline();
// called from the assembly only: kept through link-time optimisation
__attribute__((used)) void w2v_emu_fiber_start(w2v_emu::Fiber* self) { w2v_emu::fiber_start(self); }
}

asm(R"(
  .text
  .p2align 4
  .globl w2v_emu_swap_context
  .hidden w2v_emu_swap_context
  .type w2v_emu_swap_context, @function
w2v_emu_swap_context:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $16, %rsp
  stmxcsr 8(%rsp)
  fnstcw (%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  fldcw (%rsp)
  ldmxcsr 8(%rsp)
  addq $16, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size w2v_emu_swap_context, .-w2v_emu_swap_context

  .p2align 4
  .globl w2v_emu_fiber_trampoline
  .hidden w2v_emu_fiber_trampoline
  .type w2v_emu_fiber_trampoline, @function
w2v_emu_fiber_trampoline:
  movq %rbx, %rdi
  call w2v_emu_fiber_start
  ud2
  .size w2v_emu_fiber_trampoline, .-w2v_emu_fiber_trampoline
)");
#endif

namespace w2v_emu {

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "w2v_ext CUDA emulation: %s\n", what);
  std::abort();
}

#if !defined(W2V_EMU_ASM_SWITCH)
void ucontext_entry(unsigned hi, unsigned lo) {
  const uintptr_t p = (static_cast<uintptr_t>(hi) << 32) | lo;
  fiber_start(reinterpret_cast<Fiber*>(p));
}
#endif

}  // namespace

void fiber_start(Fiber* self) {
#if defined(W2V_EMU_ASAN)
  __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);
#endif
  self->entry_(self->arg_);
  fail("a fiber's entry function returned");
}

Fiber::Fiber() {
  pthread_attr_t attr;
  void* addr = nullptr;
  size_t size = 0;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    pthread_attr_getstack(&attr, &addr, &size);
    pthread_attr_destroy(&attr);
  }
  stack_bottom_ = addr;
  stack_size_ = size;
#if !defined(W2V_EMU_ASM_SWITCH)
  context_ = new ucontext_t();
#endif
}

Fiber::Fiber(size_t stack_bytes, Entry entry, void* arg) : entry_(entry), arg_(arg) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t stack = (stack_bytes + page - 1) / page * page;
  mapping_bytes_ = stack + page;
  void* m = mmap(nullptr, mapping_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) fail("cannot map a fiber stack");
  mapping_ = static_cast<unsigned char*>(m);
  mprotect(mapping_, page, PROT_NONE);  // a stack overflow faults instead of corrupting memory
  stack_bottom_ = mapping_ + page;
  stack_size_ = stack;
  unsigned char* top = mapping_ + mapping_bytes_;
#if defined(W2V_EMU_ASM_SWITCH)
  // The frame w2v_emu_swap_context pops: control words, r15..r12, rbx (= this), rbp,
  // then the return address (the trampoline), placed so that the trampoline's call
  // sees a 16-byte aligned stack.
  auto* slot = reinterpret_cast<uint64_t*>(top - 24);
  slot[0] = reinterpret_cast<uint64_t>(&w2v_emu_fiber_trampoline);
  uint64_t* frame = slot - 8;
  uint16_t fpu_control = 0;
  uint32_t mxcsr = 0;
  asm volatile("fnstcw %0" : "=m"(fpu_control));
  asm volatile("stmxcsr %0" : "=m"(mxcsr));
  frame[0] = fpu_control;
  frame[1] = mxcsr;
  for (int r = 2; r < 8; ++r) frame[r] = 0;  // r15 r14 r13 r12 rbx rbp
  frame[6] = reinterpret_cast<uint64_t>(this);
  sp_ = frame;
#else
  auto* ctx = new ucontext_t();
  getcontext(ctx);
  ctx->uc_stack.ss_sp = mapping_ + page;
  ctx->uc_stack.ss_size = stack;
  ctx->uc_link = nullptr;
  const uintptr_t p = reinterpret_cast<uintptr_t>(this);
  makecontext(ctx, reinterpret_cast<void (*)()>(&ucontext_entry), 2, static_cast<unsigned>(p >> 32),
              static_cast<unsigned>(p & 0xffffffffu));
  context_ = ctx;
  (void)top;
#endif
}

Fiber::~Fiber() {
#if !defined(W2V_EMU_ASM_SWITCH)
  delete static_cast<ucontext_t*>(context_);
#endif
  if (mapping_) {
    // frames suspended on this stack left poisoned shadow behind; a later mapping at
    // these addresses must not inherit it
    unpoison(mapping_, mapping_bytes_);
    munmap(mapping_, mapping_bytes_);
  }
}

void Fiber::switch_to(Fiber& from, Fiber& to) {
#if defined(W2V_EMU_ASAN)
  __sanitizer_start_switch_fiber(&from.fake_stack_, to.stack_bottom_, to.stack_size_);
#endif
#if defined(W2V_EMU_ASM_SWITCH)
  w2v_emu_swap_context(&from.sp_, to.sp_);
#else
  swapcontext(static_cast<ucontext_t*>(from.context_), static_cast<ucontext_t*>(to.context_));
#endif
#if defined(W2V_EMU_ASAN)
  __sanitizer_finish_switch_fiber(from.fake_stack_, nullptr, nullptr);
#endif
}

}  // namespace w2v_emu
