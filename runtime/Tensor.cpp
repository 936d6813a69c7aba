//===- Tensor.cpp - Host tensor helpers -----------------------------------===//

#include "kiln/Tensor.h"

namespace kiln {

std::string formatShape(const std::vector<int64_t> &shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += ", ";
    s += std::to_string(shape[i]);
  }
  // Python writes a one-element tuple with a trailing comma; .npy headers
  // rely on that spelling, so keep it.
  if (shape.size() == 1)
    s += ",";
  s += ")";
  return s;
}

} // namespace kiln
