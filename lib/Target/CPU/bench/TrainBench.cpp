//===- TrainBench.cpp - kiln-train-kernel-bench: LeNet's training kernels --===//
//
// Usage: kiln-train-kernel-bench [--batch 64] [--threads 1,2] [--reps N]
//                                [--only NAME-SUBSTRING] [--mlir FILE]
// JIT-compiles every kernel of one LeNet training step (forward, backward
// and a BatchNorm pair at a ResNet-like shape) as a single-op graph function
// through the real CPU pipeline, and prints the median time, the rate
// (GFLOP/s for contractions, GB/s of compulsory traffic for the rest) and,
// for the GEMM-shaped kernels, OpenBLAS's sgemm on the same M×N×K (for the
// convolution gradients without the im2col/col2im around it, so the ratio
// is a lower bound). Each row gives the median wall time and process CPU
// time; at one thread the rates come from the CPU time, which on a shared
// machine is the stable figure (time waiting for a core is not in it). Run
// OpenBLAS with its own kernel choice:
// `env -u OPENBLAS_CORETYPE kiln-train-kernel-bench`. With --mlir, every
// function of FILE is timed instead (GB/s of its arguments and results).
//
//===----------------------------------------------------------------------===//

#include "Target/CPU/JIT.h"
#include "Target/CPU/ParallelRuntime.h"
#include "Target/CPU/Pipeline.h"
#include "Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#ifdef KILN_BENCH_OPENBLAS
#include <cblas.h>
#endif

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace mlir;
using Shape = std::vector<int64_t>;

namespace {

int reps = 7;

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double cpuNow() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/// Median seconds of `reps` runs after two warm-ups; runs are batched while
/// one is under 20 ms. `cpu` (optional) gets the median process CPU time of
/// a run: on a shared machine, at one thread, the time the kernel really
/// ran, without the time it waited for a core.
double timeIt(const std::function<void()> &f, double *cpu = nullptr) {
  f();
  f();
  double t0 = now();
  f();
  double one = now() - t0;
  int inner = one < 0.02 ? std::max(1, int(0.02 / std::max(one, 1e-6))) : 1;
  std::vector<double> ts, cs;
  for (int r = 0; r < reps; ++r) {
    double s = now(), c = cpuNow();
    for (int i = 0; i < inner; ++i)
      f();
    ts.push_back((now() - s) / inner);
    cs.push_back((cpuNow() - c) / inner);
  }
  std::sort(ts.begin(), ts.end());
  std::sort(cs.begin(), cs.end());
  if (cpu)
    *cpu = cs[cs.size() / 2];
  return ts[ts.size() / 2];
}

MLIRContext &context() { return kiln::cpu::cpuPipelineContext(); }

std::string tt(const Shape &s) {
  std::string r = "tensor<";
  for (int64_t d : s)
    r += std::to_string(d) + "x";
  return r + "f32>";
}

int64_t numel(const Shape &s) {
  int64_t n = 1;
  for (int64_t d : s)
    n *= d;
  return n;
}

/// One graph op on `ins`, results inferred.
std::string single(const std::vector<Shape> &ins, const std::string &op, const std::string &attrs,
                   unsigned nres = 1) {
  std::string args, operands, types, rtypes, rets;
  for (size_t i = 0; i < ins.size(); ++i) {
    args += (i ? ", " : "") + std::string("%a") + std::to_string(i) + ": " + tt(ins[i]);
    operands += (i ? ", " : "") + std::string("%a") + std::to_string(i);
    types += (i ? ", " : "") + tt(ins[i]);
  }
  for (unsigned i = 0; i < nres; ++i) {
    rtypes += (i ? ", " : "") + std::string("tensor<*xf32>");
    rets += (i ? ", " : "") + std::string("%0") + (nres > 1 ? "#" + std::to_string(i) : "");
  }
  std::string res = nres > 1 ? "%0:" + std::to_string(nres) : "%0";
  return "func.func @k(" + args + ") -> (" + rtypes + ") {\n  " + res + " = graph." + op + " " +
         operands + (attrs.empty() ? "" : " {" + attrs + "}") + " : (" + types + ") -> (" +
         rtypes + ")\n  return " + rets + " : " + rtypes + "\n}\n";
}

/// A GEMM OpenBLAS runs for comparison: C[M,N] = op(A)·op(B), K deep.
struct Gemm {
  int64_t m = 0, n = 0, k = 0;
  bool ta = false, tb = false;
};

struct Case {
  std::string name, src;
  double flops = 0; // 0: memory-bound, report GB/s
  Gemm blas;
};

void run(const Case &c, const std::vector<int> &threads, const std::string &fnName = "k") {
  OwningOpRef<ModuleOp> m = parseSourceString<ModuleOp>(c.src, &context());
  if (!m) {
    std::fprintf(stderr, "does not parse:\n%s\n", c.src.c_str());
    std::exit(1);
  }
  // Only the function timed is compiled.
  for (auto f : llvm::make_early_inc_range(m->getOps<func::FuncOp>()))
    if (f.getSymName() != fnName)
      f.erase();
  auto fn = m->lookupSymbol<func::FuncOp>(fnName);
  if (failed(kiln::inferFunctionShapes(fn))) {
    std::fprintf(stderr, "%s: shape inference failed\n", c.name.c_str());
    std::exit(1);
  }
  FunctionType ft = fn.getFunctionType();
  std::vector<std::vector<float>> bufs;
  double bytes = 0;
  std::mt19937 g(7);
  std::uniform_real_distribution<float> d(-1, 1);
  for (Type t : ft.getInputs()) {
    bufs.emplace_back(cast<RankedTensorType>(t).getNumElements());
    for (float &v : bufs.back())
      v = std::abs(d(g)) + 0.1f; // positive: variances, lp pooling, …
    bytes += 4.0 * bufs.back().size();
  }
  for (Type t : ft.getResults()) {
    bufs.emplace_back(cast<RankedTensorType>(t).getNumElements(), 0.0f);
    bytes += 4.0 * bufs.back().size();
  }
  auto cm = kiln::cpu::CPUJit::compile(*m);
  if (!cm) {
    std::fprintf(stderr, "%s: %s\n", c.name.c_str(), llvm::toString(cm.takeError()).c_str());
    std::exit(1);
  }
  kiln::cpu::KernelFn k = (*cm)->lookup(fnName);
  std::vector<void *> ptrs;
  for (auto &b : bufs)
    ptrs.push_back(b.data());
  for (int th : threads) {
    kiln::cpu::setParallelThreads(th);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    double cpu = 0;
    double tk = timeIt([&] { k(ptrs.data()); }, &cpu);
    // At one thread the rate is taken from the CPU time (see timeIt).
    double tr = th == 1 ? cpu : tk;
    std::string rate = c.flops > 0 ? std::to_string(c.flops / tr * 1e-9) : std::to_string(bytes / tr * 1e-9);
    rate = rate.substr(0, rate.find('.') + 2) + (c.flops > 0 ? " GFLOP/s" : " GB/s");
    std::string ref = "-";
#ifdef KILN_BENCH_OPENBLAS
    if (c.blas.m) {
      const Gemm &b = c.blas;
      std::vector<float> A(b.m * b.k, 0.5f), B(b.k * b.n, 0.25f), C(b.m * b.n);
      openblas_set_num_threads(th);
      double bcpu = 0;
      double tb = timeIt(
          [&] {
            cblas_sgemm(CblasRowMajor, b.ta ? CblasTrans : CblasNoTrans,
                        b.tb ? CblasTrans : CblasNoTrans, b.m, b.n, b.k, 1.0f, A.data(),
                        b.ta ? b.m : b.k, B.data(), b.tb ? b.k : b.n, 0.0f, C.data(), b.n);
          },
          &bcpu);
      double br = th == 1 ? bcpu : tb;
      char buf[96];
      std::snprintf(buf, sizeof buf, "%.3f ms (%.1f GFLOP/s), kiln/blas %.2f", br * 1e3,
                    2.0 * b.m * b.n * b.k / br * 1e-9, tr / br);
      ref = buf;
    }
#endif
    std::printf("  %-44s %2d thr %9.3f ms %9.3f cpu-ms %16s   %s\n", c.name.c_str(), th,
                tk * 1e3, cpu * 1e3, rate.c_str(), ref.c_str());
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

std::vector<Case> lenetCases(int64_t b) {
  std::vector<Case> cs;
  auto conv = [](const Shape &x, const Shape &w) {
    return 2.0 * x[0] * w[0] * w[1] * w[2] * w[3] * (x[2] - w[2] + 1) * (x[3] - w[3] + 1);
  };
  const char *k5 = "kernel = array<i64: 5, 5>";
  const char *pool = "kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>";
  const char *tanh = "act_type = #graph.act_type<tanh>";
  // Forward, for reference.
  cs.push_back({"fwd conv1 1->20 5x5 28x28", single({{b, 1, 28, 28}, {20, 1, 5, 5}, {20}},
                                                      "convolution", std::string(k5) + ", num_filter = 20 : i64"),
                conv({b, 1, 28, 28}, {20, 1, 5, 5}), {20, b * 576, 25}});
  cs.push_back({"fwd conv2 20->50 5x5 12x12", single({{b, 20, 12, 12}, {50, 20, 5, 5}, {50}},
                                                       "convolution", std::string(k5) + ", num_filter = 50 : i64"),
                conv({b, 20, 12, 12}, {50, 20, 5, 5}), {50, b * 64, 500}});
  cs.push_back({"fwd fc1 800->500", single({{b, 800}, {500, 800}, {500}}, "fully_connected",
                                            "num_hidden = 500 : i64"),
                2.0 * b * 500 * 800, {b, 500, 800, false, true}});
  cs.push_back({"fwd maxpool 20x24x24", single({{b, 20, 24, 24}}, "pooling", pool)});
  // Backward, head to data.
  cs.push_back({"softmax_output_grad 10", single({{b, 10}, {b}}, "softmax_output_grad", "")});
  cs.push_back({"dot dX=dY.W fc2 (10->500)", single({{b, 10}, {10, 500}}, "dot", ""),
                2.0 * b * 10 * 500, {b, 500, 10}});
  cs.push_back({"dot dW=dY^T.X fc2", single({{b, 10}, {b, 500}}, "dot", "transpose_a = true"),
                2.0 * b * 10 * 500, {10, 500, b, true, false}});
  cs.push_back({"activation_grad tanh 500", single({{b, 500}, {b, 500}}, "activation_grad", tanh)});
  cs.push_back({"dot dX=dY.W fc1 (500->800)", single({{b, 500}, {500, 800}}, "dot", ""),
                2.0 * b * 500 * 800, {b, 800, 500}});
  cs.push_back({"dot dW=dY^T.X fc1", single({{b, 500}, {b, 800}}, "dot", "transpose_a = true"),
                2.0 * b * 500 * 800, {500, 800, b, true, false}});
  cs.push_back({"dot A.B^T 500x800 (K=64)", single({{500, b}, {800, b}}, "dot", "transpose_b = true"),
                2.0 * b * 500 * 800, {500, 800, b, false, true}});
  cs.push_back({"pooling_grad max 50x8x8", single({{b, 50, 8, 8}, {b, 50, 4, 4}}, "pooling_grad", pool)});
  cs.push_back({"activation_grad tanh 50x8x8",
                single({{b, 50, 8, 8}, {b, 50, 8, 8}}, "activation_grad", tanh)});
  cs.push_back({"conv2 weight_grad (conv_weight_grad)",
                single({{b, 20, 12, 12}, {b, 50, 8, 8}}, "convolution_weight_grad", k5),
                conv({b, 20, 12, 12}, {50, 20, 5, 5}), {50, 500, b * 64}});
  cs.push_back({"conv2 data_grad (deconvolution)",
                single({{b, 50, 8, 8}, {50, 20, 5, 5}}, "deconvolution",
                       std::string(k5) + ", num_filter = 20 : i64"),
                conv({b, 20, 12, 12}, {50, 20, 5, 5}), {500, b * 64, 50, true, false}});
  cs.push_back({"conv2 data_grad as full conv (pad 4)",
                single({{b, 50, 8, 8}, {20, 50, 5, 5}}, "convolution",
                       std::string(k5) + ", num_filter = 20 : i64, pad = array<i64: 4, 4>"),
                conv({b, 20, 12, 12}, {50, 20, 5, 5})});
  cs.push_back({"pooling_grad max 20x24x24",
                single({{b, 20, 24, 24}, {b, 20, 12, 12}}, "pooling_grad", pool)});
  cs.push_back({"activation_grad tanh 20x24x24",
                single({{b, 20, 24, 24}, {b, 20, 24, 24}}, "activation_grad", tanh)});
  cs.push_back({"conv1 weight_grad (conv_weight_grad)",
                single({{b, 1, 28, 28}, {b, 20, 24, 24}}, "convolution_weight_grad", k5),
                conv({b, 1, 28, 28}, {20, 1, 5, 5}), {20, 25, b * 576}});
  // ResNet-like BatchNorm (training forward and backward).
  Shape bn{b / 2, 64, 28, 28};
  cs.push_back({"batch_norm_train 64x28x28 (b/2)",
                single({bn, {64}, {64}}, "batch_norm_train", "fix_gamma = false", 3)});
  cs.push_back({"batch_norm_grad 64x28x28 (b/2)",
                single({bn, {64}, {64}, {64}, bn}, "batch_norm_grad", "fix_gamma = false", 3)});
  cs.push_back({"softmax_grad 1000", single({{b, 1000}, {b, 1000}}, "softmax_grad", "")});
  return cs;
}

} // namespace

int main(int argc, char **argv) {
  std::vector<int> threads{1, 2};
  int64_t batch = 64;
  std::string only, mlirFile;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc)
      threads = parseList(argv[++i]);
    else if (a == "--batch" && i + 1 < argc)
      batch = std::max(2, std::atoi(argv[++i]));
    else if (a == "--reps" && i + 1 < argc)
      reps = std::max(1, std::atoi(argv[++i]));
    else if (a == "--only" && i + 1 < argc)
      only = argv[++i];
    else if (a == "--mlir" && i + 1 < argc)
      mlirFile = argv[++i];
    else {
      std::fprintf(stderr,
                   "usage: %s [--batch 64] [--threads 1,2] [--reps N] [--only NAME] "
                   "[--mlir FILE]\n",
                   argv[0]);
      return 2;
    }
  }
  std::printf("kiln-train-kernel-bench: LeNet training kernels, batch %lld; host %u hardware "
              "threads; OpenBLAS %s; medians of %d\n",
              (long long)batch, std::thread::hardware_concurrency(),
#ifdef KILN_BENCH_OPENBLAS
              openblas_get_corename(),
#else
              "not linked",
#endif
              reps);
  if (!mlirFile.empty()) {
    // Every function of the file (graph or linalg ops on static tensors),
    // timed on its own: for taking a composite kernel apart.
    std::ifstream in(mlirFile);
    std::string src((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    OwningOpRef<ModuleOp> m = parseSourceString<ModuleOp>(src, &context());
    if (!m)
      return 1;
    for (auto f : m->getOps<func::FuncOp>())
      if (only.empty() || f.getSymName().contains(only))
        run({f.getSymName().str(), src}, threads, f.getSymName().str());
    return 0;
  }
  for (const Case &c : lenetCases(batch))
    if (only.empty() || c.name.find(only) != std::string::npos)
      run(c, threads);
  return 0;
}
