//===- GemmLoweringTest.cpp - kiln-cpu-lower-contractions against loops ----===//
//
// Contractions written as linalg.generic ops on tensors (any transposes,
// batch and outer dimensions, a bias-broadcast prologue and an activation
// epilogue), JIT-compiled through the real CPU pipeline and compared with a
// direct loop in double precision. The shapes are chosen to hit the packed
// GEMM's edges: partial row panels (M % 6), partial column panels (N % 16),
// several k blocks (K > 384), a single k, swapped operand roles, one thread;
// and the accuracy of a long sum (per-k-block accumulation).
// (LoweringTest covers the graph ops that lower to contractions, convolution
// with strides/dilation/padding included, against the interpreter.)
//
//===----------------------------------------------------------------------===//

#include "Target/CPU/JIT.h"
#include "Target/CPU/Pipeline.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

using namespace mlir;

namespace {

MLIRContext &context() { return kiln::cpu::cpuPipelineContext(); }

/// C[cDims] += A[aDims] * B[bDims] over loops of `range`; loops not in C are
/// reductions. Optional init bias[biasDims] (else zeros) and epilogue.
struct Case {
  std::vector<int64_t> range;
  std::vector<unsigned> a, b, c;
  std::vector<unsigned> bias; // empty: zero fill
  bool useBias = false;
  /// ScaleResidualRelu: relu(c * scale[bias dims] + res[c dims]), a
  /// BatchNorm-like per-channel scale and a residual add in the epilogue.
  enum class Epi { None, Tanh, Relu, ScaleResidualRelu } epi = Epi::None;
  unsigned threads = 2;
  /// Operands in [0, 1) instead of [-1, 1): every partial sum grows, the
  /// worst case for float32 accumulation.
  bool positive = false;
  /// Largest accepted |out - want| / (1 + |want|).
  double tolerance = 2e-5;
};

std::vector<int64_t> shapeOf(const Case &cs, const std::vector<unsigned> &dims) {
  std::vector<int64_t> s;
  for (unsigned d : dims)
    s.push_back(cs.range[d]);
  return s;
}

std::string tensorTy(const std::vector<int64_t> &s) {
  std::string r = "tensor<";
  for (int64_t d : s)
    r += std::to_string(d) + "x";
  return r + "f32>";
}

std::string mapOf(unsigned n, const std::vector<unsigned> &dims) {
  std::string r = "affine_map<(";
  for (unsigned i = 0; i < n; ++i)
    r += (i ? ", d" : "d") + std::to_string(i);
  r += ") -> (";
  for (size_t i = 0; i < dims.size(); ++i)
    r += (i ? ", d" : "d") + std::to_string(dims[i]);
  return r + ")>";
}

std::string identity(unsigned rank) {
  std::vector<unsigned> d;
  for (unsigned i = 0; i < rank; ++i)
    d.push_back(i);
  return mapOf(rank, d);
}

std::string parallel(unsigned rank) {
  std::string r;
  for (unsigned i = 0; i < rank; ++i)
    r += std::string(i ? ", " : "") + "\"parallel\"";
  return r;
}

std::string source(const Case &cs) {
  unsigned nl = cs.range.size();
  std::string ta = tensorTy(shapeOf(cs, cs.a)), tb = tensorTy(shapeOf(cs, cs.b)),
              tc = tensorTy(shapeOf(cs, cs.c));
  unsigned rc = cs.c.size();
  std::string s = "func.func @k(%a: " + ta + ", %b: " + tb;
  std::string tbias;
  if (cs.useBias || cs.epi == Case::Epi::ScaleResidualRelu) {
    // bias dims are positions in C's dimensions
    std::vector<int64_t> bs;
    for (unsigned p : cs.bias)
      bs.push_back(cs.range[cs.c[p]]);
    tbias = tensorTy(bs);
  }
  if (cs.useBias)
    s += ", %bias: " + tbias;
  if (cs.epi == Case::Epi::ScaleResidualRelu)
    s += ", %scale: " + tbias + ", %res: " + tc;
  s += ") -> " + tc + " {\n  %e = tensor.empty() : " + tc + "\n";
  if (cs.useBias) {
    s += "  %init = linalg.generic {indexing_maps = [" + mapOf(rc, cs.bias) + ", " + identity(rc) +
         "], iterator_types = [" + parallel(rc) + "]} ins(%bias : " + tbias + ") outs(%e : " + tc +
         ") {\n  ^bb0(%x: f32, %o: f32):\n    linalg.yield %x : f32\n  } -> " + tc + "\n";
  } else {
    s += "  %z = arith.constant 0.0 : f32\n  %init = linalg.fill ins(%z : f32) outs(%e : " + tc +
         ") -> " + tc + "\n";
  }
  std::string iters;
  for (unsigned d = 0; d < nl; ++d) {
    bool red = std::find(cs.c.begin(), cs.c.end(), d) == cs.c.end();
    iters += std::string(d ? ", " : "") + (red ? "\"reduction\"" : "\"parallel\"");
  }
  s += "  %r = linalg.generic {indexing_maps = [" + mapOf(nl, cs.a) + ", " + mapOf(nl, cs.b) + ", " +
       mapOf(nl, cs.c) + "], iterator_types = [" + iters + "]} ins(%a, %b : " + ta + ", " + tb +
       ") outs(%init : " + tc + ") {\n  ^bb0(%x: f32, %y: f32, %o: f32):\n"
       "    %m = arith.mulf %x, %y : f32\n    %s = arith.addf %o, %m : f32\n"
       "    linalg.yield %s : f32\n  } -> " + tc + "\n";
  std::string ret = "%r";
  if (cs.epi == Case::Epi::ScaleResidualRelu) {
    s += "  %e2 = tensor.empty() : " + tc + "\n  %y = linalg.generic {indexing_maps = [" +
         identity(rc) + ", " + mapOf(rc, cs.bias) + ", " + identity(rc) + ", " + identity(rc) +
         "], iterator_types = [" + parallel(rc) + "]} ins(%r, %scale, %res : " + tc + ", " + tbias +
         ", " + tc + ") outs(%e2 : " + tc + ") {\n  ^bb0(%x: f32, %sc: f32, %rs: f32, %o: f32):\n"
         "    %m = arith.mulf %x, %sc : f32\n    %ad = arith.addf %m, %rs : f32\n"
         "    %zz = arith.constant 0.0 : f32\n    %t = arith.maximumf %ad, %zz : f32\n"
         "    linalg.yield %t : f32\n  } -> " + tc + "\n";
    ret = "%y";
  } else if (cs.epi != Case::Epi::None) {
    std::string body = cs.epi == Case::Epi::Tanh
                           ? "    %t = math.tanh %x : f32\n"
                           : "    %zz = arith.constant 0.0 : f32\n    %t = arith.maximumf %x, %zz : f32\n";
    s += "  %e2 = tensor.empty() : " + tc + "\n  %y = linalg.generic {indexing_maps = [" +
         identity(rc) + ", " + identity(rc) + "], iterator_types = [" + parallel(rc) +
         "]} ins(%r : " + tc + ") outs(%e2 : " + tc + ") {\n  ^bb0(%x: f32, %o: f32):\n" + body +
         "    linalg.yield %t : f32\n  } -> " + tc + "\n";
    ret = "%y";
  }
  return s + "  return " + ret + " : " + tc + "\n}\n";
}

int64_t linear(const Case &cs, const std::vector<unsigned> &dims, const std::vector<int64_t> &iv) {
  int64_t r = 0;
  for (unsigned d : dims)
    r = r * cs.range[d] + iv[d];
  return r;
}

int64_t count(const Case &cs, const std::vector<unsigned> &dims) {
  int64_t n = 1;
  for (unsigned d : dims)
    n *= cs.range[d];
  return n;
}

/// Runs the case against a double-precision loop; the worst relative error
/// must be under cs.tolerance (and goes to *worstOut when given).
void run(const Case &cs, double *worstOut = nullptr) {
  std::string src = source(cs);
  SCOPED_TRACE(src);
  OwningOpRef<ModuleOp> m = parseSourceString<ModuleOp>(src, &context());
  ASSERT_TRUE(m);
  kiln::cpu::JitOptions jo;
  jo.numThreads = cs.threads;
  auto cm = kiln::cpu::CPUJit::compile(*m, jo);
  ASSERT_TRUE(bool(cm)) << llvm::toString(cm.takeError());
  kiln::cpu::KernelFn k = (*cm)->lookup("k");
  ASSERT_NE(k, nullptr);

  std::mt19937 gen(7);
  std::uniform_real_distribution<float> dist(cs.positive ? 0 : -1, 1);
  auto rnd = [&](int64_t n) {
    std::vector<float> v(n);
    for (float &x : v)
      x = dist(gen);
    return v;
  };
  std::vector<float> a = rnd(count(cs, cs.a)), b = rnd(count(cs, cs.b));
  std::vector<unsigned> biasLoopDims;
  for (unsigned p : cs.bias)
    biasLoopDims.push_back(cs.c[p]);
  std::vector<float> bias = rnd(cs.useBias ? count(cs, biasLoopDims) : 1);
  std::vector<float> out(count(cs, cs.c), NAN);
  std::vector<float> scale = rnd(count(cs, biasLoopDims)), res = rnd(count(cs, cs.c));
  std::vector<void *> args{a.data(), b.data()};
  if (cs.useBias)
    args.push_back(bias.data());
  if (cs.epi == Case::Epi::ScaleResidualRelu) {
    args.push_back(scale.data());
    args.push_back(res.data());
  }
  args.push_back(out.data());
  k(args.data());

  // Reference.
  std::vector<double> ref(out.size(), 0.0);
  std::vector<int64_t> iv(cs.range.size(), 0);
  std::vector<bool> seen(out.size(), false);
  for (;;) {
    int64_t ci = linear(cs, cs.c, iv);
    if (!seen[ci]) {
      seen[ci] = true;
      ref[ci] = cs.useBias ? bias[linear(cs, biasLoopDims, iv)] : 0.0;
    }
    ref[ci] += double(a[linear(cs, cs.a, iv)]) * b[linear(cs, cs.b, iv)];
    unsigned d = cs.range.size();
    while (d > 0 && ++iv[d - 1] == cs.range[d - 1])
      iv[--d] = 0;
    if (d == 0)
      break;
  }
  std::vector<double> scaleOf(out.size(), 1.0);
  if (cs.epi == Case::Epi::ScaleResidualRelu) {
    std::fill(iv.begin(), iv.end(), 0);
    for (;;) {
      scaleOf[linear(cs, cs.c, iv)] = scale[linear(cs, biasLoopDims, iv)];
      unsigned d = cs.range.size();
      while (d > 0 && ++iv[d - 1] == cs.range[d - 1])
        iv[--d] = 0;
      if (d == 0)
        break;
    }
  }
  double worst = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    double want = ref[i];
    if (cs.epi == Case::Epi::ScaleResidualRelu)
      want = std::max(want * scaleOf[i] + res[i], 0.0);
    if (cs.epi == Case::Epi::Tanh)
      want = std::tanh(want);
    else if (cs.epi == Case::Epi::Relu)
      want = std::max(want, 0.0);
    double err = std::abs(out[i] - want) / (1.0 + std::abs(want));
    worst = std::max(worst, std::isnan(out[i]) ? 1e30 : err);
  }
  EXPECT_LT(worst, cs.tolerance) << "worst relative error";
  if (worstOut)
    *worstOut = worst;
}

/// linalg.conv_2d_nchw_fchw (or conv_1d_ncw_fcw when h == 0) with stride s,
/// through the pipeline, against direct loops: exercises the B pack modes
/// (contiguous runs, stride 2 even lanes, gathers).
void runConv(int64_t n, int64_t c, int64_t h, int64_t w, int64_t f, int64_t k, int64_t s) {
  bool oneD = h == 0;
  int64_t ho = oneD ? 1 : (h - k) / s + 1, wo = (w - k) / s + 1;
  auto ty = [](std::vector<int64_t> d) { return tensorTy(d); };
  std::string tx = oneD ? ty({n, c, w}) : ty({n, c, h, w}), tw = oneD ? ty({f, c, k}) : ty({f, c, k, k}),
              tyy = oneD ? ty({n, f, wo}) : ty({n, f, ho, wo});
  std::string attrs = oneD ? "{dilations = dense<1> : tensor<1xi64>, strides = dense<" +
                                 std::to_string(s) + "> : tensor<1xi64>}"
                           : "{dilations = dense<1> : tensor<2xi64>, strides = dense<" +
                                 std::to_string(s) + "> : tensor<2xi64>}";
  std::string src = "func.func @k(%x: " + tx + ", %w: " + tw + ") -> " + tyy + " {\n" +
                    "  %z = arith.constant 0.0 : f32\n  %e = tensor.empty() : " + tyy +
                    "\n  %i = linalg.fill ins(%z : f32) outs(%e : " + tyy + ") -> " + tyy +
                    "\n  %r = linalg." + (oneD ? "conv_1d_ncw_fcw " : "conv_2d_nchw_fchw ") +
                    attrs + " ins(%x, %w : " + tx + ", " + tw + ") outs(%i : " + tyy + ") -> " +
                    tyy + "\n  return %r : " + tyy + "\n}\n";
  SCOPED_TRACE(src);
  OwningOpRef<ModuleOp> m = parseSourceString<ModuleOp>(src, &context());
  ASSERT_TRUE(m);
  auto cm = kiln::cpu::CPUJit::compile(*m);
  ASSERT_TRUE(bool(cm)) << llvm::toString(cm.takeError());
  kiln::cpu::KernelFn kf = (*cm)->lookup("k");
  int64_t hh = oneD ? 1 : h;
  std::mt19937 gen(3);
  std::uniform_real_distribution<float> dist(-1, 1);
  std::vector<float> x(n * c * hh * w), wt(f * c * (oneD ? 1 : k) * k), y(n * f * ho * wo, NAN);
  for (float &v : x)
    v = dist(gen);
  for (float &v : wt)
    v = dist(gen);
  void *args[] = {x.data(), wt.data(), y.data()};
  kf(args);
  int64_t kh = oneD ? 1 : k;
  double worst = 0;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t o = 0; o < f; ++o)
      for (int64_t oy = 0; oy < ho; ++oy)
        for (int64_t ox = 0; ox < wo; ++ox) {
          double acc = 0;
          for (int64_t ci = 0; ci < c; ++ci)
            for (int64_t ky = 0; ky < kh; ++ky)
              for (int64_t kx = 0; kx < k; ++kx)
                acc += double(wt[((o * c + ci) * kh + ky) * k + kx]) *
                       x[((b * c + ci) * hh + oy * s + ky) * w + ox * s + kx];
          float got = y[((b * f + o) * ho + oy) * wo + ox];
          worst = std::max(worst, std::isnan(got) ? 1e30 : std::abs(got - acc) / (1 + std::abs(acc)));
        }
  EXPECT_LT(worst, 2e-5);
}

TEST(GemmLowering, ConvolutionPackModes) {
  runConv(2, 3, 18, 18, 7, 3, 1); // Wo = 16: runs of 8 contiguous in the image
  runConv(2, 3, 14, 14, 7, 3, 1); // Wo = 12: gathers
  runConv(2, 3, 33, 33, 7, 3, 2); // stride 2, Wo = 16: two loads + even lanes
  runConv(2, 3, 0, 83, 5, 5, 2);  // 1-D, stride 2, Wo = 40: affine stride 2
  runConv(1, 4, 0, 40, 5, 3, 3);  // 1-D, stride 3: gathers
}

// Loop dims are named by position: d0, d1, ...

TEST(GemmLowering, MatmulEdges) {
  // M = 13: two 6-row panels + a 1-row one; N = 37: two 16-wide panels + 5
  // columns; K = 1000: 4 k blocks of 250. A is read in place (few columns).
  run({{13, 37, 1000}, {0, 2}, {2, 1}, {0, 1}});
  // N = 600 (37 panels + 8 columns): A is packed; K = 700: 2 blocks of 350.
  run({{13, 600, 700}, {0, 2}, {2, 1}, {0, 1}});
}

TEST(GemmLowering, BothOperandsTransposed) {
  // C[m, n] += A[k, m] * B[n, k]: A packed from columns, B gathered.
  run({{20, 50, 33}, {2, 0}, {1, 2}, {0, 1}});
}

TEST(GemmLowering, BatchDims) {
  run({{3, 7, 20, 9}, {0, 1, 3}, {0, 3, 2}, {0, 1, 2}});
}

TEST(GemmLowering, OutputContiguousAlongFirstOperand) {
  // C stored [n, m]: the roles swap (input 0 becomes the vector side).
  run({{30, 6, 40}, {0, 2}, {2, 1}, {1, 0}});
}

TEST(GemmLowering, OuterDimsLikeConvolution) {
  // C[i, f, p] += W[f, k] * X[i, k, p]: the image index i is an outer B-only
  // dimension (C is not contiguous across it together with p).
  run({{4, 11, 10, 17}, {1, 3}, {0, 3, 2}, {0, 1, 2}});
}

TEST(GemmLowering, SingleK) {
  run({{9, 70, 1}, {0, 2}, {2, 1}, {0, 1}});
}

TEST(GemmLowering, BiasAlongNAndTanhManyKBlocks) {
  // FullyConnected-like: bias[n], tanh fused; K = 800 in 4 k blocks, M = 5.
  Case cs{{5, 9, 800}, {0, 2}, {1, 2}, {0, 1}};
  cs.bias = {1};
  cs.useBias = true;
  cs.epi = Case::Epi::Tanh;
  run(cs);
}

TEST(GemmLowering, BiasAlongMAndRelu) {
  // Convolution-like: bias per filter (a broadcast per tile row), relu fused.
  Case cs{{3, 20, 24, 25}, {1, 3}, {0, 3, 2}, {0, 1, 2}};
  cs.bias = {1};
  cs.useBias = true;
  cs.epi = Case::Epi::Relu;
  run(cs);
}

TEST(GemmLowering, EpilogueWithScaleAndResidual) {
  // Convolution-like with a per-filter scale and a residual in the epilogue
  // (ResNet's conv + BatchNorm + add + relu), with and without a bias, one
  // and several k blocks.
  Case cs{{3, 20, 24, 25}, {1, 3}, {0, 3, 2}, {0, 1, 2}};
  cs.bias = {1};
  cs.epi = Case::Epi::ScaleResidualRelu;
  run(cs);
  cs.useBias = true;
  cs.range = {2, 13, 50, 700};
  run(cs);
}

TEST(GemmLowering, LongSumsAccumulatePerKBlock) {
  // K = 16384 products in [0, 1) (64 k blocks of 256). Summed in one float32
  // chain per output, as the micro-kernel once did (it loaded C before each
  // k block and went on accumulating into it), the worst output is 4.5e-6
  // off; summed per k block from zero and then added to C, 3.2e-7. The
  // summation order does not depend on the ISA or the thread count. MXNet's
  // float32 convolutions and GEMMs (oneDNN, OpenBLAS) sum per block too,
  // and Kiln's float32 error is measured against theirs (docs/numerics.md).
  Case cs{{8, 40, 16384}, {0, 2}, {2, 1}, {0, 1}};
  cs.positive = true;
  cs.tolerance = 1.5e-6;
  run(cs);
}

TEST(GemmLowering, OneThreadAndManyTasks) {
  Case one{{13, 37, 1000}, {0, 2}, {2, 1}, {0, 1}};
  one.threads = 1;
  run(one);
  Case fc{{64, 500, 800}, {0, 2}, {1, 2}, {0, 1}};
  fc.bias = {1};
  fc.useBias = true;
  fc.epi = Case::Epi::Tanh;
  run(fc);
  fc.threads = 1;
  run(fc);
  run({{70, 300, 64}, {0, 2}, {2, 1}, {0, 1}});
}

} // namespace
