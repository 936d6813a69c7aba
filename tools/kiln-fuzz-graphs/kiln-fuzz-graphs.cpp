//===- kiln-fuzz-graphs.cpp - Random-graph differential testing -----------===//
//
// kiln-fuzz-graphs [--seed S] [--count N] [--seconds T]
//                  [--mode all|inference|training|backward] [--train]
//                  [--max-ops K] [--minimize-into DIR] [--print-graphs] [-v]
//                  [--list-ops]
//
// Generates graphs from seeds S, S+1, ... and runs each through the
// compiled engine and the reference interpreter in every chosen mode (see
// GraphFuzz.h). A disagreement counts when it persists on at least two of
// four further value seeds (a real bug does not depend on the values; a
// relu input within float32 rounding of 0 does). Every finding is printed
// with its seed; with --minimize-into it is minimized and written as a
// kiln-run reproduction. Exit status 1 when there was a finding.
// docs/testing.md has the details.
//
//===----------------------------------------------------------------------===//

#include "GraphFuzz.h"

#include "Compiler/Driver.h"
#include "Import/MXNetAttrs.h"
#include "Target/CPU/JIT.h"
#include "kiln/Error.h"
#include "kiln/Random.h"

#include "llvm/Support/CommandLine.h"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <unistd.h>

using namespace kiln;
using namespace kiln::fuzz;
namespace cl = llvm::cl;

static cl::OptionCategory category("kiln-fuzz-graphs options");
static cl::opt<uint64_t> seedArg("seed", cl::desc("First graph seed"), cl::init(1),
                                 cl::cat(category));
static cl::opt<uint64_t> countArg("count",
                                  cl::desc("Number of graphs (default 100, unlimited with "
                                           "--seconds)"),
                                  cl::init(0), cl::cat(category));
static cl::opt<double> secondsArg("seconds", cl::desc("Stop starting graphs after T seconds"),
                                  cl::init(0), cl::cat(category));
static cl::opt<std::string> modeArg("mode",
                                    cl::desc("all (default), inference, training or backward; "
                                             "a comma-separated list is fine"),
                                    cl::init("all"), cl::cat(category));
static cl::opt<bool> trainArg("train", cl::desc("Training only: --mode training,backward"),
                              cl::cat(category));
static cl::opt<int> maxOpsArg("max-ops", cl::desc("Operators per graph at most (default 12)"),
                              cl::init(12), cl::cat(category));
static cl::opt<std::string> minimizeInto(
    "minimize-into", cl::desc("Minimize each finding and write a kiln-run reproduction here"),
    cl::value_desc("DIR"), cl::cat(category));
static cl::opt<std::string> dumpInto(
    "dump-into",
    cl::desc("Write every run that agrees as a kiln-run reproduction here (inputs for "
             "scripts/fuzz-graphs-mxnet.py, which checks them against MXNet)"),
    cl::value_desc("DIR"), cl::cat(category));
static cl::opt<bool> printGraphs("print-graphs", cl::desc("Print each graph's symbol JSON"),
                                 cl::cat(category));
static cl::opt<bool> verbose("v", cl::desc("One line per graph and mode"), cl::cat(category));
static cl::opt<std::string> graphFile(
    "graph",
    cl::desc("Check this MXNet symbol JSON instead of generated graphs (values drawn from "
             "--seed as for generated ones; with --minimize-into, minimize a finding)"),
    cl::value_desc("MODEL-symbol.json"), cl::cat(category));
static cl::list<std::string> inputShapeArgs("input-shape",
                                            cl::desc("With --graph: a data input's shape"),
                                            cl::value_desc("NAME=D0,D1,..."),
                                            cl::cat(category));
static cl::opt<bool> generateOnly("generate-only",
                                  cl::desc("Generate (and with --print-graphs print) graphs, "
                                           "run nothing: for tuning the generator"),
                                  cl::cat(category));
static cl::opt<bool> listOps("list-ops",
                             cl::desc("List the operators with and without a generator entry"),
                             cl::cat(category));

namespace {

// What a crash report names: the seed and mode being evaluated. A signal
// handler may only write(), so the line is formatted beforehand.
char crashLine[160];

void onFatalSignal(int sig) {
  ssize_t ignored = write(STDERR_FILENO, crashLine, std::strlen(crashLine));
  (void)ignored;
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

std::vector<Mode> parseModes() {
  if (trainArg)
    return {Mode::Training, Mode::Backward};
  std::vector<Mode> modes;
  std::string spec = modeArg + ",";
  for (size_t start = 0, comma; (comma = spec.find(',', start)) != std::string::npos;
       start = comma + 1) {
    std::string m = spec.substr(start, comma - start);
    if (m == "all")
      modes.insert(modes.end(), {Mode::Inference, Mode::Training, Mode::Backward});
    else if (m == "inference")
      modes.push_back(Mode::Inference);
    else if (m == "training")
      modes.push_back(Mode::Training);
    else if (m == "backward")
      modes.push_back(Mode::Backward);
    else
      throw Error("--mode: unknown mode '" + m +
                  "' (expected all, inference, training or backward)");
  }
  return modes;
}

/// A model file as a FuzzGraph: the --input-shape variables are data
/// inputs (with `__shape__` hints), every other variable's values follow
/// its name as kiln-run --random-params does (weights scaled by fan-in,
/// biases, gamma, moving statistics, labels).
FuzzGraph graphFromFile(const std::string &path) {
  FuzzGraph g;
  g.graph = mx::loadSymbolFile(path);
  std::map<std::string, Shape> shapes;
  for (const std::string &spec : inputShapeArgs)
    shapes.insert(driver::parseShapeSpec(spec, "--input-shape"));
  auto endsWith = [](const std::string &s, const char *suffix) {
    size_t n = std::strlen(suffix);
    return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
  };
  for (mx::Node &n : g.graph.nodes) {
    if (n.op == "Dropout") {
      auto mode = n.attrs.find("mode"), p = n.attrs.find("p");
      if (mode != n.attrs.end() && mode->second == "always" &&
          (p == n.attrs.end() || mx::parseFloat(p->second, n.name) > 0))
        g.inferenceAllowed = false;
    }
    if (!n.isVariable())
      continue;
    VarInfo info;
    if (auto it = shapes.find(n.name); it != shapes.end()) {
      info.input = true;
      n.hints["__shape__"] = mx::formatTuple(it->second);
    } else if (endsWith(n.name, "weight")) {
      info.role = VarRole::Weight;
    } else if (endsWith(n.name, "gamma") || endsWith(n.name, "var")) {
      info.role = VarRole::Scale;
    } else if (endsWith(n.name, "bias") || endsWith(n.name, "beta") ||
               endsWith(n.name, "mean")) {
      info.role = VarRole::Offset;
    } else if (endsWith(n.name, "label")) {
      info.role = VarRole::ClassLabel;
    }
    g.vars[n.name] = info;
  }
  return g;
}

/// The command line that regenerates the graphs being checked.
std::string rerunCommand() {
  std::string cmd = "kiln-fuzz-graphs";
  if (!graphFile.empty()) {
    cmd += " --graph " + graphFile;
    for (const std::string &spec : inputShapeArgs)
      cmd += " --input-shape " + spec;
  }
  if (maxOpsArg != 12)
    cmd += " --max-ops " + std::to_string(maxOpsArg);
  return cmd;
}

/// The value seeds that confirm a disagreement.
uint64_t alternateValueSeed(uint64_t seed, int k) { return Random::mix(seed, 1000 + k); }

std::string join(const std::vector<std::string> &names) {
  std::string out;
  for (const std::string &n : names)
    out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

struct Stats {
  uint64_t graphs = 0, ops = 0;
  std::map<Mode, uint64_t> runs;
  std::map<Outcome::Kind, uint64_t> outcomes;
  uint64_t unconfirmed = 0, findings = 0;
  std::map<std::string, uint64_t> opCounts;
};

int runTool() {
  if (listOps) {
    std::printf("operators with a generator entry (%zu): %s\n", coveredOperators().size(),
                join(coveredOperators()).c_str());
    std::printf("importable operators without one: %s\n", join(uncoveredOperators()).c_str());
    return 0;
  }
  std::vector<Mode> modes = parseModes();
  uint64_t count = countArg ? uint64_t(countArg) : secondsArg > 0 ? UINT64_MAX : 100;
  std::fprintf(stderr, "kiln-fuzz-graphs: importable operators without a generator entry: %s\n",
               join(uncoveredOperators()).c_str());
  std::signal(SIGSEGV, onFatalSignal);
  std::signal(SIGABRT, onFatalSignal);
  std::signal(SIGBUS, onFatalSignal);
  std::signal(SIGFPE, onFatalSignal);

  GeneratorOptions options;
  options.maxOps = maxOpsArg;
  Stats stats;
  auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  for (uint64_t i = 0; i < count; ++i) {
    if (secondsArg > 0 && elapsed() >= secondsArg)
      break;
    uint64_t seed = seedArg + i;
    // The JIT keeps every compiled module for reuse; each graph's kernels
    // are new, so keeping them would only grow the process.
    cpu::CPUJit::clearCache();
    FuzzGraph graph = graphFile.empty() ? generateGraph(seed, options) : graphFromFile(graphFile);
    ++stats.graphs;
    stats.ops += graph.numOps();
    for (const mx::Node &n : graph.graph.nodes)
      if (!n.isVariable())
        ++stats.opCounts[n.op];
    if (printGraphs)
      std::printf("seed %llu:\n%s\n", (unsigned long long)seed, graph.toJSON().c_str());
    for (Mode mode : modes) {
      if (generateOnly)
        break;
      if (mode == Mode::Inference && !graph.inferenceAllowed)
        continue;
      std::snprintf(crashLine, sizeof crashLine,
                    "kiln-fuzz-graphs: crashed on seed %llu mode %s (rerun: %s --seed %llu "
                    "--count 1 --mode %s)\n",
                    (unsigned long long)seed, modeName(mode), rerunCommand().c_str(),
                    (unsigned long long)seed, modeName(mode));
      ++stats.runs[mode];
      ArgValues args;
      Outcome outcome = evaluate(graph, mode, seed, {}, dumpInto.empty() ? nullptr : &args);
      if (outcome.kind == Outcome::Disagree) {
        int confirmations = 0;
        for (int k = 1; k <= 4; ++k)
          confirmations += evaluate(graph, mode, alternateValueSeed(seed, k)).kind ==
                           Outcome::Disagree;
        if (confirmations < 2) {
          ++stats.unconfirmed;
          std::printf("note: seed %llu %s: a disagreement that %d of 4 other value seeds "
                      "share, taken for rounding at a kink: %s\n",
                      (unsigned long long)seed, modeName(mode), confirmations,
                      outcome.message.c_str());
          outcome.kind = Outcome::Agree;
        }
      }
      ++stats.outcomes[outcome.kind];
      if (verbose)
        std::printf("seed %llu %s: %zu ops, %s%s%s\n", (unsigned long long)seed,
                    modeName(mode), graph.numOps(), kindName(outcome.kind),
                    outcome.message.empty() ? "" : ": ", outcome.message.c_str());
      if (outcome.kind == Outcome::Agree && !dumpInto.empty())
        writeReproduction(dumpInto + "/seed-" + std::to_string(seed) + "-" + modeName(mode),
                          graph, mode, seed,
                          rerunCommand() + " --seed " + std::to_string(seed) +
                              " --count 1 --mode " + modeName(mode) + "\nagrees",
                          &args);
      if (!outcome.isFinding())
        continue;
      ++stats.findings;
      std::printf("FAIL seed %llu %s (%zu ops): %s: %s\n", (unsigned long long)seed,
                  modeName(mode), graph.numOps(), kindName(outcome.kind),
                  outcome.message.c_str());
      for (const Mismatch &m : outcome.mismatches)
        std::printf("  %s\n", m.describe().c_str());
      std::printf("  rerun: %s --seed %llu --count 1 --mode %s -v\n", rerunCommand().c_str(),
                  (unsigned long long)seed, modeName(mode));
      std::fflush(stdout);
      if (minimizeInto.empty())
        continue;
      Outcome::Kind kind = outcome.kind;
      auto stillFails = [&](const FuzzGraph &candidate) {
        Outcome o = evaluate(candidate, mode, seed);
        if (o.kind != kind)
          return false;
        if (kind != Outcome::Disagree)
          return true;
        return evaluate(candidate, mode, alternateValueSeed(seed, 1)).kind == kind ||
               evaluate(candidate, mode, alternateValueSeed(seed, 2)).kind == kind;
      };
      FuzzGraph small = minimize(graph, stillFails, [](const std::string &step) {
        std::printf("  minimize: %s\n", step.c_str());
        std::fflush(stdout);
      });
      Outcome after = evaluate(small, mode, seed);
      std::string dir = minimizeInto + "/seed-" + std::to_string(seed) + "-" + modeName(mode);
      std::string summary = rerunCommand() + " --seed " + std::to_string(seed) +
                            " --count 1 --mode " + modeName(mode) + "\n" + "found: " +
                            kindName(kind) + ": " + outcome.message + "\nminimized (" +
                            std::to_string(small.numOps()) + " ops): " + kindName(after.kind) +
                            ": " + after.message;
      for (const Mismatch &m : after.mismatches)
        summary += "\n  " + m.describe();
      writeReproduction(dir, small, mode, seed, summary);
      std::printf("  minimized to %zu ops: %s\n", small.numOps(), dir.c_str());
    }
  }

  double seconds = elapsed();
  std::printf("kiln-fuzz-graphs: %llu graphs (seeds %llu-%llu, %.1f ops on average) in %.1f s;",
              (unsigned long long)stats.graphs, (unsigned long long)seedArg.getValue(),
              (unsigned long long)(seedArg + stats.graphs - 1),
              stats.graphs ? double(stats.ops) / double(stats.graphs) : 0.0, seconds);
  for (Mode m : modes)
    std::printf(" %s %llu", modeName(m), (unsigned long long)stats.runs[m]);
  std::printf(" runs\n  outcomes:");
  for (const auto &[kind, n] : stats.outcomes)
    std::printf(" %s %llu", kindName(kind), (unsigned long long)n);
  std::printf("; disagreements not confirmed by other values: %llu; findings: %llu\n",
              (unsigned long long)stats.unconfirmed, (unsigned long long)stats.findings);
  if (verbose) {
    std::printf("  operators generated:");
    for (const auto &[op, n] : stats.opCounts)
      std::printf(" %s %llu", op.c_str(), (unsigned long long)n);
    std::printf("\n");
  }
  return stats.findings ? 1 : 0;
}

} // namespace

int main(int argc, char **argv) {
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "kiln-fuzz-graphs: random MXNet graphs, compiled engine vs "
                              "reference interpreter\n");
  return driver::guardedMain("kiln-fuzz-graphs", runTool);
}
