// The corpus trainers' hot loop: word2vec.c's recipe over one block of encoded
// sentences, updating the model in place (Hogwild across threads).
#pragma once

#include <cstdint>

namespace w2v {

// The tables are the trainer's own, padded: `dim` is a multiple of 16 floats (columns
// past the embedding size are zero and stay zero, see cpu/padded_rows.h).
struct TrainModel {
  float* input;    // [vocab, dim], row stride `stride`: the word vectors (word2vec.c's syn0)
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
  const int64_t* sentence_ends;  // [sentences], exclusive ends into ids
  int64_t sentences;
  int64_t epoch;
  int64_t first_position;        // position of ids[0] in the epoch
  double words_done;             // words trained before this block, over all epochs (learning rate)
  double words_total;            // words to train over all epochs
};

struct BlockStats {
  double loss;                   // summed over the measured centres' terms
  int64_t loss_terms;
  int64_t words_kept;            // after subsampling
  float last_alpha;
};

namespace cpu {
BlockStats train_block(const TrainModel& model, const SamplingTables& tables, const TrainSettings& settings,
                       const TrainBlock& block, int threads);
}  // namespace cpu

namespace cuda {

// The GPU trainer: the model and the sampling tables live on the device for the whole
// run; blocks of encoded sentences are copied in through pinned buffers on the
// trainer's own stream while the previous block trains. Same recipe and random draws as
// the CPU trainer (skip-gram always shares negatives across a window); Hogwild across
// warps. Device rows are padded to a multiple of 4 floats (16-byte loads).
class DeviceTrainer {
 public:
  // input_init: host [vocab, dim] (row stride host_stride floats); keep may be null.
  DeviceTrainer(int64_t vocab, int64_t dim, const float* input_init, int64_t host_stride, const uint32_t* keep,
                const uint32_t* noise_accept, const int32_t* noise_alias, const TrainSettings& settings,
                int device);
  ~DeviceTrainer();
  DeviceTrainer(const DeviceTrainer&) = delete;
  DeviceTrainer& operator=(const DeviceTrainer&) = delete;

  // Queues one block (host arrays, copied before return into a pinned staging buffer).
  void train_block(const TrainBlock& block, int64_t words);
  // Waits for the queued blocks and returns their loss and kept-word sums since the last
  // call; keep_last leaves the block queued last running, its sums for the next call
  // (so it trains while the caller prepares the next block).
  BlockStats collect(bool keep_last = false);
  // Waits, then copies both tables to host [vocab, dim] arrays with row stride host_stride.
  void download(float* input, float* output, int64_t host_stride);
  // Replaces both tables from host arrays (e.g. a model loaded to resume).
  void upload(const float* input, const float* output, int64_t host_stride);
  int64_t vocab() const;
  int64_t dim() const;

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace cuda

}  // namespace w2v
