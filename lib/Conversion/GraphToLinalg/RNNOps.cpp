//===- RNNOps.cpp - Lowering of recurrent layers to linalg ----------------===//
//
// GraphRNNOps.td's ops on tensors, with the building blocks of
// LoweringHelpers.h; semantics as the reference interpreter's
// (lib/Interpreter/RNNOps.cpp).
//
// graph.rnn becomes, per layer and direction, one GEMM of the whole input
// sequence by Wxᵀ (every step's input term at once) and an scf.for over the
// time steps whose body is one small GEMM h·Whᵀ and one elementwise generic
// for the cell. The loop carries the layer's output and [T + 1, N, ·] stacks
// of the states (and cells), each step inserting its row blocks: one-shot
// bufferization keeps a loop-carried tensor in place only when the loop
// yields it rewritten by insert_slice, and the stacks are the records the
// backward needs anyway. The IR does not grow with the sequence length.
// Dropout masks (training mode) multiply each layer's output but the last.
//
// graph.rnn_grad runs that forward again, keeping the gates of every step,
// then per layer (last first) and direction an scf.for backwards in time
// carrying stacks of the state (and cell) gradients: an elementwise generic
// gives the gates' pre-activation gradients of the step, one GEMM by Wh the
// state gradient of the step before. The input, weight and bias gradients
// are then whole-sequence GEMMs and column sums of the gates' gradients.
//
//===----------------------------------------------------------------------===//

#include "FormulaLowering.h"
#include "Graph/GraphRNNOps.h"
#include "LoweringHelpers.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
namespace g = kiln::graph;

namespace kiln::lowering {
namespace {

using formula::S;
using g::RNNLayout;
using g::RNNMode;

/// The inputs of a linalg.generic under construction, with their maps;
/// add() returns an input's position among the body's arguments.
struct GenericIns {
  SmallVector<Value> values;
  SmallVector<AffineMap> maps;
  unsigned add(Value v, AffineMap m) {
    values.push_back(v);
    maps.push_back(m);
    return values.size() - 1;
  }
};

/// Builds the IR of one RNN op: its layout, parameter slices and the
/// per-step tensor plumbing.
class RNNBuilder {
public:
  RNNBuilder(Ctx &cx, const RNNLayout &l, Value params, Value lengths)
      : cx(cx), b(cx.b), loc(cx.loc), l(l), params(params) {
    if (lengths)
      active = activeMask(lengths);
  }

  /// The forward of one layer and direction over x [T, N, in], writing its
  /// columns of the layer output `y` [T, N, D·R]. With `record`, also the
  /// step records the backward needs (time-indexed, like y).
  struct Direction {
    Value y, h, c;
    Value gates, hprev, cprev, cell, hn;
  };
  Direction forward(int64_t layer, int64_t dir, Value x, Value y, Value h0, Value c0,
                    bool record);

  /// Back-propagates one layer and direction: `dy` [T, N, D·R] is the
  /// gradient of the layer output, `dh`/`dc` those of the final state and
  /// cell, replaced by the gradients of the initial ones. Accumulates the
  /// gradient of x into `dx` [T, N, in] and of the weights into `dw`.
  void backward(int64_t layer, int64_t dir, Value x, const Direction &rec, Value dy, Value &dh,
                Value &dc, Value &dx, Value &dw);

  /// Rows [ld] of a [L·D, N, X] stack, as [N, X]; and the stack with them
  /// replaced.
  Value stackRows(Value stack, int64_t ld) {
    Shape s = shapeOf(stack);
    return cx.reshape(cx.slice(stack, {ld, 0, 0}, {1, s[1], s[2]}), {s[1], s[2]});
  }
  Value putStackRows(Value stack, Value v, int64_t ld) {
    Shape s = shapeOf(stack);
    return insert(stack, cx.reshape(v, {1, s[1], s[2]}), {index(ld), index(0), index(0)});
  }

private:
  Ctx &cx;
  OpBuilder &b;
  Location loc;
  const RNNLayout &l;
  Value params;
  /// [T, N]: 1 where step t of batch element n is within its sequence
  /// length, else 0 (null without sequence lengths).
  Value active;

  OpFoldResult index(int64_t v) { return b.getIndexAttr(v); }
  Value indexValue(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }

  /// parameters[offset : offset + Π shape] seen as `shape`.
  Value param(int64_t offset, ArrayRef<int64_t> shape) {
    return cx.reshape(cx.slice(params, {offset}, {product(shape)}), shape);
  }

  /// c + a·op(B): a [M, K] (or [K, M] with `ta`), B [K, Nn] (or [Nn, K]
  /// with `tb`), accumulating into `init` [M, Nn].
  Value matmul(Value a, Value bm, bool ta, bool tb, Value init) {
    AffineExpr m = cx.d(0), n = cx.d(1), k = cx.d(2);
    auto maps = b.getAffineMapArrayAttr({ta ? cx.map(3, {k, m}) : cx.map(3, {m, k}),
                                         tb ? cx.map(3, {n, k}) : cx.map(3, {k, n}),
                                         cx.map(3, {m, n})});
    return linalg::MatmulOp::create(b, loc, TypeRange{init.getType()}, ValueRange{a, bm},
                                    ValueRange{init}, {b.getNamedAttr("indexing_maps", maps)})
        .getResult(0);
  }

  /// `vec` [C] repeated in every row of a [rows, C] tensor.
  Value rowsOf(Value vec, int64_t rows) {
    int64_t c = shapeOf(vec)[0];
    return cx.mapBcast({rows, c}, ValueRange{vec},
                       [](OpBuilder &, Location, ValueRange a) { return a[0]; });
  }

  Value insert(Value dest, Value v, ArrayRef<OpFoldResult> offsets) {
    Shape s = shapeOf(v);
    SmallVector<OpFoldResult> sizes, strides;
    for (int64_t d : s) {
      sizes.push_back(index(d));
      strides.push_back(index(1));
    }
    return tensor::InsertSliceOp::create(b, loc, v, dest, offsets, sizes, strides);
  }

  /// seq[t, :, col : col + width] of a [T, N, C] tensor, as [N, width].
  Value step(Value seq, Value t, int64_t col, int64_t width) {
    int64_t n = shapeOf(seq)[1];
    SmallVector<OpFoldResult> offs{t, index(0), index(col)}, sizes{index(1), index(n), index(width)},
        strides(3, index(1));
    Value s = tensor::ExtractSliceOp::create(b, loc, seq, offs, sizes, strides);
    return cx.reshape(s, {n, width});
  }
  /// active[t] as [N].
  Value activeAt(Value t) {
    SmallVector<OpFoldResult> offs{t, index(0)}, sizes{index(1), index(l.batch)},
        strides(2, index(1));
    Value s = tensor::ExtractSliceOp::create(b, loc, active, offs, sizes, strides);
    return cx.reshape(s, {l.batch});
  }
  /// seq with rows [t, :, col : col + width] replaced by v [N, width].
  Value putStep(Value seq, Value v, Value t, int64_t col) {
    Shape s = shapeOf(v);
    return insert(seq, cx.reshape(v, {1, s[0], s[1]}), {t, index(0), index(col)});
  }

  /// The step of iteration `i` in direction `dir` (forward order for the
  /// forward pass, reversed for the backward one).
  Value timeOf(Value i, int64_t dir, bool reversed) {
    if (dir == 0 && !reversed)
      return i;
    if (dir == 1 && reversed)
      return i;
    return arith::SubIOp::create(b, loc, indexValue(l.seqLen - 1), i);
  }

  /// An scf.for over [0, n) carrying `init`; `body(i, iter)` yields the
  /// next values.
  SmallVector<Value> loop(int64_t n, ValueRange init,
                          function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    auto f = scf::ForOp::create(b, loc, indexValue(0), indexValue(n), indexValue(1), init,
                                [&](OpBuilder &nb, Location, Value i, ValueRange iter) {
                                  OpBuilder::InsertionGuard guard(b);
                                  b.setInsertionPoint(nb.getInsertionBlock(),
                                                      nb.getInsertionPoint());
                                  scf::YieldOp::create(b, loc, body(i, iter));
                                });
    return SmallVector<Value>(f.getResults());
  }

  /// 1 where t + 1 ≤ sequence_length[n] (t < ⌊length⌋; NaN runs no step).
  Value activeMask(Value lengths) {
    int64_t T = l.seqLen, N = l.batch;
    return cx.generic({T, N}, ValueRange{lengths}, {cx.map(2, {cx.d(1)})},
                      {Iter::parallel, Iter::parallel},
                      [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                        Value t = linalg::IndexOp::create(nb, nl, 0);
                        Value ti = arith::IndexCastOp::create(nb, nl, nb.getI64Type(), t);
                        Value tf = arith::SIToFPOp::create(nb, nl, cx.et, ti);
                        Value t1 = arith::AddFOp::create(nb, nl, tf, cx.k(nb, nl, 1));
                        Value in = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OLE, t1,
                                                         a[0]);
                        return arith::SelectOp::create(nb, nl, in, cx.k(nb, nl, 1),
                                                       cx.k(nb, nl, 0));
                      });
  }
};

Value isActive(Ctx &cx, OpBuilder &nb, Location nl, Value flag) {
  return arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OGT, flag, cx.k(nb, nl, 0.5));
}

RNNBuilder::Direction RNNBuilder::forward(int64_t layer, int64_t dir, Value x, Value y,
                                          Value h0, Value c0, bool record) {
  int64_t T = l.seqLen, N = l.batch, H = l.hidden, R = l.recurrent(), in = l.layerInput(layer);
  int64_t G = l.gates(), GH = l.gateRows();
  bool lstm = l.mode == RNNMode::lstm, gru = l.mode == RNNMode::gru;
  RNNLayout::Blocks blk = l.blocks(layer, dir);
  Value wx = param(blk.wx, {GH, in}), wh = param(blk.wh, {GH, R});
  Value whr = l.projection ? param(blk.whr, {R, H}) : Value();
  Value bx = param(blk.bx, {GH}), bh = param(blk.bh, {GH});
  // Every step's input term at once: x·Wxᵀ + bx, [T, N, G·H].
  Value xw = cx.reshape(matmul(cx.reshape(x, {T * N, in}), wx, false, true, rowsOf(bx, T * N)),
                        {T, N, GH});
  Value bhRows = rowsOf(bh, N);

  // The states (and cells) live in [T + 1, N, ·] stacks, indexed so that
  // step t reads slot t + dir and writes slot t + 1 − dir: slot t + dir is
  // the state before time t in either direction, and the stack is also the
  // record the backward needs. (Carrying the state itself would need its
  // tensor rewritten in place each step, which one-shot bufferization
  // demands of scf.for and canonicalization undoes.)
  int64_t first = dir ? T : 0, last = dir ? 0 : T;
  SmallVector<Value> init{putStep(cx.empty({T + 1, N, R}), h0, indexValue(first), 0)};
  if (lstm)
    init.push_back(putStep(cx.empty({T + 1, N, H}), c0, indexValue(first), 0));
  init.push_back(y);
  if (record) {
    init.push_back(cx.empty({T, N, GH}));
    if (gru)
      init.push_back(cx.empty({T, N, H}));
  }
  SmallVector<Value> out = loop(T, init, [&](Value i, ValueRange iter) -> SmallVector<Value> {
    unsigned k = 0;
    Value hs = iter[k++];
    Value cs = lstm ? iter[k++] : Value();
    Value yv = iter[k++];
    Value gatesAll = record ? iter[k++] : Value();
    Value hnAll = record && gru ? iter[k++] : Value();
    Value t = timeOf(i, dir, false);
    Value t1 = arith::AddIOp::create(b, loc, t, indexValue(1));
    Value readSlot = dir ? t1 : t, writeSlot = dir ? t : t1;
    Value h = step(hs, readSlot, 0, R);
    Value c = lstm ? step(cs, readSlot, 0, H) : Value();
    Value xt = step(xw, t, 0, GH);
    Value hw = matmul(h, wh, false, true, bhRows);
    Value act = active ? activeAt(t) : Value();

    // The cell, elementwise over [N, H]; gate q of a [N, G·H] tensor is
    // read through its [N, G, H] view.
    GenericIns ins;
    SmallVector<unsigned> xg, hg;
    Value xt3 = cx.reshape(xt, {N, G, H}), hw3 = cx.reshape(hw, {N, G, H});
    for (int64_t q = 0; q < G; ++q) {
      AffineMap gate = cx.map(2, {cx.d(0), cx.c(q), cx.d(1)});
      xg.push_back(ins.add(xt3, gate));
      hg.push_back(ins.add(hw3, gate));
    }
    bool masked = act && !l.projection;
    unsigned hIn = gru || masked ? ins.add(h, cx.id(2)) : 0;
    unsigned cIn = lstm ? ins.add(c, cx.id(2)) : 0;
    unsigned aIn = act ? ins.add(act, cx.map(2, {cx.d(0)})) : 0;
    // Outputs: the new state (without a projection, the old one is kept
    // past the sequence's end), the step's output (0 past the end), [the
    // new cell, kept past the end], [records: the gates (rnn_*: h), gru's
    // hn].
    unsigned numOut = 2 + (lstm ? 1 : 0) + (record ? G + (gru ? 1 : 0) : 0);
    SmallVector<Value> inits;
    for (unsigned o = 0; o < numOut; ++o)
      inits.push_back(cx.empty({N, H}));
    SmallVector<AffineMap> outMaps(numOut, cx.id(2));
    SmallVector<Value> cellOut = cx.genericN(
        ins.values, ins.maps, inits, outMaps, {Iter::parallel, Iter::parallel},
        [&](OpBuilder &nb, Location nl, ValueRange a) -> SmallVector<Value> {
          auto s = [&](unsigned idx) { return S{&nb, nl, a[idx]}; };
          auto pre = [&](int64_t q) { return s(xg[q]) + s(hg[q]); };
          SmallVector<Value> gates;
          Value hnew, cnew;
          switch (l.mode) {
          case RNNMode::rnn_relu:
          case RNNMode::rnn_tanh: {
            S v = l.mode == RNNMode::rnn_relu ? formula::relu(pre(0)) : formula::tanh(pre(0));
            hnew = v.v;
            gates.push_back(hnew);
            break;
          }
          case RNNMode::lstm: {
            S ig = formula::sigmoid(pre(0)), fg = formula::sigmoid(pre(1));
            S gg = formula::tanh(pre(2)), og = formula::sigmoid(pre(3));
            S cv = fg * s(cIn) + ig * gg;
            cnew = cv.v;
            hnew = (og * formula::tanh(cv)).v;
            gates = {ig.v, fg.v, gg.v, og.v};
            break;
          }
          case RNNMode::gru: {
            S rg = formula::sigmoid(pre(0)), zg = formula::sigmoid(pre(1));
            S ng = formula::tanh(s(xg[2]) + rg * s(hg[2]));
            hnew = ((1.0 - zg) * ng + zg * s(hIn)).v;
            gates = {rg.v, zg.v, ng.v, a[hg[2]]};
            break;
          }
          }
          Value on = act ? isActive(cx, nb, nl, a[aIn]) : Value();
          SmallVector<Value> r;
          r.push_back(masked ? arith::SelectOp::create(nb, nl, on, hnew, a[hIn]).getResult()
                             : hnew);
          r.push_back(masked ? arith::SelectOp::create(nb, nl, on, hnew, cx.k(nb, nl, 0))
                                   .getResult()
                             : hnew);
          if (lstm)
            r.push_back(act ? arith::SelectOp::create(nb, nl, on, cnew, a[cIn]).getResult()
                            : cnew);
          if (record)
            r.append(gates.begin(), gates.end());
          return r;
        });
    Value hnext = cellOut[0], yOut = cellOut[1];
    if (l.projection) {
      // r = Whr·h is the state and the output.
      Value proj = matmul(hnext, whr, false, true, cx.filled({N, R}, 0.0));
      hnext = yOut = proj;
      if (act) {
        SmallVector<Value> m = cx.genericN(
            ValueRange{proj, h, act}, {cx.id(2), cx.id(2), cx.map(2, {cx.d(0)})},
            ValueRange{cx.empty({N, R}), cx.empty({N, R})}, {cx.id(2), cx.id(2)},
            {Iter::parallel, Iter::parallel},
            [&](OpBuilder &nb, Location nl, ValueRange a) -> SmallVector<Value> {
              Value on = isActive(cx, nb, nl, a[2]);
              return {arith::SelectOp::create(nb, nl, on, a[0], a[1]),
                      arith::SelectOp::create(nb, nl, on, a[0], cx.k(nb, nl, 0))};
            });
        hnext = m[0];
        yOut = m[1];
      }
    }

    SmallVector<Value> next{putStep(hs, hnext, writeSlot, 0)};
    if (lstm)
      next.push_back(putStep(cs, cellOut[2], writeSlot, 0));
    next.push_back(putStep(yv, yOut, t, dir * R));
    if (record) {
      unsigned g0 = lstm ? 3 : 2;
      for (int64_t q = 0; q < G; ++q)
        gatesAll = putStep(gatesAll, cellOut[g0 + q], t, q * H);
      next.push_back(gatesAll);
      if (gru)
        next.push_back(putStep(hnAll, cellOut[g0 + G], t, 0));
    }
    return next;
  });

  Direction d;
  unsigned k = 0;
  Value hs = out[k++];
  Value cs = lstm ? out[k++] : Value();
  d.y = out[k++];
  d.h = stackRows(hs, last);
  if (lstm)
    d.c = stackRows(cs, last);
  if (record) {
    d.gates = out[k++];
    if (gru)
      d.hn = out[k++];
    // By time: the state before t is slot t + dir, the cell after t slot
    // t + 1 − dir.
    d.hprev = cx.slice(hs, {dir, 0, 0}, {T, N, R});
    if (lstm) {
      d.cprev = cx.slice(cs, {dir, 0, 0}, {T, N, H});
      d.cell = cx.slice(cs, {1 - dir, 0, 0}, {T, N, H});
    }
  }
  return d;
}

void RNNBuilder::backward(int64_t layer, int64_t dir, Value x, const Direction &rec, Value dy,
                          Value &dh, Value &dc, Value &dx, Value &dw) {
  int64_t T = l.seqLen, N = l.batch, H = l.hidden, R = l.recurrent(), in = l.layerInput(layer);
  int64_t G = l.gates(), GH = l.gateRows();
  bool lstm = l.mode == RNNMode::lstm, gru = l.mode == RNNMode::gru;
  RNNLayout::Blocks blk = l.blocks(layer, dir);
  Value wx = param(blk.wx, {GH, in}), wh = param(blk.wh, {GH, R});

  // Backwards in time, the gradients of the states (and cells) in stacks
  // like the forward's: the step at time t reads slot t + 1 − dir (the
  // gradient of the state after t) and writes slot t + dir (before t).
  // Also carried: dAx, the gates' pre-activation gradients on the input
  // side [T, N, G·H], and for gru dAh, those on the state side (n's block
  // scaled by r).
  int64_t first = dir ? 0 : T, last = dir ? T : 0;
  SmallVector<Value> init{putStep(cx.empty({T + 1, N, R}), dh, indexValue(first), 0)};
  if (lstm)
    init.push_back(putStep(cx.empty({T + 1, N, H}), dc, indexValue(first), 0));
  init.push_back(cx.empty({T, N, GH}));
  if (gru)
    init.push_back(cx.empty({T, N, GH}));
  SmallVector<Value> out = loop(T, init, [&](Value i, ValueRange iter) -> SmallVector<Value> {
    unsigned k = 0;
    Value dhs = iter[k++];
    Value dcs = lstm ? iter[k++] : Value();
    Value dax = iter[k++];
    Value dah = gru ? iter[k++] : Value();
    Value t = timeOf(i, dir, true);
    Value t1 = arith::AddIOp::create(b, loc, t, indexValue(1));
    Value readSlot = dir ? t : t1, writeSlot = dir ? t1 : t;
    Value dhv = step(dhs, readSlot, 0, R);
    Value dcv = lstm ? step(dcs, readSlot, 0, H) : Value();
    Value gatesT = step(rec.gates, t, 0, GH);
    Value act = active ? activeAt(t) : Value();

    GenericIns ins;
    unsigned dyIn = ins.add(step(dy, t, dir * R, R), cx.id(2));
    unsigned dhIn = ins.add(dhv, cx.id(2));
    unsigned dcIn = lstm ? ins.add(dcv, cx.id(2)) : 0;
    SmallVector<unsigned> gi;
    Value gates3 = cx.reshape(gatesT, {N, G, H});
    for (int64_t q = 0; q < G; ++q)
      gi.push_back(ins.add(gates3, cx.map(2, {cx.d(0), cx.c(q), cx.d(1)})));
    unsigned cellIn = lstm ? ins.add(step(rec.cell, t, 0, H), cx.id(2)) : 0;
    unsigned cprevIn = lstm ? ins.add(step(rec.cprev, t, 0, H), cx.id(2)) : 0;
    unsigned hprevIn = gru ? ins.add(step(rec.hprev, t, 0, R), cx.id(2)) : 0;
    unsigned hnIn = gru ? ins.add(step(rec.hn, t, 0, H), cx.id(2)) : 0;
    unsigned aIn = act ? ins.add(act, cx.map(2, {cx.d(0)})) : 0;
    // Outputs: the G input-side gate gradients, [gru: n's state-side one],
    // the state gradient that bypasses Wh, [lstm: the previous cell's].
    unsigned numOut = G + (gru ? 1 : 0) + 1 + (lstm ? 1 : 0);
    SmallVector<Value> inits;
    for (unsigned o = 0; o < numOut; ++o)
      inits.push_back(cx.empty({N, H}));
    SmallVector<AffineMap> outMaps(numOut, cx.id(2));
    SmallVector<Value> cellOut = cx.genericN(
        ins.values, ins.maps, inits, outMaps, {Iter::parallel, Iter::parallel},
        [&](OpBuilder &nb, Location nl, ValueRange a) -> SmallVector<Value> {
          auto s = [&](unsigned idx) { return S{&nb, nl, a[idx]}; };
          S d = s(dhIn) + s(dyIn);
          SmallVector<Value> r;
          Value direct;
          Value cprevGrad;
          switch (l.mode) {
          case RNNMode::rnn_relu: {
            Value pos = cx.gt0(nb, nl, a[gi[0]]);
            r.push_back(arith::SelectOp::create(nb, nl, pos, d.v, cx.k(nb, nl, 0)));
            direct = cx.k(nb, nl, 0);
            break;
          }
          case RNNMode::rnn_tanh: {
            S hv = s(gi[0]);
            r.push_back((d * (1.0 - hv * hv)).v);
            direct = cx.k(nb, nl, 0);
            break;
          }
          case RNNMode::lstm: {
            S ig = s(gi[0]), fg = s(gi[1]), gg = s(gi[2]), og = s(gi[3]);
            S tc = formula::tanh(s(cellIn));
            S dct = s(dcIn) + d * og * (1.0 - tc * tc);
            r.push_back((dct * gg * ig * (1.0 - ig)).v);
            r.push_back((dct * s(cprevIn) * fg * (1.0 - fg)).v);
            r.push_back((dct * ig * (1.0 - gg * gg)).v);
            r.push_back((d * tc * og * (1.0 - og)).v);
            direct = cx.k(nb, nl, 0);
            cprevGrad = (dct * fg).v;
            break;
          }
          case RNNMode::gru: {
            S rg = s(gi[0]), zg = s(gi[1]), ng = s(gi[2]);
            S dn = d * (1.0 - zg) * (1.0 - ng * ng);
            S dz = d * (s(hprevIn) - ng) * zg * (1.0 - zg);
            S dr = dn * s(hnIn) * rg * (1.0 - rg);
            r.push_back(dr.v);
            r.push_back(dz.v);
            r.push_back(dn.v);
            r.push_back((dn * rg).v);
            direct = (d * zg).v;
            break;
          }
          }
          r.push_back(direct);
          if (lstm)
            r.push_back(cprevGrad);
          if (act) {
            // Past the sequence's end: no gradient to the gates, the state's
            // and cell's pass through (the output there was a constant 0).
            Value on = isActive(cx, nb, nl, a[aIn]);
            Value zero = cx.k(nb, nl, 0);
            unsigned gates = G + (gru ? 1 : 0);
            for (unsigned o = 0; o < gates; ++o)
              r[o] = arith::SelectOp::create(nb, nl, on, r[o], zero);
            r[gates] = arith::SelectOp::create(nb, nl, on, r[gates], a[dhIn]);
            if (lstm)
              r[gates + 1] = arith::SelectOp::create(nb, nl, on, r[gates + 1], a[dcIn]);
          }
          return r;
        });
    for (int64_t q = 0; q < G; ++q)
      dax = putStep(dax, cellOut[q], t, q * H);
    if (gru) {
      dah = putStep(dah, cellOut[0], t, 0);
      dah = putStep(dah, cellOut[1], t, H);
      dah = putStep(dah, cellOut[3], t, 2 * H);
    }
    unsigned directIdx = G + (gru ? 1 : 0);
    Value dahT = step(gru ? dah : dax, t, 0, GH);
    Value dhPrev = matmul(dahT, wh, false, false, cellOut[directIdx]);
    SmallVector<Value> next{putStep(dhs, dhPrev, writeSlot, 0)};
    if (lstm)
      next.push_back(putStep(dcs, cellOut[directIdx + 1], writeSlot, 0));
    next.push_back(dax);
    if (gru)
      next.push_back(dah);
    return next;
  });
  unsigned k = 0;
  dh = stackRows(out[k++], last);
  if (lstm)
    dc = stackRows(out[k++], last);
  Value dax = cx.reshape(out[k++], {T * N, GH});
  Value dah = gru ? cx.reshape(out[k++], {T * N, GH}) : dax;

  // Whole-sequence products: dx += dAx·Wx, dWx = dAxᵀ·x, dWh = dAhᵀ·hprev,
  // the biases' gradients are dAx's and dAh's column sums.
  dx = cx.reshape(matmul(dax, wx, false, false, cx.reshape(dx, {T * N, in})), {T, N, in});
  Value dwx = matmul(dax, cx.reshape(x, {T * N, in}), true, false, cx.filled({GH, in}, 0.0));
  Value dwh = matmul(dah, cx.reshape(rec.hprev, {T * N, R}), true, false,
                     cx.filled({GH, R}, 0.0));
  auto colSum = [&](Value m) {
    return cx.reduceAxes(m, {true, false}, cx.f(0.0),
                         [](OpBuilder &nb, Location nl, Value acc, Value v) -> Value {
                           return arith::AddFOp::create(nb, nl, acc, v);
                         });
  };
  auto put1D = [&](Value w, Value v, int64_t offset) {
    return insert(w, cx.reshape(v, {product(shapeOf(v))}), {index(offset)});
  };
  dw = put1D(dw, dwx, blk.wx);
  dw = put1D(dw, dwh, blk.wh);
  dw = put1D(dw, colSum(dax), blk.bx);
  dw = put1D(dw, colSum(dah), blk.bh);
}

/// `v` [T, N, D·R] (a layer's output, or its gradient) times block `layer`
/// of the dropout mask [L − 1, T, N, D·R].
Value applyMask(Ctx &cx, Value v, Value mask, int64_t layer) {
  Shape s = shapeOf(v);
  Value m = cx.reshape(cx.slice(mask, {layer, 0, 0, 0}, {1, s[0], s[1], s[2]}), s);
  return cx.mapBcast(s, ValueRange{v, m}, [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
    return arith::MulFOp::create(nb, nl, a[0], a[1]);
  });
}

Results lowerRNN(Ctx &cx, g::RNNOp op) {
  Value x = op.getData();
  RNNLayout l = g::rnnLayout(op, shapeOf(x));
  int64_t LD = l.layers * l.dirs, N = l.batch, H = l.hidden, R = l.recurrent();
  RNNBuilder rb(cx, l, op.getParameters(), op.getSequenceLength());
  Value state = op.getState(), cell = op.getStateCell();
  Value hy = cx.empty({LD, N, R}), cy = cell ? cx.empty({LD, N, H}) : Value();
  Value input = x;
  for (int64_t layer = 0; layer < l.layers; ++layer) {
    Value y = cx.empty({l.seqLen, N, l.dirs * R});
    for (int64_t dir = 0; dir < l.dirs; ++dir) {
      int64_t ld = layer * l.dirs + dir;
      RNNBuilder::Direction d =
          rb.forward(layer, dir, input, y, rb.stackRows(state, ld),
                     cell ? rb.stackRows(cell, ld) : Value(), /*record=*/false);
      y = d.y;
      hy = rb.putStackRows(hy, d.h, ld);
      if (cell)
        cy = rb.putStackRows(cy, d.c, ld);
    }
    input = y;
    if (Value mask = op.getDropoutMask(); mask && layer + 1 < l.layers)
      input = applyMask(cx, input, mask, layer);
  }
  SmallVector<Value> results{input};
  if (op.getStateOutputs()) {
    results.push_back(hy);
    if (cell)
      results.push_back(cy);
  }
  return results;
}

Results lowerRNNGrad(Ctx &cx, g::RNNGradOp op) {
  Value x = op.getData();
  RNNLayout l = g::rnnLayout(op, shapeOf(x));
  if (l.projection)
    return op.emitOpError("an RNN with projection_size has no gradient"), failure();
  int64_t LD = l.layers * l.dirs, T = l.seqLen, N = l.batch, H = l.hidden, R = l.recurrent();
  RNNBuilder rb(cx, l, op.getParameters(), op.getSequenceLength());
  Value state = op.getState(), cell = op.getStateCell();

  // The forward again, with every step's records and each layer's input.
  SmallVector<Value> inputs;
  SmallVector<RNNBuilder::Direction> recs;
  Value input = x;
  for (int64_t layer = 0; layer < l.layers; ++layer) {
    inputs.push_back(input);
    Value y = cx.empty({T, N, l.dirs * R});
    for (int64_t dir = 0; dir < l.dirs; ++dir) {
      int64_t ld = layer * l.dirs + dir;
      recs.push_back(rb.forward(layer, dir, input, y, rb.stackRows(state, ld),
                                cell ? rb.stackRows(cell, ld) : Value(), /*record=*/true));
      y = recs.back().y;
    }
    input = y;
    if (Value mask = op.getDropoutMask(); mask && layer + 1 < l.layers)
      input = applyMask(cx, input, mask, layer);
  }

  Value dw = cx.filled({l.paramSize()}, 0.0);
  Value dhx = cx.empty({LD, N, R}), dcx = cell ? cx.empty({LD, N, H}) : Value();
  Value dy = op.getOutputGrad();
  for (int64_t layer = l.layers - 1; layer >= 0; --layer) {
    Value dinput = cx.filled({T, N, l.layerInput(layer)}, 0.0);
    for (int64_t dir = 0; dir < l.dirs; ++dir) {
      int64_t ld = layer * l.dirs + dir;
      Value dh = rb.stackRows(op.getStateOutputGrad(), ld);
      Value dc = cell ? rb.stackRows(op.getStateCellOutputGrad(), ld) : Value();
      rb.backward(layer, dir, inputs[layer], recs[ld], dy, dh, dc, dinput, dw);
      dhx = rb.putStackRows(dhx, dh, ld);
      if (cell)
        dcx = rb.putStackRows(dcx, dc, ld);
    }
    dy = dinput;
    // The layer below's output went through its dropout mask.
    if (Value mask = op.getDropoutMask(); mask && layer > 0)
      dy = applyMask(cx, dy, mask, layer - 1);
  }
  SmallVector<Value> results{dy, dw, dhx};
  if (cell)
    results.push_back(dcx);
  return results;
}

Results lowerParamConcat(Ctx &cx, g::RNNParamConcatOp op) {
  Shape out = shapeOf(op.getOutput());
  int64_t dim = normAxis(static_cast<int64_t>(op.getDim()), out.size());
  Value acc = cx.empty(out);
  int64_t off = 0;
  for (Value v : op.getInputs()) {
    Shape s = shapeOf(v);
    SmallVector<OpFoldResult> offs, sizes, strides;
    for (size_t i = 0; i < s.size(); ++i) {
      offs.push_back(cx.b.getIndexAttr(i == (size_t)dim ? off : 0));
      sizes.push_back(cx.b.getIndexAttr(s[i]));
      strides.push_back(cx.b.getIndexAttr(1));
    }
    acc = tensor::InsertSliceOp::create(cx.b, cx.loc, v, acc, offs, sizes, strides);
    off += s[dim];
  }
  return one(acc);
}

} // namespace

std::optional<Results> lowerRNNOp(Ctx &cx, Operation *op) {
  return llvm::TypeSwitch<Operation *, std::optional<Results>>(op)
      .Case([&](g::RNNOp o) { return lowerRNN(cx, o); })
      .Case([&](g::RNNGradOp o) { return lowerRNNGrad(cx, o); })
      .Case([&](g::RNNParamConcatOp o) { return lowerParamConcat(cx, o); })
      .Default([](Operation *) { return std::nullopt; });
}

} // namespace kiln::lowering
