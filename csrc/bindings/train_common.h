// Binding pieces shared by the CPU and CUDA trainers' entry points.
#pragma once

#include <pybind11/pybind11.h>

#include <stdexcept>
#include <string>

#include "train.h"

namespace w2v::bindings {

// The kernel trusts its input: ids in [0, vocab) and sentence ends increasing within ids.
// One pass over them is cheap next to training on them.
inline void check_block(const TrainBlock& block, int64_t n_ids, int64_t vocab) {
  int64_t previous = 0;
  for (int64_t s = 0; s < block.sentences; ++s) {
    const int64_t end = block.sentence_ends[s];
    if (end < previous || end > n_ids)
      throw std::invalid_argument("sentence_ends must increase and stay within ids (entry " + std::to_string(s) +
                                  " is " + std::to_string(end) + ")");
    previous = end;
  }
  for (int64_t i = 0; i < n_ids; ++i)
    if (block.ids[i] < 0 || block.ids[i] >= vocab)
      throw std::invalid_argument("ids[" + std::to_string(i) + "] = " + std::to_string(block.ids[i]) +
                                  " is not a word of the " + std::to_string(vocab) + "-word vocabulary");
}

// module_local: the CPU and CUDA modules each register their own copy. The rules of the
// settings are Python's (settings.py, Settings.validate); here only what keeps the
// trainers inside their memory: a window of at least one word (the scratch is sized by
// it) and a count of noise words that is not negative.
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

}  // namespace w2v::bindings
