// Runs a kernel launch on the CPU: the blocks one after another on the launching OS
// thread, each CUDA thread of a block a fiber. A fiber runs until it reaches a barrier
// or a warp collective, or returns; then the next runnable fiber of the block runs.
// Barriers and collectives are checked as they are reached (see cuda_on_cpu.h).
#include <signal.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cuda/emulation/cuda_on_cpu.h"
#include "cuda/emulation/fiber.h"
#include "cuda/emulation/sanitizers.h"
#include "cuda/emulation/shared_memory.h"

#if defined(W2V_EMU_SANITIZERS)
#include <dlfcn.h>
#include <link.h>
#endif

namespace w2v_emu {

namespace {

constexpr int kWarp = 32;
constexpr unsigned long long kMaxThreadsPerBlock = 1024;
constexpr unsigned kMaxBlockDim[3] = {1024, 1024, 64};
constexpr unsigned long long kMaxGridDim[3] = {2147483647ull, 65535, 65535};
constexpr size_t kMaxDynamicShared = 48 * 1024;
constexpr size_t kFiberStackBytes = 256 * 1024;

enum class State : unsigned char { runnable, at_collective, at_syncthreads, exited };

struct Engine;

struct Lane {
  explicit Lane(Engine* e);
  Fiber fiber;
  Engine* engine;
  int warp = 0, lane = 0;
  uint3 thread_idx{0, 0, 0};
  State state = State::runnable;
  // the collective this lane waits in
  Collective kind = Collective::syncwarp;
  unsigned mask = 0;
  uint64_t value = 0;
  int arg = 0, width = kWarp;
  uint64_t result = 0;
};

struct Warp {
  unsigned present = 0;  // lanes that exist (fewer in a partial warp)
  unsigned exited = 0;
  unsigned waiting = 0;  // lanes waiting in a collective
  unsigned at_sync = 0;  // lanes waiting at __syncthreads
  Lane* lanes[kWarp] = {};
};

struct Launch {
  const KernelSite* site;
  dim3 grid, block;
  void (*body)(void*);
  void* context;
};

// One per OS thread that launches kernels; launches are serialised process-wide, so
// one engine runs at a time (static __shared__ arrays are shared by all).
struct Engine {
  Fiber host;
  std::vector<std::unique_ptr<Lane>> lanes;
  std::vector<Warp> warps;
  std::vector<Lane*> queue;  // ring buffer of runnable lanes, a power of two long
  size_t head = 0, count = 0;
  Lane* current = nullptr;
  const Launch* launch = nullptr;
  uint3 block_idx{0, 0, 0};
  unsigned long long block_linear = 0;
  int threads = 0, exited = 0, at_syncthreads = 0;
  SharedMemory shared;

  void push(Lane* lane) { queue[(head + count++) & (queue.size() - 1)] = lane; }
  Lane* pop() {
    if (count == 0) return nullptr;
    Lane* lane = queue[head];
    head = (head + 1) & (queue.size() - 1);
    --count;
    return lane;
  }
  // Lane 31 first in even warps of even blocks, lane 0 first in odd ones, and so on.
  bool descending(int warp) const { return ((static_cast<unsigned long long>(warp) + block_linear) & 1) == 0; }
  void push_lanes(const Warp& w, int warp, unsigned mask) {
    for (int k = 0; k < kWarp; ++k) {
      const int l = descending(warp) ? kWarp - 1 - k : k;
      if ((mask >> l) & 1u) {
        w.lanes[l]->state = State::runnable;
        push(w.lanes[l]);
      }
    }
  }
  void push_all() {
    for (size_t k = 0; k < warps.size(); ++k) {
      const int warp = (block_linear & 1) ? static_cast<int>(warps.size() - 1 - k) : static_cast<int>(k);
      push_lanes(warps[warp], warp, warps[warp].present);
    }
  }
  // Called by a lane that blocked, exited or was queued again: runs the next lane in line.
  void run_next(Lane* self) {
    Lane* next = pop();
    if (next == self) return;
    current = next;
    Fiber::switch_to(self->fiber, next ? next->fiber : host);
  }
  void prepare(const Launch& l, size_t shared_bytes);
  void run_block(uint3 block, unsigned long long linear);
};

thread_local std::unique_ptr<Engine> t_engine;
thread_local Engine* t_running = nullptr;  // the engine running a launch on this thread
std::mutex g_launch_mutex;

// ---- reports -----------------------------------------------------------------------

const char* collective_name(Collective kind) {
  switch (kind) {
    case Collective::syncwarp: return "__syncwarp";
    case Collective::shfl: return "__shfl_sync";
    case Collective::shfl_up: return "__shfl_up_sync";
    case Collective::shfl_down: return "__shfl_down_sync";
    case Collective::shfl_xor: return "__shfl_xor_sync";
    case Collective::ballot: return "__ballot_sync";
    case Collective::any: return "__any_sync";
    case Collective::all: return "__all_sync";
  }
  return "?";
}

std::string lane_list(unsigned mask) {
  std::string out;
  for (int l = 0; l < kWarp; ++l) {
    if (!((mask >> l) & 1u)) continue;
    int last = l;
    while (last + 1 < kWarp && ((mask >> (last + 1)) & 1u)) ++last;
    if (!out.empty()) out += ",";
    out += std::to_string(l);
    if (last > l) out += "-" + std::to_string(last);
    l = last;
  }
  return out;
}

// "kernel K (file:line) [with ...], block (x,y,z), thread (x,y,z) (warp w, lane l)"
std::string context_text() {
  Engine* e = t_running;
  if (!e || !e->launch) return "outside any kernel";
  const KernelSite& s = *e->launch->site;
  std::string text = std::string("kernel ") + s.expression + " (" + s.file + ":" + std::to_string(s.line) + ")";
  // the kernel's parameter types, from kernel_launch's "[with Params = {...}; ...]"
  if (const char* params = std::strstr(s.signature, "Params = {")) {
    const char* end = std::strchr(params, '}');
    if (end) text += " [" + std::string(params, end + 1) + "]";
  }
  char where[160];
  std::snprintf(where, sizeof(where), ", block (%u,%u,%u)", e->block_idx.x, e->block_idx.y, e->block_idx.z);
  text += where;
  if (Lane* l = e->current) {
    std::snprintf(where, sizeof(where), ", thread (%u,%u,%u) (warp %d, lane %d)", l->thread_idx.x, l->thread_idx.y,
                  l->thread_idx.z, l->warp, l->lane);
    text += where;
  }
  return text;
}

[[noreturn]] void fail(const char* format, ...) {
  char message[1024];
  va_list args;
  va_start(args, format);
  std::vsnprintf(message, sizeof(message), format, args);
  va_end(args);
  kernel_error(message);
}

[[noreturn]] void launch_failure(const KernelSite& site, const char* format, ...) {
  char message[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(message, sizeof(message), format, args);
  va_end(args);
  std::fprintf(stderr, "w2v_ext CUDA emulation: launch of kernel %s (%s:%d): %s\n", site.expression, site.file,
               site.line, message);
  std::abort();
}

Engine& running(const char* what) {
  Engine* e = t_running;
  if (!e || !e->current) {
    std::fprintf(stderr, "w2v_ext CUDA emulation: %s outside a kernel\n", what);
    std::abort();
  }
  return *e;
}

// ---- faults while a kernel runs ------------------------------------------------------

struct sigaction g_previous_segv, g_previous_bus;

void on_fault(int sig, siginfo_t* info, void* ucontext) {
  Engine* e = t_running;
  if (e && e->current) {
    const char* what = e->shared.in_guard(info->si_addr) ? "memory access past the end of dynamic shared memory"
                                                           : "memory access to an invalid address";
    const std::string where = context_text();
    char line[2048];
    const int n = std::snprintf(line, sizeof(line), "w2v_ext CUDA emulation: %s (%p) in %s\n", what,
                                info->si_addr, where.c_str());
    if (n > 0) (void)!write(STDERR_FILENO, line, static_cast<size_t>(n) < sizeof(line) ? n : sizeof(line) - 1);
  }
  const struct sigaction& previous = sig == SIGSEGV ? g_previous_segv : g_previous_bus;
  if (previous.sa_flags & SA_SIGINFO) {
    previous.sa_sigaction(sig, info, ucontext);
  } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
    previous.sa_handler(sig);
  } else {
    signal(sig, SIG_DFL);  // the faulting access runs again and ends the process
  }
}

#if defined(W2V_EMU_SANITIZERS)
void print_sanitizer_context() {
  if (t_running && t_running->current)
    std::fprintf(stderr, "w2v_ext CUDA emulation: the error above happened in %s\n", context_text().c_str());
}

// GCC links ASan and UBSan as two runtimes, each with its own death callback: both are
// told to name the kernel.
int set_death_callback(dl_phdr_info* info, size_t, void*) {
  const char* path = info->dlpi_name;
  if (!path || (!std::strstr(path, "libasan") && !std::strstr(path, "libubsan"))) return 0;
  if (void* lib = dlopen(path, RTLD_NOW | RTLD_NOLOAD)) {
    using SetCallback = void (*)(void (*)());
    if (auto set = reinterpret_cast<SetCallback>(dlsym(lib, "__sanitizer_set_death_callback")))
      set(&print_sanitizer_context);
    dlclose(lib);
  }
  return 0;
}
#endif

void install_fault_reports() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action {};
    action.sa_sigaction = &on_fault;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    sigaction(SIGSEGV, &action, &g_previous_segv);
    sigaction(SIGBUS, &action, &g_previous_bus);
#if defined(W2V_EMU_SANITIZERS)
    dl_iterate_phdr(&set_death_callback, nullptr);
#endif
  });
}

// ---- lanes -------------------------------------------------------------------------

void lane_main(void* arg) {
  auto* self = static_cast<Lane*>(arg);
  Engine& e = *self->engine;
  for (;;) {
    e.launch->body(e.launch->context);
    // The thread returned: no collective or barrier may wait for it now.
    Warp& w = e.warps[self->warp];
    const unsigned me = 1u << self->lane;
    for (unsigned waiting = w.waiting; waiting; waiting &= waiting - 1) {
      const Lane& other = *w.lanes[__builtin_ctz(waiting)];
      if (other.mask & me)
        fail("lane %d exits while lane(s) %s wait for it in %s with mask 0x%08x (a collective in a partial warp)",
             self->lane, lane_list(w.waiting & other.mask).c_str(), collective_name(other.kind), other.mask);
    }
    if (e.at_syncthreads > 0)
      fail("the thread exits while %d thread(s) of the block wait at __syncthreads: not every thread reaches it",
           e.at_syncthreads);
    self->state = State::exited;
    w.exited |= me;
    ++e.exited;
    e.run_next(self);  // returns when the lane starts its next block
  }
}

Lane::Lane(Engine* e) : fiber(kFiberStackBytes, &lane_main, this), engine(e) {}

void Engine::prepare(const Launch& l, size_t shared_bytes) {
  launch = &l;
  threads = static_cast<int>(l.block.x * l.block.y * l.block.z);
  while (static_cast<int>(lanes.size()) < threads)
    lanes.push_back(std::make_unique<Lane>(this));
  warps.assign((threads + kWarp - 1) / kWarp, Warp{});
  for (int i = 0; i < threads; ++i) {
    Lane& lane = *lanes[i];
    lane.warp = i / kWarp;
    lane.lane = i % kWarp;
    lane.thread_idx = {i % l.block.x, (i / l.block.x) % l.block.y, i / (l.block.x * l.block.y)};
    warps[lane.warp].lanes[lane.lane] = &lane;
    warps[lane.warp].present |= 1u << lane.lane;
  }
  size_t capacity = 1;
  while (capacity < static_cast<size_t>(threads)) capacity *= 2;
  queue.assign(capacity, nullptr);
  shared.reserve(shared_bytes);
}

void Engine::run_block(uint3 block, unsigned long long linear) {
  block_idx = block;
  block_linear = linear;
  exited = at_syncthreads = 0;
  for (Warp& w : warps) w.exited = w.waiting = w.at_sync = 0;
  shared.begin_block();
  head = count = 0;
  push_all();
  current = pop();
  Fiber::switch_to(host, current->fiber);
  // Back here when no lane can run: all have exited, or the block is stuck.
  if (exited != threads) {
    current = nullptr;
    std::string stuck;
    for (int i = 0; i < threads; ++i) {
      const Lane& l = *lanes[i];
      if (l.state == State::at_collective)
        stuck += " thread " + std::to_string(i) + " in " + collective_name(l.kind) + ";";
      else if (l.state == State::at_syncthreads)
        stuck += " thread " + std::to_string(i) + " at __syncthreads;";
    }
    fail("the block cannot go on:%s", stuck.c_str());
  }
  current = nullptr;
}

int source_lane(Collective kind, int lane, int arg, int width) {
  const int segment = lane & ~(width - 1);
  switch (kind) {
    case Collective::shfl: return segment + (arg & (width - 1));
    case Collective::shfl_up: return (lane - segment) >= arg ? lane - arg : lane;
    case Collective::shfl_down: return (lane - segment) + arg < width ? lane + arg : lane;
    case Collective::shfl_xor: {
      const int src = lane ^ arg;
      return src < segment + width ? src : lane;  // a later segment: the lane keeps its value
    }
    default: return lane;
  }
}

// Every lane of `mask` is waiting in the same collective: their results, and on they go.
void complete(Engine& e, Warp& w, int warp, unsigned mask) {
  const Lane& first = *w.lanes[__builtin_ctz(mask)];
  switch (first.kind) {
    case Collective::syncwarp:
      break;
    case Collective::ballot:
    case Collective::any:
    case Collective::all: {
      unsigned votes = 0;
      for (unsigned m = mask; m; m &= m - 1) votes |= (w.lanes[__builtin_ctz(m)]->value != 0 ? 1u : 0u) << __builtin_ctz(m);
      const uint64_t result = first.kind == Collective::ballot ? votes
                              : first.kind == Collective::any  ? (votes != 0)
                                                               : (votes == mask);
      for (unsigned m = mask; m; m &= m - 1) w.lanes[__builtin_ctz(m)]->result = result;
      break;
    }
    default:
      for (unsigned m = mask; m; m &= m - 1) {
        Lane& l = *w.lanes[__builtin_ctz(m)];
        const int src = source_lane(l.kind, l.lane, l.arg, l.width);
        if (src < 0 || src >= kWarp || !((mask >> src) & 1u))
          fail("in %s with mask 0x%08x lane %d reads lane %d, which is not in the mask (its value is undefined on a "
               "device)",
               collective_name(l.kind), mask, l.lane, src);
        l.result = w.lanes[src]->value;
      }
  }
  w.waiting &= ~mask;
  e.push_lanes(w, warp, mask);
}

}  // namespace

// ---- the interface of cuda_on_cpu.h ---------------------------------------------------

void kernel_error(const char* message) {
  std::fprintf(stderr, "w2v_ext CUDA emulation: %s\n  in %s\n", message, context_text().c_str());
  std::fflush(stderr);
  std::abort();
}

const uint3& thread_index() { return running("threadIdx").current->thread_idx; }
const uint3& block_index() { return running("blockIdx").block_idx; }
const dim3& block_dim() { return running("blockDim").launch->block; }
const dim3& grid_dim() { return running("gridDim").launch->grid; }
void* dynamic_shared_memory() { return running("dynamic shared memory").shared.data(); }

uint64_t warp_collective(Collective kind, unsigned mask, uint64_t value, int arg, int width) {
  Engine& e = running(collective_name(kind));
  Lane* self = e.current;
  Warp& w = e.warps[self->warp];
  const unsigned me = 1u << self->lane;
  const char* name = collective_name(kind);
  if (!(mask & me)) fail("%s with mask 0x%08x, which leaves out the calling lane %d", name, mask, self->lane);
  if (mask & ~w.present)
    fail("%s with mask 0x%08x names lane(s) %s, which this warp does not have (it has %d lanes: a partial warp)", name,
         mask, lane_list(mask & ~w.present).c_str(), __builtin_popcount(w.present));
  if (mask & w.exited)
    fail("%s with mask 0x%08x, but lane(s) %s of the mask have exited (a collective in a partial warp)", name, mask,
         lane_list(mask & w.exited).c_str());
  if (width < 1 || width > kWarp || (width & (width - 1)))
    fail("%s with width %d (a power of two up to 32)", name, width);
  // Waiting lanes that this collective names, or that wait for this lane, must be in the
  // same collective. (Any two such lanes already are: the common case is one check.)
  const Lane* first = w.waiting ? w.lanes[__builtin_ctz(w.waiting)] : nullptr;
  if (first && !(first->kind == kind && first->mask == mask && (w.waiting & ~mask) == 0)) {
    for (unsigned waiting = w.waiting; waiting; waiting &= waiting - 1) {
      const Lane& other = *w.lanes[__builtin_ctz(waiting)];
      const bool related = ((mask >> other.lane) & 1u) || (other.mask & me);
      if (related && (other.kind != kind || other.mask != mask))
        fail("lane %d reaches %s with mask 0x%08x while lane %d waits in %s with mask 0x%08x", self->lane, name,
             mask, other.lane, collective_name(other.kind), other.mask);
    }
  }
  if (mask & w.at_sync)
    fail("%s with mask 0x%08x while lane %d of the mask waits at __syncthreads", name, mask,
         __builtin_ctz(mask & w.at_sync));
  self->state = State::at_collective;
  self->kind = kind;
  self->mask = mask;
  self->value = value;
  self->arg = arg;
  self->width = width;
  w.waiting |= me;
  if ((mask & ~w.waiting) == 0) complete(e, w, self->warp, mask);
  e.run_next(self);
  return self->result;
}

void sync_block() {
  Engine& e = running("__syncthreads");
  Lane* self = e.current;
  if (e.exited > 0)
    fail("__syncthreads after %d thread(s) of the block exited: not every thread reaches it", e.exited);
  Warp& w = e.warps[self->warp];
  const unsigned me = 1u << self->lane;
  for (unsigned waiting = w.waiting; waiting; waiting &= waiting - 1) {
    const Lane& other = *w.lanes[__builtin_ctz(waiting)];
    if (other.mask & me)
      fail("__syncthreads while lane %d waits for this lane in %s with mask 0x%08x", other.lane,
           collective_name(other.kind), other.mask);
  }
  self->state = State::at_syncthreads;
  w.at_sync |= me;
  if (++e.at_syncthreads == e.threads) {
    e.at_syncthreads = 0;
    for (Warp& other : e.warps) other.at_sync = 0;
    e.push_all();
  }
  e.run_next(self);
}

void launch_grid(const KernelSite& site, dim3 grid, dim3 block, size_t dynamic_shared_bytes, cudaStream_t stream,
                 void (*thread_body)(void*), void* context) {
  if (t_running && t_running->current)
    launch_failure(site, "launched from inside a kernel (dynamic parallelism is not emulated)");
  const unsigned long long threads = 1ull * block.x * block.y * block.z;
  const unsigned block_dims[3] = {block.x, block.y, block.z};
  const unsigned long long grid_dims[3] = {grid.x, grid.y, grid.z};
  if (threads == 0 || grid.x == 0 || grid.y == 0 || grid.z == 0)
    launch_failure(site, "empty configuration grid (%u,%u,%u) block (%u,%u,%u)", grid.x, grid.y, grid.z, block.x,
                   block.y, block.z);
  if (threads > kMaxThreadsPerBlock)
    launch_failure(site, "%llu threads per block (block (%u,%u,%u)); a device allows %llu", threads, block.x, block.y,
                   block.z, kMaxThreadsPerBlock);
  for (int k = 0; k < 3; ++k) {
    if (block_dims[k] > kMaxBlockDim[k])
      launch_failure(site, "block dimension %c is %u; a device allows %u", "xyz"[k], block_dims[k], kMaxBlockDim[k]);
    if (grid_dims[k] > kMaxGridDim[k])
      launch_failure(site, "grid dimension %c is %llu; a device allows %llu", "xyz"[k], grid_dims[k], kMaxGridDim[k]);
  }
  if (dynamic_shared_bytes > kMaxDynamicShared)
    launch_failure(site, "%zu bytes of dynamic shared memory per block; a device allows %zu", dynamic_shared_bytes,
                   kMaxDynamicShared);
  if (!is_valid_stream(stream)) launch_failure(site, "on a stream that does not exist (%p)", static_cast<void*>(stream));
  install_fault_reports();

  std::lock_guard<std::mutex> lock(g_launch_mutex);
  if (!t_engine) t_engine = std::make_unique<Engine>();
  Engine& e = *t_engine;
  const Launch launch{&site, grid, block, thread_body, context};
  e.prepare(launch, dynamic_shared_bytes);
  t_running = &e;
  unsigned long long linear = 0;
  for (unsigned z = 0; z < grid.z; ++z)
    for (unsigned y = 0; y < grid.y; ++y)
      for (unsigned x = 0; x < grid.x; ++x) e.run_block({x, y, z}, linear++);
  t_running = nullptr;
  e.launch = nullptr;
}

}  // namespace w2v_emu
