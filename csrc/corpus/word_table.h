// An open-addressing hash table from byte strings to dense ids 0..size-1 (in insertion
// order), with the bytes kept in one arena. The corpus counter and encoder share it.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace w2v::corpus {

// 64-bit hash of a short byte string, 8 bytes per multiply.
inline uint64_t hash_bytes(const char* p, size_t n) {
  constexpr uint64_t kMul = 0x9e3779b97f4a7c15ULL;
  uint64_t h = 0x243f6a8885a308d3ULL ^ (n * 0xff51afd7ed558ccdULL);
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    h = (h ^ v) * kMul;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    uint64_t v = 0;
    std::memcpy(&v, p, n);
    h = (h ^ v) * kMul;
  }
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93ULL;
  return h ^ (h >> 32);
}

class WordTable {
 public:
  WordTable() { rehash(1024); }

  int64_t size() const { return static_cast<int64_t>(offsets_.size()); }
  std::string_view word(int64_t id) const { return {arena_.data() + offsets_[id], lengths_[id]}; }

  // The id of `word`, or -1.
  int32_t find(std::string_view word) const { return find(word, hash_bytes(word.data(), word.size())); }

  int32_t find(std::string_view word, uint64_t h) const {
    const uint32_t tag = static_cast<uint32_t>(h >> 32);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.id < 0) return -1;
      if (s.tag == tag && equals(s.id, word)) return s.id;
    }
  }

  // The id of `word`, inserted (with the next id) if absent.
  int32_t insert(std::string_view word) { return insert(word, hash_bytes(word.data(), word.size())); }

  int32_t insert(std::string_view word, uint64_t h) {
    const uint32_t tag = static_cast<uint32_t>(h >> 32);
    size_t i = h & mask_;
    for (;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.id < 0) break;
      if (s.tag == tag && equals(s.id, word)) return s.id;
    }
    const int32_t id = static_cast<int32_t>(offsets_.size());
    offsets_.push_back(arena_.size());
    lengths_.push_back(static_cast<uint32_t>(word.size()));
    hashes_.push_back(h);
    arena_.append(word.data(), word.size());
    slots_[i] = {tag, id};
    if (2 * offsets_.size() > slots_.size()) rehash(2 * slots_.size());
    return id;
  }

  uint64_t hash_of(int64_t id) const { return hashes_[id]; }

  void reserve(size_t words) {
    if (2 * words > slots_.size()) {
      size_t n = slots_.size();
      while (2 * words > n) n *= 2;
      rehash(n);
    }
  }

 private:
  struct Slot {
    uint32_t tag;  // high hash bits: most mismatches end here, without touching the arena
    int32_t id;    // -1: empty
  };

  bool equals(int32_t id, std::string_view word) const {
    return lengths_[id] == word.size() && std::memcmp(arena_.data() + offsets_[id], word.data(), word.size()) == 0;
  }

  void rehash(size_t n) {
    slots_.assign(n, Slot{0, -1});
    mask_ = n - 1;
    for (size_t id = 0; id < offsets_.size(); ++id) {
      size_t i = hashes_[id] & mask_;
      while (slots_[i].id >= 0) i = (i + 1) & mask_;
      slots_[i] = {static_cast<uint32_t>(hashes_[id] >> 32), static_cast<int32_t>(id)};
    }
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  std::vector<uint64_t> offsets_;
  std::vector<uint32_t> lengths_;
  std::vector<uint64_t> hashes_;
  std::string arena_;
};

}  // namespace w2v::corpus
