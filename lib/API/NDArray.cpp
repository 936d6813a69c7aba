//===- NDArray.cpp - NDArray handles: storage, views, copies, files -------===//

#include "API/NDArrayInternal.h"

#include "Import/MXNetAttrs.h"
#include "kiln/Error.h"
#include "kiln/Random.h"
#include "runtime/io/NDArrayFile.h"
#include "runtime/io/Npy.h"
#include "runtime/storage/StoragePool.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cmath>
#include <cstring>
#include <iomanip>
#include <ostream>
#include <sstream>

namespace kiln {

const char *dtypeName(DType dtype) {
  switch (dtype) {
  case DType::Float32: return "float32";
  case DType::Float64: return "float64";
  case DType::Float16: return "float16";
  case DType::UInt8: return "uint8";
  case DType::Int32: return "int32";
  case DType::Int8: return "int8";
  case DType::Int64: return "int64";
  }
  return "unknown";
}

std::string Context::str() const {
  return std::string(type == DeviceType::CPU ? "cpu(" : "gpu(") + std::to_string(id) + ")";
}

namespace detail {

namespace {
/// Set by an exit handler that runs before the engine's destructor (it is
/// registered after the engine is built): arrays destroyed during static
/// destruction must not push to an engine that is going away.
std::atomic<bool> engineShutDown{false};
} // namespace

rt::Engine &engine() {
  static rt::Engine *e = [] {
    rt::Engine *built = &rt::Engine::get();
    std::atexit([] { engineShutDown.store(true); });
    return built;
  }();
  return *e;
}

bool engineAlive() { return !engineShutDown.load(); }

std::shared_ptr<Chunk> Chunk::allocate(int64_t elements) {
  auto c = std::make_shared<Chunk>();
  c->bytes = elements * (int64_t)sizeof(float);
  c->data = static_cast<float *>(rt::StoragePool::host().allocate(c->bytes));
  c->var = engine().newVariable();
  return c;
}

std::shared_ptr<Chunk> Chunk::borrow(float *data, int64_t elements, rt::VarHandle var) {
  auto c = std::make_shared<Chunk>();
  c->bytes = elements * (int64_t)sizeof(float);
  c->data = data;
  c->var = var;
  c->ownsVar = false;
  c->external = true;
  return c;
}

Chunk::~Chunk() {
  // Every op that touches this memory holds the chunk, so none is pending:
  // the memory can go back to the pool at once. The variable may still be
  // named by a wait marker; the engine frees it after those.
  if (!external)
    rt::StoragePool::host().release(data, bytes);
  if (ownsVar && var && engineAlive())
    engine().deleteVariable(var);
}

std::shared_ptr<NDArrayImpl> newArray(const std::vector<int64_t> &shape) {
  auto impl = std::make_shared<NDArrayImpl>();
  impl->shape = shape;
  impl->elements = Tensor::numElements(shape);
  for (int64_t d : shape)
    if (d < 0)
      throw Error("NDArray shape " + formatShape(shape) + " has a negative dimension");
  impl->chunk = Chunk::allocate(impl->elements);
  return impl;
}

std::shared_ptr<NDArrayImpl> viewOf(std::shared_ptr<Chunk> chunk, int64_t offset,
                                    const std::vector<int64_t> &shape) {
  auto view = std::make_shared<NDArrayImpl>();
  view->chunk = std::move(chunk);
  view->offset = offset;
  view->shape = shape;
  view->elements = Tensor::numElements(shape);
  return view;
}

} // namespace detail

using detail::NDArrayImpl;

static void checkContext(Context ctx, DType dtype) {
  if (ctx.type != Context::DeviceType::CPU)
    throw Error("NDArray on " + ctx.str() +
                ": this build of Kiln runs eager arrays on the CPU only (cpu(0))");
  if (dtype != DType::Float32)
    throw Error(std::string("NDArray of dtype ") + dtypeName(dtype) +
                ": Kiln computes in float32 today; create a float32 array");
}

NDArray::NDArray() = default;
NDArray::NDArray(std::shared_ptr<detail::NDArrayImpl> impl) : impl(std::move(impl)) {}

NDArray::NDArray(const std::vector<int64_t> &shape, Context ctx, DType dtype) {
  checkContext(ctx, dtype);
  impl = detail::newArray(shape);
}

NDArray::NDArray(const std::vector<int64_t> &shape, const std::vector<float> &values,
                 Context ctx) {
  checkContext(ctx, DType::Float32);
  int64_t n = Tensor::numElements(shape);
  if ((int64_t)values.size() != n)
    throw Error("NDArray of shape " + formatShape(shape) + " needs " + std::to_string(n) +
                " values, got " + std::to_string(values.size()));
  impl = detail::newArray(shape);
  // Fresh memory nobody can have pushed work on yet: no engine op needed.
  std::copy(values.begin(), values.end(), impl->data());
}

NDArray::NDArray(const Tensor &tensor, Context ctx) : NDArray(tensor.shape, tensor.values, ctx) {}

static const NDArrayImpl &need(const std::shared_ptr<NDArrayImpl> &impl, const char *what) {
  if (!impl)
    throw Error(std::string("NDArray::") + what + " on an empty NDArray");
  return *impl;
}

const std::vector<int64_t> &NDArray::shape() const { return need(impl, "shape").shape; }
int64_t NDArray::size() const { return need(impl, "size").elements; }
DType NDArray::dtype() const {
  need(impl, "dtype");
  return DType::Float32;
}
Context NDArray::context() const {
  need(impl, "context");
  return Context::cpu();
}

void NDArray::waitToRead() const {
  if (impl)
    detail::engine().waitForVar(impl->var());
}

void NDArray::waitToWrite() const {
  if (!impl)
    return;
  // A no-op write ordered after every pending read and write.
  std::shared_ptr<detail::Chunk> keep = impl->chunk;
  detail::engine().push([keep](const rt::RunContext &) {}, {}, {impl->var()});
  detail::engine().waitForVar(impl->var());
}

void NDArray::syncCopyToCPU(float *dst, size_t count) const {
  const NDArrayImpl &a = need(impl, "syncCopyToCPU");
  if ((int64_t)count != a.elements)
    throw Error("syncCopyToCPU: the array has " + std::to_string(a.elements) +
                " elements, the destination " + std::to_string(count));
  waitToRead();
  std::memcpy(dst, a.data(), count * sizeof(float));
}

void NDArray::syncCopyFromCPU(const float *src, size_t count) {
  NDArrayImpl &a = const_cast<NDArrayImpl &>(need(impl, "syncCopyFromCPU"));
  if ((int64_t)count != a.elements)
    throw Error("syncCopyFromCPU: the array has " + std::to_string(a.elements) +
                " elements, the source " + std::to_string(count));
  waitToWrite();
  std::memcpy(a.data(), src, count * sizeof(float));
  a.chunk->version.fetch_add(1, std::memory_order_relaxed);
}

std::vector<float> NDArray::toVector() const {
  std::vector<float> v(need(impl, "toVector").elements);
  syncCopyToCPU(v.data(), v.size());
  return v;
}

Tensor NDArray::toTensor() const { return Tensor(shape(), toVector()); }

float NDArray::item() const {
  if (need(impl, "item").elements != 1)
    throw Error("NDArray::item: the array has shape " + formatShape(impl->shape) +
                ", not one element");
  waitToRead();
  return impl->data()[0];
}

NDArray NDArray::copy() const { return nd::invoke("_copy", {*this}).front(); }

void NDArray::copyTo(NDArray &dst) const {
  if (dst.empty())
    throw Error("NDArray::copyTo: the destination is an empty NDArray");
  if (dst.shape() != shape())
    throw Error("NDArray::copyTo: cannot copy shape " + formatShape(shape()) + " to shape " +
                formatShape(dst.shape()));
  if (sharesStorageWith(dst) && dst.impl->offset == impl->offset)
    return;
  nd::invoke("_copy", {*this}, {}, {dst});
}

NDArray &NDArray::fill(float value) {
  NDArrayImpl &a = const_cast<NDArrayImpl &>(need(impl, "fill"));
  if (autograd::isRecording() && a.gradReq != GradReq::Null)
    throw Error("NDArray::fill: an array with a gradient cannot be overwritten while "
                "autograd is recording");
  float *p = a.data();
  int64_t n = a.elements;
  std::shared_ptr<detail::Chunk> keep = a.chunk;
  a.chunk->version.fetch_add(1, std::memory_order_relaxed);
  detail::engine().push([keep, p, n, value](const rt::RunContext &) { std::fill(p, p + n, value); },
                        {}, {a.var()}, rt::Device::cpu(), 0, {"fill", "eager", formatShape(a.shape)});
  // A constant is not a function of anything recorded.
  a.producer.reset();
  return *this;
}

/// MXNet's Reshape codes 0 (copy the dimension) and -1 (infer one).
static std::vector<int64_t> resolveShape(const std::vector<int64_t> &from,
                                         const std::vector<int64_t> &to) {
  std::vector<int64_t> out;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < to.size(); ++i) {
    int64_t d = to[i];
    if (d == 0) {
      if (i >= from.size())
        throw Error("NDArray::reshape " + formatShape(from) + " to " + formatShape(to) +
                    ": code 0 at axis " + std::to_string(i) + " has no dimension to copy");
      d = from[i];
    } else if (d == -1) {
      if (infer >= 0)
        throw Error("NDArray::reshape to " + formatShape(to) + ": more than one -1");
      infer = (int64_t)out.size();
      out.push_back(1);
      continue;
    } else if (d < 0) {
      throw Error("NDArray::reshape to " + formatShape(to) +
                  ": only the codes 0 and -1 make views (nd::Reshape takes the others)");
    }
    known *= d;
    out.push_back(d);
  }
  int64_t total = Tensor::numElements(from);
  if (infer >= 0) {
    if (known == 0 || total % known)
      throw Error("NDArray::reshape: cannot infer -1 reshaping " + formatShape(from) + " to " +
                  formatShape(to));
    out[infer] = total / known;
  }
  if (Tensor::numElements(out) != total)
    throw Error("NDArray::reshape: cannot view " + formatShape(from) + " (" +
                std::to_string(total) + " elements) as " + formatShape(out));
  return out;
}

/// A view of `src` with `shape` at `offset` elements further. Recorded as
/// `op` when autograd records and the source is part of the recorded graph.
static NDArray makeView(const NDArray &src, const std::vector<int64_t> &shape, int64_t offset,
                        const std::string &op, const nd::AttrMap &attrs) {
  const auto &s = src.implPtr();
  NDArray result(detail::viewOf(s->chunk, s->offset + offset, shape));
  if (autograd::isRecording() && (s->producer || s->gradReq != GradReq::Null))
    detail::recordOp(op, attrs, {src}, {result}, autograd::isTraining());
  return result;
}

NDArray NDArray::reshape(const std::vector<int64_t> &newShape) const {
  need(impl, "reshape");
  std::vector<int64_t> target = resolveShape(impl->shape, newShape);
  return makeView(*this, target, 0, "Reshape", {{"shape", mx::formatTuple(target)}});
}

NDArray NDArray::slice(int64_t begin, int64_t end) const {
  need(impl, "slice");
  if (impl->shape.empty())
    throw Error("NDArray::slice on a 0-d array");
  int64_t rows = impl->shape[0];
  if (begin < 0 || end > rows || begin >= end)
    throw Error("NDArray::slice [" + std::to_string(begin) + ", " + std::to_string(end) +
                ") is not a non-empty range within the " + std::to_string(rows) +
                " rows of shape " + formatShape(impl->shape));
  std::vector<int64_t> shape = impl->shape;
  shape[0] = end - begin;
  int64_t rowElements = rows ? impl->elements / rows : 0;
  return makeView(*this, shape, begin * rowElements, "slice_axis",
                  {{"axis", "0"}, {"begin", std::to_string(begin)}, {"end", std::to_string(end)}});
}

NDArray NDArray::at(int64_t index) const {
  need(impl, "at");
  if (impl->shape.empty())
    throw Error("NDArray::at on a 0-d array");
  if (index < 0 || index >= impl->shape[0])
    throw Error("NDArray::at(" + std::to_string(index) + ") is outside the " +
                std::to_string(impl->shape[0]) + " rows of shape " + formatShape(impl->shape));
  std::vector<int64_t> rest(impl->shape.begin() + 1, impl->shape.end());
  if (rest.empty())
    rest = {1};
  return slice(index, index + 1).reshape(rest);
}

bool NDArray::sharesStorageWith(const NDArray &other) const {
  return impl && other.impl && impl->chunk == other.impl->chunk;
}

//===----------------------------------------------------------------------===//
// Arithmetic
//===----------------------------------------------------------------------===//

/// NumPy broadcasting on both; identical shapes use the elemwise kernels.
static NDArray binary(const char *elemwise, const char *broadcast, const NDArray &l,
                      const NDArray &r, const std::vector<NDArray> &out = {}) {
  if (l.empty())
    detail::checkUsable(l, std::string("the left operand of ") + broadcast);
  if (r.empty())
    detail::checkUsable(r, std::string("the right operand of ") + broadcast);
  return nd::invoke(l.shape() == r.shape() ? elemwise : broadcast, {l, r}, {}, out).front();
}

static NDArray scalar(const char *op, const NDArray &x, double s,
                      const std::vector<NDArray> &out = {}) {
  return nd::invoke(op, {x}, {{"scalar", mx::formatFloat(s)}}, out).front();
}

NDArray operator+(const NDArray &l, const NDArray &r) {
  return binary("elemwise_add", "broadcast_add", l, r);
}
NDArray operator-(const NDArray &l, const NDArray &r) {
  return binary("elemwise_sub", "broadcast_sub", l, r);
}
NDArray operator*(const NDArray &l, const NDArray &r) {
  return binary("elemwise_mul", "broadcast_mul", l, r);
}
NDArray operator/(const NDArray &l, const NDArray &r) {
  return binary("elemwise_div", "broadcast_div", l, r);
}
NDArray operator+(const NDArray &l, float r) { return scalar("_plus_scalar", l, r); }
NDArray operator+(float l, const NDArray &r) { return scalar("_plus_scalar", r, l); }
NDArray operator-(const NDArray &l, float r) { return scalar("_minus_scalar", l, r); }
NDArray operator-(float l, const NDArray &r) { return scalar("_rminus_scalar", r, l); }
NDArray operator*(const NDArray &l, float r) { return scalar("_mul_scalar", l, r); }
NDArray operator*(float l, const NDArray &r) { return scalar("_mul_scalar", r, l); }
NDArray operator/(const NDArray &l, float r) { return scalar("_div_scalar", l, r); }
NDArray operator/(float l, const NDArray &r) { return scalar("_rdiv_scalar", r, l); }
NDArray operator-(const NDArray &x) { return scalar("_mul_scalar", x, -1.0); }

/// `lhs op= rhs` writes the result over lhs; the result must keep lhs's
/// shape (rhs may broadcast into it, not the other way round).
static NDArray &inPlace(const char *elemwise, const char *broadcast, NDArray &lhs,
                        const NDArray &rhs) {
  if (lhs.empty() || rhs.empty())
    detail::checkUsable(lhs.empty() ? lhs : rhs, std::string(lhs.empty() ? "the left" : "the right") +
                                                     " operand of " + broadcast + " (in place)");
  binary(elemwise, broadcast, lhs, rhs, {lhs});
  return lhs;
}

NDArray &NDArray::operator+=(const NDArray &r) {
  return inPlace("elemwise_add", "broadcast_add", *this, r);
}
NDArray &NDArray::operator-=(const NDArray &r) {
  return inPlace("elemwise_sub", "broadcast_sub", *this, r);
}
NDArray &NDArray::operator*=(const NDArray &r) {
  return inPlace("elemwise_mul", "broadcast_mul", *this, r);
}
NDArray &NDArray::operator/=(const NDArray &r) {
  return inPlace("elemwise_div", "broadcast_div", *this, r);
}
NDArray &NDArray::operator+=(float r) {
  scalar("_plus_scalar", *this, r, {*this});
  return *this;
}
NDArray &NDArray::operator-=(float r) {
  scalar("_minus_scalar", *this, r, {*this});
  return *this;
}
NDArray &NDArray::operator*=(float r) {
  scalar("_mul_scalar", *this, r, {*this});
  return *this;
}
NDArray &NDArray::operator/=(float r) {
  scalar("_div_scalar", *this, r, {*this});
  return *this;
}

//===----------------------------------------------------------------------===//
// Printing
//===----------------------------------------------------------------------===//

namespace {

/// NumPy's layout: nested brackets, rows of the last axis on one line, long
/// axes summarized with "..." (edge items 3) beyond 1000 elements.
void printAxis(std::ostream &os, const float *data, const std::vector<int64_t> &shape,
               size_t axis, int64_t offset, bool summarize, int indent) {
  int64_t n = shape[axis];
  int64_t stride = 1;
  for (size_t a = axis + 1; a < shape.size(); ++a)
    stride *= shape[a];
  os << '[';
  for (int64_t i = 0; i < n; ++i) {
    if (summarize && n > 6 && i == 3) {
      os << (axis + 1 == shape.size() ? "..., " : "...,\n" + std::string(indent + 1, ' '));
      i = n - 3;
    }
    if (axis + 1 == shape.size()) {
      os << data[offset + i];
    } else {
      printAxis(os, data, shape, axis + 1, offset + i * stride, summarize, indent + 1);
    }
    if (i + 1 < n) {
      if (axis + 1 == shape.size())
        os << ", ";
      else
        os << ",\n" << std::string(shape.size() - axis - 1 > 1 ? 1 : 0, '\n')
           << std::string(indent + 1, ' ');
    }
  }
  os << ']';
}

} // namespace

std::ostream &operator<<(std::ostream &os, const NDArray &a) {
  if (a.empty())
    return os << "<NDArray none>";
  std::vector<float> v = a.toVector();
  std::ostringstream body;
  body << std::setprecision(7);
  if (a.ndim() == 0)
    body << v[0];
  else
    printAxis(body, v.data(), a.shape(), 0, 0, v.size() > 1000, 0);
  std::string dims;
  for (size_t i = 0; i < a.ndim(); ++i)
    dims += (i ? "x" : "") + std::to_string(a.shape()[i]);
  return os << body.str() << "\n<NDArray " << dims << " @" << a.context().str() << ">";
}

//===----------------------------------------------------------------------===//
// Creation, files
//===----------------------------------------------------------------------===//

namespace nd {

NDArray full(const std::vector<int64_t> &shape, float value, Context ctx) {
  NDArray a(shape, ctx);
  a.fill(value);
  return a;
}
NDArray zeros(const std::vector<int64_t> &shape, Context ctx) { return full(shape, 0.0f, ctx); }
NDArray ones(const std::vector<int64_t> &shape, Context ctx) { return full(shape, 1.0f, ctx); }

/// A new array whose values `generate(data, n)` writes on the engine.
template <typename F>
static NDArray generated(const std::vector<int64_t> &shape, Context ctx, const char *what,
                         F generate) {
  NDArray a(shape, ctx);
  const auto &impl = a.implPtr();
  std::shared_ptr<detail::Chunk> keep = impl->chunk;
  float *p = impl->data();
  int64_t n = impl->elements;
  detail::engine().push([keep, p, n, generate](const rt::RunContext &) { generate(p, n); }, {},
                        {impl->var()}, rt::Device::cpu(), 0, {what, "eager", formatShape(shape)});
  return a;
}

NDArray arange(int64_t n, Context ctx) {
  return generated({n}, ctx, "arange", [](float *p, int64_t count) {
    for (int64_t i = 0; i < count; ++i)
      p[i] = static_cast<float>(i);
  });
}

NDArray uniform(float low, float high, const std::vector<int64_t> &shape, uint64_t seed,
                Context ctx) {
  if (!(low <= high))
    throw Error("nd::uniform: low (" + std::to_string(low) + ") must not exceed high (" +
                std::to_string(high) + ")");
  return generated(shape, ctx, "uniform", [low, high, seed](float *p, int64_t count) {
    Random rng(seed);
    for (int64_t i = 0; i < count; ++i)
      p[i] = static_cast<float>(rng.uniform(low, high));
  });
}

NDArray normal(float mean, float stddev, const std::vector<int64_t> &shape, uint64_t seed,
               Context ctx) {
  if (!(stddev >= 0))
    throw Error("nd::normal: stddev must be >= 0, got " + std::to_string(stddev));
  return generated(shape, ctx, "normal", [mean, stddev, seed](float *p, int64_t count) {
    Random rng(seed);
    for (int64_t i = 0; i < count; ++i)
      p[i] = static_cast<float>(mean + stddev * rng.normal());
  });
}

static NDArrayList toList(const std::vector<NDArray> &arrays) {
  NDArrayList list;
  for (size_t i = 0; i < arrays.size(); ++i) {
    detail::checkUsable(arrays[i], "nd::save: array " + std::to_string(i));
    list.arrays.push_back(arrays[i].toTensor());
  }
  return list;
}

void save(const std::string &path, const std::vector<NDArray> &arrays) {
  saveNDArrayFile(path, toList(arrays));
}

void save(const std::string &path, const std::map<std::string, NDArray> &arrays) {
  NDArrayList list;
  for (const auto &[name, a] : arrays) {
    detail::checkUsable(a, "nd::save: array '" + name + "'");
    list.names.push_back(name);
    list.arrays.push_back(a.toTensor());
  }
  saveNDArrayFile(path, list);
}

std::vector<NDArray> loadList(const std::string &path) {
  NDArrayList list = loadNDArrayFile(path);
  std::vector<NDArray> out;
  for (const Tensor &t : list.arrays)
    out.emplace_back(t);
  return out;
}

std::map<std::string, NDArray> loadMap(const std::string &path) {
  NDArrayList list = loadNDArrayFile(path);
  if (list.names.empty() && !list.arrays.empty())
    throw Error(path + ": the file holds an unnamed list of " +
                std::to_string(list.arrays.size()) + " arrays; read it with nd::loadList");
  std::map<std::string, NDArray> out;
  for (size_t i = 0; i < list.arrays.size(); ++i)
    if (!out.emplace(list.names[i], NDArray(list.arrays[i])).second)
      throw Error(path + ": the name '" + list.names[i] + "' appears twice");
  return out;
}

NDArray loadNpy(const std::string &path) { return NDArray(readNpy(path)); }

void saveNpy(const std::string &path, const NDArray &array) {
  detail::checkUsable(array, "nd::saveNpy: the array for " + path);
  writeNpy(path, array.toTensor());
}

void waitAll() { detail::engine().waitForAll(); }

} // namespace nd
} // namespace kiln
