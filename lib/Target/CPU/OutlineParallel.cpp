//===- OutlineParallel.cpp - scf.forall bodies → kiln_parallel_for bodies -===//
//
// The outlined body takes only bare-pointer-compatible arguments (rank-0 base
// buffers, indices, scalars), so after func-to-llvm every capture is a plain
// pointer or number that kiln-cpu-lower-parallel-dispatch can put in a struct.
//
//===----------------------------------------------------------------------===//

#include "Target/CPU/Passes.h"

#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/RegionUtils.h"

namespace kiln::cpu {
#define GEN_PASS_DEF_OUTLINEPARALLEL
#include "Target/CPU/Passes.h.inc"
} // namespace kiln::cpu

using namespace mlir;

namespace {

struct Capture {
  Value value;
  MemRefType memref; // null for scalars
  bool dynamicOffset = false;
};

LogicalResult outline(scf::ForallOp f, func::FuncOp fn, unsigned index,
                      SymbolTable &symbols) {
  if (f.getNumResults() != 0)
    return failure();
  SmallVector<int64_t> lbs, ubs, steps, counts;
  for (auto [lb, ub, st] :
       llvm::zip(f.getMixedLowerBound(), f.getMixedUpperBound(), f.getMixedStep())) {
    std::optional<int64_t> l = getConstantIntValue(lb), u = getConstantIntValue(ub),
                           s = getConstantIntValue(st);
    if (!l || !u || !s || *s <= 0)
      return failure();
    lbs.push_back(*l);
    ubs.push_back(*u);
    steps.push_back(*s);
    counts.push_back(std::max<int64_t>(0, llvm::divideCeil(*u - *l, *s)));
  }
  int64_t total = 1;
  for (int64_t c : counts)
    total *= c;

  llvm::SetVector<Value> used;
  getUsedValuesDefinedAbove(f.getRegion(), used);
  SmallVector<Capture> caps;
  SmallVector<Operation *> constants;
  for (Value v : used) {
    // Constants are cloned into the body, not passed: behind the
    // kiln_parallel_for trampoline LLVM could no longer fold them (tile
    // sizes, strides, loop bounds).
    if (Operation *def = v.getDefiningOp();
        def && def->hasTrait<OpTrait::ConstantLike>() && def->getNumResults() == 1) {
      constants.push_back(def);
      continue;
    }
    Type t = v.getType();
    if (auto mt = dyn_cast<MemRefType>(t)) {
      SmallVector<int64_t> strides;
      int64_t offset;
      if (!mt.hasStaticShape() || failed(mt.getStridesAndOffset(strides, offset)) ||
          llvm::any_of(strides, ShapedType::isDynamic))
        return failure();
      caps.push_back({v, mt, ShapedType::isDynamic(offset)});
    } else if (t.isIntOrIndexOrFloat()) {
      caps.push_back({v, nullptr, false});
    } else {
      return failure();
    }
  }

  MLIRContext *ctx = f.getContext();
  Location loc = f.getLoc();
  OpBuilder b(f);
  Type indexTy = b.getIndexType();
  SmallVector<Value> callArgs;
  SmallVector<Type> argTypes;
  for (Capture &c : caps) {
    if (!c.memref) {
      callArgs.push_back(c.value);
      argTypes.push_back(c.value.getType());
      continue;
    }
    auto md = memref::ExtractStridedMetadataOp::create(b, loc, c.value);
    callArgs.push_back(md.getBaseBuffer());
    argTypes.push_back(md.getBaseBuffer().getType());
    if (c.dynamicOffset) {
      callArgs.push_back(md.getOffset());
      argTypes.push_back(indexTy);
    }
  }

  // The body: iterations [lo, hi) of the linearized iteration space.
  OpBuilder mb(ctx);
  mb.setInsertionPointAfter(fn);
  SmallVector<Type> bodyTypes{indexTy, indexTy};
  bodyTypes.append(argTypes);
  std::string base = (fn.getName() + "_par" + llvm::Twine(index)).str();
  auto body = func::FuncOp::create(mb, loc, base + "_body",
                                   FunctionType::get(ctx, bodyTypes, {}));
  body.setPrivate();
  symbols.insert(body);
  Block *entry = body.addEntryBlock();
  OpBuilder bb = OpBuilder::atBlockBegin(entry);
  IRMapping map;
  for (Operation *c : constants)
    bb.clone(*c, map);
  unsigned a = 2;
  for (Capture &c : caps) {
    if (!c.memref) {
      map.map(c.value, entry->getArgument(a++));
      continue;
    }
    Value baseBuf = entry->getArgument(a++);
    SmallVector<int64_t> strides;
    int64_t offset;
    (void)c.memref.getStridesAndOffset(strides, offset);
    OpFoldResult off = c.dynamicOffset ? OpFoldResult(entry->getArgument(a++))
                                       : OpFoldResult(bb.getIndexAttr(offset));
    SmallVector<OpFoldResult> sizes, strs;
    for (int64_t s : c.memref.getShape())
      sizes.push_back(bb.getIndexAttr(s));
    for (int64_t s : strides)
      strs.push_back(bb.getIndexAttr(s));
    Value rebuilt =
        memref::ReinterpretCastOp::create(bb, loc, c.memref, baseBuf, off, sizes, strs);
    map.map(c.value, rebuilt);
  }
  Value one = arith::ConstantIndexOp::create(bb, loc, 1);
  auto loop = scf::ForOp::create(bb, loc, entry->getArgument(0), entry->getArgument(1), one);
  func::ReturnOp::create(bb, loc);
  OpBuilder lb = OpBuilder::atBlockBegin(loop.getBody());
  Value rem = loop.getInductionVar();
  SmallVector<Value> ivs(counts.size());
  for (int d = static_cast<int>(counts.size()) - 1; d >= 0; --d) {
    Value cnt = arith::ConstantIndexOp::create(lb, loc, counts[d]);
    Value idx = d == 0 ? rem : arith::RemUIOp::create(lb, loc, rem, cnt).getResult();
    if (d > 0)
      rem = arith::DivUIOp::create(lb, loc, rem, cnt);
    Value iv = arith::MulIOp::create(lb, loc, idx,
                                     arith::ConstantIndexOp::create(lb, loc, steps[d]));
    iv = arith::AddIOp::create(lb, loc, iv, arith::ConstantIndexOp::create(lb, loc, lbs[d]));
    ivs[d] = iv;
  }
  for (auto [old, iv] : llvm::zip(f.getInductionVars(), ivs))
    map.map(old, iv);
  for (Operation &op : f.getBody()->without_terminator())
    lb.clone(op, map);

  // The dispatch declaration, defined at the LLVM level.
  SmallVector<Type> dispTypes{indexTy};
  dispTypes.append(argTypes);
  mb.setInsertionPointAfter(fn);
  auto disp = func::FuncOp::create(mb, loc, base, FunctionType::get(ctx, dispTypes, {}));
  disp.setPrivate();
  symbols.insert(disp);
  disp->setAttr(kiln::cpu::kParallelBodyAttr, FlatSymbolRefAttr::get(body));

  SmallVector<Value> operands{arith::ConstantIndexOp::create(b, loc, total)};
  operands.append(callArgs);
  func::CallOp::create(b, loc, disp, operands);
  f.erase();
  return success();
}

struct OutlineParallelPass
    : kiln::cpu::impl::OutlineParallelBase<OutlineParallelPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<func::FuncOp> fns(module.getOps<func::FuncOp>());
    for (func::FuncOp fn : fns) {
      if (fn.isExternal())
        continue;
      SmallVector<scf::ForallOp> outer;
      fn.walk<WalkOrder::PreOrder>([&](scf::ForallOp f) {
        outer.push_back(f);
        return WalkResult::skip();
      });
      unsigned index = 0;
      for (scf::ForallOp f : outer)
        (void)outline(f, fn, index++, symbols);
    }
    // What is left (nested or not outlinable) runs sequentially.
    SmallVector<scf::ForallOp> rest;
    module.walk([&](scf::ForallOp f) { rest.push_back(f); });
    IRRewriter rw(&getContext());
    for (scf::ForallOp f : llvm::reverse(rest)) {
      rw.setInsertionPoint(f);
      if (failed(scf::forallToForLoop(rw, f))) {
        f.emitError("kiln-cpu-outline-parallel: cannot sequentialize scf.forall");
        return signalPassFailure();
      }
    }
  }
};

} // namespace
