// The CUDA extension module: the same entry points as the CPU module, taking the
// current CUDA stream (a cudaStream_t as an integer) instead of a thread count. It
// imports on machines without a GPU; device_count() then returns 0 and the Python layer
// raises a clear error before any launch.
#include <pybind11/pybind11.h>

#include "bindings/erased_views.h"
#include "cbow_ns.h"
#include "cuda/device_info.h"
#include "index_check.h"
#include "sgns.h"

namespace py = pybind11;
using namespace w2v;
using namespace w2v::bindings;

#if !defined(W2V_CUDA_MODULE_NAME)
#define W2V_CUDA_MODULE_NAME _w2v_cuda
#endif
namespace w2v::bindings {
void bind_train_cuda(py::module_& m);           // train_cuda_bindings.cpp
#if defined(W2V_CUDA_EMULATION)
void bind_emulation_selftests(py::module_& m);  // emulation_selftest.cpp
#endif
}  // namespace w2v::bindings

namespace {

void* stream_of(uintptr_t stream) { return reinterpret_cast<void*>(stream); }

void check_index_range(const std::string& index_dtype, uintptr_t data, int64_t numel, int64_t rows,
                       int64_t padding_idx, int check, uint64_t serial, uintptr_t state, uintptr_t stream) {
  if (check < 0 || check > 127) throw std::invalid_argument("check must be in [0, 127]");
  auto* out = reinterpret_cast<unsigned long long*>(state);
  if (parse_index(index_dtype) == Index::i32)
    cuda::check_index_range(reinterpret_cast<const int32_t*>(data), numel, rows, padding_idx, check, serial, out,
                            stream_of(stream));
  else
    cuda::check_index_range(reinterpret_cast<const int64_t*>(data), numel, rows, padding_idx, check, serial, out,
                            stream_of(stream));
}

template <bool Cbow>
void forward(const ErasedEmbeddings& w, const ErasedBatch& b, uintptr_t pos_loss, uintptr_t neg_loss, bool save_grad,
             uintptr_t coef,
             uintptr_t grad_h_pos, uintptr_t grad_h_neg, uintptr_t hidden, int64_t terms_per_row, uintptr_t stream) {
  dispatch(w.scalar, b.index, [&](auto t, auto i) {
    using T = decltype(t);
    using I = decltype(i);
    auto fn = Cbow ? &cuda::cbow_ns_forward<T, I> : &cuda::sgns_forward<T, I>;
    fn(w.typed<T>(), b.typed<I>(), reinterpret_cast<T*>(pos_loss), reinterpret_cast<T*>(neg_loss),
       saved_from<T>(save_grad, coef, grad_h_pos, grad_h_neg, hidden, terms_per_row), stream_of(stream));
  });
}

// The backward reads only what the forward saved, never the weights; `dtype` is theirs.
template <bool Cbow>
void backward(const std::string& dtype, const ErasedBatch& b, uintptr_t coef, uintptr_t grad_h_pos,
              uintptr_t grad_h_neg, uintptr_t hidden, int64_t terms_per_row, int64_t dim, uintptr_t grad_pos,
              uintptr_t grad_neg, uintptr_t grad_input, int64_t grad_input_stride, int64_t grad_input_rows,
              uintptr_t grad_output, int64_t grad_output_stride, int64_t grad_output_rows, uintptr_t center_slot,
              uintptr_t context_slot, uintptr_t negative_slot, uintptr_t stream) {
  dispatch(parse_scalar(dtype), b.index, [&](auto t, auto i) {
    using T = decltype(t);
    using I = decltype(i);
    auto fn = Cbow ? &cuda::cbow_ns_backward<T, I> : &cuda::sgns_backward<T, I>;
    fn(b.typed<I>(), saved_from<T>(true, coef, grad_h_pos, grad_h_neg, hidden, terms_per_row), dim,
       reinterpret_cast<const T*>(grad_pos), reinterpret_cast<const T*>(grad_neg),
       GradRows<T>{reinterpret_cast<T*>(grad_input), grad_input_stride, grad_input_rows},
       GradRows<T>{reinterpret_cast<T*>(grad_output), grad_output_stride, grad_output_rows},
       slots_from(center_slot, context_slot, negative_slot), stream_of(stream));
  });
}

// The steps add their summed loss into `loss` (one element on the device, zeroed by the caller).
void sgns_step(const ErasedEmbeddings& w, const ErasedBatch& b, double lr, bool atomic_updates, uintptr_t loss,
               uintptr_t stream) {
  dispatch(w.scalar, b.index, [&](auto t, auto i) {
    using T = decltype(t);
    using I = decltype(i);
    cuda::sgns_sgd_step<T, I>(w.typed<T>(), b.typed<I>(), static_cast<T>(lr), atomic_updates,
                              reinterpret_cast<T*>(loss), stream_of(stream));
  });
}

void cbow_step(const ErasedEmbeddings& w, const ErasedBatch& b, double lr, bool exact_context_gradient,
               bool atomic_updates, uintptr_t loss, uintptr_t stream) {
  dispatch(w.scalar, b.index, [&](auto t, auto i) {
    using T = decltype(t);
    using I = decltype(i);
    cuda::cbow_ns_sgd_step<T, I>(w.typed<T>(), b.typed<I>(), static_cast<T>(lr), exact_context_gradient,
                                 atomic_updates, reinterpret_cast<T*>(loss), stream_of(stream));
  });
}

}  // namespace

PYBIND11_MODULE(W2V_CUDA_MODULE_NAME, m) {
#if defined(W2V_CUDA_EMULATION)
  m.doc() = "w2v_ext CUDA kernels compiled as C++ and emulated on the CPU, for the tests (raw-pointer interface)";
  m.attr("EMULATED") = true;
  bind_emulation_selftests(m);
#else
  m.doc() = "w2v_ext CUDA kernels (raw-pointer interface; use the w2v_ext Python API)";
  m.attr("EMULATED") = false;
#endif
  bind_views(m);
  m.def("device_count", &cuda::device_count, "CUDA devices visible to this process (0 without a GPU)");
  m.def("device_error", &cuda::device_error, "why device_count() is 0 (the CUDA runtime's message), or ''");
  bind_train_cuda(m);
  const auto release = py::call_guard<py::gil_scoped_release>();
  m.def("check_index_range", &check_index_range, release, py::arg("index_dtype"), py::arg("data"),
        py::arg("numel"), py::arg("rows"), py::arg("padding_idx"), py::arg("check"), py::arg("serial"),
        py::arg("state"), py::arg("stream"));
  for (const bool cbow : {false, true}) {
    const std::string prefix = cbow ? "cbow_ns" : "sgns";
    m.def((prefix + "_forward").c_str(), cbow ? &forward<true> : &forward<false>, release, py::arg("weights"),
          py::arg("batch"), py::arg("pos_loss"), py::arg("neg_loss"), py::arg("save_grad"), py::arg("coef"), py::arg("grad_h_pos"),
          py::arg("grad_h_neg"), py::arg("hidden"), py::arg("terms_per_row"), py::arg("stream"));
    m.def((prefix + "_backward").c_str(), cbow ? &backward<true> : &backward<false>, release, py::arg("dtype"),
          py::arg("batch"), py::arg("coef"), py::arg("grad_h_pos"), py::arg("grad_h_neg"), py::arg("hidden"),
          py::arg("terms_per_row"), py::arg("dim"), py::arg("grad_pos"), py::arg("grad_neg"), py::arg("grad_input"),
          py::arg("grad_input_stride"), py::arg("grad_input_rows"), py::arg("grad_output"),
          py::arg("grad_output_stride"), py::arg("grad_output_rows"), py::arg("center_slot"),
          py::arg("context_slot"), py::arg("negative_slot"), py::arg("stream"));
  }
  m.def("sgns_sgd_step", &sgns_step, release, py::arg("weights"), py::arg("batch"), py::arg("lr"),
        py::arg("atomic_updates"), py::arg("loss"), py::arg("stream"));
  m.def("cbow_ns_sgd_step", &cbow_step, release, py::arg("weights"), py::arg("batch"), py::arg("lr"),
        py::arg("exact_context_gradient"), py::arg("atomic_updates"), py::arg("loss"), py::arg("stream"));
}
