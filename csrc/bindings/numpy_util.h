// Small helpers between pybind11 numpy arrays and the kernels' raw pointers.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace w2v::bindings {

// A numpy array that takes over a vector's storage (no copy).
template <typename T>
pybind11::array_t<T> to_numpy(std::vector<T>&& values) {
  auto* owned = new std::vector<T>(std::move(values));
  pybind11::capsule free_when_done(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return pybind11::array_t<T>({static_cast<pybind11::ssize_t>(owned->size())}, {sizeof(T)}, owned->data(),
                              free_when_done);
}

// The data of a C-contiguous array of T with `ndim` dims (rows may be strided for 2-D);
// raises ValueError naming `name` otherwise.
template <typename T>
T* array_data(const pybind11::array& a, const char* name, int ndim, bool writable = false) {
  if (!pybind11::isinstance<pybind11::array_t<T>>(a) || a.dtype().kind() != pybind11::dtype::of<T>().kind() ||
      a.itemsize() != sizeof(T))
    throw std::invalid_argument(std::string(name) + " has the wrong dtype (" + std::string(pybind11::str(a.dtype())) + ")");
  if (a.ndim() != ndim) throw std::invalid_argument(std::string(name) + " must be " + std::to_string(ndim) + "-D");
  if (a.strides(ndim - 1) != static_cast<pybind11::ssize_t>(sizeof(T)) && a.shape(ndim - 1) > 1)
    throw std::invalid_argument(std::string(name) + " must have unit stride along its last dim");
  if (writable && !a.writeable()) throw std::invalid_argument(std::string(name) + " must be writable");
  return static_cast<T*>(const_cast<void*>(a.data()));
}

}  // namespace w2v::bindings
