// The CUDA extension module: the ops' entry points as the CPU module binds them
// (ns_op_bindings.h), taking the current CUDA stream (a cudaStream_t as an integer)
// instead of a thread count, their index checks and the corpus trainer. It
// imports on machines without a GPU; device_count() then returns 0 and the Python layer
// raises a clear error before any launch.
#include <pybind11/pybind11.h>

#include "bindings/erased_views.h"
#include "bindings/ns_op_bindings.h"
#include "cuda/device_info.h"
#include "index_check.h"

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
  bind_ns_ops<Device::cuda>(m, "stream");
}
