// RUN: kiln-opt %s -split-input-file -kiln-outline-kernels -verify-diagnostics

func.func @main(%x: tensor<?x3xf32>) -> tensor<?x3xf32> {
  // expected-error @+1 {{cannot become a kernel: 'tensor<?x3xf32>' is not a static tensor (run kiln-graph-infer-shapes first)}}
  %a = graph.activation %x {act_type = #graph.act_type<relu>} : (tensor<?x3xf32>) -> tensor<?x3xf32>
  %b = graph.activation %a {act_type = #graph.act_type<relu>} : (tensor<?x3xf32>) -> tensor<?x3xf32>
  return %b : tensor<?x3xf32>
}

// -----

// expected-error @+1 {{kiln-outline-kernels: no function @main with a body}}
module {
  func.func @model(%x: tensor<2xf32>) -> tensor<2xf32> {
    return %x : tensor<2xf32>
  }
}
