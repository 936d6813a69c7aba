//===- Passes.td - Kiln graph-level passes ------------------*- tablegen -*-===//

#ifndef KILN_TRANSFORMS_PASSES
#define KILN_TRANSFORMS_PASSES

include "mlir/Pass/PassBase.td"

def GraphInferShapes : Pass<"kiln-graph-infer-shapes", "::mlir::func::FuncOp"> {
  let summary = "Infer static shapes of every graph-dialect value, MXNet style";
  let description = [{
    Walks the function in order and asks each graph op
    (ShapeInferenceOpInterface) for its result shapes, refining unranked or
    dynamically shaped values. Like MXNet's InferShape it also infers the
    shapes of parameters from the data (a FullyConnected weight becomes
    `[num_hidden, K]`), updating the function's argument and result types.
    Fails, naming the op, when a shape cannot be inferred or is inconsistent.

    Before:
    ```mlir
    func.func @main(%x: tensor<2x4xf32>, %w: tensor<*xf32>) -> tensor<*xf32> {
      %y = graph.fully_connected %x, %w {num_hidden = 3 : i64, flatten = true}
          : (tensor<2x4xf32>, tensor<*xf32>) -> tensor<*xf32>
      return %y : tensor<*xf32>
    }
    ```
    After:
    ```mlir
    func.func @main(%x: tensor<2x4xf32>, %w: tensor<3x4xf32>) -> tensor<2x3xf32> {
      %y = graph.fully_connected %x, %w {num_hidden = 3 : i64}
          : (tensor<2x4xf32>, tensor<3x4xf32>) -> tensor<2x3xf32>
      return %y : tensor<2x3xf32>
    }
    ```
  }];
  let dependentDialects = ["::kiln::graph::GraphDialect"];
}

def GraphFuse : Pass<"kiln-graph-fuse", "::mlir::func::FuncOp"> {
  let summary = "Group producers with their elementwise epilogues into fusion groups";
  let description = [{
    Finds fusion groups in a model function (kernel functions, marked
    `kiln.kernel`, are skipped) and records them as
    `kiln.fusion_group = N : i64` on every op of a group of two or more;
    `kiln-outline-kernels` and `buildExecutable` then make one kernel per
    group, so the group's intermediates never touch the arena.

    A group starts at a producer (convolution, fully_connected,
    deconvolution, batch_norm, pooling, or an elementwise / broadcast / view
    op) and follows its result while it has exactly one user that reads it
    elementwise: activation, leaky_relu, the `*_scalar` ops, elemwise_*,
    add_n (a residual add: its other operands are computed outside the
    group), broadcast_* where the fused value is the full-size operand (a
    bias, a per-channel scale), inference batch_norm (a per-channel affine
    map), dropout (identity at inference; not `mode = always`), and the
    views flatten, reshape and identity.

    Deliberately not fused: a value with several users (the value would
    still be written out; nothing is recomputed), a returned value that is
    also read by another op, softmax / reductions / pooling / convolution
    and other non-elementwise consumers, a consumer that also reads a value
    computed from the group (a cycle), and dropout with `mode = always`.
    With `remarks=1` each op whose chain stops at a consumer gets a remark
    saying why.

    Before:
    ```mlir
    %c = graph.convolution %x, %w, %b {kernel = array<i64: 3, 3>, num_filter = 8 : i64} : ...
    %n = graph.batch_norm %c, %g, %be, %mm, %mv : ...
    %r = graph.activation %n {act_type = #graph.act_type<relu>} : ...
    %p = graph.pooling %r {kernel = array<i64: 2, 2>, pool_type = #graph.pool_type<max>} : ...
    ```
    After:
    ```mlir
    %c = graph.convolution %x, %w, %b {kernel = array<i64: 3, 3>, kiln.fusion_group = 0 : i64,
                                       num_filter = 8 : i64} : ...
    %n = graph.batch_norm %c, %g, %be, %mm, %mv {kiln.fusion_group = 0 : i64} : ...
    %r = graph.activation %n {act_type = #graph.act_type<relu>, kiln.fusion_group = 0 : i64} : ...
    %p = graph.pooling %r {kernel = array<i64: 2, 2>, pool_type = #graph.pool_type<max>} : ...
    ```
  }];
  let options = [
    Option<"remarks", "remarks", "bool", /*default=*/"false",
           "Emit a remark where a chain stops at a consumer, saying why">,
    Option<"maxGroupSize", "max-group-size", "unsigned", /*default=*/"0",
           "Most ops in one group (0: no limit)">,
  ];
  let statistics = [
    Statistic<"numGroups", "num-groups", "Fusion groups formed">,
    Statistic<"numFusedOps", "num-fused-ops", "Ops fused into a producer's group">,
  ];
  let dependentDialects = ["::kiln::graph::GraphDialect"];
}

def OutlineKernels : Pass<"kiln-outline-kernels", "::mlir::ModuleOp"> {
  let summary = "Put each graph op of the model function into its own kernel function";
  let description = [{
    The unit the runtime launches is a kernel: a private function
    `@kiln_kernel_N` taking static tensors and returning tensors, which the
    lowering turns into a packed entry `kiln_kernel_N_packed(void **)`. This
    pass builds one kernel per group of graph ops in the model function
    (one per `kiln.fusion_group` left by kiln-graph-fuse, one per other op)
    and replaces the group by a `func.call` placed at the group's last op.
    The call keeps the op's location, so the MXNet node name (NameLoc)
    survives for errors; each kernel records it in
    `kiln.node_name`, the op name(s) in `kiln.op_name` and, per result, the
    kernel argument the result may overwrite in `kiln.inplace` (-1: none).
    A returned value that is a function argument, a constant or returned
    twice gets a `graph.identity` first, so every output is written by
    exactly one kernel into the caller's buffer.

    Before:
    ```mlir
    func.func @main(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
      %0 = graph.activation %x {act_type = #graph.act_type<relu>}
          : (tensor<2x3xf32>) -> tensor<2x3xf32> loc("relu0")
      return %0 : tensor<2x3xf32>
    }
    ```
    After:
    ```mlir
    func.func @main(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
      %0 = call @kiln_kernel_0(%x) : (tensor<2x3xf32>) -> tensor<2x3xf32> loc("relu0")
      return %0 : tensor<2x3xf32>
    }
    func.func private @kiln_kernel_0(%arg0: tensor<2x3xf32>) -> tensor<2x3xf32>
        attributes {kiln.inplace = array<i64: 0>, kiln.kernel,
                    kiln.node_name = "relu0", kiln.op_name = "graph.activation"} {
      %0 = graph.activation %arg0 {act_type = #graph.act_type<relu>}
          : (tensor<2x3xf32>) -> tensor<2x3xf32> loc("relu0")
      return %0 : tensor<2x3xf32>
    }
    ```
  }];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"\"main\"",
           "Name of the model function whose graph ops become kernels">,
  ];
  let statistics = [
    Statistic<"numKernels", "num-kernels", "Kernel functions created">,
  ];
  let dependentDialects = ["::kiln::graph::GraphDialect", "::mlir::func::FuncDialect"];
}

def PlanMemory : Pass<"kiln-plan-memory", "::mlir::func::FuncOp"> {
  let summary = "Plan the arena offset of every intermediate tensor (MXNet in-place + co-share)";
  let description = [{
    Runs the static memory planner (lib/Transforms/MemoryPlan.h) on each
    non-kernel function in program order and writes the result as
    attributes, for tests and `--print-ir-after-all` readers; the executable
    builder calls the same planner from C++. Each op gets `kiln.storage`
    and `kiln.offset`, one entry per result (-1 for results that live outside
    the arena: returned values). The function gets `kiln.arena_bytes` (the
    chosen strategy's arena) and `kiln.memory_report` (bytes under naive,
    inplace, coshare and both; see docs/execution-plan.md).

    Before:
    ```mlir
    func.func @main(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
      %0 = call @kiln_kernel_0(%x) : (tensor<4x8xf32>) -> tensor<4x8xf32>
      %1 = call @kiln_kernel_1(%0) : (tensor<4x8xf32>) -> tensor<4x8xf32>
      return %1 : tensor<4x8xf32>
    }
    ```
    After (`strategy=both`):
    ```mlir
    func.func @main(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {
        kiln.arena_bytes = 128 : i64, kiln.memory_report = {both = 128 : i64,
        coshare = 128 : i64, inplace = 128 : i64, naive = 128 : i64}} {
      %0 = call @kiln_kernel_0(%x) {kiln.offset = array<i64: 0>, kiln.storage = array<i64: 0>} ...
      %1 = call @kiln_kernel_1(%0) {kiln.offset = array<i64: -1>, kiln.storage = array<i64: -1>} ...
      return %1 : tensor<4x8xf32>
    }
    ```
  }];
  let options = [
    Option<"strategy", "strategy", "std::string", /*default=*/"\"both\"",
           "naive, inplace, coshare or both">,
  ];
  let statistics = [
    Statistic<"numTensors", "num-tensors", "Tensors seen by the planner">,
    Statistic<"arenaBytes", "arena-bytes", "Arena bytes planned (sum over functions)">,
  ];
}

def GraphTrainingMode : Pass<"kiln-graph-training-mode", "::mlir::func::FuncOp"> {
  let summary = "Rewrite a model function to training mode (batch statistics, dropout masks)";
  let description = [{
    Makes training-mode behaviour explicit, so the function is an ordinary
    pure function whichever engine runs it (docs/autodiff.md):
    - `batch_norm` (unless `use_global_stats`) becomes `batch_norm_train`,
      which normalizes with the batch statistics, and the moving statistics
      m·moving + (1 − m)·batch become extra results;
    - `dropout` (mode training or always, p > 0) becomes
      `x · dropout_mask(counter)`, the mask a pure function of a seed, the
      counter and the element index (p = 0: the identity);
    - `leaky_relu` rrelu becomes max(x, 0) + a·min(x, 0) with per-element
      slopes a = `random_uniform(counter)` in [lower_bound, upper_bound).
    When a random op is created, a `tensor<1xf32>` argument
    `{graph.name = "rng_counter", graph.kind = "rng_counter"}` (the
    iteration number) is appended. Heads get `graph.kind = "output"`; then
    one result per aux argument follows, in aux-argument order,
    `{graph.kind = "aux", graph.name = <aux name>}`: the updated state, or
    the argument itself when nothing updates it. The k-th random op (in
    program order) gets seed `seed` + k. The function is marked
    `graph.training`; a marked function is left alone.

    Before:
    ```mlir
    func.func @main(%x: tensor<4x2xf32> {graph.kind = "input", graph.name = "data"},
                    %g: tensor<2xf32> {graph.kind = "param", graph.name = "bn_gamma"},
                    %b: tensor<2xf32> {graph.kind = "param", graph.name = "bn_beta"},
                    %mm: tensor<2xf32> {graph.kind = "aux", graph.name = "bn_moving_mean"},
                    %mv: tensor<2xf32> {graph.kind = "aux", graph.name = "bn_moving_var"})
        -> (tensor<4x2xf32> {graph.name = "drop_output"}) {
      %0 = graph.batch_norm %x, %g, %b, %mm, %mv : (...) -> tensor<4x2xf32> loc("bn")
      %1 = graph.dropout %0 : (tensor<4x2xf32>) -> tensor<4x2xf32> loc("drop")
      return %1 : tensor<4x2xf32>
    }
    ```
    After:
    ```mlir
    func.func @main(..., %rng_counter: tensor<1xf32> {graph.kind = "rng_counter",
                                                      graph.name = "rng_counter"})
        -> (tensor<4x2xf32> {graph.kind = "output", graph.name = "drop_output"},
            tensor<2xf32> {graph.kind = "aux", graph.name = "bn_moving_mean"},
            tensor<2xf32> {graph.kind = "aux", graph.name = "bn_moving_var"})
        attributes {graph.training} {
      %y, %mean, %var = graph.batch_norm_train %x, %g, %b : (...) -> (...) loc("bn")
      %0 = graph.mul_scalar %mm {scalar = 0.89999997615814208 : f64} : ... loc("bn_moving_mean")
      %1 = graph.mul_scalar %mean {scalar = 0.10000002384185791 : f64} : ... loc("bn_moving_mean")
      %2 = graph.elemwise_add %0, %1 : ... loc("bn_moving_mean")
      ... the same for the variance ...
      %m = graph.dropout_mask %rng_counter {seed = 0 : i64, shape = array<i64: 4, 2>}
          : (tensor<1xf32>) -> tensor<4x2xf32> loc("drop")
      %6 = graph.elemwise_mul %y, %m : ... loc("drop")
      return %6, %2, %5 : tensor<4x2xf32>, tensor<2xf32>, tensor<2xf32>
    }
    ```
  }];
  let options = [
    Option<"seed", "seed", "uint64_t", /*default=*/"0",
           "Base seed of the random ops (the k-th gets seed + k)">,
  ];
  let dependentDialects = ["::kiln::graph::GraphDialect"];
}

def GraphAutodiff : Pass<"kiln-autodiff", "::mlir::func::FuncOp"> {
  let summary = "Turn a model function into its forward+backward function";
  let description = [{
    Applies kiln-graph-training-mode (unless the function is already in
    training mode), infers shapes, then appends the reverse-mode backward:
    ops are visited in reverse and each graph op's GradientOpInterface
    builds the gradients of its operands from those of its results
    (docs/autodiff.md lists every rule); gradients meeting at a value along
    several uses are summed with `elemwise_add` (two) or `add_n` (more).
    The results become, in order:
    1. the original heads, `graph.kind = "output"`;
    2. the gradient of every argument in `wrt` (default: every argument of
       `graph.kind = "param"`), in argument order,
       `{graph.kind = "grad", graph.name = <argument name>}`; an argument
       nothing depends on gets zeros;
    3. the updated aux states of training mode, `graph.kind = "aux"`.
    Loss heads (`softmax_output` unless `out_grad`, and the three regression
    outputs) use their built-in gradient and ignore head gradients, as
    MXNet. Every other head gets its gradient from a new argument appended
    at the end, of the head's type,
    `{graph.name = "<head name>_grad", graph.kind = "head_grad"}`.
    Gradient ops whose value nobody needs (say the data gradient of the
    first layer) are removed. Fails on an unknown or aux argument in `wrt`
    and on an op that has no gradient (e.g. a backward op: no second order).

    Before:
    ```mlir
    func.func @main(%x: tensor<2x4xf32> {graph.kind = "input", graph.name = "data"},
                    %w: tensor<3x4xf32> {graph.kind = "param", graph.name = "fc_weight"})
        -> (tensor<2x3xf32> {graph.name = "fc_output"}) {
      %0 = graph.fully_connected %x, %w {num_hidden = 3 : i64}
          : (tensor<2x4xf32>, tensor<3x4xf32>) -> tensor<2x3xf32> loc("fc")
      return %0 : tensor<2x3xf32>
    }
    ```
    After:
    ```mlir
    func.func @main(%x: tensor<2x4xf32> {graph.kind = "input", graph.name = "data"},
                    %w: tensor<3x4xf32> {graph.kind = "param", graph.name = "fc_weight"},
                    %dy: tensor<2x3xf32> {graph.kind = "head_grad",
                                          graph.name = "fc_output_grad"})
        -> (tensor<2x3xf32> {graph.kind = "output", graph.name = "fc_output"},
            tensor<3x4xf32> {graph.kind = "grad", graph.name = "fc_weight"})
        attributes {graph.differentiated, graph.training} {
      %0 = graph.fully_connected %x, %w {num_hidden = 3 : i64} : ... loc("fc")
      %1 = graph.dot %dy, %x {transpose_a = true}
          : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<3x4xf32> loc("fc_backward")
      return %0, %1 : tensor<2x3xf32>, tensor<3x4xf32>
    }
    ```
  }];
  let options = [
    ListOption<"wrt", "wrt", "std::string",
               "Argument names (graph.name) to differentiate with respect to "
               "(default: every param)">,
    Option<"seed", "seed", "uint64_t", /*default=*/"0",
           "Base seed of training mode's random ops">,
  ];
  let dependentDialects = ["::kiln::graph::GraphDialect"];
}

def GraphRecompute : Pass<"kiln-recompute", "::mlir::func::FuncOp"> {
  let summary = "Recompute cheap forward values in the backward (MXNet's mirror)";
  let description = [{
    Runs on the forward+backward function of kiln-autodiff (graph dialect,
    before kiln-graph-fuse), like MXNet's `MXNET_BACKWARD_DO_MIRROR`: a
    forward value that the backward reads is cloned, with its producing
    chain, right before its first backward use, and every backward use reads
    the clone. The forward value then dies in the forward instead of staying
    alive until the backward reaches it, which lowers the training plan's
    peak; the price is running the chain again.

    Forward ops are those the heads and aux results (`graph.kind` "output",
    "aux") depend on; every other op is backward. Recomputed are values of
    cheap ops — activation, leaky_relu, elementwise and scalar ops,
    broadcasts, views, `dropout_mask` / `random_uniform` (pure functions of
    the RNG counter) and, unless `batch-norm=false`, the normalized output of
    `batch_norm_train` (the clone recomputes the batch statistics from the
    same input; the forward's statistics keep feeding the moving-average
    updates and batch_norm_grad, so no aux state is updated twice). Never
    recomputed: convolution, deconvolution, fully_connected, dot, pooling,
    concat, softmax, reductions and the backward kernels. A chain may only
    end at values alive in the backward anyway (arguments, returned values,
    forward values the backward reads and that are not recomputed) or at
    values ≤ 1/16 the size of the recomputed one, and is at most `max-depth`
    ops long; otherwise the value is left alone. Clones are named
    `loc("<node>_recompute")`; the function is marked `graph.recomputed` (a
    second application is a no-op). Fails on a function that is not marked
    `graph.differentiated`. docs/memory.md gives the resnet50 numbers.

    Before (BatchNorm → relu → convolution; conv_weight_grad reads the relu
    output, so it is alive from the forward into the backward):
    ```mlir
    %c = graph.convolution %x, %w1 {...} : ... loc("conv1")
    %y, %mean, %var = graph.batch_norm_train %c, %g, %b : ... loc("bn")
    %r = graph.activation %y {act_type = #graph.act_type<relu>} : ... loc("relu")
    %o = graph.convolution %r, %w2 {...} : ... loc("conv2")
    ...
    %dw2 = graph.convolution_weight_grad %r, %do {...} : ... loc("conv2_backward")
    %dr = graph.deconvolution %do, %w2 {...} : ... loc("conv2_backward")
    %dy = graph.activation_grad %dr, %r {...} : ... loc("relu_backward")
    %dc, %dg, %db = graph.batch_norm_grad %c, %g, %mean, %var, %dy : ... loc("bn_backward")
    ```
    After (the convolution's output %c is read by batch_norm_grad anyway,
    so recomputing %r from it costs no memory; %r dies at conv2):
    ```mlir
    %c = graph.convolution %x, %w1 {...} : ... loc("conv1")
    %y, %mean, %var = graph.batch_norm_train %c, %g, %b : ... loc("bn")
    %r = graph.activation %y {act_type = #graph.act_type<relu>} : ... loc("relu")
    %o = graph.convolution %r, %w2 {...} : ... loc("conv2")
    ...
    %y2, %m2, %v2 = graph.batch_norm_train %c, %g, %b : ... loc("bn_recompute")
    %r2 = graph.activation %y2 {act_type = #graph.act_type<relu>} : ... loc("relu_recompute")
    %dw2 = graph.convolution_weight_grad %r2, %do {...} : ... loc("conv2_backward")
    %dr = graph.deconvolution %do, %w2 {...} : ... loc("conv2_backward")
    %dy = graph.activation_grad %dr, %r2 {...} : ... loc("relu_backward")
    %dc, %dg, %db = graph.batch_norm_grad %c, %g, %mean, %var, %dy : ... loc("bn_backward")
    ```
  }];
  let options = [
    Option<"maxDepth", "max-depth", "unsigned", /*default=*/"4",
           "Most ops cloned along one path to recompute a value">,
    Option<"batchNorm", "batch-norm", "bool", /*default=*/"true",
           "Recompute batch_norm_train's normalized output (false: MXNet's mirror set)">,
  ];
  let statistics = [
    Statistic<"numValues", "num-values", "Forward values recomputed in the backward">,
    Statistic<"numOps", "num-ops", "Ops cloned into the backward">,
  ];
  let dependentDialects = ["::kiln::graph::GraphDialect"];
}

#endif // KILN_TRANSFORMS_PASSES
