//===- examples/eager-mlp/main.cpp - Training imperatively ----------------===//
//
// An MLP (784-128-64-10, MXNet's zoo "mlp") trained on Fashion-MNIST one
// eager call at a time: NDArrays for the parameters, autograd::RecordScope
// around the forward, backward() for the gradients, and plain SGD written
// as NDArray arithmetic. Every call compiles once (the kernel cache) and
// runs asynchronously on the engine; the recorded forward is differentiated
// by the same kiln-autodiff pass a compiled network goes through.
//
//   eager-mlp [--epochs N] [--batch-size B] [--lr X] [--seed S]
//             [--max-batches N]   (per epoch; for quick runs)
//
// Prints one line per epoch (loss, training and test accuracy, time, the
// kernel cache's hit rate) and exits non-zero on any error.
//
//===----------------------------------------------------------------------===//

#include "kiln/DataIter.h"
#include "kiln/Error.h"
#include "kiln/Initializer.h"
#include "kiln/NDArray.h"
#include "kiln/Random.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace kiln;

namespace {

struct Options {
  int epochs = 1;
  int64_t batchSize = 64;
  float lr = 0.1f;
  uint64_t seed = 1;
  int64_t maxBatches = -1;
};

Options parse(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        throw Error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--epochs")
      o.epochs = std::stoi(value());
    else if (a == "--batch-size")
      o.batchSize = std::stoll(value());
    else if (a == "--lr")
      o.lr = std::stof(value());
    else if (a == "--seed")
      o.seed = std::stoull(value());
    else if (a == "--max-batches")
      o.maxBatches = std::stoll(value());
    else if (a == "--help" || a == "-h") {
      std::printf("usage: eager-mlp [--epochs N] [--batch-size B] [--lr X] [--seed S] "
                  "[--max-batches N]\n");
      std::exit(0);
    } else
      throw Error("unknown argument '" + a + "' (see --help)");
  }
  if (o.epochs < 1 || o.batchSize < 1 || !(o.lr > 0))
    throw Error("--epochs, --batch-size and --lr must be positive");
  return o;
}

/// A fully connected layer's parameters, initialized as MXNet's Xavier
/// (uniform, avg, 3) and zero bias, with gradient buffers.
struct Dense {
  NDArray weight, bias;
  int64_t units;

  Dense(int64_t in, int64_t out, Random &rng) : units(out) {
    Tensor w({out, in}), b({out});
    Xavier()("fc_weight", w, rng);
    weight = NDArray(w);
    bias = NDArray(b);
    weight.attachGrad();
    bias.attachGrad();
  }
  NDArray operator()(const NDArray &x) const { return nd::FullyConnected(x, weight, bias, units); }
  void sgd(float lr) {
    weight -= weight.grad() * lr;
    bias -= bias.grad() * lr;
  }
};

struct MLP {
  Dense fc1, fc2, fc3;
  explicit MLP(Random &rng) : fc1(784, 128, rng), fc2(128, 64, rng), fc3(64, 10, rng) {}
  NDArray logits(const NDArray &x) const {
    NDArray h = nd::Activation(fc1(nd::Flatten(x)), "relu");
    h = nd::Activation(fc2(h), "relu");
    return fc3(h);
  }
};

/// Adds the batch's cross-entropy and correct predictions (rows < valid).
void score(const std::vector<float> &probs, const std::vector<float> &labels, int64_t valid,
           double &loss, int64_t &correct) {
  for (int64_t r = 0; r < valid; ++r) {
    const float *p = probs.data() + r * 10;
    int64_t best = 0;
    for (int64_t c = 1; c < 10; ++c)
      if (p[c] > p[best])
        best = c;
    correct += best == static_cast<int64_t>(labels[r]);
    loss -= std::log(std::max(p[static_cast<int64_t>(labels[r])], 1e-12f));
  }
}

int run(const Options &o) {
  DatasetFiles files = locateDataset("fashion-mnist");
  BatchOptions batch;
  batch.batchSize = o.batchSize;
  batch.shuffle = true;
  batch.seed = o.seed;
  MNISTIter train(datasetOptions(files, "train", batch));
  BatchOptions evalBatch = batch;
  evalBatch.shuffle = false;
  MNISTIter test(datasetOptions(files, "test", evalBatch));

  Random rng(o.seed);
  MLP net(rng);
  for (int epoch = 0; epoch < o.epochs; ++epoch) {
    auto start = std::chrono::steady_clock::now();
    nd::CacheStats before = nd::cacheStats();
    double loss = 0;
    int64_t correct = 0, seen = 0, batches = 0;
    train.setEpoch(epoch);
    while (const Batch *b = train.next()) {
      if (o.maxBatches >= 0 && batches >= o.maxBatches)
        break;
      NDArray x(b->data), y(b->label);
      NDArray out;
      {
        autograd::RecordScope record;
        out = nd::SoftmaxOutput(net.logits(x), y);
      }
      out.backward();
      net.fc1.sgd(o.lr / o.batchSize);
      net.fc2.sgd(o.lr / o.batchSize);
      net.fc3.sgd(o.lr / o.batchSize);
      int64_t valid = b->data.shape[0] - b->pad;
      score(out.toVector(), b->label.values, valid, loss, correct);
      seen += valid;
      ++batches;
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    nd::CacheStats after = nd::cacheStats();
    int64_t hits = after.hits - before.hits, misses = after.misses - before.misses;

    int64_t testCorrect = 0, testSeen = 0;
    double testLoss = 0;
    test.setEpoch(0);
    while (const Batch *b = test.next()) {
      NDArray probs = nd::softmax(net.logits(NDArray(b->data)));
      int64_t valid = b->data.shape[0] - b->pad;
      score(probs.toVector(), b->label.values, valid, testLoss, testCorrect);
      testSeen += valid;
    }
    std::printf("epoch %d: loss %.4f  train acc %.4f  test acc %.4f  %.1f s (%.2f ms/step)  "
                "kernel cache %lld hits / %lld misses (%.2f%% hits)\n",
                epoch + 1, loss / std::max<int64_t>(seen, 1),
                double(correct) / std::max<int64_t>(seen, 1),
                double(testCorrect) / std::max<int64_t>(testSeen, 1), seconds,
                1e3 * seconds / std::max<int64_t>(batches, 1), (long long)hits, (long long)misses,
                100.0 * hits / std::max<int64_t>(hits + misses, 1));
    std::fflush(stdout);
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  try {
    return run(parse(argc, argv));
  } catch (const std::exception &e) {
    std::fprintf(stderr, "eager-mlp: error: %s\n", e.what());
    return 1;
  }
}
