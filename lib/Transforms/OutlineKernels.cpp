//===- OutlineKernels.cpp - kiln-outline-kernels --------------------------===//
//
// Turns the model function into a schedule of kernel calls: the shape the
// memory planner, the executable builder and the JIT all work on.
//
//===----------------------------------------------------------------------===//

#include "Transforms/OutlineKernels.h"
#include "Transforms/Fusion.h"
#include "Transforms/Passes.h"
#include "Graph/GraphOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"

namespace kiln {
#define GEN_PASS_DEF_OUTLINEKERNELS
#include "Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

std::string kiln::nodeNameOf(Location loc) {
  std::string found;
  loc->walk([&](Location l) {
    if (auto name = dyn_cast<NameLoc>(l)) {
      found = name.getName().getValue().str();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return found;
}

static bool isGraphOp(Operation *op) {
  return op->getDialect() && isa<graph::GraphDialect>(op->getDialect());
}

static bool isStaticTensor(Type t) {
  auto r = dyn_cast<RankedTensorType>(t);
  return r && r.hasStaticShape();
}

FailureOr<func::CallOp> kiln::outlineKernelGroup(func::FuncOp parent, ArrayRef<Operation *> ops,
                                                 StringRef name) {
  assert(!ops.empty() && "a kernel group needs an op");
  llvm::SmallPtrSet<Operation *, 8> inGroup(ops.begin(), ops.end());
  llvm::SetVector<Value> inputs;
  SmallVector<Value> outputs;
  for (Operation *op : ops) {
    for (Type t : llvm::concat<const Type>(op->getOperandTypes(), op->getResultTypes()))
      if (!isStaticTensor(t))
        return op->emitOpError() << "cannot become a kernel: " << t
                                 << " is not a static tensor (run kiln-graph-infer-shapes first)";
    for (Value v : op->getOperands())
      if (!inGroup.contains(v.getDefiningOp()))
        inputs.insert(v);
    for (Value r : op->getResults()) {
      bool usedOutside = llvm::any_of(r.getUsers(), [&](Operation *u) { return !inGroup.contains(u); });
      if (usedOutside || r.use_empty())
        outputs.push_back(r);
    }
  }

  MLIRContext *ctx = parent.getContext();
  if (SymbolTable::lookupSymbolIn(parent->getParentOfType<ModuleOp>(), name))
    return parent.emitError() << "kernel name @" << name << " is already taken";
  OpBuilder b(ctx);
  // Appended, so kernels read top to bottom in schedule order.
  b.setInsertionPointToEnd(parent->getParentOfType<ModuleOp>().getBody());
  SmallVector<Type> inTypes, outTypes;
  for (Value v : inputs)
    inTypes.push_back(v.getType());
  for (Value v : outputs)
    outTypes.push_back(v.getType());
  Location loc = ops.size() == 1 ? ops.front()->getLoc()
                                 : FusedLoc::get(ctx, llvm::map_to_vector(ops, [](Operation *o) {
                                     return o->getLoc();
                                   }));
  auto kernel = func::FuncOp::create(b, loc, name, b.getFunctionType(inTypes, outTypes));
  kernel.setPrivate();

  Block *entry = kernel.addEntryBlock();
  IRMapping map;
  for (auto [v, arg] : llvm::zip(inputs, entry->getArguments()))
    map.map(v, arg);
  b.setInsertionPointToEnd(entry);
  for (Operation *op : ops)
    b.clone(*op, map)->removeAttr(kFusionGroupAttr);
  func::ReturnOp::create(b, loc, llvm::map_to_vector(outputs, [&](Value v) {
                           return map.lookup(v);
                         }));

  std::string opNames;
  for (Operation *op : ops)
    opNames += (opNames.empty() ? "" : "+") + op->getName().getStringRef().str();
  kernel->setAttr("kiln.kernel", b.getUnitAttr());
  kernel->setAttr("kiln.node_name", b.getStringAttr(nodeNameOf(loc)));
  kernel->setAttr("kiln.op_name", b.getStringAttr(opNames));
  // In-place permissions in kernel-argument terms. A result may overwrite
  // kernel input `a` when the path from `a` to it runs through ops that each
  // allow their result to overwrite the operand on the path
  // (InPlaceOpInterface), no other op of the group reads `a`, and `a` is read
  // by the group's first op. Then every element of `a` is read, at the
  // output's index, before that index is written. The last condition matters
  // because bufferization may compute any op of the group in the result's
  // buffer (destination passing: a convolution accumulates into the buffer
  // its epilogue finally writes), and it cannot see that `a` aliases that
  // buffer: in `relu(elemwise_add(skip, bn(conv(x))))` the convolution would
  // overwrite `skip` before the add reads it. For one op this is exactly the
  // op's own hint.
  SmallVector<int64_t> inPlace(outputs.size(), -1);
  for (unsigned i = 0; i < outputs.size(); ++i) {
    Value v = outputs[i];
    Operation *reader = nullptr;
    while (inGroup.contains(v.getDefiningOp())) {
      reader = v.getDefiningOp();
      auto iface = dyn_cast<graph::InPlaceOpInterface>(reader);
      std::optional<unsigned> k =
          iface ? iface.getInPlaceOperand(cast<OpResult>(v).getResultNumber()) : std::nullopt;
      if (!k) {
        v = Value();
        break;
      }
      v = reader->getOperand(*k);
    }
    if (!v || reader != ops.front())
      continue;
    unsigned readers = llvm::count_if(ops, [&](Operation *op) {
      return llvm::is_contained(op->getOperands(), v);
    });
    if (readers == 1)
      inPlace[i] = llvm::find(inputs.getArrayRef(), v) - inputs.getArrayRef().begin();
  }
  kernel->setAttr("kiln.inplace", b.getDenseI64ArrayAttr(inPlace));

  b.setInsertionPoint(ops.back());
  auto call = func::CallOp::create(b, loc, kernel, inputs.getArrayRef());
  for (auto [v, r] : llvm::zip(outputs, call.getResults()))
    v.replaceAllUsesWith(r);
  for (Operation *op : llvm::reverse(ops)) {
    assert(op->use_empty() && "a group result is used outside but was not made an output");
    op->erase();
  }
  return call;
}

/// Every output gets its own producing graph op, so the runtime writes each
/// caller buffer exactly once from a kernel and never needs a copy step.
static LogicalResult giveOutputsProducers(func::FuncOp func) {
  auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
  OpBuilder b(ret);
  llvm::SmallPtrSet<Value, 8> seen;
  for (OpOperand &operand : ret->getOpOperands()) {
    Value v = operand.get();
    Operation *def = v.getDefiningOp();
    bool fine = def && isGraphOp(def) && seen.insert(v).second;
    if (fine)
      continue;
    if (!isStaticTensor(v.getType()) || !isa<FloatType>(cast<TensorType>(v.getType()).getElementType()))
      return ret.emitOpError() << "result #" << operand.getOperandNumber() << " of type "
                               << v.getType() << " cannot be copied into an output buffer";
    unsigned i = operand.getOperandNumber();
    std::string name = "output" + std::to_string(i);
    if (auto n = func.getResultAttrOfType<StringAttr>(i, "graph.name"))
      name = n.getValue().str();
    Location loc = NameLoc::get(b.getStringAttr(name), ret.getLoc());
    operand.set(graph::IdentityOp::create(b, loc, v.getType(), v).getResult());
  }
  return success();
}

LogicalResult kiln::outlineKernels(ModuleOp module, StringRef entry) {
  auto func = module.lookupSymbol<func::FuncOp>(entry);
  if (!func || func.isExternal())
    return module.emitError() << "kiln-outline-kernels: no function @" << entry << " with a body";
  if (!func.getBody().hasOneBlock())
    return func.emitError("kiln-outline-kernels: the model function must have one block");
  if (failed(giveOutputsProducers(func)))
    return failure();

  // One kernel per fusion group (kiln-graph-fuse) and per other graph op.
  FailureOr<std::vector<FusionGroup>> groups = collectKernelGroups(func);
  if (failed(groups))
    return failure();
  SymbolTable symbols(module);
  unsigned next = 0;
  for (const FusionGroup &group : *groups) {
    std::string name;
    do
      name = kKernelPrefix + std::to_string(next++);
    while (symbols.lookup(name));
    if (failed(outlineKernelGroup(func, group, name)))
      return failure();
  }
  return success();
}

namespace {
struct OutlineKernelsPass : kiln::impl::OutlineKernelsBase<OutlineKernelsPass> {
  using Base::Base;
  void runOnOperation() override {
    unsigned before = 0, after = 0;
    getOperation().walk([&](func::FuncOp f) { before += f->hasAttr("kiln.kernel"); });
    if (failed(outlineKernels(getOperation(), entry)))
      return signalPassFailure();
    getOperation().walk([&](func::FuncOp f) { after += f->hasAttr("kiln.kernel"); });
    numKernels += after - before;
  }
};
} // namespace
