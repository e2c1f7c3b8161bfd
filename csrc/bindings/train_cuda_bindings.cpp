// Python entry point of the CUDA corpus trainer (train_common.h binds its class).
#include <pybind11/pybind11.h>

#include "bindings/train_common.h"
#include "train.h"

namespace w2v::bindings {

void bind_train_cuda(pybind11::module_& m) {
  bind_trainer<cuda::Trainer>(m, "device",
                              "The CUDA corpus trainer: copies the tables to `device` and trains them there, each "
                              "block queued while the one before trains; download() copies them back");
}

}  // namespace w2v::bindings
