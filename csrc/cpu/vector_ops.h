// Vector loops over the embedding dimension, written so the compiler vectorises them,
// and the attribute that compiles a row-range worker once per instruction set.
#pragma once

#include <cstdint>
#include <type_traits>

#include "compute_type.h"

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

// The helpers take table rows (storage type T) and scratch (compute_t<T>) alike: they
// load into the compute type, compute there and convert back on the store. For float
// and double every conversion is the identity.

// <a, b> in the compute type.
template <typename A, typename B>
W2V_INLINE compute_t<A> dot(const A* a, const B* b, int64_t n) {
  using CT = compute_t<A>;
  static_assert(std::is_same_v<CT, compute_t<B>>, "dot of rows with different compute types");
  CT sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) sum += static_cast<CT>(a[i]) * static_cast<CT>(b[i]);
  return sum;
}

// y += alpha * x
template <typename CT, typename X, typename Y>
W2V_INLINE void axpy(CT alpha, const X* __restrict x, Y* __restrict y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<Y>(static_cast<CT>(y[i]) + alpha * static_cast<CT>(x[i]));
}

// y += x
template <typename X, typename Y>
W2V_INLINE void add(const X* __restrict x, Y* __restrict y, int64_t n) {
  using CT = compute_t<Y>;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<Y>(static_cast<CT>(y[i]) + static_cast<CT>(x[i]));
}

template <typename X, typename Y>
W2V_INLINE void copy(const X* __restrict x, Y* __restrict y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<Y>(x[i]);
}

template <typename CT, typename X>
W2V_INLINE void scale(CT alpha, X* x, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) x[i] = static_cast<X>(alpha * static_cast<CT>(x[i]));
}

template <typename T>
W2V_INLINE void fill_zero(T* x, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) x[i] = T(0);
}

}  // namespace w2v::cpu
