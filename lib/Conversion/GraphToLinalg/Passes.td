//===- Passes.td - Graph dialect to linalg conversion -------*- tablegen -*-===//

#ifndef KILN_CONVERSION_GRAPHTOLINALG_PASSES
#define KILN_CONVERSION_GRAPHTOLINALG_PASSES

include "mlir/Pass/PassBase.td"

def ConvertGraphToLinalg : Pass<"kiln-convert-graph-to-linalg", "::mlir::func::FuncOp"> {
  let summary = "Lower graph-dialect ops to linalg/tensor/arith/math on tensors";
  let description = [{
    Rewrites every graph op of a function into destination-style ops on
    static-shaped tensors: named linalg ops where they fit (matmul with a
    transposed-B indexing map for FullyConnected, conv_{1d_ncw_fcw,
    2d_nchw_fchw,3d_ncdhw_fcdhw}, pooling_{ncw,nchw}_{max,sum}, transpose,
    reduce, fill) and linalg.generic for everything elementwise, broadcast,
    softmax-like, grouped convolution, deconvolution, LRN and embedding.
    Shape ops become tensor.collapse_shape / expand_shape / extract_slice /
    insert_slice. The transposes of windowed gathers (deconvolution's
    col2im, pooling gradients) are an scf.for nest over the kernel taps,
    each tap one elementwise generic on a strided slice. Forward ops have
    MXNet's inference semantics (SPEC §2.3): BatchNorm uses the moving
    statistics, Dropout is the identity, rrelu uses the mean slope, loss
    heads compute their forward only; training runs through the explicit
    training and gradient ops (batch_norm_train, *_grad, dot, slice_axis;
    dialects/Graph/GraphGradOps.td), lowered with the semantics their
    descriptions give.

    Every operand and result must be a static-shaped float tensor (run
    kiln-graph-infer-shapes first). An op that cannot be lowered (Dropout
    with mode=always, a non-static shape) fails the pass with an error that
    names the op.

    Before:
    ```mlir
    func.func @f(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
      %0 = graph.activation %x {act_type = #graph.act_type<relu>}
          : (tensor<2x3xf32>) -> tensor<2x3xf32>
      return %0 : tensor<2x3xf32>
    }
    ```
    After:
    ```mlir
    func.func @f(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
      %e = tensor.empty() : tensor<2x3xf32>
      %0 = linalg.generic {indexing_maps = [#id, #id],
                           iterator_types = ["parallel", "parallel"]}
          ins(%x : tensor<2x3xf32>) outs(%e : tensor<2x3xf32>) {
      ^bb0(%in: f32, %out: f32):
        %c0 = arith.constant 0.0 : f32
        %p = arith.cmpf ogt, %in, %c0 : f32
        %r = arith.select %p, %in, %c0 : f32
        linalg.yield %r : f32
      } -> tensor<2x3xf32>
      return %0 : tensor<2x3xf32>
    }
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

#endif // KILN_CONVERSION_GRAPHTOLINALG_PASSES
