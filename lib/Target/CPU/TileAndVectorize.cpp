//===- TileAndVectorize.cpp - cache/register tiling and vectorization ----===//
//
// Runs on tensors, before one-shot bufferization: tiling on tensors lets
// hoistLoopInvariantSubsets keep a matmul's accumulator tile in registers
// (on memrefs, function arguments may alias and the hoist is refused;
// mlir-research.md §3.1). Only the innermost register tile is vectorized, so
// no huge vector values appear (the stack-overflow trap of §3.1(b)).
//
//===----------------------------------------------------------------------===//

#include "Target/CPU/Contraction.h"
#include "Target/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Patterns.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Transforms/DialectConversion.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/Dominance.h"
#include "mlir/Transforms/CSE.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/TargetParser/Host.h"

namespace kiln::cpu {
#define GEN_PASS_DEF_TILEANDVECTORIZE
#include "Target/CPU/Passes.h.inc"
} // namespace kiln::cpu

using namespace mlir;

namespace {

/// f32 lanes of one vector register and rows of the matmul register tile:
/// AVX-512 (32 registers): 8 rows × 2 vectors of 16; AVX2 (16 registers):
/// 4 rows × 2 vectors of 8 (8 accumulators + 2 B vectors + broadcasts).
/// Set once per pass run from the `vector-bits` option.
int64_t kLanes = 16;
int64_t kRows = 8;

/// 512 when the host has AVX-512F, else 256. This VM's CPUID, for one, shows
/// no AVX-512 although the EPYC underneath has it (docs/lowering.md).
unsigned hostVectorBits() {
  llvm::StringMap<bool> f = llvm::sys::getHostCPUFeatures();
  auto it = f.find("avx512f");
  return it != f.end() && it->second ? 512 : 256;
}

/// Tiles `op` with `sizes` (0 = untiled) and replaces it; returns the tiled op.
/// `interchange` (optional) orders the generated loops.
FailureOr<Operation *> tile(RewriterBase &rw, Operation *op, ArrayRef<int64_t> sizes,
                            bool forall, ArrayRef<int64_t> interchange = {}) {
  if (llvm::all_of(sizes, [](int64_t s) { return s == 0; }))
    return op;
  scf::SCFTilingOptions o;
  o.setTileSizes(getAsIndexOpFoldResult(rw.getContext(), sizes));
  if (!interchange.empty())
    o.setInterchange(interchange);
  if (forall)
    o.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
  rw.setInsertionPoint(op);
  FailureOr<scf::SCFTilingResult> r = scf::tileUsingSCF(rw, cast<TilingInterface>(op), o);
  if (failed(r))
    return failure();
  rw.replaceOp(op, r->replacements);
  return r->tiledOps.back();
}

bool hasStaticShapes(linalg::LinalgOp op) {
  return llvm::none_of(op.getStaticLoopRanges(), ShapedType::isDynamic);
}

/// C[m,n] += A·B[n,k] (FullyConnected's weight read transposed, graph.dot
/// with transpose_b) → transpose B once, then a matmul whose B rows are
/// contiguous along n, the vectorized dimension. A keeps its map: the
/// register tile reads mr scalars of A per k, contiguous or not.
void untransposeMatmulB(RewriterBase &rw, linalg::MatmulOp mm) {
  auto maps = mm.getIndexingMapsArray();
  MLIRContext *ctx = mm.getContext();
  AffineExpr m, n, k;
  bindDims(ctx, m, n, k);
  auto bt = AffineMap::get(3, 0, {n, k}, ctx);
  auto aPlain = AffineMap::get(3, 0, {m, k}, ctx), aT = AffineMap::get(3, 0, {k, m}, ctx);
  if (maps.size() != 3 || maps[1] != bt || (maps[0] != aPlain && maps[0] != aT) ||
      maps[2] != AffineMap::get(3, 0, {m, n}, ctx))
    return;
  Value b = mm.getDpsInputOperand(1)->get();
  auto bty = dyn_cast<RankedTensorType>(b.getType());
  if (!bty || !bty.hasStaticShape())
    return;
  Location loc = mm.getLoc();
  rw.setInsertionPoint(mm);
  Value empty = tensor::EmptyOp::create(rw, loc, ArrayRef<int64_t>{bty.getDimSize(1), bty.getDimSize(0)},
                                        bty.getElementType());
  Value bT =
      linalg::TransposeOp::create(rw, loc, b, empty, ArrayRef<int64_t>{1, 0})->getResult(0);
  SmallVector<NamedAttribute> attrs;
  if (maps[0] == aT)
    attrs.push_back(rw.getNamedAttr(
        "indexing_maps", rw.getAffineMapArrayAttr({aT, AffineMap::get(3, 0, {k, n}, ctx),
                                                   AffineMap::get(3, 0, {m, n}, ctx)})));
  auto nm = linalg::MatmulOp::create(rw, loc, mm.getResultTypes(),
                                     ValueRange{mm.getDpsInputOperand(0)->get(), bT},
                                     ValueRange{mm.getDpsInitOperand(0)->get()}, attrs);
  rw.replaceOp(mm, nm->getResults());
}

/// Matmul-like contraction with a single m, n, k (plus batch dims) whose n
/// is the innermost dimension of B and C: forall over (batch, m, n) cache
/// tiles, scf.for over k blocks, scf.for over an mr×nr register tile with
/// k = 1, vectorized to mr FMAs on vector<nr x f32>.
LogicalResult tileContraction(RewriterBase &rw, linalg::LinalgOp op,
                              SmallVectorImpl<Operation *> &vectorized) {
  if (!op.hasPureTensorSemantics() || !hasStaticShapes(op) || op.getNumDpsInits() != 1 ||
      op.getNumDpsInputs() != 2)
    return failure();
  FailureOr<linalg::ContractionDimensions> cd = linalg::inferContractionDims(op);
  if (failed(cd) || cd->m.empty() || cd->n.empty() || cd->k.size() != 1)
    return failure();
  auto maps = op.getIndexingMapsArray();
  auto lastIs = [](AffineMap map, unsigned d) {
    return map.getNumResults() > 0 && map.getResults().back() == getAffineDimExpr(d, map.getContext());
  };
  // Extra m/n dims (im2col's image index is an n dim: absent from the
  // filter) are tiled by 1 like batch dims; n is the one C runs along, m the
  // innermost other.
  unsigned kD = cd->k[0];
  std::optional<unsigned> nSel;
  for (unsigned d : cd->n)
    if (lastIs(maps[2], d))
      nSel = d;
  if (!nSel)
    return failure();
  unsigned nD = *nSel, mD = cd->m.back();
  for (unsigned d : cd->n)
    if (d != nD)
      cd->batch.push_back(d);
  for (unsigned d : cd->m)
    if (d != mD)
      cd->batch.push_back(d);
  // B and C must run along n contiguously; A is read one scalar at a time.
  Value a = op.getDpsInputOperand(0)->get(), b = op.getDpsInputOperand(1)->get();
  unsigned bIdx = 1;
  if (!lastIs(maps[1], nD)) {
    if (!lastIs(maps[0], nD))
      return failure();
    std::swap(a, b);
    bIdx = 0;
  }
  (void)bIdx;
  if (!lastIs(maps[2], nD))
    return failure();
  // Only the plain multiply-add body vectorizes into FMAs.
  SmallVector<int64_t> r = op.getStaticLoopRanges();
  int64_t M = r[mD], N = r[nD], K = r[kD];
  unsigned nl = op.getNumLoops();

  int64_t nr = N >= 2 * kLanes ? 2 * kLanes : kLanes;
  int64_t mr = std::min<int64_t>(M, kRows);
  int64_t mc = std::min<int64_t>(llvm::alignTo(M, mr), 64);
  int64_t nc = std::min<int64_t>(llvm::alignTo(N, nr), 256);
  int64_t kc = std::min<int64_t>(K, 256);

  SmallVector<int64_t> l0(nl, 0), l1(nl, 0), l2(nl, 0), vs(nl, 1);
  for (unsigned d : cd->batch)
    l0[d] = 1;
  l0[mD] = mc;
  l0[nD] = nc;
  l1[kD] = kc;
  for (unsigned d : cd->batch)
    l2[d] = 1;
  l2[mD] = mr;
  l2[nD] = nr;
  l2[kD] = 1;
  vs[mD] = mr;
  vs[nD] = nr;
  vs[kD] = 1;

  FailureOr<Operation *> t = tile(rw, op, l0, /*forall=*/true);
  if (failed(t))
    return failure();
  t = tile(rw, *t, l1, false);
  if (failed(t))
    return failure();
  t = tile(rw, *t, l2, false);
  if (failed(t))
    return failure();
  rw.setInsertionPoint(*t);
  FailureOr<linalg::VectorizationResult> v =
      // Explicit "not scalable" flags: with an empty list, vectorize read
      // flags past its end and sometimes made the n dimension scalable.
      linalg::vectorize(rw, *t, vs, SmallVector<bool>(vs.size(), false), false, false, false,
                        /*createNamedContraction=*/true);
  if (failed(v))
    return (*t)->emitError("kiln-cpu-tile-and-vectorize: register tile does not vectorize");
  rw.replaceOp(*t, v->replacements);
  return success();
}

/// A partial register tile masks the contraction, which lowers to a select
/// after every FMA. k is never partial (its tile is 1), and the masked
/// transfers read zeros outside the tile and never write the extra lanes
/// back, so the contraction itself needs no mask.
void unmaskContractions(RewriterBase &rw, Operation *root) {
  SmallVector<vector::MaskOp> masks;
  root->walk([&](vector::MaskOp m) {
    if (isa_and_nonnull<vector::ContractionOp>(m.getMaskableOp()))
      masks.push_back(m);
  });
  for (vector::MaskOp m : masks) {
    rw.setInsertionPoint(m);
    Operation *c = rw.clone(*m.getMaskableOp());
    rw.replaceOp(m, c->getResults());
  }
}

/// A generic whose operands all run along the innermost loop contiguously
/// (or broadcast it), with no gathers in its body: all-parallel, or with
/// reduction loops as long as the innermost loop is parallel and the outputs
/// are indexed by the parallel loops in order (the first stage of a
/// reduction over outer axes, e.g. BatchNorm's Σ over the batch: every lane
/// accumulates its own element).
bool isVectorizableElementwise(linalg::GenericOp g) {
  if (!g.hasPureTensorSemantics() || g.getNumLoops() == 0 || !hasStaticShapes(g))
    return false;
  if (g.getNumReductionLoops() != 0) {
    auto iters = g.getIteratorTypesArray();
    if (iters.back() != utils::IteratorType::parallel)
      return false;
    SmallVector<AffineExpr> par;
    for (unsigned d = 0; d < iters.size(); ++d)
      if (iters[d] == utils::IteratorType::parallel)
        par.push_back(getAffineDimExpr(d, g.getContext()));
    for (OpOperand &o : g.getDpsInitsMutable())
      if (g.getMatchingIndexingMap(&o).getResults() != ArrayRef<AffineExpr>(par))
        return false;
  }
  if (g.getBody()->walk([](Operation *op) {
         return isa<tensor::ExtractOp, linalg::IndexOp>(op) ? WalkResult::interrupt()
                                                             : WalkResult::advance();
       }).wasInterrupted())
    return false;
  unsigned last = g.getNumLoops() - 1;
  for (OpOperand &o : g->getOpOperands()) {
    AffineMap map = g.getMatchingIndexingMap(&o);
    if (!map.isProjectedPermutation(/*allowZeroInResults=*/true))
      return false;
    // A slice strided along its innermost dim (a col2im tap of a strided
    // window) would become masked gathers/scatters lane by lane: slower
    // than the scalar loop.
    if (auto sl = o.get().getDefiningOp<tensor::ExtractSliceOp>()) {
      ArrayRef<int64_t> st = sl.getStaticStrides();
      if (!st.empty() && st.back() != 1)
        return false;
    }
    // The innermost loop must be either absent (broadcast) or the operand's
    // innermost dimension.
    for (unsigned i = 0; i < map.getNumResults(); ++i)
      if (map.getResult(i) == getAffineDimExpr(last, g.getContext()) &&
          i + 1 != map.getNumResults())
        return false;
  }
  return g.getNumReductionLoops() != 0 || g.getIndexingMapsArray().back().isIdentity();
}

LogicalResult tileElementwise(RewriterBase &rw, linalg::GenericOp g, unsigned threads,
                              SmallVectorImpl<Operation *> &vectorized) {
  if (!isVectorizableElementwise(g))
    return failure();
  // Fold the longest run of trailing parallel loops that every operand
  // reads contiguously, or does not read at all, into one: long vector loops
  // with one mask at the end of the run (NCHW maps with per-channel
  // operands fold H·W; all-identity maps fold to 1-D). Maps with constant
  // results (NumPy broadcasting of size-1 dims) are left alone: collapsing
  // does not rewrite those. Nor when an operand is a slice: a strided or
  // rank-reduced slice (col2im's taps) is not contiguous, and collapsing it
  // would make bufferization copy it.
  linalg::LinalgOp op = g;
  unsigned nl = g.getNumLoops();
  auto isSlice = [](Value v) { return v.getDefiningOp<tensor::ExtractSliceOp>() != nullptr; };
  auto foldable = [&](unsigned k) {
    if (!llvm::all_of(llvm::drop_begin(g.getIteratorTypesArray(), k),
                      [](utils::IteratorType t) { return t == utils::IteratorType::parallel; }))
      return false;
    for (AffineMap m : g.getIndexingMapsArray()) {
      ArrayRef<AffineExpr> res = m.getResults();
      if (llvm::any_of(res, [](AffineExpr e) { return !isa<AffineDimExpr>(e); }))
        return false;
      unsigned present = llvm::count_if(
          res, [&](AffineExpr e) { return cast<AffineDimExpr>(e).getPosition() >= k; });
      if (present == 0)
        continue;
      if (present != nl - k)
        return false;
      for (unsigned i = 0; i < present; ++i)
        if (res[res.size() - present + i] != getAffineDimExpr(k + i, g.getContext()))
          return false;
    }
    return true;
  };
  unsigned k = nl - 1;
  while (k > 0 && foldable(k - 1))
    --k;
  if (nl - k > 1 && llvm::none_of(g->getOperands(), isSlice)) {
    ReassociationIndices run;
    for (unsigned i = k; i < nl; ++i)
      run.push_back(i);
    rw.setInsertionPoint(g);
    FailureOr<linalg::CollapseResult> c = linalg::collapseOpIterationDims(g, {run}, rw);
    if (succeeded(c)) {
      rw.replaceOp(g, c->results);
      op = c->collapsedOp;
    }
  }
  nl = op.getNumLoops();
  SmallVector<int64_t> r = op.getStaticLoopRanges();
  int64_t total = 1;
  for (int64_t s : r)
    total *= s;
  if (r.back() < kLanes / 2 && total < 4096)
    return failure(); // tiny: scalar loops are fine

  SmallVector<int64_t> l0(nl, 0), l1(nl, 1), vs(nl, 1);
  auto iters = op.getIteratorTypesArray();
  auto isPar = [&](unsigned d) { return iters[d] == utils::IteratorType::parallel; };
  // Parallel chunks of about 64 Ki elements over the outermost non-unit
  // parallel loop (a reduction loop stays whole inside each chunk).
  if (threads > 1 && total >= (1 << 16)) {
    for (unsigned d = 0; d < nl; ++d) {
      if (r[d] == 1 || !isPar(d))
        continue;
      // Elements per index of d: every other loop runs inside a chunk (the
      // loops before d have extent 1, or are reductions).
      int64_t inner = total / r[d];
      int64_t perChunk = std::max<int64_t>(1, (1 << 16) / std::max<int64_t>(inner, 1));
      if (d + 1 == nl)
        perChunk = llvm::alignTo(perChunk, kLanes);
      // Prefer a chunk (a multiple of the vector width along the innermost
      // loop) that divides the loop: then every tile has a static size and
      // its vector accesses need no mask; a mask on every access (a masked
      // store is microcoded on AMD) made a chunked relu 5-10x slower.
      int64_t step = d + 1 == nl ? kLanes : 1;
      for (int64_t c = std::min(perChunk, r[d]) / step * step; c >= std::max(step, perChunk / 4);
           c -= step)
        if (r[d] % c == 0) {
          perChunk = c;
          break;
        }
      l0[d] = std::min(perChunk, r[d]);
      break;
    }
  }
  l1[nl - 1] = kLanes;
  vs[nl - 1] = kLanes;
  // Loops stay in their order: with the reduction loops outermost (the
  // batch of a per-channel sum) the input streams through memory and the
  // partial result, small, stays in cache. (Reduction loops innermost would
  // keep the accumulator in a register but read one vector from each of
  // many rows far apart in turn, which measured 3-4x slower.)
  SmallVector<int64_t> natural;
  for (unsigned d = 0; d < nl; ++d)
    natural.push_back(d);
  FailureOr<Operation *> t = tile(rw, op, l0, /*forall=*/true);
  if (failed(t))
    return failure();
  // An explicit order: tileUsingSCF would otherwise put reduction loops
  // innermost.
  t = tile(rw, *t, l1, false, natural);
  if (failed(t))
    return failure();
  rw.setInsertionPoint(*t);
  FailureOr<linalg::VectorizationResult> v =
      linalg::vectorize(rw, *t, vs, SmallVector<bool>(vs.size(), false));
  if (failed(v))
    return (*t)->emitError("kiln-cpu-tile-and-vectorize: elementwise tile does not vectorize");
  rw.replaceOp(*t, v->replacements);
  return success();
}

struct TileAndVectorizePass
    : kiln::cpu::impl::TileAndVectorizeBase<TileAndVectorizePass> {
  using TileAndVectorizeBase::TileAndVectorizeBase;

  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    MLIRContext *ctx = &getContext();
    IRRewriter rw(ctx);
    unsigned bits = vectorBits ? unsigned(vectorBits) : hostVectorBits();
    kLanes = bits >= 512 ? 16 : 8;
    // 6 rows would fit AVX2 best, but tiles that do not divide the
    // power-of-two shapes go through masked (scalarized) transfers.
    kRows = bits >= 512 ? 8 : 4;

    // Contractions that kiln-cpu-lower-contractions turns into packed GEMMs
    // after bufferization (matmuls with any transposes, convolutions with
    // im2col folded into the B pack, contraction generics) stay as they are.
    // What it cannot take goes the old way below: im2col materialized, an
    // explicit transpose of a transposed B, register tiles on tensors.
    auto isGemm = [&](Operation *op) {
      if (!leaveGemms)
        return false;
      auto l = dyn_cast<linalg::LinalgOp>(op);
      return l && kiln::cpu::analyzeGemm(l).has_value();
    };
    SmallVector<linalg::Conv2DNchwFchwOp> convs;
    fn.walk([&](linalg::Conv2DNchwFchwOp c) { convs.push_back(c); });
    for (auto c : convs) {
      if (!c.hasPureTensorSemantics() || isGemm(c))
        continue;
      rw.setInsertionPoint(c);
      (void)linalg::rewriteInIm2Col(rw, c);
    }
    SmallVector<linalg::MatmulOp> mms;
    fn.walk([&](linalg::MatmulOp m) { mms.push_back(m); });
    for (auto m : mms)
      if (!isGemm(m))
        untransposeMatmulB(rw, m);

    SmallVector<linalg::LinalgOp> ops;
    fn.walk([&](linalg::LinalgOp op) { ops.push_back(op); });
    // A GEMM's bias broadcast (prologue) and activation (epilogue) stay
    // linalg ops too: kiln-cpu-lower-contractions folds them into the
    // register tile (Contraction.h).
    llvm::SmallPtrSet<Operation *, 8> leave;
    for (linalg::LinalgOp op : ops) {
      if (!isGemm(op) || op->getNumResults() != 1)
        continue;
      Value init = op.getDpsInitOperand(0)->get();
      if (auto pro = init.getDefiningOp<linalg::LinalgOp>();
          pro && init.hasOneUse() && kiln::cpu::isGemmPrologue(pro))
        leave.insert(pro);
      Value res = op->getResult(0);
      if (res.hasOneUse())
        if (auto epi = dyn_cast<linalg::GenericOp>(*res.getUsers().begin());
            epi && kiln::cpu::isGemmEpilogue(epi, res) && epi->getBlock() == op->getBlock() &&
            llvm::all_of(epi.getDpsInputs(), [&](Value v) {
              // Its other inputs exist before the GEMM (the fused loops
              // replace both).
              Operation *d = v.getDefiningOp();
              return v == res || !d ||
                     (d->getBlock() == op->getBlock() && d->isBeforeInBlock(op));
            }))
          leave.insert(epi);
    }
    SmallVector<Operation *> vectorized;
    for (linalg::LinalgOp op : ops) {
      if (!op->getParentOfType<func::FuncOp>())
        continue;
      if (isGemm(op) || leave.contains(op))
        continue;
      if (isa<linalg::MatmulOp, linalg::BatchMatmulOp>(op) ||
          (isa<linalg::GenericOp>(op) && linalg::isaContractionOpInterface(op))) {
        if (succeeded(tileContraction(rw, op, vectorized)))
          continue;
      }
      if (auto g = dyn_cast<linalg::GenericOp>(op.getOperation()))
        (void)tileElementwise(rw, g, numThreads, vectorized);
    }

    unmaskContractions(rw, fn);
    // Register-tile cleanup: turn the vectorized contraction into a
    // canonical vector.contract, then hoist the accumulator out of the k
    // loops, then lower to FMAs.
    {
      RewritePatternSet p(ctx);
      vector::populateVectorReductionToContractPatterns(p);
      vector::populateVectorTransferPermutationMapLoweringPatterns(p);
      vector::populateSinkVectorOpsPatterns(p);
      vector::populateVectorMaskLoweringPatternsForSideEffectingOps(p);
      vector::TransferReadOp::getCanonicalizationPatterns(p, ctx);
      vector::TransferWriteOp::getCanonicalizationPatterns(p, ctx);
      tensor::ExtractSliceOp::getCanonicalizationPatterns(p, ctx);
      scf::ForOp::getCanonicalizationPatterns(p, ctx);
      if (failed(applyPatternsGreedily(fn, std::move(p))))
        return signalPassFailure();
    }
    // Tile sizes and masks of partial tiles are computed inside the k loops;
    // move them out and merge duplicates so the accumulator's read/write
    // pair is recognisably loop-invariant.
    {
      DominanceInfo dom(fn);
      eliminateCommonSubExpressions(rw, dom, fn);
    }
    fn.walk([&](LoopLikeOpInterface l) { moveLoopInvariantCode(l); });
    SmallVector<scf::ForOp> loops;
    fn.walk([&](scf::ForOp f) { loops.push_back(f); }); // post-order: innermost first
    for (scf::ForOp f : loops)
      (void)hoistLoopInvariantSubsets(rw, cast<LoopLikeOpInterface>(f.getOperation()));
    {
      RewritePatternSet p(ctx);
      vector::populateVectorContractLoweringPatterns(p, vector::VectorContractLowering::OuterProduct);
      vector::populateVectorOuterProductLoweringPatterns(p);
      vector::populateVectorTransferPermutationMapLoweringPatterns(p);
      vector::populateVectorMultiReductionLoweringPatterns(
          p, vector::VectorMultiReductionLowering::InnerParallel);
      if (failed(applyPatternsGreedily(fn, std::move(p))))
        return signalPassFailure();
    }
    {
      RewritePatternSet p(ctx);
      vector::populateCastAwayVectorLeadingOneDimPatterns(p);
      if (failed(applyPatternsGreedily(fn, std::move(p))))
        return signalPassFailure();
    }
  }
};

} // namespace
