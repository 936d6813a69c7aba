//===- kiln-train.cpp - Train a network on a data set ---------------------===//
//
// kiln-train --model zoo:NAME|MODEL-symbol.json --dataset fashion-mnist
//            --epochs N --batch-size B [--optimizer sgd|adam] [--lr X]
//            [--kvstore local|dist_sync|nccl] [--seed S] --save PREFIX
//            [--resume PREFIX-NNNN.params] [--log-json FILE] [--recompute]
//            [--bench-steps N [--bench-shape C,H,W]]   (time N steps, then exit)
//
// Contract: shared/SPEC.md §1.2b. One compiled training step (forward +
// backward, kiln-autodiff) and one compiled optimizer update per batch;
// validation on the test split after every epoch; an MXNet checkpoint
// (PREFIX-symbol.json, PREFIX-%04d.params, written atomically) after every
// epoch.
//
//===----------------------------------------------------------------------===//

#include "Compiler/Driver.h"
#include "kiln/DataIter.h"
#include "kiln/Error.h"
#include "kiln/Executor.h"
#include "kiln/Initializer.h"
#include "kiln/KVStore.h"
#include "kiln/Optimizer.h"
#include "kiln/Random.h"
#include "runtime/kvstore/Backends.h"
#ifdef KILN_HAVE_MPI_BACKEND
#include "runtime/kvstore/MPICommunicator.h"
#endif

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sys/resource.h>
#include <unistd.h>

using namespace kiln;
namespace cl = llvm::cl;

static cl::OptionCategory category("kiln-train options");
static cl::opt<std::string> modelArg("model", cl::desc("zoo:NAME or MODEL-symbol.json"),
                                     cl::value_desc("MODEL"), cl::Required, cl::cat(category));
static cl::opt<std::string> datasetArg("dataset", cl::desc("Data set (fashion-mnist)"),
                                       cl::init("fashion-mnist"), cl::cat(category));
static cl::opt<int> epochsArg("epochs", cl::desc("Epochs to train"), cl::init(1),
                              cl::cat(category));
static cl::opt<int> batchArg("batch-size", cl::desc("Batch size"), cl::init(64),
                             cl::cat(category));
static cl::opt<std::string> optimizerArg("optimizer", cl::desc("sgd or adam"),
                                         cl::init("sgd"), cl::cat(category));
static cl::opt<double> lrArg("lr", cl::desc("Learning rate (default: sgd 0.1, adam 0.001)"),
                             cl::init(-1), cl::cat(category));
static cl::opt<double> momentumArg("momentum", cl::desc("SGD momentum"), cl::init(0.9),
                                   cl::cat(category));
static cl::opt<double> wdArg("wd", cl::desc("Weight decay"), cl::init(0.0), cl::cat(category));
static cl::opt<std::string> kvstoreArg("kvstore",
                                       cl::desc("local, dist_sync (under mpirun: each rank "
                                                "trains on its shard, gradients summed) or nccl"),
                                       cl::init("local"), cl::cat(category));
static cl::opt<unsigned long long> seedArg("seed", cl::desc("Seed of initialization and shuffling"),
                                           cl::init(0), cl::cat(category));
static cl::opt<std::string> saveArg("save", cl::desc("Checkpoint prefix"),
                                    cl::value_desc("PREFIX"), cl::Required, cl::cat(category));
static cl::opt<std::string> resumeArg("resume",
                                      cl::desc("Start from this checkpoint's parameters and epoch"),
                                      cl::value_desc("PREFIX-NNNN.params"), cl::cat(category));
static cl::opt<std::string> logJsonArg("log-json", cl::desc("Append one JSON object per epoch"),
                                       cl::value_desc("FILE"), cl::cat(category));
static cl::opt<std::string> engineArg("engine",
                                      cl::desc("compiled (default) or reference (interpreter)"),
                                      cl::init("compiled"), cl::cat(category));
static cl::opt<int> maxBatchesArg("max-batches",
                                  cl::desc("Stop each epoch after N batches (smoke runs)"),
                                  cl::init(0), cl::cat(category));
static cl::opt<bool> recomputeArg(
    "recompute",
    cl::desc("Recompute cheap activations in the backward instead of keeping them from the "
             "forward (MXNet's mirror; smaller training arena, more compute; docs/memory.md)"),
    cl::cat(category));
static cl::opt<bool> overlapArg(
    "overlap",
    cl::desc("Reduce each group of gradients across workers as soon as the backward has "
             "computed it, overlapping communication with the rest of the backward (default); "
             "--overlap=false pushes all gradients after the backward and updates on the store"),
    cl::init(true), cl::cat(category));
static cl::opt<int> benchStepsArg(
    "bench-steps",
    cl::desc("Time N training steps on the first batch after warm-up, print peak RSS and "
             "'bench: iters=N min_ms=X median_ms=Y', write no checkpoint, exit"),
    cl::init(0), cl::cat(category));
static cl::list<int64_t> benchShapeArg(
    "bench-shape",
    cl::desc("With --bench-steps: random data of this image shape C,H,W instead of the data "
             "set's (labels still come from its first batch)"),
    cl::CommaSeparated, cl::cat(category));

namespace {

struct EpochStats {
  double lossSum = 0;
  int64_t correct = 0, seen = 0;

  /// Cross-entropy and accuracy of softmax outputs `probs` [B, K] against
  /// `labels` [B], skipping the last `pad` rows (MXNet's padded batch).
  void add(const Tensor &probs, const Tensor &labels, int64_t pad) {
    int64_t b = probs.shape[0], k = probs.size() / b;
    for (int64_t i = 0; i < b - pad; ++i) {
      const float *p = probs.values.data() + i * k;
      int64_t label = static_cast<int64_t>(labels.values[i]);
      int64_t best = std::max_element(p, p + k) - p;
      correct += best == label;
      lossSum += -std::log(std::max(p[std::clamp<int64_t>(label, 0, k - 1)], 1e-12f));
      ++seen;
    }
  }
  double loss() const { return seen ? lossSum / seen : 0; }
  double accuracy() const { return seen ? double(correct) / seen : 0; }
};

/// The input fed with labels: MXNet's convention is a name ending in "label".
std::string labelInput(const Executor &exec) {
  for (const std::string &n : exec.inputNames())
    if (n.size() >= 5 && n.compare(n.size() - 5, 5, "label") == 0)
      return n;
  throw Error(modelArg + ": the network has no label input (an input whose name ends in "
                         "'label', e.g. softmax_label)");
}

std::string dataInput(const Executor &exec, const std::string &label) {
  for (const std::string &n : exec.inputNames())
    if (n != label)
      return n;
  throw Error(modelArg + ": the network has no data input");
}

/// "PREFIX-0007.params" → 7, or an error naming the file.
int epochOfCheckpoint(const std::string &path) {
  static const std::regex re(".*-([0-9]{4})\\.params$");
  std::smatch m;
  if (!std::regex_match(path, m, re))
    throw Error(path + ": --resume expects a checkpoint named PREFIX-NNNN.params");
  return std::stoi(m[1]);
}

void progress(bool tty, int epoch, int64_t batch, int64_t batches, const EpochStats &s,
              double seconds) {
  if (!tty)
    return;
  int width = 30, done = batches ? static_cast<int>(width * batch / batches) : width;
  std::fprintf(stderr, "\repoch %d [%.*s>%*s] %lld/%lld  loss %.4f  acc %.4f  %.0f samples/s ",
               epoch, done, "==============================", width - done, "",
               (long long)batch, (long long)batches, s.loss(), s.accuracy(),
               seconds > 0 ? s.seen / seconds : 0.0);
  std::fflush(stderr);
}

/// One training step as the epoch loop and --bench-steps run it, the batch
/// already in the executor's inputs: forward(true) + backward, gradients
/// summed over the workers, the optimizer's update. Every worker starts
/// from rank 0's weights.
class Stepper {
public:
  Stepper(Executor &exec, Optimizer &optimizer, KVStore &kv, bool overlap)
      : exec(exec), optimizer(optimizer), kv(kv), weights(exec.params()) {
    std::vector<KVKey> keys(exec.paramNames().begin(), exec.paramNames().end());
    std::vector<const Tensor *> initial(weights.begin(), weights.end());
    std::vector<std::vector<Tensor *>> outs;
    for (Tensor *w : weights)
      outs.push_back({w});
    kv.init(keys, initial);
    kv.pull(keys, outs);
    kv.waitAll();
    if (!overlap) {
      // MXNet's update_on_kvstore: push all gradients after the backward,
      // the optimizer runs on the store, pull the new weights.
      kv.setOptimizer(optimizer);
      this->keys = keys;
      pullInto = outs;
      return;
    }
    // The store only sums the gradients (as the backward produces them);
    // every worker applies the same update to the same sums. One worker has
    // nothing to sum.
    exec.prepare(true);
    for (const Tensor *g : exec.grads())
      grads.push_back(const_cast<Tensor *>(g)); // the executor's arrays; the sums go there
    if (kv.numWorkers() == 1)
      return;
    std::vector<KVKey> gradKeys;
    for (const std::string &n : exec.paramNames())
      gradKeys.push_back("grad:" + n);
    reducer = std::make_unique<GradientReducer>(kv, gradKeys, grads);
    if (engineArg == "compiled")
      exec.setGradientHook([r = reducer.get()](size_t i) { r->ready(i); });
  }

  void step() {
    if (!grads.empty()) {
      if (reducer)
        reducer->beginStep();
      exec.forward(true);
      exec.backward();
      if (reducer)
        reducer->finishStep();
      optimizer.update(weights, std::vector<const Tensor *>(grads.begin(), grads.end()));
      return;
    }
    exec.forward(true);
    exec.backward();
    std::vector<std::vector<const Tensor *>> pushed;
    for (const Tensor *g : exec.grads())
      pushed.push_back({g});
    kv.push(keys, pushed);
    kv.pull(keys, pullInto);
    kv.waitAll(); // the next forward writes the gradients and reads the weights
  }

  /// --bench-steps: milliseconds of the gradient reduction alone (no
  /// compute), median of `n`; 0 without a reducer.
  double commMilliseconds(int n) {
    if (!reducer)
      return 0;
    std::vector<double> ms;
    for (int i = 0; i < n; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      reducer->beginStep();
      reducer->finishStep();
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                       .count());
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
  }
  const GradientReducer *gradientReducer() const { return reducer.get(); }

private:
  Executor &exec;
  Optimizer &optimizer;
  KVStore &kv;
  std::vector<Tensor *> weights, grads;
  std::vector<KVKey> keys;
  std::vector<std::vector<Tensor *>> pullInto;
  std::unique_ptr<GradientReducer> reducer;
};

/// --bench-steps: one step as the epoch loop runs it per batch (inputs
/// copied in, forward(true), backward(), the optimizer update; not the
/// accuracy bookkeeping), timed N times on the first batch after 3 warm-up
/// steps (the first compiles). Prints the process's peak RSS (ru_maxrss,
/// compile included) and its RSS after the steps, then SPEC's bench line
/// last.
int benchSteps(Executor &exec, Optimizer &optimizer, Stepper &stepper, KVStore &kv,
               MNISTIter &train, const std::string &data, const std::string &label) {
  Tensor &x = exec.arg(data), &y = exec.arg(label);
  train.setEpoch(0);
  const Batch *batch = train.next();
  if (!batch)
    throw Error("--bench-steps: the data set has no full batch of " + std::to_string(batchArg));
  std::vector<float> xs = batch->data.values, ys = batch->label.values;
  if (!benchShapeArg.empty()) {
    Random rng(seedArg);
    xs.resize(x.values.size());
    for (float &v : xs)
      v = static_cast<float>(rng.uniform());
  }
  auto step = [&] {
    std::copy(xs.begin(), xs.end(), x.values.begin());
    std::copy(ys.begin(), ys.end(), y.values.begin());
    stepper.step();
  };
  for (int i = 0; i < 3; ++i)
    step();
  std::vector<double> ms;
  for (int i = 0; i < benchStepsArg; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    step();
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  if (kv.numWorkers() > 1) {
    const GradientReducer *r = stepper.gradientReducer();
    size_t early = r ? r->groupsPushedEarly() : 0; // of the last step
    double commMs = stepper.commMilliseconds(7);
    std::printf("bench-dist: workers=%d overlap=%d groups=%zu groups_pushed_during_backward=%zu "
                "comm_only_ms=%.3f\n",
                kv.numWorkers(), r ? 1 : 0, r ? r->numGroups() : 0, early, commMs);
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  long rssPages = 0, totalPages = 0;
  std::ifstream("/proc/self/statm") >> totalPages >> rssPages;
  std::printf("bench-train: model=%s data=%s optimizer=%s compile_s=%.2f arena_bytes=%lld "
              "peak_rss_kb=%ld rss_kb=%ld\n",
              modelArg.c_str(), formatShape(x.shape).c_str(), optimizer.name().c_str(),
              exec.compileSeconds(), (long long)exec.trainingArenaBytes(), usage.ru_maxrss,
              rssPages * (sysconf(_SC_PAGESIZE) / 1024));
  std::printf("bench: iters=%d min_ms=%.3f median_ms=%.3f\n", benchStepsArg.getValue(), ms.front(),
              ms[ms.size() / 2]);
  return 0;
}

/// After a successful run: every worker done, the store gone, MPI ended.
void finishStore(std::unique_ptr<KVStore> &kv) {
  if (kv->numWorkers() <= 1)
    return;
  kv->barrier();
  kv.reset();
#ifdef KILN_HAVE_MPI_BACKEND
  kvstore::finalizeMPI(); // only after success: see MPICommunicator.h
#endif
}

int run() {
  // The KVStore first: a distributed run fails here, before loading data,
  // when it was not started by mpirun or has no GPU (docs/distributed.md).
  if (kvstoreArg != "local" && kvstoreArg != "device" && kvstoreArg != "dist_sync" &&
      kvstoreArg != "nccl" && kvstoreArg != "dist_device_sync")
    throw Error("--kvstore " + kvstoreArg + ": expected local, dist_sync or nccl");
#ifdef KILN_HAVE_MPI_BACKEND
  kvstore::registerMPIBackend();
#endif
#ifdef KILN_HAVE_NCCL_BACKEND
  kvstore::registerNCCLBackend();
#endif
  if (kvstoreArg != "local" && kvstoreArg != "device" && !kvstore::launchedByMPI() &&
      kvstoreArg != "nccl")
    throw Error("--kvstore " + kvstoreArg +
                ": start kiln-train under mpirun, e.g. 'mpirun -np 2 kiln-train ... --kvstore " +
                kvstoreArg + "'");
  std::unique_ptr<KVStore> kv = KVStore::create(kvstoreArg);
  bool chief = kv->rank() == 0; // prints, logs and writes checkpoints
  if (datasetArg != "fashion-mnist")
    throw Error("--dataset " + datasetArg + ": the known data set is fashion-mnist");
  if (epochsArg < 1 || batchArg < 1)
    throw Error("--epochs and --batch-size must be positive");
  bool adam = optimizerArg == "adam";
  if (!adam && optimizerArg != "sgd")
    throw Error("--optimizer " + optimizerArg + ": expected sgd or adam");
  ExecutorOptions execOptions;
  execOptions.seed = seedArg;
  execOptions.recompute = recomputeArg;
  if (engineArg == "reference")
    execOptions.engine = ExecutorOptions::Engine::Reference;
  else if (engineArg != "compiled")
    throw Error("--engine " + engineArg + ": expected compiled or reference");

  // Fail before training, not at the first checkpoint: the checkpoint's
  // directory must exist (it is created) and be writable.
  llvm::StringRef saveDir = llvm::sys::path::parent_path(saveArg.getValue());
  if (!saveDir.empty()) {
    if (std::error_code ec = llvm::sys::fs::create_directories(saveDir))
      throw Error("--save " + saveArg + ": cannot create directory '" + saveDir.str() +
                  "': " + ec.message());
    if (llvm::sys::fs::access(saveDir, llvm::sys::fs::AccessMode::Write))
      throw Error("--save " + saveArg + ": directory '" + saveDir.str() + "' is not writable");
  }

  DatasetFiles files = locateDataset(datasetArg);
  BatchOptions trainBatches;
  trainBatches.batchSize = batchArg;
  trainBatches.shuffle = true;
  trainBatches.seed = seedArg;
  trainBatches.lastBatch = LastBatch::Discard;
  // Rank r's batch i and the other ranks' batch i together are the samples
  // of batch i of a single process with N x the batch (DataIter sharding:
  // positions r, r + N, ... of the shared shuffled order).
  trainBatches.numParts = kv->numWorkers();
  trainBatches.partIndex = kv->rank();
  MNISTIter train(datasetOptions(files, "train", trainBatches));
  BatchOptions testBatches;
  testBatches.batchSize = batchArg;
  testBatches.lastBatch = LastBatch::Pad;
  MNISTIter test(datasetOptions(files, "test", testBatches));

  int firstEpoch = resumeArg.empty() ? 0 : epochOfCheckpoint(resumeArg);
  std::vector<int64_t> dataShape = train.dataShape();
  if (!benchShapeArg.empty()) { // --bench-steps on random data of another shape
    dataShape.assign(1, batchArg);
    dataShape.insert(dataShape.end(), benchShapeArg.begin(), benchShapeArg.end());
  }
  ShapeMap shapes{{"data", dataShape}};
  auto exec = Executor::load(modelArg, resumeArg, shapes, execOptions);
  std::string label = labelInput(*exec), data = dataInput(*exec, label);
  if (exec->arg(data).shape != dataShape)
    throw Error(modelArg + ": input '" + data + "' has shape " +
                formatShape(exec->arg(data).shape) + " but the data set gives " +
                formatShape(dataShape));

  if (resumeArg.empty()) {
    // MXNet's train_mnist.py: Xavier(gaussian, in, 2) for weights; the name
    // rules give biases 0 and BatchNorm gamma/var 1.
    Xavier init(RandomType::Gaussian, FactorType::In, 2);
    Random rng(seedArg);
    for (const std::string &n : exec->paramNames())
      init(n, exec->arg(n), rng);
    for (const std::string &n : exec->auxNames())
      init(n, exec->arg(n), rng);
  }

  OptimizerOptions opt;
  opt.learningRate = lrArg > 0 ? lrArg : (adam ? 0.001 : 0.1);
  opt.wd = wdArg;
  opt.momentum = adam ? 0 : momentumArg;
  // The loss heads' gradients are summed over the batch, and the KVStore
  // sums them over the workers: the mean over all N·B samples.
  opt.rescaleGrad = 1.0 / (static_cast<double>(batchArg) * kv->numWorkers());
  opt.paramNames = exec->paramNames();
  opt.beginNumUpdate = static_cast<int64_t>(firstEpoch) * (train.partSize() / batchArg);
  auto optimizer = createOptimizer(optimizerArg, opt);

  Stepper stepper(*exec, *optimizer, *kv, overlapArg);
  if (benchStepsArg > 0) {
    int rc = benchSteps(*exec, *optimizer, stepper, *kv, train, data, label);
    finishStore(kv);
    return rc;
  }

  bool tty = chief && isatty(fileno(stderr));
  for (int epoch = firstEpoch; epoch < firstEpoch + epochsArg; ++epoch) {
    auto start = std::chrono::steady_clock::now();
    auto elapsed = [&] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    train.setEpoch(epoch);
    EpochStats stats;
    int64_t batches = train.partSize() / batchArg, b = 0;
    if (maxBatchesArg > 0)
      batches = std::min<int64_t>(batches, maxBatchesArg);
    // Every worker has the same number of batches (sharding), but a step is
    // taken only when all of them have one: a worker that ran out would
    // otherwise leave the others waiting in a collective (MXNet #7888).
    for (;;) {
      const Batch *batch = b < batches ? train.next() : nullptr;
      if (!kv->allWorkers(batch != nullptr))
        break;
      std::copy(batch->data.values.begin(), batch->data.values.end(),
                exec->arg(data).values.begin());
      std::copy(batch->label.values.begin(), batch->label.values.end(),
                exec->arg(label).values.begin());
      stepper.step();
      stats.add(exec->outputs()[0], batch->label, batch->pad);
      ++b;
      if (b % 10 == 0 || b == batches)
        progress(tty, epoch + 1, b, batches, stats, elapsed());
    }
    double trainSeconds = elapsed();
    if (kv->numWorkers() > 1) { // the epoch's statistics over all workers
      std::vector<double> sums{stats.lossSum, double(stats.correct), double(stats.seen)};
      kv->allreduce(sums);
      stats.lossSum = sums[0];
      stats.correct = static_cast<int64_t>(sums[1]);
      stats.seen = static_cast<int64_t>(sums[2]);
    }

    EpochStats val;
    test.reset();
    while (const Batch *batch = test.next()) {
      std::copy(batch->data.values.begin(), batch->data.values.end(),
                exec->arg(data).values.begin());
      std::copy(batch->label.values.begin(), batch->label.values.end(),
                exec->arg(label).values.begin());
      exec->forward(false);
      val.add(exec->outputs()[0], batch->label, batch->pad);
    }
    // Every worker holds the same weights; one writes them. (All of them
    // validate, so that they reach the next epoch's first collective together.)
    if (!chief)
      continue;
    exec->saveCheckpoint(saveArg, epoch + 1);
    if (tty)
      std::fprintf(stderr, "\n");
    double sps = trainSeconds > 0 ? stats.seen / trainSeconds : 0;
    std::printf("epoch %d: train loss %.4f, train acc %.4f, val acc %.4f, %.1f s, %.0f "
                "samples/s, saved %s-%04d.params\n",
                epoch + 1, stats.loss(), stats.accuracy(), val.accuracy(), trainSeconds, sps,
                saveArg.c_str(), epoch + 1);
    std::fflush(stdout);
    if (!logJsonArg.empty()) {
      std::ofstream log(logJsonArg, std::ios::app);
      if (!log)
        throw Error(logJsonArg + ": cannot open for appending");
      char line[512];
      std::snprintf(line, sizeof line,
                    "{\"epoch\": %d, \"train_loss\": %.6f, \"train_acc\": %.6f, \"val_acc\": "
                    "%.6f, \"seconds\": %.3f, \"samples_per_sec\": %.1f}\n",
                    epoch + 1, stats.loss(), stats.accuracy(), val.accuracy(), trainSeconds,
                    sps);
      log << line;
    }
  }
  if (chief)
    std::fprintf(stderr, "kiln-train: compile time %.2f s\n", exec->compileSeconds());
  finishStore(kv);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "kiln-train: train a network on a data set (SPEC §1.2b)\n");
  return driver::guardedMain("kiln-train", run);
}
