// Tables the trainers sample from.
#pragma once

#include <cstdint>

namespace w2v::sampling {

// Vose's alias method for the distribution proportional to weights[0:n] (n >= 1, sum > 0):
// fills accept[n] and alias[n] for w2v::alias_draw.
void build_alias_table(const double* weights, int64_t n, uint32_t* accept, int32_t* alias);

}  // namespace w2v::sampling
