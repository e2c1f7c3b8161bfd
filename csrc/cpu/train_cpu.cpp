#include "train.h"

#include <algorithm>
#include <new>
#include <stdexcept>
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

int64_t longest_sentence(const TrainBlock& block) {
  int64_t longest = 0, begin = 0;
  for (int64_t s = 0; s < block.sentences; ++s) {
    longest = std::max(longest, block.sentence_ends[s] - begin);
    begin = block.sentence_ends[s];
  }
  return longest;
}

// Every thread's scratch, allocated before the parallel region (a failed allocation
// inside it would terminate the process).
std::vector<Scratch> allocate_scratch(const TrainModel& model, const TrainSettings& s, const TrainBlock& block,
                                      int team) {
  const int64_t max_inputs = std::max<int64_t>(1, std::min<int64_t>(2 * static_cast<int64_t>(s.window),
                                                                     longest_sentence(block) - 1));
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

// What the steps below read: the model, the sampling tables and settings, the epoch's
// random streams, and the training thread's scratch. A step is one part of training a
// centre word, written the way fastText's Model::update reads: gather the inputs, score
// them against the targets with one HogBatch update, scatter the inputs' step back.
// The small structs are held by value, so the compiler keeps their fields in registers
// across the rows' stores instead of reloading them.
struct Thread {
  const TrainModel model;
  const SamplingTables tables;
  const TrainSettings s;
  const EpochKeys keys;
  Scratch& scratch;

  W2V_INLINE float* in_row(int64_t word) const { return model.input + word * model.stride; }
  W2V_INLINE float* out_row(int64_t word) const { return model.output + word * model.stride; }
};

// The loss of one centre's update, when measured.
struct Loss {
  double sum = 0;
  int64_t terms = 0;
};

// A centre word's context: the kept words [lo, hi) around position i, i itself excluded.
struct Window {
  int64_t i, lo, hi;
};

// Subsampling: the words of ids[begin, end) that survive word2vec.c's frequent-word
// draw, with their epoch positions, into the scratch. Returns how many.
W2V_INLINE int64_t subsample(const Thread& t, const TrainBlock& block, int64_t begin, int64_t end) {
  std::vector<int32_t>& kept = t.scratch.kept_ids;
  std::vector<int64_t>& positions = t.scratch.kept_positions;
  kept.clear();
  positions.clear();
  for (int64_t q = begin; q < end; ++q) {
    const int64_t position = block.first_position + q;
    const int32_t w = block.ids[q];
    if (t.tables.keep_threshold &&
        !keep_word(t.tables.keep_threshold[w], counter_random(t.keys.subsample, position)))
      continue;
    kept.push_back(w);
    positions.push_back(position);
  }
  return static_cast<int64_t>(kept.size());
}

// The centre's noise words, drawn at `counter` (draws equal to the centre are skipped,
// as word2vec.c does); returns how many.
W2V_INLINE int64_t draw_noise(const Thread& t, uint64_t counter, int32_t center, int32_t* noise) {
  int64_t n = 0;
  for (int32_t k = 0; k < t.s.negative; ++k) {
    const int32_t word = alias_draw(t.tables.noise_accept, t.tables.noise_alias, static_cast<uint32_t>(t.model.vocab),
                                    counter_random(t.keys.noise, counter * t.s.negative + k));
    if (word != center) noise[n++] = word;
  }
  return n;
}

// Start fetching the rows the kept word i will need (the pipeline's next centre): its
// noise rows, its own output row and the input row entering the window.
W2V_INLINE void prefetch_centre(const Thread& t, int64_t i, int64_t n, const int32_t* noise, int64_t n_noise) {
  const std::vector<int32_t>& kept = t.scratch.kept_ids;
  const int64_t d = t.model.dim;
  for (int64_t k = 0; k < n_noise; ++k) prefetch_row(t.out_row(noise[k]), d);
  prefetch_row(t.out_row(kept[i]), d);
  if (i + t.s.window < n) prefetch_row(t.in_row(kept[i + t.s.window]), d);
}

// word2vec.c's random window: a reach drawn in [1, window] for the kept word i (the
// whole window without shrink_windows).
W2V_INLINE Window window_around(const Thread& t, int64_t i, int64_t n) {
  const int64_t reach =
      t.s.shrink_windows
          ? t.s.window - bounded_random(counter_random(t.keys.window, t.scratch.kept_positions[i]), t.s.window)
          : t.s.window;
  return {i, std::max<int64_t>(0, i - reach), std::min<int64_t>(n, i + reach + 1)};
}

// The targets of a centre: its output row (the positive), then its noise words' rows.
// Returns how many.
W2V_INLINE int64_t gather_targets(const Thread& t, int32_t center, const int32_t* noise, int64_t n_noise) {
  float** targets = t.scratch.targets.data();
  targets[0] = t.out_row(center);
  for (int64_t k = 0; k < n_noise; ++k) targets[1 + k] = t.out_row(noise[k]);
  return 1 + n_noise;
}

// CBOW: h = the mean (or sum) of the context rows, updated against the targets as a
// one-input HogBatch; every context row then takes h's whole step (word2vec.c).
W2V_INLINE Loss cbow_centre(const Thread& t, Window w, const int32_t* noise, int64_t n_noise, float alpha,
                            bool want_loss) {
  const std::vector<int32_t>& kept = t.scratch.kept_ids;
  const int64_t d = t.model.dim;
  float* h = t.scratch.h.data();
  int64_t m = 0;
  fill_zero(h, d);
  for (int64_t j = w.lo; j < w.hi; ++j)
    if (j != w.i) add(t.in_row(kept[j]), h, d), ++m;
  if (m == 0) return {};
  if (t.s.cbow_mean) scale(1.0f / static_cast<float>(m), h, d);
  const int64_t n_targets = gather_targets(t, kept[w.i], noise, n_noise);
  float* grad_h = t.scratch.grad_inputs.data();
  Loss loss{hogbatch_update(&h, 1, t.scratch.targets.data(), n_targets, alpha, d, t.scratch.scores.data(), grad_h,
                            want_loss),
            n_targets};
  for (int64_t j = w.lo; j < w.hi; ++j)
    if (j != w.i) add(grad_h, t.in_row(kept[j]), d);
  return loss;
}

// Skip-gram with negatives shared across the window (pWord2Vec's HogBatch): the
// window's context rows against the centre's targets as one small matrix product.
W2V_INLINE Loss skipgram_window(const Thread& t, Window w, const int32_t* noise, int64_t n_noise, float alpha,
                                bool want_loss) {
  const std::vector<int32_t>& kept = t.scratch.kept_ids;
  float** inputs = t.scratch.inputs.data();
  int64_t m = 0;
  for (int64_t j = w.lo; j < w.hi; ++j)
    if (j != w.i) inputs[m++] = t.in_row(kept[j]);
  if (m == 0) return {};
  const int64_t n_targets = gather_targets(t, kept[w.i], noise, n_noise);
  return {hogbatch_update(inputs, m, t.scratch.targets.data(), n_targets, alpha, t.model.dim, t.scratch.scores.data(),
                          t.scratch.grad_inputs.data(), want_loss),
          m * n_targets};
}

// Skip-gram with word2vec.c's per-pair negatives: each context row against the centre
// and noise words drawn for that pair.
W2V_INLINE Loss skipgram_pairs(const Thread& t, Window w, int32_t* noise, float alpha, bool want_loss) {
  const std::vector<int32_t>& kept = t.scratch.kept_ids;
  const int32_t center = kept[w.i];
  const uint64_t position = static_cast<uint64_t>(t.scratch.kept_positions[w.i]);
  Loss loss;
  for (int64_t j = w.lo; j < w.hi; ++j) {
    if (j == w.i) continue;
    float* h = t.in_row(kept[j]);
    const uint64_t pair = position * (2 * t.s.window + 1) + (j - w.i + t.s.window);
    const int64_t n_targets = gather_targets(t, center, noise, draw_noise(t, pair, center, noise));
    loss.sum += hogbatch_update(&h, 1, t.scratch.targets.data(), n_targets, alpha, t.model.dim,
                                t.scratch.scores.data(), t.scratch.grad_inputs.data(), want_loss);
    loss.terms += n_targets;
  }
  return loss;
}

struct SentenceRange {
  int64_t first, last;  // sentences [first, last)
};

// The driver: each sentence of the range is subsampled, then each kept word is a centre
// trained by the architecture's step. With shared negatives a centre's noise words are
// drawn one centre ahead, so their rows are fetched while the current centre trains.
W2V_CLONES void train_sentences(const TrainModel model, const SamplingTables tables, const TrainSettings s,
                                const TrainBlock block, const EpochKeys keys, SentenceRange range,
                                Scratch* scratch, BlockStats* stats) {
  const Thread t{model, tables, s, keys, *scratch};
  const bool per_pair = s.architecture == Architecture::skip_gram && !s.shared_negatives;
  int32_t* noise = scratch->noise.data();
  int32_t* next_noise = scratch->next_noise.data();
  for (int64_t sentence = range.first; sentence < range.last; ++sentence) {
    const int64_t begin = sentence == 0 ? 0 : block.sentence_ends[sentence - 1];
    const int64_t end = block.sentence_ends[sentence];
    const float alpha = sentence_alpha(s, block, sentence);
    const int64_t n = subsample(t, block, begin, end);
    stats->words_kept += n;
    const std::vector<int32_t>& kept = scratch->kept_ids;
    const std::vector<int64_t>& positions = scratch->kept_positions;
    int64_t n_noise = 0;
    if (n > 0 && !per_pair) n_noise = draw_noise(t, positions[0], kept[0], noise);
    for (int64_t i = 0; i < n; ++i) {
      int64_t n_next_noise = 0;
      if (i + 1 < n && !per_pair) {
        n_next_noise = draw_noise(t, positions[i + 1], kept[i + 1], next_noise);
        prefetch_centre(t, i + 1, n, next_noise, n_next_noise);
      }
      const Window window = window_around(t, i, n);
      const bool want_loss = s.loss_every > 0 && positions[i] % s.loss_every == 0;
      const Loss loss = s.architecture == Architecture::cbow ? cbow_centre(t, window, noise, n_noise, alpha, want_loss)
                        : per_pair ? skipgram_pairs(t, window, noise, alpha, want_loss)
                                   : skipgram_window(t, window, noise, n_noise, alpha, want_loss);
      if (want_loss) stats->loss += loss.sum, stats->loss_terms += loss.terms;
      std::swap(noise, next_noise);
      n_noise = n_next_noise;
    }
  }
}

// Sentence ranges of about `grain` words each, for dynamic scheduling.
std::vector<SentenceRange> split_sentences(const TrainBlock& block, int64_t grain) {
  std::vector<SentenceRange> ranges;
  int64_t first = 0, words = 0;
  for (int64_t s = 0; s < block.sentences; ++s) {
    const int64_t begin = s == 0 ? 0 : block.sentence_ends[s - 1];
    words += block.sentence_ends[s] - begin;
    if (words >= grain) {
      ranges.push_back({first, s + 1});
      first = s + 1;
      words = 0;
    }
  }
  if (first < block.sentences) ranges.push_back({first, block.sentences});
  return ranges;
}

// The ranges in the order a team of `team` threads takes them: the block as `team`
// stretches, walked side by side (gensim's workers likewise walk their own parts of the
// corpus). Threads then train far-apart passages at any moment and rarely update the same
// passage's rows at once; taking the ranges dynamically keeps the load balanced. A team
// of one takes them in order.
std::vector<SentenceRange> side_by_side(const std::vector<SentenceRange>& ranges, int team) {
  const int64_t n = static_cast<int64_t>(ranges.size());
  const int64_t stretch = (n + team - 1) / team;
  std::vector<SentenceRange> order;
  order.reserve(ranges.size());
  for (int64_t i = 0; i < stretch; ++i)
    for (int64_t s = 0; s < team; ++s)
      if (s * stretch + i < n) order.push_back(ranges[s * stretch + i]);
  return order;
}

// Trains the block's sentences on `threads` threads; their sums.
BlockStats train_on_threads(const TrainModel& model, const SamplingTables& tables, const TrainSettings& settings,
                            const TrainBlock& block, int threads) {
  const EpochKeys keys(settings.seed, block.epoch);
  const std::vector<SentenceRange> in_order = split_sentences(block, 4096);
  const int64_t n_ranges = static_cast<int64_t>(in_order.size());
  BlockStats total{0, 0, 0, settings.alpha};
  const int team = std::max(1, std::min<int>(threads, static_cast<int>(std::max<int64_t>(1, n_ranges))));
  const std::vector<SentenceRange> ranges = side_by_side(in_order, team);
  std::vector<Scratch> scratch = allocate_scratch(model, settings, block, team);
#pragma omp parallel num_threads(team)
  {
    Scratch* mine_scratch = &scratch[omp_get_thread_num()];
    BlockStats mine{0, 0, 0, settings.alpha};
#pragma omp for schedule(dynamic, 1)
    for (int64_t r = 0; r < n_ranges; ++r)
      train_sentences(model, tables, settings, block, keys, ranges[r], mine_scratch, &mine);
#pragma omp critical
    {
      total.loss += mine.loss;
      total.loss_terms += mine.loss_terms;
      total.words_kept += mine.words_kept;
    }
  }
  return total;
}

void copy_rows(const float* from, int64_t from_stride, float* to, int64_t to_stride, int64_t rows, int64_t columns) {
  if (from == to && from_stride == to_stride) return;
  for (int64_t r = 0; r < rows; ++r)
    std::copy(from + r * from_stride, from + r * from_stride + columns, to + r * to_stride);
}

}  // namespace

Trainer::Trainer(const TrainModel& model, const SamplingTables& tables, const TrainSettings& settings, int threads)
    : model_(model),
      noise_accept_(tables.noise_accept, tables.noise_accept + model.vocab),
      noise_alias_(tables.noise_alias, tables.noise_alias + model.vocab),
      settings_(settings),
      threads_(threads),
      pending_{0, 0, 0, settings.alpha} {
  if ((model.dim + kLanes - 1) / kLanes * kLanes > model.stride)
    throw std::invalid_argument("the CPU trainer's tables must have rows of whole vectors of " +
                                std::to_string(kLanes) + " floats (dim " + std::to_string(model.dim) +
                                ", row stride " + std::to_string(model.stride) + ")");
  if (tables.keep_threshold)
    keep_threshold_.assign(tables.keep_threshold, tables.keep_threshold + model.vocab);
}

void Trainer::train_block(const TrainBlock& block) {
  // the hot loop's view: whole vectors (the padding columns are zero and stay zero)
  const TrainModel padded{model_.input, model_.output, model_.vocab, (model_.dim + kLanes - 1) / kLanes * kLanes,
                          model_.stride};
  const SamplingTables tables{keep_threshold_.empty() ? nullptr : keep_threshold_.data(), noise_accept_.data(),
                              noise_alias_.data()};
  const BlockStats sums = train_on_threads(padded, tables, settings_, block, threads_);
  pending_.loss += sums.loss;
  pending_.loss_terms += sums.loss_terms;
  pending_.words_kept += sums.words_kept;
  if (block.sentences > 0) pending_.alpha = sentence_alpha(settings_, block, block.sentences - 1);
}

BlockStats Trainer::collect(bool) {
  const BlockStats out = pending_;
  pending_ = BlockStats{0, 0, 0, out.alpha};
  return out;
}

void Trainer::download(float* input, float* output, int64_t stride) {
  copy_rows(model_.input, model_.stride, input, stride, model_.vocab, model_.dim);
  copy_rows(model_.output, model_.stride, output, stride, model_.vocab, model_.dim);
}

void Trainer::upload(const float* input, const float* output, int64_t stride) {
  copy_rows(input, stride, model_.input, model_.stride, model_.vocab, model_.dim);
  copy_rows(output, stride, model_.output, model_.stride, model_.vocab, model_.dim);
}

}  // namespace w2v::cpu
