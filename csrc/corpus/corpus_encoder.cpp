#include "corpus/corpus_encoder.h"

#include <omp.h>

#include <algorithm>
#include <string>

namespace w2v::corpus {

namespace {

constexpr size_t kMinPieceBytes = 1 << 20;  // below this a piece is not worth a thread

// Piece boundaries: 0, then each cut just past a separator near k * n / pieces, then n;
// pieces that come out empty are dropped, so every piece but the last ends with a separator.
std::vector<size_t> piece_cuts(const char* data, size_t n, int pieces) {
  std::vector<size_t> cuts{0};
  for (int k = 1; k < pieces; ++k) {
    size_t c = std::max(cuts.back(), n / pieces * k);
    while (c < n && !is_separator(static_cast<unsigned char>(data[c]))) ++c;
    if (c >= n) break;
    if (c + 1 > cuts.back()) cuts.push_back(c + 1);
  }
  if (cuts.back() < n) cuts.push_back(n);
  return cuts;
}

}  // namespace

CorpusEncoder::CorpusEncoder(const WordTable& vocabulary, int64_t max_sentence_length, bool token_records)
    : vocabulary_(vocabulary), max_sentence_length_(max_sentence_length), tokenizer_(token_records) {}

void CorpusEncoder::begin_block(std::vector<int32_t>* ids, std::vector<int64_t>* sentence_ends) {
  sentence_start_ = static_cast<int64_t>(ids->size());
  ids->insert(ids->end(), sentence_.begin(), sentence_.end());
  sentence_.clear();
}

void CorpusEncoder::finish_block(bool last, std::vector<int32_t>* ids, std::vector<int64_t>* sentence_ends) {
  if (last) {
    end_sentence(ids, sentence_ends);
    return;
  }
  sentence_.assign(ids->begin() + sentence_start_, ids->end());
  ids->resize(sentence_start_);
}

void CorpusEncoder::end_sentence(std::vector<int32_t>* ids, std::vector<int64_t>* sentence_ends) {
  const int64_t end = static_cast<int64_t>(ids->size());
  if (end == sentence_start_) return;
  sentence_ends->push_back(end);
  sentence_start_ = end;
}

void CorpusEncoder::add_token(int32_t token, std::vector<int32_t>* ids, std::vector<int64_t>* sentence_ends) {
  if (token == kNewline) {
    end_sentence(ids, sentence_ends);
    return;
  }
  ++words_encoded_;
  ids->push_back(token);
  if (static_cast<int64_t>(ids->size()) - sentence_start_ >= max_sentence_length_) end_sentence(ids, sentence_ends);
}

void CorpusEncoder::encode_block(const char* data, size_t n, bool last, std::vector<int32_t>* ids,
                                 std::vector<int64_t>* sentence_ends, int threads) {
  begin_block(ids, sentence_ends);
  if (threads > 1 && n >= 2 * kMinPieceBytes && !tokenizer_.token_records()) {
    encode_in_pieces(data, n, last, ids, sentence_ends, threads);
    finish_block(last, ids, sentence_ends);
    return;
  }
  ids->reserve(ids->size() + n / 4);
  tokenizer_.feed(
      data, n, last,
      [&](std::string_view word) {
        ++words_read_;
        const int32_t id = vocabulary_.find(word);
        if (id >= 0) add_token(id, ids, sentence_ends);
      },
      [&] { add_token(kNewline, ids, sentence_ends); });
  finish_block(last, ids, sentence_ends);
}

// Each piece becomes a token list (ids and kNewline marks) on its own thread; the first
// piece goes on with the word the previous block cut, the last one leaves the word it cuts
// for the next block. Joining the lists in order replays the sentence logic exactly as a
// single pass would.
void CorpusEncoder::encode_in_pieces(const char* data, size_t n, bool last, std::vector<int32_t>* ids,
                                     std::vector<int64_t>* sentence_ends, int threads) {
  const int wanted = static_cast<int>(std::min<size_t>(static_cast<size_t>(threads) * 2, n / kMinPieceBytes));
  const std::vector<size_t> cuts = piece_cuts(data, n, std::max(1, wanted));
  const int pieces = static_cast<int>(cuts.size()) - 1;
  std::vector<std::vector<int32_t>> tokens(pieces);
  std::vector<int64_t> words(pieces, 0);
  std::string next_carry;
#pragma omp parallel for num_threads(std::min(threads, pieces)) schedule(dynamic, 1)
  for (int p = 0; p < pieces; ++p) {
    Tokenizer own;
    Tokenizer& tokenizer = p == 0 ? tokenizer_ : own;
    // local until done: neighbouring elements of `tokens` and `words` share cache lines
    std::vector<int32_t> out;
    int64_t read = 0;
    out.reserve((cuts[p + 1] - cuts[p]) / 4);
    tokenizer.feed(
        data + cuts[p], cuts[p + 1] - cuts[p], last && p == pieces - 1,
        [&](std::string_view word) {
          ++read;
          const int32_t id = vocabulary_.find(word);
          if (id >= 0) out.push_back(id);
        },
        [&] { out.push_back(kNewline); });
    tokens[p] = std::move(out);
    words[p] = read;
    if (p == pieces - 1 && p > 0) next_carry = own.take_carry();
  }
  if (pieces > 1) tokenizer_.set_carry(std::move(next_carry));
  size_t total = ids->size();
  for (const std::vector<int32_t>& t : tokens) total += t.size();
  ids->reserve(total);
  for (int p = 0; p < pieces; ++p) {
    words_read_ += words[p];
    for (const int32_t token : tokens[p]) add_token(token, ids, sentence_ends);
  }
}

}  // namespace w2v::corpus
