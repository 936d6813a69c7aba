//===- LowerContractions.cpp - linalg contractions → packed GEMM loops ---===//
//
// Runs on memrefs, after bufferization and before kiln-cpu-outline-parallel.
// Every linalg op that analyzeGemm accepts (matmul with any transposes,
// batch_matmul, the named convolutions, contraction generics) becomes the
// loop nest of a GotoBLAS-style GEMM, written directly with scf/vector ops:
//
//   Ap = pack(A)                       // once per call, [batch][kblk][m/mr][kc][mr]
//   forall task in (batch, outerN, n tiles of nc, m tiles):
//     for k block (kc):
//       Bp = pack(B[k block, n tile])  // [nc/nr][kc][nr], zero-padded, im2col folded in
//       for ic (mc rows of A, L2):
//         for jr (nr-wide micro-panels of Bp, L1):
//           for ir (mr rows):
//             mr x nr register tile: kc rank-1 updates from zero
//             (mr broadcasts, nr/L vector loads, mr*nr/L FMAs per k),
//             then load C, add, store
//
// Operands are read through flat 1-D views and precomputed offsets: an
// operand's address is linear in the loop indices, so for each group of
// dimensions (M, N, K) the offset of linear index i is either i*stride
// (when the group's dimensions merge) or a constant table (a convolution's
// K = (c, kh, kw) on the image, N = (oh, ow)). Packing therefore handles
// transposed operands and im2col alike; the micro-kernel never sees
// anything but contiguous packed panels, never masks its k loop, and partial
// tiles only mask C's load/store (vmaskmovps) or use a shorter row count.
//
//===----------------------------------------------------------------------===//

#include "Target/CPU/Contraction.h"
#include "Target/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/TargetParser/Host.h"

namespace kiln::cpu {
#define GEN_PASS_DEF_LOWERCONTRACTIONS
#include "Target/CPU/Passes.h.inc"
} // namespace kiln::cpu

using namespace mlir;
using kiln::cpu::GemmAnalysis;
using kiln::cpu::LinearAccess;

//===----------------------------------------------------------------------===//
// Analysis
//===----------------------------------------------------------------------===//

namespace {

/// Adds scale * e to (coef, cst); fails on mod/floordiv/ceildiv/symbols or a
/// product of two non-constants.
bool linearize(AffineExpr e, int64_t scale, SmallVectorImpl<int64_t> &coef, int64_t &cst) {
  if (auto c = dyn_cast<AffineConstantExpr>(e)) {
    cst += scale * c.getValue();
    return true;
  }
  if (auto d = dyn_cast<AffineDimExpr>(e)) {
    coef[d.getPosition()] += scale;
    return true;
  }
  auto bin = dyn_cast<AffineBinaryOpExpr>(e);
  if (!bin)
    return false;
  if (e.getKind() == AffineExprKind::Add)
    return linearize(bin.getLHS(), scale, coef, cst) && linearize(bin.getRHS(), scale, coef, cst);
  if (e.getKind() == AffineExprKind::Mul) {
    if (auto c = dyn_cast<AffineConstantExpr>(bin.getRHS()))
      return linearize(bin.getLHS(), scale * c.getValue(), coef, cst);
    if (auto c = dyn_cast<AffineConstantExpr>(bin.getLHS()))
      return linearize(bin.getRHS(), scale * c.getValue(), coef, cst);
  }
  return false;
}

/// Element strides of a static memref (any static strided layout) or of a
/// static tensor (row-major, what bufferization gives at function boundaries).
bool stridesOf(Type t, SmallVectorImpl<int64_t> &strides, SmallVectorImpl<int64_t> &shape) {
  if (auto mt = dyn_cast<MemRefType>(t)) {
    int64_t off;
    if (!mt.hasStaticShape() || failed(mt.getStridesAndOffset(strides, off)) ||
        llvm::any_of(strides, [](int64_t s) { return ShapedType::isDynamic(s) || s < 0; }))
      return false;
    shape.assign(mt.getShape().begin(), mt.getShape().end());
    return mt.getElementType().isF32();
  }
  auto rt = dyn_cast<RankedTensorType>(t);
  if (!rt || !rt.hasStaticShape() || !rt.getElementType().isF32())
    return false;
  shape.assign(rt.getShape().begin(), rt.getShape().end());
  strides.assign(rt.getRank(), 1);
  for (int64_t i = rt.getRank() - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * rt.getDimSize(i + 1);
  return true;
}

/// True when the op's body is `yield out + in0 * in1` (either operand order).
bool isMulAddBody(linalg::LinalgOp op) {
  if (op->getNumRegions() != 1 || op->getRegion(0).empty())
    return false;
  Block &blk = op->getRegion(0).front();
  if (blk.getNumArguments() != 3 || blk.getOperations().size() != 3)
    return false;
  auto y = dyn_cast<linalg::YieldOp>(blk.getTerminator());
  if (!y || y.getNumOperands() != 1)
    return false;
  auto add = y.getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add)
    return false;
  Value out = blk.getArgument(2), other;
  if (add.getLhs() == out)
    other = add.getRhs();
  else if (add.getRhs() == out)
    other = add.getLhs();
  else
    return false;
  auto mul = other.getDefiningOp<arith::MulFOp>();
  if (!mul)
    return false;
  Value a0 = blk.getArgument(0), a1 = blk.getArgument(1);
  return (mul.getLhs() == a0 && mul.getRhs() == a1) || (mul.getLhs() == a1 && mul.getRhs() == a0);
}

} // namespace

std::optional<GemmAnalysis> kiln::cpu::analyzeGemm(linalg::LinalgOp op) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 || !isMulAddBody(op))
    return std::nullopt;
  if (!op.hasPureBufferSemantics() && !op.hasPureTensorSemantics())
    return std::nullopt;
  SmallVector<int64_t> range = op.getStaticLoopRanges();
  if (llvm::any_of(range, [](int64_t r) { return ShapedType::isDynamic(r) || r <= 0; }))
    return std::nullopt;
  unsigned nl = op.getNumLoops();
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if (maps.size() != 3 || !maps[2].isProjectedPermutation() || maps[2].getNumSymbols() != 0)
    return std::nullopt;

  LinearAccess acc[3];
  for (unsigned o = 0; o < 3; ++o) {
    SmallVector<int64_t> strides, shape;
    if (!stridesOf(op->getOperand(o).getType(), strides, shape) ||
        strides.size() != maps[o].getNumResults() || maps[o].getNumSymbols() != 0)
      return std::nullopt;
    acc[o].coef.assign(nl, 0);
    for (unsigned i = 0; i < maps[o].getNumResults(); ++i) {
      SmallVector<int64_t> c(nl, 0);
      int64_t cst = 0;
      if (!linearize(maps[o].getResult(i), 1, c, cst))
        return std::nullopt;
      for (unsigned d = 0; d < nl; ++d)
        acc[o].coef[d] += c[d] * strides[i];
      acc[o].cst += cst * strides[i];
    }
    if (acc[o].cst < 0 || llvm::any_of(acc[o].coef, [](int64_t c) { return c < 0; }))
      return std::nullopt;
  }

  auto iters = op.getIteratorTypesArray();
  for (unsigned bIn : {1u, 0u}) {
    GemmAnalysis g;
    g.bInput = bIn;
    g.aInput = 1 - bIn;
    g.range = range;
    g.a = acc[g.aInput];
    g.b = acc[g.bInput];
    g.c = acc[2];
    SmallVector<unsigned> nCand;
    bool ok = true;
    for (unsigned d = 0; d < nl && ok; ++d) {
      if (range[d] == 1)
        continue;
      bool inA = g.a.coef[d] != 0, inB = g.b.coef[d] != 0, inC = g.c.coef[d] != 0;
      if (iters[d] == utils::IteratorType::reduction) {
        if (inC)
          ok = false;
        g.k.push_back(d);
        continue;
      }
      if (!inC)
        ok = false;
      else if (inA && inB)
        g.batch.push_back(d);
      else if (inA)
        g.m.push_back(d);
      else if (inB)
        nCand.push_back(d);
      else
        g.batch.push_back(d);
    }
    if (!ok)
      return std::nullopt;
    // The inner N group: B-only dimensions over which C is contiguous,
    // starting from C's unit-stride one.
    SmallVector<unsigned> inner;
    int64_t span = 1;
    for (bool grew = true; grew;) {
      grew = false;
      for (unsigned d : nCand)
        if (!llvm::is_contained(inner, d) && g.c.coef[d] == span) {
          inner.push_back(d);
          span *= range[d];
          grew = true;
          break;
        }
    }
    if (inner.empty())
      continue;
    g.n.assign(inner.rbegin(), inner.rend());
    for (unsigned d : nCand)
      if (!llvm::is_contained(inner, d))
        g.outerN.push_back(d);
    for (unsigned d : g.batch)
      g.batchCount *= range[d];
    for (unsigned d : g.outerN)
      g.outerCount *= range[d];
    for (unsigned d : g.m)
      g.M *= range[d];
    for (unsigned d : g.n)
      g.N *= range[d];
    for (unsigned d : g.k)
      g.K *= range[d];
    return g;
  }
  return std::nullopt;
}

bool kiln::cpu::isGemmPrologue(linalg::LinalgOp op) {
  if (op.getNumDpsInits() != 1 || op.getNumReductionLoops() != 0 ||
      !op.getMatchingIndexingMap(op.getDpsInitOperand(0)).isIdentity())
    return false;
  if (!getElementTypeOrSelf(op.getDpsInitOperand(0)->get().getType()).isF32())
    return false;
  if (auto fill = dyn_cast<linalg::FillOp>(op.getOperation()))
    return fill.getDpsInputOperand(0)->get().getType().isF32();
  auto g = dyn_cast<linalg::GenericOp>(op.getOperation());
  if (!g || g.getNumDpsInputs() != 1)
    return false;
  OpOperand *in = g.getDpsInputOperand(0);
  if (!g.getMatchingIndexingMap(in).isProjectedPermutation() ||
      !getElementTypeOrSelf(in->get().getType()).isF32())
    return false;
  Block &blk = g.getRegion().front();
  auto y = dyn_cast<linalg::YieldOp>(blk.getTerminator());
  return blk.getOperations().size() == 1 && y && y.getNumOperands() == 1 &&
         y.getOperand(0) == blk.getArgument(0);
}

bool kiln::cpu::isGemmEpilogue(linalg::GenericOp op, Value c) {
  if (op.getNumDpsInits() != 1 || op.getNumReductionLoops() != 0)
    return false;
  auto cTy = dyn_cast<ShapedType>(c.getType());
  auto yTy = dyn_cast<ShapedType>(op.getDpsInitOperand(0)->get().getType());
  if (!cTy || !yTy || cTy.getShape() != yTy.getShape() || !yTy.getElementType().isF32() ||
      !op.getMatchingIndexingMap(op.getDpsInitOperand(0)).isIdentity())
    return false;
  // C once, read as is; other inputs f32, indexed by projected permutations
  // of the output's dims (a per-channel BatchNorm scale, a residual).
  unsigned cUses = 0;
  for (OpOperand *in : op.getDpsInputOperands()) {
    if (in->get() == c) {
      ++cUses;
      if (!op.getMatchingIndexingMap(in).isIdentity())
        return false;
    } else if (!op.getMatchingIndexingMap(in).isProjectedPermutation() ||
               !getElementTypeOrSelf(in->get().getType()).isF32()) {
      return false;
    }
  }
  if (cUses != 1)
    return false;
  Block &blk = op.getRegion().front();
  if (!blk.getArgument(op.getNumDpsInputs()).use_empty())
    return false;
  for (Operation &o : blk.without_terminator())
    if (o.getNumRegions() != 0 || o.getNumResults() != 1 ||
        !OpTrait::hasElementwiseMappableTraits(&o) || isa<linalg::IndexOp>(o) ||
        !o.getResult(0).getType().isIntOrIndexOrFloat())
      return false;
  auto y = cast<linalg::YieldOp>(blk.getTerminator());
  return y.getNumOperands() == 1 && y.getOperand(0).getType().isF32();
}

//===----------------------------------------------------------------------===//
// Code generation
//===----------------------------------------------------------------------===//

namespace {

unsigned hostVectorBits() {
  llvm::StringMap<bool> f = llvm::sys::getHostCPUFeatures();
  auto it = f.find("avx512f");
  return it != f.end() && it->second ? 512 : 256;
}

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t roundUp(int64_t a, int64_t b) { return ceilDiv(a, b) * b; }

/// Blocking of one GEMM (all static).
struct Params {
  int64_t L;      // f32 lanes per vector register
  int64_t nv, nr; // vectors per register-tile row, nr = nv * L
  int64_t mr;     // register-tile rows (A panel height)
  int64_t mrem;   // M % mr: rows of the last A panel (0: none)
  int64_t kc, nkb;
  int64_t mc;     // rows of A per L2 block
  int64_t nc, nTiles, mt, mTiles;
};

Params choose(const GemmAnalysis &g, unsigned bits, unsigned threads) {
  Params p;
  p.L = bits >= 512 ? 16 : 8;
  p.nv = g.N > p.L ? 2 : 1;
  p.nr = p.nv * p.L;
  // Accumulators + B vectors + one broadcast must fit the register file:
  // AVX2 (16 ymm): 6x2 + 2 + 1, or 8x1 + 1 + 1; AVX-512 (32 zmm): 8x2 / 12x1.
  int64_t rows = bits >= 512 ? (p.nv == 2 ? 8 : 12) : (p.nv == 2 ? 6 : 8);
  // One row fewer when that divides M and the full tile does not: a thin
  // remainder panel is FMA-latency bound (M = 50: ten 5-row panels beat
  // eight 6-row ones plus a 2-row one; M = 20: four 5-row panels).
  if (g.M > rows && g.M % rows != 0 && g.M % (rows - 1) == 0)
    rows -= 1;
  p.mr = std::min(g.M, rows);
  p.mrem = g.M % p.mr;
  if (g.K <= 384) {
    p.kc = g.K;
  } else {
    int64_t blocks = ceilDiv(g.K, 256);
    p.kc = ceilDiv(g.K, blocks);
  }
  p.nkb = ceilDiv(g.K, p.kc);
  // ~192 KiB of packed A per L2 block.
  p.mc = std::max(p.mr, (49152 / p.kc) / p.mr * p.mr);

  // Parallel tasks: n tiles first (each packs its own B panel and shares the
  // packed A), then m tiles; about 4 tasks per thread for dynamic balance,
  // but no task under ~0.5 MFLOP.
  int64_t target = threads > 1 ? 4 * int64_t(threads) : 1;
  int64_t outer = g.batchCount * g.outerCount;
  const double minFlops = 5e5;
  auto flops = [&](int64_t nc, int64_t mt) { return 2.0 * double(nc) * double(mt) * double(g.K); };
  p.nc = std::min<int64_t>(roundUp(g.N, p.nr), 256);
  p.mt = g.M;
  auto tasks = [&] { return outer * ceilDiv(g.N, p.nc) * ceilDiv(g.M, p.mt); };
  while (tasks() < target && p.nc > p.nr &&
         flops(roundUp(p.nc / 2, p.nr), p.mt) >= minFlops)
    p.nc = roundUp(p.nc / 2, p.nr);
  // Row tiles each pack the whole B panel again: its cost (gathers, for an
  // im2col) is amortized over mt rows only, so no tile under 4 panels
  // (a convolution's weight gradient: M = 20, N = 25, K = 36864).
  if (tasks() < target && g.M >= 8 * p.mr) {
    int64_t want = ceilDiv(target, tasks());
    int64_t mt = std::max(roundUp(ceilDiv(g.M, want), p.mr), 4 * p.mr);
    while (mt < g.M && flops(p.nc, mt) < minFlops)
      mt += p.mr;
    p.mt = std::min(mt, g.M);
  }
  p.nTiles = ceilDiv(g.N, p.nc);
  p.mTiles = ceilDiv(g.M, p.mt);
  return p;
}

/// Offsets of the linear indices of a group of dimensions into one operand.
struct Group {
  bool affine = true;
  int64_t stride = 0;
  SmallVector<int64_t> values; // when !affine
  memref::GlobalOp global;
};

Group makeGroup(ArrayRef<unsigned> dims, ArrayRef<int64_t> range, ArrayRef<int64_t> coef) {
  Group g;
  if (dims.empty())
    return g;
  int64_t inner = coef[dims.back()], span = 1;
  bool merge = true;
  for (int i = int(dims.size()) - 1; i >= 0; --i) {
    if (coef[dims[i]] != inner * span)
      merge = false;
    span *= range[dims[i]];
  }
  if (merge) {
    g.stride = inner;
    return g;
  }
  g.affine = false;
  g.values.assign(span, 0);
  for (int64_t i = 0; i < span; ++i) {
    int64_t rem = i, v = 0;
    for (int j = int(dims.size()) - 1; j >= 0; --j) {
      v += coef[dims[j]] * (rem % range[dims[j]]);
      rem /= range[dims[j]];
    }
    g.values[i] = v;
  }
  return g;
}

struct Gen {
  OpBuilder &b;
  Location loc;
  ModuleOp module;
  SymbolTable &symbols;
  Type f32, i32;

  Value c(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value add(Value x, int64_t k) { return k == 0 ? x : add(x, c(k)); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value mul(Value x, int64_t k) {
    if (k == 1)
      return x;
    if (k == 0)
      return c(0);
    return mul(x, c(k));
  }
  Value min(Value x, Value y) { return arith::MinSIOp::create(b, loc, x, y); }
  Value max(Value x, Value y) { return arith::MaxSIOp::create(b, loc, x, y); }
  Value div(Value x, int64_t k) { return k == 1 ? x : arith::DivUIOp::create(b, loc, x, c(k)); }
  Value rem(Value x, int64_t k) { return arith::RemUIOp::create(b, loc, x, c(k)); }
  Value ne0(Value x) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, x, c(0));
  }

  /// scf.for with the builder moved into its body.
  SmallVector<Value> loop(Value lb, Value ub, Value step, ValueRange init,
                          function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    auto f = scf::ForOp::create(b, loc, lb, ub, step, init,
                                [&](OpBuilder &nb, Location l, Value iv, ValueRange args) {
                                  OpBuilder::InsertionGuard guard(b);
                                  b.setInsertionPoint(nb.getInsertionBlock(),
                                                      nb.getInsertionPoint());
                                  SmallVector<Value> r = body(iv, args);
                                  scf::YieldOp::create(b, l, r);
                                });
    return SmallVector<Value>(f.getResults());
  }
  void loop(Value lb, Value ub, Value step, function_ref<void(Value)> body) {
    loop(lb, ub, step, {}, [&](Value iv, ValueRange) {
      body(iv);
      return SmallVector<Value>{};
    });
  }
  SmallVector<Value> ifElse(Value cond, TypeRange types, function_ref<SmallVector<Value>()> thenF,
                            function_ref<SmallVector<Value>()> elseF) {
    auto i = scf::IfOp::create(b, loc, types, cond, /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    for (auto [blk, f] : {std::pair{i.thenBlock(), thenF}, std::pair{i.elseBlock(), elseF}}) {
      if (!blk->empty() && blk->back().hasTrait<OpTrait::IsTerminator>())
        blk->back().erase();
      b.setInsertionPointToEnd(blk);
      SmallVector<Value> r = f();
      scf::YieldOp::create(b, loc, r);
    }
    return SmallVector<Value>(i.getResults());
  }
  void ifThen(Value cond, function_ref<void()> body) {
    auto i = scf::IfOp::create(b, loc, cond, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(i.thenBlock()->getTerminator());
    body();
  }

  /// 1-D view of a memref's underlying buffer starting at its offset, long
  /// enough for every element it addresses.
  Value flat(Value v) {
    auto mt = cast<MemRefType>(v.getType());
    SmallVector<int64_t> strides;
    int64_t offset;
    (void)mt.getStridesAndOffset(strides, offset);
    int64_t span = 1;
    for (auto [s, st] : llvm::zip(mt.getShape(), strides))
      span += (s - 1) * st;
    auto md = memref::ExtractStridedMetadataOp::create(b, loc, v);
    OpFoldResult off = ShapedType::isDynamic(offset) ? OpFoldResult(md.getOffset())
                                                     : OpFoldResult(b.getIndexAttr(offset));
    auto ty = MemRefType::get({span}, mt.getElementType(),
                              StridedLayoutAttr::get(b.getContext(), offset, {1}));
    return memref::ReinterpretCastOp::create(b, loc, ty, md.getBaseBuffer(), off,
                                             {b.getIndexAttr(span)}, {b.getIndexAttr(1)});
  }

  /// The group's table as a constant global (padded so vector loads of its
  /// tail stay in bounds); created on first use.
  Value table(Group &g) {
    if (!g.global) {
      int64_t n = roundUp(int64_t(g.values.size()), 64);
      SmallVector<int32_t> data(g.values.begin(), g.values.end());
      data.resize(n, 0);
      auto ty = MemRefType::get({n}, i32);
      auto attr = DenseElementsAttr::get(RankedTensorType::get({n}, i32), ArrayRef<int32_t>(data));
      OpBuilder mb(module.getBodyRegion());
      mb.setInsertionPointToStart(module.getBody());
      g.global = memref::GlobalOp::create(mb, loc, "__kiln_gemm_offsets", mb.getStringAttr("private"),
                                          ty, attr, /*constant=*/true, IntegerAttr());
      symbols.insert(g.global);
    }
    return memref::GetGlobalOp::create(b, loc, g.global.getType(), g.global.getSymName());
  }

  Value offset(Group &g, Value i) {
    if (g.affine)
      return mul(i, g.stride);
    Value t = memref::LoadOp::create(b, loc, table(g), ValueRange{i});
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), t);
  }

  /// sum(coef[d] * digit_d(i)) for the linear index i over `dims`.
  Value digitsOffset(Value i, ArrayRef<unsigned> dims, ArrayRef<int64_t> range,
                     ArrayRef<int64_t> coef) {
    Value r = c(0);
    for (int j = int(dims.size()) - 1; j >= 0; --j) {
      Value digit = j == 0 ? i : rem(i, range[dims[j]]);
      r = add(r, mul(digit, coef[dims[j]]));
      if (j > 0)
        i = div(i, range[dims[j]]);
    }
    return r;
  }

  VectorType vec(int64_t L, Type t) { return VectorType::get({L}, t); }
  Value maskFor(Value count, int64_t L) {
    Value n = min(max(count, c(0)), c(L));
    return vector::CreateMaskOp::create(b, loc, VectorType::get({L}, b.getI1Type()), ValueRange{n});
  }
};

/// An operand read or written per element of the register tile through its
/// own linear access over the GEMM's loop dimensions: the bias of a fused
/// prologue, the output of a fused epilogue.
struct TileAccess {
  Value memref, flat;
  LinearAccess acc;
  Group m, n;
  enum class Kind { Broadcast, Contiguous, Gather } kind = Kind::Broadcast;
  Value base; // per task: cst + batch and outer-N offsets
};

/// The access, over the GEMM's loop dims, of an operand indexed like C
/// through `map` (a projected permutation of C's dimensions).
std::optional<LinearAccess> accessLikeC(Value v, AffineMap map, AffineMap cMap, unsigned nl) {
  auto mt = dyn_cast<MemRefType>(v.getType());
  SmallVector<int64_t> strides;
  int64_t off;
  if (!mt || !mt.hasStaticShape() || failed(mt.getStridesAndOffset(strides, off)) ||
      llvm::any_of(strides, [](int64_t s) { return ShapedType::isDynamic(s) || s < 0; }) ||
      !map.isProjectedPermutation() || !cMap.isProjectedPermutation())
    return std::nullopt;
  LinearAccess a;
  a.coef.assign(nl, 0);
  for (unsigned i = 0; i < map.getNumResults(); ++i) {
    unsigned cDim = cast<AffineDimExpr>(map.getResult(i)).getPosition();
    unsigned gDim = cast<AffineDimExpr>(cMap.getResult(cDim)).getPosition();
    a.coef[gDim] += strides[i];
  }
  return a;
}

struct GemmLowering {
  Gen &g;
  const GemmAnalysis &an;
  const Params &p;
  Group aM, aK, bK, bN, cM;
  enum class BMode { Contiguous, Strided, TableContiguous, TableStride2, TableGather } bMode;
  Value A1, B1, C1;
  // Fused prologue (accumulators start from it) and epilogue (applied to the
  // last k block's tile, stored to its output instead of C).
  linalg::LinalgOp pro;
  linalg::GenericOp epi;
  std::optional<TileAccess> x, y;
  std::vector<TileAccess> epiIn; // per epilogue input (unused for C's)
  Value epiC;
  Value fillValue;
  // A is read in place (rows contiguous along K) instead of packed when it
  // meets few columns: packing it would cost about as much as using it
  // (ResNet's last stage at batch 1: 512x4608 weights, 49 columns).
  bool packA = true;
  Value aTaskOff, curK0;

  GemmLowering(Gen &g, const GemmAnalysis &an, const Params &p) : g(g), an(an), p(p) {
    aM = makeGroup(an.m, an.range, an.a.coef);
    aK = makeGroup(an.k, an.range, an.a.coef);
    bK = makeGroup(an.k, an.range, an.b.coef);
    bN = makeGroup(an.n, an.range, an.b.coef);
    cM = makeGroup(an.m, an.range, an.c.coef);
    if (bN.affine) {
      bMode = bN.stride == 1 ? BMode::Contiguous : BMode::Strided;
    } else {
      // Each run of L columns contiguous (stride-1 convolutions whose Wo is
      // a multiple of L), or every other element (stride 2), else gathers.
      auto runsOf = [&](int64_t s) {
        for (int64_t c0 = 0; c0 < an.N; c0 += p.L)
          for (int64_t j = 1; j < std::min(p.L, an.N - c0); ++j)
            if (bN.values[c0 + j] != bN.values[c0] + s * j)
              return false;
        return true;
      };
      bMode = runsOf(1) ? BMode::TableContiguous
              : runsOf(2) ? BMode::TableStride2
                          : BMode::TableGather;
    }
  }

  static bool tablesFit(const GemmAnalysis &an) {
    // Offsets are stored as i32; tables up to 4 Mi entries.
    auto fits = [&](ArrayRef<unsigned> dims, ArrayRef<int64_t> coef) {
      int64_t n = 1, mx = 0;
      for (unsigned d : dims) {
        n *= an.range[d];
        mx += coef[d] * (an.range[d] - 1);
      }
      return n <= (int64_t(1) << 22) && mx < (int64_t(1) << 31);
    };
    return fits(an.m, an.a.coef) && fits(an.k, an.a.coef) && fits(an.k, an.b.coef) &&
           fits(an.n, an.b.coef) && fits(an.m, an.c.coef);
  }

  /// Fills `t` for memref v read with access a; false if its tables do not fit.
  bool makeTileAccess(TileAccess &t, Value v, const LinearAccess &a) {
    t.memref = v;
    t.acc = a;
    int64_t mx = a.cst;
    for (unsigned d = 0; d < a.coef.size(); ++d)
      mx += a.coef[d] * (an.range[d] - 1);
    if (mx >= (int64_t(1) << 31))
      return false;
    t.m = makeGroup(an.m, an.range, a.coef);
    t.n = makeGroup(an.n, an.range, a.coef);
    if (llvm::all_of(an.n, [&](unsigned d) { return a.coef[d] == 0; }))
      t.kind = TileAccess::Kind::Broadcast;
    else if (t.n.affine && t.n.stride == 1)
      t.kind = TileAccess::Kind::Contiguous;
    else
      t.kind = TileAccess::Kind::Gather;
    return true;
  }

  /// Per task: the view and the batch/outer-N part of the offset.
  void bindTileAccess(TileAccess &t, Value bi, Value oi) {
    t.flat = g.flat(t.memref);
    t.base = g.add(g.add(g.digitsOffset(bi, an.batch, an.range, t.acc.coef),
                         g.digitsOffset(oi, an.outerN, an.range, t.acc.coef)),
                   t.acc.cst);
  }

  /// vector<L> of the tile row `row` (linear M index), columns [col, col+L).
  Value loadTile(TileAccess &t, Value row, Value col, Value mask) {
    VectorType vt = g.vec(p.L, g.f32);
    Value zero = arith::ConstantOp::create(g.b, g.loc, vt, DenseElementsAttr::get(vt, 0.0f));
    Value at = g.add(t.base, g.offset(t.m, row));
    switch (t.kind) {
    case TileAccess::Kind::Broadcast: {
      Value s = memref::LoadOp::create(g.b, g.loc, t.flat, ValueRange{at});
      return vector::BroadcastOp::create(g.b, g.loc, vt, s);
    }
    case TileAccess::Kind::Contiguous:
      at = g.add(at, col);
      if (mask)
        return vector::MaskedLoadOp::create(g.b, g.loc, vt, t.flat, ValueRange{at}, mask, zero);
      return vector::LoadOp::create(g.b, g.loc, vt, t.flat, ValueRange{at});
    case TileAccess::Kind::Gather: {
      VectorType it = g.vec(p.L, g.i32), mt = VectorType::get({p.L}, g.b.getI1Type());
      Value idx;
      if (t.n.affine) {
        SmallVector<int32_t> iota;
        for (int64_t l = 0; l < p.L; ++l)
          iota.push_back(int32_t(l * t.n.stride));
        idx = arith::ConstantOp::create(g.b, g.loc, it, DenseElementsAttr::get(it, ArrayRef<int32_t>(iota)));
        at = g.add(at, g.mul(col, t.n.stride));
      } else {
        idx = vector::LoadOp::create(g.b, g.loc, it, g.table(t.n), ValueRange{col});
      }
      if (!mask)
        mask = arith::ConstantOp::create(g.b, g.loc, mt, DenseElementsAttr::get(mt, true));
      return vector::GatherOp::create(g.b, g.loc, vt, t.flat, ValueRange{at}, idx, mask, zero);
    }
    }
    llvm_unreachable("tile access kind");
  }

  /// The epilogue's scalar body on vector<L> operands.
  /// (row, col, mask: where the extra inputs are read.)
  Value applyEpilogue(Value acc, Value row, Value col, Value mask) {
    Block &blk = epi.getRegion().front();
    IRMapping map;
    for (auto [i, in] : llvm::enumerate(epi.getDpsInputOperands()))
      map.map(blk.getArgument(i), in->get() == epiC ? acc : loadTile(epiIn[i], row, col, mask));
    auto vecOf = [&](Value s) -> Value {
      if (Value m = map.lookupOrNull(s))
        return m;
      Value v = vector::BroadcastOp::create(g.b, g.loc, g.vec(p.L, s.getType()), s);
      map.map(s, v);
      return v;
    };
    for (Operation &o : blk.without_terminator()) {
      OperationState st(g.loc, o.getName());
      for (Value operand : o.getOperands())
        st.addOperands(vecOf(operand));
      st.addAttributes(o.getAttrs());
      st.addTypes(g.vec(p.L, o.getResult(0).getType()));
      Operation *n = g.b.create(st);
      map.map(o.getResult(0), n->getResult(0));
    }
    return vecOf(cast<linalg::YieldOp>(blk.getTerminator()).getOperand(0));
  }

  /// Packs rows [ir, ir + rows) of A (all k blocks) for batch bi.
  /// (k outer: one K-offset lookup per k, contiguous stores.)
  void packAPanel(Value Ap, Value bi, Value aOff, Value ir, int64_t rows) {
    Value dst0 = g.mul(bi, an.M * an.K);
    SmallVector<Value> src;
    for (int64_t r = 0; r < rows; ++r)
      src.push_back(g.add(aOff, g.offset(aM, g.add(ir, r))));
    g.loop(g.c(0), g.c(p.nkb), g.c(1), [&](Value pb) {
      Value k0 = g.mul(pb, p.kc);
      Value kcb = g.min(g.c(p.kc), g.sub(g.c(an.K), k0));
      Value blk = g.add(g.add(dst0, g.mul(k0, an.M)), g.mul(ir, kcb));
      g.loop(g.c(0), kcb, g.c(1), [&](Value kk) {
        Value kOff = g.offset(aK, g.add(k0, kk));
        Value dst = g.add(blk, g.mul(kk, rows));
        for (int64_t r = 0; r < rows; ++r) {
          Value x = memref::LoadOp::create(g.b, g.loc, A1, ValueRange{g.add(src[r], kOff)});
          memref::StoreOp::create(g.b, g.loc, x, Ap, ValueRange{g.add(dst, r)});
        }
      });
    });
  }

  /// out[i][c] = rows[c][i] for 8 vectors of 8 (unpack, shufps, perm2f128
  /// shuffle patterns; LLVM selects the AVX instructions from the masks).
  SmallVector<Value> transpose8x8(ArrayRef<Value> r) {
    auto sh = [&](Value a, Value b2, ArrayRef<int64_t> mask) -> Value {
      return vector::ShuffleOp::create(g.b, g.loc, a, b2, mask);
    };
    const int64_t lo[] = {0, 8, 1, 9, 4, 12, 5, 13}, hi[] = {2, 10, 3, 11, 6, 14, 7, 15};
    const int64_t s44[] = {0, 1, 8, 9, 4, 5, 12, 13}, sEE[] = {2, 3, 10, 11, 6, 7, 14, 15};
    const int64_t p20[] = {0, 1, 2, 3, 8, 9, 10, 11}, p31[] = {4, 5, 6, 7, 12, 13, 14, 15};
    Value t[8], s[8];
    for (int i = 0; i < 4; ++i) {
      t[2 * i] = sh(r[2 * i], r[2 * i + 1], lo);
      t[2 * i + 1] = sh(r[2 * i], r[2 * i + 1], hi);
    }
    for (int h = 0; h < 2; ++h) {
      s[4 * h + 0] = sh(t[4 * h + 0], t[4 * h + 2], s44);
      s[4 * h + 1] = sh(t[4 * h + 0], t[4 * h + 2], sEE);
      s[4 * h + 2] = sh(t[4 * h + 1], t[4 * h + 3], s44);
      s[4 * h + 3] = sh(t[4 * h + 1], t[4 * h + 3], sEE);
    }
    SmallVector<Value> out(8);
    for (int i = 0; i < 4; ++i) {
      out[i] = sh(s[i], s[4 + i], p20);
      out[4 + i] = sh(s[i], s[4 + i], p31);
    }
    return out;
  }

  /// Packs the nr-wide micro-panel `jp` of columns [j, j + valid) of B,
  /// rows [k0, k0 + kcb), into Bp at jp * nr * kcb, zero-padded to nr.
  void packBPanel(Value Bp, Value bOff, Value jp, Value j, Value k0, Value kcb, Value valid,
                  bool masked) {
    VectorType vt = g.vec(p.L, g.f32), it = g.vec(p.L, g.i32);
    Value zero = arith::ConstantOp::create(g.b, g.loc, vt, DenseElementsAttr::get(vt, 0.0f));
    SmallVector<Value> masks, colBase, idx;
    Value allTrue;
    // Stride 2 (a stride-2 convolution's image): two loads and the even
    // lanes; the partial last panel gathers.
    BMode bMode = this->bMode;
    if (masked && bMode == BMode::TableStride2)
      bMode = BMode::TableGather;
    bool even = !masked && (bMode == BMode::TableStride2 ||
                            (bMode == BMode::Strided && bN.stride == 2));
    for (int64_t v = 0; v < p.nv; ++v) {
      Value col = g.add(j, v * p.L);
      if (masked)
        masks.push_back(g.maskFor(g.sub(valid, g.c(v * p.L)), p.L));
      switch (bMode) {
      case BMode::Contiguous:
        colBase.push_back(col);
        break;
      case BMode::Strided:
        colBase.push_back(g.mul(col, bN.stride));
        break;
      case BMode::TableContiguous:
      case BMode::TableStride2:
        colBase.push_back(g.offset(bN, col));
        break;
      case BMode::TableGather:
        colBase.push_back(g.c(0));
        idx.push_back(vector::LoadOp::create(g.b, g.loc, it, g.table(bN), ValueRange{col}));
        break;
      }
    }
    if (bMode == BMode::Strided) {
      SmallVector<int32_t> iota;
      for (int64_t l = 0; l < p.L; ++l)
        iota.push_back(int32_t(l * bN.stride));
      Value cst = arith::ConstantOp::create(g.b, g.loc, it, DenseElementsAttr::get(it, ArrayRef<int32_t>(iota)));
      idx.assign(p.nv, cst);
    }
    if (!masked && (bMode == BMode::Strided || bMode == BMode::TableGather)) {
      VectorType mt = VectorType::get({p.L}, g.b.getI1Type());
      allTrue = arith::ConstantOp::create(g.b, g.loc, mt, DenseElementsAttr::get(mt, true));
    }
    Value dst0 = g.mul(g.mul(jp, kcb), p.nr);
    Value kStart = g.c(0);
    // B read transposed (FullyConnected's W[n, k], dot with a transposed
    // operand): runs of 8 k are contiguous per column, so load 8 of them for
    // 8 columns and transpose the 8x8 block in registers instead of
    // gathering (x86 LLVM scalarizes gathers on AMD cores).
    if (!masked && p.L == 8 && bK.affine && bK.stride == 1 && bMode == BMode::Strided) {
      Value kFull = g.mul(g.div(kcb, 8), 8);
      SmallVector<Value> cols;
      for (int64_t c = 0; c < p.nr; ++c)
        cols.push_back(g.mul(g.add(j, c), bN.stride));
      g.loop(g.c(0), kFull, g.c(8), [&](Value kk) {
        Value kOff = g.add(bOff, g.add(k0, kk));
        for (int64_t v = 0; v < p.nv; ++v) {
          SmallVector<Value> rows;
          for (int64_t c = 0; c < 8; ++c)
            rows.push_back(vector::LoadOp::create(g.b, g.loc, vt, B1,
                                                  ValueRange{g.add(kOff, cols[v * 8 + c])}));
          SmallVector<Value> t = transpose8x8(rows);
          for (int64_t i = 0; i < 8; ++i)
            vector::StoreOp::create(
                g.b, g.loc, t[i], Bp,
                ValueRange{g.add(g.add(dst0, g.mul(g.add(kk, i), p.nr)), v * p.L)});
        }
      });
      kStart = kFull;
    }
    g.loop(kStart, kcb, g.c(1), [&](Value kk) {
      Value kOff = g.add(bOff, g.offset(bK, g.add(k0, kk)));
      Value dst = g.add(dst0, g.mul(kk, p.nr));
      for (int64_t v = 0; v < p.nv; ++v) {
        Value src = g.add(kOff, colBase[v]);
        Value x;
        if (even) {
          VectorType mt = VectorType::get({p.L}, g.b.getI1Type());
          SmallVector<bool> m(p.L, true);
          m.back() = false; // lane 2L-1 is not needed: never read it
          Value lastOff = arith::ConstantOp::create(g.b, g.loc, mt, DenseElementsAttr::get(mt, ArrayRef<bool>(m)));
          Value lo = vector::LoadOp::create(g.b, g.loc, vt, B1, ValueRange{src});
          Value hi = vector::MaskedLoadOp::create(g.b, g.loc, vt, B1, ValueRange{g.add(src, p.L)},
                                                  lastOff, zero);
          SmallVector<int64_t> ev;
          for (int64_t l = 0; l < p.L; ++l)
            ev.push_back(2 * l);
          x = vector::ShuffleOp::create(g.b, g.loc, lo, hi, ev);
        } else if (bMode == BMode::Strided || bMode == BMode::TableGather)
          x = vector::GatherOp::create(g.b, g.loc, vt, B1, ValueRange{src}, idx[v],
                                       masked ? masks[v] : allTrue, zero);
        else if (masked)
          x = vector::MaskedLoadOp::create(g.b, g.loc, vt, B1, ValueRange{src}, masks[v], zero);
        else
          x = vector::LoadOp::create(g.b, g.loc, vt, B1, ValueRange{src});
        vector::StoreOp::create(g.b, g.loc, x, Bp, ValueRange{g.add(dst, v * p.L)});
      }
    });
  }

  /// The register tile: C[ir .. ir+rows, j .. j+nr) += Ap panel · Bp panel.
  void kernel(int64_t rows, bool masked, Value nValid, Value Ap, Value apOff, Value Bp,
              Value bpOff, Value kcb, Value cOff, Value ir, Value j, Value first, Value last) {
    VectorType vt = g.vec(p.L, g.f32);
    Value zero = arith::ConstantOp::create(g.b, g.loc, vt, DenseElementsAttr::get(vt, 0.0f));
    SmallVector<Value> masks;
    if (masked)
      for (int64_t v = 0; v < p.nv; ++v)
        masks.push_back(g.maskFor(g.sub(nValid, g.c(v * p.L)), p.L));
    SmallVector<Value> rowOff, aRow;
    for (int64_t r = 0; r < rows; ++r)
      rowOff.push_back(g.add(g.add(cOff, g.offset(cM, g.add(ir, r))), j));
    if (!packA)
      for (int64_t r = 0; r < rows; ++r)
        aRow.push_back(g.add(g.add(aTaskOff, g.offset(aM, g.add(ir, r))), curK0));
    SmallVector<Type> accTypes(rows * p.nv, vt);
    auto loadC = [&] {
      SmallVector<Value> acc;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t v = 0; v < p.nv; ++v) {
          Value at = g.add(rowOff[r], v * p.L);
          acc.push_back(masked ? Value(vector::MaskedLoadOp::create(g.b, g.loc, vt, C1, ValueRange{at},
                                                                    masks[v], zero))
                               : Value(vector::LoadOp::create(g.b, g.loc, vt, C1, ValueRange{at})));
        }
      return acc;
    };
    auto initPro = [&] {
      SmallVector<Value> acc;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t v = 0; v < p.nv; ++v)
          acc.push_back(fillValue ? Value(vector::BroadcastOp::create(g.b, g.loc, vt, fillValue))
                                  : loadTile(*x, g.add(ir, r), g.add(j, v * p.L),
                                             masked ? masks[v] : Value()));
      return acc;
    };
    // The k block's products are summed from zero and only then added to C
    // (or to the prologue's value on the first block), as BLAS micro-kernels
    // do: a float32 sum of K products then carries the rounding error of
    // kc terms plus K / kc block sums instead of that of K terms in a row —
    // 3x smaller for a 3x3 convolution over 256 channels (K = 2304), and
    // what MXNet's own float32 error is measured against (docs/numerics.md).
    SmallVector<Value> zeros(rows * p.nv, zero);
    SmallVector<Value> sums =
        g.loop(g.c(0), kcb, g.c(1), zeros, [&](Value kk, ValueRange in) {
          SmallVector<Value> out(in.begin(), in.end());
          Value bAt = g.add(bpOff, g.mul(kk, p.nr));
          SmallVector<Value> bv;
          for (int64_t v = 0; v < p.nv; ++v)
            bv.push_back(vector::LoadOp::create(g.b, g.loc, vt, Bp, ValueRange{g.add(bAt, v * p.L)}));
          Value aAt = packA ? g.add(apOff, g.mul(kk, rows)) : Value();
          for (int64_t r = 0; r < rows; ++r) {
            Value a = packA ? memref::LoadOp::create(g.b, g.loc, Ap, ValueRange{g.add(aAt, r)})
                            : memref::LoadOp::create(g.b, g.loc, A1, ValueRange{g.add(aRow[r], kk)});
            Value bc = vector::BroadcastOp::create(g.b, g.loc, vt, a);
            for (int64_t v = 0; v < p.nv; ++v)
              out[r * p.nv + v] = vector::FMAOp::create(g.b, g.loc, bc, bv[v], out[r * p.nv + v]);
          }
          return out;
        });
    SmallVector<Value> res = pro ? g.ifElse(first, accTypes, initPro, loadC) : loadC();
    for (auto [r, sum] : llvm::zip(res, sums))
      r = arith::AddFOp::create(g.b, g.loc, r, sum);
    auto store = [&](Value dst, ArrayRef<Value> rowAt, bool apply) {
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t v = 0; v < p.nv; ++v) {
          Value at = g.add(rowAt[r], v * p.L);
          Value val = apply ? applyEpilogue(res[r * p.nv + v], g.add(ir, r), g.add(j, v * p.L),
                                            masked ? masks[v] : Value())
                            : res[r * p.nv + v];
          if (masked)
            vector::MaskedStoreOp::create(g.b, g.loc, dst, ValueRange{at}, masks[v], val);
          else
            vector::StoreOp::create(g.b, g.loc, val, dst, ValueRange{at});
        }
      return SmallVector<Value>{};
    };
    auto storeC = [&] { return store(C1, rowOff, false); };
    if (!epi) {
      storeC();
      return;
    }
    auto storeY = [&] {
      SmallVector<Value> rowAt;
      for (int64_t r = 0; r < rows; ++r)
        rowAt.push_back(g.add(g.add(y->base, g.offset(y->m, g.add(ir, r))), j));
      return store(y->flat, rowAt, true);
    };
    g.ifElse(last, {}, storeY, storeC);
  }

  void emit(linalg::LinalgOp op, unsigned threads) {
    OpBuilder &b = g.b;
    MLIRContext *ctx = b.getContext();
    A1 = g.flat(op.getDpsInputOperand(an.aInput)->get());
    B1 = g.flat(op.getDpsInputOperand(an.bInput)->get());
    C1 = g.flat(op.getDpsInitOperand(0)->get());
    IntegerAttr align = b.getI64IntegerAttr(64);

    // A, packed once: [batch][k block][panel of mr rows][kcb][rows].
    packA = !(aK.affine && aK.stride == 1 && an.N * an.outerCount < 512);
    auto apTy = MemRefType::get({an.batchCount * an.M * an.K}, g.f32);
    Value Ap = packA ? Value(memref::AllocOp::create(b, g.loc, apTy, align)) : Value();
    int64_t panels = ceilDiv(an.M, p.mr);
    int64_t aTasks = an.batchCount * panels;
    auto packOne = [&](Value t) {
      Value bi = g.div(t, panels), pi = g.rem(t, panels);
      Value aOff = g.add(g.digitsOffset(bi, an.batch, an.range, an.a.coef), an.a.cst);
      Value ir = g.mul(pi, p.mr);
      if (p.mrem == 0)
        return packAPanel(Ap, bi, aOff, ir, p.mr);
      Value isTail = arith::CmpIOp::create(b, g.loc, arith::CmpIPredicate::eq, pi, g.c(panels - 1));
      g.ifElse(isTail, {}, [&] { packAPanel(Ap, bi, aOff, ir, p.mrem); return SmallVector<Value>{}; },
               [&] { packAPanel(Ap, bi, aOff, ir, p.mr); return SmallVector<Value>{}; });
    };
    if (!packA) {
      // nothing to pack
    } else if (threads > 1 && aTasks > 1 && an.batchCount * an.M * an.K >= (1 << 16)) {
      auto fa = scf::ForallOp::create(b, g.loc, ArrayRef<OpFoldResult>{b.getIndexAttr(aTasks)},
                                      ValueRange{}, std::nullopt);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(fa.getBody()->getTerminator());
      packOne(fa.getInductionVar(0));
    } else {
      g.loop(g.c(0), g.c(aTasks), g.c(1), packOne);
    }

    int64_t tasks = an.batchCount * an.outerCount * p.nTiles * p.mTiles;
    auto body = [&](Value t) {
      Value mtI = g.rem(t, p.mTiles), t1 = g.div(t, p.mTiles);
      Value jt = g.rem(t1, p.nTiles), t2 = g.div(t1, p.nTiles);
      Value oi = g.rem(t2, an.outerCount), bi = g.div(t2, an.outerCount);
      Value bOff = g.add(g.add(g.digitsOffset(bi, an.batch, an.range, an.b.coef),
                               g.digitsOffset(oi, an.outerN, an.range, an.b.coef)),
                         an.b.cst);
      Value cOff = g.add(g.add(g.digitsOffset(bi, an.batch, an.range, an.c.coef),
                               g.digitsOffset(oi, an.outerN, an.range, an.c.coef)),
                         an.c.cst);
      Value apBase = g.mul(bi, an.M * an.K);
      aTaskOff = g.add(g.digitsOffset(bi, an.batch, an.range, an.a.coef), an.a.cst);
      Value n0 = g.mul(jt, p.nc), m0 = g.mul(mtI, p.mt);
      Value ncb = g.min(g.c(p.nc), g.sub(g.c(an.N), n0));
      Value mEnd = g.min(g.add(m0, p.mt), g.c(an.M));
      Value nFull = g.div(ncb, p.nr);
      Value nRem = g.sub(ncb, g.mul(nFull, p.nr));
      auto bpTy = MemRefType::get({p.kc * roundUp(p.nc, p.nr)}, g.f32);
      Value Bp = memref::AllocOp::create(b, g.loc, bpTy, align);
      if (x)
        bindTileAccess(*x, bi, oi);
      if (y)
        bindTileAccess(*y, bi, oi);
      for (auto [i, in] : llvm::enumerate(epiIn))
        if (epi && epi.getDpsInputOperand(i)->get() != epiC)
          bindTileAccess(in, bi, oi);
      g.loop(g.c(0), g.c(p.nkb), g.c(1), [&](Value pb) {
        Value first = arith::CmpIOp::create(b, g.loc, arith::CmpIPredicate::eq, pb, g.c(0));
        Value last = arith::CmpIOp::create(b, g.loc, arith::CmpIPredicate::eq, pb, g.c(p.nkb - 1));
        Value k0 = g.mul(pb, p.kc);
        Value kcb = g.min(g.c(p.kc), g.sub(g.c(an.K), k0));
        curK0 = k0;
        // Pack the B panel of this k block.
        g.loop(g.c(0), nFull, g.c(1), [&](Value jp) {
          packBPanel(Bp, bOff, jp, g.add(n0, g.mul(jp, p.nr)), k0, kcb, Value(), false);
        });
        g.ifThen(g.ne0(nRem), [&] {
          packBPanel(Bp, bOff, nFull, g.add(n0, g.mul(nFull, p.nr)), k0, kcb, nRem, true);
        });
        Value apK = g.add(apBase, g.mul(k0, an.M));
        g.loop(m0, mEnd, g.c(p.mc), [&](Value ic) {
          Value icEnd = g.min(g.add(ic, p.mc), mEnd);
          Value mFull = g.div(g.sub(icEnd, ic), p.mr);
          Value mTail = g.add(ic, g.mul(mFull, p.mr));
          auto column = [&](Value jp, bool masked) {
            Value j = g.add(n0, g.mul(jp, p.nr));
            Value bpOff = g.mul(g.mul(jp, kcb), p.nr);
            g.loop(g.c(0), mFull, g.c(1), [&](Value ip) {
              Value ir = g.add(ic, g.mul(ip, p.mr));
              kernel(p.mr, masked, nRem, Ap, g.add(apK, g.mul(ir, kcb)), Bp, bpOff, kcb, cOff, ir, j,
                     first, last);
            });
            if (p.mrem != 0)
              g.ifThen(g.ne0(g.sub(icEnd, mTail)), [&] {
                kernel(p.mrem, masked, nRem, Ap, g.add(apK, g.mul(mTail, kcb)), Bp, bpOff, kcb,
                       cOff, mTail, j, first, last);
              });
          };
          g.loop(g.c(0), nFull, g.c(1), [&](Value jp) { column(jp, false); });
          g.ifThen(g.ne0(nRem), [&] { column(nFull, true); });
        });
      });
    };
    if (tasks > 1) {
      auto f = scf::ForallOp::create(b, g.loc, ArrayRef<OpFoldResult>{b.getIndexAttr(tasks)},
                                     ValueRange{}, std::nullopt);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(f.getBody()->getTerminator());
      body(f.getInductionVar(0));
    } else {
      body(g.c(0));
    }
    (void)ctx;
  }
};

/// No reads or writes of memory (allocations are fine).
bool noReadWrite(Operation *op) {
  if (isMemoryEffectFree(op))
    return true;
  auto mi = dyn_cast<MemoryEffectOpInterface>(op);
  if (!mi || op->getNumRegions() != 0)
    return false;
  SmallVector<MemoryEffects::EffectInstance> effects;
  mi.getEffects(effects);
  return llvm::all_of(effects, [](const MemoryEffects::EffectInstance &e) {
    return isa<MemoryEffects::Allocate>(e.getEffect());
  });
}

/// `a` and `b` are in one block, `a` first, with nothing between them that
/// reads or writes memory.
bool adjacent(Operation *a, Operation *b) {
  if (a->getBlock() != b->getBlock() || !a->isBeforeInBlock(b))
    return false;
  for (Operation *o = a->getNextNode(); o != b; o = o->getNextNode())
    if (!noReadWrite(o))
      return false;
  return true;
}

/// The fused prologue and epilogue of GEMM `op` (see isGemmPrologue /
/// isGemmEpilogue): the only other ops using its init C, right before and
/// right after it.
void findFusions(linalg::LinalgOp op, GemmLowering &gl) {
  Value c = op.getDpsInitOperand(0)->get();
  linalg::LinalgOp pro;
  linalg::GenericOp epi;
  llvm::SetVector<Operation *> users(c.getUsers().begin(), c.getUsers().end());
  for (Operation *u : users) {
    if (u == op.getOperation())
      continue;
    auto l = dyn_cast<linalg::LinalgOp>(u);
    if (l && l.getNumDpsInits() == 1 && l.getDpsInitOperand(0)->get() == c && !pro &&
        kiln::cpu::isGemmPrologue(l) && adjacent(u, op))
      pro = l;
    else if (auto gen = dyn_cast<linalg::GenericOp>(u);
             gen && !epi && kiln::cpu::isGemmEpilogue(gen, c) && adjacent(op, u))
      epi = gen;
    else
      return; // another reader or writer of C: fuse nothing
  }
  AffineMap cMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  unsigned nl = op.getNumLoops();
  if (pro) {
    if (auto fill = dyn_cast<linalg::FillOp>(pro.getOperation())) {
      gl.pro = pro;
      gl.fillValue = fill.getDpsInputOperand(0)->get();
    } else {
      OpOperand *in = pro.getDpsInputOperand(0);
      std::optional<LinearAccess> a =
          accessLikeC(in->get(), pro.getMatchingIndexingMap(in), cMap, nl);
      TileAccess t;
      if (a && gl.makeTileAccess(t, in->get(), *a)) {
        gl.pro = pro;
        gl.x = t;
      }
    }
  }
  if (epi) {
    OpOperand *out = epi.getDpsInitOperand(0);
    std::optional<LinearAccess> a =
        accessLikeC(out->get(), epi.getMatchingIndexingMap(out), cMap, nl);
    TileAccess t;
    bool ok = a && gl.makeTileAccess(t, out->get(), *a) && t.kind == TileAccess::Kind::Contiguous;
    std::vector<TileAccess> ins(epi.getNumDpsInputs());
    for (auto [i, in] : llvm::enumerate(epi.getDpsInputOperands())) {
      if (!ok || in->get() == c)
        continue;
      std::optional<LinearAccess> ia =
          accessLikeC(in->get(), epi.getMatchingIndexingMap(in), cMap, nl);
      ok = ia && gl.makeTileAccess(ins[i], in->get(), *ia);
    }
    if (ok) {
      gl.epi = epi;
      gl.y = t;
      gl.epiIn = ins;
      gl.epiC = c;
    }
  }
}

//===----------------------------------------------------------------------===//
// Window reductions (pooling)
//===----------------------------------------------------------------------===//

/// out[...] = combine(out[...], in[linear(...)]) over reduction (window)
/// loops: linalg.pooling_* and any linalg op with that body (an extra input
/// whose value the body ignores, like pooling's window shape, is allowed).
/// Vectorized along the output's unit-stride dimension.
struct WindowReduction {
  unsigned data = 0; // the input the body reads
  Operation *combiner = nullptr;
  SmallVector<int64_t> range;
  LinearAccess in, out;
  unsigned vec = 0;
  SmallVector<unsigned> outer, red; // extent > 1, outermost first
};

std::optional<WindowReduction> analyzeWindowReduction(linalg::LinalgOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInits() != 1 || op.getNumDpsInputs() < 1 ||
      op.getNumDpsInputs() > 2 || op->getNumRegions() != 1)
    return std::nullopt;
  Block &blk = op->getRegion(0).front();
  if (blk.getOperations().size() != 2)
    return std::nullopt;
  Operation *comb = &blk.front();
  if (!isa<arith::MaximumFOp, arith::MinimumFOp, arith::MaxNumFOp, arith::MinNumFOp, arith::AddFOp>(
          comb))
    return std::nullopt;
  auto y = cast<linalg::YieldOp>(blk.getTerminator());
  Value outArg = blk.getArgument(op.getNumDpsInputs());
  if (y.getNumOperands() != 1 || y.getOperand(0) != comb->getResult(0))
    return std::nullopt;
  WindowReduction w;
  Value inArg;
  if (comb->getOperand(0) == outArg)
    inArg = comb->getOperand(1);
  else if (comb->getOperand(1) == outArg)
    inArg = comb->getOperand(0);
  else
    return std::nullopt;
  auto ba = dyn_cast<BlockArgument>(inArg);
  if (!ba || ba.getOwner() != &blk || ba.getArgNumber() >= op.getNumDpsInputs())
    return std::nullopt;
  w.data = ba.getArgNumber();
  for (unsigned i = 0; i < op.getNumDpsInputs(); ++i)
    if (i != w.data && !blk.getArgument(i).use_empty())
      return std::nullopt;
  w.combiner = comb;
  w.range = op.getStaticLoopRanges();
  if (llvm::any_of(w.range, [](int64_t r) { return ShapedType::isDynamic(r) || r <= 0; }))
    return std::nullopt;
  unsigned nl = op.getNumLoops();
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  AffineMap outMap = maps.back();
  if (!outMap.isProjectedPermutation())
    return std::nullopt;
  for (auto [idx, acc] : {std::pair<unsigned, LinearAccess *>{w.data, &w.in},
                          std::pair<unsigned, LinearAccess *>{op.getNumDpsInputs(), &w.out}}) {
    Value v = op->getOperand(idx);
    SmallVector<int64_t> strides, shape;
    if (!stridesOf(v.getType(), strides, shape) || !isa<MemRefType>(v.getType()))
      return std::nullopt;
    acc->coef.assign(nl, 0);
    AffineMap map = maps[idx];
    for (unsigned i = 0; i < map.getNumResults(); ++i) {
      SmallVector<int64_t> c(nl, 0);
      int64_t cst = 0;
      if (!linearize(map.getResult(i), 1, c, cst))
        return std::nullopt;
      for (unsigned d = 0; d < nl; ++d)
        acc->coef[d] += c[d] * strides[i];
      acc->cst += cst * strides[i];
    }
    if (acc->cst < 0 || llvm::any_of(acc->coef, [](int64_t c) { return c < 0; }))
      return std::nullopt;
  }
  auto iters = op.getIteratorTypesArray();
  std::optional<unsigned> vec;
  for (unsigned d = 0; d < nl; ++d) {
    bool isRed = iters[d] == utils::IteratorType::reduction;
    if (isRed != (w.out.coef[d] == 0))
      return std::nullopt;
    if (w.range[d] == 1)
      continue;
    if (isRed)
      w.red.push_back(d);
    else if (w.out.coef[d] == 1 && !vec)
      vec = d;
    else
      w.outer.push_back(d);
  }
  if (!vec)
    return std::nullopt;
  w.vec = *vec;
  llvm::stable_sort(w.outer, [&](unsigned x, unsigned y) { return w.out.coef[x] > w.out.coef[y]; });
  return w;
}

void lowerWindowReduction(Gen &g, linalg::LinalgOp op, const WindowReduction &w, int64_t L,
                          unsigned threads, Value fillValue) {
  OpBuilder &b = g.b;
  Value I1 = g.flat(op.getDpsInputOperand(w.data)->get());
  Value O1 = g.flat(op.getDpsInitOperand(0)->get());
  VectorType vt = g.vec(L, g.f32), mt = VectorType::get({L}, b.getI1Type());
  int64_t nVec = w.range[w.vec];
  int64_t s = w.in.coef[w.vec];
  // Parallel tasks over a prefix of the outer dims, loops over the rest.
  int64_t target = threads > 1 ? 4 * int64_t(threads) : 1, total = 1;
  for (unsigned d : w.outer)
    total *= w.range[d];
  SmallVector<unsigned> par, seq;
  int64_t parCount = 1;
  for (unsigned d : w.outer) {
    if (parCount < target && total * nVec >= (1 << 14))
      par.push_back(d), parCount *= w.range[d];
    else
      seq.push_back(d);
  }
  int64_t window = 1;
  for (unsigned d : w.red)
    window *= w.range[d];

  auto combine = [&](Value acc, Value x) -> Value {
    OperationState st(g.loc, w.combiner->getName());
    st.addOperands({acc, x});
    st.addAttributes(w.combiner->getAttrs());
    st.addTypes(vt);
    return b.create(st)->getResult(0);
  };
  // vector<L> of the input for window offset `at` (elements), lanes along
  // the vector dim (stride s), `count` valid lanes (null: all).
  auto loadIn = [&](Value at, Value count) -> Value {
    Value zero = arith::ConstantOp::create(b, g.loc, vt, DenseElementsAttr::get(vt, 0.0f));
    if (s == 0)
      return vector::BroadcastOp::create(b, g.loc, vt,
                                         memref::LoadOp::create(b, g.loc, I1, ValueRange{at}));
    if (s == 1)
      return count ? Value(vector::MaskedLoadOp::create(b, g.loc, vt, I1, ValueRange{at},
                                                        g.maskFor(count, L), zero))
                   : Value(vector::LoadOp::create(b, g.loc, vt, I1, ValueRange{at}));
    if (s == 2) {
      // Lanes 0, 2, ..., 2L-2 of two consecutive vectors; never read past
      // the last element used (2L-2).
      Value loCnt = count ? g.sub(g.mul(count, 2), g.c(1)) : g.c(L);
      Value hiCnt = count ? g.sub(g.mul(count, 2), g.c(L + 1)) : g.c(L - 1);
      Value lo = count ? Value(vector::MaskedLoadOp::create(b, g.loc, vt, I1, ValueRange{at},
                                                            g.maskFor(loCnt, L), zero))
                       : Value(vector::LoadOp::create(b, g.loc, vt, I1, ValueRange{at}));
      Value hi = vector::MaskedLoadOp::create(b, g.loc, vt, I1, ValueRange{g.add(at, L)},
                                              g.maskFor(hiCnt, L), zero);
      SmallVector<int64_t> even;
      for (int64_t l = 0; l < L; ++l)
        even.push_back(2 * l);
      return vector::ShuffleOp::create(b, g.loc, lo, hi, even);
    }
    SmallVector<int32_t> iota;
    for (int64_t l = 0; l < L; ++l)
      iota.push_back(int32_t(l * s));
    VectorType it = g.vec(L, g.i32);
    Value idx = arith::ConstantOp::create(b, g.loc, it, DenseElementsAttr::get(it, ArrayRef<int32_t>(iota)));
    Value mask = count ? g.maskFor(count, L)
                       : Value(arith::ConstantOp::create(b, g.loc, mt, DenseElementsAttr::get(mt, true)));
    return vector::GatherOp::create(b, g.loc, vt, I1, ValueRange{at}, idx, mask, zero);
  };
  // One output vector at (inOff, outOff) + lane start j.
  auto vectorAt = [&](Value inOff, Value outOff, Value j, Value count) {
    Value o = g.add(outOff, j);
    Value zero = arith::ConstantOp::create(b, g.loc, vt, DenseElementsAttr::get(vt, 0.0f));
    Value acc = fillValue ? Value(vector::BroadcastOp::create(b, g.loc, vt, fillValue))
                : count   ? Value(vector::MaskedLoadOp::create(b, g.loc, vt, O1, ValueRange{o},
                                                               g.maskFor(count, L), zero))
                          : Value(vector::LoadOp::create(b, g.loc, vt, O1, ValueRange{o}));
    Value base = g.add(inOff, g.mul(j, s));
    if (window <= 64) {
      for (int64_t wi = 0; wi < window; ++wi) {
        int64_t rem = wi, off = 0;
        for (int i = int(w.red.size()) - 1; i >= 0; --i) {
          off += w.in.coef[w.red[i]] * (rem % w.range[w.red[i]]);
          rem /= w.range[w.red[i]];
        }
        acc = combine(acc, loadIn(g.add(base, off), count));
      }
    } else {
      acc = g.loop(g.c(0), g.c(window), g.c(1), ValueRange{acc}, [&](Value wi, ValueRange a) {
        Value off = g.digitsOffset(wi, w.red, w.range, w.in.coef);
        return SmallVector<Value>{combine(a[0], loadIn(g.add(base, off), count))};
      })[0];
    }
    if (count)
      vector::MaskedStoreOp::create(b, g.loc, O1, ValueRange{o}, g.maskFor(count, L), acc);
    else
      vector::StoreOp::create(b, g.loc, acc, O1, ValueRange{o});
  };
  // A row of the vector dim.
  auto row = [&](Value inOff, Value outOff) {
    int64_t full = nVec / L, tail = nVec % L;
    if (full > 0)
      g.loop(g.c(0), g.c(full * L), g.c(L), [&](Value j) { vectorAt(inOff, outOff, j, Value()); });
    if (tail)
      vectorAt(inOff, outOff, g.c(full * L), g.c(tail));
  };
  std::function<void(unsigned, Value, Value)> nest = [&](unsigned i, Value inOff, Value outOff) {
    if (i == seq.size())
      return row(inOff, outOff);
    unsigned d = seq[i];
    g.loop(g.c(0), g.c(w.range[d]), g.c(1), [&](Value x) {
      nest(i + 1, g.add(inOff, g.mul(x, w.in.coef[d])), g.add(outOff, g.mul(x, w.out.coef[d])));
    });
  };
  auto task = [&](Value t) {
    Value inOff = g.add(g.digitsOffset(t, par, w.range, w.in.coef), w.in.cst);
    Value outOff = g.add(g.digitsOffset(t, par, w.range, w.out.coef), w.out.cst);
    nest(0, inOff, outOff);
  };
  if (parCount > 1) {
    auto f = scf::ForallOp::create(b, g.loc, ArrayRef<OpFoldResult>{b.getIndexAttr(parCount)},
                                   ValueRange{}, std::nullopt);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(f.getBody()->getTerminator());
    task(f.getInductionVar(0));
  } else {
    task(g.c(0));
  }
}

struct LowerContractionsPass : kiln::cpu::impl::LowerContractionsBase<LowerContractionsPass> {
  using LowerContractionsBase::LowerContractionsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    unsigned bits = vectorBits ? unsigned(vectorBits) : hostVectorBits();
    SymbolTable symbols(module);
    SmallVector<linalg::LinalgOp> ops;
    module.walk([&](linalg::LinalgOp op) {
      if (op.hasPureBufferSemantics())
        ops.push_back(op);
    });
    // A fused prologue or epilogue is erased with its GEMM but may come
    // later in `ops`: never touch it again (a use after free otherwise).
    llvm::SmallPtrSet<Operation *, 16> erased;
    for (linalg::LinalgOp op : ops) {
      if (erased.contains(op))
        continue;
      std::optional<GemmAnalysis> an = kiln::cpu::analyzeGemm(op);
      if (!an || !GemmLowering::tablesFit(*an))
        continue;
      Params p = choose(*an, bits, numThreads);
      OpBuilder b(op);
      Gen g{b, op.getLoc(), module, symbols, b.getF32Type(), b.getI32Type()};
      GemmLowering gl(g, *an, p);
      findFusions(op, gl);
      // With an epilogue, the loops go where it was: its output and the
      // values its body uses are defined by then (only allocations and pure
      // ops lie between).
      if (gl.epi)
        b.setInsertionPoint(gl.epi);
      gl.emit(op, numThreads);
      if (gl.epi) {
        erased.insert(gl.epi);
        gl.epi->erase();
      }
      op->erase();
      if (gl.pro) {
        erased.insert(gl.pro);
        gl.pro->erase();
      }
    }
    // Window reductions (pooling), with the fill of their output folded in.
    SmallVector<linalg::LinalgOp> rest;
    module.walk([&](linalg::LinalgOp op) {
      if (op.hasPureBufferSemantics())
        rest.push_back(op);
    });
    int64_t lanes = bits >= 512 ? 16 : 8;
    erased.clear();
    for (linalg::LinalgOp op : rest) {
      if (erased.contains(op))
        continue;
      std::optional<WindowReduction> w = analyzeWindowReduction(op);
      if (!w)
        continue;
      Value out = op.getDpsInitOperand(0)->get();
      linalg::FillOp fill;
      for (Operation *u : out.getUsers())
        if (auto f = dyn_cast<linalg::FillOp>(u);
            f && f.getDpsInitOperand(0)->get() == out && adjacent(f, op) &&
            f.getDpsInputOperand(0)->get().getType().isF32())
          fill = f;
      OpBuilder b(op);
      Gen g{b, op.getLoc(), module, symbols, b.getF32Type(), b.getI32Type()};
      lowerWindowReduction(g, op, *w, lanes, numThreads,
                           fill ? fill.getDpsInputOperand(0)->get() : Value());
      op->erase();
      if (fill) {
        erased.insert(fill);
        fill->erase();
      }
    }
  }
};

} // namespace
