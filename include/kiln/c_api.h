/*===- kiln/c_api.h - Kiln's C API for other languages ------------*- C -*-===*
 *
 * A C interface to Kiln's C++ API (kiln/NDArray.h, kiln/Symbol.h,
 * kiln/Zoo.h, kiln/Executor.h) and a loader for the model libraries
 * `kiln-compile --emit lib` builds (kiln/aot.h), for programs in C and for
 * bindings from other languages (ctypes, cffi, JNI, Rust, Go, ...). It is in
 * libkiln.so (CMake: find_package(Kiln) + target_link_libraries(app
 * PRIVATE Kiln::kiln)).
 *
 * In the spirit of MXNet's c_api.h: opaque handles, plain C types only, and
 * every call returns a status: KILN_C_OK (0) on success, nonzero on failure,
 * when kiln_last_error() says what went wrong, naming the function and the
 * file, operator or argument at fault. No C++ exception crosses this
 * boundary; nothing here aborts or prints.
 *
 *   int64_t shape[2] = {2, 3};
 *   float values[6] = {-1, 2, -3, 4, -5, 6};
 *   const char *keys[1] = {"act_type"}, *vals[1] = {"relu"};
 *   kiln_nd_t x, y;
 *   int n;
 *   if (kiln_nd_create_from_data(shape, 2, values, 6, &x) != KILN_C_OK ||
 *       kiln_nd_invoke("Activation", &x, 1, keys, vals, 1, 1, &y, &n) != KILN_C_OK ||
 *       kiln_nd_copy_to(y, values, 6) != KILN_C_OK) {   // waits for the op
 *     fprintf(stderr, "%s\n", kiln_last_error());
 *     return 1;
 *   }
 *   kiln_nd_free(y);                                    // values: 0 2 0 4 0 6
 *   kiln_nd_free(x);
 *
 *   kiln_sym_t net;
 *   kiln_exec_t exec;
 *   const char *names[1] = {"data"};
 *   int ndims[1] = {4};
 *   int64_t dims[4] = {2, 1, 28, 28};
 *   kiln_sym_zoo("mlp", NULL, 0, 10, &net);
 *   kiln_exec_bind(net, names, ndims, dims, 1, &exec); // or kiln_exec_load
 *   kiln_exec_set_arg(exec, "data", images, 2 * 28 * 28);
 *   kiln_exec_forward(exec, 0);
 *   kiln_exec_copy_output(exec, 0, probabilities, 2 * 10);
 *   kiln_exec_free(exec);
 *   kiln_sym_free(net);
 *
 * Arrays are float32 on the CPU (what Kiln's NDArray supports today), dense
 * and row-major. Counts and indices are `int`, element counts of buffers
 * `size_t`, extents `int64_t`.
 *
 * Ownership. Every handle a call creates is the caller's and is freed by
 * the matching *_free / *_unload / *_destroy call (each accepts NULL). Such
 * handles never dangle: an NDArray handle viewing an executor's memory
 * (kiln_exec_arg, kiln_exec_grad) keeps the executor alive, and an AOT
 * model keeps its library loaded. Pointers returned into a handle (shapes,
 * names, JSON strings, and the arrays of a list from kiln_nd_load) are
 * owned by that handle and stay valid as each function says; never free
 * them.
 *
 * Threads. kiln_last_error() is per thread. Different handles may be used
 * from different threads at once. NDArray calls may be made on the same
 * array from several threads: Kiln's engine orders them (reads in
 * parallel, writes alone, in call order). Calls that return strings or
 * arrays owned by a Symbol, Executor or list handle (kiln_sym_to_json,
 * kiln_sym_list_*, ...) and every Executor call must not race with other
 * calls on the same handle. Autograd recording scopes are per thread.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_C_API_H
#define KILN_C_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped when a declaration below changes incompatibly. */
#define KILN_C_API_VERSION 1

/* The status every fallible call returns. */
enum {
  KILN_C_OK = 0,
  /* Kiln refused the request or it failed: an unknown operator or file, a
   * shape that does not fit, a malformed model, a failed asynchronous op.
   * The message names the file, operator or argument. */
  KILN_C_ERROR = 1,
  /* A bad argument caught at this boundary: a NULL handle or pointer, a
   * negative count, an index out of range, a buffer of the wrong size. */
  KILN_C_ERROR_ARGUMENT = 2,
  /* An unexpected failure inside Kiln (out of memory, an internal error). */
  KILN_C_ERROR_INTERNAL = 3
};

/* Opaque handles. */
typedef struct kiln_nd_s *kiln_nd_t;             /* an NDArray */
typedef struct kiln_nd_list_s *kiln_nd_list_t;   /* arrays read from a file */
typedef struct kiln_sym_s *kiln_sym_t;           /* a Symbol */
typedef struct kiln_exec_s *kiln_exec_t;         /* an Executor */
typedef struct kiln_aot_lib_s *kiln_aot_lib_t;   /* a loaded AOT model library */
typedef struct kiln_aot_model_s *kiln_aot_model_t; /* an instance of its model */

/*===-------------------------------------------------------------------===*
 * Errors and version
 *===-------------------------------------------------------------------===*/

/* The message of the last call on this thread that failed, "" if none did
 * ("kiln_nd_invoke: unknown operator 'Foo' ..."). Successful calls leave it
 * alone. Valid until the next failing call on this thread. */
const char *kiln_last_error(void);

/* KILN_C_API_VERSION of the library (compare with the header's). */
int kiln_c_api_version(void);

/*===-------------------------------------------------------------------===*
 * NDArray (kiln/NDArray.h)
 *
 * Ops are asynchronous: a call pushes work to Kiln's engine and returns; a
 * call that reads values (kiln_nd_copy_to, kiln_nd_wait_to_read) waits for
 * them, and reports an error of an op it waited for.
 *===-------------------------------------------------------------------===*/

/* A new array of `shape` (`ndim` extents, each >= 0), uninitialized (MXNet's
 * nd.empty). */
int kiln_nd_create(const int64_t *shape, int ndim, kiln_nd_t *out);
/* A new array of `shape` holding `size` values copied from `data` (size
 * must be the number of elements). */
int kiln_nd_create_from_data(const int64_t *shape, int ndim, const float *data, size_t size,
                             kiln_nd_t *out);
/* A new array of `shape` with every element `value` (zeros, ones, ...). */
int kiln_nd_full(const int64_t *shape, int ndim, float value, kiln_nd_t *out);
/* Frees the handle. The array's memory goes once no pending op and no other
 * handle (a view, a gradient) uses it. */
int kiln_nd_free(kiln_nd_t nd);

/* The array's rank and extents. `*dims` points into the handle and is valid
 * while it lives (NULL for rank 0). */
int kiln_nd_shape(kiln_nd_t nd, int *ndim, const int64_t **dims);
/* The number of elements. */
int kiln_nd_size(kiln_nd_t nd, int64_t *size);

/* Waits for the values, then copies them to `data` (`size` = the number of
 * elements). */
int kiln_nd_copy_to(kiln_nd_t nd, float *data, size_t size);
/* Overwrites the array with `size` values from `data` (waits for the
 * array's pending reads and writes first; `data` is read before return). */
int kiln_nd_copy_from(kiln_nd_t nd, const float *data, size_t size);
/* A new array with the same values (asynchronous). */
int kiln_nd_copy(kiln_nd_t nd, kiln_nd_t *out);
/* A view of the same storage with another shape of as many elements (MXNet
 * codes 0 = copy the extent, -1 = infer one). Writes through either show in
 * both. */
int kiln_nd_reshape(kiln_nd_t nd, const int64_t *shape, int ndim, kiln_nd_t *out);
/* A view of rows [begin, end) along axis 0. */
int kiln_nd_slice(kiln_nd_t nd, int64_t begin, int64_t end, kiln_nd_t *out);

/* Blocks until every write to the array pushed so far has run; fails with
 * the op's error if one of them failed. */
int kiln_nd_wait_to_read(kiln_nd_t nd);
/* Blocks until every op pushed so far (eager or compiled) has run; fails
 * with the first failure no wait has reported yet. */
int kiln_nd_wait_all(void);

/* Runs MXNet operator `op` (canonical or legacy name: "FullyConnected",
 * "elemwise_add", "_plus_scalar", "SliceChannel", ...) on `n_inputs`
 * arrays in the op's input order, with `n_attrs` MXNet attribute strings
 * (`attr_keys[i]` = `attr_values[i]`, e.g. "num_hidden" = "10"). Leave
 * out an absent optional input and say so with its attribute (a
 * FullyConnected without bias: two inputs and "no_bias" = "True"); no input
 * may be NULL. Creates one new array per
 * output in `outputs[0 .. *n_outputs)`; the caller frees each. When the op
 * has more outputs than `outputs_capacity`, the call fails with
 * KILN_C_ERROR_ARGUMENT and sets `*n_outputs` to the number needed. While
 * an autograd record scope is open the call is recorded. */
int kiln_nd_invoke(const char *op, const kiln_nd_t *inputs, int n_inputs,
                   const char *const *attr_keys, const char *const *attr_values, int n_attrs,
                   int outputs_capacity, kiln_nd_t *outputs, int *n_outputs);
/* The out= form: writes the op's outputs into the existing arrays
 * `outputs[0 .. n_outputs)` (one per output, of the right shapes; an output
 * may be one of the inputs when the op is elementwise, e.g. x = x + y). */
int kiln_nd_invoke_out(const char *op, const kiln_nd_t *inputs, int n_inputs,
                       const char *const *attr_keys, const char *const *attr_values,
                       int n_attrs, const kiln_nd_t *outputs, int n_outputs);

/* Writes `n` arrays to `path` as an MXNet `.nd` / `.params` list (V2
 * records; MXNet reads it with mx.nd.load), atomically. `names` NULL: an
 * unnamed list; otherwise `n` names, in order ("arg:fc1_weight", ...). */
int kiln_nd_save(const char *path, const kiln_nd_t *arrays, int n, const char *const *names);
/* Reads an MXNet `.nd` / `.params` file of any era (every dtype converted
 * to float32) into a new list, in file order. */
int kiln_nd_load(const char *path, kiln_nd_list_t *out);
/* The number of arrays in the list. */
int kiln_nd_list_size(kiln_nd_list_t list, int *count);
/* Array `index` of the list and its name (NULL when the file has no names;
 * `name` may be NULL when not wanted). Both are owned by the list: valid
 * until kiln_nd_list_free, and the array handle must not be freed
 * (kiln_nd_copy keeps the values longer). */
int kiln_nd_list_get(kiln_nd_list_t list, int index, const char **name, kiln_nd_t *array);
/* Frees the list and the handles it owns. */
int kiln_nd_list_free(kiln_nd_list_t list);

/* Seeds the stream Dropout draws its masks from (default 0). */
int kiln_nd_seed(uint64_t seed);
/* The eager kernel cache (keyed by op, attributes, shapes, mode): hits,
 * misses, cached kernels and seconds spent compiling the misses. Any
 * pointer may be NULL. */
int kiln_nd_cache_stats(int64_t *hits, int64_t *misses, int64_t *entries,
                        double *compile_seconds);
/* Forgets every cached kernel and zeroes the counters. */
int kiln_nd_clear_cache(void);

/*===-------------------------------------------------------------------===*
 * Autograd (MXNet's mx.autograd)
 *===-------------------------------------------------------------------===*/

/* How backward writes a gradient (MXNet's grad_req). */
enum { KILN_C_GRAD_NULL = 0, KILN_C_GRAD_WRITE = 1, KILN_C_GRAD_ADD = 2 };

/* Gives the array a gradient buffer (zeros) that backward fills according
 * to `grad_req` (KILN_C_GRAD_*). */
int kiln_nd_attach_grad(kiln_nd_t nd, int grad_req);
/* A new handle on the array's gradient buffer (attach_grad first); it sees
 * every later backward. The caller frees it. */
int kiln_nd_grad(kiln_nd_t nd, kiln_nd_t *out);

/* Opens a scope on this thread in which eager ops are recorded (MXNet's
 * autograd.record(train_mode)): `training` nonzero selects training
 * behaviour (BatchNorm batch statistics, Dropout). */
int kiln_autograd_record_begin(int training);
/* Opens a scope that stops recording (MXNet's autograd.pause(train_mode)). */
int kiln_autograd_pause_begin(int training);
/* Closes the innermost scope this thread opened and restores the recording
 * and training flags it found; fails if none is open. */
int kiln_autograd_scope_end(void);
/* Whether this thread records / runs in training mode now (0 or 1). */
int kiln_autograd_is_recording(int *recording);
int kiln_autograd_is_training(int *training);
/* Gradients of the `n` recorded `heads` with respect to every array with a
 * gradient buffer they depend on. `head_grads` NULL, or an entry NULL:
 * ones (loss heads such as SoftmaxOutput use their built-in gradient).
 * Without `retain_graph` the recorded graph of these heads is freed. */
int kiln_autograd_backward(const kiln_nd_t *heads, int n, const kiln_nd_t *head_grads,
                           int retain_graph);

/*===-------------------------------------------------------------------===*
 * Symbol (kiln/Symbol.h, kiln/Zoo.h)
 *
 * Symbols are immutable; every call that composes returns a new handle.
 *===-------------------------------------------------------------------===*/

/* A free variable (an input, parameter or auxiliary state). */
int kiln_sym_variable(const char *name, kiln_sym_t *out);
/* Applies MXNet operator `op` to the `n_inputs` positional `inputs` (in the
 * op's input order) with attribute strings. Inputs left out at the end
 * become variables "<name>_<input>" (FullyConnected "fc1" gets fc1_weight
 * and fc1_bias). `name` NULL or "": MXNet's automatic name
 * ("fullyconnected0"). */
int kiln_sym_create(const char *op, const char *name, const kiln_sym_t *inputs, int n_inputs,
                    const char *const *attr_keys, const char *const *attr_values, int n_attrs,
                    kiln_sym_t *out);
/* Every output of the `n` symbols, in order, as one symbol. */
int kiln_sym_group(const kiln_sym_t *symbols, int n, kiln_sym_t *out);
/* The number of outputs. */
int kiln_sym_num_outputs(kiln_sym_t sym, int *count);
/* Output `index` alone (MXNet's sym[i]). */
int kiln_sym_get_output(kiln_sym_t sym, int index, kiln_sym_t *out);
/* Reads an MXNet symbol JSON file of any era. */
int kiln_sym_load(const char *path, kiln_sym_t *out);
/* Parses symbol JSON text of any era. */
int kiln_sym_from_json(const char *json, kiln_sym_t *out);
/* Writes MXNet 1.x symbol JSON to `path`, atomically. */
int kiln_sym_save(kiln_sym_t sym, const char *path);
/* MXNet 1.x symbol JSON; `*json` is owned by the handle and valid until the
 * next kiln_sym_to_json on it or kiln_sym_free. */
int kiln_sym_to_json(kiln_sym_t sym, const char **json);
/* Names of the arguments (variables that are not aux states, in MXNet's
 * order), auxiliary states, outputs ("fc1_output"), or every variable.
 * `*names` is an array of `*count` strings owned by the handle, valid until
 * the next call of the same function on it or kiln_sym_free. */
int kiln_sym_list_arguments(kiln_sym_t sym, int *count, const char *const **names);
int kiln_sym_list_auxiliary_states(kiln_sym_t sym, int *count, const char *const **names);
int kiln_sym_list_outputs(kiln_sym_t sym, int *count, const char *const **names);
int kiln_sym_list_inputs(kiln_sym_t sym, int *count, const char *const **names);
/* Built-in network `name` ("mlp", "lenet", "alexnet", "vgg16", "googlenet",
 * "inception-bn", "resnet18", "resnet50") for images of `image_shape`
 * (channels, height, width; NULL and 0: 1, 28, 28) and `num_classes`
 * classes, with MXNet's layers and names; input "data", label
 * "softmax_label". */
int kiln_sym_zoo(const char *name, const int64_t *image_shape, int image_ndim, int num_classes,
                 kiln_sym_t *out);
/* Frees the handle and the strings it owns. */
int kiln_sym_free(kiln_sym_t sym);

/*===-------------------------------------------------------------------===*
 * Executor (kiln/Executor.h): a network bound to input shapes, compiled on
 * first use (JIT), forward / backward.
 *
 * Input shapes are given as `n_inputs` names, their ranks `ndims[i]` and
 * every extent in `dims`, one input after the other: data (2, 784) and
 * softmax_label (2,) are names {"data", "softmax_label"}, ndims {2, 1},
 * dims {2, 784, 2}.
 *===-------------------------------------------------------------------===*/

/* Binds a symbol to the shapes of its data inputs (and labels, when they
 * cannot be inferred). Parameters start as zeros: set them with
 * kiln_exec_set_arg. The executor does not keep `sym`. */
int kiln_exec_bind(kiln_sym_t sym, const char *const *input_names, const int *ndims,
                   const int64_t *dims, int n_inputs, kiln_exec_t *out);
/* Binds `model`: "zoo:NAME" or an MXNet "*-symbol.json" file. `params_path`
 * (NULL: none) is an MXNet .params file whose arrays become the initial
 * parameter and aux values. */
int kiln_exec_load(const char *model, const char *params_path, const char *const *input_names,
                   const int *ndims, const int64_t *dims, int n_inputs, kiln_exec_t *out);

/* Which names kiln_exec_list_names lists. */
enum {
  KILN_C_EXEC_INPUTS = 0,  /* data inputs and labels */
  KILN_C_EXEC_PARAMS = 1,  /* learnable parameters */
  KILN_C_EXEC_AUX = 2,     /* auxiliary states */
  KILN_C_EXEC_OUTPUTS = 3  /* heads */
};
/* The names of one kind (KILN_C_EXEC_*) in the executor's order; strings
 * and array are owned by the executor, valid while it lives. */
int kiln_exec_list_names(kiln_exec_t exec, int kind, int *count, const char *const **names);
/* The number of outputs (heads) and the name of output `index`; the name
 * is valid while the executor lives. */
int kiln_exec_num_outputs(kiln_exec_t exec, int *count);
int kiln_exec_output_name(kiln_exec_t exec, int index, const char **name);

/* Copies `size` values (the argument's number of elements) into input,
 * parameter or aux state `name`. */
int kiln_exec_set_arg(kiln_exec_t exec, const char *name, const float *data, size_t size);
/* A new NDArray handle viewing argument `name`'s memory (no copy): writes
 * through it (kiln_nd_copy_from, kiln_nd_invoke_out) change the argument,
 * ordered with the executor's calls. The handle keeps the executor alive;
 * the caller frees it. */
int kiln_exec_arg(kiln_exec_t exec, const char *name, kiln_nd_t *out);

/* Runs the network; `is_train` nonzero: in training mode, with the backward
 * (every parameter gradient and the new aux states come with it). */
int kiln_exec_forward(kiln_exec_t exec, int is_train);
/* Makes the gradients of the last training forward current. `n` head
 * gradients by output name (`names[i]`, `head_grads[i]`) matter only for
 * heads that are not loss heads; missing ones are ones. n = 0: none. */
int kiln_exec_backward(kiln_exec_t exec, const char *const *names, const kiln_nd_t *head_grads,
                       int n);
/* Rank and extents of output `index`, after a forward; `*dims` is valid
 * while the executor lives. */
int kiln_exec_output_shape(kiln_exec_t exec, int index, int *ndim, const int64_t **dims);
/* Output `index` of the last kiln_exec_forward as a new NDArray (a copy;
 * the caller frees it). */
int kiln_exec_output(kiln_exec_t exec, int index, kiln_nd_t *out);
/* Copies output `index` of the last kiln_exec_forward to `data` (`size` =
 * its number of elements). */
int kiln_exec_copy_output(kiln_exec_t exec, int index, float *data, size_t size);
/* Forward on NDArrays, asynchronously and without copies: the kernels read
 * the `n_inputs` arrays (data inputs or labels by `input_names[i]`; any
 * input not given is the executor's own argument) and write new arrays,
 * one per output, into `outputs[0 .. *n_outputs)` (the caller frees each;
 * KILN_C_ERROR_ARGUMENT and the number needed in `*n_outputs` when
 * `outputs_capacity` is too small). kiln_exec_output does not see these
 * results. */
int kiln_exec_forward_nd(kiln_exec_t exec, const char *const *input_names,
                         const kiln_nd_t *inputs, int n_inputs, int is_train,
                         int outputs_capacity, kiln_nd_t *outputs, int *n_outputs);
/* The gradient of parameter `name` from the latest training forward as a
 * new NDArray handle viewing the executor's memory (overwritten by the next
 * training forward; compiles the training function if none ran yet). The
 * handle keeps the executor alive; the caller frees it. */
int kiln_exec_grad(kiln_exec_t exec, const char *name, kiln_nd_t *out);
/* Writes `prefix`-symbol.json and `prefix`-NNNN.params (epoch `epoch`) in
 * MXNet's format, atomically. */
int kiln_exec_save_checkpoint(kiln_exec_t exec, const char *prefix, int epoch);
/* Frees the handle; the executor goes when no NDArray handle views it. */
int kiln_exec_free(kiln_exec_t exec);

/*===-------------------------------------------------------------------===*
 * AOT model libraries (`kiln-compile MODEL --input-shape ... --emit lib`,
 * kiln/aot.h, docs/aot.md), loaded at run time with dlopen: one process can
 * use several, and needs no header of theirs. Data are float32 buffers in
 * the signature's order and shapes.
 *===-------------------------------------------------------------------===*/

/* Loads the library at `path` (a name without '/' is searched like
 * dlopen's) and checks it is a Kiln model library of this API version. */
int kiln_aot_load(const char *path, kiln_aot_lib_t *out);
/* The model's signature as JSON (kiln_model_signature); valid while the
 * library handle lives. */
int kiln_aot_signature(kiln_aot_lib_t lib, const char **json);
int kiln_aot_num_inputs(kiln_aot_lib_t lib, int *count);
int kiln_aot_num_outputs(kiln_aot_lib_t lib, int *count);
/* Name, rank and extents of input / output `index`; valid while the library
 * handle lives. */
int kiln_aot_input_name(kiln_aot_lib_t lib, int index, const char **name);
int kiln_aot_output_name(kiln_aot_lib_t lib, int index, const char **name);
int kiln_aot_input_shape(kiln_aot_lib_t lib, int index, int *ndim, const int64_t **dims);
int kiln_aot_output_shape(kiln_aot_lib_t lib, int index, int *ndim, const int64_t **dims);
/* 1 when inference never reads input `index` (a loss head's label): its
 * buffer may be NULL in kiln_aot_run. */
int kiln_aot_input_optional(kiln_aot_lib_t lib, int index, int *optional);
/* Creates an instance of the model: `params_path` NULL for the weights
 * embedded in the library, else an MXNet .params file with exactly the
 * model's parameters and aux states (read once, here). The instance keeps
 * the library loaded. */
int kiln_aot_create(kiln_aot_lib_t lib, const char *params_path, kiln_aot_model_t *out);
/* Runs the model once on `n_inputs` input buffers and writes `n_outputs`
 * output buffers (the caller's, of the signature's sizes). Runs of one
 * instance are serialized; use one instance per thread to run in
 * parallel. */
int kiln_aot_run(kiln_aot_model_t model, const float *const *inputs, int n_inputs,
                 float *const *outputs, int n_outputs);
/* Frees an instance. */
int kiln_aot_destroy(kiln_aot_model_t model);
/* Drops the handle; the library is unloaded once no instance uses it. */
int kiln_aot_unload(kiln_aot_lib_t lib);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* KILN_C_API_H */
