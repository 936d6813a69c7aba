//===- InterpreterTestUtil.h - Helpers for the interpreter tests -*- C++ -*-===//
//
// Parse a module from text, run its @main with the reference interpreter,
// build IR text for generated shapes, and compare arrays.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TEST_INTERPRETERTESTUTIL_H
#define KILN_TEST_INTERPRETERTESTUTIL_H

#include "Graph/GraphOps.h"
#include "Interpreter/Interpreter.h"
#include "kiln/Error.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace kiln::test {

using ref::Array;
using Shape = std::vector<int64_t>;

inline mlir::MLIRContext &context() {
  static mlir::MLIRContext *ctx = [] {
    mlir::DialectRegistry registry;
    registry.insert<kiln::graph::GraphDialect, mlir::func::FuncDialect>();
    auto *c = new mlir::MLIRContext(registry);
    c->loadAllAvailableDialects();
    // Lets the error tests use an op the interpreter does not know.
    c->allowUnregisteredDialects(true);
    return c;
  }();
  return *ctx;
}

/// Parses `src` and runs its function @main. `verify = false` skips the op
/// verifiers, so error tests can hand the interpreter IR that the dialect
/// would reject and check that the interpreter still fails cleanly.
inline ref::Result runIR(const std::string &src, const std::vector<Array> &args,
                         const ref::Options &opts = ref::Options(),
                         bool verify = true) {
  mlir::ParserConfig config(&context(), verify);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(src, config);
  if (!module)
    throw std::runtime_error("test IR does not parse:\n" + src);
  auto fn = module->lookupSymbol<mlir::func::FuncOp>("main");
  if (!fn)
    throw std::runtime_error("test IR has no @main");
  return ref::run(fn, args, opts);
}

/// Runs a one-result @main and returns that result.
inline Array run1(const std::string &src, const std::vector<Array> &args,
                  const ref::Options &opts = ref::Options(), bool verify = true) {
  ref::Result r = runIR(src, args, opts, verify);
  if (r.outputs.size() != 1)
    throw std::runtime_error("expected one output");
  return r.outputs[0];
}

/// "tensor<2x3xf32>".
inline std::string tt(const Shape &s) {
  std::string r = "tensor<";
  for (int64_t d : s)
    r += std::to_string(d) + "x";
  return r + "f32>";
}

/// "array<i64: 1, 2>".
inline std::string arr(const Shape &v) {
  std::string r = "array<i64";
  for (size_t i = 0; i < v.size(); ++i)
    r += (i ? ", " : ": ") + std::to_string(v[i]);
  return r + ">";
}

inline int64_t count(const Shape &s) {
  int64_t n = 1;
  for (int64_t d : s)
    n *= d;
  return n;
}

inline Array make(Shape shape, std::vector<double> data) {
  return Array{std::move(shape), std::move(data)};
}

/// 0, 1, 2, ... (or start, start+1, ...).
inline Array iota(Shape shape, double start = 0) {
  Array a{shape, std::vector<double>(count(shape))};
  for (size_t i = 0; i < a.data.size(); ++i)
    a.data[i] = start + static_cast<double>(i);
  return a;
}

inline Array random(Shape shape, unsigned seed, double lo = -1, double hi = 1) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  Array a{shape, std::vector<double>(count(shape))};
  for (double &v : a.data)
    v = dist(gen);
  return a;
}

inline void expectNear(const Array &got, const Shape &shape,
                       const std::vector<double> &want, double tol = 1e-9) {
  ASSERT_EQ(got.shape, shape);
  ASSERT_EQ(got.data.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(got.data[i], want[i], tol * std::max(1.0, std::abs(want[i])))
        << "at flat index " << i;
}

inline void expectNear(const Array &got, const Array &want, double tol = 1e-9) {
  expectNear(got, want.shape, want.data, tol);
}

/// Runs `fn` and returns the kiln::Error message it throws ("" if none).
template <typename Fn> std::string errorOf(Fn &&fn) {
  try {
    fn();
  } catch (const kiln::Error &e) {
    return e.what();
  }
  return "";
}

} // namespace kiln::test

#endif // KILN_TEST_INTERPRETERTESTUTIL_H
