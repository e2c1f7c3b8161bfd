// Python entry points of the CPU corpus trainer: its hot loop and the sampling-table builder.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "bindings/numpy_util.h"
#include "bindings/train_common.h"
#include "cpu/sigmoid_table.h"
#include "sampling/sampling_tables.h"
#include "train.h"

namespace py = pybind11;

namespace w2v::bindings {


void bind_train(py::module_& m) {
  bind_train_settings(m);

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

  m.def(
      "train_block",
      [](const py::array& input, const py::array& output, const py::object& keep_threshold,
         const py::array& noise_accept, const py::array& noise_alias, const TrainSettings& settings,
         const py::array& ids, const py::array& sentence_ends, int64_t epoch, int64_t first_position,
         double words_done, double words_total, int threads) {
        TrainModel model{array_data<float>(input, "input", 2, true), array_data<float>(output, "output", 2, true),
                         input.shape(0), input.shape(1), input.strides(0) / static_cast<py::ssize_t>(sizeof(float))};
        if (output.shape(0) != model.vocab || output.shape(1) != model.dim ||
            output.strides(0) != input.strides(0))
          throw std::invalid_argument("input and output must have the same shape and row stride");
        if (model.dim % 16 != 0)
          throw std::invalid_argument("input and output must be padded to a multiple of 16 columns");
        SamplingTables tables{nullptr, array_data<uint32_t>(noise_accept, "noise_accept", 1),
                              array_data<int32_t>(noise_alias, "noise_alias", 1)};
        if (noise_accept.shape(0) != model.vocab || noise_alias.shape(0) != model.vocab)
          throw std::invalid_argument("noise tables must have one entry per vocabulary word");
        if (!keep_threshold.is_none()) {
          const py::array keep = keep_threshold.cast<py::array>();
          tables.keep_threshold = array_data<uint32_t>(keep, "keep_threshold", 1);
          if (keep.shape(0) != model.vocab) throw std::invalid_argument("keep_threshold must have one entry per word");
        }
        TrainBlock block{array_data<int32_t>(ids, "ids", 1), array_data<int64_t>(sentence_ends, "sentence_ends", 1),
                         sentence_ends.shape(0), epoch, first_position, words_done, words_total};
        check_block(block, ids.shape(0), model.vocab);
        BlockStats stats;
        {
          py::gil_scoped_release release;
          stats = cpu::train_block(model, tables, settings, block, threads);
        }
        py::dict out;
        out["loss"] = stats.loss;
        out["loss_terms"] = stats.loss_terms;
        out["words_kept"] = stats.words_kept;
        out["alpha"] = stats.last_alpha;
        return out;
      },
      py::arg("input"), py::arg("output"), py::arg("keep_threshold"), py::arg("noise_accept"),
      py::arg("noise_alias"), py::arg("settings"), py::arg("ids"), py::arg("sentence_ends"), py::arg("epoch"),
      py::arg("first_position"), py::arg("words_done"), py::arg("words_total"), py::arg("threads"));
}

}  // namespace w2v::bindings
