#include "corpus/corpus_encoder.h"

namespace w2v::corpus {

CorpusEncoder::CorpusEncoder(const WordTable& vocabulary, int64_t max_sentence_length)
    : vocabulary_(vocabulary), max_sentence_length_(max_sentence_length) {}

void CorpusEncoder::end_sentence(std::vector<int32_t>* ids, std::vector<int64_t>* sentence_ends) {
  if (sentence_.empty()) return;
  ids->insert(ids->end(), sentence_.begin(), sentence_.end());
  sentence_ends->push_back(static_cast<int64_t>(ids->size()));
  sentence_.clear();
}

void CorpusEncoder::encode_block(const char* data, size_t n, bool last, std::vector<int32_t>* ids,
                                 std::vector<int64_t>* sentence_ends) {
  tokenizer_.feed(
      data, n, last,
      [&](std::string_view word) {
        ++words_read_;
        const int32_t id = vocabulary_.find(word);
        if (id < 0) return;
        ++words_encoded_;
        sentence_.push_back(id);
        if (static_cast<int64_t>(sentence_.size()) >= max_sentence_length_) end_sentence(ids, sentence_ends);
      },
      [&] { end_sentence(ids, sentence_ends); });
  if (last) end_sentence(ids, sentence_ends);
}

}  // namespace w2v::corpus
