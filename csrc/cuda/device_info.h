// Device discovery for the CUDA module.
#pragma once

#include <string>

namespace w2v::cuda {

// Number of CUDA devices usable by this process; 0 when there is no GPU or driver.
int device_count();

// Why device_count() is 0: the CUDA runtime's message ("no CUDA-capable device is
// detected", "CUDA driver version is insufficient for CUDA runtime version", ...), or ""
// when devices were found.
std::string device_error();

}  // namespace w2v::cuda
