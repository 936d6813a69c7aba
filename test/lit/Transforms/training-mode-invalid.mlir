// RUN: kiln-opt %s --kiln-graph-training-mode -split-input-file -verify-diagnostics

func.func @dynamic_dropout(%x: tensor<*xf32> {graph.kind = "input", graph.name = "data"}) -> tensor<*xf32> {
  // expected-error @+1 {{'graph.dropout' op needs a static input shape in training mode (its mask is drawn per element); run kiln-graph-infer-shapes first}}
  %0 = graph.dropout %x : (tensor<*xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}
