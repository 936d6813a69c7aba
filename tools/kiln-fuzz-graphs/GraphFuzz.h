//===- GraphFuzz.h - Random-graph differential testing ----------*- C++ -*-===//
//
// NNSmith's idea for Kiln: random *valid* MXNet graphs over the importable
// operators, each run through the compiled engine (JitModel: fusion, kernel
// outlining, memory planning, the CPU JIT, the runtime engine) and through
// the reference interpreter (float64), in inference mode, in training mode
// and forward+backward; any disagreement is reported with its seed and
// minimized to a small symbol JSON that kiln-run replays.
//
//   generateGraph(seed)  ──▶ FuzzGraph (mx::Graph + how to fill each variable)
//   evaluate(graph, mode) ──▶ Outcome (agree / disagree / an engine failed)
//   minimize(...)         ──▶ a smaller FuzzGraph with the same outcome kind
//   writeReproduction(...) ─▶ DIR/model-symbol.json, model-0000.params,
//                             inputs and head gradients as .npy, replay.sh
//
// docs/testing.md describes the generator, the oracle and the replay.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TOOLS_KILN_FUZZ_GRAPHS_GRAPHFUZZ_H
#define KILN_TOOLS_KILN_FUZZ_GRAPHS_GRAPHFUZZ_H

#include "Import/MXNetGraph.h"
#include "kiln/Tensor.h"

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace kiln::fuzz {

using Shape = std::vector<int64_t>;

/// How a variable's values are drawn. Values are O(1) so that float32
/// rounding stays far below the comparison tolerance.
enum class VarRole {
  Data,        ///< N(0, 1)
  Weight,      ///< U(±sqrt(3 / fan_in)), fan_in = product of the dims after the first
  Offset,      ///< U(-0.5, 0.5): biases, beta, moving_mean
  Scale,       ///< U(0.5, 1.5): gamma, moving_var, positive operands
  Slope,       ///< U(0, 0.5): PReLU's gamma
  ClassLabel,  ///< whole numbers in [0, range)
  Probability, ///< U(0, 1): probability labels, logistic targets
  Index,       ///< whole numbers in [0, range): Embedding's indices
};

struct VarInfo {
  VarRole role = VarRole::Data;
  /// ClassLabel / Index: values are in [0, range).
  int64_t range = 0;
  /// A data input of the model (ImportOptions::inputShapes, kiln-run
  /// --input): not differentiated. Labels feeding a loss head are inputs
  /// whatever this says (the importer's rule).
  bool input = false;
};

/// A generated graph. Variables with a known shape carry MXNet's `__shape__`
/// hint, so the symbol JSON is self-contained; the parameters an operator
/// owns (weights, BatchNorm's gamma/beta/moving statistics, labels) get
/// their shapes from shape inference, as in MXNet.
struct FuzzGraph {
  mx::Graph graph;
  /// By variable name.
  std::map<std::string, VarInfo> vars;
  /// The generator's own output shapes of each op node (by node name),
  /// computed with MXNet's rules; checked against Kiln's shape inference.
  /// Empty after minimization edits the graph.
  std::map<std::string, std::vector<Shape>> expectedShapes;
  /// False when a Dropout has mode=always (and p > 0): random at inference,
  /// which the CPU lowering rejects by design, so the graph runs in the
  /// training modes only.
  bool inferenceAllowed = true;

  /// Data inputs and their shapes (from the `__shape__` hints).
  std::map<std::string, Shape> inputShapes() const;
  size_t numOps() const;
  std::string toJSON() const { return mx::writeSymbolJSON(graph); }
};

struct GeneratorOptions {
  /// Operators per graph: uniform in [1, maxOps] (helper chains count).
  int maxOps = 12;
  /// Upper bound on the elements of any tensor (more in wide and large
  /// graphs).
  int64_t maxElements = 3000;
  /// The share of wide graphs: 16 to 128 channels or hidden units, few
  /// spatial positions (contractions the CPU backend blocks and packs).
  double wideProbability = 0.3;
  /// The share of large graphs: spatial axes of 8 to 300 elements, up to
  /// 40× the tensor size (elementwise and window kernels the CPU backend
  /// vectorizes and splits into parallel chunks).
  double largeProbability = 0.1;
};

FuzzGraph generateGraph(uint64_t seed, const GeneratorOptions &options = {});

/// Removes the nodes no graph output depends on (and their variables),
/// renumbering the rest.
void pruneUnreachable(FuzzGraph &graph);

/// The operators the generator has an entry for, and the importable
/// operators (lib/Import's table) that have none.
std::vector<std::string> coveredOperators();
std::vector<std::string> uncoveredOperators();

/// What runs: the inference function; the training-mode forward (batch
/// statistics, moving-statistic updates; kiln-run --train); or the
/// forward+backward function (kiln-run --backward) with seeded head
/// gradients.
enum class Mode { Inference, Training, Backward };
const char *modeName(Mode mode);

struct Mismatch {
  /// "out0 (fc0_output)", "grad fc0_weight", "aux bn0_moving_var".
  std::string result;
  size_t numBad = 0, numElements = 0;
  /// The worst element: its index and the two values.
  size_t index = 0;
  double compiled = 0, reference = 0;
  /// Largest |reference| of the result (the scale of the tolerance).
  double scale = 0;
  /// How far the worst element's reference value moves under rounding-sized
  /// noise in every intermediate value (see Tolerance).
  double sensitivity = 0;
  std::string describe() const;
};

struct Outcome {
  enum Kind {
    Agree,
    /// The reference produced non-finite or huge values: not comparable.
    Degenerate,
    /// Kiln's importer rejected the graph (the generator meant it valid).
    ImportError,
    /// Kiln's shape inference disagrees with the generator's MXNet rules.
    ShapeMismatch,
    /// A rewrite (training mode, autodiff) failed.
    TransformError,
    /// The compiled engine threw where the reference ran.
    CompiledError,
    /// The reference interpreter threw where the compiled engine ran.
    ReferenceError,
    /// Both engines ran and disagree.
    Disagree,
  } kind = Agree;
  std::string message;
  std::vector<Mismatch> mismatches;
  /// Every result, by label, for the report.
  size_t numResults = 0;

  bool isFinding() const { return kind != Agree && kind != Degenerate; }
};
const char *kindName(Outcome::Kind kind);

/// An element agrees when |compiled − reference| ≤ atol·max(1, max
/// |reference|) + rtol·|reference| + noiseFactor·sensitivity, where
/// sensitivity is how far the reference element moves when every operator's
/// result is multiplied by 1 + noiseDelta·u (u uniform in [-1, 1)): the
/// conditioning of that element in the intermediate values, which float32
/// rounding perturbs by ~6e-8 per operation (the largest change of three
/// draws; a result where some element jumps by 1% of its scale is
/// discontinuous there, and all its elements get its largest change).
/// Well-conditioned results get CompiledVsInterpreter's tolerance; a
/// gradient that cancels to ~0, a relu input within rounding of 0 or a tie
/// of a max/min reduction gets what its conditioning needs.
struct Tolerance {
  double rtol = 1e-4;
  double atol = 1e-5;
  double noiseDelta = 1e-6;
  double noiseFactor = 4;
};

/// The arrays one evaluation feeds: every function argument by name (model
/// arguments, the head gradients "<head>_grad", "rng_counter").
using ArgValues = std::map<std::string, Tensor>;

/// Imports `graph`, applies `mode`'s rewrite, runs both engines on values
/// drawn from `valueSeed` and compares every result. `args`, when given,
/// receives the arguments used (for writing a reproduction).
Outcome evaluate(const FuzzGraph &graph, Mode mode, uint64_t valueSeed,
                 const Tolerance &tolerance = {}, ArgValues *args = nullptr);

/// Shrinks `graph` while `stillFails(candidate)` holds: drops graph outputs,
/// replaces operators by fresh variables of their output shape, bypasses
/// shape-preserving operators, shrinks variable shapes and layer widths.
/// `log` receives one line per accepted step.
FuzzGraph minimize(const FuzzGraph &graph,
                   const std::function<bool(const FuzzGraph &)> &stillFails,
                   const std::function<void(const std::string &)> &log);

/// Writes DIR/model-symbol.json, DIR/model-0000.params (every parameter and
/// aux state), DIR/<input>.npy per data input, DIR/head-<name>.npy per head
/// gradient, DIR/replay.sh (kiln-run on both engines, then a comparison),
/// DIR/run.json (mode, input and head-gradient files, for tools) and
/// DIR/README.txt (`summary`). `args`: the arrays of evaluate() with this
/// graph, mode and seed, when the caller has them.
void writeReproduction(const std::string &dir, const FuzzGraph &graph, Mode mode,
                       uint64_t valueSeed, const std::string &summary,
                       const ArgValues *args = nullptr);

} // namespace kiln::fuzz

#endif // KILN_TOOLS_KILN_FUZZ_GRAPHS_GRAPHFUZZ_H
