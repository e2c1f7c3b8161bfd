// A tabulated sigmoid for the corpus trainer's hot loop, like word2vec.c's expTable:
// 1024 buckets over [-8, 8], each holding the sigmoid at its midpoint (error < 0.002),
// and exactly 0 or 1 outside. The fused ops keep the exact sigmoid.
#pragma once

#include <cmath>

namespace w2v::cpu {

class SigmoidTable {
 public:
  static constexpr int kSize = 1024;
  static constexpr float kMax = 8.0f;

  SigmoidTable() {
    for (int i = 0; i < kSize; ++i) {
      const double x = (i + 0.5) * (2.0 * kMax / kSize) - kMax;
      values_[i] = static_cast<float>(1.0 / (1.0 + std::exp(-x)));
    }
  }

  float operator()(float x) const {
    if (x >= kMax) return 1.0f;
    if (x <= -kMax) return 0.0f;
    return values_[static_cast<int>((x + kMax) * (kSize / (2.0f * kMax)))];
  }

  static const SigmoidTable& instance() {
    static const SigmoidTable table;
    return table;
  }

 private:
  float values_[kSize];
};

}  // namespace w2v::cpu
