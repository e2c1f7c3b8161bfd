// Counts the words of a byte stream (word2vec.c tokenisation), optionally keeping at
// most max_vocab_size distinct words in memory the way word2vec.c does: when the table
// grows past the limit, words seen <= min_reduce times are dropped and min_reduce rises.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "corpus/tokenizer.h"
#include "corpus/word_table.h"

namespace w2v::corpus {

class WordCounter {
 public:
  // max_vocab_size 0: no limit. token_records: blocks are token records (tokenizer.h).
  explicit WordCounter(int64_t max_vocab_size = 0, bool token_records = false);

  // Counts the words in data[0:n]; `last` ends the stream (a pending word is counted).
  void add_block(const char* data, size_t n, bool last);
  // Adds another counter's counts (e.g. one per thread over parts of a file).
  void merge(const WordCounter& other);

  int64_t total_words() const { return total_words_; }
  int64_t distinct_words() const { return table_.size(); }
  int64_t newlines() const { return newlines_; }

  // Words counted at least min_count times, most frequent first (ties in byte order),
  // at most max_words of them (0: all).
  void most_frequent(int64_t min_count, int64_t max_words, std::vector<std::string>* words,
                     std::vector<int64_t>* counts) const;

 private:
  void add(std::string_view word, uint64_t hash, int64_t count);
  void prune();

  WordTable table_;
  std::vector<int64_t> counts_;
  Tokenizer tokenizer_;
  int64_t max_vocab_size_;
  int64_t min_reduce_ = 1;
  int64_t total_words_ = 0;
  int64_t newlines_ = 0;
};

}  // namespace w2v::corpus
