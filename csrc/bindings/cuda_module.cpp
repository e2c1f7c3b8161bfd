// The CUDA extension module. It imports on machines without a GPU; device_count()
// then returns 0 and the Python layer raises a clear error before any launch.
#include <pybind11/pybind11.h>

#include "bindings/erased_views.h"
#include "cuda/device_info.h"

namespace py = pybind11;

PYBIND11_MODULE(_w2v_cuda, m) {
  m.doc() = "w2v_ext CUDA kernels (raw-pointer interface; use the w2v_ext Python API)";
  w2v::bindings::bind_views(m);
  m.def("device_count", &w2v::cuda::device_count, "CUDA devices visible to this process (0 without a GPU)");
}
