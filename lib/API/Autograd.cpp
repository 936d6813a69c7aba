//===- Autograd.cpp - Imperative autodiff through the graph dialect -------===//
//
// Recording keeps, per eager call, a TapeNode (op, attributes, inputs). On
// backward() the nodes reachable from the heads become one MXNet graph:
//
//   leaves with a gradient buffer → variables "p<k>" (params, differentiated)
//   other leaves                  → variables "x<k>" (inputs; aux states
//                                   when they feed BatchNorm's aux slots)
//   recorded ops                  → nodes "n<k>"
//
// which is imported, differentiated by kiln-autodiff (the same pass the
// Executor uses) and compiled. The function recomputes the forward from the
// leaves (the recorded arrays' own values are not kept), so a leaf
// overwritten after its use is detected by its chunk version and refused.
// The compiled function is cached by the graph's structure and shapes, so a
// training loop that records the same ops every step compiles once.
//
// Dropout never reaches the tape as Dropout: nd::invoke records it as a
// multiply by the mask it drew, so the backward uses the very same mask.
//
//===----------------------------------------------------------------------===//

#include "API/NDArrayInternal.h"

#include "Compiler/Diagnostics.h"
#include "Compiler/JitModel.h"
#include "Graph/GraphOps.h"
#include "Import/Import.h"
#include "Import/OpCatalog.h"
#include "Transforms/Autodiff.h"
#include "kiln/Error.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

using namespace mlir;

namespace kiln {
namespace autograd {
namespace {
thread_local bool recordingFlag = false;
thread_local bool trainingFlag = false;
} // namespace

RecordScope::RecordScope(bool train) : prevRecording(recordingFlag), prevTraining(trainingFlag) {
  recordingFlag = true;
  trainingFlag = train;
}
RecordScope::~RecordScope() {
  recordingFlag = prevRecording;
  trainingFlag = prevTraining;
}
PauseScope::PauseScope(bool train) : prevRecording(recordingFlag), prevTraining(trainingFlag) {
  recordingFlag = false;
  trainingFlag = train;
}
PauseScope::~PauseScope() {
  recordingFlag = prevRecording;
  trainingFlag = prevTraining;
}
bool isRecording() { return recordingFlag; }
bool isTraining() { return trainingFlag; }
} // namespace autograd

namespace detail {

void checkRecordedWrite(const NDArray &out, const std::string &op) {
  if (!out.empty() && out.implPtr()->gradReq != GradReq::Null)
    throw Error(op + ": an array with a gradient buffer (attachGrad) cannot be written in place "
                     "while autograd is recording; compute a new array instead");
}

void recordOp(const std::string &op, const nd::AttrMap &attrs, const std::vector<NDArray> &inputs,
              const std::vector<NDArray> &outputs, bool training,
              const std::vector<uint64_t> *inputVersions) {
  if (training && op == "LeakyReLU") {
    auto it = attrs.find("act_type");
    if (it != attrs.end() && it->second == "rrelu")
      throw Error("LeakyReLU rrelu cannot be recorded in training mode (its random slopes are "
                  "not replayed by backward); record it with RecordScope(false)");
  }
  auto node = std::make_shared<TapeNode>();
  node->op = op;
  node->attrs = attrs;
  node->training = training;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto &impl = inputs[i].implPtr();
    TapeInput in;
    if (impl->producer) {
      in.node = impl->producer;
      in.output = impl->producerOutput;
    } else {
      in.leaf = impl;
      in.leafVersion = inputVersions ? (*inputVersions)[i]
                                     : impl->chunk->version.load(std::memory_order_relaxed);
    }
    node->inputs.push_back(std::move(in));
  }
  for (size_t o = 0; o < outputs.size(); ++o) {
    const auto &impl = outputs[o].implPtr();
    node->outputShapes.push_back(impl->shape);
    impl->producer = node;
    impl->producerOutput = static_cast<int64_t>(o);
  }
}

namespace {

/// The recorded graph of some heads, flattened.
struct TapeGraph {
  std::vector<const TapeNode *> nodes; // topological
  std::vector<std::shared_ptr<NDArrayImpl>> leaves;
  std::vector<uint64_t> leafVersions;
  std::vector<bool> leafIsAux;
  std::unordered_map<const TapeNode *, size_t> nodeIndex;
  std::unordered_map<const NDArrayImpl *, size_t> leafIndex;
  bool training = false;

  void addLeaf(const TapeInput &in, const TapeNode &user, size_t slot) {
    auto [it, fresh] = leafIndex.emplace(in.leaf.get(), leaves.size());
    if (fresh) {
      leaves.push_back(in.leaf);
      leafVersions.push_back(in.leafVersion);
      leafIsAux.push_back(false);
    } else if (leafVersions[it->second] != in.leafVersion) {
      throw Error("autograd: an array read by the recorded " + user.op +
                  " was modified in place between two recorded uses; compute a new array "
                  "instead of writing over it");
    }
    const mx::OpInfo *info = mx::lookupOp(user.op);
    if (info && slot + info->numAuxInputs >= user.inputs.size())
      leafIsAux[it->second] = true;
  }

  void visit(const std::shared_ptr<TapeNode> &n) {
    // Iterative post-order: recorded graphs can be deep (long loops).
    std::vector<std::pair<const TapeNode *, size_t>> stack{{n.get(), 0}};
    std::unordered_set<const TapeNode *> onStack{n.get()};
    if (nodeIndex.count(n.get()))
      return;
    while (!stack.empty()) {
      auto &[node, next] = stack.back();
      if (next < node->inputs.size()) {
        const TapeInput &in = node->inputs[next++];
        if (in.node) {
          if (!nodeIndex.count(in.node.get()) && onStack.insert(in.node.get()).second)
            stack.push_back({in.node.get(), 0});
        }
        continue;
      }
      for (size_t i = 0; i < node->inputs.size(); ++i)
        if (!node->inputs[i].node)
          addLeaf(node->inputs[i], *node, i);
      nodeIndex[node] = nodes.size();
      nodes.push_back(node);
      stack.pop_back();
    }
  }
};

std::string leafName(const TapeGraph &t, size_t leaf) {
  return (t.leaves[leaf]->gradReq != GradReq::Null ? "p" : "x") + std::to_string(leaf);
}

/// A compiled backward function and where its arguments and results go.
struct BackwardKernel {
  std::unique_ptr<JitModel> model;
  /// Per function argument: leaf index, or head-gradient index (~i).
  std::vector<int64_t> args;
  /// Per function result: the leaf whose gradient it is, or -1 (a head or
  /// an aux update, not wanted).
  std::vector<int64_t> gradLeaf;
  std::vector<int64_t> resultElements;
  std::vector<std::vector<int64_t>> headGradShapes; // per head-gradient argument
  std::vector<size_t> headGradHead;                 // which head it belongs to
};

class BackwardCache {
public:
  static BackwardCache &get() {
    static BackwardCache *c = new BackwardCache();
    return *c;
  }

  const BackwardKernel &lookup(const std::string &key, const TapeGraph &t,
                               const std::vector<std::pair<size_t, int64_t>> &heads) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = entries.find(key);
    if (it != entries.end())
      return *it->second;
    auto k = compile(t, heads);
    const BackwardKernel &ref = *k;
    entries.emplace(key, std::move(k));
    return ref;
  }

private:
  BackwardCache() { context.loadDialect<graph::GraphDialect, func::FuncDialect>(); }
  std::unique_ptr<BackwardKernel> compile(const TapeGraph &t,
                                          const std::vector<std::pair<size_t, int64_t>> &heads);

  MLIRContext context;
  std::mutex mu;
  std::unordered_map<std::string, std::unique_ptr<BackwardKernel>> entries;
};

std::unique_ptr<BackwardKernel>
BackwardCache::compile(const TapeGraph &t, const std::vector<std::pair<size_t, int64_t>> &heads) {
  mx::Graph g;
  ImportOptions options;
  options.fileName = "<autograd>";
  std::vector<std::string> wrt;
  for (size_t l = 0; l < t.leaves.size(); ++l) {
    mx::Node var;
    var.op = "null";
    var.name = leafName(t, l);
    g.nodes.push_back(var);
    bool param = t.leaves[l]->gradReq != GradReq::Null;
    if (param)
      wrt.push_back(var.name);
    (param || t.leafIsAux[l] ? options.paramShapes : options.inputShapes)[var.name] =
        t.leaves[l]->shape;
  }
  size_t base = g.nodes.size();
  for (size_t n = 0; n < t.nodes.size(); ++n) {
    const TapeNode &tn = *t.nodes[n];
    mx::Node node;
    node.op = tn.op;
    node.name = "n" + std::to_string(n);
    node.attrs = tn.attrs;
    for (const TapeInput &in : tn.inputs)
      node.inputs.push_back(in.node ? mx::NodeEntry{(int64_t)(base + t.nodeIndex.at(in.node.get())),
                                                    in.output}
                                    : mx::NodeEntry{(int64_t)t.leafIndex.at(in.leaf.get()), 0});
    g.nodes.push_back(std::move(node));
  }
  for (auto [n, o] : heads)
    g.heads.push_back({(int64_t)(base + n), o});

  OwningOpRef<ModuleOp> module = importGraph(context, g, options);
  auto main = module->lookupSymbol<func::FuncOp>("main");
  {
    DiagnosticCollector diagnostics(&context);
    // Recorded in predict mode: BatchNorm keeps its moving statistics.
    if (!t.training)
      main->setAttr(kTrainingModeAttr, UnitAttr::get(&context));
    AutodiffOptions ad;
    ad.wrt = wrt;
    if (failed(differentiate(main, ad)))
      diagnostics.fail("autograd: differentiating the recorded graph failed");
  }

  auto k = std::make_unique<BackwardKernel>();
  std::map<std::string, size_t> leafByName, headByGradName;
  for (size_t l = 0; l < t.leaves.size(); ++l)
    leafByName[leafName(t, l)] = l;
  for (size_t h = 0; h < heads.size(); ++h)
    headByGradName[resultName(main, h) + "_grad"] = h;
  for (unsigned i = 0; i < main.getNumArguments(); ++i) {
    std::string name = argName(main, i);
    auto kind = main.getArgAttrOfType<StringAttr>(i, kGraphKindAttr);
    if (kind && kind.getValue() == kHeadGradKind) {
      auto type = cast<RankedTensorType>(main.getArgumentTypes()[i]);
      k->args.push_back(~(int64_t)k->headGradShapes.size());
      k->headGradShapes.emplace_back(type.getShape().begin(), type.getShape().end());
      k->headGradHead.push_back(headByGradName.at(name));
      continue;
    }
    if (kind && kind.getValue() == kRngCounterKind)
      throw Error("autograd: the recorded graph draws random numbers in backward, which "
                  "cannot replay the forward's");
    k->args.push_back((int64_t)leafByName.at(name));
  }
  for (unsigned r = 0; r < main.getNumResults(); ++r) {
    auto type = cast<RankedTensorType>(main.getResultTypes()[r]);
    k->resultElements.push_back(type.getNumElements());
    auto kind = main.getResultAttrOfType<StringAttr>(r, kGraphKindAttr);
    if (kind && kind.getValue() == kGradKind)
      k->gradLeaf.push_back((int64_t)leafByName.at(resultName(main, r)));
    else
      k->gradLeaf.push_back(-1);
  }
  k->model = JitModel::compile(*module);
  return k;
}

std::string backwardKey(const TapeGraph &t, const std::vector<std::pair<size_t, int64_t>> &heads) {
  std::string key;
  key.reserve(256);
  key.push_back(t.training ? 'T' : 'I');
  for (size_t l = 0; l < t.leaves.size(); ++l) {
    key.push_back(t.leaves[l]->gradReq != GradReq::Null ? 'p' : 'x');
    for (int64_t d : t.leaves[l]->shape)
      key.append(std::to_string(d)).push_back(',');
    key.push_back(';');
  }
  for (const TapeNode *n : t.nodes) {
    key.append(n->op).push_back('(');
    for (const auto &[a, v] : n->attrs)
      key.append(a).append("=").append(v).push_back(',');
    key.push_back(':');
    for (const TapeInput &in : n->inputs) {
      if (in.node)
        key.append("n").append(std::to_string(t.nodeIndex.at(in.node.get())))
            .append(".")
            .append(std::to_string(in.output));
      else
        key.append("l").append(std::to_string(t.leafIndex.at(in.leaf.get())));
      key.push_back(',');
    }
    key.push_back(')');
  }
  for (auto [n, o] : heads)
    key.append("h").append(std::to_string(n)).append(".").append(std::to_string(o));
  return key;
}

} // namespace
} // namespace detail

namespace autograd {

void backward(const std::vector<NDArray> &heads, const std::vector<NDArray> &headGrads,
              bool retainGraph) {
  using namespace detail;
  if (heads.empty())
    throw Error("autograd::backward: no heads given");
  if (!headGrads.empty() && headGrads.size() != heads.size())
    throw Error("autograd::backward: " + std::to_string(heads.size()) + " heads but " +
                std::to_string(headGrads.size()) + " head gradients");
  TapeGraph t;
  std::vector<std::pair<size_t, int64_t>> headEntries;
  for (size_t h = 0; h < heads.size(); ++h) {
    checkUsable(heads[h], "autograd::backward: head " + std::to_string(h));
    const auto &impl = heads[h].implPtr();
    if (!impl->producer)
      throw Error("autograd::backward: head " + std::to_string(h) +
                  " was not computed by a recorded op (call the ops inside an "
                  "autograd::RecordScope, and backward() only once unless retainGraph)");
    t.visit(impl->producer);
  }
  for (const NDArray &h : heads)
    headEntries.push_back({t.nodeIndex.at(h.implPtr()->producer.get()), h.implPtr()->producerOutput});

  bool anyGrad = false;
  for (size_t l = 0; l < t.leaves.size(); ++l) {
    anyGrad = anyGrad || t.leaves[l]->gradReq != GradReq::Null;
    if (t.leaves[l]->chunk->version.load() != t.leafVersions[l])
      throw Error("autograd::backward: an input of the recorded graph (shape " +
                  formatShape(t.leaves[l]->shape) +
                  ") was modified in place after it was recorded; backward recomputes from "
                  "the recorded inputs, so compute new arrays instead of overwriting them");
  }
  if (!anyGrad)
    throw Error("autograd::backward: nothing the heads depend on has a gradient buffer "
                "(call attachGrad() on the arrays to differentiate)");
  bool sawTrain = false, sawPredict = false;
  for (const TapeNode *n : t.nodes)
    if (hasTrainingMode(n->op, n->attrs))
      (n->training ? sawTrain : sawPredict) = true;
  if (sawTrain && sawPredict)
    throw Error("autograd::backward: the recorded graph mixes ops recorded in training and in "
                "predict mode; record one graph in one mode");
  t.training = sawTrain;

  const BackwardKernel &k = BackwardCache::get().lookup(backwardKey(t, headEntries), t, headEntries);

  // What the pushed op holds: leaves, head gradients, gradient buffers and
  // scratch for the results nobody keeps.
  struct Call {
    const BackwardKernel *k;
    std::vector<std::shared_ptr<Chunk>> keep;
    std::vector<void *> args, results;
    struct Accumulate {
      float *dst;
      const float *src;
      int64_t n;
    };
    std::vector<Accumulate> adds;
  };
  auto call = std::make_shared<Call>();
  call->k = &k;
  std::vector<rt::VarHandle> reads, writes;
  std::vector<NDArray> headGradArrays;
  for (size_t i = 0; i < k.headGradShapes.size(); ++i) {
    size_t h = k.headGradHead[i];
    NDArray g = headGrads.empty() || headGrads[h].empty() ? nd::ones(k.headGradShapes[i])
                                                          : headGrads[h];
    if (g.shape() != k.headGradShapes[i])
      throw Error("autograd::backward: head gradient " + std::to_string(h) + " has shape " +
                  formatShape(g.shape()) + " but the head has shape " +
                  formatShape(k.headGradShapes[i]));
    headGradArrays.push_back(g);
  }
  for (int64_t a : k.args) {
    const std::shared_ptr<NDArrayImpl> &impl =
        a >= 0 ? t.leaves[a] : headGradArrays[~a].implPtr();
    call->args.push_back(impl->data());
    call->keep.push_back(impl->chunk);
    reads.push_back(impl->var());
  }
  for (size_t r = 0; r < k.gradLeaf.size(); ++r) {
    int64_t l = k.gradLeaf[r];
    const NDArrayImpl *leaf = l >= 0 ? t.leaves[l].get() : nullptr;
    if (leaf && leaf->gradReq == GradReq::Write) {
      call->results.push_back(leaf->grad->data());
      call->keep.push_back(leaf->grad->chunk);
      writes.push_back(leaf->grad->var());
      continue;
    }
    auto scratch = Chunk::allocate(k.resultElements[r]);
    call->results.push_back(scratch->data);
    if (leaf && leaf->gradReq == GradReq::Add) {
      call->adds.push_back({leaf->grad->data(), scratch->data, k.resultElements[r]});
      call->keep.push_back(leaf->grad->chunk);
      writes.push_back(leaf->grad->var());
    }
    call->keep.push_back(std::move(scratch));
  }
  engine().push(
      [call](const rt::RunContext &) {
        call->k->model->runOnThisThread(call->args.data(), call->results.data());
        for (const auto &a : call->adds)
          for (int64_t i = 0; i < a.n; ++i)
            a.dst[i] += a.src[i];
      },
      std::move(reads), std::move(writes), rt::Device::cpu(), 0,
      {"backward", "autograd", std::to_string(t.nodes.size()) + " recorded ops"});

  if (!retainGraph)
    for (const NDArray &h : heads)
      h.implPtr()->producer.reset();
}

} // namespace autograd

void NDArray::attachGrad(GradReq req) {
  if (!impl)
    throw Error("NDArray::attachGrad on an empty NDArray");
  impl->gradReq = req;
  if (req == GradReq::Null) {
    impl->grad.reset();
    return;
  }
  impl->grad = nd::zeros(impl->shape).implPtr();
  // A leaf from now on: its gradient is relative to it, as in MXNet.
  impl->producer.reset();
}

NDArray NDArray::grad() const {
  if (!impl || !impl->grad)
    throw Error("NDArray::grad: the array has no gradient buffer; call attachGrad() first");
  return NDArray(impl->grad);
}

void NDArray::backward(const NDArray &headGrad, bool retainGraph) const {
  autograd::backward({*this}, {headGrad}, retainGraph);
}

NDArray NDArray::detach() const {
  if (!impl)
    return NDArray();
  return NDArray(detail::viewOf(impl->chunk, impl->offset, impl->shape));
}

} // namespace kiln
