#include "train.h"

#include <cuda_runtime.h>

#include <cstring>
#include <stdexcept>

#include "cuda/cuda_check.cuh"
#include "cuda/device_buffers.cuh"
#include "cuda/launch.cuh"
#include "cuda/padded_rows.cuh"
#include "cuda/warp_ops.cuh"
#include "w2v_math.h"

namespace w2v::cuda {

namespace {

constexpr int kTrainWarps = 4;       // warps per block, each training one sentence
constexpr int kWarpFloats = kWarp * 4;  // one float4 per lane

struct DeviceModel {
  float* input;
  float* output;
  int64_t stride;  // floats per row, a multiple of 4; columns past dim are zero
};

struct DeviceTables {
  const uint32_t* keep;  // or null
  const uint32_t* accept;
  const int32_t* alias;
  uint32_t vocab;
};

struct DeviceBlock {
  const int32_t* ids;
  const int64_t* ends;
  int64_t sentences;
  int64_t first_position;
  int32_t* kept_ids;     // per sentence, compacted at the sentence's start
  int64_t* kept_positions;
  int32_t* kept_count;   // [sentences]
  double words_done, words_total;
};

struct Accumulators {
  double* loss;
  unsigned long long* loss_terms;
  unsigned long long* words_kept;
};

// ---- subsampling and compaction: one warp per sentence --------------------------------
__global__ void compact_kernel(DeviceBlock c, DeviceTables t, uint64_t subsample_key, Accumulators acc) {
  const WarpSlot slot = warp_slot();
  if (slot.row >= c.sentences) return;
  const int64_t s = slot.row;
  const int64_t begin = s == 0 ? 0 : c.ends[s - 1], end = c.ends[s];
  int64_t out = begin;
  for (int64_t base = begin; base < end; base += kWarp) {
    const int64_t q = base + slot.lane;
    bool keep = false;
    int32_t word = 0;
    if (q < end) {
      word = c.ids[q];
      keep = t.keep == nullptr || keep_word(t.keep[word], counter_random(subsample_key, c.first_position + q));
    }
    const unsigned mask = __ballot_sync(kFullMask, keep);
    if (keep) {
      const int64_t at = out + __popc(mask & ((1u << slot.lane) - 1u));
      c.kept_ids[at] = word;
      c.kept_positions[at] = c.first_position + q;
    }
    out += __popc(mask);
  }
  if (slot.lane == 0) {
    c.kept_count[s] = static_cast<int32_t>(out - begin);
    atomicAdd(acc.words_kept, static_cast<unsigned long long>(out - begin));
  }
}

// The centre's noise words (draws equal to it skipped) into targets[1...]; returns the count.
template <int MaxTargets>
__device__ __forceinline__ int draw_targets(const DeviceTables& t, int negative, uint64_t noise_key, int64_t position,
                                            int32_t center, int32_t* targets) {
  int n = 0;
  targets[n++] = center;
  for (int k = 0; k < negative && n < MaxTargets; ++k) {
    const int32_t word = alias_draw(t.accept, t.alias, t.vocab, counter_random(noise_key, position * negative + k));
    if (word != center) targets[n++] = word;
  }
  return n;
}

// ---- training: one warp per sentence, centre after centre ------------------------------
// As a CPU thread does: the sentence's centres run in order, so only different
// sentences race (Hogwild). Skip-gram (HogBatch): the window's m input rows against the centre and its noise words
// (n targets). Pass 1 takes all m * n scores from the rows as they stand; pass 2 adds the
// steps kWarpFloats columns at a time, re-reading each row before writing it so that a row listed twice
// gets both steps.
template <int MaxInputs, int MaxTargets>
__global__ void __launch_bounds__(kTrainWarps * kWarp) train_kernel(DeviceModel m, DeviceTables t, TrainSettings s,
                                                                    DeviceBlock c, uint64_t window_key,
                                                                    uint64_t noise_key, Accumulators acc) {
  __shared__ float coefs[kTrainWarps][MaxInputs * MaxTargets];
  __shared__ int32_t input_ids[kTrainWarps][MaxInputs];
  __shared__ int32_t target_ids[kTrainWarps][MaxTargets];
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  const int64_t sentence = static_cast<int64_t>(blockIdx.x) * kTrainWarps + warp;
  if (sentence >= c.sentences) return;
  const int64_t begin = sentence == 0 ? 0 : c.ends[sentence - 1];
  const int64_t n_kept = c.kept_count[sentence];
  const float alpha = linear_learning_rate(s.alpha, s.min_alpha, c.words_done + static_cast<double>(begin), c.words_total);
  const bool cbow = s.architecture == Architecture::cbow;
  float* g = coefs[warp];
  int32_t* inputs = input_ids[warp];
  int32_t* targets = target_ids[warp];
  for (int64_t i = 0; i < n_kept; ++i) {
    const int64_t position = c.kept_positions[begin + i];
    const int32_t center = c.kept_ids[begin + i];
    const int64_t reach =
        s.shrink_windows ? s.window - bounded_random(counter_random(window_key, position), s.window) : s.window;
    const int64_t lo = max(int64_t(0), i - reach), hi = min(n_kept, i + reach + 1);
    int n_in = 0;
    for (int64_t j = lo; j < hi && n_in < MaxInputs; ++j)
      if (j != i) inputs[n_in++] = c.kept_ids[begin + j];
    if (n_in == 0) continue;  // uniform across the warp
    const int n_t = draw_targets<MaxTargets>(t, s.negative, noise_key, position, center, targets);
    __syncwarp();
    // CBOW scores one averaged input; skip-gram each of the n_in inputs.
    const int n_rows = cbow ? 1 : n_in;
    const float mean = (cbow && s.cbow_mean) ? 1.0f / static_cast<float>(n_in) : 1.0f;
    for (int j = 0; j < n_rows; ++j) {
      float part[MaxTargets];
#pragma unroll
      for (int k = 0; k < MaxTargets; ++k) part[k] = 0.f;
      for (int64_t off = lane * 4; off < m.stride; off += kWarpFloats) {
        float4 x = zero4();
        if (cbow) {
          for (int q = 0; q < n_in; ++q) x = fma4(mean, load4(m.input + inputs[q] * m.stride, off, m.stride), x);
        } else {
          x = load4(m.input + inputs[j] * m.stride, off, m.stride);
        }
#pragma unroll
        for (int k = 0; k < MaxTargets; ++k)
          if (k < n_t) part[k] += dot4(x, load4(m.output + targets[k] * m.stride, off, m.stride));
      }
#pragma unroll
      for (int k = 0; k < MaxTargets; ++k) {
        if (k >= n_t) break;
        const float score = warp_sum(part[k]);
        if (lane == 0) g[j * MaxTargets + k] = score;
      }
    }
    __syncwarp();
    const bool want_loss = s.loss_every > 0 && position % s.loss_every == 0;
    float loss = 0.f;
    for (int k = lane; k < n_rows * MaxTargets; k += kWarp) {
      const int target = k % MaxTargets;
      if (target >= n_t) continue;
      const float score = g[k];
      if (want_loss) loss += bce_with_logits(score, target == 0);
      g[k] = alpha * ((target == 0 ? 1.0f : 0.0f) - quantised_sigmoid(score));
    }
    if (want_loss) {
      loss = warp_sum(loss);
      if (lane == 0) {
        atomicAdd(acc.loss, static_cast<double>(loss));
        atomicAdd(acc.loss_terms, static_cast<unsigned long long>(n_rows * n_t));
      }
    }
    __syncwarp();
    for (int64_t off = lane * 4; off < m.stride; off += kWarpFloats) {
      float4 old_out[MaxTargets], step_out[MaxTargets];
#pragma unroll
      for (int k = 0; k < MaxTargets; ++k) {
        old_out[k] = k < n_t ? load4(m.output + targets[k] * m.stride, off, m.stride) : zero4();
        step_out[k] = zero4();
      }
      if (cbow) {
        float4 h = zero4(), step_h = zero4();
        for (int q = 0; q < n_in; ++q) h = fma4(mean, load4(m.input + inputs[q] * m.stride, off, m.stride), h);
#pragma unroll
        for (int k = 0; k < MaxTargets; ++k)
          if (k < n_t) step_h = fma4(g[k], old_out[k], step_h), step_out[k] = fma4(g[k], h, step_out[k]);
        for (int q = 0; q < n_in; ++q) {  // word2vec.c: every context row takes h's whole step
          float* row = m.input + inputs[q] * m.stride;
          store4(row, off, m.stride, add4(load4(row, off, m.stride), step_h));
        }
      } else {
        for (int j = 0; j < n_in; ++j) {
          const float4 x = load4(m.input + inputs[j] * m.stride, off, m.stride);
#pragma unroll
          for (int k = 0; k < MaxTargets; ++k)
            if (k < n_t) step_out[k] = fma4(g[j * MaxTargets + k], x, step_out[k]);
        }
        for (int j = 0; j < n_in; ++j) {
          float* row = m.input + inputs[j] * m.stride;
          float4 v = load4(row, off, m.stride);
#pragma unroll
          for (int k = 0; k < MaxTargets; ++k)
            if (k < n_t) v = fma4(g[j * MaxTargets + k], old_out[k], v);
          store4(row, off, m.stride, v);
        }
      }
#pragma unroll
      for (int k = 0; k < MaxTargets; ++k) {
        if (k >= n_t) break;
        float* row = m.output + targets[k] * m.stride;
        store4(row, off, m.stride, add4(load4(row, off, m.stride), step_out[k]));
      }
    }
    __syncwarp();
  }
}

using TrainKernel = void (*)(DeviceModel, DeviceTables, TrainSettings, DeviceBlock, uint64_t, uint64_t, Accumulators);

// The smallest instantiation whose register arrays hold the window and the targets.
TrainKernel pick_kernel(int window, int negative) {
  const int inputs = 2 * window, targets = 1 + negative;
  if (inputs <= 10 && targets <= 6) return train_kernel<10, 6>;
  if (inputs <= 16 && targets <= 11) return train_kernel<16, 11>;
  if (inputs <= 32 && targets <= 16) return train_kernel<32, 16>;
  if (inputs <= 64 && targets <= 26) return train_kernel<64, 26>;
  throw std::invalid_argument("the CUDA trainer supports window <= 32 and negative <= 25");
}

// One block's sums, as the kernels add them up on the device and as they are copied back.
struct SlotStats {
  double loss;
  unsigned long long loss_terms, words_kept;
};

// One block's buffers: pinned host staging, device copies, compaction output and its
// own sums. Two of them alternate, so block k+1 is copied in and launched while block k
// trains, and block k's sums are read after block k+1 is launched.
struct BlockSlot {
  PinnedBuffer<int32_t> host_ids;
  PinnedBuffer<int64_t> host_ends;
  DeviceBuffer<int32_t> ids, kept_ids, kept_count;
  DeviceBuffer<int64_t> ends, kept_positions;
  DeviceBuffer<SlotStats> stats;
  PinnedBuffer<SlotStats> host_stats;   // written when `trained` fires
  bool uncollected = false;
  cudaEvent_t copied = nullptr, trained = nullptr;
};

}  // namespace

struct Trainer::Impl {
  int device;
  int64_t vocab, dim, stride;
  TrainSettings settings;
  TrainKernel kernel;
  cudaStream_t compute = nullptr, copy = nullptr;
  DeviceBuffer<float> input, output;
  DeviceBuffer<uint32_t> keep, accept;
  DeviceBuffer<int32_t> alias;
  bool subsample = false;
  BlockSlot slots[2];
  int next = 0;
  // sums of blocks whose slot was reused before they were collected, and the rate reached
  BlockStats carried{0, 0, 0, 0.f};

  void select() const { W2V_CUDA_CHECK(cudaSetDevice(device)); }

  // Waits for the slot's block and moves its sums into `carried`.
  void take(BlockSlot& slot) {
    W2V_CUDA_CHECK(cudaEventSynchronize(slot.trained));
    carried.loss += slot.host_stats.data->loss;
    carried.loss_terms += static_cast<int64_t>(slot.host_stats.data->loss_terms);
    carried.words_kept += static_cast<int64_t>(slot.host_stats.data->words_kept);
    slot.uncollected = false;
  }
};

Trainer::Trainer(const TrainModel& model, const SamplingTables& tables, const TrainSettings& settings, int device)
    : impl_(new Impl) {
  Impl& d = *impl_;
  try {
    d.device = device;
    d.vocab = model.vocab;
    d.dim = model.dim;
    d.stride = (model.dim + 3) / 4 * 4;
    d.settings = settings;
    d.carried.alpha = settings.alpha;
    d.kernel = pick_kernel(settings.window, settings.negative);
    d.select();
    W2V_CUDA_CHECK(cudaStreamCreateWithFlags(&d.compute, cudaStreamNonBlocking));
    W2V_CUDA_CHECK(cudaStreamCreateWithFlags(&d.copy, cudaStreamNonBlocking));
    for (BlockSlot& slot : d.slots) {
      W2V_CUDA_CHECK(cudaEventCreateWithFlags(&slot.copied, cudaEventDisableTiming));
      W2V_CUDA_CHECK(cudaEventCreateWithFlags(&slot.trained, cudaEventDisableTiming));
    }
    // Every copy and memset goes on the compute stream: the streams are non-blocking, so
    // work on the legacy default stream would not be ordered before the kernels.
    const size_t table_bytes = d.vocab * d.stride * sizeof(float);
    d.input.reserve(d.vocab * d.stride);
    d.output.reserve(d.vocab * d.stride);
    W2V_CUDA_CHECK(cudaMemsetAsync(d.input.data, 0, table_bytes, d.compute));   // the padding columns
    W2V_CUDA_CHECK(cudaMemsetAsync(d.output.data, 0, table_bytes, d.compute));
    d.subsample = tables.keep_threshold != nullptr;
    if (d.subsample) {
      d.keep.reserve(d.vocab);
      W2V_CUDA_CHECK(cudaMemcpyAsync(d.keep.data, tables.keep_threshold, d.vocab * sizeof(uint32_t),
                                     cudaMemcpyHostToDevice, d.compute));
    }
    d.accept.reserve(d.vocab);
    d.alias.reserve(d.vocab);
    W2V_CUDA_CHECK(cudaMemcpyAsync(d.accept.data, tables.noise_accept, d.vocab * sizeof(uint32_t),
                                   cudaMemcpyHostToDevice, d.compute));
    W2V_CUDA_CHECK(cudaMemcpyAsync(d.alias.data, tables.noise_alias, d.vocab * sizeof(int32_t),
                                   cudaMemcpyHostToDevice, d.compute));
    for (BlockSlot& slot : d.slots) {
      slot.stats.reserve(1);
      slot.host_stats.reserve(1);
    }
    upload(model.input, model.output, model.stride);   // waits: the caller's host arrays may go after this
  } catch (...) {
    delete impl_;
    throw;
  }
}

Trainer::~Trainer() {
  if (!impl_) return;
  cudaSetDevice(impl_->device);
  cudaDeviceSynchronize();
  for (BlockSlot& slot : impl_->slots) {
    if (slot.copied) cudaEventDestroy(slot.copied);
    if (slot.trained) cudaEventDestroy(slot.trained);
  }
  if (impl_->compute) cudaStreamDestroy(impl_->compute);
  if (impl_->copy) cudaStreamDestroy(impl_->copy);
  delete impl_;
}

void Trainer::train_block(const TrainBlock& block) {
  Impl& d = *impl_;
  d.select();
  if (block.sentences == 0) return;
  BlockSlot& slot = d.slots[d.next];
  d.next ^= 1;
  // The slot's last block must be done training before its buffers are reused (and its
  // sums kept, if nobody collected them).
  if (slot.uncollected) d.take(slot);
  W2V_CUDA_CHECK(cudaEventSynchronize(slot.trained));
  const int64_t words = block.words;
  slot.host_ids.reserve(words);
  slot.host_ends.reserve(block.sentences);
  slot.ids.reserve(words);
  slot.kept_ids.reserve(words);
  slot.kept_positions.reserve(words);
  slot.ends.reserve(block.sentences);
  slot.kept_count.reserve(block.sentences);
  std::memcpy(slot.host_ids.data, block.ids, words * sizeof(int32_t));
  std::memcpy(slot.host_ends.data, block.sentence_ends, block.sentences * sizeof(int64_t));
  W2V_CUDA_CHECK(cudaMemcpyAsync(slot.ids.data, slot.host_ids.data, words * sizeof(int32_t), cudaMemcpyHostToDevice,
                                 d.copy));
  W2V_CUDA_CHECK(cudaMemcpyAsync(slot.ends.data, slot.host_ends.data, block.sentences * sizeof(int64_t),
                                 cudaMemcpyHostToDevice, d.copy));
  W2V_CUDA_CHECK(cudaEventRecord(slot.copied, d.copy));
  W2V_CUDA_CHECK(cudaStreamWaitEvent(d.compute, slot.copied, 0));

  const DeviceModel model{d.input.data, d.output.data, d.stride};
  const DeviceTables tables{d.subsample ? d.keep.data : nullptr, d.accept.data, d.alias.data,
                            static_cast<uint32_t>(d.vocab)};
  const DeviceBlock c{slot.ids.data, slot.ends.data, block.sentences, block.first_position, slot.kept_ids.data,
                      slot.kept_positions.data, slot.kept_count.data, block.words_done, block.words_total};
  SlotStats* sums = slot.stats.data;
  const Accumulators acc{&sums->loss, &sums->loss_terms, &sums->words_kept};
  W2V_CUDA_CHECK(cudaMemsetAsync(sums, 0, sizeof(SlotStats), d.compute));
  const uint64_t subsample_key = stream_key(d.settings.seed, block.epoch, 1);
  const uint64_t window_key = stream_key(d.settings.seed, block.epoch, 2);
  const uint64_t noise_key = stream_key(d.settings.seed, block.epoch, 3);
  W2V_LAUNCH(compact_kernel, blocks_for_rows(block.sentences, kWarpsPerBlock), kWarpsPerBlock * kWarp, 0, d.compute)(
      c, tables, subsample_key, acc);
  check_launch("compact_kernel");
  W2V_LAUNCH(d.kernel, blocks_for_rows(block.sentences, kTrainWarps), kTrainWarps * kWarp, 0, d.compute)(
      model, tables, d.settings, c, window_key, noise_key, acc);
  check_launch("train_kernel");
  W2V_CUDA_CHECK(cudaMemcpyAsync(slot.host_stats.data, sums, sizeof(SlotStats), cudaMemcpyDeviceToHost, d.compute));
  W2V_CUDA_CHECK(cudaEventRecord(slot.trained, d.compute));
  slot.uncollected = true;
  d.carried.alpha = sentence_alpha(d.settings, block, block.sentences - 1);
}

BlockStats Trainer::collect(bool keep_last) {
  Impl& d = *impl_;
  d.select();
  BlockSlot& last = d.slots[d.next ^ 1];   // the slot of the block queued last
  BlockSlot& before = d.slots[d.next];
  if (before.uncollected) d.take(before);
  if (last.uncollected && !keep_last) d.take(last);
  const BlockStats out = d.carried;
  d.carried = BlockStats{0, 0, 0, out.alpha};
  return out;
}

void Trainer::download(float* input, float* output, int64_t stride) {
  Impl& d = *impl_;
  d.select();
  W2V_CUDA_CHECK(cudaMemcpy2DAsync(input, stride * sizeof(float), d.input.data, d.stride * sizeof(float),
                                   d.dim * sizeof(float), d.vocab, cudaMemcpyDeviceToHost, d.compute));
  W2V_CUDA_CHECK(cudaMemcpy2DAsync(output, stride * sizeof(float), d.output.data, d.stride * sizeof(float),
                                   d.dim * sizeof(float), d.vocab, cudaMemcpyDeviceToHost, d.compute));
  W2V_CUDA_CHECK(cudaStreamSynchronize(d.compute));
}

void Trainer::upload(const float* input, const float* output, int64_t stride) {
  Impl& d = *impl_;
  d.select();
  W2V_CUDA_CHECK(cudaMemcpy2DAsync(d.input.data, d.stride * sizeof(float), input, stride * sizeof(float),
                                   d.dim * sizeof(float), d.vocab, cudaMemcpyHostToDevice, d.compute));
  W2V_CUDA_CHECK(cudaMemcpy2DAsync(d.output.data, d.stride * sizeof(float), output, stride * sizeof(float),
                                   d.dim * sizeof(float), d.vocab, cudaMemcpyHostToDevice, d.compute));
  W2V_CUDA_CHECK(cudaStreamSynchronize(d.compute));
}

int64_t Trainer::vocab() const { return impl_->vocab; }
int64_t Trainer::dim() const { return impl_->dim; }

}  // namespace w2v::cuda
