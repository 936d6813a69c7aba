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

#endif // KILN_TRANSFORMS_PASSES
