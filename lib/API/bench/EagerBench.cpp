//===- EagerBench.cpp - kiln-eager-bench: what an eager call costs --------===//
//
// The Kiln side of `bench/run.sh --suite eager` (bench/eager.py runs
// PyTorch eager beside it and prints the ratios):
//
//   kiln-eager-bench overhead [--size N] [--iters N] [--reps R]
//       a small elementwise op at cache hit, issued back to back: c = a + b,
//       a += b and a * s; per-op µs (median over reps of the mean of iters)
//   kiln-eager-bench cold [--reps R]
//       first call of an op on a shape never seen (a cache miss: one-op
//       function built, imported, compiled, run): add, FullyConnected,
//       Convolution, softmax on small shapes (the quick tier), and a
//       Convolution big enough for the full pipeline; ms
//   kiln-eager-bench mlp [--batch B] [--iters N]
//       one imperative MLP (784-128-64-10) training step on a fixed batch:
//       recorded forward, backward, SGD as NDArray arithmetic, loss read
//       back; the kernel cache's hit rate over the loop
//
// Each mode prints `bench: iters=N min_ms=X median_ms=Y` last (the bench
// scripts parse it) after key=value lines.
//
//===----------------------------------------------------------------------===//

#include "kiln/Error.h"
#include "kiln/NDArray.h"
#include "kiln/Random.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace kiln;

namespace {

double seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct Args {
  std::string mode;
  int64_t size = 16, iters = 20000, reps = 7, batch = 64;
};

Args parse(int argc, char **argv) {
  if (argc < 2)
    throw Error("usage: kiln-eager-bench overhead|cold|mlp [--size N] [--iters N] [--reps R] "
                "[--batch B]");
  Args a;
  a.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string k = argv[i];
    if (i + 1 >= argc)
      throw Error(k + " needs a value");
    int64_t v = std::stoll(argv[++i]);
    if (v < 1)
      throw Error(k + " must be positive");
    if (k == "--size")
      a.size = v;
    else if (k == "--iters")
      a.iters = v;
    else if (k == "--reps")
      a.reps = v;
    else if (k == "--batch")
      a.batch = v;
    else
      throw Error("unknown option '" + k + "'");
  }
  return a;
}

void printBench(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  std::printf("bench: iters=%zu min_ms=%.6f median_ms=%.6f\n", ms.size(), ms.front(),
              ms[ms.size() / 2]);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int overhead(const Args &a) {
  NDArray x = nd::uniform(-1, 1, {a.size}, 1), y = nd::uniform(-1, 1, {a.size}, 2);
  NDArray acc = nd::zeros({a.size});
  // Warm the cache (and the storage pool).
  for (int i = 0; i < 100; ++i) {
    NDArray c = x + y;
    acc += y;
    NDArray d = x * 0.5f;
  }
  nd::waitAll();
  struct Case {
    const char *name;
    std::vector<double> us;
  } cases[] = {{"add", {}}, {"add_inplace", {}}, {"mul_scalar", {}}};
  for (int64_t r = 0; r < a.reps; ++r) {
    double t0 = seconds();
    for (int64_t i = 0; i < a.iters; ++i) {
      NDArray c = x + y;
    }
    nd::waitAll();
    double t1 = seconds();
    for (int64_t i = 0; i < a.iters; ++i)
      acc += y;
    nd::waitAll();
    double t2 = seconds();
    for (int64_t i = 0; i < a.iters; ++i) {
      NDArray d = x * 0.5f;
    }
    nd::waitAll();
    double t3 = seconds();
    cases[0].us.push_back((t1 - t0) / a.iters * 1e6);
    cases[1].us.push_back((t2 - t1) / a.iters * 1e6);
    cases[2].us.push_back((t3 - t2) / a.iters * 1e6);
  }
  std::vector<double> all;
  for (const Case &c : cases) {
    std::printf("overhead: op=%s size=%lld median_us=%.3f min_us=%.3f\n", c.name,
                (long long)a.size, median(c.us), *std::min_element(c.us.begin(), c.us.end()));
  }
  // The headline figure: c = a + b, as ms for the common bench line.
  std::vector<double> ms;
  for (double us : cases[0].us)
    ms.push_back(us / 1e3);
  printBench(ms);
  return 0;
}

int cold(const Args &a) {
  // A shape never used before makes each call a miss; the first call of
  // all also pays for the pipeline's one-time set-up, reported apart.
  double t0 = seconds();
  nd::ones({1}).waitToRead();
  (nd::ones({3, 5}) + nd::ones({3, 5})).waitToRead();
  std::printf("cold: first_ever_ms=%.3f\n", (seconds() - t0) * 1e3);
  struct Case {
    const char *name;
    std::vector<double> ms;
  } cases[] = {{"add", {}},
               {"fully_connected", {}},
               {"convolution", {}},
               {"softmax", {}},
               {"convolution_large", {}}};
  for (int64_t r = 0; r < a.reps; ++r) {
    int64_t n = 7 + r; // a fresh shape every rep
    NDArray v = nd::ones({n, 33}), w = nd::ones({16, 33}), b = nd::ones({16});
    NDArray img = nd::ones({1, 3, n + 5, n + 5}), k = nd::ones({8, 3, 3, 3});
    // Big enough for the full pipeline (tiled, vectorized, packed GEMM).
    NDArray big = nd::ones({1, 16, 30 + n, 30 + n}), kBig = nd::ones({32, 16, 3, 3});
    nd::waitAll();
    double s0 = seconds();
    (v + v).waitToRead();
    double s1 = seconds();
    nd::FullyConnected(v, w, b, 16).waitToRead();
    double s2 = seconds();
    nd::Convolution(img, k, NDArray(), {3, 3}, 8).waitToRead();
    double s3 = seconds();
    nd::softmax(v).waitToRead();
    double s4 = seconds();
    nd::Convolution(big, kBig, NDArray(), {3, 3}, 32).waitToRead();
    double s5 = seconds();
    cases[0].ms.push_back((s1 - s0) * 1e3);
    cases[1].ms.push_back((s2 - s1) * 1e3);
    cases[2].ms.push_back((s3 - s2) * 1e3);
    cases[3].ms.push_back((s4 - s3) * 1e3);
    cases[4].ms.push_back((s5 - s4) * 1e3);
  }
  std::vector<double> all;
  for (const Case &c : cases) {
    std::printf("cold: op=%s median_ms=%.3f min_ms=%.3f\n", c.name, median(c.ms),
                *std::min_element(c.ms.begin(), c.ms.end()));
    all.insert(all.end(), c.ms.begin(), c.ms.end());
  }
  nd::CacheStats s = nd::cacheStats();
  std::printf("cold: misses=%lld compile_s=%.3f\n", (long long)s.misses, s.compileSeconds);
  printBench(cases[0].ms);
  return 0;
}

struct Dense {
  NDArray w, b;
  int64_t units;
  Dense(int64_t in, int64_t out, uint64_t seed)
      : w(nd::uniform(-0.07f, 0.07f, {out, in}, seed)), b(nd::zeros({out})), units(out) {
    w.attachGrad();
    b.attachGrad();
  }
  NDArray operator()(const NDArray &x) const { return nd::FullyConnected(x, w, b, units); }
  void sgd(float lr) {
    w -= w.grad() * lr;
    b -= b.grad() * lr;
  }
};

int mlp(const Args &a) {
  Dense fc1(784, 128, 1), fc2(128, 64, 2), fc3(64, 10, 3);
  NDArray x = nd::uniform(0, 1, {a.batch, 784}, 4);
  Tensor labels({a.batch});
  Random rng(5);
  for (float &v : labels.values)
    v = static_cast<float>(rng.below(10));
  NDArray y(labels);
  float lr = 0.1f / a.batch;
  auto step = [&] {
    NDArray out;
    {
      autograd::RecordScope record;
      NDArray h = nd::Activation(fc1(x), "relu");
      h = nd::Activation(fc2(h), "relu");
      out = nd::SoftmaxOutput(fc3(h), y);
    }
    out.backward();
    fc1.sgd(lr);
    fc2.sgd(lr);
    fc3.sgd(lr);
    out.waitToRead(); // a training loop reads its loss
  };
  double t0 = seconds();
  step();
  double first = seconds() - t0;
  for (int i = 0; i < 2; ++i)
    step();
  nd::waitAll();
  nd::CacheStats before = nd::cacheStats();
  std::vector<double> ms;
  for (int64_t i = 0; i < a.iters; ++i) {
    double s = seconds();
    step();
    nd::waitAll();
    ms.push_back((seconds() - s) * 1e3);
  }
  nd::CacheStats after = nd::cacheStats();
  int64_t hits = after.hits - before.hits, misses = after.misses - before.misses;
  std::printf("mlp: batch=%lld first_step_ms=%.1f loop_hits=%lld loop_misses=%lld "
              "hit_rate=%.4f total_misses=%lld compile_s=%.3f\n",
              (long long)a.batch, first * 1e3, (long long)hits, (long long)misses,
              double(hits) / std::max<int64_t>(1, hits + misses), (long long)after.misses,
              after.compileSeconds);
  printBench(ms);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  try {
    Args a = parse(argc, argv);
    if (a.mode == "overhead")
      return overhead(a);
    if (a.mode == "cold")
      return cold(a);
    if (a.mode == "mlp")
      return mlp(a);
    throw Error("unknown mode '" + a.mode + "' (overhead, cold, mlp)");
  } catch (const std::exception &e) {
    std::fprintf(stderr, "kiln-eager-bench: error: %s\n", e.what());
    return 1;
  }
}
