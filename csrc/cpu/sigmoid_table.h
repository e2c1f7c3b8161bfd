// w2v::quantised_sigmoid as a table, for the CPU trainer's hot loop.
#pragma once

#include "w2v_math.h"

namespace w2v::cpu {

class SigmoidTable {
 public:
  SigmoidTable() {
    for (int i = 0; i < kSigmoidBuckets; ++i) values_[i] = sigmoid_of_bucket(i);
  }

  // Equal to quantised_sigmoid(x), bit for bit.
  float operator()(float x) const {
    if (!(x > -kSigmoidRange && x < kSigmoidRange)) return x >= kSigmoidRange ? 1.0f : x <= -kSigmoidRange ? 0.0f : x;
    return values_[sigmoid_bucket(x)];
  }

  static const SigmoidTable& instance() {
    static const SigmoidTable table;
    return table;
  }

 private:
  float values_[kSigmoidBuckets];
};

}  // namespace w2v::cpu
