// word2vec.c's tokenisation, fed a byte stream in blocks of any size: words are runs of
// bytes other than space, tab, CR, LF, VT and FF; a newline ends a sentence. A word cut
// by a block boundary is carried to the next block. Words longer than kMaxWordBytes are
// truncated to that many bytes (a safeguard against a huge file with no whitespace).
//
// Token lists given whole (a corpus of sentences as lists of tokens) come instead as
// token records: a block is a uint32 entry count m, m uint32 entries, then the tokens'
// bytes one after another; an entry is a token's length in bytes, or 0 for the end of a
// sentence (tokens are never empty). Native byte order; a block holds whole sentences.
// Tokens are taken as they are, whatever bytes they hold, and cut to kMaxWordBytes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

namespace w2v::corpus {

constexpr size_t kMaxWordBytes = 1000;

inline bool is_separator(unsigned char c) {
  return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

// Calls on_word(std::string_view) for each token of a block of token records and
// on_newline() at each sentence end; throws std::invalid_argument if the block is not
// well framed.
template <typename OnWord, typename OnNewline>
void feed_token_records(const char* data, size_t n, OnWord&& on_word, OnNewline&& on_newline) {
  auto read_u32 = [&](size_t at) {
    uint32_t v;
    std::memcpy(&v, data + at, sizeof v);
    return v;
  };
  if (n == 0) return;
  if (n < 4) throw std::invalid_argument("token records: a block shorter than its entry count");
  const uint64_t entries = read_u32(0);
  if (n < 4 * (entries + 1)) throw std::invalid_argument("token records: a block shorter than its entries");
  size_t pos = 4 * (entries + 1);
  for (uint64_t e = 0; e < entries; ++e) {
    const size_t length = read_u32(4 * (e + 1));
    if (length == 0) {
      on_newline();
      continue;
    }
    if (length > n - pos) throw std::invalid_argument("token records: a token runs past the end of the block");
    on_word(std::string_view(data + pos, std::min(length, kMaxWordBytes)));
    pos += length;
  }
  if (pos != n) throw std::invalid_argument("token records: bytes left over after the last token");
}

class Tokenizer {
 public:
  // token_records: blocks are token records (above) rather than text.
  explicit Tokenizer(bool token_records = false) : token_records_(token_records) {}

  bool token_records() const { return token_records_; }

  // The bytes of a word cut by the end of the last block fed (empty if none), handed
  // over to another tokenizer that goes on with the stream.
  std::string take_carry() { return std::move(carry_); }
  void set_carry(std::string carry) { carry_ = std::move(carry); }

  // Calls on_word(std::string_view) for each word and on_newline() at each newline.
  // With `last`, a word pending at the end of the block is emitted.
  template <typename OnWord, typename OnNewline>
  void feed(const char* data, size_t n, bool last, OnWord&& on_word, OnNewline&& on_newline) {
    if (token_records_) {
      feed_token_records(data, n, on_word, on_newline);
      return;
    }
    size_t i = 0;
    if (!carry_.empty()) {  // finish the word cut by the previous block
      while (i < n && !is_separator(static_cast<unsigned char>(data[i]))) append_carry(data[i++]);
      if (i == n) {
        if (last) flush_carry(on_word);
        return;
      }
      flush_carry(on_word);
    }
    while (i < n) {
      const unsigned char c = static_cast<unsigned char>(data[i]);
      if (is_separator(c)) {
        if (c == '\n') on_newline();
        ++i;
        continue;
      }
      const size_t start = i;
      while (i < n && !is_separator(static_cast<unsigned char>(data[i]))) ++i;
      if (i == n && !last) {  // may continue in the next block
        for (size_t k = start; k < n; ++k) append_carry(data[k]);
        return;
      }
      on_word(std::string_view(data + start, std::min(i - start, kMaxWordBytes)));
    }
    if (last) flush_carry(on_word);
  }

 private:
  void append_carry(char c) {
    if (carry_.size() < kMaxWordBytes) carry_.push_back(c);
  }
  template <typename OnWord>
  void flush_carry(OnWord&& on_word) {
    if (!carry_.empty()) on_word(std::string_view(carry_));
    carry_.clear();
  }
  std::string carry_;
  bool token_records_;
};

}  // namespace w2v::corpus
