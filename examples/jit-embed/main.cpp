//===- examples/jit-embed/main.cpp - A model file inside a C++ program ----===//
//
// What a product embedding Kiln does: load an MXNet model file (any era's
// *-symbol.json plus its .params), JIT-compile it for one input shape, and
// run it on image-shaped inputs as often as needed, NDArrays in and out.
// The first forward compiles; later ones only run the kernels.
//
//   jit-embed MODEL-symbol.json MODEL-0000.params [--input-shape N,C,H,W]
//             [--image x.npy] [--output out.npy] [--runs R]
//
// Without --image the input is a fixed synthetic pattern of the given shape
// (default 1,1,28,28). Prints the top-5 classes of each image and, with
// --runs, the median time of a forward.
//
//===----------------------------------------------------------------------===//

#include "kiln/Error.h"
#include "kiln/Executor.h"
#include "kiln/NDArray.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

using namespace kiln;

namespace {

std::vector<int64_t> parseShape(const std::string &text) {
  std::vector<int64_t> dims;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string part = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    char *end = nullptr;
    long long d = std::strtoll(part.c_str(), &end, 10);
    if (part.empty() || *end || d <= 0)
      throw Error("--input-shape '" + text + "' is not a list of positive dimensions");
    dims.push_back(d);
    if (comma == std::string::npos)
      break;
    pos = comma + 1;
  }
  return dims;
}

/// A smooth, deterministic picture: the same input on every machine.
NDArray syntheticImage(const std::vector<int64_t> &shape) {
  Tensor t(shape);
  int64_t h = shape.size() >= 2 ? shape[shape.size() - 2] : 1, w = shape.back();
  for (int64_t i = 0; i < t.size(); ++i) {
    int64_t y = (i / w) % h, x = i % w;
    t.values[i] = 0.5f + 0.5f * std::sin(0.3f * x) * std::cos(0.2f * y);
  }
  return NDArray(t);
}

int run(int argc, char **argv) {
  if (argc < 3 || std::string(argv[1]) == "--help") {
    std::printf("usage: jit-embed MODEL-symbol.json MODEL.params [--input-shape N,C,H,W] "
                "[--image x.npy] [--output out.npy] [--runs R]\n");
    return argc < 3 ? 1 : 0;
  }
  std::string model = argv[1], params = argv[2], image, output;
  std::vector<int64_t> shape = {1, 1, 28, 28};
  int runs = 1;
  for (int i = 3; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc)
      throw Error(a + " needs a value");
    std::string v = argv[++i];
    if (a == "--input-shape")
      shape = parseShape(v);
    else if (a == "--image")
      image = v;
    else if (a == "--output")
      output = v;
    else if (a == "--runs")
      runs = std::max(1, std::stoi(v));
    else
      throw Error("unknown argument '" + a + "'");
  }
  NDArray x = image.empty() ? syntheticImage(shape) : nd::loadNpy(image);
  auto exec = Executor::load(model, params, {{"data", x.shape()}});

  std::vector<double> times;
  NDArray probs;
  for (int r = 0; r < runs; ++r) {
    auto start = std::chrono::steady_clock::now();
    probs = exec->forward({{"data", x}}, /*isTrain=*/false).front();
    probs.waitToRead();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::printf("%s: %s -> %s (compiled in %.0f ms)\n", model.c_str(), formatShape(x.shape()).c_str(),
              formatShape(probs.shape()).c_str(), 1e3 * exec->compileSeconds());
  std::vector<float> p = probs.toVector();
  int64_t rows = probs.shape()[0], classes = probs.size() / rows;
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<int64_t> order(classes);
    for (int64_t c = 0; c < classes; ++c)
      order[c] = c;
    std::sort(order.begin(), order.end(),
              [&](int64_t a, int64_t b) { return p[r * classes + a] > p[r * classes + b]; });
    std::printf("image %lld top-5:", (long long)r);
    for (int64_t k = 0; k < std::min<int64_t>(5, classes); ++k)
      std::printf(" %lld (%.4f)", (long long)order[k], p[r * classes + order[k]]);
    std::printf("\n");
  }
  if (runs > 1) {
    std::sort(times.begin() + 1, times.end());
    std::printf("forward: first %.2f ms, median of the rest %.3f ms\n", 1e3 * times[0],
                1e3 * times[1 + (times.size() - 1) / 2]);
  }
  if (!output.empty())
    nd::saveNpy(output, probs);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "jit-embed: error: %s\n", e.what());
    return 1;
  }
}
