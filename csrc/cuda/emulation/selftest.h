// Kernels that check the CPU emulation itself (tests/test_cuda_emulation.py): what each
// thread sees from the built-in variables, shuffles, votes, barriers, shared memory and
// atomics, and the faults the emulation must stop at (cases named bad_*, which abort
// the process with a message).
#pragma once

#include <string>
#include <vector>

namespace w2v_emu::selftest {

// The case's outputs, as written by its threads (see selftest_kernels.cu).
std::vector<long long> run(const std::string& name);

std::vector<std::string> names();

}  // namespace w2v_emu::selftest
