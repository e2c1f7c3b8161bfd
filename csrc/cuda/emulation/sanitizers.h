// Which sanitizers an emulated build runs under, and AddressSanitizer's poisoning calls
// (no-ops in a build without it).
#pragma once

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define W2V_EMU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define W2V_EMU_ASAN 1
#endif
#endif

// AddressSanitizer or UndefinedBehaviorSanitizer
#if defined(W2V_EMU_ASAN) || defined(__SANITIZE_UNDEFINED__)
#define W2V_EMU_SANITIZERS 1
#elif defined(__has_feature)
#if __has_feature(undefined_behavior_sanitizer)
#define W2V_EMU_SANITIZERS 1
#endif
#endif

#if defined(W2V_EMU_ASAN)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace w2v_emu {

// [p, p + n) becomes unaddressable: AddressSanitizer reports any access to it.
inline void poison(void* p, size_t n) {
#if defined(W2V_EMU_ASAN)
  __asan_poison_memory_region(p, n);
#else
  (void)p, (void)n;
#endif
}

inline void unpoison(void* p, size_t n) {
#if defined(W2V_EMU_ASAN)
  __asan_unpoison_memory_region(p, n);
#else
  (void)p, (void)n;
#endif
}

}  // namespace w2v_emu
