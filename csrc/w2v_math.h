// Math shared by the CPU and CUDA kernels: the loss and gradient of one score,
// the counter-based random numbers and the samplers built on them.
// Everything here is a host/device inline function, so the CPU tests cover it too.
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define W2V_HD __host__ __device__ __forceinline__
#else
#define W2V_HD inline
#endif

namespace w2v {

W2V_HD float exp_(float x) { return expf(x); }
W2V_HD double exp_(double x) { return exp(x); }
W2V_HD float log1p_(float x) { return log1pf(x); }
W2V_HD double log1p_(double x) { return log1p(x); }

// log(1 + e^x), without overflow for large |x|.
template <typename T>
W2V_HD T softplus(T x) {
  return x > T(0) ? x + log1p_(exp_(-x)) : log1p_(exp_(x));
}

template <typename T>
W2V_HD T sigmoid(T x) {
  if (x >= T(0)) return T(1) / (T(1) + exp_(-x));
  const T z = exp_(x);
  return z / (T(1) + z);
}

// Binary cross-entropy with logits of one score against a 0/1 label.
template <typename T>
W2V_HD T bce_with_logits(T score, bool positive) {
  return positive ? softplus(-score) : softplus(score);
}

// d bce_with_logits / d score.
template <typename T>
W2V_HD T bce_with_logits_grad(T score, bool positive) {
  return sigmoid(score) - (positive ? T(1) : T(0));
}

// The corpus trainers' quantised sigmoid, like word2vec.c's expTable: 1024 buckets over
// [-8, 8], each worth the sigmoid at its midpoint (error < 0.002), exactly 0 or 1
// outside. The CPU trainer tabulates it; the CUDA trainer computes the same values.
constexpr int kSigmoidBuckets = 1024;
constexpr float kSigmoidRange = 8.0f;

// x in (-kSigmoidRange, kSigmoidRange). The product rounds up to kSigmoidBuckets for the
// floats just below the range's top, which belong to the last bucket.
W2V_HD int sigmoid_bucket(float x) {
  const int bucket = static_cast<int>((x + kSigmoidRange) * (kSigmoidBuckets / (2.0f * kSigmoidRange)));
  return bucket < kSigmoidBuckets ? bucket : kSigmoidBuckets - 1;
}

W2V_HD float sigmoid_of_bucket(int bucket) {
  const double x = (bucket + 0.5) * (2.0 * kSigmoidRange / kSigmoidBuckets) - kSigmoidRange;
  return static_cast<float>(1.0 / (1.0 + exp(-x)));
}

// NaN stays NaN (a diverged model's scores), so its loss shows it.
W2V_HD float quantised_sigmoid(float x) {
  if (!(x > -kSigmoidRange && x < kSigmoidRange)) return x >= kSigmoidRange ? 1.0f : x <= -kSigmoidRange ? 0.0f : x;
  return sigmoid_of_bucket(sigmoid_bucket(x));
}

// ---- counter-based random numbers ----------------------------------------------
// Draw n of a stream is a pure function of (key, n): results do not depend on how the
// work is split across threads or launched on a device. This is splitmix64 indexed
// directly by its counter, which passes BigCrush.

W2V_HD uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

constexpr uint64_t kGoldenGamma = 0x9e3779b97f4a7c15ULL;

// A stream key from a seed and up to two stream identifiers (e.g. epoch and purpose).
W2V_HD uint64_t stream_key(uint64_t seed, uint64_t a, uint64_t b = 0) {
  return mix64(mix64(mix64(seed + kGoldenGamma) ^ (a * 0xd1b54a32d192ed03ULL)) ^ (b * 0x8cb92ba72f3d8dd7ULL));
}

W2V_HD uint64_t counter_random(uint64_t key, uint64_t counter) {
  return mix64(key + (counter + 1) * kGoldenGamma);
}

// Uniform integer in [0, n) from the high 32 bits (Lemire's multiply-shift; bias < n / 2^32).
W2V_HD uint32_t bounded_random(uint64_t r, uint32_t n) {
  return static_cast<uint32_t>(((r >> 32) * static_cast<uint64_t>(n)) >> 32);
}

// Uniform float in [0, 1) from the high 24 bits.
W2V_HD float unit_random(uint64_t r) { return static_cast<float>(r >> 40) * (1.0f / 16777216.0f); }

// One draw from a Walker/Vose alias table: bucket i is kept with probability
// accept[i] / 2^32, else its alias is taken (a bucket that is always kept is its own
// alias). The bucket comes from the high 32 bits of r, the coin from the low 32.
W2V_HD int32_t alias_draw(const uint32_t* accept, const int32_t* alias, uint32_t n, uint64_t r) {
  const uint32_t bucket = bounded_random(r, n);
  return static_cast<uint32_t>(r) < accept[bucket] ? static_cast<int32_t>(bucket) : alias[bucket];
}

// The threshold that keeps a word with probability p in keep_word (p >= 1: always).
W2V_HD uint32_t keep_threshold(double p) {
  return p >= 1.0 ? 0xffffffffu : p <= 0.0 ? 0u : static_cast<uint32_t>(p * 4294967296.0);
}

// word2vec.c's frequent-word subsampling: keep a word when a uniform 32-bit draw falls
// below its threshold, min(1, (sqrt(f / s) + 1) * s / f) scaled to 2^32 (f: the word's
// share of the corpus, s: `sample`); the all-ones threshold means always.
W2V_HD bool keep_word(uint32_t threshold, uint64_t r) {
  return threshold == 0xffffffffu || static_cast<uint32_t>(r >> 32) < threshold;
}

// The learning rate after `words_done` of `words_total` words: linear from `start` to
// `end` (gensim's alpha -> min_alpha) when end > 0; else word2vec.c's, linear from
// `start` toward 0 and floored at start * 1e-4.
W2V_HD float linear_learning_rate(float start, float end, double words_done, double words_total) {
  const double progress = words_done / (words_total + 1.0);
  const double rate = end > 0 ? start + (static_cast<double>(end) - start) * progress : start * (1.0 - progress);
  const double floor = end > 0 ? static_cast<double>(end) : start * 1e-4;
  return static_cast<float>(rate < floor ? floor : rate);
}

}  // namespace w2v
