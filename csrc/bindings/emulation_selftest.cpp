// The emulated CUDA module's checks of the emulation itself (cuda/emulation/selftest.h).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "cuda/emulation/selftest.h"

namespace w2v::bindings {

void bind_emulation_selftests(pybind11::module_& m) {
  namespace py = pybind11;
  m.def("emulation_selftest", &w2v_emu::selftest::run, py::call_guard<py::gil_scoped_release>(), py::arg("name"),
        "run one of the emulation's check kernels; returns what its threads wrote (cases named bad_* abort)");
  m.def("emulation_selftest_names", &w2v_emu::selftest::names);
}

}  // namespace w2v::bindings
