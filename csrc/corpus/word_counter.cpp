#include "corpus/word_counter.h"

#include <algorithm>
#include <numeric>

namespace w2v::corpus {

WordCounter::WordCounter(int64_t max_vocab_size, bool token_records)
    : tokenizer_(token_records), max_vocab_size_(max_vocab_size) {}

void WordCounter::add(std::string_view word, uint64_t hash, int64_t count) {
  const int32_t id = table_.insert(word, hash);
  if (id == static_cast<int32_t>(counts_.size())) counts_.push_back(0);
  counts_[id] += count;
  if (max_vocab_size_ > 0 && table_.size() > max_vocab_size_) prune();
}

void WordCounter::add_block(const char* data, size_t n, bool last) {
  tokenizer_.feed(
      data, n, last,
      [&](std::string_view word) {
        ++total_words_;
        add(word, hash_bytes(word.data(), word.size()), 1);
      },
      [&] { ++newlines_; });
}

void WordCounter::merge(const WordCounter& other) {
  table_.reserve(static_cast<size_t>(table_.size() + other.table_.size()));
  for (int64_t id = 0; id < other.table_.size(); ++id) add(other.table_.word(id), other.table_.hash_of(id), other.counts_[id]);
  total_words_ += other.total_words_;
  newlines_ += other.newlines_;
  min_reduce_ = std::max(min_reduce_, other.min_reduce_);
}

void WordCounter::prune() {
  // word2vec.c's ReduceVocab: drop the words seen <= min_reduce times, then raise it, and
  // repeat until the table is back under the limit.
  while (table_.size() > max_vocab_size_) {
    WordTable kept;
    std::vector<int64_t> kept_counts;
    for (int64_t id = 0; id < table_.size(); ++id) {
      if (counts_[id] <= min_reduce_) continue;
      kept.insert(table_.word(id), table_.hash_of(id));
      kept_counts.push_back(counts_[id]);
    }
    table_ = std::move(kept);
    counts_ = std::move(kept_counts);
    ++min_reduce_;
  }
}

void WordCounter::most_frequent(int64_t min_count, int64_t max_words, std::vector<std::string>* words,
                                std::vector<int64_t>* counts) const {
  std::vector<int32_t> order;
  for (int64_t id = 0; id < table_.size(); ++id)
    if (counts_[id] >= min_count) order.push_back(static_cast<int32_t>(id));
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    if (counts_[a] != counts_[b]) return counts_[a] > counts_[b];
    return table_.word(a) < table_.word(b);
  });
  if (max_words > 0 && static_cast<int64_t>(order.size()) > max_words) order.resize(max_words);
  words->clear();
  counts->clear();
  for (int32_t id : order) {
    words->emplace_back(table_.word(id));
    counts->push_back(counts_[id]);
  }
}

}  // namespace w2v::corpus
