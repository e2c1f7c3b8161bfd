// Python classes for reading a corpus: the word counter, the vocabulary index and the
// encoder. Byte blocks come from Python (which handles
// files and decompression); the work on them runs with the GIL released.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings/numpy_util.h"
#include "corpus/corpus_encoder.h"
#include "corpus/word_counter.h"
#include "corpus/word_table.h"

namespace py = pybind11;
using namespace w2v::corpus;

namespace w2v::bindings {

namespace {

std::string_view bytes_view(const py::buffer_info& info) {
  return {static_cast<const char*>(info.ptr), static_cast<size_t>(info.size * info.itemsize)};
}

WordTable* make_word_index(const py::list& words) {
  auto table = std::make_unique<WordTable>();
  table->reserve(words.size());
  for (const py::handle& w : words) {
    const std::string word = py::cast<py::bytes>(w);
    if (word.empty()) throw std::invalid_argument("vocabulary words must not be empty");
    if (table->insert(word) != table->size() - 1)
      throw std::invalid_argument("vocabulary word " + std::string(py::repr(w)) + " appears twice");
  }
  return table.release();
}

}  // namespace

void bind_corpus(py::module_& m) {
  m.attr("MAX_WORD_BYTES") = kMaxWordBytes;  // longer words and tokens are cut to this many bytes

  py::class_<WordCounter>(m, "WordCounter")
      .def(py::init<int64_t, bool>(), py::arg("max_vocab_size") = 0, py::arg("token_records") = false)
      .def(
          "add_block",
          [](WordCounter& counter, const py::buffer& data, bool last) {
            const py::buffer_info info = data.request();
            const std::string_view bytes = bytes_view(info);
            py::gil_scoped_release release;
            counter.add_block(bytes.data(), bytes.size(), last);
          },
          py::arg("data"), py::arg("last") = false)
      .def("merge", &WordCounter::merge, py::arg("other"), py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("total_words", &WordCounter::total_words)
      .def_property_readonly("distinct_words", &WordCounter::distinct_words)
      .def_property_readonly("newlines", &WordCounter::newlines)
      .def(
          "most_frequent",
          [](const WordCounter& counter, int64_t min_count, int64_t max_words) {
            std::vector<std::string> words;
            std::vector<int64_t> counts;
            {
              py::gil_scoped_release release;
              counter.most_frequent(min_count, max_words, &words, &counts);
            }
            py::list out;
            for (const std::string& w : words) out.append(py::bytes(w));
            return py::make_tuple(out, to_numpy(std::move(counts)));
          },
          py::arg("min_count"), py::arg("max_words") = 0);

  py::class_<WordTable>(m, "WordIndex")
      .def(py::init(&make_word_index), py::arg("words"))
      .def("__len__", &WordTable::size)
      .def("find", [](const WordTable& t, const py::bytes& w) { return t.find(std::string(w)); }, py::arg("word"));

  py::class_<CorpusEncoder>(m, "CorpusEncoder")
      .def(py::init<const WordTable&, int64_t, bool>(), py::arg("index"), py::arg("max_sentence_length"),
           py::arg("token_records") = false, py::keep_alive<1, 2>())
      .def(
          "encode",
          [](CorpusEncoder& encoder, const py::buffer& data, bool last, int threads) {
            const py::buffer_info info = data.request();
            const std::string_view bytes = bytes_view(info);
            std::vector<int32_t> ids;
            std::vector<int64_t> ends;
            {
              py::gil_scoped_release release;
              encoder.encode_block(bytes.data(), bytes.size(), last, &ids, &ends, threads);
            }
            return py::make_tuple(to_numpy(std::move(ids)), to_numpy(std::move(ends)));
          },
          py::arg("data"), py::arg("last") = false, py::arg("threads") = 1)
      .def_property_readonly("words_read", &CorpusEncoder::words_read)
      .def_property_readonly("words_encoded", &CorpusEncoder::words_encoded);
}

}  // namespace w2v::bindings
