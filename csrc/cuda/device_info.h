// Device discovery for the CUDA module.
#pragma once

namespace w2v::cuda {

// Number of CUDA devices usable by this process; 0 when there is no GPU or driver.
int device_count();

}  // namespace w2v::cuda
