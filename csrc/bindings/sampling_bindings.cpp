// Python entry points of the sampling tables' builders: the noise distribution's alias
// table (sampling/sampling_tables.h) and the subsampling thresholds (w2v_math.h).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <stdexcept>

#include "bindings/numpy_util.h"
#include "sampling/sampling_tables.h"
#include "w2v_math.h"

namespace py = pybind11;

namespace w2v::bindings {

void bind_sampling(py::module_& m) {
  m.def(
      "build_alias_table",
      [](const py::array& weights, const py::array& accept, const py::array& alias) {
        const double* w = array_data<double>(weights, "weights", 1);
        uint32_t* acc = array_data<uint32_t>(accept, "accept", 1, true);
        int32_t* ali = array_data<int32_t>(alias, "alias", 1, true);
        const int64_t n = weights.shape(0);
        if (n < 1 || accept.shape(0) != n || alias.shape(0) != n)
          throw std::invalid_argument("build_alias_table needs weights, accept and alias of one length >= 1");
        py::gil_scoped_release release;
        sampling::build_alias_table(w, n, acc, ali);
      },
      py::arg("weights"), py::arg("accept"), py::arg("alias"));

  // Each keep probability as keep_word's threshold: the rule the alias table's accept
  // entries follow too (keep_threshold), written once.
  m.def(
      "keep_thresholds",
      [](const py::array& probabilities) {
        const double* p = array_data<double>(probabilities, "probabilities", 1);
        py::array_t<uint32_t> out(probabilities.shape(0));
        uint32_t* thresholds = out.mutable_data();
        for (py::ssize_t i = 0; i < probabilities.shape(0); ++i) thresholds[i] = keep_threshold(p[i]);
        return out;
      },
      py::arg("probabilities"));
}

}  // namespace w2v::bindings
