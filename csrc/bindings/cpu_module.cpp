// The CPU extension module: entry points that take the erased views, release the GIL
// and run the kernels.
#include <pybind11/pybind11.h>

#include "bindings/erased_views.h"
#include "cbow_ns.h"
#include "bindings/numpy_util.h"
#include "compact_rows.h"
#include "index_check.h"
#include "sgns.h"

namespace py = pybind11;

namespace w2v::bindings {
void bind_corpus(py::module_& m);      // corpus_bindings.cpp
void bind_sampling(py::module_& m);    // sampling_bindings.cpp
void bind_train_cpu(py::module_& m);   // train_cpu_bindings.cpp
}  // namespace w2v::bindings

using namespace w2v;
using namespace w2v::bindings;

namespace {

int64_t check_index_range(const std::string& index_dtype, uintptr_t data, int64_t numel, int64_t rows,
                          int64_t padding_idx, int threads) {
  if (parse_index(index_dtype) == Index::i32)
    return cpu::first_index_out_of_range(reinterpret_cast<const int32_t*>(data), numel, rows, padding_idx, threads);
  return cpu::first_index_out_of_range(reinterpret_cast<const int64_t*>(data), numel, rows, padding_idx, threads);
}

// Returns the sorted unique kept rows as a numpy array; slots (int64, numel entries) is
// written in place.
pybind11::array_t<int64_t> compact_rows(const std::string& index_dtype, uintptr_t index, uintptr_t keep,
                                        int64_t numel, uintptr_t slots) {
  std::vector<int64_t> rows;
  {
    py::gil_scoped_release release;
    auto* out = reinterpret_cast<int64_t*>(slots);
    const auto* mask = reinterpret_cast<const bool*>(keep);
    if (parse_index(index_dtype) == Index::i32)
      cpu::compact_rows(reinterpret_cast<const int32_t*>(index), mask, numel, &rows, out);
    else
      cpu::compact_rows(reinterpret_cast<const int64_t*>(index), mask, numel, &rows, out);
  }
  return to_numpy(std::move(rows));
}

template <bool Cbow>
void forward(const ErasedEmbeddings& w, const ErasedBatch& b, uintptr_t pos_loss, uintptr_t neg_loss, bool save_grad,
             uintptr_t coef,
             uintptr_t grad_h_pos, uintptr_t grad_h_neg, uintptr_t hidden, int64_t terms_per_row, int threads) {
  dispatch(w.scalar, b.index, [&](auto t, auto i) {
    using T = decltype(t);
    using I = decltype(i);
    auto fn = Cbow ? &cpu::cbow_ns_forward<T, I> : &cpu::sgns_forward<T, I>;
    fn(w.typed<T>(), b.typed<I>(), reinterpret_cast<T*>(pos_loss), reinterpret_cast<T*>(neg_loss),
       saved_from<T>(save_grad, coef, grad_h_pos, grad_h_neg, hidden, terms_per_row), threads);
  });
}

// The backward reads only what the forward saved, never the weights; `dtype` is theirs.
template <bool Cbow>
void backward(const std::string& dtype, const ErasedBatch& b, uintptr_t coef, uintptr_t grad_h_pos,
              uintptr_t grad_h_neg, uintptr_t hidden, int64_t terms_per_row, int64_t dim, uintptr_t grad_pos,
              uintptr_t grad_neg, uintptr_t grad_input, int64_t grad_input_stride, int64_t grad_input_rows,
              uintptr_t grad_output, int64_t grad_output_stride, int64_t grad_output_rows, uintptr_t center_slot,
              uintptr_t context_slot, uintptr_t negative_slot, int threads) {
  dispatch(parse_scalar(dtype), b.index, [&](auto t, auto i) {
    using T = decltype(t);
    using I = decltype(i);
    auto fn = Cbow ? &cpu::cbow_ns_backward<T, I> : &cpu::sgns_backward<T, I>;
    fn(b.typed<I>(), saved_from<T>(true, coef, grad_h_pos, grad_h_neg, hidden, terms_per_row), dim,
       reinterpret_cast<const T*>(grad_pos), reinterpret_cast<const T*>(grad_neg),
       GradRows<T>{reinterpret_cast<T*>(grad_input), grad_input_stride, grad_input_rows},
       GradRows<T>{reinterpret_cast<T*>(grad_output), grad_output_stride, grad_output_rows},
       slots_from(center_slot, context_slot, negative_slot), threads);
  });
}

// The steps write their summed loss to `loss` (one element of the weights' dtype), as
// the CUDA module does, so the caller never waits on a device to read it.
void sgns_step(const ErasedEmbeddings& w, const ErasedBatch& b, double lr, uintptr_t loss, int threads) {
  dispatch(w.scalar, b.index, [&](auto t, auto i) {
    using T = decltype(t);
    using I = decltype(i);
    *reinterpret_cast<T*>(loss) = static_cast<T>(cpu::sgns_sgd_step<T, I>(w.typed<T>(), b.typed<I>(), static_cast<T>(lr), threads));
  });
}

void cbow_step(const ErasedEmbeddings& w, const ErasedBatch& b, double lr, bool exact_context_gradient,
               uintptr_t loss, int threads) {
  dispatch(w.scalar, b.index, [&](auto t, auto i) {
    using T = decltype(t);
    using I = decltype(i);
    *reinterpret_cast<T*>(loss) = static_cast<T>(
        cpu::cbow_ns_sgd_step<T, I>(w.typed<T>(), b.typed<I>(), static_cast<T>(lr), exact_context_gradient, threads));
  });
}

}  // namespace

PYBIND11_MODULE(_w2v_cpu, m) {
  m.doc() = "w2v_ext CPU kernels (raw-pointer interface; use the w2v_ext Python API)";
  bind_views(m);
  bind_corpus(m);
  bind_sampling(m);
  bind_train_cpu(m);
  const auto release = py::call_guard<py::gil_scoped_release>();
  m.def("compact_rows", &compact_rows, py::arg("index_dtype"), py::arg("index"), py::arg("keep"), py::arg("numel"),
        py::arg("slots"));
  m.def("check_index_range", &check_index_range, release, py::arg("index_dtype"), py::arg("data"),
        py::arg("numel"), py::arg("rows"), py::arg("padding_idx"), py::arg("threads"));
  for (const bool cbow : {false, true}) {
    const std::string prefix = cbow ? "cbow_ns" : "sgns";
    m.def((prefix + "_forward").c_str(), cbow ? &forward<true> : &forward<false>, release, py::arg("weights"),
          py::arg("batch"), py::arg("pos_loss"), py::arg("neg_loss"), py::arg("save_grad"), py::arg("coef"), py::arg("grad_h_pos"),
          py::arg("grad_h_neg"), py::arg("hidden"), py::arg("terms_per_row"), py::arg("threads"));
    m.def((prefix + "_backward").c_str(), cbow ? &backward<true> : &backward<false>, release, py::arg("dtype"),
          py::arg("batch"), py::arg("coef"), py::arg("grad_h_pos"), py::arg("grad_h_neg"), py::arg("hidden"),
          py::arg("terms_per_row"), py::arg("dim"), py::arg("grad_pos"), py::arg("grad_neg"), py::arg("grad_input"),
          py::arg("grad_input_stride"), py::arg("grad_input_rows"), py::arg("grad_output"),
          py::arg("grad_output_stride"), py::arg("grad_output_rows"), py::arg("center_slot"),
          py::arg("context_slot"), py::arg("negative_slot"), py::arg("threads"));
  }
  m.def("sgns_sgd_step", &sgns_step, release, py::arg("weights"), py::arg("batch"), py::arg("lr"),
        py::arg("loss"), py::arg("threads"));
  m.def("cbow_ns_sgd_step", &cbow_step, release, py::arg("weights"), py::arg("batch"), py::arg("lr"),
        py::arg("exact_context_gradient"), py::arg("loss"), py::arg("threads"));
}
