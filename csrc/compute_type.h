// The type the kernels compute in, apart from the type the tables are stored in.
#pragma once

#include <type_traits>

namespace w2v {

// The type dot products, sigmoid/loss and gradient accumulation run in for tables stored
// as T: the kernels load rows into it, compute, and convert back (static_cast<T>) on
// every store into a table or gradient row. A half/bf16 storage type would map to float
// here; float and double compute in themselves, so their results are those of plain T.
// Kernels name it `using CT = compute_t<T>;`.
template <typename T>
struct ComputeType {
  using type = T;
};

template <typename T>
using compute_t = typename ComputeType<T>::type;

static_assert(std::is_same_v<compute_t<float>, float>, "float tables compute in float");
static_assert(std::is_same_v<compute_t<double>, double>, "double tables compute in double");

}  // namespace w2v
