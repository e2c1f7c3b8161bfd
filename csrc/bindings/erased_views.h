// Type-erased views that Python fills from tensors (data_ptr(), sizes, strides) and the
// module entry points turn into the kernels' typed views. Shared by the CPU and CUDA
// modules so both take the same arguments.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "ns_batch.h"

namespace w2v::bindings {

enum class Scalar { f32, f64 };
enum class Index { i32, i64 };

inline Scalar parse_scalar(const std::string& name) {
  if (name == "float32") return Scalar::f32;
  if (name == "float64") return Scalar::f64;
  throw std::invalid_argument("unsupported weight dtype " + name + " (expected float32 or float64)");
}

inline Index parse_index(const std::string& name) {
  if (name == "int32") return Index::i32;
  if (name == "int64") return Index::i64;
  throw std::invalid_argument("unsupported index dtype " + name + " (expected int32 or int64)");
}

struct ErasedEmbeddings {
  Scalar scalar;
  uintptr_t input, output;
  int64_t input_rows, input_stride, output_rows, output_stride, dim;

  template <typename T>
  EmbeddingPair<T> typed() const {
    return {reinterpret_cast<T*>(input), input_rows, input_stride,
            reinterpret_cast<T*>(output), output_rows, output_stride, dim};
  }
};

struct ErasedBatch {
  Index index;
  uintptr_t center, context, negative;
  int64_t rows, context_size, negatives;
  bool negatives_per_context, in_batch_positives;
  int64_t padding_idx;
  uintptr_t index_error;

  template <typename I>
  NsBatch<I> typed() const {
    return {reinterpret_cast<const I*>(center), reinterpret_cast<const I*>(context),
            reinterpret_cast<const I*>(negative), rows, context_size, negatives,
            negatives_per_context, in_batch_positives, padding_idx,
            reinterpret_cast<const unsigned long long*>(index_error)};
  }
};

// SavedGrad: what a forward keeps for its backward (keep = false: nothing; the
// pointers may then be 0). `scalar` is the saved tensors' dtype (the compute type's,
// see ns_batch.h), `dim` their columns.
struct ErasedSaved {
  Scalar scalar;
  bool keep;
  uintptr_t coef, grad_h_pos, grad_h_neg, hidden;
  int64_t terms_per_row, dim;

  template <typename T>
  SavedGrad<T> typed() const {
    return {keep, reinterpret_cast<T*>(coef), reinterpret_cast<T*>(grad_h_pos), reinterpret_cast<T*>(grad_h_neg),
            reinterpret_cast<T*>(hidden), terms_per_row};
  }
};

// Where a backward's gradients go: the input and output tables' GradRows, and the
// slots of compact rows (all 0: dense gradients).
struct ErasedGradTargets {
  uintptr_t input;
  int64_t input_stride, input_rows;
  uintptr_t output;
  int64_t output_stride, output_rows;
  uintptr_t center_slot, context_slot, negative_slot;

  template <typename T>
  GradRows<T> input_grad() const {
    return {reinterpret_cast<T*>(input), input_stride, input_rows};
  }
  template <typename T>
  GradRows<T> output_grad() const {
    return {reinterpret_cast<T*>(output), output_stride, output_rows};
  }
  NsSlots slots() const {
    return {reinterpret_cast<const int64_t*>(center_slot), reinterpret_cast<const int64_t*>(context_slot),
            reinterpret_cast<const int64_t*>(negative_slot)};
  }
};

// Calls fn(T{}, I{}) with the scalar and index types the views hold.
template <typename Fn>
auto dispatch(Scalar scalar, Index index, Fn&& fn) {
  if (scalar == Scalar::f32) return index == Index::i32 ? fn(float{}, int32_t{}) : fn(float{}, int64_t{});
  return index == Index::i32 ? fn(double{}, int32_t{}) : fn(double{}, int64_t{});
}

// module_local: the CPU and CUDA modules each register their own copy.
inline void bind_views(pybind11::module_& m) {
  namespace py = pybind11;
  py::class_<ErasedEmbeddings>(m, "EmbeddingPair", py::module_local())
      .def(py::init([](const std::string& dtype, uintptr_t input, int64_t input_rows, int64_t input_stride,
                       uintptr_t output, int64_t output_rows, int64_t output_stride, int64_t dim) {
             return ErasedEmbeddings{parse_scalar(dtype), input, output, input_rows, input_stride,
                                     output_rows, output_stride, dim};
           }),
           py::arg("dtype"), py::arg("input"), py::arg("input_rows"), py::arg("input_stride"), py::arg("output"),
           py::arg("output_rows"), py::arg("output_stride"), py::arg("dim"));
  py::class_<ErasedBatch>(m, "NsBatch", py::module_local())
      .def(py::init([](const std::string& index_dtype, uintptr_t center, uintptr_t context, uintptr_t negative,
                       int64_t rows, int64_t context_size, int64_t negatives, bool negatives_per_context,
                       bool in_batch_positives, int64_t padding_idx, uintptr_t index_error) {
             return ErasedBatch{parse_index(index_dtype), center, context, negative, rows, context_size,
                                negatives, negatives_per_context, in_batch_positives, padding_idx, index_error};
           }),
           py::arg("index_dtype"), py::arg("center"), py::arg("context"), py::arg("negative"), py::arg("rows"),
           py::arg("context_size"), py::arg("negatives"), py::arg("negatives_per_context"),
           py::arg("in_batch_positives"), py::arg("padding_idx"), py::arg("index_error") = 0);
  py::class_<ErasedSaved>(m, "SavedGrad", py::module_local())
      .def(py::init([](const std::string& dtype, bool keep, uintptr_t coef, uintptr_t grad_h_pos,
                       uintptr_t grad_h_neg, uintptr_t hidden, int64_t terms_per_row, int64_t dim) {
             return ErasedSaved{parse_scalar(dtype), keep, coef, grad_h_pos, grad_h_neg, hidden, terms_per_row, dim};
           }),
           py::arg("dtype"), py::arg("keep"), py::arg("coef"), py::arg("grad_h_pos"), py::arg("grad_h_neg"),
           py::arg("hidden"), py::arg("terms_per_row"), py::arg("dim"));
  py::class_<ErasedGradTargets>(m, "GradTargets", py::module_local())
      .def(py::init<uintptr_t, int64_t, int64_t, uintptr_t, int64_t, int64_t, uintptr_t, uintptr_t, uintptr_t>(),
           py::arg("input"), py::arg("input_stride"), py::arg("input_rows"), py::arg("output"),
           py::arg("output_stride"), py::arg("output_rows"), py::arg("center_slot") = 0,
           py::arg("context_slot") = 0, py::arg("negative_slot") = 0);
}

}  // namespace w2v::bindings
