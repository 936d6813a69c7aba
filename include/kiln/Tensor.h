//===- kiln/Tensor.h - A host tensor of float32 values ----------*- C++ -*-===//
//
// The value type that crosses Kiln's file formats, the reference interpreter
// and the tools: a dense, row-major float32 array with a shape. (Typed device
// arrays arrive with NDArray; every file format converts to f32 on load.)
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TENSOR_H
#define KILN_TENSOR_H

#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> values;

  Tensor() = default;
  Tensor(std::vector<int64_t> shape, std::vector<float> values)
      : shape(std::move(shape)), values(std::move(values)) {}
  explicit Tensor(std::vector<int64_t> shape)
      : shape(std::move(shape)), values(numElements(this->shape), 0.0f) {}

  static int64_t numElements(const std::vector<int64_t> &shape) {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
  int64_t size() const { return numElements(shape); }
};

/// "(2, 3, 4)": the shape as MXNet and NumPy print it, for messages.
std::string formatShape(const std::vector<int64_t> &shape);

} // namespace kiln

#endif // KILN_TENSOR_H
