//===- runtime/kvstore/KVStore.cpp - KVStore over a Communicator ----------===//
//
// The store proper: keys, their stored and merged values, bucketing, and the
// engine ops for push and pull. Collectives go through a Communicator
// (Communicator.h); this file has the one-worker one used by local/device.
//
// Ordering: every op that calls the communicator writes one engine variable,
// `commVar`, so collectives run one at a time and in push order. Push order
// is the program's order, the same on every worker, so the workers' i-th
// collectives always match (two engine workers picking ready ops in
// different orders on different ranks would otherwise pair up different
// buckets). These ops run on their own engine device (cpu(1)), so a
// collective waiting for a slow peer never holds up a compute worker.
//
//===----------------------------------------------------------------------===//

#include "kiln/KVStore.h"

#include "kiln/Error.h"
#include "runtime/engine/Engine.h"
#include "runtime/kvstore/Backends.h"
#include "runtime/kvstore/Communicator.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>

using namespace kiln;
using namespace kiln::kvstore;

Communicator::~Communicator() = default;

void kvstore::throwTimeout(const std::string &backend, const std::string &op,
                           const std::string &what, int rank, int size, double seconds) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "%g", seconds);
  throw Error("kvstore " + backend + ": rank " + std::to_string(rank) + " of " +
              std::to_string(size) + ": " + op + " of " + what + " did not complete within " +
              buf +
              " s: another worker died, hangs, or ran a different number of steps "
              "(KILN_KVSTORE_TIMEOUT sets the limit)");
}

bool kvstore::launchedByMPI() {
  for (const char *v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "PMI_RANK"})
    if (const char *s = std::getenv(v); s && *s)
      return true;
  return false;
}

namespace {

/// One worker: every collective is the identity.
class LocalCommunicator : public Communicator {
public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void allreduceSum(float *, int64_t, double, const std::string &) override {}
  void allreduceSum(double *, int64_t, double, const std::string &) override {}
  int allreduceMin(int value, double, const std::string &) override { return value; }
  void broadcast(float *, int64_t, double, const std::string &) override {}
  void barrier(double) override {}
};

std::mutex registryMu;
std::map<std::string, CommunicatorFactory> &registry() {
  static std::map<std::string, CommunicatorFactory> r = [] {
    std::map<std::string, CommunicatorFactory> m;
    auto local = [](const std::string &) -> std::unique_ptr<Communicator> {
      return std::make_unique<LocalCommunicator>();
    };
    m["local"] = local;
    m["device"] = local;
    return m;
  }();
  return r;
}

double envDouble(const char *name, double fallback) {
  const char *s = std::getenv(name);
  if (!s || !*s)
    return fallback;
  char *end = nullptr;
  double v = std::strtod(s, &end);
  if (*end || v <= 0)
    throw Error(std::string(name) + "=" + s + ": expected a positive number");
  return v;
}

struct KeyState {
  explicit KeyState(KVKey key) : key(std::move(key)) {}
  KVKey key;
  Tensor stored, merged;
  rt::VarHandle var = nullptr;
  std::set<rt::VarHandle> pulledInto; // arrays pulls write, for wait()
};

} // namespace

void kvstore::registerCommunicator(const std::string &type, CommunicatorFactory factory) {
  std::lock_guard<std::mutex> lock(registryMu);
  registry()[type] = std::move(factory);
}

struct KVStore::Impl {
  std::string type;
  int64_t bucketBytes = 4 << 20;
  double timeout = 25;
  std::unique_ptr<Communicator> comm;
  rt::Engine *engine = &rt::Engine::get();
  rt::VarHandle commVar = nullptr;
  rt::Device commDevice = rt::Device::cpu(1);

  std::mutex mu; // keys, arrayVars (the calling thread's API calls)
  std::map<std::string, std::unique_ptr<KeyState>> keys;
  int keyKind = -1; // 0 int, 1 string
  std::unordered_map<const void *, rt::VarHandle> arrayVars;

  Updater updater;
  BatchUpdater batchUpdater;
  std::vector<float> bucket; // scratch of the comm ops (serialized by commVar)

  std::atomic<int64_t> pushes{0}, collectives{0}, bytesReduced{0};

  bool distributed() const { return comm->size() > 1; }

  KeyState &key(const KVKey &k, const char *op) {
    auto it = keys.find(k.name);
    if (it == keys.end() || it->second->key.isInt != k.isInt)
      throw Error("kvstore " + type + ": " + op + " of key '" + k.name +
                  "', which was never init()ed");
    return *it->second;
  }
  rt::VarHandle arrayVar(const void *p) {
    rt::VarHandle &v = arrayVars[p];
    if (!v)
      v = engine->newVariable();
    return v;
  }
  /// Runs `fn` as a communicator op (after this worker's earlier ones) and
  /// waits for it, rethrowing its error.
  void collectiveNow(const std::string &name, std::function<void()> fn) {
    engine->push([fn = std::move(fn)](const rt::RunContext &) { fn(); }, {}, {commVar},
                 commDevice, 0, rt::OpInfo{"kvstore." + name, type, ""});
    engine->waitForVar(commVar);
  }
};

KVStore::KVStore(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}

KVStore::~KVStore() {
  try {
    waitAll();
  } catch (const std::exception &e) {
    std::fprintf(stderr, "kiln kvstore: error at shutdown: %s\n", e.what());
  }
  for (auto &k : impl->keys)
    impl->engine->deleteVariable(k.second->var);
  for (auto &a : impl->arrayVars)
    impl->engine->deleteVariable(a.second);
  impl->engine->deleteVariable(impl->commVar);
}

std::unique_ptr<KVStore> KVStore::create(const std::string &type, const KVStoreOptions &options) {
  CommunicatorFactory factory;
  {
    std::lock_guard<std::mutex> lock(registryMu);
    auto it = registry().find(type);
    if (it != registry().end())
      factory = it->second;
  }
  if (!factory) {
    if (type == "dist_sync" || type == "dist_sync_device")
      throw Error("kvstore " + type +
                  ": this program was built without the MPI backend (KilnKVStoreMPI, "
                  "needs Open MPI: apt-get install libopenmpi-dev openmpi-bin)");
    if (type == "nccl" || type == "dist_device_sync")
      throw Error("kvstore " + type +
                  ": this program was built without the NCCL backend (KilnKVStoreNCCL, "
                  "needs nccl.h, libnccl and the CUDA runtime at build time)");
    if (type.rfind("dist_async", 0) == 0)
      throw Error("kvstore " + type +
                  ": asynchronous parameter servers are not implemented; use dist_sync");
    std::string known;
    {
      std::lock_guard<std::mutex> lock(registryMu);
      for (auto &r : registry())
        known += (known.empty() ? "" : ", ") + r.first;
    }
    throw Error("kvstore '" + type + "': unknown type (available here: " + known + ")");
  }
  auto impl = std::make_unique<Impl>();
  impl->type = type;
  impl->timeout = options.timeoutSeconds > 0 ? options.timeoutSeconds
                                             : envDouble("KILN_KVSTORE_TIMEOUT", 25);
  impl->bucketBytes = options.bucketBytes != 0
                          ? options.bucketBytes
                          : static_cast<int64_t>(envDouble("KILN_KVSTORE_BUCKET_BYTES", 4 << 20));
  impl->comm = factory(type);
  impl->commVar = impl->engine->newVariable();
  return std::unique_ptr<KVStore>(new KVStore(std::move(impl)));
}

const std::string &KVStore::type() const { return impl->type; }
int KVStore::rank() const { return impl->comm->rank(); }
int KVStore::numWorkers() const { return impl->comm->size(); }

void KVStore::init(const std::vector<KVKey> &keys, const std::vector<const Tensor *> &values) {
  Impl &s = *impl;
  if (keys.size() != values.size())
    throw Error("kvstore " + s.type + ": init of " + std::to_string(keys.size()) + " keys with " +
                std::to_string(values.size()) + " values");
  std::vector<KeyState *> added;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    for (size_t i = 0; i < keys.size(); ++i) {
      const KVKey &k = keys[i];
      int kind = k.isInt ? 0 : 1;
      if (s.keyKind >= 0 && s.keyKind != kind)
        throw Error("kvstore " + s.type + ": key '" + k.name + "' is " +
                    (k.isInt ? "an int" : "a string") + " but this store holds " +
                    (k.isInt ? "string" : "int") + " keys (one kind per store, as in MXNet)");
      s.keyKind = kind;
      if (s.keys.count(k.name))
        throw Error("kvstore " + s.type + ": key '" + k.name + "' is already initialized");
      if (!values[i] || Tensor::numElements(values[i]->shape) != (int64_t)values[i]->values.size())
        throw Error("kvstore " + s.type + ": init of key '" + k.name +
                    "' with a missing or inconsistent array");
      auto st = std::make_unique<KeyState>(k);
      st->stored = *values[i];
      st->merged = Tensor(values[i]->shape);
      st->var = s.engine->newVariable();
      added.push_back(st.get());
      s.keys[k.name] = std::move(st);
    }
  }
  if (!s.distributed())
    return;
  // Every worker starts from rank 0's values (MXNet: rank 0 initializes the
  // servers). The shapes are checked too: a broadcast of different sizes
  // would pair unrelated bytes.
  for (KeyState *k : added) {
    s.collectiveNow("init", [&s, k] {
      float n = static_cast<float>(k->stored.values.size()), n0 = n;
      s.comm->broadcast(&n0, 1, s.timeout, "the size of key '" + k->key.name + "'");
      if (n0 != n)
        throw Error("kvstore " + s.type + ": key '" + k->key.name + "' has " +
                    std::to_string((int64_t)n) + " elements on rank " +
                    std::to_string(s.comm->rank()) + " but " + std::to_string((int64_t)n0) +
                    " on rank 0");
      s.comm->broadcast(k->stored.values.data(), (int64_t)k->stored.values.size(), s.timeout,
                        "key '" + k->key.name + "'");
    });
  }
}

void KVStore::push(const std::vector<KVKey> &keys,
                   const std::vector<std::vector<const Tensor *>> &values, int priority) {
  Impl &s = *impl;
  if (keys.size() != values.size())
    throw Error("kvstore " + s.type + ": push of " + std::to_string(keys.size()) + " keys with " +
                std::to_string(values.size()) + " value lists");
  struct Item {
    KeyState *key;
    std::vector<const Tensor *> values;
  };
  std::vector<Item> items;
  std::vector<std::vector<rt::VarHandle>> reads;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    for (size_t i = 0; i < keys.size(); ++i) {
      KeyState &k = s.key(keys[i], "push");
      if (values[i].empty())
        throw Error("kvstore " + s.type + ": push of key '" + k.key.name + "' with no values");
      for (const Tensor *v : values[i])
        if (!v || v->shape != k.stored.shape || v->values.size() != k.stored.values.size())
          throw Error("kvstore " + s.type + ": push of key '" + k.key.name + "': value shape " +
                      (v ? formatShape(v->shape) : std::string("(null)")) +
                      " differs from the initialized " + formatShape(k.stored.shape));
      items.push_back({&k, values[i]});
      std::vector<rt::VarHandle> r;
      for (const Tensor *v : values[i])
        r.push_back(s.arrayVar(v));
      reads.push_back(std::move(r));
    }
  }
  s.pushes += static_cast<int64_t>(items.size());

  // Buckets: consecutive keys while they fit; a key larger than a bucket
  // alone. One op (and, across workers, one collective) per bucket.
  std::vector<std::pair<size_t, size_t>> buckets; // [begin, end) of items
  int64_t bytes = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    int64_t b = static_cast<int64_t>(items[i].key->stored.values.size() * sizeof(float));
    if (buckets.empty() || s.bucketBytes < 0 || bytes + b > s.bucketBytes) {
      buckets.push_back({i, i + 1});
      bytes = b;
    } else {
      buckets.back().second = i + 1;
      bytes += b;
    }
  }
  bool dist = s.distributed();
  bool batch = static_cast<bool>(s.batchUpdater);
  for (auto [begin, end] : buckets) {
    std::vector<Item> members(items.begin() + begin, items.begin() + end);
    std::vector<rt::VarHandle> r, w;
    std::string names, shapes;
    int64_t count = 0;
    for (size_t i = begin; i < end; ++i) {
      r.insert(r.end(), reads[i].begin(), reads[i].end());
      w.push_back(items[i].key->var);
      names += (names.empty() ? "" : ",") + items[i].key->key.name;
      shapes += (shapes.empty() ? "" : " ") + formatShape(items[i].key->stored.shape);
      count += static_cast<int64_t>(items[i].key->stored.values.size());
    }
    if (dist)
      w.push_back(s.commVar);
    ++s.collectives;
    s.bytesReduced += count * static_cast<int64_t>(sizeof(float));
    std::string what = (end - begin == 1 ? "key '" : "keys '") + names + "' (" +
                       std::to_string(count * 4) + " bytes)";
    s.engine->push(
        [&s, members, count, dist, batch, what](const rt::RunContext &) {
          // This worker's devices first.
          for (const Item &it : members) {
            std::vector<float> &m = it.key->merged.values;
            std::copy(it.values[0]->values.begin(), it.values[0]->values.end(), m.begin());
            for (size_t d = 1; d < it.values.size(); ++d) {
              const float *src = it.values[d]->values.data();
              for (size_t j = 0; j < m.size(); ++j)
                m[j] += src[j];
            }
          }
          // Then across workers: one collective for the whole bucket.
          if (dist) {
            if (members.size() == 1) {
              s.comm->allreduceSum(members[0].key->merged.values.data(), count, s.timeout, what);
            } else {
              s.bucket.resize(count);
              float *p = s.bucket.data();
              for (const Item &it : members)
                p = std::copy(it.key->merged.values.begin(), it.key->merged.values.end(), p);
              s.comm->allreduceSum(s.bucket.data(), count, s.timeout, what);
              const float *q = s.bucket.data();
              for (const Item &it : members) {
                std::copy(q, q + it.key->merged.values.size(), it.key->merged.values.begin());
                q += it.key->merged.values.size();
              }
            }
          }
          if (batch)
            return; // the optimizer op below updates the stored values
          for (const Item &it : members) {
            if (s.updater)
              s.updater(it.key->key, it.key->merged, it.key->stored);
            else
              it.key->stored.values = it.key->merged.values;
          }
        },
        r, w, dist ? s.commDevice : rt::Device::cpu(), priority,
        rt::OpInfo{"kvstore.push", names, shapes});
  }
  if (batch) {
    // The optimizer's update is itself a compiled plan run on the engine,
    // which an engine op cannot wait for: wait for the reduction here and
    // run the update on the calling thread (push blocks with an optimizer).
    std::vector<Tensor *> stored;
    std::vector<const Tensor *> merged;
    for (const Item &it : items) {
      s.engine->waitForVar(it.key->var);
      stored.push_back(&it.key->stored);
      merged.push_back(&it.key->merged);
    }
    s.batchUpdater(stored, merged);
  }
}

void KVStore::pull(const std::vector<KVKey> &keys, const std::vector<std::vector<Tensor *>> &outs,
                   int priority) {
  Impl &s = *impl;
  if (keys.size() != outs.size())
    throw Error("kvstore " + s.type + ": pull of " + std::to_string(keys.size()) + " keys into " +
                std::to_string(outs.size()) + " output lists");
  std::lock_guard<std::mutex> lock(s.mu);
  for (size_t i = 0; i < keys.size(); ++i) {
    KeyState &k = s.key(keys[i], "pull");
    std::vector<rt::VarHandle> w;
    for (Tensor *o : outs[i]) {
      if (!o || o->shape != k.stored.shape || o->values.size() != k.stored.values.size())
        throw Error("kvstore " + s.type + ": pull of key '" + k.key.name + "' into shape " +
                    (o ? formatShape(o->shape) : std::string("(null)")) + ", expected " +
                    formatShape(k.stored.shape));
      rt::VarHandle v = s.arrayVar(o);
      w.push_back(v);
      k.pulledInto.insert(v);
    }
    KeyState *kp = &k;
    std::vector<Tensor *> dst = outs[i];
    s.engine->push(
        [kp, dst](const rt::RunContext &) {
          for (Tensor *o : dst)
            std::copy(kp->stored.values.begin(), kp->stored.values.end(), o->values.begin());
        },
        {k.var}, w, rt::Device::cpu(), priority,
        rt::OpInfo{"kvstore.pull", k.key.name, formatShape(k.stored.shape)});
  }
}

void KVStore::setUpdater(Updater updater) {
  waitAll(); // ops in flight keep the updater they were pushed with
  impl->updater = std::move(updater);
  impl->batchUpdater = nullptr;
}

void KVStore::setBatchUpdater(BatchUpdater updater) {
  waitAll();
  impl->batchUpdater = std::move(updater);
  impl->updater = nullptr;
}

void KVStore::wait(const std::vector<KVKey> &keys) {
  Impl &s = *impl;
  std::vector<rt::VarHandle> vars;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    for (const KVKey &k : keys) {
      KeyState &st = s.key(k, "wait");
      vars.push_back(st.var);
      vars.insert(vars.end(), st.pulledInto.begin(), st.pulledInto.end());
    }
  }
  for (rt::VarHandle v : vars)
    s.engine->waitForVar(v);
}

void KVStore::waitAll() {
  Impl &s = *impl;
  std::vector<rt::VarHandle> vars{s.commVar};
  {
    std::lock_guard<std::mutex> lock(s.mu);
    for (auto &k : s.keys)
      vars.push_back(k.second->var);
    for (auto &a : s.arrayVars)
      vars.push_back(a.second);
  }
  // Every var is waited for even when one fails; the first error is thrown.
  std::string first;
  for (rt::VarHandle v : vars) {
    try {
      s.engine->waitForVar(v);
    } catch (const std::exception &e) {
      if (first.empty())
        first = e.what();
    }
  }
  if (!first.empty())
    throw Error(first);
}

void KVStore::barrier() {
  waitAll();
  if (!impl->distributed())
    return;
  impl->collectiveNow("barrier", [s = impl.get()] { s->comm->barrier(s->timeout); });
}

bool KVStore::allWorkers(bool mine) {
  if (!impl->distributed())
    return mine;
  int result = 0;
  impl->collectiveNow("agree", [s = impl.get(), mine, &result] {
    result = s->comm->allreduceMin(mine ? 1 : 0, s->timeout, "the continue flag");
  });
  return result != 0;
}

void KVStore::allreduce(std::vector<double> &values) {
  if (!impl->distributed())
    return;
  impl->collectiveNow("allreduce", [s = impl.get(), &values] {
    s->comm->allreduceSum(values.data(), static_cast<int64_t>(values.size()), s->timeout,
                          std::to_string(values.size()) + " statistics");
  });
}

KVStoreStats KVStore::stats() const {
  KVStoreStats st;
  st.pushes = impl->pushes;
  st.collectives = impl->collectives;
  st.bytesReduced = impl->bytesReduced;
  return st;
}

int64_t KVStore::bucketBytes() const { return impl->bucketBytes; }

//===----------------------------------------------------------------------===//
// GradientReducer
//===----------------------------------------------------------------------===//

GradientReducer::GradientReducer(KVStore &store, std::vector<KVKey> keysArg,
                                 std::vector<Tensor *> gradsArg)
    : store(store), keys(std::move(keysArg)), grads(std::move(gradsArg)) {
  if (keys.size() != grads.size())
    throw Error("GradientReducer: " + std::to_string(keys.size()) + " keys but " +
                std::to_string(grads.size()) + " gradients");
  std::vector<const Tensor *> initial(grads.begin(), grads.end());
  store.init(keys, initial);
  store.waitAll();
  // The last parameter first: the backward computes the top layers' first.
  int64_t limit = store.bucketBytes(), bytes = 0;
  groupOf.assign(grads.size(), 0);
  for (size_t n = grads.size(); n-- > 0;) {
    int64_t b = static_cast<int64_t>(grads[n]->values.size() * sizeof(float));
    if (groups.empty() || limit < 0 || bytes + b > limit) {
      groups.emplace_back();
      bytes = 0;
    }
    groups.back().push_back(n);
    groupOf[n] = groups.size() - 1;
    bytes += b;
  }
  beginStep();
}

GradientReducer::~GradientReducer() = default;

void GradientReducer::beginStep() {
  std::lock_guard<std::mutex> lock(mu);
  missing.clear();
  for (const auto &g : groups)
    missing.push_back(g.size());
  nextGroup = 0;
  early = 0;
}

void GradientReducer::pushGroup(size_t g) {
  std::vector<KVKey> k;
  std::vector<std::vector<const Tensor *>> in;
  std::vector<std::vector<Tensor *>> out;
  for (size_t i : groups[g]) {
    k.push_back(keys[i]);
    in.push_back({grads[i]});
    out.push_back({grads[i]});
  }
  // Earlier groups first on the wire.
  int priority = -static_cast<int>(g);
  store.push(k, in, priority);
  store.pull(k, out, priority);
}

void GradientReducer::ready(size_t index) {
  std::lock_guard<std::mutex> lock(mu);
  if (index >= groupOf.size())
    return;
  --missing[groupOf[index]];
  // Push in the fixed order only: a ready group behind an unready one waits.
  while (nextGroup < groups.size() && missing[nextGroup] == 0) {
    pushGroup(nextGroup++);
    ++early;
  }
}

void GradientReducer::finishStep() {
  {
    std::lock_guard<std::mutex> lock(mu);
    while (nextGroup < groups.size())
      pushGroup(nextGroup++);
  }
  store.wait(keys);
}

