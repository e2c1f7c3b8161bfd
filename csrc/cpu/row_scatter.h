// Race-free accumulation of weighted rows into a gradient matrix, the "sparse
// gradient scatter" half of an embedding backward.
#pragma once

#include <cstdint>
#include <vector>

#include "compute_type.h"
#include "ns_batch.h"

namespace w2v::cpu {

// dst.rows[row] += coef * src[0:dim]; a term with row < 0 is skipped. coef and src are
// in the compute type CT (compute_t of the destination's T): each add is computed in CT
// and stored as T.
template <typename CT>
struct ScatterTerm {
  int64_t row;
  CT coef;
  const CT* src;
};

// The terms that add into the gradient rows of a table stored as T.
template <typename T>
using ScatterTerms = std::vector<ScatterTerm<compute_t<T>>>;

// Applies every term. Thread t of n owns the destination rows with row % n == t and
// walks the whole list in order, so each row's sum has one fixed order whatever the
// thread count: results are deterministic and need no atomics or locks.
template <typename T>
void scatter_terms(GradRows<T> dst, int64_t dim, const ScatterTerms<T>& terms, int threads);

// Both lists at once, into two destinations (one thread team).
template <typename T>
void scatter_terms(GradRows<T> dst_a, const ScatterTerms<T>& terms_a,
                   GradRows<T> dst_b, const ScatterTerms<T>& terms_b, int64_t dim,
                   int threads);

// Compact gradients: writes every row r < dst.count of dst as the sum of the terms with
// row r (in term order; a row without terms becomes zero), both lists at once. Terms are
// grouped by row with a counting sort, then each row is summed and written once by one
// thread: no zeroing, no read-modify-write, deterministic for any thread count.
template <typename T>
void sum_terms_by_row(GradRows<T> dst_a, const ScatterTerms<T>& terms_a, GradRows<T> dst_b,
                      const ScatterTerms<T>& terms_b, int64_t dim, int threads);

}  // namespace w2v::cpu
