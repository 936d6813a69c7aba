//===- KernelBench.cpp - kiln-kernel-bench: compiled kernels vs references -===//
//
// Usage: kiln-kernel-bench [--threads 1,2] [--reps N]
//                          [--only sgemm|fc|eltwise|conv|lenet] [--sizes 256,512,1024,2048]
//                          [--old]
// Runs each JIT-compiled kernel (the real CPU pipeline) and its reference
// (OpenBLAS cblas_sgemm; a STREAM-triad loop) side by side in one process,
// with buffers allocated and touched once, and prints medians. `--old` adds
// a column for the same kernel compiled without kiln-cpu-lower-contractions
// (JitOptions::lowerContractions = false: register tiles on tensors, im2col
// materialized), for before/after comparisons in one run. Run OpenBLAS with
// its own kernel choice: `env -u OPENBLAS_CORETYPE kiln-kernel-bench`.
//
//===----------------------------------------------------------------------===//

#include "Target/CPU/JIT.h"
#include "Target/CPU/ParallelRuntime.h"
#include "Target/CPU/Pipeline.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#ifdef KILN_BENCH_OPENBLAS
#include <cblas.h>
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace mlir;

namespace {

int reps = 7;
bool withOld = false;

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// Median seconds of `reps` runs after two warm-ups; the whole batch is
/// repeated while a single run is under 20 ms so short kernels are timed
/// over enough work.
double timeIt(const std::function<void()> &f) {
  f();
  f();
  double t0 = now();
  f();
  double one = now() - t0;
  int inner = one < 0.02 ? std::max(1, int(0.02 / std::max(one, 1e-6))) : 1;
  std::vector<double> ts;
  for (int r = 0; r < reps; ++r) {
    double s = now();
    for (int i = 0; i < inner; ++i)
      f();
    ts.push_back((now() - s) / inner);
  }
  std::sort(ts.begin(), ts.end());
  return ts[ts.size() / 2];
}

std::vector<float> randomVec(size_t n, unsigned seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> d(-1, 1);
  std::vector<float> v(n);
  for (float &x : v)
    x = d(g);
  return v;
}

MLIRContext &context() { return kiln::cpu::cpuPipelineContext(); }

std::shared_ptr<const kiln::cpu::CompiledModule> compile(const std::string &src,
                                                          const char *what, bool old = false) {
  OwningOpRef<ModuleOp> m = parseSourceString<ModuleOp>(src, &context());
  if (!m) {
    std::fprintf(stderr, "does not parse:\n%s\n", src.c_str());
    std::exit(1);
  }
  kiln::cpu::JitOptions jo;
  jo.lowerContractions = !old;
  auto c = kiln::cpu::CPUJit::compile(*m, jo);
  if (!c) {
    std::fprintf(stderr, "%s: %s\n", what, llvm::toString(c.takeError()).c_str());
    std::exit(1);
  }
  std::printf("  compile %-28s pipeline %.3f s, codegen %.3f s%s\n", what,
              (*c)->pipelineSeconds(), (*c)->codegenSeconds(), old ? " (old path)" : "");
  return *c;
}

std::string t2(int64_t a, int64_t b) {
  return "tensor<" + std::to_string(a) + "x" + std::to_string(b) + "xf32>";
}

double maxRelErr(const std::vector<float> &got, const std::vector<float> &want) {
  double e = 0;
  for (size_t i = 0; i < got.size(); ++i)
    e = std::max(e, std::abs(double(got[i]) - want[i]) / (1.0 + std::abs(double(want[i]))));
  return e;
}

void setBlasThreads(int n) {
#ifdef KILN_BENCH_OPENBLAS
  openblas_set_num_threads(n);
#else
  (void)n;
#endif
}

/// OpenBLAS's idle threads spin for a while after a call; let them sleep
/// before timing our kernels.
void settle() { std::this_thread::sleep_for(std::chrono::milliseconds(200)); }

void benchSgemm(const std::vector<int> &sizes, const std::vector<int> &threads, bool fc) {
  std::printf("\n%s: C[n,n] = A[n,n]·%s, GFLOP/s (median of %d)\n",
              fc ? "FullyConnected (graph.fully_connected, no bias)" : "sgemm (linalg.matmul)",
              fc ? "W[n,n]^T" : "B[n,n]", reps);
  std::printf("  %6s %7s %12s %12s %12s %10s\n", "n", "threads", "kiln", "kiln-old", "openblas",
              "max err");
  for (int n : sizes) {
    std::string src;
    if (fc)
      src = "func.func @k(%a: " + t2(n, n) + ", %w: " + t2(n, n) + ") -> tensor<*xf32> {\n"
            "  %0 = graph.fully_connected %a, %w {num_hidden = " + std::to_string(n) +
            " : i64, no_bias = true} : (" + t2(n, n) + ", " + t2(n, n) + ") -> tensor<*xf32>\n"
            "  return %0 : tensor<*xf32>\n}\n";
    else
      src = "func.func @k(%a: " + t2(n, n) + ", %b: " + t2(n, n) + ") -> " + t2(n, n) +
            " {\n  %z = arith.constant 0.0 : f32\n  %e = tensor.empty() : " + t2(n, n) +
            "\n  %f = linalg.fill ins(%z : f32) outs(%e : " + t2(n, n) + ") -> " + t2(n, n) +
            "\n  %r = linalg.matmul ins(%a, %b : " + t2(n, n) + ", " + t2(n, n) + ") outs(%f : " +
            t2(n, n) + ") -> " + t2(n, n) + "\n  return %r : " + t2(n, n) + "\n}\n";
    if (fc) {
      // Shape inference is the graph pipeline's job; write the result type.
      std::string from = "-> tensor<*xf32>";
      for (size_t p; (p = src.find(from)) != std::string::npos;)
        src.replace(p, from.size(), "-> " + t2(n, n));
      std::string r = "return %0 : tensor<*xf32>";
      src.replace(src.find(r), r.size(), "return %0 : " + t2(n, n));
    }
    std::string name = std::string(fc ? "fc " : "sgemm ") + std::to_string(n);
    auto cm = compile(src, name.c_str());
    kiln::cpu::KernelFn k = cm->lookup("k");
    std::shared_ptr<const kiln::cpu::CompiledModule> cmOld;
    if (withOld)
      cmOld = compile(src, name.c_str(), true);
    std::vector<float> a = randomVec(size_t(n) * n, 1), b = randomVec(size_t(n) * n, 2),
                       c(size_t(n) * n, 0), ref(size_t(n) * n, 0);
    void *args[] = {a.data(), b.data(), c.data()};
    double flop = 2.0 * n * n * double(n);
    for (int t : threads) {
      kiln::cpu::setParallelThreads(t);
      settle();
      double tk = timeIt([&] { k(args); });
      double to = NAN;
      if (cmOld) {
        std::vector<float> c2(c.size());
        void *args2[] = {a.data(), b.data(), c2.data()};
        kiln::cpu::KernelFn ko = cmOld->lookup("k");
        to = timeIt([&] { ko(args2); });
      }
      double tb = NAN, err = NAN;
#ifdef KILN_BENCH_OPENBLAS
      setBlasThreads(t);
      tb = timeIt([&] {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, fc ? CblasTrans : CblasNoTrans, n, n, n, 1.0f,
                    a.data(), n, b.data(), n, 0.0f, ref.data(), n);
      });
      err = maxRelErr(c, ref);
#endif
      std::printf("  %6d %7d %12.1f %12.1f %12.1f %10.1e\n", n, t, flop / tk * 1e-9,
                  flop / to * 1e-9, flop / tb * 1e-9, err);
    }
  }
}

struct TriadCtx {
  float *a;
  const float *b, *c;
  float s;
};

void benchEltwise(const std::vector<int> &threads) {
  const int64_t n = 16 << 20;
  std::printf("\nelementwise: y = relu(a*b + c) * 0.5 on %lld floats (3 reads + 1 write), "
              "GB/s (median of %d)\n",
              (long long)n, reps);
  std::string ty = "tensor<" + std::to_string(n) + "xf32>";
  std::string src = "func.func @k(%a: " + ty + ", %b: " + ty + ", %c: " + ty + ") -> " + ty +
                    " {\n"
                    "  %0 = graph.elemwise_mul %a, %b : (" + ty + ", " + ty + ") -> " + ty + "\n"
                    "  %1 = graph.elemwise_add %0, %c : (" + ty + ", " + ty + ") -> " + ty + "\n"
                    "  %2 = graph.activation %1 {act_type = #graph.act_type<relu>} : (" + ty +
                    ") -> " + ty + "\n"
                    "  %3 = graph.mul_scalar %2 {scalar = 5.000000e-01 : f64} : (" + ty +
                    ") -> " + ty + "\n"
                    "  return %3 : " + ty + "\n}\n";
  auto cm = compile(src, "relu(a*b+c)*0.5 16M");
  kiln::cpu::KernelFn k = cm->lookup("k");
  std::vector<float> a = randomVec(n, 1), b = randomVec(n, 2), c = randomVec(n, 3), y(n, 0),
                     t(n, 0);
  void *args[] = {a.data(), b.data(), c.data(), y.data()};
  std::printf("  %7s %12s %18s %8s\n", "threads", "kiln", "stream-triad", "ratio");
  for (int th : threads) {
    kiln::cpu::setParallelThreads(th);
    settle();
    double tk = timeIt([&] { k(args); });
    // STREAM triad t = b + s·c (2 reads + 1 write) through the same pool.
    TriadCtx ctx{t.data(), b.data(), c.data(), 3.0f};
    double tt = timeIt([&] {
      kiln_parallel_for(
          0, 256,
          [](int64_t lo, int64_t hi, void *p) {
            auto *x = static_cast<TriadCtx *>(p);
            int64_t chunk = (16 << 20) / 256;
            for (int64_t i = lo * chunk; i < hi * chunk; ++i)
              x->a[i] = x->b[i] + x->s * x->c[i];
          },
          &ctx);
    });
    double gk = 4.0 * n * 4 / tk * 1e-9, gt = 3.0 * n * 4 / tt * 1e-9;
    double err = 0;
    for (int64_t i = 0; i < n; i += 4099)
      err = std::max(err, double(std::abs(y[i] - std::max(0.0f, a[i] * b[i] + c[i]) * 0.5f)));
    std::printf("  %7d %12.1f %18.1f %7.0f%%   (max abs err %.1e)\n", th, gk, gt,
                100 * gk / gt, err);
  }
}

void benchConv(const std::vector<int> &threads) {
  std::printf("\nconv 3x3, 64->64 channels, 1x64x56x56, pad 1, with bias: GFLOP/s (median of %d)\n",
              reps);
  std::string x = "tensor<1x64x56x56xf32>", w = "tensor<64x64x3x3xf32>", b = "tensor<64xf32>";
  std::string src = "func.func @k(%x: " + x + ", %w: " + w + ", %b: " + b + ") -> " + x +
                    " {\n  %0 = graph.convolution %x, %w, %b {kernel = array<i64: 3, 3>, "
                    "num_filter = 64 : i64, pad = array<i64: 1, 1>} : (" + x + ", " + w + ", " +
                    b + ") -> " + x + "\n  return %0 : " + x + "\n}\n";
  auto cm = compile(src, "conv3x3 64->64 56x56");
  kiln::cpu::KernelFn k = cm->lookup("k");
  std::shared_ptr<const kiln::cpu::CompiledModule> cmOld;
  if (withOld)
    cmOld = compile(src, "conv3x3 64->64 56x56", true);
  std::vector<float> xv = randomVec(64 * 56 * 56, 1), wv = randomVec(64 * 64 * 9, 2),
                     bv = randomVec(64, 3), y(64 * 56 * 56, 0);
  void *args[] = {xv.data(), wv.data(), bv.data(), y.data()};
  double flop = 2.0 * 64 * 64 * 9 * 56 * 56;
  // Reference: OpenBLAS on the same GEMM an im2col conv performs
  // (64 × 576 × 3136), im2col itself not counted.
  std::vector<float> col = randomVec(576 * 3136, 4), out(64 * 3136);
  std::printf("  %7s %12s %12s %24s\n", "threads", "kiln", "kiln-old", "openblas gemm only");
  for (int th : threads) {
    kiln::cpu::setParallelThreads(th);
    settle();
    double tk = timeIt([&] { k(args); });
    double to = NAN;
    if (cmOld) {
      std::vector<float> y2(y.size());
      void *args2[] = {xv.data(), wv.data(), bv.data(), y2.data()};
      kiln::cpu::KernelFn ko = cmOld->lookup("k");
      to = timeIt([&] { ko(args2); });
    }
    double tb = NAN;
#ifdef KILN_BENCH_OPENBLAS
    setBlasThreads(th);
    tb = timeIt([&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 64, 3136, 576, 1.0f, wv.data(), 576,
                  col.data(), 3136, 0.0f, out.data(), 3136);
    });
#endif
    std::printf("  %7d %12.1f %12.1f %24.1f\n", th, flop / tk * 1e-9, flop / to * 1e-9,
                flop / tb * 1e-9);
  }
  // Spot check against a direct convolution.
  double err = 0;
  for (int f = 0; f < 64; f += 7)
    for (int oy = 0; oy < 56; oy += 11)
      for (int ox = 0; ox < 56; ox += 5) {
        double s = bv[f];
        for (int c = 0; c < 64; ++c)
          for (int ky = 0; ky < 3; ++ky)
            for (int kx = 0; kx < 3; ++kx) {
              int iy = oy + ky - 1, ix = ox + kx - 1;
              if (iy >= 0 && iy < 56 && ix >= 0 && ix < 56)
                s += double(wv[((f * 64 + c) * 3 + ky) * 3 + kx]) * xv[(c * 56 + iy) * 56 + ix];
            }
        err = std::max(err, std::abs(s - y[(f * 56 + oy) * 56 + ox]) / (1 + std::abs(s)));
      }
  std::printf("  max rel err vs direct conv (sampled): %.1e\n", err);
}

/// LeNet's three contraction kernels at batch 64 as the fusion pass emits
/// them (bias and tanh fused), checked against a direct loop, timed against
/// OpenBLAS on a GEMM of the same shape (for the convolutions: the im2col
/// GEMM over the whole batch, im2col itself not counted).
void benchLenet(const std::vector<int> &threads) {
  struct Case {
    const char *name;
    int64_t n, c, h, w, f, k; // conv: NCHW input, F filters k x k; fc: n x c -> f
    bool fc;
  };
  const Case cases[] = {{"conv0 64x1x28x28 -> 20 5x5", 64, 1, 28, 28, 20, 5, false},
                        {"conv1 64x20x12x12 -> 50 5x5", 64, 20, 12, 12, 50, 5, false},
                        {"fc0 64x800 -> 500", 64, 800, 1, 1, 500, 0, true}};
  std::printf("\nLeNet b64 kernels with fused bias + tanh: ms and GFLOP/s (median of %d)\n", reps);
  std::printf("  %-30s %7s %10s %10s %10s %10s %12s\n", "kernel", "threads", "kiln ms", "GFLOP/s",
              "old ms", "old GF/s", "openblas GF/s");
  for (const Case &cs : cases) {
    auto ts = [](std::initializer_list<int64_t> d) {
      std::string s = "tensor<";
      for (int64_t v : d)
        s += std::to_string(v) + "x";
      return s + "f32>";
    };
    int64_t ho = cs.h - cs.k + 1, wo = cs.w - cs.k + 1;
    std::string x, w, b = ts({cs.f}), y, op;
    double flop;
    int64_t M, N, K;
    if (cs.fc) {
      x = ts({cs.n, cs.c});
      w = ts({cs.f, cs.c});
      y = ts({cs.n, cs.f});
      op = "graph.fully_connected %x, %w, %b {num_hidden = " + std::to_string(cs.f) + " : i64}";
      M = cs.n, N = cs.f, K = cs.c;
    } else {
      x = ts({cs.n, cs.c, cs.h, cs.w});
      w = ts({cs.f, cs.c, cs.k, cs.k});
      y = ts({cs.n, cs.f, ho, wo});
      op = "graph.convolution %x, %w, %b {kernel = array<i64: " + std::to_string(cs.k) + ", " +
           std::to_string(cs.k) + ">, num_filter = " + std::to_string(cs.f) + " : i64}";
      M = cs.f, N = cs.n * ho * wo, K = cs.c * cs.k * cs.k;
    }
    flop = 2.0 * double(M) * double(N) * double(K);
    std::string src = "func.func @k(%x: " + x + ", %w: " + w + ", %b: " + b + ") -> " + y +
                      " {\n  %0 = " + op + " : (" + x + ", " + w + ", " + b + ") -> " + y +
                      "\n  %1 = graph.activation %0 {act_type = #graph.act_type<tanh>} : (" + y +
                      ") -> " + y + "\n  return %1 : " + y + "\n}\n";
    auto cm = compile(src, cs.name);
    kiln::cpu::KernelFn k = cm->lookup("k");
    std::shared_ptr<const kiln::cpu::CompiledModule> cmOld;
    if (withOld)
      cmOld = compile(src, cs.name, true);
    int64_t xs = cs.fc ? cs.n * cs.c : cs.n * cs.c * cs.h * cs.w;
    int64_t wsz = cs.fc ? cs.f * cs.c : cs.f * cs.c * cs.k * cs.k;
    int64_t ysz = cs.fc ? cs.n * cs.f : cs.n * cs.f * ho * wo;
    std::vector<float> xv = randomVec(xs, 1), wv = randomVec(wsz, 2), bv = randomVec(cs.f, 3),
                       yv(ysz), y2(ysz);
    for (float &v : wv)
      v *= 0.1f;
    void *args[] = {xv.data(), wv.data(), bv.data(), yv.data()};
    void *args2[] = {xv.data(), wv.data(), bv.data(), y2.data()};
    std::vector<float> am = randomVec(M * K, 4), bm = randomVec(K * N, 5), cm2(M * N);
    for (int th : threads) {
      kiln::cpu::setParallelThreads(th);
      settle();
      double tk = timeIt([&] { k(args); }), to = NAN, tb = NAN;
      if (cmOld) {
        kiln::cpu::KernelFn ko = cmOld->lookup("k");
        to = timeIt([&] { ko(args2); });
      }
#ifdef KILN_BENCH_OPENBLAS
      setBlasThreads(th);
      tb = timeIt([&] {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, cs.fc ? CblasTrans : CblasNoTrans, M, N, K, 1.0f,
                    am.data(), K, bm.data(), cs.fc ? K : N, 0.0f, cm2.data(), N);
      });
#endif
      std::printf("  %-30s %7d %10.3f %10.1f %10.3f %10.1f %12.1f\n", cs.name, th, tk * 1e3,
                  flop / tk * 1e-9, to * 1e3, flop / to * 1e-9, flop / tb * 1e-9);
    }
    // Check against a direct loop.
    double err = 0;
    for (int64_t i = 0; i < ysz; i += 7) {
      double s;
      if (cs.fc) {
        int64_t r = i / cs.f, f = i % cs.f;
        s = bv[f];
        for (int64_t c = 0; c < cs.c; ++c)
          s += double(xv[r * cs.c + c]) * wv[f * cs.c + c];
      } else {
        int64_t ox = i % wo, oy = (i / wo) % ho, f = (i / (wo * ho)) % cs.f,
                n = i / (wo * ho * cs.f);
        s = bv[f];
        for (int64_t c = 0; c < cs.c; ++c)
          for (int64_t ky = 0; ky < cs.k; ++ky)
            for (int64_t kx = 0; kx < cs.k; ++kx)
              s += double(wv[((f * cs.c + c) * cs.k + ky) * cs.k + kx]) *
                   xv[((n * cs.c + c) * cs.h + oy + ky) * cs.w + ox + kx];
      }
      err = std::max(err, std::abs(std::tanh(s) - yv[i]));
      if (cmOld)
        err = std::max(err, std::abs(std::tanh(s) - y2[i]));
    }
    std::printf("  %-30s max abs err vs direct loop (every 7th): %.1e\n", cs.name, err);
  }
}

std::vector<int> parseList(const char *s) {
  std::vector<int> v;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    v.push_back(std::atoi(item.c_str()));
  return v;
}

} // namespace

int main(int argc, char **argv) {
  std::vector<int> threads{1, 2}, sizes{256, 512, 1024, 2048};
  std::string only;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc)
      threads = parseList(argv[++i]);
    else if (a == "--sizes" && i + 1 < argc)
      sizes = parseList(argv[++i]);
    else if (a == "--reps" && i + 1 < argc)
      reps = std::max(1, std::atoi(argv[++i]));
    else if (a == "--only" && i + 1 < argc)
      only = argv[++i];
    else if (a == "--old")
      withOld = true;
    else {
      std::fprintf(stderr, "usage: %s [--threads 1,2] [--sizes 256,512] [--reps N] "
                           "[--only sgemm|fc|eltwise|conv|lenet] [--old]\n", argv[0]);
      return 2;
    }
  }
  std::printf("kiln-kernel-bench: host %u hardware threads; OpenBLAS %s\n",
              std::thread::hardware_concurrency(),
#ifdef KILN_BENCH_OPENBLAS
              openblas_get_corename()
#else
              "not linked"
#endif
  );
  if (only.empty() || only == "sgemm")
    benchSgemm(sizes, threads, false);
  if (only.empty() || only == "fc")
    benchSgemm(sizes, threads, true);
  if (only.empty() || only == "eltwise")
    benchEltwise(threads);
  if (only.empty() || only == "conv")
    benchConv(threads);
  if (only.empty() || only == "lenet")
    benchLenet(threads);
  return 0;
}
