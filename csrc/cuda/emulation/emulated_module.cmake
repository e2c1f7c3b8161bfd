# The CUDA module's sources compiled as C++ and run on the CPU (cuda_on_cpu.h), for the
# tests: _w2v_cuda_emulated, and _w2v_cuda_emulated_sanitized, the same built with
# AddressSanitizer and UndefinedBehaviorSanitizer (W2V_CUDA_EMULATION_SANITIZERS). Included by
# the top-level CMakeLists.txt when W2V_CUDA_EMULATION is ON; needs no CUDA toolkit.
set(W2V_EMULATION_DIR ${CMAKE_CURRENT_SOURCE_DIR}/csrc/cuda/emulation)
file(GLOB W2V_EMULATED_KERNELS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/csrc/cuda/*.cu)
list(APPEND W2V_EMULATED_KERNELS ${W2V_EMULATION_DIR}/selftest_kernels.cu)

# A source file has one language in CMake, and the CUDA module compiles the .cu files
# with nvcc: here each one is compiled through a .cpp that includes it.
set(W2V_EMULATED_WRAPPERS)
foreach(cu ${W2V_EMULATED_KERNELS})
  get_filename_component(name ${cu} NAME_WE)
  set(wrapper ${CMAKE_CURRENT_BINARY_DIR}/emulated/${name}.cpp)
  file(CONFIGURE OUTPUT ${wrapper} CONTENT "#include \"${cu}\"\n")
  list(APPEND W2V_EMULATED_WRAPPERS ${wrapper})
endforeach()
set_source_files_properties(${W2V_EMULATED_WRAPPERS} PROPERTIES
                            COMPILE_OPTIONS "-include;${W2V_EMULATION_DIR}/cuda_on_cpu.h")

function(w2v_add_emulated_module name)
  # NO_EXTRAS: no link-time optimisation (a faster build) and no stripping (symbols for the sanitizers' reports)
  pybind11_add_module(${name} MODULE NO_EXTRAS csrc/bindings/cuda_module.cpp csrc/bindings/train_cuda_bindings.cpp
                      csrc/bindings/emulation_selftest.cpp
                      ${W2V_EMULATED_WRAPPERS} ${W2V_EMULATION_DIR}/fiber.cpp ${W2V_EMULATION_DIR}/grid_runner.cpp
                      ${W2V_EMULATION_DIR}/runtime_api.cpp ${W2V_EMULATION_DIR}/shared_memory.cpp)
  # before csrc: its cuda_runtime.h stands in for the toolkit's
  target_include_directories(${name} BEFORE PRIVATE ${W2V_EMULATION_DIR}/include)
  target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/csrc)
  target_compile_definitions(${name} PRIVATE W2V_CUDA_EMULATION=1 W2V_CUDA_MODULE_NAME=${name})
  # CUDA code reads float rows as float4: no type-based alias analysis
  # -Wno-subobject-linkage: the .cu files are included, not main files, for GCC
  target_compile_options(${name} PRIVATE -fno-strict-aliasing -Wall -Wextra -Wno-unused-parameter
                         -Wno-unknown-pragmas -Wno-subobject-linkage)
  install(TARGETS ${name} DESTINATION w2v_ext)
endfunction()

w2v_add_emulated_module(_w2v_cuda_emulated)
target_compile_options(_w2v_cuda_emulated PRIVATE -O2)

option(W2V_CUDA_EMULATION_SANITIZERS "Also build the emulated module with ASan and UBSan" ON)
if(W2V_CUDA_EMULATION_SANITIZERS)
  w2v_add_emulated_module(_w2v_cuda_emulated_sanitized)
  # every finding aborts; frame pointers for the reports' stack traces
  set(W2V_SANITIZE -fsanitize=address,undefined -fno-sanitize-recover=all)
  target_compile_options(_w2v_cuda_emulated_sanitized PRIVATE ${W2V_SANITIZE} -fno-omit-frame-pointer -O1 -g)
  target_link_options(_w2v_cuda_emulated_sanitized PRIVATE ${W2V_SANITIZE})
endif()
message(STATUS "w2v_ext: building the CUDA kernels emulated on the CPU (sanitized twin: ${W2V_CUDA_EMULATION_SANITIZERS})")
