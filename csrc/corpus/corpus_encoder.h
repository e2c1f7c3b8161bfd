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
  // token_records: blocks are token records (tokenizer.h) rather than text.
  CorpusEncoder(const WordTable& vocabulary, int64_t max_sentence_length, bool token_records = false);

  // Appends the ids of the sentences completed by data[0:n] to *ids and their end
  // offsets (into *ids, exclusive) to *sentence_ends. With threads > 1 a large block of
  // text is cut at whitespace into pieces that are tokenised and looked up in parallel,
  // then joined in order: the result is the same as with one thread.
  void encode_block(const char* data, size_t n, bool last, std::vector<int32_t>* ids,
                    std::vector<int64_t>* sentence_ends, int threads = 1);

  int64_t words_read() const { return words_read_; }        // every word, in vocabulary or not
  int64_t words_encoded() const { return words_encoded_; }  // in-vocabulary words

 private:
  // Ids go straight to the caller's *ids; the sentence still open when a block ends waits
  // in sentence_ and opens the next block's ids.
  void begin_block(std::vector<int32_t>* ids, std::vector<int64_t>* sentence_ends);
  void finish_block(bool last, std::vector<int32_t>* ids, std::vector<int64_t>* sentence_ends);
  void end_sentence(std::vector<int32_t>* ids, std::vector<int64_t>* sentence_ends);
  // The sentence logic, for one token: an id, or kNewline.
  void add_token(int32_t token, std::vector<int32_t>* ids, std::vector<int64_t>* sentence_ends);
  void encode_in_pieces(const char* data, size_t n, bool last, std::vector<int32_t>* ids,
                        std::vector<int64_t>* sentence_ends, int threads);

  static constexpr int32_t kNewline = -2;

  const WordTable& vocabulary_;
  int64_t max_sentence_length_;
  Tokenizer tokenizer_;
  std::vector<int32_t> sentence_;
  int64_t sentence_start_ = 0;  // in *ids, while a block is encoded
  int64_t words_read_ = 0;
  int64_t words_encoded_ = 0;
};

}  // namespace w2v::corpus
