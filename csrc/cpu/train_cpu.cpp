#include "train.h"

#include <algorithm>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "cpu/ns_update.h"
#include "cpu/padded_rows.h"
#include "cpu/parallel.h"
#include "cpu/prefetch.h"
#include "cpu/vector_ops.h"
#include "w2v_math.h"

namespace w2v::cpu {

namespace {

// Random streams of one epoch: each draw is keyed by a word's position.
struct EpochKeys {
  uint64_t subsample, window, noise;
  EpochKeys(uint64_t seed, int64_t epoch)
      : subsample(stream_key(seed, epoch, 1)), window(stream_key(seed, epoch, 2)), noise(stream_key(seed, epoch, 3)) {}
};

// One thread's working memory. A window never holds more inputs than its sentence has
// other words, so a huge `window` costs no more than the longest sentence.
struct Scratch {
  std::vector<int32_t> kept_ids;
  std::vector<int64_t> kept_positions;
  std::vector<int32_t> noise, next_noise;
  std::vector<float*> inputs, targets;
  std::vector<float> scores, grad_inputs, h;

  Scratch(const TrainModel& model, const TrainSettings& s, int64_t max_inputs) {
    const int64_t max_targets = 1 + static_cast<int64_t>(s.negative);
    noise.resize(s.negative);
    next_noise.resize(s.negative);
    inputs.resize(max_inputs);
    targets.resize(max_targets);
    scores.resize(max_inputs * max_targets);
    grad_inputs.resize(max_inputs * model.dim);
    h.resize(model.dim);
  }

  static int64_t bytes(const TrainModel& model, const TrainSettings& s, int64_t max_inputs) {
    const int64_t max_targets = 1 + static_cast<int64_t>(s.negative);
    return static_cast<int64_t>(2 * s.negative * sizeof(int32_t) + max_inputs * sizeof(float*) +
                                max_targets * sizeof(float*) +
                                (max_inputs * max_targets + max_inputs * model.dim + model.dim) * sizeof(float));
  }
};

// bad_alloc (a MemoryError in Python) saying what was asked for.
class ScratchAllocationError : public std::bad_alloc {
 public:
  explicit ScratchAllocationError(std::string message) : message_(std::move(message)) {}
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

int64_t longest_sentence(const TrainChunk& chunk) {
  int64_t longest = 0, begin = 0;
  for (int64_t s = 0; s < chunk.sentences; ++s) {
    longest = std::max(longest, chunk.sentence_ends[s] - begin);
    begin = chunk.sentence_ends[s];
  }
  return longest;
}

// Every thread's scratch, allocated before the parallel region (a failed allocation
// inside it would terminate the process).
std::vector<Scratch> allocate_scratch(const TrainModel& model, const TrainSettings& s, const TrainChunk& chunk,
                                      int team) {
  const int64_t max_inputs = std::max<int64_t>(1, std::min<int64_t>(2 * static_cast<int64_t>(s.window),
                                                                     longest_sentence(chunk) - 1));
  try {
    std::vector<Scratch> scratch;
    scratch.reserve(team);
    for (int t = 0; t < team; ++t) scratch.emplace_back(model, s, max_inputs);
    return scratch;
  } catch (const std::bad_alloc&) {
    throw ScratchAllocationError(
        "the trainer's working memory does not fit: " + std::to_string(team) + " thread(s) x " +
        std::to_string(Scratch::bytes(model, s, max_inputs)) + " bytes (window " + std::to_string(s.window) +
        ", negative " + std::to_string(s.negative) + ", dim " + std::to_string(model.dim) + ")");
  }
}

// The centre's noise words (draws equal to the centre are skipped, as word2vec.c does);
// returns how many.
W2V_INLINE int64_t draw_noise(const SamplingTables& tables, uint32_t vocab, int32_t negative, uint64_t key,
                              uint64_t counter, int32_t center, int32_t* noise) {
  int64_t n = 0;
  for (int32_t k = 0; k < negative; ++k) {
    const int32_t word = alias_draw(tables.noise_accept, tables.noise_alias, vocab,
                                    counter_random(key, counter * negative + k));
    if (word != center) noise[n++] = word;
  }
  return n;
}

struct SentenceRange {
  int64_t first, last;  // sentences [first, last)
};

W2V_CLONES void train_sentences(const TrainModel model, const SamplingTables tables, const TrainSettings s,
                                const TrainChunk chunk, const EpochKeys keys, SentenceRange range,
                                Scratch* scratch, ChunkStats* stats) {
  const int64_t d = model.dim, stride = model.stride;
  const uint32_t vocab = static_cast<uint32_t>(model.vocab);
  const bool per_pair = s.architecture == Architecture::skip_gram && !s.shared_negatives;
  std::vector<int32_t>& kept = scratch->kept_ids;
  std::vector<int64_t>& positions = scratch->kept_positions;
  float** inputs = scratch->inputs.data();
  float** targets = scratch->targets.data();
  int32_t* noise = scratch->noise.data();
  int32_t* next_noise = scratch->next_noise.data();
  auto in_row = [&](int64_t w) W2V_LAMBDA_INLINE { return model.input + w * stride; };
  auto out_row = [&](int64_t w) W2V_LAMBDA_INLINE { return model.output + w * stride; };
  for (int64_t sentence = range.first; sentence < range.last; ++sentence) {
    const int64_t begin = sentence == 0 ? 0 : chunk.sentence_ends[sentence - 1];
    const int64_t end = chunk.sentence_ends[sentence];
    const float alpha = linear_learning_rate(s.alpha, s.min_alpha, chunk.words_done + static_cast<double>(begin), chunk.words_total);
    kept.clear();
    positions.clear();
    for (int64_t q = begin; q < end; ++q) {
      const int64_t position = chunk.first_position + q;
      const int32_t w = chunk.ids[q];
      if (tables.keep_threshold && !keep_word(tables.keep_threshold[w], counter_random(keys.subsample, position)))
        continue;
      kept.push_back(w);
      positions.push_back(position);
    }
    const int64_t n = static_cast<int64_t>(kept.size());
    stats->words_kept += n;
    int64_t n_noise = 0;
    if (n > 0 && !per_pair) n_noise = draw_noise(tables, vocab, s.negative, keys.noise, positions[0], kept[0], noise);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t position = positions[i];
      const int32_t center = kept[i];
      // Draw the next centre's noise now and start fetching the rows it will need.
      int64_t n_next_noise = 0;
      if (i + 1 < n && !per_pair) {
        n_next_noise = draw_noise(tables, vocab, s.negative, keys.noise, positions[i + 1], kept[i + 1], next_noise);
        for (int64_t k = 0; k < n_next_noise; ++k) prefetch_row(out_row(next_noise[k]), d);
        prefetch_row(out_row(kept[i + 1]), d);
        if (i + 1 + s.window < n) prefetch_row(in_row(kept[i + 1 + s.window]), d);
      }
      const int64_t reach = s.window - bounded_random(counter_random(keys.window, position), s.window);
      const int64_t lo = std::max<int64_t>(0, i - reach), hi = std::min<int64_t>(n, i + reach + 1);
      const bool want_loss = s.loss_every > 0 && position % s.loss_every == 0;
      double loss = 0;
      int64_t terms = 0;
      targets[0] = out_row(center);
      for (int64_t k = 0; k < n_noise; ++k) targets[1 + k] = out_row(noise[k]);
      const int64_t n_targets = 1 + n_noise;
      if (s.architecture == Architecture::cbow) {
        // h = mean (or sum) of the context vectors, updated against the targets as a
        // one-input HogBatch; every context row then takes h's whole step (word2vec.c).
        float* h = scratch->h.data();
        int64_t m = 0;
        fill_zero(h, d);
        for (int64_t j = lo; j < hi; ++j)
          if (j != i) add(in_row(kept[j]), h, d), ++m;
        if (m > 0) {
          if (s.cbow_mean) scale(1.0f / static_cast<float>(m), h, d);
          float* grad_h = scratch->grad_inputs.data();
          loss = hogbatch_update(&h, 1, targets, n_targets, alpha, d, scratch->scores.data(), grad_h, want_loss);
          terms = n_targets;
          for (int64_t j = lo; j < hi; ++j)
            if (j != i) add(grad_h, in_row(kept[j]), d);
        }
      } else if (!per_pair) {
        int64_t m = 0;
        for (int64_t j = lo; j < hi; ++j)
          if (j != i) inputs[m++] = in_row(kept[j]);
        if (m > 0) {
          loss = hogbatch_update(inputs, m, targets, n_targets, alpha, d, scratch->scores.data(),
                                 scratch->grad_inputs.data(), want_loss);
          terms = m * n_targets;
        }
      } else {
        // word2vec.c: each context word against the centre and its own noise words.
        for (int64_t j = lo; j < hi; ++j) {
          if (j == i) continue;
          float* h = in_row(kept[j]);
          const uint64_t pair = static_cast<uint64_t>(position) * (2 * s.window + 1) + (j - i + s.window);
          const int64_t pair_noise = draw_noise(tables, vocab, s.negative, keys.noise, pair, center, noise);
          for (int64_t k = 0; k < pair_noise; ++k) targets[1 + k] = out_row(noise[k]);
          loss += hogbatch_update(&h, 1, targets, 1 + pair_noise, alpha, d, scratch->scores.data(),
                                  scratch->grad_inputs.data(), want_loss);
          terms += 1 + pair_noise;
        }
      }
      if (want_loss) stats->loss += loss, stats->loss_terms += terms;
      std::swap(noise, next_noise);
      n_noise = n_next_noise;
    }
  }
}

// Sentence ranges of about `grain` words each, for dynamic scheduling.
std::vector<SentenceRange> split_sentences(const TrainChunk& chunk, int64_t grain) {
  std::vector<SentenceRange> ranges;
  int64_t first = 0, words = 0;
  for (int64_t s = 0; s < chunk.sentences; ++s) {
    const int64_t begin = s == 0 ? 0 : chunk.sentence_ends[s - 1];
    words += chunk.sentence_ends[s] - begin;
    if (words >= grain) {
      ranges.push_back({first, s + 1});
      first = s + 1;
      words = 0;
    }
  }
  if (first < chunk.sentences) ranges.push_back({first, chunk.sentences});
  return ranges;
}

}  // namespace

ChunkStats train_chunk(const TrainModel& model, const SamplingTables& tables, const TrainSettings& settings,
                       const TrainChunk& chunk, int threads) {
  const EpochKeys keys(settings.seed, chunk.epoch);
  const std::vector<SentenceRange> ranges = split_sentences(chunk, 4096);
  const int64_t n_ranges = static_cast<int64_t>(ranges.size());
  ChunkStats total{0, 0, 0, settings.alpha};
  const int team = std::max(1, std::min<int>(threads, static_cast<int>(std::max<int64_t>(1, n_ranges))));
  std::vector<Scratch> scratch = allocate_scratch(model, settings, chunk, team);
#pragma omp parallel num_threads(team)
  {
    Scratch* mine_scratch = &scratch[omp_get_thread_num()];
    ChunkStats mine{0, 0, 0, settings.alpha};
#pragma omp for schedule(dynamic, 1)
    for (int64_t r = 0; r < n_ranges; ++r)
      train_sentences(model, tables, settings, chunk, keys, ranges[r], mine_scratch, &mine);
#pragma omp critical
    {
      total.loss += mine.loss;
      total.loss_terms += mine.loss_terms;
      total.words_kept += mine.words_kept;
    }
  }
  if (chunk.sentences > 0) {
    const int64_t last_begin = chunk.sentences == 1 ? 0 : chunk.sentence_ends[chunk.sentences - 2];
    total.last_alpha = linear_learning_rate(settings.alpha, settings.min_alpha, chunk.words_done + last_begin, chunk.words_total);
  }
  return total;
}

}  // namespace w2v::cpu
