// Vector loops over the embedding dimension, written so the compiler vectorises them,
// and the attribute that compiles a row-range worker once per instruction set.
#pragma once

#include <cstdint>

// Workers marked W2V_CLONES are compiled for AVX-512, AVX2+FMA and baseline x86-64 and
// the best one is picked when the module loads (GCC function multi-versioning), so a
// wheel runs on any x86-64 yet uses the wide units where they exist. The vector helpers
// below are force-inlined into each clone and so get that clone's instruction set.
// Clones must not contain an OpenMP parallel region (its body would be outlined into a
// baseline function): drivers open the region and call the clone inside it.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(W2V_NO_CLONES)
#define W2V_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define W2V_CLONES
#endif

#define W2V_INLINE inline __attribute__((always_inline))
// Lambdas inside a clone must be inlined into it too: compiled on their own they get
// the baseline instruction set. Write `[&](...) W2V_LAMBDA_INLINE { ... }`.
#define W2V_LAMBDA_INLINE __attribute__((always_inline))

namespace w2v::cpu {

template <typename T>
W2V_INLINE T dot(const T* a, const T* b, int64_t n) {
  T sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

// y += alpha * x
template <typename T>
W2V_INLINE void axpy(T alpha, const T* __restrict x, T* __restrict y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

// y += x
template <typename T>
W2V_INLINE void add(const T* __restrict x, T* __restrict y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

template <typename T>
W2V_INLINE void copy(const T* __restrict x, T* __restrict y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = x[i];
}

template <typename T>
W2V_INLINE void scale(T alpha, T* x, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) x[i] *= alpha;
}

template <typename T>
W2V_INLINE void fill_zero(T* x, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) x[i] = T(0);
}

}  // namespace w2v::cpu
