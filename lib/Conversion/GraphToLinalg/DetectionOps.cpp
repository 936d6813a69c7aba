//===- DetectionOps.cpp - Lowering of detection heads to linalg ----------------===//
//
// GraphDetectionOps.td's ops on tensors; semantics as the reference
// interpreter's (lib/Interpreter/DetectionOps.cpp), step for step.
//
// box_iou is one linalg.generic and MultiBoxPrior a constant. The others
// are data-dependent loops (sorting, greedy suppression, windows whose
// bounds come from the ROIs), written as scf.for / scf.if nests over
// tensors with tensor.extract / tensor.insert (KernelBuilder below), on
// flat views of the operands. Index lists and flags live in i64 tensors.
// Sorting is a bottom-up merge sort (stable, O(n log n)), because the
// candidates of an SSD box_nms number in the hundreds of thousands.
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphDetectionOps.h"
#include "LoweringHelpers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cfloat>

using namespace mlir;
namespace g = kiln::graph;

namespace kiln::lowering {

namespace {

//===----------------------------------------------------------------------===//
// KernelBuilder: imperative code on tensors
//===----------------------------------------------------------------------===//

/// Builds scalar code at the builder's insertion point: arithmetic on the
/// float element type `et` and on index values, element reads and writes of
/// tensors, and loops and conditionals that carry values (tensors being
/// updated) as scf iter_args / results. Bodies receive the carried values in
/// a vector they update in place.
struct KernelBuilder {
  OpBuilder &b;
  Location loc;
  Type et;

  using State = SmallVector<Value>;
  using Body = llvm::function_ref<void(State &)>;
  using LoopBody = llvm::function_ref<void(Value, State &)>;

  Type i64() { return b.getI64Type(); }
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value f(double v) {
    return arith::ConstantOp::create(b, loc, cast<TypedAttr>(b.getFloatAttr(et, v)));
  }
  Value i64c(int64_t v) { return arith::ConstantIntOp::create(b, loc, v, 64); }

  // Float arithmetic.
  Value add(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubFOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  Value div(Value x, Value y) { return arith::DivFOp::create(b, loc, x, y); }
  Value exp(Value x) { return math::ExpOp::create(b, loc, x); }
  Value floor(Value x) { return math::FloorOp::create(b, loc, x); }
  Value ceil(Value x) { return math::CeilOp::create(b, loc, x); }
  /// Rounds halves away from zero (std::round).
  Value round(Value x) { return math::RoundOp::create(b, loc, x); }
  Value cmpf(arith::CmpFPredicate p, Value x, Value y) {
    return arith::CmpFOp::create(b, loc, p, x, y);
  }
  Value lt(Value x, Value y) { return cmpf(arith::CmpFPredicate::OLT, x, y); }
  Value gt(Value x, Value y) { return cmpf(arith::CmpFPredicate::OGT, x, y); }
  Value le(Value x, Value y) { return cmpf(arith::CmpFPredicate::OLE, x, y); }
  Value ge(Value x, Value y) { return cmpf(arith::CmpFPredicate::OGE, x, y); }
  Value feq(Value x, Value y) { return cmpf(arith::CmpFPredicate::OEQ, x, y); }
  Value fne(Value x, Value y) { return cmpf(arith::CmpFPredicate::UNE, x, y); }
  /// std::max / std::min: the first operand unless the second compares
  /// larger / smaller.
  Value max(Value x, Value y) { return sel(lt(x, y), y, x); }
  Value min(Value x, Value y) { return sel(lt(y, x), y, x); }

  // Index arithmetic.
  Value iadd(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value isub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value imul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value idiv(Value x, Value y) { return arith::DivSIOp::create(b, loc, x, y); }
  Value irem(Value x, Value y) { return arith::RemSIOp::create(b, loc, x, y); }
  Value cmpi(arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, loc, p, x, y);
  }
  Value ilt(Value x, Value y) { return cmpi(arith::CmpIPredicate::slt, x, y); }
  Value ile(Value x, Value y) { return cmpi(arith::CmpIPredicate::sle, x, y); }
  Value ige(Value x, Value y) { return cmpi(arith::CmpIPredicate::sge, x, y); }
  Value ieq(Value x, Value y) { return cmpi(arith::CmpIPredicate::eq, x, y); }
  Value ine(Value x, Value y) { return cmpi(arith::CmpIPredicate::ne, x, y); }
  Value imin(Value x, Value y) { return arith::MinSIOp::create(b, loc, x, y); }
  Value imax(Value x, Value y) { return arith::MaxSIOp::create(b, loc, x, y); }

  // Booleans and selection.
  Value land(Value x, Value y) { return arith::AndIOp::create(b, loc, x, y); }
  Value lor(Value x, Value y) { return arith::OrIOp::create(b, loc, x, y); }
  Value lnot(Value x) {
    return arith::XOrIOp::create(b, loc, x, arith::ConstantIntOp::create(b, loc, 1, 1));
  }
  Value sel(Value c, Value x, Value y) { return arith::SelectOp::create(b, loc, c, x, y); }

  // Conversions: float → index truncates toward zero (a C++ cast).
  Value toIndex(Value x) {
    Value i = arith::FPToSIOp::create(b, loc, i64(), x);
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), i);
  }
  Value toFloat(Value i) {
    Value v = arith::IndexCastOp::create(b, loc, i64(), i);
    return arith::SIToFPOp::create(b, loc, et, v);
  }
  /// An index stored in an i64 tensor, and back.
  Value fromI64(Value v) { return arith::IndexCastOp::create(b, loc, b.getIndexType(), v); }
  Value toI64(Value i) { return arith::IndexCastOp::create(b, loc, i64(), i); }

  // Tensors.
  Value get(Value t, ValueRange indices) { return tensor::ExtractOp::create(b, loc, t, indices); }
  Value put(Value t, Value v, ValueRange indices) {
    return tensor::InsertOp::create(b, loc, v, t, indices);
  }
  Value filled(ArrayRef<int64_t> shape, Value v) {
    Value e = tensor::EmptyOp::create(b, loc, shape, v.getType());
    return linalg::FillOp::create(b, loc, ValueRange{v}, ValueRange{e}).getResult(0);
  }
  /// An index list of `n` entries (contents undefined until written).
  Value indexList(int64_t n) { return filled({n}, i64c(0)); }
  /// The element of the i64 tensor `t` at `i`, as an index.
  Value getIndex(Value t, Value i) { return fromI64(get(t, {i})); }
  Value putIndex(Value t, Value v, Value i) { return put(t, toI64(v), {i}); }

  // Control flow.
  State loop(Value lb, Value ub, ValueRange carried, LoopBody body) {
    auto op = scf::ForOp::create(b, loc, lb, ub, idx(1), carried,
                                 [&](OpBuilder &nb, Location, Value iv, ValueRange args) {
                                   OpBuilder::InsertionGuard guard(b);
                                   b.setInsertionPoint(nb.getInsertionBlock(),
                                                       nb.getInsertionPoint());
                                   State st(args.begin(), args.end());
                                   body(iv, st);
                                   scf::YieldOp::create(b, loc, st);
                                 });
    return State(op.getResults().begin(), op.getResults().end());
  }
  State loop(int64_t lb, int64_t ub, ValueRange carried, LoopBody body) {
    return loop(idx(lb), idx(ub), carried, body);
  }
  /// scf.if carrying `carried`: `then` (and `otherwise`, when given) update it.
  State when(Value cond, ValueRange carried, Body then, Body otherwise = nullptr) {
    auto op = scf::IfOp::create(b, loc, ValueRange(carried).getTypes(), cond,
                                /*addThenBlock=*/true, /*addElseBlock=*/true);
    auto fill = [&](Block &block, Body fn) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&block);
      State st(carried.begin(), carried.end());
      if (fn)
        fn(st);
      if (block.empty() || !block.back().hasTrait<OpTrait::IsTerminator>())
        scf::YieldOp::create(b, loc, st);
    };
    fill(op.getThenRegion().front(), then);
    fill(op.getElseRegion().front(), otherwise);
    return State(op.getResults().begin(), op.getResults().end());
  }

  /// A copy of `t` in a buffer of its own: reads of an old value of a
  /// tensor that is later updated in place must come from one, or
  /// bufferization copies inside the loops.
  Value copyOf(Value t) {
    auto type = cast<RankedTensorType>(t.getType());
    Value e = tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType());
    return linalg::CopyOp::create(b, loc, t, e).getResult(0);
  }

  /// Stable merge sort of the first `count` entries of the index list
  /// `order` (capacity `cap`): `before(a, b)` is true when entry a must come
  /// before entry b (a strict order). Bottom-up, ⌈log2 cap⌉ passes, unrolled
  /// so that each pass merges from one buffer into the other (loop-carried
  /// buffers must stay in place for bufferization).
  Value sort(Value order, Value count, int64_t cap,
             llvm::function_ref<Value(Value, Value)> before) {
    Value src = order, dst = indexList(cap);
    for (int64_t width = 1; width < cap; width *= 2) {
      Value w = idx(width), step = idx(2 * width);
      auto merged = scf::ForOp::create(
          b, loc, idx(0), count, step, ValueRange{dst},
          [&](OpBuilder &nb, Location, Value lo, ValueRange args) {
            OpBuilder::InsertionGuard guard(b);
            b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
            Value mid = imin(iadd(lo, w), count), hi = imin(iadd(lo, step), count);
            State m = loop(lo, hi, {args[0], lo, mid}, [&](Value k, State &ms) {
              Value i = ms[1], j = ms[2];
              Value leftLeft = ilt(i, mid), rightLeft = ilt(j, hi);
              Value a = getIndex(src, sel(leftLeft, i, lo));
              Value c = getIndex(src, sel(rightLeft, j, lo));
              // Take the left run's entry unless the right one must come
              // first: ties keep their order.
              Value takeLeft = land(leftLeft, lor(lnot(rightLeft), lnot(before(c, a))));
              ms[0] = putIndex(ms[0], sel(takeLeft, a, c), k);
              ms[1] = sel(takeLeft, iadd(i, idx(1)), i);
              ms[2] = sel(takeLeft, j, iadd(j, idx(1)));
            });
            scf::YieldOp::create(b, loc, m[0]);
          });
      dst = src;
      src = merged.getResult(0);
    }
    return src;
  }
};

/// `v` as a 1-D tensor.
Value flat(Ctx &cx, Value v) { return cx.reshape(v, {product(shapeOf(v))}); }

//===----------------------------------------------------------------------===//
// box_iou
//===----------------------------------------------------------------------===//

/// Overlap along one axis of two boxes given as (x1, x2) corners or (x, w).
Value intersect1D(KernelBuilder &k, Value a0, Value a2, Value b0, Value b2, bool center) {
  Value left, right;
  if (!center) {
    left = k.max(a0, b0);
    right = k.min(a2, b2);
  } else {
    Value half = k.f(0.5);
    Value aw = k.mul(a2, half), bw = k.mul(b2, half);
    left = k.max(k.sub(b0, bw), k.sub(a0, aw));
    right = k.min(k.add(b0, bw), k.add(a0, aw));
  }
  Value w = k.sub(right, left);
  return k.sel(k.gt(w, k.f(0)), w, k.f(0));
}

Value boxArea(KernelBuilder &k, ArrayRef<Value> box, bool center) {
  Value w = center ? box[2] : k.sub(box[2], box[0]);
  Value h = center ? box[3] : k.sub(box[3], box[1]);
  Value negative = k.lor(k.lt(w, k.f(0)), k.lt(h, k.f(0)));
  return k.sel(negative, k.f(0), k.mul(w, h));
}

/// MXNet's IoU of two boxes (4 coordinates each): intersection over union,
/// `zeroIfDisjoint` returning 0 without dividing when they do not overlap.
Value boxIoU(KernelBuilder &k, ArrayRef<Value> a, ArrayRef<Value> c, bool center,
             bool zeroIfDisjoint) {
  Value inter = k.mul(intersect1D(k, a[0], a[2], c[0], c[2], center),
                      intersect1D(k, a[1], a[3], c[1], c[3], center));
  Value iou = k.div(inter, k.sub(k.add(boxArea(k, a, center), boxArea(k, c, center)), inter));
  return zeroIfDisjoint ? k.sel(k.le(inter, k.f(0)), k.f(0), iou) : iou;
}

Results lowerBoxIoU(Ctx &cx, g::BoxIoUOp op) {
  bool center = op.getFormat() == "center";
  int64_t nl = product(shapeOf(op.getLhs())) / 4, nr = product(shapeOf(op.getRhs())) / 4;
  auto columns = [&](Value v, int64_t n) {
    Value m = cx.reshape(v, {n, 4});
    SmallVector<Value> cols;
    for (int64_t c = 0; c < 4; ++c)
      cols.push_back(cx.reshape(cx.slice(m, {0, c}, {n, 1}), {n}));
    return cols;
  };
  SmallVector<Value> ins = columns(op.getLhs(), nl);
  ins.append(columns(op.getRhs(), nr));
  SmallVector<AffineMap> maps(4, cx.map(2, {cx.d(0)}));
  maps.append(4, cx.map(2, {cx.d(1)}));
  Value out = cx.generic({nl, nr}, ins, maps, {Iter::parallel, Iter::parallel},
                         [&](OpBuilder &nb, Location nl, ValueRange a) {
                           KernelBuilder k{nb, nl, cx.et};
                           SmallVector<Value> v(a.begin(), a.end());
                           return boxIoU(k, ArrayRef<Value>(v).take_front(4),
                                         ArrayRef<Value>(v).slice(4, 4), center, true);
                         });
  return one(cx.reshape(out, shapeOf(op.getResult())));
}

//===----------------------------------------------------------------------===//
// box_decode: one linalg.generic over (B, N)
//===----------------------------------------------------------------------===//

/// box_encode: one generic over (B, N, 4) for the targets (the matched ref
/// read with tensor.extract, the match clamped into refs), one for the
/// masks.
Results lowerBoxEncode(Ctx &cx, g::BoxEncodeOp op) {
  Shape as = shapeOf(op.getAnchors());
  int64_t m = shapeOf(op.getRefs())[1];
  AffineMap bn = cx.map(3, {cx.d(0), cx.d(1)});
  SmallVector<Iter> iters(3, Iter::parallel);
  Value anchors = op.getAnchors(), refs = op.getRefs(), means = op.getMeans(),
        stds = op.getStds();
  Value targets = cx.generic(
      as, ValueRange{op.getSamples(), op.getMatches()}, {bn, bn}, iters,
      [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
        KernelBuilder k{nb, nl, cx.et};
        Value b = linalg::IndexOp::create(nb, nl, 0), i = linalg::IndexOp::create(nb, nl, 1),
              c = linalg::IndexOp::create(nb, nl, 2);
        Value match = k.imax(k.imin(k.toIndex(a[1]), k.idx(m - 1)), k.idx(0));
        auto corner = [&](Value t, Value row, int64_t j) { return k.get(t, {b, row, k.idx(j)}); };
        Value r0 = corner(refs, match, 0), r1 = corner(refs, match, 1);
        Value rw = k.sub(corner(refs, match, 2), r0), rh = k.sub(corner(refs, match, 3), r1);
        Value a0 = corner(anchors, i, 0), a1 = corner(anchors, i, 1);
        Value aw = k.sub(corner(anchors, i, 2), a0), ah = k.sub(corner(anchors, i, 3), a1);
        Value half = k.f(0.5);
        Value dx = k.div(k.sub(k.add(r0, k.mul(rw, half)), k.add(a0, k.mul(aw, half))), aw);
        Value dy = k.div(k.sub(k.add(r1, k.mul(rh, half)), k.add(a1, k.mul(ah, half))), ah);
        Value dw = math::LogOp::create(nb, nl, k.div(rw, aw));
        Value dh = math::LogOp::create(nb, nl, k.div(rh, ah));
        Value t = k.sel(k.ieq(c, k.idx(0)), dx,
                        k.sel(k.ieq(c, k.idx(1)), dy, k.sel(k.ieq(c, k.idx(2)), dw, dh)));
        Value v = k.div(k.sub(t, k.get(means, {c})), k.get(stds, {c}));
        return k.sel(k.gt(a[0], half), v, k.f(0.0));
      });
  Value masks = cx.generic(as, ValueRange{op.getSamples()}, {bn}, iters,
                           [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                             KernelBuilder k{nb, nl, cx.et};
                             return k.sel(k.gt(a[0], k.f(0.5)), k.f(1.0), k.f(0.0));
                           });
  return SmallVector<Value>{targets, masks};
}

Results lowerBoxDecode(Ctx &cx, g::BoxDecodeOp op) {
  Shape ds = shapeOf(op.getData());
  int64_t batches = ds[0], num = ds[1];
  auto columns = [&](Value m, int64_t rows) {
    SmallVector<Value> cols;
    for (int64_t c = 0; c < 4; ++c)
      cols.push_back(cx.reshape(cx.slice(m, {0, c}, {rows, 1}), {rows}));
    return cols;
  };
  Value data = cx.reshape(op.getData(), {batches * num, 4});
  Shape as = shapeOf(op.getAnchors());
  int64_t anchorRows = product(as) / 4;
  Value anchors = cx.reshape(op.getAnchors(), {anchorRows, 4});
  if (anchorRows != num)
    anchors = cx.slice(anchors, {0, 0}, {num, 4});
  SmallVector<Value> ins;
  for (Value c : columns(data, batches * num))
    ins.push_back(cx.reshape(c, {batches, num}));
  ins.append(columns(anchors, num));
  SmallVector<AffineMap> maps(4, cx.id(2));
  maps.append(4, cx.map(2, {cx.d(1)}));
  double std[4] = {op.getStd0().convertToFloat(), op.getStd1().convertToFloat(),
                   op.getStd2().convertToFloat(), op.getStd3().convertToFloat()};
  double clip = op.getClip().convertToFloat();
  bool corner = op.getFormat() == "corner";
  SmallVector<Value> inits(4, cx.empty({batches, num}));
  SmallVector<AffineMap> outMaps(4, cx.id(2));
  SmallVector<Value> outs = cx.genericN(
      ins, maps, inits, outMaps, {Iter::parallel, Iter::parallel},
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        KernelBuilder k{nb, nl, cx.et};
        Value ax = a[4], ay = a[5], aw = a[6], ah = a[7];
        if (corner) {
          aw = k.sub(aw, ax), ah = k.sub(ah, ay);
          ax = k.add(ax, k.mul(aw, k.f(0.5))), ay = k.add(ay, k.mul(ah, k.f(0.5)));
        }
        Value ox = k.add(k.mul(k.mul(a[0], k.f(std[0])), aw), ax);
        Value oy = k.add(k.mul(k.mul(a[1], k.f(std[1])), ah), ay);
        Value dw = k.mul(a[2], k.f(std[2])), dh = k.mul(a[3], k.f(std[3]));
        if (clip > 0) {
          dw = k.sel(k.lt(dw, k.f(clip)), dw, k.f(clip));
          dh = k.sel(k.lt(dh, k.f(clip)), dh, k.f(clip));
        }
        Value ow = k.mul(k.mul(k.exp(dw), aw), k.f(0.5));
        Value oh = k.mul(k.mul(k.exp(dh), ah), k.f(0.5));
        return SmallVector<Value>{k.sub(ox, ow), k.sub(oy, oh), k.add(ox, ow), k.add(oy, oh)};
      });
  // Interleave the four columns back into rows.
  Value out = cx.empty({batches, num, 4});
  for (int64_t c = 0; c < 4; ++c)
    out = tensor::InsertSliceOp::create(
        cx.b, cx.loc, cx.reshape(outs[c], {batches, num, 1}), out,
        ArrayRef<OpFoldResult>{cx.b.getIndexAttr(0), cx.b.getIndexAttr(0), cx.b.getIndexAttr(c)},
        ArrayRef<OpFoldResult>{cx.b.getIndexAttr(batches), cx.b.getIndexAttr(num),
                               cx.b.getIndexAttr(1)},
        ArrayRef<OpFoldResult>{cx.b.getIndexAttr(1), cx.b.getIndexAttr(1), cx.b.getIndexAttr(1)});
  return one(out);
}

//===----------------------------------------------------------------------===//
// MultiBoxPrior: a constant
//===----------------------------------------------------------------------===//

Results lowerMultiBoxPrior(Ctx &cx, g::MultiBoxPriorOp op) {
  Shape xs = shapeOf(op.getData());
  std::vector<float> anchors = op.computeAnchors(xs[2], xs[3]);
  auto type = RankedTensorType::get(shapeOf(op.getResult()), cx.et);
  SmallVector<Attribute> values;
  for (float v : anchors)
    values.push_back(cx.b.getFloatAttr(cx.et, v));
  return one(arith::ConstantOp::create(cx.b, cx.loc, DenseElementsAttr::get(type, values)));
}

//===----------------------------------------------------------------------===//
// box_nms
//===----------------------------------------------------------------------===//

struct NMSLowered {
  Value out;    // flat, data's element count
  Value record; // i64 [rows]: the input row of each output row, -1 for none
};

template <typename OpT> NMSLowered lowerNMS(Ctx &cx, OpT op, Value data) {
  KernelBuilder k{cx.b, cx.loc, cx.et};
  Shape ds = shapeOf(data);
  int64_t width = ds.back(), num = ds[ds.size() - 2];
  int64_t rows = product(ds) / width;
  int64_t topk = (int64_t)op.getTopk() < 0 ? num : std::min(num, (int64_t)op.getTopk());
  int64_t si = (int64_t)op.getScoreIndex(), cs = (int64_t)op.getCoordStart(), ii = (int64_t)op.getIdIndex();
  bool inCenter = op.getInFormat() == "center", outCenter = op.getOutFormat() == "center";
  bool sameClassOnly = !op.getForceSuppress() && ii >= 0;
  Value x = flat(cx, data);
  NMSLowered r;
  if (topk < 1) {
    // MXNet returns the input untouched, each row its own record.
    r.out = x;
    r.record = k.loop(0, rows, {k.indexList(rows)}, [&](Value i, KernelBuilder::State &s) {
      s[0] = k.putIndex(s[0], i, i);
    })[0];
    return r;
  }
  Value W = k.idx(width), N = k.idx(num), zero = k.idx(0), oneI = k.idx(1);
  auto at = [&](Value row, int64_t col) { return k.get(x, {k.iadd(k.imul(row, W), k.idx(col))}); };
  auto box = [&](Value row) {
    SmallVector<Value> c;
    for (int64_t j = 0; j < 4; ++j)
      c.push_back(at(row, cs + j));
    return c;
  };

  // Candidates in input order (a write at `count` is overwritten unless the
  // row is valid: count <= i always).
  Value validThresh = k.f(op.getValidThresh().convertToFloat());
  Value background = k.f((double)(int64_t)op.getBackgroundId());
  auto cand = k.loop(0, rows, {k.indexList(rows), zero}, [&](Value i, KernelBuilder::State &s) {
    Value valid = k.gt(at(i, si), validThresh);
    if (ii >= 0)
      valid = k.land(valid, k.fne(at(i, ii), background));
    s[0] = k.putIndex(s[0], i, s[1]);
    s[1] = k.sel(valid, k.iadd(s[1], oneI), s[1]);
  });
  Value count = cand[1];
  // Per batch, descending score; ties keep the input order.
  Value order = k.sort(cand[0], count, rows, [&](Value a, Value c) {
    Value ba = k.idiv(a, N), bc = k.idiv(c, N);
    Value higher = k.land(k.ieq(ba, bc), k.gt(at(a, si), at(c, si)));
    return k.lor(k.ilt(ba, bc), higher);
  });

  // Tracks the batch of sorted position p and where its run starts.
  auto batchRun = [&](Value p, Value &curBatch, Value &start) {
    Value row = k.getIndex(order, p);
    Value batch = k.idiv(row, N);
    Value fresh = k.ine(batch, curBatch);
    start = k.sel(fresh, p, start);
    curBatch = batch;
    return std::make_tuple(row, batch, fresh);
  };
  Value threshold = k.f(op.getOverlapThresh().convertToFloat());
  Value K = k.idx(topk), minusOne = k.idx(-1);
  Value suppressed = k.filled({rows}, k.i64c(0));
  suppressed = k.loop(zero, count, {suppressed, minusOne, zero},
                      [&](Value p, KernelBuilder::State &s) {
    auto [row, batch, fresh] = batchRun(p, s[1], s[2]);
    (void)fresh;
    Value start = s[2];
    Value active = k.ilt(k.isub(p, start), K);
    Value alive = k.ieq(k.get(s[0], {p}), k.i64c(0));
    s[0] = k.when(k.land(active, alive), {s[0]}, [&](KernelBuilder::State &t) {
      SmallVector<Value> ref = box(row);
      Value end = k.imin(k.iadd(start, K), count);
      t[0] = k.loop(k.iadd(p, oneI), end, {t[0]}, [&](Value q, KernelBuilder::State &u) {
        Value other = k.getIndex(order, q);
        Value flag = k.get(u[0], {q});
        Value hit = k.land(k.ieq(k.idiv(other, N), batch), k.ieq(flag, k.i64c(0)));
        if (sameClassOnly)
          hit = k.land(hit, k.ieq(k.toIndex(at(row, ii)), k.toIndex(at(other, ii))));
        hit = k.land(hit, k.gt(boxIoU(k, ref, box(other), inCenter, false), threshold));
        u[0] = k.put(u[0], k.sel(hit, k.i64c(1), flag), {q});
      })[0];
    })[0];
  })[0];

  // Kept rows to the front of their batch, in sorted order.
  Value out = k.filled({product(ds)}, k.f(-1));
  Value record = k.filled({rows}, k.i64c(-1));
  auto assigned = k.loop(zero, count, {out, record, minusOne, zero, zero},
                         [&](Value p, KernelBuilder::State &s) {
    auto [row, batch, fresh] = batchRun(p, s[2], s[3]);
    s[4] = k.sel(fresh, zero, s[4]);
    Value kept = k.land(k.ilt(k.isub(p, s[3]), K), k.ieq(k.get(suppressed, {p}), k.i64c(0)));
    auto upd = k.when(kept, {s[0], s[1], s[4]}, [&](KernelBuilder::State &t) {
      Value dst = k.iadd(k.imul(batch, N), t[2]);
      t[0] = k.loop(zero, W, {t[0]}, [&](Value j, KernelBuilder::State &u) {
        u[0] = k.put(u[0], k.get(x, {k.iadd(k.imul(row, W), j)}), {k.iadd(k.imul(dst, W), j)});
      })[0];
      t[1] = k.putIndex(t[1], row, dst);
      t[2] = k.iadd(t[2], oneI);
    });
    s[0] = upd[0], s[1] = upd[1], s[4] = upd[2];
  });
  r.out = assigned[0];
  r.record = assigned[1];
  if (inCenter != outCenter) {
    r.out = k.loop(0, rows, {r.out}, [&](Value i, KernelBuilder::State &s) {
      Value base = k.iadd(k.imul(i, W), k.idx(cs));
      SmallVector<Value> c;
      for (int64_t j = 0; j < 4; ++j)
        c.push_back(k.get(s[0], {k.iadd(base, k.idx(j))}));
      // MXNet's converters skip rows whose first coordinate is negative.
      s[0] = k.when(k.ge(c[0], k.f(0)), {s[0]}, [&](KernelBuilder::State &t) {
        Value half = k.f(0.5);
        SmallVector<Value> n;
        if (outCenter)
          n = {k.mul(k.add(c[0], c[2]), half), k.mul(k.add(c[1], c[3]), half),
               k.sub(c[2], c[0]), k.sub(c[3], c[1])};
        else
          n = {k.sub(c[0], k.div(c[2], k.f(2))), k.sub(c[1], k.div(c[3], k.f(2))),
               k.add(c[0], k.div(c[2], k.f(2))), k.add(c[1], k.div(c[3], k.f(2)))};
        for (int64_t j = 0; j < 4; ++j)
          t[0] = k.put(t[0], n[j], {k.iadd(base, k.idx(j))});
      })[0];
    })[0];
  }
  return r;
}

Results lowerBoxNMS(Ctx &cx, g::BoxNMSOp op) {
  NMSLowered r = lowerNMS(cx, op, op.getData());
  return one(cx.reshape(r.out, shapeOf(op.getResult())));
}

Results lowerBoxNMSGrad(Ctx &cx, g::BoxNMSGradOp op) {
  KernelBuilder k{cx.b, cx.loc, cx.et};
  NMSLowered r = lowerNMS(cx, op, op.getData());
  Shape ds = shapeOf(op.getData());
  int64_t width = ds.back(), rows = product(ds) / width;
  Value dy = flat(cx, op.getOutGrad()), W = k.idx(width);
  Value dx = k.loop(0, rows, {k.filled({product(ds)}, k.f(0))}, [&](Value i, KernelBuilder::State &s) {
    Value src = k.get(r.record, {i});
    s[0] = k.when(k.cmpi(arith::CmpIPredicate::sge, src, k.i64c(0)), {s[0]},
                  [&](KernelBuilder::State &t) {
      Value to = k.fromI64(src);
      t[0] = k.loop(k.idx(0), W, {t[0]}, [&](Value j, KernelBuilder::State &u) {
        u[0] = k.put(u[0], k.get(dy, {k.iadd(k.imul(i, W), j)}), {k.iadd(k.imul(to, W), j)});
      })[0];
    })[0];
  })[0];
  return one(cx.reshape(dx, ds));
}

//===----------------------------------------------------------------------===//
// MultiBoxDetection
//===----------------------------------------------------------------------===//

Results lowerMultiBoxDetection(Ctx &cx, g::MultiBoxDetectionOp op) {
  KernelBuilder k{cx.b, cx.loc, cx.et};
  Shape cs = shapeOf(op.getClsProb());
  int64_t batches = cs[0], classes = cs[1], anchors = cs[2];
  Value cls = flat(cx, op.getClsProb()), loc = flat(cx, op.getLocPred()),
        anchor = flat(cx, op.getAnchor());
  ArrayRef<double> var = op.getVariances();
  double nmsThreshold = op.getNmsThreshold().convertToFloat();
  bool runNMS = nmsThreshold > 0 && nmsThreshold <= 1;
  Value threshold = k.f(op.getThreshold().convertToFloat()), nmsT = k.f(nmsThreshold);
  Value zero = k.idx(0), oneI = k.idx(1), six = k.idx(6), A = k.idx(anchors);
  auto clamp = [&](Value v) { return op.getClip() ? k.max(k.f(0), k.min(k.f(1), v)) : v; };

  Value out = k.filled({batches * anchors * 6}, k.f(-1));
  out = k.loop(0, batches, {out}, [&](Value n, KernelBuilder::State &s) {
    Value outBase = k.imul(n, k.idx(anchors * 6));
    auto o = [&](Value row, int64_t col) {
      return k.iadd(outBase, k.iadd(k.imul(row, six), k.idx(col)));
    };
    // Decode and compact the anchors with a class.
    auto dec = k.loop(zero, A, {s[0], zero}, [&](Value i, KernelBuilder::State &t) {
      Value clsBase = k.imul(n, k.idx(classes * anchors));
      auto best = k.loop(1, classes, {k.f(-1), zero}, [&](Value j, KernelBuilder::State &u) {
        Value p = k.get(cls, {k.iadd(clsBase, k.iadd(k.imul(j, A), i))});
        Value better = k.gt(p, u[0]);
        u[0] = k.sel(better, p, u[0]);
        u[1] = k.sel(better, j, u[1]);
      });
      Value score = best[0], id = best[1];
      id = k.sel(k.land(k.ilt(zero, id), k.lt(score, threshold)), zero, id);
      t = k.when(k.ilt(zero, id), {t[0], t[1]}, [&](KernelBuilder::State &v) {
        Value a4 = k.imul(i, k.idx(4)), l4 = k.iadd(k.imul(n, k.idx(anchors * 4)), a4);
        auto av = [&](int64_t c) { return k.get(anchor, {k.iadd(a4, k.idx(c))}); };
        auto lv = [&](int64_t c) { return k.get(loc, {k.iadd(l4, k.idx(c))}); };
        Value aw = k.sub(av(2), av(0)), ah = k.sub(av(3), av(1));
        Value ax = k.div(k.add(av(0), av(2)), k.f(2)), ay = k.div(k.add(av(1), av(3)), k.f(2));
        Value ox = k.add(k.mul(k.mul(lv(0), k.f((float)var[0])), aw), ax);
        Value oy = k.add(k.mul(k.mul(lv(1), k.f((float)var[1])), ah), ay);
        Value ow = k.div(k.mul(k.exp(k.mul(lv(2), k.f((float)var[2]))), aw), k.f(2));
        Value oh = k.div(k.mul(k.exp(k.mul(lv(3), k.f((float)var[3]))), ah), k.f(2));
        Value row[6] = {k.toFloat(k.isub(id, oneI)), score, clamp(k.sub(ox, ow)),
                        clamp(k.sub(oy, oh)), clamp(k.add(ox, ow)), clamp(k.add(oy, oh))};
        for (int64_t c = 0; c < 6; ++c)
          v[0] = k.put(v[0], row[c], {o(v[1], c)});
        v[1] = k.iadd(v[1], oneI);
      });
    });
    Value compact = dec[0], valid = dec[1];
    if (!runNMS) {
      s[0] = compact;
      return;
    }
    // Stable sort of the compacted rows by descending score.
    Value order = k.loop(zero, valid, {k.indexList(anchors)}, [&](Value i, KernelBuilder::State &t) {
      t[0] = k.putIndex(t[0], i, i);
    })[0];
    order = k.sort(order, valid, anchors, [&](Value a, Value c) {
      return k.gt(k.get(compact, {o(a, 1)}), k.get(compact, {o(c, 1)}));
    });
    Value keep = valid;
    Value cur = compact;
    compact = k.copyOf(compact);
    if ((int64_t)op.getNmsTopk() > 0) {
      keep = k.imin(valid, k.idx((int64_t)op.getNmsTopk()));
      cur = k.loop(keep, valid, {cur}, [&](Value i, KernelBuilder::State &t) {
        t[0] = k.put(t[0], k.f(-1), {o(i, 0)});
      })[0];
    }
    cur = k.loop(zero, keep, {cur}, [&](Value i, KernelBuilder::State &t) {
      Value src = k.getIndex(order, i);
      for (int64_t c = 0; c < 6; ++c)
        t[0] = k.put(t[0], k.get(compact, {o(src, c)}), {o(i, c)});
    })[0];
    // Greedy NMS: suppressed rows get id -1.
    s[0] = k.loop(zero, keep, {cur}, [&](Value i, KernelBuilder::State &t) {
      Value idI = k.get(t[0], {o(i, 0)});
      t[0] = k.when(k.ge(idI, k.f(0)), {t[0]}, [&](KernelBuilder::State &u) {
        SmallVector<Value> bi;
        for (int64_t c = 2; c < 6; ++c)
          bi.push_back(k.get(u[0], {o(i, c)}));
        u[0] = k.loop(k.iadd(i, oneI), keep, {u[0]}, [&](Value j, KernelBuilder::State &v) {
          Value idJ = k.get(v[0], {o(j, 0)});
          SmallVector<Value> bj;
          for (int64_t c = 2; c < 6; ++c)
            bj.push_back(k.get(v[0], {o(j, c)}));
          Value w = k.max(k.f(0), k.sub(k.min(bi[2], bj[2]), k.max(bi[0], bj[0])));
          Value h = k.max(k.f(0), k.sub(k.min(bi[3], bj[3]), k.max(bi[1], bj[1])));
          Value inter = k.mul(w, h);
          Value u0 = k.sub(k.add(k.mul(k.sub(bi[2], bi[0]), k.sub(bi[3], bi[1])),
                                 k.mul(k.sub(bj[2], bj[0]), k.sub(bj[3], bj[1]))),
                           inter);
          Value iou = k.sel(k.le(u0, k.f(0)), k.f(0), k.div(inter, u0));
          Value hit = k.land(k.ge(idJ, k.f(0)), k.ge(iou, nmsT));
          if (!op.getForceSuppress())
            hit = k.land(hit, k.feq(idI, idJ));
          v[0] = k.put(v[0], k.sel(hit, k.f(-1), idJ), {o(j, 0)});
        })[0];
      })[0];
    })[0];
  })[0];
  return kiln::lowering::one(cx.reshape(out, shapeOf(op.getResult())));
}

//===----------------------------------------------------------------------===//
// ROIPooling
//===----------------------------------------------------------------------===//

/// Runs ROIPooling's loops; `visit(state, outIndex, max, argmax)` sees each
/// output element's maximum and the flat data index it came from (-1: an
/// empty bin or an invalid batch index, max 0).
template <typename OpT>
Value roiPoolLoops(Ctx &cx, OpT op, Value init,
                   llvm::function_ref<void(KernelBuilder::State &, Value, Value, Value)> visit) {
  KernelBuilder k{cx.b, cx.loc, cx.et};
  Shape xs = shapeOf(op.getData());
  int64_t batches = xs[0], channels = xs[1], height = xs[2], width = xs[3];
  int64_t ph = op.getPooledSize()[0], pw = op.getPooledSize()[1];
  int64_t numRois = shapeOf(op.getRois())[0];
  Value x = flat(cx, op.getData()), rois = flat(cx, op.getRois());
  Value scale = k.f(op.getSpatialScale().convertToFloat());
  Value zero = k.idx(0), H = k.idx(height), Wd = k.idx(width);
  return k.loop(0, numRois, {init}, [&](Value n, KernelBuilder::State &s) {
    auto rv = [&](int64_t c) { return k.get(rois, {k.iadd(k.imul(n, k.idx(5)), k.idx(c))}); };
    Value startW = k.toIndex(k.round(k.mul(rv(1), scale)));
    Value startH = k.toIndex(k.round(k.mul(rv(2), scale)));
    Value endW = k.toIndex(k.round(k.mul(rv(3), scale)));
    Value endH = k.toIndex(k.round(k.mul(rv(4), scale)));
    Value batch = k.toIndex(rv(0));
    Value invalid = k.lor(k.ilt(batch, zero), k.ige(batch, k.idx(batches)));
    Value roiH = k.imax(k.iadd(k.isub(endH, startH), k.idx(1)), k.idx(1));
    Value roiW = k.imax(k.iadd(k.isub(endW, startW), k.idx(1)), k.idx(1));
    Value binH = k.div(k.toFloat(roiH), k.f((double)ph));
    Value binW = k.div(k.toFloat(roiW), k.f((double)pw));
    auto clampTo = [&](Value v, Value hi) { return k.imin(k.imax(v, zero), hi); };
    s[0] = k.loop(0, channels, {s[0]}, [&](Value c, KernelBuilder::State &t) {
      Value plane = k.imul(k.iadd(k.imul(batch, k.idx(channels)), c), k.idx(height * width));
      t[0] = k.loop(0, ph, {t[0]}, [&](Value i, KernelBuilder::State &u) {
        Value hs = clampTo(k.iadd(k.toIndex(k.floor(k.mul(k.toFloat(i), binH))), startH), H);
        Value he = clampTo(
            k.iadd(k.toIndex(k.ceil(k.mul(k.toFloat(k.iadd(i, k.idx(1))), binH))), startH), H);
        u[0] = k.loop(0, pw, {u[0]}, [&](Value j, KernelBuilder::State &v) {
          Value ws = clampTo(k.iadd(k.toIndex(k.floor(k.mul(k.toFloat(j), binW))), startW), Wd);
          Value we = clampTo(
              k.iadd(k.toIndex(k.ceil(k.mul(k.toFloat(k.iadd(j, k.idx(1))), binW))), startW), Wd);
          Value empty = k.lor(invalid, k.lor(k.ile(he, hs), k.ile(we, ws)));
          Value oIdx = k.iadd(k.imul(k.iadd(k.imul(k.iadd(k.imul(n, k.idx(channels)), c),
                                                   k.idx(ph)),
                                            i),
                                     k.idx(pw)),
                              j);
          auto best = k.when(empty, {k.f(-FLT_MAX), k.idx(-1)},
                             [&](KernelBuilder::State &w) { w[0] = k.f(0); },
                             [&](KernelBuilder::State &w) {
            w = k.loop(hs, he, {w[0], w[1]}, [&](Value h, KernelBuilder::State &y) {
              y = k.loop(ws, we, {y[0], y[1]}, [&](Value wc, KernelBuilder::State &z) {
                Value at = k.iadd(plane, k.iadd(k.imul(h, Wd), wc));
                Value val = k.get(x, {at});
                Value better = k.gt(val, z[0]);
                z[0] = k.sel(better, val, z[0]);
                z[1] = k.sel(better, at, z[1]);
              });
            });
          });
          visit(v, oIdx, best[0], best[1]);
        })[0];
      })[0];
    })[0];
  })[0];
}

Results lowerROIPooling(Ctx &cx, g::ROIPoolingOp op) {
  KernelBuilder k{cx.b, cx.loc, cx.et};
  Shape os = shapeOf(op.getResult());
  Value out = roiPoolLoops(cx, op, k.filled({product(os)}, k.f(0)),
                           [&](KernelBuilder::State &s, Value o, Value m, Value) {
                             s[0] = k.put(s[0], m, {o});
                           });
  return one(cx.reshape(out, os));
}

Results lowerROIPoolingGrad(Ctx &cx, g::ROIPoolingGradOp op) {
  KernelBuilder k{cx.b, cx.loc, cx.et};
  Shape xs = shapeOf(op.getData());
  Value dy = flat(cx, op.getOutGrad());
  Value dx = roiPoolLoops(cx, op, k.filled({product(xs)}, k.f(0)),
                          [&](KernelBuilder::State &s, Value o, Value, Value arg) {
                            s[0] = k.when(k.ige(arg, k.idx(0)), {s[0]}, [&](KernelBuilder::State &t) {
                              t[0] = k.put(t[0], k.add(k.get(t[0], {arg}), k.get(dy, {o})), {arg});
                            })[0];
                          });
  return one(cx.reshape(dx, xs));
}

//===----------------------------------------------------------------------===//
// PSROIPooling
//===----------------------------------------------------------------------===//

/// Runs PSROIPooling's loops; `visit(state, outIndex, plane, hs, he, ws,
/// we)` sees each non-empty bin of a valid ROI: its input channel's flat
/// (0, 0) index and its rows [hs, he) and columns [ws, we).
template <typename OpT>
Value psroiLoops(Ctx &cx, OpT op, Value init,
                 llvm::function_ref<void(KernelBuilder::State &, Value, Value, Value, Value,
                                         Value, Value)>
                     visit) {
  KernelBuilder k{cx.b, cx.loc, cx.et};
  Shape xs = shapeOf(op.getData());
  int64_t batches = xs[0], channels = xs[1], height = xs[2], width = xs[3];
  int64_t pooled = op.getPooledSize(), dim = op.getOutputDim(), groups = op.getGroups();
  int64_t numRois = shapeOf(op.getRois())[0];
  Value rois = flat(cx, op.getRois());
  Value scale = k.f(op.getSpatialScale().convertToFloat());
  Value zero = k.idx(0), H = k.idx(height), Wd = k.idx(width);
  Value binCount = k.f(static_cast<double>(pooled));
  return k.loop(0, numRois, {init}, [&](Value n, KernelBuilder::State &s) {
    auto rv = [&](int64_t c) { return k.get(rois, {k.iadd(k.imul(n, k.idx(5)), k.idx(c))}); };
    Value startW = k.mul(k.round(rv(1)), scale), startH = k.mul(k.round(rv(2)), scale);
    Value endW = k.mul(k.add(k.round(rv(3)), k.f(1)), scale);
    Value endH = k.mul(k.add(k.round(rv(4)), k.f(1)), scale);
    Value binW = k.div(k.max(k.sub(endW, startW), k.f(0.1)), binCount);
    Value binH = k.div(k.max(k.sub(endH, startH), k.f(0.1)), binCount);
    Value batch = k.toIndex(rv(0));
    Value valid = k.land(k.ige(batch, zero), k.ilt(batch, k.idx(batches)));
    auto clampTo = [&](Value v, Value hi) { return k.imin(k.imax(v, zero), hi); };
    s[0] = k.when(valid, {s[0]}, [&](KernelBuilder::State &roi) {
      roi[0] = k.loop(0, dim, {roi[0]}, [&](Value c, KernelBuilder::State &t) {
        t[0] = k.loop(0, pooled, {t[0]}, [&](Value i, KernelBuilder::State &u) {
          Value fi = k.toFloat(i);
          Value hs = clampTo(k.toIndex(k.floor(k.add(k.mul(fi, binH), startH))), H);
          Value he = clampTo(k.toIndex(k.ceil(k.add(k.mul(k.add(fi, k.f(1)), binH), startH))), H);
          Value gh = k.imin(k.toIndex(k.floor(k.div(k.mul(fi, k.f((double)groups)), binCount))),
                            k.idx(groups - 1));
          u[0] = k.loop(0, pooled, {u[0]}, [&](Value j, KernelBuilder::State &v) {
            Value fj = k.toFloat(j);
            Value ws = clampTo(k.toIndex(k.floor(k.add(k.mul(fj, binW), startW))), Wd);
            Value we =
                clampTo(k.toIndex(k.ceil(k.add(k.mul(k.add(fj, k.f(1)), binW), startW))), Wd);
            Value gw = k.imin(
                k.toIndex(k.floor(k.div(k.mul(fj, k.f((double)groups)), binCount))),
                k.idx(groups - 1));
            Value ch = k.iadd(k.imul(k.iadd(k.imul(c, k.idx(groups)), gh), k.idx(groups)), gw);
            Value plane = k.imul(k.iadd(k.imul(batch, k.idx(channels)), ch),
                                 k.idx(height * width));
            Value oIdx = k.iadd(
                k.imul(k.iadd(k.imul(k.iadd(k.imul(n, k.idx(dim)), c), k.idx(pooled)), i),
                       k.idx(pooled)),
                j);
            Value empty = k.lor(k.ile(he, hs), k.ile(we, ws));
            v[0] = k.when(k.lnot(empty), {v[0]}, [&](KernelBuilder::State &w) {
              visit(w, oIdx, plane, hs, he, ws, we);
            })[0];
          })[0];
        })[0];
      })[0];
    })[0];
  })[0];
}

Results lowerPSROIPooling(Ctx &cx, g::PSROIPoolingOp op) {
  KernelBuilder k{cx.b, cx.loc, cx.et};
  Shape os = shapeOf(op.getOutput());
  Value x = flat(cx, op.getData());
  Value Wd = k.idx(shapeOf(op.getData())[3]);
  Value out = psroiLoops(
      cx, op, k.filled({product(os)}, k.f(0)),
      [&](KernelBuilder::State &s, Value o, Value plane, Value hs, Value he, Value ws, Value we) {
        Value sum = k.loop(hs, he, {k.f(0)}, [&](Value h, KernelBuilder::State &y) {
          y = k.loop(ws, we, {y[0]}, [&](Value w, KernelBuilder::State &z) {
            z[0] = k.add(z[0], k.get(x, {k.iadd(plane, k.iadd(k.imul(h, Wd), w))}));
          });
        })[0];
        Value area = k.toFloat(k.imul(k.isub(he, hs), k.isub(we, ws)));
        s[0] = k.put(s[0], k.div(sum, area), {o});
      });
  return one(cx.reshape(out, os));
}

Results lowerPSROIPoolingGrad(Ctx &cx, g::PSROIPoolingGradOp op) {
  KernelBuilder k{cx.b, cx.loc, cx.et};
  Shape xs = shapeOf(op.getData());
  Value dy = flat(cx, op.getOutGrad());
  Value Wd = k.idx(xs[3]);
  Value dx = psroiLoops(
      cx, op, k.filled({product(xs)}, k.f(0)),
      [&](KernelBuilder::State &s, Value o, Value plane, Value hs, Value he, Value ws, Value we) {
        Value area = k.toFloat(k.imul(k.isub(he, hs), k.isub(we, ws)));
        Value share = k.div(k.get(dy, {o}), area);
        s[0] = k.loop(hs, he, {s[0]}, [&](Value h, KernelBuilder::State &y) {
          y[0] = k.loop(ws, we, {y[0]}, [&](Value w, KernelBuilder::State &z) {
            Value at = k.iadd(plane, k.iadd(k.imul(h, Wd), w));
            z[0] = k.put(z[0], k.add(k.get(z[0], {at}), share), {at});
          })[0];
        })[0];
      });
  return one(cx.reshape(dx, xs));
}

//===----------------------------------------------------------------------===//
// ROIAlign
//===----------------------------------------------------------------------===//

/// Runs ROIAlign's sample loops; `visit(state, outIndex, plane, pos[4],
/// weights[4], count)` sees every valid bilinear sample (its four taps
/// relative to the data plane, weights and the bin's sample count).
template <typename OpT>
Value roiAlignLoops(Ctx &cx, OpT op, ArrayRef<int64_t> outShape, Value init,
                    llvm::function_ref<void(KernelBuilder::State &, Value, Value, ArrayRef<Value>,
                                            ArrayRef<Value>, Value)>
                        visit) {
  KernelBuilder k{cx.b, cx.loc, cx.et};
  Shape xs = shapeOf(op.getData());
  int64_t batches = xs[0], channelsIn = xs[1], height = xs[2], width = xs[3];
  int64_t numRois = outShape[0], channels = outShape[1], ph = outShape[2], pw = outShape[3];
  Value rois = flat(cx, op.getRois());
  Value scale = k.f(op.getSpatialScale().convertToFloat());
  Value offset = k.f(op.getAligned() ? 0.5 : 0.0);
  Value zero = k.idx(0), one = k.idx(1);
  Value fH = k.f((double)height), fW = k.f((double)width);
  int64_t ratio = (int64_t)op.getSampleRatio();
  return k.loop(0, numRois, {init}, [&](Value n, KernelBuilder::State &s) {
    auto rv = [&](int64_t c) { return k.get(rois, {k.iadd(k.imul(n, k.idx(5)), k.idx(c))}); };
    Value batch = k.toIndex(rv(0));
    Value startW = k.sub(k.mul(rv(1), scale), offset);
    Value startH = k.sub(k.mul(rv(2), scale), offset);
    Value roiW = k.sub(k.sub(k.mul(rv(3), scale), offset), startW);
    Value roiH = k.sub(k.sub(k.mul(rv(4), scale), offset), startH);
    if (op.getAligned()) {
      // MXNet aborts on such a region; NaN marks it here.
      Value bad = k.lor(k.le(roiW, k.f(0)), k.le(roiH, k.f(0)));
      roiW = k.sel(bad, k.f(NAN), roiW);
      roiH = k.sel(bad, k.f(NAN), roiH);
    } else {
      roiW = k.max(roiW, k.f(1));
      roiH = k.max(roiH, k.f(1));
    }
    Value binH = k.div(roiH, k.f((double)ph)), binW = k.div(roiW, k.f((double)pw));
    Value gridH = ratio > 0 ? k.idx(ratio) : k.toIndex(k.ceil(k.div(roiH, k.f((double)ph))));
    Value gridW = ratio > 0 ? k.idx(ratio) : k.toIndex(k.ceil(k.div(roiW, k.f((double)pw))));
    Value count = k.toFloat(k.imul(gridH, gridW));
    Value inRange = k.land(k.ige(batch, zero), k.ilt(batch, k.idx(batches)));
    s[0] = k.when(inRange, {s[0]}, [&](KernelBuilder::State &r) {
      r[0] = k.loop(0, channels, {r[0]}, [&](Value c, KernelBuilder::State &t) {
        t[0] = k.loop(0, ph, {t[0]}, [&](Value i, KernelBuilder::State &u) {
          u[0] = k.loop(0, pw, {u[0]}, [&](Value j, KernelBuilder::State &v) {
            Value cIn = op.getPositionSensitive()
                            ? k.iadd(k.imul(k.iadd(k.imul(c, k.idx(ph)), i), k.idx(pw)), j)
                            : c;
            Value plane = k.imul(k.iadd(k.imul(batch, k.idx(channelsIn)), cIn),
                                 k.idx(height * width));
            Value oIdx = k.iadd(
                k.imul(k.iadd(k.imul(k.iadd(k.imul(n, k.idx(channels)), c), k.idx(ph)), i),
                       k.idx(pw)),
                j);
            v[0] = k.loop(zero, gridH, {v[0]}, [&](Value iy, KernelBuilder::State &w) {
              Value y0 = k.add(
                  k.add(startH, k.mul(k.toFloat(i), binH)),
                  k.div(k.mul(k.add(k.toFloat(iy), k.f(0.5)), binH), k.toFloat(gridH)));
              w[0] = k.loop(zero, gridW, {w[0]}, [&](Value ix, KernelBuilder::State &z) {
                Value x0 = k.add(
                    k.add(startW, k.mul(k.toFloat(j), binW)),
                    k.div(k.mul(k.add(k.toFloat(ix), k.f(0.5)), binW), k.toFloat(gridW)));
                Value outside = k.lor(k.lor(k.lt(y0, k.f(-1)), k.gt(y0, fH)),
                                      k.lor(k.lt(x0, k.f(-1)), k.gt(x0, fW)));
                z[0] = k.when(k.lnot(outside), {z[0]}, [&](KernelBuilder::State &q) {
                  Value y = k.sel(k.le(y0, k.f(0)), k.f(0), y0);
                  Value x = k.sel(k.le(x0, k.f(0)), k.f(0), x0);
                  Value yl = k.toIndex(y), xl = k.toIndex(x);
                  Value yTop = k.ige(yl, k.idx(height - 1)), xTop = k.ige(xl, k.idx(width - 1));
                  Value yh = k.sel(yTop, k.idx(height - 1), k.iadd(yl, one));
                  yl = k.sel(yTop, k.idx(height - 1), yl);
                  y = k.sel(yTop, k.toFloat(yl), y);
                  Value xh = k.sel(xTop, k.idx(width - 1), k.iadd(xl, one));
                  xl = k.sel(xTop, k.idx(width - 1), xl);
                  x = k.sel(xTop, k.toFloat(xl), x);
                  Value ly = k.sub(y, k.toFloat(yl)), lx = k.sub(x, k.toFloat(xl));
                  Value hy = k.sub(k.f(1), ly), hx = k.sub(k.f(1), lx);
                  Value Wd = k.idx(width);
                  Value pos[4] = {k.iadd(k.imul(yl, Wd), xl), k.iadd(k.imul(yl, Wd), xh),
                                  k.iadd(k.imul(yh, Wd), xl), k.iadd(k.imul(yh, Wd), xh)};
                  Value wt[4] = {k.mul(hy, hx), k.mul(hy, lx), k.mul(ly, hx), k.mul(ly, lx)};
                  visit(q, oIdx, plane, pos, wt, count);
                })[0];
              })[0];
            })[0];
          })[0];
        })[0];
      })[0];
    })[0];
  })[0];
}

Results lowerROIAlign(Ctx &cx, g::ROIAlignOp op) {
  KernelBuilder k{cx.b, cx.loc, cx.et};
  Shape os = shapeOf(op.getResult());
  Value x = flat(cx, op.getData());
  Value out = roiAlignLoops(cx, op, os, k.filled({product(os)}, k.f(0)),
                            [&](KernelBuilder::State &s, Value o, Value plane,
                                ArrayRef<Value> pos, ArrayRef<Value> w, Value count) {
                              Value v = k.f(0);
                              for (int t = 0; t < 4; ++t)
                                v = k.add(v, k.mul(w[t], k.get(x, {k.iadd(plane, pos[t])})));
                              s[0] = k.put(s[0], k.add(k.get(s[0], {o}), k.div(v, count)), {o});
                            });
  return one(cx.reshape(out, os));
}

Results lowerROIAlignGrad(Ctx &cx, g::ROIAlignGradOp op) {
  KernelBuilder k{cx.b, cx.loc, cx.et};
  Shape xs = shapeOf(op.getData());
  Value dy = flat(cx, op.getOutGrad());
  Value dx = roiAlignLoops(cx, op, shapeOf(op.getOutGrad()), k.filled({product(xs)}, k.f(0)),
                           [&](KernelBuilder::State &s, Value o, Value plane,
                               ArrayRef<Value> pos, ArrayRef<Value> w, Value count) {
                             Value g = k.get(dy, {o});
                             for (int t = 0; t < 4; ++t) {
                               Value at = k.iadd(plane, pos[t]);
                               s[0] = k.put(s[0],
                                            k.add(k.get(s[0], {at}), k.div(k.mul(g, w[t]), count)),
                                            {at});
                             }
                           });
  return one(cx.reshape(dx, xs));
}

//===----------------------------------------------------------------------===//
// Proposal
//===----------------------------------------------------------------------===//

Results lowerProposal(Ctx &cx, g::ProposalOp op) {
  KernelBuilder k{cx.b, cx.loc, cx.et};
  Shape cs = shapeOf(op.getClsProb());
  int64_t anchorsPer = cs[1] / 2, height = cs[2], width = cs[3];
  int64_t count = anchorsPer * height * width;
  int64_t preTop = (int64_t)op.getRpnPreNmsTopN() > 0 ? (int64_t)op.getRpnPreNmsTopN() : count;
  preTop = std::min(preTop, count);
  int64_t postParam = (int64_t)op.getRpnPostNmsTopN(), postTop = std::min(postParam, preTop);
  float stride = (float)(int64_t)op.getFeatureStride();
  std::vector<float> base = op.computeBaseAnchors();
  Value cls = flat(cx, op.getClsProb()), deltas = flat(cx, op.getBboxPred()),
        info = flat(cx, op.getImInfo());
  Value zero = k.idx(0), one = k.idx(1), five = k.idx(5);
  Value imH = k.get(info, {zero}), imW = k.get(info, {one}), imScale = k.get(info, {k.idx(2)});
  Value fStride = k.f(stride);
  Value realH = k.toIndex(k.div(imH, fStride)), realW = k.toIndex(k.div(imW, fStride));
  auto baseType = RankedTensorType::get({anchorsPer * 4}, cx.et);
  SmallVector<Attribute> baseValues;
  for (float v : base)
    baseValues.push_back(cx.b.getFloatAttr(cx.et, v));
  Value baseT = arith::ConstantOp::create(cx.b, cx.loc, DenseElementsAttr::get(baseType, baseValues));
  Value minSize = k.mul(k.f((double)(int64_t)op.getRpnMinSize()), imScale);
  Value halfMin = k.div(minSize, k.f(2));

  // Proposals [x1, y1, x2, y2, score] in (h, w, anchor) order.
  Value props = k.filled({count * 5}, k.f(0));
  props = k.loop(0, count, {props}, [&](Value idx, KernelBuilder::State &s) {
    Value a = k.irem(idx, k.idx(anchorsPer));
    Value hw = k.idiv(idx, k.idx(anchorsPer));
    Value h = k.idiv(hw, k.idx(width)), w = k.irem(hw, k.idx(width));
    auto bv = [&](int64_t c) { return k.get(baseT, {k.iadd(k.imul(a, k.idx(4)), k.idx(c))}); };
    Value sx = k.mul(k.toFloat(w), fStride), sy = k.mul(k.toFloat(h), fStride);
    Value x1 = k.add(bv(0), sx), y1 = k.add(bv(1), sy), x2 = k.add(bv(2), sx), y2 = k.add(bv(3), sy);
    auto delta = [&](int64_t c) {
      Value ch = k.iadd(k.imul(a, k.idx(4)), k.idx(c));
      return k.get(deltas, {k.iadd(k.imul(k.iadd(k.imul(ch, k.idx(height)), h), k.idx(width)), w)});
    };
    Value px1, py1, px2, py2;
    if (op.getIouLoss()) {
      px1 = k.add(x1, delta(0)), py1 = k.add(y1, delta(1));
      px2 = k.add(x2, delta(2)), py2 = k.add(y2, delta(3));
    } else {
      Value bw = k.add(k.sub(x2, x1), k.f(1)), bh = k.add(k.sub(y2, y1), k.f(1));
      Value half = k.f(0.5);
      Value cxv = k.add(x1, k.mul(half, k.sub(bw, k.f(1))));
      Value cyv = k.add(y1, k.mul(half, k.sub(bh, k.f(1))));
      Value pcx = k.add(k.mul(delta(0), bw), cxv), pcy = k.add(k.mul(delta(1), bh), cyv);
      Value pw = k.mul(k.exp(delta(2)), bw), phh = k.mul(k.exp(delta(3)), bh);
      px1 = k.sub(pcx, k.mul(half, k.sub(pw, k.f(1))));
      py1 = k.sub(pcy, k.mul(half, k.sub(phh, k.f(1))));
      px2 = k.add(pcx, k.mul(half, k.sub(pw, k.f(1))));
      py2 = k.add(pcy, k.mul(half, k.sub(phh, k.f(1))));
    }
    auto clampTo = [&](Value v, Value hi) { return k.max(k.min(v, k.sub(hi, k.f(1))), k.f(0)); };
    Value c[4] = {clampTo(px1, imW), clampTo(py1, imH), clampTo(px2, imW), clampTo(py2, imH)};
    Value fgChannel = k.iadd(k.idx(anchorsPer), a);
    Value score = k.get(cls, {k.iadd(k.imul(k.iadd(k.imul(fgChannel, k.idx(height)), h),
                                            k.idx(width)),
                                     w)});
    score = k.sel(k.lor(k.ige(h, realH), k.ige(w, realW)), k.f(-1), score);
    // FilterBox: too small boxes grow and lose their score.
    Value small = k.lor(k.lt(k.add(k.sub(c[2], c[0]), k.f(1)), minSize),
                        k.lt(k.add(k.sub(c[3], c[1]), k.f(1)), minSize));
    Value vals[5] = {k.sel(small, k.sub(c[0], halfMin), c[0]),
                     k.sel(small, k.sub(c[1], halfMin), c[1]),
                     k.sel(small, k.add(c[2], halfMin), c[2]),
                     k.sel(small, k.add(c[3], halfMin), c[3]), k.sel(small, k.f(-1), score)};
    Value rowBase = k.imul(idx, five);
    for (int64_t j = 0; j < 5; ++j)
      s[0] = k.put(s[0], vals[j], {k.iadd(rowBase, k.idx(j))});
  })[0];
  auto pv = [&](Value row, int64_t c) { return k.get(props, {k.iadd(k.imul(row, five), k.idx(c))}); };

  Value order = k.loop(0, count, {k.indexList(count)}, [&](Value i, KernelBuilder::State &s) {
    s[0] = k.putIndex(s[0], i, i);
  })[0];
  Value countV = k.idx(count);
  order = k.sort(order, countV, count, [&](Value a, Value c) { return k.gt(pv(a, 4), pv(c, 4)); });

  // Greedy NMS over the first preTop, until postTop are kept.
  Value P = k.idx(preTop), thresh = k.f(op.getThreshold().convertToFloat());
  auto boxOf = [&](Value i) {
    Value row = k.getIndex(order, i);
    return SmallVector<Value>{pv(row, 0), pv(row, 1), pv(row, 2), pv(row, 3)};
  };
  auto area = [&](ArrayRef<Value> bx) {
    return k.mul(k.add(k.sub(bx[2], bx[0]), k.f(1)), k.add(k.sub(bx[3], bx[1]), k.f(1)));
  };
  auto nms = k.loop(zero, P, {k.filled({preTop}, k.i64c(0)), k.indexList(postTop), zero},
                    [&](Value i, KernelBuilder::State &s) {
    Value go = k.land(k.ilt(s[2], k.idx(postTop)), k.ieq(k.get(s[0], {i}), k.i64c(0)));
    s = k.when(go, {s[0], s[1], s[2]}, [&](KernelBuilder::State &t) {
      t[1] = k.putIndex(t[1], i, t[2]);
      t[2] = k.iadd(t[2], one);
      SmallVector<Value> bi = boxOf(i);
      Value ai = area(bi);
      t[0] = k.loop(k.iadd(i, one), P, {t[0]}, [&](Value j, KernelBuilder::State &u) {
        Value flag = k.get(u[0], {j});
        SmallVector<Value> bj = boxOf(j);
        Value w = k.max(k.f(0), k.add(k.sub(k.min(bi[2], bj[2]), k.max(bi[0], bj[0])), k.f(1)));
        Value h = k.max(k.f(0), k.add(k.sub(k.min(bi[3], bj[3]), k.max(bi[1], bj[1])), k.f(1)));
        Value inter = k.mul(w, h);
        Value ovr = k.div(inter, k.sub(k.add(ai, area(bj)), inter));
        Value hit = k.land(k.ieq(flag, k.i64c(0)), k.gt(ovr, thresh));
        u[0] = k.put(u[0], k.sel(hit, k.i64c(1), flag), {j});
      })[0];
    });
  });
  Value keep = nms[1], kept = nms[2];

  // Kept rows, repeated cyclically to fill the result.
  auto rows = k.loop(0, postParam,
                     {k.filled({postParam * 5}, k.f(0)), k.filled({postParam}, k.f(0))},
                     [&](Value i, KernelBuilder::State &s) {
    Value row = k.getIndex(order, k.getIndex(keep, k.irem(i, kept)));
    for (int64_t c = 0; c < 4; ++c)
      s[0] = k.put(s[0], pv(row, c), {k.iadd(k.imul(i, five), k.idx(c + 1))});
    s[1] = k.put(s[1], pv(row, 4), {i});
  });
  SmallVector<Value> results{cx.reshape(rows[0], {postParam, 5})};
  if (op.getOutputScore())
    results.push_back(cx.reshape(rows[1], {postParam, 1}));
  return results;
}

} // namespace

std::optional<Results> lowerDetectionOp(Ctx &cx, Operation *op) {
  return llvm::TypeSwitch<Operation *, std::optional<Results>>(op)
      .Case([&](g::BoxNMSOp o) { return lowerBoxNMS(cx, o); })
      .Case([&](g::BoxNMSGradOp o) { return lowerBoxNMSGrad(cx, o); })
      .Case([&](g::BoxIoUOp o) { return lowerBoxIoU(cx, o); })
      .Case([&](g::BoxDecodeOp o) { return lowerBoxDecode(cx, o); })
      .Case([&](g::BoxEncodeOp o) { return lowerBoxEncode(cx, o); })
      .Case([&](g::MultiBoxPriorOp o) { return lowerMultiBoxPrior(cx, o); })
      .Case([&](g::MultiBoxDetectionOp o) { return lowerMultiBoxDetection(cx, o); })
      .Case([&](g::ROIPoolingOp o) { return lowerROIPooling(cx, o); })
      .Case([&](g::ROIPoolingGradOp o) { return lowerROIPoolingGrad(cx, o); })
      .Case([&](g::PSROIPoolingOp o) { return lowerPSROIPooling(cx, o); })
      .Case([&](g::PSROIPoolingGradOp o) { return lowerPSROIPoolingGrad(cx, o); })
      .Case([&](g::ROIAlignOp o) { return lowerROIAlign(cx, o); })
      .Case([&](g::ROIAlignGradOp o) { return lowerROIAlignGrad(cx, o); })
      .Case([&](g::ProposalOp o) { return lowerProposal(cx, o); })
      .Default([](Operation *) { return std::nullopt; });
}

} // namespace kiln::lowering
