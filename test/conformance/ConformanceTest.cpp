//===- ConformanceTest.cpp - Every operator against MXNet 1.9.1 -----------===//
//
// Replays the cases generate.py wrote with MXNet 1.9.1 (cases/OP.json +
// cases/OP.f64; docs/conformance.md) on Kiln's three execution paths, without
// MXNet:
//
//   interpreter  the symbol imported as kiln-run imports it, in training mode
//                and differentiated (kiln-graph-training-mode, kiln-autodiff)
//                as the Executor does when the case asks, run by the float64
//                reference interpreter;
//   compiled     the same function through the CPU JIT and the plan executor
//                (kiln::JitModel, what the Executor and kiln-run run);
//   eager        nd::invoke(op, inputs, attrs) with the node's MXNet
//                attributes, under imperative autograd (attachGrad,
//                RecordScope, backward with the head gradients) for
//                backward cases.
//
// Each path is compared with MXNet's float64 outputs, input gradients and
// updated aux states, to the case's rtol/atol (the float32 paths) or to
// kInterpRtol/kInterpAtol (the interpreter, unless the case says otherwise).
// One gtest per case and path; ctest runs the suite in shards.
//
// Operators listed in pending.txt are skipped (Kiln does not import them
// yet); PendingList.OnlyUnsupportedOperators fails when one of them is
// imported after all, so the list only shrinks. known_failures.txt names the
// cases (and paths) where Kiln differs from MXNet today: they are skipped
// with their reason while they fail, and fail when they pass.
//
//===----------------------------------------------------------------------===//

#include "Compiler/JitModel.h"
#include "Import/Import.h"
#include "Import/MXNetGraph.h"
#include "Interpreter/Interpreter.h"
#include "Transforms/Autodiff.h"
#include "kiln/Error.h"
#include "kiln/NDArray.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/MLIRContext.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

using namespace kiln;

namespace {

// The interpreter computes in double like MXNet's float64 run, so only
// different summation orders and libm calls separate the two.
constexpr double kInterpRtol = 1e-6, kInterpAtol = 1e-8;

const std::string kDir = std::string(KILN_SOURCE_DIR) + "/test/conformance";

//===-- The case files ----------------------------------------------------===//

struct ArraySpec {
  std::string name, kind;
  std::vector<int64_t> shape;
  int64_t offset = 0;
};

struct CaseSpec {
  std::string op, file, name;
  /// The MXNet symbol JSON object, as text for parseSymbolJSON.
  std::string symbolJSON;
  bool train = false, backward = false;
  std::vector<ArraySpec> inputs, outputs, headGrads, grads, aux;
  double rtol = 1e-4, atol = 1e-5, interpRtol = kInterpRtol, interpAtol = kInterpAtol;
  std::string note;

  const ArraySpec *input(const std::string &n) const {
    for (const ArraySpec &a : inputs)
      if (a.name == n)
        return &a;
    return nullptr;
  }
};

[[noreturn]] void badFile(const std::string &path, const std::string &what) {
  throw Error(path + ": " + what);
}

std::string readText(const std::string &path) {
  auto buf = llvm::MemoryBuffer::getFile(path);
  if (!buf)
    badFile(path, "cannot read: " + buf.getError().message());
  return (*buf)->getBuffer().str();
}

std::vector<ArraySpec> readArrays(const llvm::json::Object &c, llvm::StringRef key,
                                  const std::string &where) {
  std::vector<ArraySpec> out;
  const llvm::json::Array *list = c.getArray(key);
  if (!list)
    return out;
  for (const llvm::json::Value &v : *list) {
    const llvm::json::Object *o = v.getAsObject();
    const llvm::json::Array *shape = o ? o->getArray("shape") : nullptr;
    std::optional<int64_t> offset = o ? o->getInteger("offset") : std::nullopt;
    if (!shape || !offset)
      badFile(where, "an entry of '" + key.str() + "' lacks shape or offset");
    ArraySpec a;
    a.offset = *offset;
    for (const llvm::json::Value &d : *shape)
      a.shape.push_back(*d.getAsInteger());
    if (auto n = o->getString("name"))
      a.name = n->str();
    if (auto k = o->getString("kind"))
      a.kind = k->str();
    out.push_back(std::move(a));
  }
  return out;
}

std::vector<CaseSpec> readCaseFile(const std::string &path) {
  llvm::Expected<llvm::json::Value> doc = llvm::json::parse(readText(path));
  if (!doc)
    badFile(path, "bad JSON: " + llvm::toString(doc.takeError()));
  const llvm::json::Object *top = doc->getAsObject();
  const llvm::json::Array *cases = top ? top->getArray("cases") : nullptr;
  std::optional<llvm::StringRef> op = top ? top->getString("operator") : std::nullopt;
  if (!cases || !op)
    badFile(path, "no 'operator' or 'cases'");
  std::vector<CaseSpec> out;
  for (const llvm::json::Value &v : *cases) {
    const llvm::json::Object *c = v.getAsObject();
    const llvm::json::Value *symbol = c ? c->get("symbol") : nullptr;
    std::optional<llvm::StringRef> name = c ? c->getString("name") : std::nullopt;
    if (!symbol || !name)
      badFile(path, "a case lacks 'name' or 'symbol'");
    CaseSpec s;
    s.op = op->str();
    s.file = llvm::sys::path::stem(path).str();
    s.name = name->str();
    llvm::raw_string_ostream os(s.symbolJSON);
    os << *symbol;
    std::string where = path + " (case " + s.name + ")";
    s.train = c->getBoolean("train").value_or(false);
    s.backward = c->getBoolean("backward").value_or(false);
    s.inputs = readArrays(*c, "inputs", where);
    s.outputs = readArrays(*c, "outputs", where);
    s.headGrads = readArrays(*c, "head_grads", where);
    s.grads = readArrays(*c, "grads", where);
    s.aux = readArrays(*c, "aux", where);
    s.rtol = c->getNumber("rtol").value_or(s.rtol);
    s.atol = c->getNumber("atol").value_or(s.atol);
    // MXNet computed this case in float32: the interpreter can be no closer.
    if (c->getString("mxnet_dtype").value_or("float64") != "float64") {
      s.interpRtol = s.rtol;
      s.interpAtol = s.atol;
    }
    s.interpRtol = c->getNumber("interp_rtol").value_or(s.interpRtol);
    s.interpAtol = c->getNumber("interp_atol").value_or(s.interpAtol);
    s.note = c->getString("note").value_or("").str();
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<std::string> caseFiles() {
  std::vector<std::string> files;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(kDir + "/cases", ec), end; it != end && !ec;
       it.increment(ec))
    if (llvm::sys::path::extension(it->path()) == ".json")
      files.push_back(it->path());
  std::sort(files.begin(), files.end());
  return files;
}

const std::vector<CaseSpec> &allCases() {
  static const std::vector<CaseSpec> cases = [] {
    std::vector<CaseSpec> all;
    for (const std::string &f : caseFiles())
      for (CaseSpec &c : readCaseFile(f))
        all.push_back(std::move(c));
    return all;
  }();
  return cases;
}

/// The float64 arrays of one operator file (cached: cases of a file run
/// one after another).
const std::vector<double> &caseData(const std::string &file) {
  static std::map<std::string, std::vector<double>> cache;
  auto it = cache.find(file);
  if (it != cache.end())
    return it->second;
  std::string path = kDir + "/cases/" + file + ".f64";
  std::string bytes = readText(path);
  std::vector<double> values(bytes.size() / sizeof(double));
  std::memcpy(values.data(), bytes.data(), values.size() * sizeof(double));
  return cache.emplace(file, std::move(values)).first->second;
}

ref::Array arrayOf(const CaseSpec &c, const ArraySpec &a) {
  const std::vector<double> &data = caseData(c.file);
  int64_t n = Tensor::numElements(a.shape);
  if (a.offset < 0 || a.offset + n > (int64_t)data.size())
    badFile(kDir + "/cases/" + c.file + ".f64",
            "case " + c.name + ": array '" + a.name + "' runs past the end of the file");
  return {a.shape, std::vector<double>(data.begin() + a.offset, data.begin() + a.offset + n)};
}

/// Lines of a list file without comments ('#' to the end of the line) and
/// surrounding blanks.
std::vector<std::string> listLines(const std::string &path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    line = line.substr(0, line.find('#'));
    size_t b = line.find_first_not_of(" \t\r"), e = line.find_last_not_of(" \t\r");
    if (b != std::string::npos)
      lines.push_back(line.substr(b, e - b + 1));
  }
  return lines;
}

const std::set<std::string> &pendingOps() {
  static const std::set<std::string> ops = [] {
    std::vector<std::string> l = listLines(kDir + "/pending.txt");
    return std::set<std::string>(l.begin(), l.end());
  }();
  return ops;
}

/// known_failures.txt: "CASE PATH REASON...", PATH one of interpreter,
/// compiled, eager or all.
const std::map<std::pair<std::string, std::string>, std::string> &knownFailures() {
  static const auto known = [] {
    std::map<std::pair<std::string, std::string>, std::string> m;
    for (const std::string &line : listLines(kDir + "/known_failures.txt")) {
      std::istringstream is(line);
      std::string name, path, reason;
      is >> name >> path;
      std::getline(is, reason);
      reason = reason.substr(std::min(reason.size(), reason.find_first_not_of(' ')));
      m[{name, path}] = reason;
    }
    return m;
  }();
  return known;
}

//===-- Comparing ---------------------------------------------------------===//

enum class Path { Interpreter, Compiled, Eager };

const char *pathName(Path p) {
  return p == Path::Interpreter ? "interpreter" : p == Path::Compiled ? "compiled" : "eager";
}

/// What went wrong on one path, one line per problem.
using Problems = std::vector<std::string>;

void compare(Problems &problems, const std::string &what, const std::vector<int64_t> &gotShape,
             const std::vector<double> &got, const ref::Array &want, double rtol, double atol) {
  if (gotShape != want.shape) {
    problems.push_back(what + ": shape " + formatShape(gotShape) + ", MXNet " +
                       formatShape(want.shape));
    return;
  }
  std::ostringstream first;
  first.precision(9);
  size_t bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    double g = got[i], w = want.data[i];
    bool ok = (std::isnan(g) && std::isnan(w)) || (std::isinf(w) && g == w) ||
              std::abs(g - w) <= atol + rtol * std::abs(w);
    if (!ok && bad++ < 4)
      first << (bad > 1 ? "; " : "") << "[" << i << "] " << g << " vs " << w;
  }
  if (bad) {
    std::ostringstream msg;
    msg << what << " " << formatShape(want.shape) << ": " << bad << " of " << got.size()
        << " differ beyond rtol " << rtol << " atol " << atol << " (Kiln vs MXNet): "
        << first.str();
    problems.push_back(msg.str());
  }
}

std::vector<double> widen(const std::vector<float> &v) { return {v.begin(), v.end()}; }

//===-- The graph paths (interpreter and compiled) ------------------------===//

/// A case's symbol imported and transformed for its mode, with one value
/// per function argument and what each function result is.
struct Prepared {
  mlir::MLIRContext ctx;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  mlir::func::FuncOp main;
  std::vector<ref::Array> args;
  /// Per function result: the array of the case it is compared with, and
  /// its label in messages.
  std::vector<std::pair<ref::Array, std::string>> expected;
};

std::string stringAttrOr(mlir::DictionaryAttr d, llvm::StringRef key) {
  if (!d)
    return "";
  auto s = d.getAs<mlir::StringAttr>(key);
  return s ? s.str() : "";
}

/// Imports the case's symbol as kiln-run does (data inputs and labels by
/// shape, parameters and aux states as if from a .params file).
mlir::OwningOpRef<mlir::ModuleOp> importCase(mlir::MLIRContext &ctx, const CaseSpec &c) {
  std::string fileName = "cases/" + c.file + ".json (case " + c.name + ")";
  mx::Graph g = mx::parseSymbolJSON(c.symbolJSON, fileName);
  ImportOptions opts;
  opts.fileName = fileName;
  for (const ArraySpec &a : c.inputs)
    (a.kind == "param" || a.kind == "aux" ? opts.paramShapes : opts.inputShapes)[a.name] =
        a.shape;
  return importGraph(ctx, g, opts);
}

std::unique_ptr<Prepared> prepare(const CaseSpec &c, Problems &problems) {
  auto p = std::make_unique<Prepared>();
  p->module = importCase(p->ctx, c);
  p->main = p->module->lookupSymbol<mlir::func::FuncOp>("main");
  unsigned numArgs = p->main.getNumArguments();
  std::vector<std::string> headNames;
  for (unsigned i = 0; i < p->main.getNumResults(); ++i)
    headNames.push_back(resultName(p->main, i));
  if (headNames.size() != c.outputs.size())
    throw Error("Kiln's function has " + std::to_string(headNames.size()) +
                " results, MXNet's symbol " + std::to_string(c.outputs.size()) + " outputs");

  if (c.backward) {
    AutodiffOptions options;
    for (const ArraySpec &g : c.grads)
      options.wrt.push_back(g.name);
    if (mlir::failed(differentiate(p->main, options)))
      throw Error("kiln-autodiff failed");
  } else if (c.train) {
    if (mlir::failed(applyTrainingMode(p->main)))
      throw Error("kiln-graph-training-mode failed");
  }

  for (unsigned i = 0; i < p->main.getNumArguments(); ++i) {
    std::string name = argName(p->main, i);
    if (i < numArgs) {
      const ArraySpec *a = c.input(name);
      if (!a)
        throw Error("Kiln's argument '" + name + "' is not a variable of MXNet's symbol");
      p->args.push_back(arrayOf(c, *a));
      continue;
    }
    std::string kind = stringAttrOr(p->main.getArgAttrDict(i), kGraphKindAttr);
    auto type = mlir::cast<mlir::RankedTensorType>(p->main.getArgumentTypes()[i]);
    ref::Array value{std::vector<int64_t>(type.getShape().begin(), type.getShape().end()), {}};
    value.data.assign(value.size(), 0.0); // the RNG counter: 0
    if (kind == kHeadGradKind) {
      std::string head = name.substr(0, name.size() - 5); // "<head>_grad"
      auto it = std::find(headNames.begin(), headNames.end(), head);
      if (it == headNames.end())
        throw Error("head gradient '" + name + "' of no head");
      value = arrayOf(c, c.headGrads.at(it - headNames.begin()));
    } else if (kind != kRngCounterKind) {
      throw Error("unexpected argument '" + name + "' of kind '" + kind + "'");
    }
    p->args.push_back(std::move(value));
  }

  unsigned head = 0;
  std::set<std::string> gradsSeen, auxSeen;
  for (unsigned i = 0; i < p->main.getNumResults(); ++i) {
    mlir::DictionaryAttr attrs = p->main.getResultAttrDict(i);
    std::string kind = stringAttrOr(attrs, kGraphKindAttr);
    std::string name = stringAttrOr(attrs, kGraphNameAttr);
    auto find = [&](const std::vector<ArraySpec> &list) -> const ArraySpec * {
      for (const ArraySpec &a : list)
        if (a.name == name)
          return &a;
      return nullptr;
    };
    if (kind == kGradKind) {
      const ArraySpec *a = find(c.grads);
      if (!a)
        throw Error("Kiln returns a gradient of '" + name + "', which MXNet's case lacks");
      p->expected.push_back({arrayOf(c, *a), "gradient of " + name});
      gradsSeen.insert(name);
    } else if (kind == kAuxKind) {
      const ArraySpec *a = find(c.aux);
      if (!a)
        throw Error("Kiln returns aux state '" + name + "', which MXNet's case lacks");
      p->expected.push_back({arrayOf(c, *a), "updated " + name});
      auxSeen.insert(name);
    } else {
      if (head >= c.outputs.size())
        throw Error("Kiln returns more outputs than MXNet");
      p->expected.push_back({arrayOf(c, c.outputs[head]), "output " + std::to_string(head)});
      ++head;
    }
  }
  for (const ArraySpec &g : c.grads)
    if (!gradsSeen.count(g.name))
      problems.push_back("no gradient of " + g.name);
  for (const ArraySpec &a : c.aux)
    if (!auxSeen.count(a.name))
      problems.push_back("no updated " + a.name);
  return p;
}

Problems runInterpreter(const CaseSpec &c) {
  Problems problems;
  std::unique_ptr<Prepared> p = prepare(c, problems);
  ref::Options opts;
  opts.training = c.train;
  ref::Result r = ref::run(p->main, p->args, opts);
  for (size_t i = 0; i < r.outputs.size(); ++i)
    compare(problems, p->expected[i].second, r.outputs[i].shape, r.outputs[i].data,
            p->expected[i].first, c.interpRtol, c.interpAtol);
  return problems;
}

Problems runCompiled(const CaseSpec &c) {
  Problems problems;
  std::unique_ptr<Prepared> p = prepare(c, problems);
  std::unique_ptr<JitModel> model = JitModel::compile(*p->module);
  const std::vector<Tensor> &got = model->run(ref::toTensors(p->args));
  for (size_t i = 0; i < got.size(); ++i)
    compare(problems, p->expected[i].second, got[i].shape, widen(got[i].values),
            p->expected[i].first, c.rtol, c.atol);
  return problems;
}

//===-- The eager path ----------------------------------------------------===//

Problems runEager(const CaseSpec &c) {
  Problems problems;
  mx::Graph g = mx::parseSymbolJSON(c.symbolJSON, "cases/" + c.file + ".json");
  // The operator name as MXNet wrote it (the parser maps legacy spellings
  // to canonical names; nd::invoke must accept both).
  llvm::Expected<llvm::json::Value> raw = llvm::json::parse(c.symbolJSON);
  std::string rawOp;
  for (const llvm::json::Value &n : *raw->getAsObject()->getArray("nodes"))
    if (n.getAsObject()->getString("op").value_or("null") != "null")
      rawOp = n.getAsObject()->getString("op")->str();
  const mx::Node *op = nullptr;
  for (const mx::Node &n : g.nodes)
    if (!n.isVariable())
      op = &n;
  if (!op)
    throw Error("the symbol has no operator node");

  std::map<std::string, NDArray> vars;
  for (const ArraySpec &a : c.inputs) {
    ref::Array v = arrayOf(c, a);
    vars[a.name] = NDArray(ref::toTensor(v));
  }
  for (const ArraySpec &gr : c.grads)
    vars.at(gr.name).attachGrad();
  std::vector<NDArray> inputs;
  for (const mx::NodeEntry &e : op->inputs)
    inputs.push_back(vars.at(g.nodes[e.node].name));

  std::vector<NDArray> outs, heads;
  if (c.backward) {
    autograd::RecordScope record(/*train=*/true);
    outs = nd::invoke(rawOp, inputs, op->attrs);
  } else {
    autograd::PauseScope pause(/*train=*/c.train);
    outs = nd::invoke(rawOp, inputs, op->attrs);
  }
  for (const mx::NodeEntry &h : g.heads) {
    if (h.index >= (int64_t)outs.size())
      throw Error("nd::invoke returned " + std::to_string(outs.size()) +
                  " outputs; the symbol's head uses output " + std::to_string(h.index));
    heads.push_back(outs[h.index]);
  }
  if (c.backward) {
    std::vector<NDArray> headGrads;
    for (const ArraySpec &h : c.headGrads)
      headGrads.emplace_back(ref::toTensor(arrayOf(c, h)));
    autograd::backward(heads, headGrads);
  }
  for (size_t i = 0; i < heads.size() && i < c.outputs.size(); ++i) {
    Tensor t = heads[i].toTensor();
    compare(problems, "output " + std::to_string(i), t.shape, widen(t.values),
            arrayOf(c, c.outputs[i]), c.rtol, c.atol);
  }
  for (const ArraySpec &gr : c.grads) {
    Tensor t = vars.at(gr.name).grad().toTensor();
    compare(problems, "gradient of " + gr.name, t.shape, widen(t.values), arrayOf(c, gr),
            c.rtol, c.atol);
  }
  for (const ArraySpec &a : c.aux) {
    Tensor t = vars.at(a.name).toTensor();
    compare(problems, "updated " + a.name, t.shape, widen(t.values), arrayOf(c, a), c.rtol,
            c.atol);
  }
  return problems;
}

//===-- The tests ---------------------------------------------------------===//

struct Param {
  const CaseSpec *c;
  Path path;
};

void PrintTo(const Param &p, std::ostream *os) { *os << p.c->name << " " << pathName(p.path); }

std::vector<Param> allParams() {
  std::vector<Param> params;
  for (const CaseSpec &c : allCases())
    for (Path p : {Path::Interpreter, Path::Compiled, Path::Eager})
      params.push_back({&c, p});
  return params;
}

/// "unknown operator" from the importer: Kiln does not support the op.
bool isUnknownOperator(const std::string &message) {
  return message.find("unknown operator") != std::string::npos;
}

class Conformance : public ::testing::TestWithParam<Param> {};

TEST_P(Conformance, MatchesMXNet) {
  const CaseSpec &c = *GetParam().c;
  Path path = GetParam().path;
  std::string label = c.name + " [" + pathName(path) + "]";
  if (pendingOps().count(c.op)) {
    std::string importError;
    try {
      mlir::MLIRContext ctx;
      importCase(ctx, c);
    } catch (const Error &e) {
      importError = e.what();
    }
    if (isUnknownOperator(importError))
      GTEST_SKIP() << "pending: Kiln does not support " << c.op << " yet (pending.txt)";
  }

  Problems problems;
  try {
    problems = path == Path::Interpreter ? runInterpreter(c)
               : path == Path::Compiled  ? runCompiled(c)
                                         : runEager(c);
  } catch (const std::exception &e) {
    problems.push_back(std::string("error: ") + e.what());
  }

  const auto &known = knownFailures();
  auto it = known.find({c.name, pathName(path)});
  if (it == known.end())
    it = known.find({c.name, "all"});
  if (it != known.end()) {
    if (problems.empty())
      FAIL() << label << " passes now: remove it from test/conformance/known_failures.txt";
    std::string first = problems.front().substr(0, 300);
    GTEST_SKIP() << "known failure: " << it->second << " (" << first << ")";
  }
  for (const std::string &p : problems)
    ADD_FAILURE() << label << ": " << p << (c.note.empty() ? "" : "  [case note: " + c.note + "]")
                  << (isUnknownOperator(p) ? "  (add " + c.op + " to pending.txt?)" : "");
}

std::string paramName(const ::testing::TestParamInfo<Param> &info) {
  std::string s = info.param.c->name + "_" + pathName(info.param.path);
  for (char &ch : s)
    if (!std::isalnum(static_cast<unsigned char>(ch)))
      ch = '_';
  return s;
}

INSTANTIATE_TEST_SUITE_P(Ops, Conformance, ::testing::ValuesIn(allParams()), paramName);

// The cases exist and their names are unique (known_failures.txt keys on them).
TEST(ConformanceCases, Present) {
  ASSERT_FALSE(allCases().empty()) << "no cases under " << kDir << "/cases";
  std::set<std::string> names;
  for (const CaseSpec &c : allCases())
    EXPECT_TRUE(names.insert(c.name).second) << "case name " << c.name << " twice";
}

// pending.txt only shrinks: an operator Kiln imports must leave it.
TEST(PendingList, OnlyUnsupportedOperators) {
  std::map<std::string, const CaseSpec *> firstCase;
  for (const CaseSpec &c : allCases())
    firstCase.emplace(c.op, &c);
  for (const std::string &op : pendingOps()) {
    auto it = firstCase.find(op);
    if (it == firstCase.end()) {
      ADD_FAILURE() << "pending.txt names '" << op << "', which has no cases";
      continue;
    }
    std::string importError;
    try {
      mlir::MLIRContext ctx;
      importCase(ctx, *it->second);
    } catch (const Error &e) {
      importError = e.what();
    }
    EXPECT_TRUE(isUnknownOperator(importError))
        << op << " is supported now (the importer accepts case " << it->second->name
        << (importError.empty() ? "" : " or fails for another reason: " + importError)
        << "): remove it from test/conformance/pending.txt";
  }
}

// Each known failure names a case and a path that exist.
TEST(KnownFailures, NameRealCases) {
  std::set<std::string> names;
  for (const CaseSpec &c : allCases())
    names.insert(c.name);
  for (const auto &[key, reason] : knownFailures()) {
    EXPECT_TRUE(names.count(key.first)) << "known_failures.txt: no case " << key.first;
    EXPECT_TRUE(key.second == "interpreter" || key.second == "compiled" ||
                key.second == "eager" || key.second == "all")
        << "known_failures.txt: " << key.first << ": bad path '" << key.second << "'";
    EXPECT_FALSE(reason.empty()) << "known_failures.txt: " << key.first << ": no reason";
  }
}

} // namespace
