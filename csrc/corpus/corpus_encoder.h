// Turns a byte stream into sentences of vocabulary ids, as word2vec.c reads its training
// file: out-of-vocabulary words are dropped, a newline ends a sentence and a sentence is
// cut every max_sentence_length in-vocabulary words. Only whole sentences are returned;
// the one in progress waits for the next block (or the last).
#pragma once

#include <cstdint>
#include <vector>

#include "corpus/tokenizer.h"
#include "corpus/word_table.h"

namespace w2v::corpus {

class CorpusEncoder {
 public:
  CorpusEncoder(const WordTable& vocabulary, int64_t max_sentence_length);

  // Appends the ids of the sentences completed by data[0:n] to *ids and their end
  // offsets (into *ids, exclusive) to *sentence_ends.
  void encode_block(const char* data, size_t n, bool last, std::vector<int32_t>* ids,
                    std::vector<int64_t>* sentence_ends);

  int64_t words_read() const { return words_read_; }        // every word, in vocabulary or not
  int64_t words_encoded() const { return words_encoded_; }  // in-vocabulary words

 private:
  void end_sentence(std::vector<int32_t>* ids, std::vector<int64_t>* sentence_ends);

  const WordTable& vocabulary_;
  int64_t max_sentence_length_;
  Tokenizer tokenizer_;
  std::vector<int32_t> sentence_;
  int64_t words_read_ = 0;
  int64_t words_encoded_ = 0;
};

}  // namespace w2v::corpus
