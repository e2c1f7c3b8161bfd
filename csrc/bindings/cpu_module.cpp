// The CPU extension module: the ops' entry points (ns_op_bindings.h, as the CUDA module
// binds them), their index checks and compact rows, the corpus reader, the sampling
// tables and the corpus trainer.
#include <pybind11/pybind11.h>

#include "bindings/erased_views.h"
#include "bindings/ns_op_bindings.h"
#include "bindings/numpy_util.h"
#include "compact_rows.h"
#include "index_check.h"

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
  bind_ns_ops<Device::cpu>(m, "threads");
  // The per-row score counts as (constant, rows, contexts, negatives, contexts x negatives)
  // factors (ns_batch.h's TermsPerRow), which the ops evaluate over their sizes.
  const auto factors = [](const TermsPerRow& t) {
    return py::make_tuple(t.constant, t.rows, t.contexts, t.negatives, t.contexts_x_negatives);
  };
  m.def("sgns_terms_per_row", [=](bool negatives_per_context) { return factors(sgns_terms_per_row(negatives_per_context)); },
        py::arg("negatives_per_context"));
  m.def("cbow_ns_terms_per_row", [=](bool in_batch_positives) { return factors(cbow_ns_terms_per_row(in_batch_positives)); },
        py::arg("in_batch_positives"));
}
