// The ops' kernel entry points, written once for both devices: they take the erased
// views (erased_views.h), release the GIL and call the CPU kernels (launch: a thread
// count) or the CUDA kernels (launch: a cudaStream_t as an integer). The Python names
// are those _ns_ops.py calls: sgns_forward, sgns_backward, sgns_sgd_step and their
// cbow_ns_ twins.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <type_traits>

#include "bindings/erased_views.h"
#include "cbow_ns.h"
#include "sgns.h"

namespace w2v::bindings {

enum class Device { cpu, cuda };

// A CPU kernel's thread count, or a CUDA kernel's stream.
template <Device D>
using Launch = std::conditional_t<D == Device::cpu, int, uintptr_t>;

template <Device D>
auto kernel_launch(Launch<D> launch) {
  if constexpr (D == Device::cpu) return launch;
  else return reinterpret_cast<void*>(launch);
}

template <Device D, bool Cbow>
void ns_forward(const ErasedEmbeddings& w, const ErasedBatch& b, uintptr_t pos_loss, uintptr_t neg_loss,
                const ErasedSaved& saved, Launch<D> launch) {
  // the kernels write terms_per_row scores per row: a row of another size would overrun
  const TermsPerRow terms = Cbow ? cbow_ns_terms_per_row(b.in_batch_positives) : sgns_terms_per_row(b.negatives_per_context);
  if (saved.keep && saved.terms_per_row != terms.count(b.rows, b.context_size, b.negatives))
    throw std::invalid_argument("saved: rows of " + std::to_string(saved.terms_per_row) + " terms, the batch has " +
                                std::to_string(terms.count(b.rows, b.context_size, b.negatives)));
  dispatch(w.scalar, b.index, [&](auto t, auto i) {
    using T = decltype(t);
    using I = decltype(i);
    using CT = compute_t<T>;
    auto fn = [] {
      if constexpr (D == Device::cpu) return Cbow ? &cpu::cbow_ns_forward<T, I> : &cpu::sgns_forward<T, I>;
      else return Cbow ? &cuda::cbow_ns_forward<T, I> : &cuda::sgns_forward<T, I>;
    }();
    fn(w.typed<T>(), b.typed<I>(), reinterpret_cast<CT*>(pos_loss), reinterpret_cast<CT*>(neg_loss),
       saved.typed<CT>(), kernel_launch<D>(launch));
  });
}

// The backward reads only what the forward saved, never the weights: the dtype is the
// saved tensors', which is the weights' for float32 and float64 (a storage type whose
// compute type differs would dispatch on the gradient targets' dtype instead).
template <Device D, bool Cbow>
void ns_backward(const ErasedBatch& b, const ErasedSaved& saved, uintptr_t grad_pos, uintptr_t grad_neg,
                 const ErasedGradTargets& targets, Launch<D> launch) {
  dispatch(saved.scalar, b.index, [&](auto t, auto i) {
    using T = decltype(t);
    using I = decltype(i);
    using CT = compute_t<T>;
    auto fn = [] {
      if constexpr (D == Device::cpu) return Cbow ? &cpu::cbow_ns_backward<T, I> : &cpu::sgns_backward<T, I>;
      else return Cbow ? &cuda::cbow_ns_backward<T, I> : &cuda::sgns_backward<T, I>;
    }();
    fn(b.typed<I>(), saved.typed<CT>(), saved.dim, reinterpret_cast<const CT*>(grad_pos),
       reinterpret_cast<const CT*>(grad_neg), targets.input_grad<T>(), targets.output_grad<T>(), targets.slots(),
       kernel_launch<D>(launch));
  });
}

// The steps' summed loss lands in `loss` (one element of the compute type, the weights'
// dtype for float32 and float64): the CPU
// kernels' return value is written there, the CUDA kernels add into it on the device
// (the caller zeroes it), so the caller never waits on a device to read it.
// atomic_updates reaches the CUDA kernels only: the CPU's few threads update Hogwild.
template <Device D>
void sgns_step(const ErasedEmbeddings& w, const ErasedBatch& b, double lr, bool atomic_updates, uintptr_t loss,
               Launch<D> launch) {
  dispatch(w.scalar, b.index, [&](auto t, auto i) {
    using T = decltype(t);
    using I = decltype(i);
    using CT = compute_t<T>;
    if constexpr (D == Device::cpu)
      *reinterpret_cast<CT*>(loss) =
          static_cast<CT>(cpu::sgns_sgd_step<T, I>(w.typed<T>(), b.typed<I>(), static_cast<CT>(lr), launch));
    else
      cuda::sgns_sgd_step<T, I>(w.typed<T>(), b.typed<I>(), static_cast<CT>(lr), atomic_updates,
                                reinterpret_cast<CT*>(loss), kernel_launch<D>(launch));
  });
}

template <Device D>
void cbow_ns_step(const ErasedEmbeddings& w, const ErasedBatch& b, double lr, bool exact_context_gradient,
                  bool atomic_updates, uintptr_t loss, Launch<D> launch) {
  dispatch(w.scalar, b.index, [&](auto t, auto i) {
    using T = decltype(t);
    using I = decltype(i);
    using CT = compute_t<T>;
    if constexpr (D == Device::cpu)
      *reinterpret_cast<CT*>(loss) = static_cast<CT>(cpu::cbow_ns_sgd_step<T, I>(
          w.typed<T>(), b.typed<I>(), static_cast<CT>(lr), exact_context_gradient, launch));
    else
      cuda::cbow_ns_sgd_step<T, I>(w.typed<T>(), b.typed<I>(), static_cast<CT>(lr), exact_context_gradient,
                                   atomic_updates, reinterpret_cast<CT*>(loss), kernel_launch<D>(launch));
  });
}

// `launch` names the last argument: "threads" or "stream".
template <Device D>
void bind_ns_ops(pybind11::module_& m, const char* launch) {
  namespace py = pybind11;
  const auto release = py::call_guard<py::gil_scoped_release>();
  m.def("sgns_forward", &ns_forward<D, false>, release, py::arg("weights"), py::arg("batch"), py::arg("pos_loss"),
        py::arg("neg_loss"), py::arg("saved"), py::arg(launch));
  m.def("cbow_ns_forward", &ns_forward<D, true>, release, py::arg("weights"), py::arg("batch"),
        py::arg("pos_loss"), py::arg("neg_loss"), py::arg("saved"), py::arg(launch));
  m.def("sgns_backward", &ns_backward<D, false>, release, py::arg("batch"), py::arg("saved"), py::arg("grad_pos"),
        py::arg("grad_neg"), py::arg("targets"), py::arg(launch));
  m.def("cbow_ns_backward", &ns_backward<D, true>, release, py::arg("batch"), py::arg("saved"),
        py::arg("grad_pos"), py::arg("grad_neg"), py::arg("targets"), py::arg(launch));
  m.def("sgns_sgd_step", &sgns_step<D>, release, py::arg("weights"), py::arg("batch"), py::arg("lr"),
        py::arg("atomic_updates"), py::arg("loss"), py::arg(launch));
  m.def("cbow_ns_sgd_step", &cbow_ns_step<D>, release, py::arg("weights"), py::arg("batch"), py::arg("lr"),
        py::arg("exact_context_gradient"), py::arg("atomic_updates"), py::arg("loss"), py::arg(launch));
}

}  // namespace w2v::bindings
