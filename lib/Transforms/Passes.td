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

#endif // KILN_TRANSFORMS_PASSES
