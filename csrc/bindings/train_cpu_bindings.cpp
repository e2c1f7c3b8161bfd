// Python entry points of the CPU corpus trainer (train_common.h binds its class), and
// the trainer's sigmoid for the tests.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "bindings/train_common.h"
#include "cpu/sigmoid_table.h"
#include "train.h"
#include "w2v_math.h"

namespace py = pybind11;

namespace w2v::bindings {

void bind_train_cpu(py::module_& m) {
  bind_trainer<cpu::Trainer>(m, "threads",
                             "The CPU corpus trainer: trains each block before train_block returns, in place on the "
                             "given tables, with `threads` Hogwild threads");

  // For tests: the trainer's sigmoid (the CPU table and the function the CUDA trainer
  // computes) at each element of a float32 array.
  m.def("sigmoid_table", [](const py::array_t<float, py::array::c_style | py::array::forcecast>& x) {
    py::array_t<float> out(x.size());
    const cpu::SigmoidTable& table = cpu::SigmoidTable::instance();
    for (py::ssize_t i = 0; i < x.size(); ++i) out.mutable_data()[i] = table(x.data()[i]);
    return out;
  });
  m.def("quantised_sigmoid", [](const py::array_t<float, py::array::c_style | py::array::forcecast>& x) {
    py::array_t<float> out(x.size());
    for (py::ssize_t i = 0; i < x.size(); ++i) out.mutable_data()[i] = quantised_sigmoid(x.data()[i]);
    return out;
  });
}

}  // namespace w2v::bindings
