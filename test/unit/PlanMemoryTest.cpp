//===- PlanMemoryTest.cpp - The static memory planner ---------------------===//
//
// Hand-computed plans for small graphs (each number is worked out in the
// comment above it) and properties on thousands of random DAGs, checked by
// an independent liveness/overlap checker that does not trust the planner's
// own bookkeeping.
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphOps.h"
#include "Transforms/MemoryPlan.h"
#include "Transforms/OutlineKernels.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

using namespace kiln;
using namespace kiln::memplan;

namespace {

int64_t align64(int64_t n) { return (n + 63) / 64 * 64; }

MemoryPlanOptions withStrategy(MemoryStrategy s) {
  MemoryPlanOptions o;
  o.strategy = s;
  return o;
}

/// Independent check of an assignment. Liveness is recomputed here from the
/// problem: a tensor is live from the step defining it to its last reader.
void checkAssignment(const Problem &p, const Assignment &a, const std::string &ctx) {
  SCOPED_TRACE(ctx);
  size_t n = p.tensors.size();
  std::vector<int> def(n, -1), last(n, -1), producer(n, -1);
  for (size_t s = 0; s < p.steps.size(); ++s) {
    for (unsigned r : p.steps[s].results)
      def[r] = last[r] = (int)s, producer[r] = (int)s;
    for (unsigned o : p.steps[s].operands)
      last[o] = std::max(last[o], (int)s);
  }
  int64_t sumBlocks = 0;
  for (int64_t b : a.blockBytes) {
    EXPECT_EQ(b % 64, 0);
    sumBlocks += b;
  }
  EXPECT_EQ(a.arenaBytes, sumBlocks);
  for (size_t t = 0; t < n; ++t) {
    bool inArena = !p.tensors[t].external && producer[t] >= 0;
    if (!inArena) {
      EXPECT_EQ(a.storage[t], -1) << "tensor " << t << " is outside the arena";
      continue;
    }
    ASSERT_GE(a.storage[t], 0) << "intermediate " << t << " has no storage";
    ASSERT_LT(a.storage[t], (int64_t)a.blockBytes.size());
    EXPECT_EQ(a.offset[t] % 64, 0);
    EXPECT_EQ(a.offset[t], a.blockOffset[a.storage[t]]);
    EXPECT_LE(align64(p.tensors[t].bytes), a.blockBytes[a.storage[t]]);
    EXPECT_LE(a.offset[t] + p.tensors[t].bytes, a.arenaBytes);
    if (a.inPlaceOf[t] >= 0) {
      int o = a.inPlaceOf[t];
      const Problem::Step &st = p.steps[producer[t]];
      size_t ri = std::find(st.results.begin(), st.results.end(), (unsigned)t) - st.results.begin();
      ASSERT_LT(ri, st.inPlace.size());
      ASSERT_GE(st.inPlace[ri], 0) << "in place without permission";
      EXPECT_EQ(st.operands[st.inPlace[ri]], (unsigned)o) << "in place over the wrong operand";
      EXPECT_EQ(last[o], def[t]) << "in place over an operand that is still live";
      EXPECT_EQ(p.tensors[o].bytes, p.tensors[t].bytes);
      EXPECT_EQ(a.storage[o], a.storage[t]);
    }
  }
  // Exhaustive: every pair of intermediates live at the same time occupies
  // disjoint bytes, except an operand and the result that took its storage
  // in place at the operand's last step.
  for (size_t i = 0; i < n; ++i) {
    if (a.storage[i] < 0 || p.tensors[i].bytes == 0)
      continue;
    for (size_t j = i + 1; j < n; ++j) {
      if (a.storage[j] < 0 || p.tensors[j].bytes == 0)
        continue;
      bool liveTogether = def[i] <= last[j] && def[j] <= last[i];
      if (!liveTogether)
        continue;
      bool inPlacePair = (a.inPlaceOf[j] == (int)i && last[i] == def[j]) ||
                         (a.inPlaceOf[i] == (int)j && last[j] == def[i]);
      if (inPlacePair)
        continue;
      bool disjoint = a.offset[i] + p.tensors[i].bytes <= a.offset[j] ||
                      a.offset[j] + p.tensors[j].bytes <= a.offset[i];
      EXPECT_TRUE(disjoint) << "tensors " << i << " [" << def[i] << "," << last[i] << "] and "
                            << j << " [" << def[j] << "," << last[j] << "] overlap at offsets "
                            << a.offset[i] << " and " << a.offset[j];
    }
  }
}

/// A random scheduled DAG: `args` external inputs, then steps reading
/// earlier tensors (biased to recent ones) with random sizes, some of them
/// equal so in-place can apply, some not multiples of 64.
Problem randomProblem(std::mt19937 &rng) {
  Problem p;
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  static const int64_t sizes[] = {0, 4, 64, 100, 128, 256, 256, 512, 1000, 1024, 4096};
  int args = pick(1, 3);
  for (int i = 0; i < args; ++i)
    p.tensors.push_back({sizes[pick(1, 10)], true});
  int steps = pick(1, 40);
  for (int s = 0; s < steps; ++s) {
    Problem::Step st;
    int nops = pick(1, 3);
    for (int k = 0; k < nops; ++k) {
      int n = (int)p.tensors.size();
      int back = std::min(n - 1, (int)std::geometric_distribution<int>(0.3)(rng));
      st.operands.push_back(pick(0, 3) == 0 ? pick(0, n - 1) : n - 1 - back);
    }
    int nres = pick(0, 5) == 0 ? 2 : 1;
    for (int r = 0; r < nres; ++r) {
      int64_t bytes = pick(0, 2) == 0 ? p.tensors[st.operands[0]].bytes : sizes[pick(0, 10)];
      st.results.push_back(p.tensors.size());
      st.inPlace.push_back(pick(0, 2) ? pick(0, nops - 1) : -1);
      p.tensors.push_back({bytes, pick(0, 9) == 0});
    }
    p.steps.push_back(std::move(st));
  }
  // The last step's results are the graph heads.
  for (unsigned r : p.steps.back().results)
    p.tensors[r].external = true;
  return p;
}

} // namespace

//===----------------------------------------------------------------------===//
// Hand-computed plans (planner core)
//===----------------------------------------------------------------------===//

// Chain x → a → b → c → d → e with a, b 256 bytes, c, d 128 bytes; a, b, d,
// e may overwrite operand 0, c (an FC) may not; x is an argument, e is the
// output.
//   naive:   256+256+128+128 = 768, offsets 0, 256, 512, 640.
//   inplace: b takes a's block (a dies at b), d takes c's: 256+128 = 384.
//   coshare: a→B0, b→B1, a released; c (128) may take B0 (256) only with a
//            match range ≥ 2 ([128, 256] with range 2), then b released,
//            d takes B1: 512. With range 1 nothing fits: 768; the search
//            keeps 512 (range 2).
//   both:    in place as for inplace, nothing is ever released early: 384.
static Problem chain() {
  Problem p;
  p.tensors = {{1024, true}, {256, false}, {256, false}, {128, false}, {128, false}, {128, true}};
  p.steps = {{{0}, {1}, {0}}, {{1}, {2}, {0}}, {{2}, {3}, {-1}}, {{3}, {4}, {0}}, {{4}, {5}, {0}}};
  return p;
}

TEST(PlanMemory, ChainByHand) {
  Problem p = chain();
  Assignment naive = solve(p, withStrategy(MemoryStrategy::Naive));
  EXPECT_EQ(naive.arenaBytes, 768);
  EXPECT_EQ(naive.offset, (std::vector<int64_t>{-1, 0, 256, 512, 640, -1}));

  Assignment inplace = solve(p, withStrategy(MemoryStrategy::InPlace));
  EXPECT_EQ(inplace.arenaBytes, 384);
  EXPECT_EQ(inplace.storage, (std::vector<int64_t>{-1, 0, 0, 1, 1, -1}));
  EXPECT_EQ(inplace.offset, (std::vector<int64_t>{-1, 0, 0, 256, 256, -1}));
  EXPECT_EQ(inplace.inPlaceOf, (std::vector<int>{-1, -1, 1, -1, 3, -1}));

  Assignment coshare = solve(p, withStrategy(MemoryStrategy::CoShare));
  EXPECT_EQ(coshare.arenaBytes, 512);
  EXPECT_EQ(coshare.matchRange, 2);
  EXPECT_EQ(coshare.storage, (std::vector<int64_t>{-1, 0, 1, 0, 1, -1}));
  MemoryPlanOptions exact = withStrategy(MemoryStrategy::CoShare);
  exact.autoSearchMatchRange = false;
  exact.matchRange = 1;
  EXPECT_EQ(solve(p, exact).arenaBytes, 768);

  Assignment both = solve(p, withStrategy(MemoryStrategy::Both));
  EXPECT_EQ(both.arenaBytes, 384);
  EXPECT_TRUE(both.usedInPlace);
  for (const Assignment *a : {&naive, &inplace, &coshare, &both})
    checkAssignment(p, *a, memoryStrategyName(a->strategy));
}

// Diamond x → a; b = f(a); c = add(a, b) may overwrite a; out = g(c).
// Sizes 256 each. a is still read by c, so b cannot overwrite it.
//   naive 768; inplace: c takes a's block → 512; coshare: a and b die at c,
//   after c's request, so nothing is free when c asks → 768; both 512.
TEST(PlanMemory, DiamondByHand) {
  Problem p;
  p.tensors = {{256, true}, {256, false}, {256, false}, {256, false}, {256, true}};
  p.steps = {{{0}, {1}, {0}}, {{1}, {2}, {0}}, {{1, 2}, {3}, {0}}, {{3}, {4}, {0}}};
  EXPECT_EQ(solve(p, withStrategy(MemoryStrategy::Naive)).arenaBytes, 768);
  Assignment ip = solve(p, withStrategy(MemoryStrategy::InPlace));
  EXPECT_EQ(ip.arenaBytes, 512);
  EXPECT_EQ(ip.storage, (std::vector<int64_t>{-1, 0, 1, 0, -1}));
  EXPECT_EQ(solve(p, withStrategy(MemoryStrategy::CoShare)).arenaBytes, 768);
  EXPECT_EQ(solve(p, withStrategy(MemoryStrategy::Both)).arenaBytes, 512);
}

// Real dtype sizes and alignment: 3 f32 (12 bytes) and 5 f64 (40 bytes)
// each get a 64-byte block; 100 bytes get 128.
TEST(PlanMemory, AlignmentAndOddSizes) {
  Problem p;
  p.tensors = {{8, true}, {12, false}, {40, false}, {100, false}, {4, true}};
  p.steps = {{{0}, {1}, {-1}}, {{1}, {2}, {-1}}, {{2}, {3}, {-1}}, {{3}, {4}, {-1}}};
  Assignment a = solve(p, withStrategy(MemoryStrategy::Naive));
  EXPECT_EQ(a.arenaBytes, 64 + 64 + 128);
  EXPECT_EQ(a.offset, (std::vector<int64_t>{-1, 0, 64, 128, -1}));
  // Co-share: block 0 (64, freed after step 1) serves tensor 3 (128) only
  // by growing (range ≥ 2): 64→128; block 1 (64) stays: 192.
  EXPECT_EQ(solve(p, withStrategy(MemoryStrategy::CoShare)).arenaBytes, 192);
}

// The same operand twice (add(a, a)) dies once; a result with no reader is
// released at once and its block reused.
TEST(PlanMemory, RepeatedOperandAndDeadResult) {
  Problem p;
  p.tensors = {{256, true}, {256, false}, {256, false}, {256, false}, {256, true}};
  // a = f(x); b = add(a, a) (in place over a); dead = g(b) (never read);
  // out = h(b)
  p.steps = {{{0}, {1}, {0}}, {{1, 1}, {2}, {0}}, {{2}, {3}, {-1}}, {{2}, {4}, {-1}}};
  Assignment a = solve(p, withStrategy(MemoryStrategy::Both));
  checkAssignment(p, a, "both");
  EXPECT_EQ(a.inPlaceOf[2], 1);
  // dead needs its own block while b is live: 512.
  EXPECT_EQ(a.arenaBytes, 512);
}

//===----------------------------------------------------------------------===//
// Properties on random DAGs
//===----------------------------------------------------------------------===//

TEST(PlanMemory, RandomDAGProperties) {
  std::mt19937 rng(20240611);
  int inPlaceUsed = 0, coshareWins = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    Problem p = randomProblem(rng);
    std::string ctx = "random DAG #" + std::to_string(iter);
    Assignment naive = solve(p, withStrategy(MemoryStrategy::Naive));
    Assignment inplace = solve(p, withStrategy(MemoryStrategy::InPlace));
    Assignment coshare = solve(p, withStrategy(MemoryStrategy::CoShare));
    Assignment both = solve(p, withStrategy(MemoryStrategy::Both));
    for (const Assignment *a : {&naive, &inplace, &coshare, &both})
      checkAssignment(p, *a, ctx + " " + memoryStrategyName(a->strategy));

    int64_t sum = 0;
    for (size_t t = 0; t < p.tensors.size(); ++t)
      if (naive.storage[t] >= 0)
        sum += align64(p.tensors[t].bytes);
    EXPECT_EQ(naive.arenaBytes, sum) << ctx;
    EXPECT_LE(coshare.arenaBytes, naive.arenaBytes) << ctx;
    EXPECT_LE(inplace.arenaBytes, naive.arenaBytes) << ctx;
    EXPECT_LE(both.arenaBytes, coshare.arenaBytes) << ctx;
    EXPECT_LE(both.arenaBytes, inplace.arenaBytes) << ctx;
    // Deterministic: the plan is data that must not change between builds.
    Assignment again = solve(p, withStrategy(MemoryStrategy::Both));
    EXPECT_EQ(again.offset, both.offset) << ctx;
    inPlaceUsed += inplace.usedInPlace;
    coshareWins += coshare.arenaBytes < naive.arenaBytes;
    if (HasFailure())
      break;
  }
  // The generator must exercise both mechanisms, or the test proves little.
  EXPECT_GT(inPlaceUsed, 500);
  EXPECT_GT(coshareWins, 500);
}

//===----------------------------------------------------------------------===//
// From IR
//===----------------------------------------------------------------------===//

namespace {
mlir::MLIRContext &context() {
  static mlir::MLIRContext *ctx = [] {
    mlir::DialectRegistry registry;
    registry.insert<kiln::graph::GraphDialect, mlir::func::FuncDialect>();
    auto *c = new mlir::MLIRContext(registry);
    c->loadAllAvailableDialects();
    return c;
  }();
  return *ctx;
}

mlir::OwningOpRef<mlir::ModuleOp> parse(const std::string &src) {
  auto m = mlir::parseSourceString<mlir::ModuleOp>(src, &context());
  if (!m)
    ADD_FAILURE() << "does not parse:\n" << src;
  return m;
}

// The chain above as IR: 8x8 f32 = 256 bytes, FC to 8x4 f32 = 128 bytes.
const char *kChainIR = R"mlir(
func.func @main(%x: tensor<8x8xf32>, %w: tensor<4x8xf32>, %bias: tensor<4xf32>) -> tensor<8x4xf32> {
  %a = graph.activation %x {act_type = #graph.act_type<relu>} : (tensor<8x8xf32>) -> tensor<8x8xf32> loc("a")
  %b = graph.activation %a {act_type = #graph.act_type<tanh>} : (tensor<8x8xf32>) -> tensor<8x8xf32> loc("b")
  %c = graph.fully_connected %b, %w, %bias {num_hidden = 4 : i64}
      : (tensor<8x8xf32>, tensor<4x8xf32>, tensor<4xf32>) -> tensor<8x4xf32> loc("c")
  %d = graph.activation %c {act_type = #graph.act_type<sigmoid>} : (tensor<8x4xf32>) -> tensor<8x4xf32> loc("d")
  %e = graph.activation %d {act_type = #graph.act_type<relu>} : (tensor<8x4xf32>) -> tensor<8x4xf32> loc("e")
  return %e : tensor<8x4xf32>
}
)mlir";
} // namespace

TEST(PlanMemory, ReportFromIRMatchesHandComputedChain) {
  auto m = parse(kChainIR);
  ASSERT_TRUE(m);
  auto f = m->lookupSymbol<mlir::func::FuncOp>("main");
  auto report = computeMemoryReport(f);
  ASSERT_TRUE(mlir::succeeded(report));
  EXPECT_EQ(report->naive, 768);
  EXPECT_EQ(report->inplace, 384);
  EXPECT_EQ(report->coshare, 512);
  EXPECT_EQ(report->both, 384);

  // The same numbers after outlining: in-place now comes from kiln.inplace.
  ASSERT_TRUE(mlir::succeeded(outlineKernels(*m)));
  auto after = computeMemoryReport(f);
  ASSERT_TRUE(mlir::succeeded(after));
  EXPECT_EQ(after->naive, 768);
  EXPECT_EQ(after->inplace, 384);
  EXPECT_EQ(after->coshare, 512);
  EXPECT_EQ(after->both, 384);
}

// f16 is 2 bytes, f64 8: a 4x8 f16 intermediate takes 64 bytes, a 4x8 f64
// one 256.
TEST(PlanMemory, RealDTypeSizes) {
  auto m = parse(R"mlir(
func.func @main(%x: tensor<4x8xf16>, %y: tensor<4x8xf64>) -> (tensor<4x8xf16>, tensor<4x8xf64>) {
  %a = graph.activation %x {act_type = #graph.act_type<tanh>} : (tensor<4x8xf16>) -> tensor<4x8xf16>
  %b = graph.activation %a {act_type = #graph.act_type<tanh>} : (tensor<4x8xf16>) -> tensor<4x8xf16>
  %c = graph.activation %y {act_type = #graph.act_type<tanh>} : (tensor<4x8xf64>) -> tensor<4x8xf64>
  %d = graph.activation %c {act_type = #graph.act_type<tanh>} : (tensor<4x8xf64>) -> tensor<4x8xf64>
  return %b, %d : tensor<4x8xf16>, tensor<4x8xf64>
}
)mlir");
  ASSERT_TRUE(m);
  auto report = computeMemoryReport(m->lookupSymbol<mlir::func::FuncOp>("main"));
  ASSERT_TRUE(mlir::succeeded(report));
  EXPECT_EQ(report->naive, 64 + 256);
}

TEST(PlanMemory, DynamicShapeIsAnError) {
  auto m = parse(R"mlir(
func.func @main(%x: tensor<*xf32>) -> tensor<*xf32> {
  %a = graph.activation %x {act_type = #graph.act_type<relu>} : (tensor<*xf32>) -> tensor<*xf32>
  %b = graph.activation %a {act_type = #graph.act_type<relu>} : (tensor<*xf32>) -> tensor<*xf32>
  return %b : tensor<*xf32>
}
)mlir");
  ASSERT_TRUE(m);
  std::string msg;
  mlir::ScopedDiagnosticHandler h(&context(), [&](mlir::Diagnostic &d) {
    msg = d.str();
    return mlir::success();
  });
  EXPECT_TRUE(mlir::failed(planFunctionMemory(m->lookupSymbol<mlir::func::FuncOp>("main"))));
  EXPECT_NE(msg.find("statically shaped"), std::string::npos) << msg;
}
