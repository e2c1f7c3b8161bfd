// Stands in for the CUDA toolkit's cuda_runtime.h when the .cu files are compiled as C++
// for the emulated module (this directory comes first on its include path).
#pragma once

#include "cuda/emulation/cuda_on_cpu.h"
