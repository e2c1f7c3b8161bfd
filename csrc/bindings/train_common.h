// The corpus trainers' Python binding, written once for the CPU and the CUDA trainer
// (cpu::Trainer and cuda::Trainer share one interface, train.h): the checks of their
// tables and blocks, their settings and stats, and the class itself. Every class is
// module_local: the CPU module, the CUDA module and the emulated one each register their
// own, and may be loaded together.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "bindings/numpy_util.h"
#include "train.h"

namespace w2v::bindings {

// Host tables: [vocab, >= dim] float32 arrays of one row stride, whose first `dim`
// columns hold the vectors (vocab: any, or the trainer's).
inline TrainModel host_tables(const pybind11::array& input, const pybind11::array& output, int64_t dim,
                              bool writable, int64_t vocab = -1) {
  float* in = array_data<float>(input, "input", 2, writable);
  float* out = array_data<float>(output, "output", 2, writable);
  if (dim < 1 || input.shape(1) < dim || (vocab >= 0 && input.shape(0) != vocab))
    throw std::invalid_argument("input must be [vocab, >= dim] (dim " + std::to_string(dim) + ")");
  if (output.shape(0) != input.shape(0) || output.shape(1) != input.shape(1) || output.strides(0) != input.strides(0))
    throw std::invalid_argument("input and output must have the same shape and row stride");
  return {in, out, input.shape(0), dim, input.strides(0) / static_cast<pybind11::ssize_t>(sizeof(float))};
}

// The sampling tables: one entry per word each; keep_threshold may be None (no subsampling).
inline SamplingTables sampling_tables(const pybind11::object& keep_threshold, const pybind11::array& noise_accept,
                                      const pybind11::array& noise_alias, int64_t vocab) {
  SamplingTables tables{nullptr, array_data<uint32_t>(noise_accept, "noise_accept", 1),
                        array_data<int32_t>(noise_alias, "noise_alias", 1)};
  if (noise_accept.shape(0) != vocab || noise_alias.shape(0) != vocab)
    throw std::invalid_argument("noise tables must have one entry per vocabulary word");
  if (!keep_threshold.is_none()) {
    const pybind11::array keep = keep_threshold.cast<pybind11::array>();
    tables.keep_threshold = array_data<uint32_t>(keep, "keep_threshold", 1);
    if (keep.shape(0) != vocab) throw std::invalid_argument("keep_threshold must have one entry per word");
  }
  return tables;
}

// The trainers trust a block: ids in [0, vocab) and sentence ends increasing within ids.
// One pass over them is cheap next to training on them.
inline TrainBlock checked_block(const pybind11::array& ids, const pybind11::array& sentence_ends, int64_t epoch,
                                int64_t first_position, double words_done, double words_total, int64_t vocab) {
  const TrainBlock block{array_data<int32_t>(ids, "ids", 1), ids.shape(0),
                         array_data<int64_t>(sentence_ends, "sentence_ends", 1), sentence_ends.shape(0),
                         epoch, first_position, words_done, words_total};
  int64_t previous = 0;
  for (int64_t s = 0; s < block.sentences; ++s) {
    const int64_t end = block.sentence_ends[s];
    if (end < previous || end > block.words)
      throw std::invalid_argument("sentence_ends must increase and stay within ids (entry " + std::to_string(s) +
                                  " is " + std::to_string(end) + ")");
    previous = end;
  }
  for (int64_t i = 0; i < block.words; ++i)
    if (block.ids[i] < 0 || block.ids[i] >= vocab)
      throw std::invalid_argument("ids[" + std::to_string(i) + "] = " + std::to_string(block.ids[i]) +
                                  " is not a word of the " + std::to_string(vocab) + "-word vocabulary");
  return block;
}

// The rules of the settings are Python's (settings.py, Settings.validate); here only
// what keeps the trainers inside their memory: a window of at least one word (the
// scratch is sized by it) and a count of noise words that is not negative.
inline void bind_train_settings(pybind11::module_& m) {
  namespace py = pybind11;
  py::class_<TrainSettings>(m, "TrainSettings", py::module_local())
      .def(py::init([](int architecture, int window, int negative, float alpha, bool cbow_mean, bool shared_negatives,
                       uint64_t seed, int64_t loss_every, float min_alpha, bool shrink_windows) {
             if (window < 1 || negative < 0) throw std::invalid_argument("window must be >= 1 and negative >= 0");
             return TrainSettings{static_cast<Architecture>(architecture), window, negative, alpha, min_alpha, cbow_mean,
                                  shared_negatives, seed, loss_every, shrink_windows};
           }),
           py::arg("architecture"), py::arg("window"), py::arg("negative"), py::arg("alpha"), py::arg("cbow_mean"),
           py::arg("shared_negatives"), py::arg("seed"), py::arg("loss_every"), py::arg("min_alpha") = 0.0f,
           py::arg("shrink_windows") = true);
}

inline void bind_block_stats(pybind11::module_& m) {
  namespace py = pybind11;
  py::class_<BlockStats>(m, "BlockStats", py::module_local())
      .def_readonly("loss", &BlockStats::loss)
      .def_readonly("loss_terms", &BlockStats::loss_terms)
      .def_readonly("words_kept", &BlockStats::words_kept)
      .def_readonly("alpha", &BlockStats::alpha)
      .def_property_readonly("mean_loss",
                             [](const BlockStats& s) -> py::object {
                               if (s.loss_terms == 0) return py::none();
                               return py::float_(s.loss / static_cast<double>(s.loss_terms));
                             })
      .def("__repr__", [](const BlockStats& s) {
        return "BlockStats(loss=" + std::to_string(s.loss) + ", loss_terms=" + std::to_string(s.loss_terms) +
               ", words_kept=" + std::to_string(s.words_kept) + ", alpha=" + std::to_string(s.alpha) + ")";
      });
}

// Binds `Trainer` (cpu::Trainer or cuda::Trainer) as the module's Trainer, built on
// tables and sampling tables as numpy arrays, the settings and `where` (the CPU
// trainer's threads, the CUDA trainer's device). The CPU trainer trains the tables in
// place: the trainer keeps them alive.
template <typename Trainer>
void bind_trainer(pybind11::module_& m, const char* where, const char* doc) {
  namespace py = pybind11;
  bind_train_settings(m);
  bind_block_stats(m);
  py::class_<Trainer>(m, "Trainer", py::module_local(), doc)
      .def(py::init([](const py::array& input, const py::array& output, int64_t dim, const py::object& keep_threshold,
                       const py::array& noise_accept, const py::array& noise_alias, const TrainSettings& settings,
                       int where) {
             const TrainModel model = host_tables(input, output, dim, true);
             return std::make_unique<Trainer>(
                 model, sampling_tables(keep_threshold, noise_accept, noise_alias, model.vocab), settings, where);
           }),
           py::arg("input"), py::arg("output"), py::arg("dim"), py::arg("keep_threshold"), py::arg("noise_accept"),
           py::arg("noise_alias"), py::arg("settings"), py::arg(where), py::keep_alive<1, 2>(),
           py::keep_alive<1, 3>())
      .def(
          "train_block",
          [](Trainer& trainer, const py::array& ids, const py::array& sentence_ends, int64_t epoch,
             int64_t first_position, double words_done, double words_total) {
            const TrainBlock block =
                checked_block(ids, sentence_ends, epoch, first_position, words_done, words_total, trainer.vocab());
            py::gil_scoped_release release;
            trainer.train_block(block);
          },
          py::arg("ids"), py::arg("sentence_ends"), py::arg("epoch"), py::arg("first_position"), py::arg("words_done"),
          py::arg("words_total"))
      .def("collect", &Trainer::collect, py::call_guard<py::gil_scoped_release>(), py::arg("keep_last") = false)
      .def(
          "download",
          [](Trainer& trainer, const py::array& input, const py::array& output) {
            const TrainModel host = host_tables(input, output, trainer.dim(), true, trainer.vocab());
            py::gil_scoped_release release;
            trainer.download(host.input, host.output, host.stride);
          },
          py::arg("input"), py::arg("output"))
      .def(
          "upload",
          [](Trainer& trainer, const py::array& input, const py::array& output) {
            const TrainModel host = host_tables(input, output, trainer.dim(), false, trainer.vocab());
            py::gil_scoped_release release;
            trainer.upload(host.input, host.output, host.stride);
          },
          py::arg("input"), py::arg("output"));
}

}  // namespace w2v::bindings
