//===- kiln/Random.h - Seeded, portable random numbers ----------*- C++ -*-===//
//
// Training must be reproducible from a seed on every machine and standard
// library: the same --seed gives the same initial weights and the same
// shuffled batches. The C++ standard fixes the output of std::mt19937_64 for
// a given seed, but not std::uniform_real_distribution, std::normal_
// distribution or std::shuffle (libstdc++ and libc++ differ), so Kiln draws
// raw 64-bit words from mt19937_64 and applies its own, documented
// transforms:
//
//   uniform()  = (word >> 11) · 2⁻⁵³                        in [0, 1)
//   normal()   = Box–Muller on (1 − uniform(), uniform()); both values of a
//                pair are used, the cosine one first
//   below(n)   = rejection sampling on the low bits: unbiased in [0, n)
//   shuffle(v) = Fisher–Yates from the back: swap v[i] with v[below(i + 1)]
//
// Header-only, so that the runtime (data iterators) and lib/Train
// (initializers) share it without a library dependency.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RANDOM_H
#define KILN_RANDOM_H

#include <cmath>
#include <cstdint>
#include <random>
#include <string_view>
#include <utility>
#include <vector>

namespace kiln {

class Random {
public:
  explicit Random(uint64_t seed) : engine(seed) {}

  uint64_t nextU64() { return engine(); }

  /// Uniform in [0, 1), 53 random bits.
  double uniform() { return static_cast<double>(engine() >> 11) * 0x1.0p-53; }

  /// Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

  /// Standard normal (mean 0, variance 1).
  double normal() {
    if (hasSpare) {
      hasSpare = false;
      return spare;
    }
    // 1 − u is in (0, 1], so the logarithm is finite.
    double u1 = 1.0 - uniform(), u2 = uniform();
    double r = std::sqrt(-2.0 * std::log(u1));
    double theta = 2.0 * 3.14159265358979323846 * u2;
    spare = r * std::sin(theta);
    hasSpare = true;
    return r * std::cos(theta);
  }

  /// Uniform integer in [0, n); n must be positive.
  uint64_t below(uint64_t n) {
    // Reject the top partial copy of [0, n) so every value is equally likely.
    uint64_t limit = -n % n; // = 2^64 mod n
    while (true) {
      uint64_t x = engine();
      if (x >= limit)
        return x % n;
    }
  }

  template <typename T> void shuffle(std::vector<T> &v) {
    for (size_t i = v.size(); i > 1; --i)
      std::swap(v[i - 1], v[below(i)]);
  }

  /// SplitMix64 of seed ⊕ salt·golden: derives independent, well-mixed seeds
  /// for sub-streams (one per parameter, one per epoch) from one user seed.
  static uint64_t mix(uint64_t seed, uint64_t salt) {
    uint64_t z = seed + 0x9E3779B97F4A7C15ull * (salt + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  /// FNV-1a of a name, to salt a stream by parameter name.
  static uint64_t hash(std::string_view s) {
    uint64_t h = 0xCBF29CE484222325ull;
    for (unsigned char c : s)
      h = (h ^ c) * 0x100000001B3ull;
    return h;
  }

private:
  std::mt19937_64 engine;
  bool hasSpare = false;
  double spare = 0;
};

} // namespace kiln

#endif // KILN_RANDOM_H
