#include "cpu/row_scatter.h"

#include "cpu/parallel.h"
#include "cpu/vector_ops.h"

namespace w2v::cpu {

namespace {

template <typename T>
W2V_CLONES void scatter_owned_rows(GradRows<T> dst, int64_t dim, const ScatterTerm<T>* terms,
                                   int64_t n, int owner, int owners) {
  for (int64_t i = 0; i < n; ++i) {
    const ScatterTerm<T>& term = terms[i];
    if (term.row < 0 || term.row % owners != owner) continue;
    axpy(term.coef, term.src, dst.rows + term.row * dst.stride, dim);
  }
}

}  // namespace

template <typename T>
void scatter_terms(GradRows<T> dst_a, const std::vector<ScatterTerm<T>>& terms_a,
                   GradRows<T> dst_b, const std::vector<ScatterTerm<T>>& terms_b, int64_t dim,
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
void scatter_terms(GradRows<T> dst, int64_t dim, const std::vector<ScatterTerm<T>>& terms, int threads) {
  scatter_terms(dst, terms, dst, std::vector<ScatterTerm<T>>{}, dim, threads);
}

template void scatter_terms<float>(GradRows<float>, int64_t, const std::vector<ScatterTerm<float>>&, int);
template void scatter_terms<double>(GradRows<double>, int64_t, const std::vector<ScatterTerm<double>>&, int);
template void scatter_terms<float>(GradRows<float>, const std::vector<ScatterTerm<float>>&, GradRows<float>,
                                   const std::vector<ScatterTerm<float>>&, int64_t, int);
template void scatter_terms<double>(GradRows<double>, const std::vector<ScatterTerm<double>>&, GradRows<double>,
                                    const std::vector<ScatterTerm<double>>&, int64_t, int);

}  // namespace w2v::cpu
