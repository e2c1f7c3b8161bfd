// The corpus trainers: word2vec.c's recipe over blocks of encoded sentences, on the CPU
// (cpu::Trainer, in place on the caller's tables) or on a GPU (cuda::Trainer, on device
// copies of them). Both have one interface: train_block trains a block (a GPU queues
// it), collect gives the stats of the blocks trained since the last call, download and
// upload copy the tables out and in.
#pragma once

#include <cstdint>
#include <vector>

#include "w2v_math.h"

namespace w2v {

// The caller's tables: the first `dim` columns of each row hold a vector; the columns
// past dim (up to the row stride) are zero and stay zero.
struct TrainModel {
  float* input;    // [vocab, dim], row stride `stride` floats: the word vectors (word2vec.c's syn0)
  float* output;   // [vocab, dim], row stride `stride` (syn1neg)
  int64_t vocab;
  int64_t dim;
  int64_t stride;
};

struct SamplingTables {
  const uint32_t* keep_threshold;  // [vocab] subsampling thresholds (see keep_word), or null: keep all
  const uint32_t* noise_accept;    // [vocab] alias table of the unigram^0.75 noise distribution
  const int32_t* noise_alias;      // [vocab]
};

enum class Architecture : int32_t { skip_gram = 0, cbow = 1 };

struct TrainSettings {
  Architecture architecture;
  int32_t window;            // maximum reach; each centre draws its own in [1, window] (see shrink_windows)
  int32_t negative;          // noise words per centre (CBOW, shared skip-gram) or per pair
  float alpha;               // starting learning rate, decaying linearly over the run ...
  float min_alpha;           // ... to this (> 0), or 0: word2vec.c's decay to alpha * 1e-4
  bool cbow_mean;            // CBOW: h is the mean (true) or sum of the context vectors
  bool shared_negatives;     // skip-gram: one set of negatives per window (pWord2Vec's HogBatch) or per pair (word2vec.c)
  uint64_t seed;
  int64_t loss_every;        // the loss is measured on centres whose position is a multiple of this (0: never)
  bool shrink_windows;       // true: word2vec.c's random reach per centre; false: every centre reaches `window`
};

// Whole sentences of vocabulary ids. Positions count in-vocabulary words from the start
// of the epoch; every random draw is keyed by (seed, epoch, position), so the result
// does not depend on how the corpus is cut into blocks or split across threads.
struct TrainBlock {
  const int32_t* ids;            // [words]
  int64_t words;
  const int64_t* sentence_ends;  // [sentences], exclusive ends into ids
  int64_t sentences;
  int64_t epoch;
  int64_t first_position;        // position of ids[0] in the epoch
  double words_done;             // words trained before this block, over all epochs (learning rate)
  double words_total;            // words to train over all epochs
};

// The learning rate is set per sentence, from the words trained before the sentence.
inline float sentence_alpha(const TrainSettings& s, const TrainBlock& block, int64_t sentence) {
  const int64_t begin = sentence == 0 ? 0 : block.sentence_ends[sentence - 1];
  return linear_learning_rate(s.alpha, s.min_alpha, block.words_done + static_cast<double>(begin), block.words_total);
}

// What the blocks trained since the last collect() gave.
struct BlockStats {
  double loss;                   // summed over the measured centres' terms
  int64_t loss_terms;
  int64_t words_kept;            // after subsampling
  float alpha;                   // the learning rate reached: at the last sentence of the last block
                                 // trained (queued, on a GPU); the starting rate before any
};

namespace cpu {

// The CPU trainer: a block trains before train_block returns, Hogwild across `threads`,
// in place on the caller's tables (which must outlive the trainer); the sampling tables
// are copied. The loops run over whole vectors of 16 floats: the columns up to dim
// rounded up to 16 must lie within the row stride (and are zero past dim).
class Trainer {
 public:
  Trainer(const TrainModel& model, const SamplingTables& tables, const TrainSettings& settings, int threads);

  void train_block(const TrainBlock& block);
  // The loss and kept-word sums of the blocks trained since the last call. Nothing runs
  // on after train_block returns, so keep_last holds nothing back.
  BlockStats collect(bool keep_last = false);
  // Copies the tables trained to host [vocab, dim] arrays with row stride `stride`
  // (nothing to do when they are the trainer's own tables, as they usually are).
  void download(float* input, float* output, int64_t stride);
  // Replaces the tables trained from host arrays (e.g. a model loaded to resume).
  void upload(const float* input, const float* output, int64_t stride);
  int64_t vocab() const { return model_.vocab; }
  int64_t dim() const { return model_.dim; }

 private:
  TrainModel model_;
  std::vector<uint32_t> keep_threshold_, noise_accept_;
  std::vector<int32_t> noise_alias_;
  TrainSettings settings_;
  int threads_;
  BlockStats pending_;
};

}  // namespace cpu

namespace cuda {

// The GPU trainer: the model and the sampling tables live on the device for the whole
// run; blocks of encoded sentences are copied in through pinned buffers on the
// trainer's own stream while the previous block trains. Same recipe and random draws as
// the CPU trainer (skip-gram always shares negatives across a window); Hogwild across
// warps. Device rows are padded to a multiple of 4 floats (16-byte loads).
class Trainer {
 public:
  // Copies the tables and the sampling tables to the device.
  Trainer(const TrainModel& model, const SamplingTables& tables, const TrainSettings& settings, int device);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // Queues one block (its host arrays are copied into a pinned staging buffer before
  // this returns).
  void train_block(const TrainBlock& block);
  // Waits for the queued blocks and returns their sums since the last call; keep_last
  // leaves the block queued last running, its sums for the next call (so it trains
  // while the caller prepares the next block).
  BlockStats collect(bool keep_last = false);
  // Waits, then copies both tables to host [vocab, dim] arrays with row stride `stride`.
  void download(float* input, float* output, int64_t stride);
  // Replaces both tables from host arrays (e.g. the average of a data-parallel sync).
  void upload(const float* input, const float* output, int64_t stride);
  int64_t vocab() const;
  int64_t dim() const;

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace cuda

}  // namespace w2v
