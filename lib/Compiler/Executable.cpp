//===- Executable.cpp - exec::Plan from an outlined module ----------------===//

#include "Compiler/Executable.h"

#include "Compiler/Diagnostics.h"
#include "Transforms/Fusion.h"
#include "Transforms/OutlineKernels.h"
#include "kiln/Error.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <map>
#include <set>

using namespace mlir;
using namespace kiln;
using exec::SlotKind;


static std::optional<exec::DType> dtypeOf(Type t) {
  Type e = cast<ShapedType>(t).getElementType();
  if (e.isF32()) return exec::DType::F32;
  if (e.isF64()) return exec::DType::F64;
  if (e.isF16()) return exec::DType::F16;
  if (e.isBF16()) return exec::DType::BF16;
  if (e.isSignlessInteger(8) || e.isSignedInteger(8)) return exec::DType::I8;
  if (e.isUnsignedInteger(8)) return exec::DType::U8;
  if (e.isSignlessInteger(32) || e.isSignedInteger(32)) return exec::DType::I32;
  if (e.isSignlessInteger(64) || e.isSignedInteger(64)) return exec::DType::I64;
  return std::nullopt;
}

static std::string typeStr(Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << t;
  return s;
}

/// Raw little-endian bytes of a dense constant, splats expanded.
static std::vector<uint8_t> constantBytes(DenseElementsAttr attr, int64_t elemBytes) {
  std::vector<uint8_t> out;
  out.reserve(attr.getNumElements() * elemBytes);
  auto put = [&](const APInt &bits) {
    uint64_t v = bits.getZExtValue();
    for (int64_t i = 0; i < elemBytes; ++i)
      out.push_back(static_cast<uint8_t>(v >> (8 * i)));
  };
  if (isa<FloatType>(attr.getElementType()))
    for (APFloat f : attr.getValues<APFloat>())
      put(f.bitcastToAPInt());
  else
    for (APInt i : attr.getValues<APInt>())
      put(i);
  return out;
}

exec::Plan kiln::buildExecutablePlan(ModuleOp module, const ExecutableOptions &options) {
  DiagnosticCollector diags(module.getContext());
  auto func = module.lookupSymbol<func::FuncOp>(options.entry);
  if (!func || func.isExternal())
    throw Error("executable: the module has no function @" + options.entry + " with a body");
  std::string where = "executable @" + options.entry;

  for (Operation &op : func.getBody().front()) {
    if (isa<func::ReturnOp>(op) || op.hasTrait<OpTrait::ConstantLike>())
      continue;
    auto call = dyn_cast<func::CallOp>(op);
    auto callee = call ? module.lookupSymbol<func::FuncOp>(call.getCalleeAttr()) : func::FuncOp();
    if (!callee || !callee->hasAttr("kiln.kernel")) {
      std::string node = nodeNameOf(op.getLoc());
      throw Error(where + ": op " + op.getName().getStringRef().str() +
                  (node.empty() ? "" : " (node '" + node + "')") +
                  " is not a kernel call; run kiln-outline-kernels first");
    }
  }

  FailureOr<FunctionMemoryPlan> mp = planFunctionMemory(func, options.memory);
  if (failed(mp))
    diags.fail(where + ": memory planning failed");
  const memplan::Assignment &as = mp->assignment;

  exec::Plan plan;
  plan.alignment = options.memory.alignment;
  plan.arenaBytes = as.arenaBytes;
  for (size_t b = 0; b < as.blockBytes.size(); ++b)
    plan.storages.push_back({SlotKind::Arena, as.blockOffset[b], as.blockBytes[b]});

  // Kind and index of every external value.
  Block &body = func.getBody().front();
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  std::map<unsigned, unsigned> outputIndex; // tensor id -> output position
  for (OpOperand &o : ret->getOpOperands()) {
    unsigned id = mp->tensorIds.lookup(o.get());
    if (!outputIndex.emplace(id, o.getOperandNumber()).second || isa<BlockArgument>(o.get()) ||
        o.get().getDefiningOp()->hasTrait<OpTrait::ConstantLike>())
      throw Error(where + ": result #" + std::to_string(o.getOperandNumber()) +
                  " is not produced by its own kernel call; run kiln-outline-kernels first");
  }

  std::vector<uint32_t> slotOf(mp->values.size());
  plan.outputSlots.assign(ret.getNumOperands(), 0);
  for (size_t id = 0; id < mp->values.size(); ++id) {
    Value v = mp->values[id];
    exec::Slot slot;
    auto dtype = dtypeOf(v.getType());
    if (!dtype)
      throw Error(where + ": unsupported element type in " + typeStr(v.getType()));
    auto shapeRef = cast<RankedTensorType>(v.getType()).getShape();
    slot.shape.assign(shapeRef.begin(), shapeRef.end());
    slot.dtype = *dtype;
    slot.bytes = mp->problem.tensors[id].bytes;

    exec::Storage ext;
    ext.bytes = slot.bytes;
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      unsigned i = arg.getArgNumber();
      auto name = func.getArgAttrOfType<StringAttr>(i, "graph.name");
      auto kind = func.getArgAttrOfType<StringAttr>(i, "graph.kind");
      slot.name = name ? name.getValue().str() : "arg" + std::to_string(i);
      bool isParam = kind && (kind.getValue() == "param" || kind.getValue() == "aux");
      auto &list = isParam ? plan.paramSlots : plan.inputSlots;
      ext.kind = isParam ? SlotKind::Param : SlotKind::Input;
      ext.index = list.size();
      list.push_back(plan.slots.size());
    } else if (v.getDefiningOp()->hasTrait<OpTrait::ConstantLike>()) {
      DenseElementsAttr attr;
      if (!matchPattern(v, m_Constant(&attr)))
        throw Error(where + ": constant of type " + typeStr(v.getType()) +
                    " is not a dense elements constant");
      slot.name = nodeNameOf(v.getLoc());
      if (slot.name.empty())
        slot.name = "constant" + std::to_string(plan.constants.size());
      ext.kind = SlotKind::Constant;
      ext.index = plan.constants.size();
      plan.constants.push_back({slot.name, constantBytes(attr, exec::dtypeBytes(*dtype))});
    } else {
      auto res = cast<OpResult>(v);
      slot.name = nodeNameOf(v.getLoc());
      if (res.getOwner()->getNumResults() > 1)
        slot.name += ":" + std::to_string(res.getResultNumber());
      auto out = outputIndex.find(id);
      if (out == outputIndex.end()) {
        slot.storage = (uint32_t)as.storage[id];
        slotOf[id] = plan.slots.size();
        plan.slots.push_back(std::move(slot));
        continue;
      }
      if (auto name = func.getResultAttrOfType<StringAttr>(out->second, "graph.name"))
        slot.name = name.getValue().str();
      ext.kind = SlotKind::Output;
      ext.index = out->second;
      plan.outputSlots[out->second] = plan.slots.size();
    }
    slot.storage = plan.storages.size();
    plan.storages.push_back(ext);
    slotOf[id] = plan.slots.size();
    plan.slots.push_back(std::move(slot));
  }

  std::map<std::string, uint32_t> kernelIndex;
  for (size_t s = 0; s < mp->steps.size(); ++s) {
    auto call = cast<func::CallOp>(mp->steps[s]);
    auto callee = module.lookupSymbol<func::FuncOp>(call.getCalleeAttr());
    std::string kname = call.getCallee().str();
    auto [it, fresh] = kernelIndex.emplace(kname, plan.kernelNames.size());
    if (fresh)
      plan.kernelNames.push_back(kname);
    exec::Step step;
    step.kernel = it->second;
    const memplan::Problem::Step &ps = mp->problem.steps[s];
    // Kernel arguments are the call operands, so a value passed twice is
    // passed twice: the packed ABI has one pointer per argument.
    for (unsigned t : ps.operands)
      step.args.push_back(slotOf[t]);
    step.numInputs = ps.operands.size();
    for (unsigned t : ps.results)
      step.args.push_back(slotOf[t]);
    std::set<uint32_t> reads, writes;
    for (size_t a = 0; a < step.args.size(); ++a)
      (a < step.numInputs ? reads : writes).insert(plan.slots[step.args[a]].storage);
    for (uint32_t w : writes)
      reads.erase(w);
    step.reads.assign(reads.begin(), reads.end());
    step.writes.assign(writes.begin(), writes.end());
    auto opName = callee->getAttrOfType<StringAttr>("kiln.op_name");
    step.opName = opName ? opName.getValue().str() : kname;
    step.nodeName = nodeNameOf(call.getLoc());
    if (step.nodeName.empty())
      if (auto n = callee->getAttrOfType<StringAttr>("kiln.node_name"))
        step.nodeName = n.getValue().str();
    plan.steps.push_back(std::move(step));
  }
  exec::validatePlan(plan);
  return plan;
}

OwningOpRef<ModuleOp> kiln::extractKernelModule(ModuleOp module) {
  OpBuilder b(module.getContext());
  OwningOpRef<ModuleOp> out = ModuleOp::create(b, module.getLoc());
  b.setInsertionPointToEnd(out->getBody());
  for (auto f : module.getOps<func::FuncOp>()) {
    if (!f->hasAttr("kiln.kernel"))
      continue;
    auto copy = cast<func::FuncOp>(b.clone(*f));
    copy.setPublic();
  }
  return out;
}

CompiledModel kiln::buildExecutable(ModuleOp module, const ExecutableOptions &options) {
  DiagnosticCollector diags(module.getContext());
  auto func = module.lookupSymbol<func::FuncOp>(options.entry);
  if (!func || func.isExternal())
    throw Error("executable: the module has no function @" + options.entry + " with a body");
  // Outlined: no graph ops left and kernel calls in their place. A function
  // with neither returns only its arguments (an identity network, a
  // training-mode Dropout(p = 0) of an input): outlining still has to give
  // each output a kernel that copies it into the output buffer.
  Block &body = func.getBody().front();
  bool outlined = llvm::none_of(body,
                                [](Operation &op) {
                                  return op.getDialect() &&
                                         op.getDialect()->getNamespace() == "graph";
                                }) &&
                  llvm::any_of(body, [](Operation &op) { return isa<func::CallOp>(op); });
  if (!outlined && options.fuse)
    (void)fuseGraph(func);
  if (!outlined && failed(outlineKernels(module, options.entry)))
    diags.fail("executable @" + options.entry + ": outlining kernels failed");
  CompiledModel m;
  m.plan = buildExecutablePlan(module, options);
  m.kernels = extractKernelModule(module);
  return m;
}

std::unique_ptr<exec::PlanExecutor> kiln::makePlanExecutor(exec::Plan plan,
                                                           const KernelLookup &lookup,
                                                           rt::Engine *engine) {
  std::vector<KernelFn> fns;
  for (const std::string &name : plan.kernelNames) {
    KernelFn fn = lookup ? lookup(name) : nullptr;
    if (!fn)
      throw Error("no compiled entry for kernel '" + name + "'");
    fns.push_back(fn);
  }
  return std::make_unique<exec::PlanExecutor>(std::move(plan), std::move(fns), engine);
}
