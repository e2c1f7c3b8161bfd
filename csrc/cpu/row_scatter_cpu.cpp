#include "cpu/row_scatter.h"

#include <algorithm>

#include "cpu/parallel.h"
#include "cpu/prefetch.h"
#include "cpu/vector_ops.h"

namespace w2v::cpu {

namespace {

template <typename T>
W2V_CLONES void scatter_owned_rows(GradRows<T> dst, int64_t dim, const ScatterTerm<compute_t<T>>* terms,
                                   int64_t n, int owner, int owners) {
  constexpr int64_t kAhead = 8;  // terms between a destination's prefetch and its update
  for (int64_t i = 0; i < n; ++i) {
    if (i + kAhead < n) {
      const int64_t ahead = terms[i + kAhead].row;
      if (ahead >= 0 && ahead % owners == owner) prefetch_row(dst.rows + ahead * dst.stride, dim);
    }
    const ScatterTerm<compute_t<T>>& term = terms[i];
    if (term.row < 0 || term.row % owners != owner) continue;
    axpy(term.coef, term.src, dst.rows + term.row * dst.stride, dim);
  }
}

// Term ids grouped by destination row: the terms of row r are order[offsets[r]:offsets[r+1]].
struct RowGroups {
  std::vector<int64_t> offsets, order;
};

template <typename C>
RowGroups group_by_row(const std::vector<ScatterTerm<C>>& terms, int64_t rows) {
  RowGroups g;
  g.offsets.assign(rows + 1, 0);
  for (const ScatterTerm<C>& term : terms)
    if (term.row >= 0) ++g.offsets[term.row + 1];
  for (int64_t r = 0; r < rows; ++r) g.offsets[r + 1] += g.offsets[r];
  g.order.resize(g.offsets[rows]);
  std::vector<int64_t> next(g.offsets.begin(), g.offsets.end() - 1);
  for (int64_t i = 0; i < static_cast<int64_t>(terms.size()); ++i)
    if (terms[i].row >= 0) g.order[next[terms[i].row]++] = i;
  return g;
}

template <typename T>
W2V_CLONES void sum_rows(GradRows<T> dst, int64_t dim, const ScatterTerm<compute_t<T>>* terms,
                         const RowGroups* groups, int64_t begin, int64_t end) {
  for (int64_t r = begin; r < end; ++r) {
    T* y = dst.rows + r * dst.stride;
    const int64_t first = groups->offsets[r], last = groups->offsets[r + 1];
    if (first == last) {
      fill_zero(y, dim);
      continue;
    }
    const ScatterTerm<compute_t<T>>& head = terms[groups->order[first]];
    for (int64_t i = 0; i < dim; ++i) y[i] = static_cast<T>(head.coef * head.src[i]);
    for (int64_t k = first + 1; k < last; ++k) {
      const ScatterTerm<compute_t<T>>& term = terms[groups->order[k]];
      axpy(term.coef, term.src, y, dim);
    }
  }
}

}  // namespace

template <typename T>
void sum_terms_by_row(GradRows<T> dst_a, const ScatterTerms<T>& terms_a, GradRows<T> dst_b,
                      const ScatterTerms<T>& terms_b, int64_t dim, int threads) {
  const RowGroups groups_a = group_by_row(terms_a, dst_a.count);
  const RowGroups groups_b = group_by_row(terms_b, dst_b.count);
  constexpr int64_t kBlock = 64;
  const int team = threads_for(threads, dst_a.count + dst_b.count, kBlock);
#pragma omp parallel num_threads(team)
  {
#pragma omp for schedule(dynamic, 1) nowait
    for (int64_t r = 0; r < dst_a.count; r += kBlock)
      sum_rows(dst_a, dim, terms_a.data(), &groups_a, r, std::min(dst_a.count, r + kBlock));
#pragma omp for schedule(dynamic, 1)
    for (int64_t r = 0; r < dst_b.count; r += kBlock)
      sum_rows(dst_b, dim, terms_b.data(), &groups_b, r, std::min(dst_b.count, r + kBlock));
  }
}

template <typename T>
void scatter_terms(GradRows<T> dst_a, const ScatterTerms<T>& terms_a,
                   GradRows<T> dst_b, const ScatterTerms<T>& terms_b, int64_t dim,
                   int threads) {
  const int64_t work = static_cast<int64_t>(terms_a.size() + terms_b.size()) * dim;
  const int team = threads_for(threads, work, 1 << 14);
#pragma omp parallel num_threads(team)
  {
    const int owner = omp_get_thread_num(), owners = omp_get_num_threads();
    if (!terms_a.empty())
      scatter_owned_rows(dst_a, dim, terms_a.data(), static_cast<int64_t>(terms_a.size()), owner, owners);
    if (!terms_b.empty())
      scatter_owned_rows(dst_b, dim, terms_b.data(), static_cast<int64_t>(terms_b.size()), owner, owners);
  }
}

template <typename T>
void scatter_terms(GradRows<T> dst, int64_t dim, const ScatterTerms<T>& terms, int threads) {
  scatter_terms(dst, terms, dst, ScatterTerms<T>{}, dim, threads);
}

#define W2V_INSTANTIATE(T)                                                                                 \
  template void sum_terms_by_row<T>(GradRows<T>, const ScatterTerms<T>&, GradRows<T>, const ScatterTerms<T>&,  \
                                    int64_t, int);                                                           \
  template void scatter_terms<T>(GradRows<T>, int64_t, const ScatterTerms<T>&, int);                         \
  template void scatter_terms<T>(GradRows<T>, const ScatterTerms<T>&, GradRows<T>, const ScatterTerms<T>&,     \
                                 int64_t, int);
W2V_INSTANTIATE(float)
W2V_INSTANTIATE(double)
#undef W2V_INSTANTIATE

}  // namespace w2v::cpu
