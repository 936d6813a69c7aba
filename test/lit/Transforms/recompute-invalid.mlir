// kiln-recompute needs kiln-autodiff's forward+backward function.
// RUN: kiln-opt %s --kiln-recompute --split-input-file --verify-diagnostics

// expected-error @below {{kiln-recompute needs the forward+backward function of kiln-autodiff (marked graph.differentiated)}}
func.func @inference(%x: tensor<2x3xf32> {graph.kind = "input", graph.name = "data"})
    -> (tensor<2x3xf32> {graph.name = "out"}) {
  %0 = graph.activation %x {act_type = #graph.act_type<relu>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
