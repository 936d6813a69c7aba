//===- kiln/Zoo.h - Built-in networks ---------------------------*- C++ -*-===//
//
// The networks of MXNet's example/image-classification/symbols, with the
// same layers, node names and attributes as MXNet builds them (so their
// checkpoints are interchangeable): mlp, lenet, alexnet, vgg16, googlenet,
// inception-bn, resnet18, resnet50. Each ends in SoftmaxOutput "softmax"
// with label variable "softmax_label"; the input is "data".
//
//===----------------------------------------------------------------------===//

#ifndef KILN_ZOO_H
#define KILN_ZOO_H

#include "kiln/Symbol.h"

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::zoo {

struct ZooOptions {
  int numClasses = 10;
  /// (channels, height, width) of one image. inception-bn and resnet pick
  /// their small-image variants from the height, as MXNet's scripts do;
  /// alexnet, vgg16 and googlenet need about 224×224 to have valid shapes.
  std::vector<int64_t> imageShape = {1, 28, 28};
};

/// Builds network `name`. Automatic names restart from zero for each build
/// ("convolution0", ...), as in a fresh MXNet process. Throws kiln::Error
/// listing names() for an unknown name, or for a bad option.
Symbol build(const std::string &name, const ZooOptions &opts = {});

/// The available network names, in a stable order.
std::vector<std::string> names();

} // namespace kiln::zoo

#endif // KILN_ZOO_H
