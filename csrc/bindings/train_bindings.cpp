// Python entry point of the CPU corpus trainer's hot loop.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "bindings/numpy_util.h"
#include "train.h"

namespace py = pybind11;

namespace w2v::bindings {

namespace {

// The kernel trusts its input: ids in [0, vocab) and sentence ends increasing within ids.
// One pass over them is cheap next to training on them.
void check_chunk(const TrainChunk& chunk, int64_t n_ids, int64_t vocab) {
  int64_t previous = 0;
  for (int64_t s = 0; s < chunk.sentences; ++s) {
    const int64_t end = chunk.sentence_ends[s];
    if (end < previous || end > n_ids)
      throw std::invalid_argument("sentence_ends must increase and stay within ids (entry " + std::to_string(s) +
                                  " is " + std::to_string(end) + ")");
    previous = end;
  }
  for (int64_t i = 0; i < n_ids; ++i)
    if (chunk.ids[i] < 0 || chunk.ids[i] >= vocab)
      throw std::invalid_argument("ids[" + std::to_string(i) + "] = " + std::to_string(chunk.ids[i]) +
                                  " is not a word of the " + std::to_string(vocab) + "-word vocabulary");
}

}  // namespace

void bind_train(py::module_& m) {
  py::class_<TrainSettings>(m, "TrainSettings")
      .def(py::init([](int architecture, int window, int negative, float alpha, bool cbow_mean, bool shared_negatives,
                       uint64_t seed, int64_t loss_every) {
             if (architecture != 0 && architecture != 1) throw std::invalid_argument("architecture must be 0 (sg) or 1 (cbow)");
             if (window < 1 || negative < 0) throw std::invalid_argument("window must be >= 1 and negative >= 0");
             return TrainSettings{static_cast<Architecture>(architecture), window, negative, alpha, cbow_mean,
                                  shared_negatives, seed, loss_every};
           }),
           py::arg("architecture"), py::arg("window"), py::arg("negative"), py::arg("alpha"), py::arg("cbow_mean"),
           py::arg("shared_negatives"), py::arg("seed"), py::arg("loss_every"));

  m.def(
      "train_chunk",
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
        TrainChunk chunk{array_data<int32_t>(ids, "ids", 1), array_data<int64_t>(sentence_ends, "sentence_ends", 1),
                         sentence_ends.shape(0), epoch, first_position, words_done, words_total};
        check_chunk(chunk, ids.shape(0), model.vocab);
        ChunkStats stats;
        {
          py::gil_scoped_release release;
          stats = cpu::train_chunk(model, tables, settings, chunk, threads);
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
