# The CUDA extension module, included by the top-level CMakeLists.txt when a CUDA
# compiler is found. It never depends on the CPU module, and it builds (and imports)
# on machines with nvcc but no GPU: calls then raise a clear "no CUDA device" error.
# Chosen before enable_language(CUDA), which would otherwise pick the compiler's default.
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES OR CMAKE_CUDA_ARCHITECTURES STREQUAL "")
  if(DEFINED ENV{W2V_CUDA_ARCHS})
    set(CMAKE_CUDA_ARCHITECTURES "$ENV{W2V_CUDA_ARCHS}")
  else()
    # Ampere, Ada and Hopper, plus PTX for newer GPUs.
    set(CMAKE_CUDA_ARCHITECTURES "80-real;86-real;89-real;90-real;90-virtual")
  endif()
endif()
enable_language(CUDA)
find_package(CUDAToolkit REQUIRED)
set(CMAKE_CUDA_STANDARD 17)
set(CMAKE_CUDA_STANDARD_REQUIRED ON)

file(GLOB W2V_CUDA_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/csrc/cuda/*.cu)
pybind11_add_module(_w2v_cuda MODULE csrc/bindings/cuda_module.cpp csrc/bindings/train_cuda_bindings.cpp
                    ${W2V_CUDA_SOURCES})
target_include_directories(_w2v_cuda PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/csrc)
target_link_libraries(_w2v_cuda PRIVATE CUDA::cudart_static)
target_compile_options(_w2v_cuda PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-O3 -lineinfo>)
install(TARGETS _w2v_cuda DESTINATION w2v_ext)
message(STATUS "w2v_ext: building the CUDA module for architectures ${CMAKE_CUDA_ARCHITECTURES}")
