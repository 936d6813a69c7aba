//===- RNNOps.cpp - Reference semantics: recurrent layers -------------------===//
//
// The interpreter's kernels for GraphRNNOps.td, in double precision,
// following MXNet 1.9.1 (src/operator/rnn_impl.h): the forward of every
// mode, layer and direction step by step, and its exact derivative by
// back-propagation through time (graph.rnn_grad), which recomputes the
// forward keeping every gate.
//
//===----------------------------------------------------------------------===//

#include "Graph/GraphRNNOps.h"
#include "Interpreter/InterpreterImpl.h"

#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
namespace g = kiln::graph;

namespace kiln::ref {
namespace {

using Vec = std::vector<double>;
using g::RNNLayout;
using g::RNNMode;

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

/// What one layer and direction computed, for the backward (time-indexed).
struct DirectionRecord {
  Vec gates; ///< [T, N, G·H]: i, f, g, o (lstm), r, z, n (gru), h (rnn_*).
  Vec hprev; ///< [T, N, R]: the recurrent state each step started from.
  Vec cprev; ///< [T, N, H] (lstm): the cell each step started from.
  Vec cell;  ///< [T, N, H] (lstm): the cell after the step.
  Vec hn;    ///< [T, N, H] (gru): Wh_n·h + bh_n, which r multiplies.
};

/// The number of steps batch element n runs: ⌊sequence_length[n]⌋ in [0, T],
/// or T without sequence lengths.
std::vector<int64_t> stepsPerElement(const RNNLayout &l, const Array *lengths) {
  std::vector<int64_t> steps(l.batch, l.seqLen);
  if (!lengths)
    return steps;
  for (int64_t n = 0; n < l.batch; ++n) {
    double v = lengths->data[n];
    steps[n] = std::isnan(v) ? 0 : static_cast<int64_t>(std::clamp(std::floor(v), 0.0, (double)l.seqLen));
  }
  return steps;
}

/// The weights of one layer and direction, as views into `parameters`.
struct Weights {
  const double *wx, *wh, *whr, *bx, *bh;
  Weights(const RNNLayout &l, const double *w, int64_t layer, int64_t dir) {
    RNNLayout::Blocks b = l.blocks(layer, dir);
    wx = w + b.wx;
    wh = w + b.wh;
    whr = w + b.whr;
    bx = w + b.bx;
    bh = w + b.bh;
  }
};

/// Runs one layer in one direction over `x` [T, N, in], writing its states
/// into columns [dir·R, (dir + 1)·R) of `y` [T, N, D·R] (0 past a sequence's
/// length) and the final state and cell into `hy`/`cy` ([N, R], [N, H]).
void forwardDirection(const RNNLayout &l, int64_t layer, int64_t dir, const Vec &x,
                      const double *w, const double *h0, const double *c0,
                      const std::vector<int64_t> &steps, Vec &y, double *hy, double *cy,
                      DirectionRecord *rec) {
  int64_t T = l.seqLen, N = l.batch, H = l.hidden, R = l.recurrent(), in = l.layerInput(layer);
  int64_t GH = l.gateRows(), DR = l.dirs * R;
  Weights wt(l, w, layer, dir);
  Vec h(h0, h0 + N * R), c(N * H, 0.0);
  if (c0)
    c.assign(c0, c0 + N * H);
  if (rec) {
    rec->gates.assign(T * N * GH, 0.0);
    rec->hprev.assign(T * N * R, 0.0);
    if (l.mode == RNNMode::lstm) {
      rec->cprev.assign(T * N * H, 0.0);
      rec->cell.assign(T * N * H, 0.0);
    }
    if (l.mode == RNNMode::gru)
      rec->hn.assign(T * N * H, 0.0);
  }
  Vec ax(GH), ah(GH), hcell(H);
  for (int64_t i = 0; i < T; ++i) {
    int64_t t = dir ? T - 1 - i : i;
    for (int64_t n = 0; n < N; ++n) {
      double *hn = &h[n * R], *cn = &c[n * H];
      if (rec) {
        std::copy(hn, hn + R, &rec->hprev[(t * N + n) * R]);
        if (l.mode == RNNMode::lstm)
          std::copy(cn, cn + H, &rec->cprev[(t * N + n) * H]);
      }
      double *yt = &y[(t * N + n) * DR + dir * R];
      if (t >= steps[n]) {
        // Past this sequence's end: states kept, output 0 (cuDNN's padding).
        std::fill(yt, yt + R, 0.0);
        continue;
      }
      const double *xt = &x[(t * N + n) * in];
      for (int64_t r = 0; r < GH; ++r) {
        double sx = wt.bx[r], sh = wt.bh[r];
        for (int64_t j = 0; j < in; ++j)
          sx += wt.wx[r * in + j] * xt[j];
        for (int64_t j = 0; j < R; ++j)
          sh += wt.wh[r * R + j] * hn[j];
        ax[r] = sx;
        ah[r] = sh;
      }
      double *gates = rec ? &rec->gates[(t * N + n) * GH] : nullptr;
      for (int64_t k = 0; k < H; ++k) {
        switch (l.mode) {
        case RNNMode::rnn_relu:
        case RNNMode::rnn_tanh: {
          double a = ax[k] + ah[k];
          // MXNet's relu helper (rnn_impl.h) returns a float: in float64
          // its rnn_relu rounds every state to float32.
          hcell[k] = l.mode == RNNMode::rnn_relu ? (a > 0 ? (double)static_cast<float>(a) : 0.0)
                                                  : std::tanh(a);
          if (gates)
            gates[k] = hcell[k];
          break;
        }
        case RNNMode::lstm: {
          double ig = sigmoid(ax[k] + ah[k]);
          double fg = sigmoid(ax[H + k] + ah[H + k]);
          double gg = std::tanh(ax[2 * H + k] + ah[2 * H + k]);
          double og = sigmoid(ax[3 * H + k] + ah[3 * H + k]);
          double cv = fg * cn[k] + ig * gg;
          cn[k] = cv;
          hcell[k] = og * std::tanh(cv);
          if (gates) {
            gates[k] = ig;
            gates[H + k] = fg;
            gates[2 * H + k] = gg;
            gates[3 * H + k] = og;
            rec->cell[(t * N + n) * H + k] = cv;
          }
          break;
        }
        case RNNMode::gru: {
          double rg = sigmoid(ax[k] + ah[k]);
          double zg = sigmoid(ax[H + k] + ah[H + k]);
          double ng = std::tanh(ax[2 * H + k] + rg * ah[2 * H + k]);
          hcell[k] = (1 - zg) * ng + zg * hn[k];
          if (gates) {
            gates[k] = rg;
            gates[H + k] = zg;
            gates[2 * H + k] = ng;
            rec->hn[(t * N + n) * H + k] = ah[2 * H + k];
          }
          break;
        }
        }
      }
      if (l.projection) {
        // r = Whr·h: the recurrent state and the output.
        for (int64_t p = 0; p < R; ++p) {
          double s = 0;
          for (int64_t k = 0; k < H; ++k)
            s += wt.whr[p * H + k] * hcell[k];
          hn[p] = s;
        }
      } else {
        std::copy(hcell.begin(), hcell.end(), hn);
      }
      std::copy(hn, hn + R, yt);
    }
  }
  if (hy)
    std::copy(h.begin(), h.end(), hy);
  if (cy && c0)
    std::copy(c.begin(), c.end(), cy);
}

/// Multiplies `v` (a layer's output, or its gradient) by the dropout mask
/// of `layer`, the [T, N, D·R] block `layer` of the mask.
void applyMask(Vec &v, const Array &mask, int64_t layer) {
  const double *m = &mask.data[layer * v.size()];
  for (size_t i = 0; i < v.size(); ++i)
    v[i] *= m[i];
}

/// The forward of every layer. `layerInputs` receives each layer's input
/// (for the backward) when given; `records` one record per layer and
/// direction (index l·D + d).
void forward(const RNNLayout &l, const Array &x, const Array &w, const Array &hx,
             const Array *cx, const Array *lengths, const Array *mask, Array &out, double *hy,
             double *cy, std::vector<Vec> *layerInputs, std::vector<DirectionRecord> *records) {
  std::vector<int64_t> steps = stepsPerElement(l, lengths);
  int64_t N = l.batch, H = l.hidden, R = l.recurrent();
  Vec input = x.data;
  if (records)
    records->assign(l.layers * l.dirs, DirectionRecord());
  for (int64_t layer = 0; layer < l.layers; ++layer) {
    Vec y(l.seqLen * N * l.dirs * R, 0.0);
    for (int64_t dir = 0; dir < l.dirs; ++dir) {
      int64_t ld = layer * l.dirs + dir;
      forwardDirection(l, layer, dir, input, w.data.data(), &hx.data[ld * N * R],
                       cx ? &cx->data[ld * N * H] : nullptr, steps, y,
                       hy ? hy + ld * N * R : nullptr, cy ? cy + ld * N * H : nullptr,
                       records ? &(*records)[ld] : nullptr);
    }
    if (layerInputs)
      layerInputs->push_back(std::move(input));
    input = std::move(y);
    if (mask && layer + 1 < l.layers)
      applyMask(input, *mask, layer);
  }
  out.data = std::move(input);
}

/// Back-propagates one layer and direction: `dy` [T, N, D·R] is the
/// gradient of the layer's output, `dh`/`dc` ([N, R], [N, H]) those of its
/// final state and cell, replaced by the gradients of its initial ones.
/// Accumulates into `dx` [T, N, in] and `dw` (the whole parameter vector).
void backwardDirection(const RNNLayout &l, int64_t layer, int64_t dir, const Vec &x,
                       const double *w, const DirectionRecord &rec,
                       const std::vector<int64_t> &steps, const Vec &dy, double *dh, double *dc,
                       Vec &dx, double *dw) {
  int64_t T = l.seqLen, N = l.batch, H = l.hidden, R = l.recurrent(), in = l.layerInput(layer);
  int64_t GH = l.gateRows(), DR = l.dirs * R;
  Weights wt(l, w, layer, dir);
  RNNLayout::Blocks b = l.blocks(layer, dir);
  double *dwx = dw + b.wx, *dwh = dw + b.wh, *dbx = dw + b.bx, *dbh = dw + b.bh;
  Vec dax(GH), dah(GH), dhprev(R);
  for (int64_t i = T - 1; i >= 0; --i) {
    int64_t t = dir ? T - 1 - i : i;
    for (int64_t n = 0; n < N; ++n) {
      if (t >= steps[n])
        continue; // the state passed through unchanged; the output was 0
      double *dhn = &dh[n * R], *dcn = dc ? &dc[n * H] : nullptr;
      const double *dyt = &dy[(t * N + n) * DR + dir * R];
      for (int64_t k = 0; k < R; ++k)
        dhn[k] += dyt[k];
      const double *gates = &rec.gates[(t * N + n) * GH];
      const double *hp = &rec.hprev[(t * N + n) * R];
      std::fill(dhprev.begin(), dhprev.end(), 0.0);
      for (int64_t k = 0; k < H; ++k) {
        double d = dhn[k];
        switch (l.mode) {
        case RNNMode::rnn_relu:
          dax[k] = dah[k] = gates[k] > 0 ? d : 0.0;
          break;
        case RNNMode::rnn_tanh:
          dax[k] = dah[k] = d * (1 - gates[k] * gates[k]);
          break;
        case RNNMode::lstm: {
          double ig = gates[k], fg = gates[H + k], gg = gates[2 * H + k], og = gates[3 * H + k];
          double cv = rec.cell[(t * N + n) * H + k], cp = rec.cprev[(t * N + n) * H + k];
          double tc = std::tanh(cv);
          double dcv = dcn[k] + d * og * (1 - tc * tc);
          dax[k] = dah[k] = dcv * gg * ig * (1 - ig);
          dax[H + k] = dah[H + k] = dcv * cp * fg * (1 - fg);
          dax[2 * H + k] = dah[2 * H + k] = dcv * ig * (1 - gg * gg);
          dax[3 * H + k] = dah[3 * H + k] = d * tc * og * (1 - og);
          dcn[k] = dcv * fg;
          break;
        }
        case RNNMode::gru: {
          double rg = gates[k], zg = gates[H + k], ng = gates[2 * H + k];
          double hn = rec.hn[(t * N + n) * H + k];
          double dn = d * (1 - zg) * (1 - ng * ng);
          double dz = d * (hp[k] - ng) * zg * (1 - zg);
          double dr = dn * hn * rg * (1 - rg);
          dax[k] = dah[k] = dr;
          dax[H + k] = dah[H + k] = dz;
          dax[2 * H + k] = dn;
          dah[2 * H + k] = dn * rg;
          dhprev[k] = d * zg;
          break;
        }
        }
      }
      const double *xt = &x[(t * N + n) * in];
      double *dxt = &dx[(t * N + n) * in];
      for (int64_t r = 0; r < GH; ++r) {
        dbx[r] += dax[r];
        dbh[r] += dah[r];
        for (int64_t j = 0; j < in; ++j) {
          dwx[r * in + j] += dax[r] * xt[j];
          dxt[j] += dax[r] * wt.wx[r * in + j];
        }
        for (int64_t j = 0; j < R; ++j) {
          dwh[r * R + j] += dah[r] * hp[j];
          dhprev[j] += dah[r] * wt.wh[r * R + j];
        }
      }
      std::copy(dhprev.begin(), dhprev.end(), dhn);
    }
  }
}

const Array *optionalArray(OpEnv &env, Operation *op, Value v) {
  return v ? &env.get(op, v) : nullptr;
}

// The masks come from kiln-graph-training-mode; an op it did not rewrite
// would need the interpreter's own random stream, which no compiled code
// reproduces (graph.dropout in mode `always` is refused likewise).
void checkDropout(OpEnv &env, g::RNNOp op, const RNNLayout &l) {
  if (env.options().training && !op.getP().isZero() && l.layers > 1 && !op.getDropoutMask())
    fail(op, "RNN with dropout between layers (p = " +
                 std::to_string(op.getP().convertToDouble()) +
                 ") in training mode needs its masks from kiln-graph-training-mode");
}

void runRNN(OpEnv &env, g::RNNOp op) {
  const Array &x = env.get(op, op.getData());
  RNNLayout l = g::rnnLayout(op, x.shape);
  checkDropout(env, op, l);
  const Array &w = env.get(op, op.getParameters()), &hx = env.get(op, op.getState());
  const Array *cx = optionalArray(env, op, op.getStateCell());
  const Array *len = optionalArray(env, op, op.getSequenceLength());
  Array out = env.makeResult(op, 0);
  if (out.size() != l.seqLen * l.batch * l.dirs * l.recurrent() ||
      w.size() != l.paramSize())
    fail(op, "operand or result shapes do not match the RNN's attributes");
  Array hy, cy;
  bool states = op.getStateOutputs();
  if (states) {
    hy = env.makeResult(op, 1);
    if (cx)
      cy = env.makeResult(op, 2);
  }
  const Array *mask = optionalArray(env, op, op.getDropoutMask());
  forward(l, x, w, hx, cx, len, mask, out, states ? hy.data.data() : nullptr,
          states && cx ? cy.data.data() : nullptr, nullptr, nullptr);
  env.setResult(op, 0, std::move(out));
  if (states) {
    env.setResult(op, 1, std::move(hy));
    if (cx)
      env.setResult(op, 2, std::move(cy));
  }
}

void runRNNGrad(OpEnv &env, g::RNNGradOp op) {
  const Array &x = env.get(op, op.getData());
  RNNLayout l = g::rnnLayout(op, x.shape);
  if (l.projection)
    fail(op, "an RNN with projection_size has no gradient");
  const Array &w = env.get(op, op.getParameters()), &hx = env.get(op, op.getState());
  const Array *cx = optionalArray(env, op, op.getStateCell());
  const Array *len = optionalArray(env, op, op.getSequenceLength());
  const Array &dout = env.get(op, op.getOutputGrad());
  const Array &dhy = env.get(op, op.getStateOutputGrad());
  const Array *dcy = optionalArray(env, op, op.getStateCellOutputGrad());
  const Array *mask = optionalArray(env, op, op.getDropoutMask());

  // The forward again, keeping each layer's input and every gate.
  std::vector<Vec> inputs;
  std::vector<DirectionRecord> records;
  Array out;
  Vec hy(hx.size()), cy(cx ? cx->size() : 0);
  forward(l, x, w, hx, cx, len, mask, out, hy.data(), cx ? cy.data() : nullptr, &inputs,
          &records);

  std::vector<int64_t> steps = stepsPerElement(l, len);
  Array dx = env.makeResult(op, 0), dw = env.makeResult(op, 1), dhx = env.makeResult(op, 2);
  Array dcx;
  if (cx)
    dcx = env.makeResult(op, 3);
  int64_t N = l.batch, H = l.hidden, R = l.recurrent();
  // The gradient of each layer's output, from the last layer down.
  Vec dy = dout.data;
  for (int64_t layer = l.layers - 1; layer >= 0; --layer) {
    Vec dinput(l.seqLen * N * l.layerInput(layer), 0.0);
    for (int64_t dir = 0; dir < l.dirs; ++dir) {
      int64_t ld = layer * l.dirs + dir;
      double *dh = &dhx.data[ld * N * R], *dc = cx ? &dcx.data[ld * N * H] : nullptr;
      std::copy(&dhy.data[ld * N * R], &dhy.data[(ld + 1) * N * R], dh);
      if (dc)
        std::copy(&dcy->data[ld * N * H], &dcy->data[(ld + 1) * N * H], dc);
      backwardDirection(l, layer, dir, inputs[layer], w.data.data(), records[ld], steps, dy, dh,
                        dc, dinput, dw.data.data());
    }
    dy = std::move(dinput);
    // The layer below's output went through its dropout mask.
    if (mask && layer > 0)
      applyMask(dy, *mask, layer - 1);
  }
  dx.data = std::move(dy);
  env.setResult(op, 0, std::move(dx));
  env.setResult(op, 1, std::move(dw));
  env.setResult(op, 2, std::move(dhx));
  if (cx)
    env.setResult(op, 3, std::move(dcx));
}

void runParamConcat(OpEnv &env, g::RNNParamConcatOp op) {
  Array out = env.makeResult(op);
  int64_t rank = out.shape.size();
  int64_t dim = normalizeAxis(op, op.getDim(), rank);
  int64_t outer = extent(out.shape, 0, dim), inner = extent(out.shape, dim + 1, rank);
  int64_t offset = 0;
  for (Value v : op.getInputs()) {
    const Array &in = env.get(op, v);
    int64_t len = in.shape[dim];
    for (int64_t o = 0; o < outer; ++o)
      std::copy(&in.data[o * len * inner], &in.data[(o + 1) * len * inner],
                &out.data[(o * out.shape[dim] + offset) * inner]);
    offset += len;
  }
  env.setResult(op, 0, std::move(out));
}

} // namespace

bool interpretRNNOp(OpEnv &env, Operation *op) {
  return llvm::TypeSwitch<Operation *, bool>(op)
      .Case([&](g::RNNOp o) {
        runRNN(env, o);
        return true;
      })
      .Case([&](g::RNNGradOp o) {
        runRNNGrad(env, o);
        return true;
      })
      .Case([&](g::RNNParamConcatOp o) {
        runParamConcat(env, o);
        return true;
      })
      .Default([](Operation *) { return false; });
}

} // namespace kiln::ref
