// The CUDA extension module: the same entry points as the CPU module, taking the
// current CUDA stream (a cudaStream_t as an integer) instead of a thread count. It
// imports on machines without a GPU; device_count() then returns 0 and the Python layer
// raises a clear error before any launch.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <memory>

#include "bindings/erased_views.h"
#include "bindings/numpy_util.h"
#include "bindings/train_common.h"
#include "cbow_ns.h"
#include "cuda/device_info.h"
#include "index_check.h"
#include "sgns.h"
#include "train.h"

namespace py = pybind11;
using namespace w2v;
using namespace w2v::bindings;

#if !defined(W2V_CUDA_MODULE_NAME)
#define W2V_CUDA_MODULE_NAME _w2v_cuda
#endif
#if defined(W2V_CUDA_EMULATION)
namespace w2v::bindings {
void bind_emulation_selftests(py::module_& m);  // emulation_selftest.cpp
}  // namespace w2v::bindings
#endif

namespace {

void* stream_of(uintptr_t stream) { return reinterpret_cast<void*>(stream); }

void check_index_range(const std::string& index_dtype, uintptr_t data, int64_t numel, int64_t rows,
                       int64_t padding_idx, int check, uint64_t serial, uintptr_t state, uintptr_t stream) {
  if (check < 0 || check > 127) throw std::invalid_argument("check must be in [0, 127]");
  auto* out = reinterpret_cast<unsigned long long*>(state);
  if (parse_index(index_dtype) == Index::i32)
    cuda::check_index_range(reinterpret_cast<const int32_t*>(data), numel, rows, padding_idx, check, serial, out,
                            stream_of(stream));
  else
    cuda::check_index_range(reinterpret_cast<const int64_t*>(data), numel, rows, padding_idx, check, serial, out,
                            stream_of(stream));
}

template <bool Cbow>
void forward(const ErasedEmbeddings& w, const ErasedBatch& b, uintptr_t pos_loss, uintptr_t neg_loss, bool save_grad,
             uintptr_t coef,
             uintptr_t grad_h_pos, uintptr_t grad_h_neg, uintptr_t hidden, int64_t terms_per_row, uintptr_t stream) {
  dispatch(w.scalar, b.index, [&](auto t, auto i) {
    using T = decltype(t);
    using I = decltype(i);
    auto fn = Cbow ? &cuda::cbow_ns_forward<T, I> : &cuda::sgns_forward<T, I>;
    fn(w.typed<T>(), b.typed<I>(), reinterpret_cast<T*>(pos_loss), reinterpret_cast<T*>(neg_loss),
       saved_from<T>(save_grad, coef, grad_h_pos, grad_h_neg, hidden, terms_per_row), stream_of(stream));
  });
}

// The backward reads only what the forward saved, never the weights; `dtype` is theirs.
template <bool Cbow>
void backward(const std::string& dtype, const ErasedBatch& b, uintptr_t coef, uintptr_t grad_h_pos,
              uintptr_t grad_h_neg, uintptr_t hidden, int64_t terms_per_row, int64_t dim, uintptr_t grad_pos,
              uintptr_t grad_neg, uintptr_t grad_input, int64_t grad_input_stride, int64_t grad_input_rows,
              uintptr_t grad_output, int64_t grad_output_stride, int64_t grad_output_rows, uintptr_t center_slot,
              uintptr_t context_slot, uintptr_t negative_slot, uintptr_t stream) {
  dispatch(parse_scalar(dtype), b.index, [&](auto t, auto i) {
    using T = decltype(t);
    using I = decltype(i);
    auto fn = Cbow ? &cuda::cbow_ns_backward<T, I> : &cuda::sgns_backward<T, I>;
    fn(b.typed<I>(), saved_from<T>(true, coef, grad_h_pos, grad_h_neg, hidden, terms_per_row), dim,
       reinterpret_cast<const T*>(grad_pos), reinterpret_cast<const T*>(grad_neg),
       GradRows<T>{reinterpret_cast<T*>(grad_input), grad_input_stride, grad_input_rows},
       GradRows<T>{reinterpret_cast<T*>(grad_output), grad_output_stride, grad_output_rows},
       slots_from(center_slot, context_slot, negative_slot), stream_of(stream));
  });
}

// The steps add their summed loss into `loss` (one element on the device, zeroed by the caller).
void sgns_step(const ErasedEmbeddings& w, const ErasedBatch& b, double lr, bool atomic_updates, uintptr_t loss,
               uintptr_t stream) {
  dispatch(w.scalar, b.index, [&](auto t, auto i) {
    using T = decltype(t);
    using I = decltype(i);
    cuda::sgns_sgd_step<T, I>(w.typed<T>(), b.typed<I>(), static_cast<T>(lr), atomic_updates,
                              reinterpret_cast<T*>(loss), stream_of(stream));
  });
}

void cbow_step(const ErasedEmbeddings& w, const ErasedBatch& b, double lr, bool exact_context_gradient,
               bool atomic_updates, uintptr_t loss, uintptr_t stream) {
  dispatch(w.scalar, b.index, [&](auto t, auto i) {
    using T = decltype(t);
    using I = decltype(i);
    cuda::cbow_ns_sgd_step<T, I>(w.typed<T>(), b.typed<I>(), static_cast<T>(lr), exact_context_gradient,
                                 atomic_updates, reinterpret_cast<T*>(loss), stream_of(stream));
  });
}

// Host tables are [vocab, padded] float32 arrays whose first `dim` columns hold the vectors.
int64_t host_stride_of(const py::array& table, const char* name, int64_t vocab, int64_t dim) {
  array_data<float>(table, name, 2);
  if (table.shape(0) != vocab || table.shape(1) < dim)
    throw std::invalid_argument(std::string(name) + " must be [vocab, >= dim]");
  return table.strides(0) / static_cast<py::ssize_t>(sizeof(float));
}

void bind_device_trainer(py::module_& m) {
  bind_train_settings(m);
  // module_local: the CUDA module and the emulated one may be loaded together
  py::class_<cuda::DeviceTrainer>(m, "DeviceTrainer", py::module_local())
      .def(py::init([](const py::array& input_init, int64_t dim, const py::object& keep_threshold,
                       const py::array& noise_accept, const py::array& noise_alias, const TrainSettings& settings,
                       int device) {
             const int64_t vocab = input_init.shape(0);
             const int64_t stride = host_stride_of(input_init, "input_init", vocab, dim);
             const uint32_t* keep = nullptr;
             if (!keep_threshold.is_none()) {
               const py::array k = keep_threshold.cast<py::array>();
               keep = array_data<uint32_t>(k, "keep_threshold", 1);
               if (k.shape(0) != vocab) throw std::invalid_argument("keep_threshold must have one entry per word");
             }
             if (noise_accept.shape(0) != vocab || noise_alias.shape(0) != vocab)
               throw std::invalid_argument("noise tables must have one entry per vocabulary word");
             return std::make_unique<cuda::DeviceTrainer>(
                 vocab, dim, array_data<float>(input_init, "input_init", 2), stride, keep,
                 array_data<uint32_t>(noise_accept, "noise_accept", 1), array_data<int32_t>(noise_alias, "noise_alias", 1),
                 settings, device);
           }),
           py::arg("input_init"), py::arg("dim"), py::arg("keep_threshold"), py::arg("noise_accept"),
           py::arg("noise_alias"), py::arg("settings"), py::arg("device"))
      .def(
          "train_block",
          [](cuda::DeviceTrainer& trainer, const py::array& ids, const py::array& sentence_ends, int64_t epoch,
             int64_t first_position, double words_done, double words_total) {
            TrainBlock block{array_data<int32_t>(ids, "ids", 1), array_data<int64_t>(sentence_ends, "sentence_ends", 1),
                             sentence_ends.shape(0), epoch, first_position, words_done, words_total};
            check_block(block, ids.shape(0), trainer.vocab());
            py::gil_scoped_release release;
            trainer.train_block(block, ids.shape(0));
          },
          py::arg("ids"), py::arg("sentence_ends"), py::arg("epoch"), py::arg("first_position"), py::arg("words_done"),
          py::arg("words_total"))
      .def("collect",
           [](cuda::DeviceTrainer& trainer, bool keep_last) {
             BlockStats stats;
             {
               py::gil_scoped_release release;
               stats = trainer.collect(keep_last);
             }
             py::dict out;
             out["loss"] = stats.loss;
             out["loss_terms"] = stats.loss_terms;
             out["words_kept"] = stats.words_kept;
             return out;
           },
           py::arg("keep_last") = false)
      .def(
          "download",
          [](cuda::DeviceTrainer& trainer, const py::array& input, const py::array& output) {
            const int64_t stride = host_stride_of(input, "input", trainer.vocab(), trainer.dim());
            if (host_stride_of(output, "output", trainer.vocab(), trainer.dim()) != stride)
              throw std::invalid_argument("input and output must have the same row stride");
            float* in = array_data<float>(input, "input", 2, true);
            float* out = array_data<float>(output, "output", 2, true);
            py::gil_scoped_release release;
            trainer.download(in, out, stride);
          },
          py::arg("input"), py::arg("output"))
      .def(
          "upload",
          [](cuda::DeviceTrainer& trainer, const py::array& input, const py::array& output) {
            const int64_t stride = host_stride_of(input, "input", trainer.vocab(), trainer.dim());
            if (host_stride_of(output, "output", trainer.vocab(), trainer.dim()) != stride)
              throw std::invalid_argument("input and output must have the same row stride");
            const float* in = array_data<float>(input, "input", 2);
            const float* out = array_data<float>(output, "output", 2);
            py::gil_scoped_release release;
            trainer.upload(in, out, stride);
          },
          py::arg("input"), py::arg("output"));
}

}  // namespace

PYBIND11_MODULE(W2V_CUDA_MODULE_NAME, m) {
#if defined(W2V_CUDA_EMULATION)
  m.doc() = "w2v_ext CUDA kernels compiled as C++ and emulated on the CPU, for the tests (raw-pointer interface)";
  m.attr("EMULATED") = true;
  bind_emulation_selftests(m);
#else
  m.doc() = "w2v_ext CUDA kernels (raw-pointer interface; use the w2v_ext Python API)";
  m.attr("EMULATED") = false;
#endif
  bind_views(m);
  m.def("device_count", &cuda::device_count, "CUDA devices visible to this process (0 without a GPU)");
  m.def("device_error", &cuda::device_error, "why device_count() is 0 (the CUDA runtime's message), or ''");
  bind_device_trainer(m);
  const auto release = py::call_guard<py::gil_scoped_release>();
  m.def("check_index_range", &check_index_range, release, py::arg("index_dtype"), py::arg("data"),
        py::arg("numel"), py::arg("rows"), py::arg("padding_idx"), py::arg("check"), py::arg("serial"),
        py::arg("state"), py::arg("stream"));
  for (const bool cbow : {false, true}) {
    const std::string prefix = cbow ? "cbow_ns" : "sgns";
    m.def((prefix + "_forward").c_str(), cbow ? &forward<true> : &forward<false>, release, py::arg("weights"),
          py::arg("batch"), py::arg("pos_loss"), py::arg("neg_loss"), py::arg("save_grad"), py::arg("coef"), py::arg("grad_h_pos"),
          py::arg("grad_h_neg"), py::arg("hidden"), py::arg("terms_per_row"), py::arg("stream"));
    m.def((prefix + "_backward").c_str(), cbow ? &backward<true> : &backward<false>, release, py::arg("dtype"),
          py::arg("batch"), py::arg("coef"), py::arg("grad_h_pos"), py::arg("grad_h_neg"), py::arg("hidden"),
          py::arg("terms_per_row"), py::arg("dim"), py::arg("grad_pos"), py::arg("grad_neg"), py::arg("grad_input"),
          py::arg("grad_input_stride"), py::arg("grad_input_rows"), py::arg("grad_output"),
          py::arg("grad_output_stride"), py::arg("grad_output_rows"), py::arg("center_slot"),
          py::arg("context_slot"), py::arg("negative_slot"), py::arg("stream"));
  }
  m.def("sgns_sgd_step", &sgns_step, release, py::arg("weights"), py::arg("batch"), py::arg("lr"),
        py::arg("atomic_updates"), py::arg("loss"), py::arg("stream"));
  m.def("cbow_ns_sgd_step", &cbow_step, release, py::arg("weights"), py::arg("batch"), py::arg("lr"),
        py::arg("exact_context_gradient"), py::arg("atomic_updates"), py::arg("loss"), py::arg("stream"));
}
