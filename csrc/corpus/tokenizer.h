// word2vec.c's tokenisation, fed a byte stream in blocks of any size: words are runs of
// bytes other than space, tab, CR, LF, VT and FF; a newline ends a sentence. A word cut
// by a block boundary is carried to the next block. Words longer than kMaxWordBytes are
// truncated to that many bytes (a safeguard against a huge file with no whitespace).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace w2v::corpus {

constexpr size_t kMaxWordBytes = 1000;

inline bool is_separator(unsigned char c) {
  return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

class Tokenizer {
 public:
  // The bytes of a word cut by the end of the last block fed (empty if none), handed
  // over to another tokenizer that goes on with the stream.
  std::string take_carry() { return std::move(carry_); }
  void set_carry(std::string carry) { carry_ = std::move(carry); }

  // Calls on_word(std::string_view) for each word and on_newline() at each newline.
  // With `last`, a word pending at the end of the block is emitted.
  template <typename OnWord, typename OnNewline>
  void feed(const char* data, size_t n, bool last, OnWord&& on_word, OnNewline&& on_newline) {
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
};

}  // namespace w2v::corpus
