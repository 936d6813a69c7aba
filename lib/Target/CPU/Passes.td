//===- Passes.td - CPU target passes ------------------------*- tablegen -*-===//

#ifndef KILN_TARGET_CPU_PASSES
#define KILN_TARGET_CPU_PASSES

include "mlir/Pass/PassBase.td"

def PackKernelArgs : Pass<"kiln-cpu-pack-kernel-args", "::mlir::ModuleOp"> {
  let summary = "Add a `void <name>_packed(void **buffers)` entry to every kernel";
  let description = [{
    Runs on the LLVM dialect, after func-to-llvm with the bare-pointer memref
    calling convention, so every public kernel takes one `!llvm.ptr` per
    buffer (inputs first, then the out-params that buffer-results-to-out-
    params created) and returns nothing. For each such public, defined
    `llvm.func @k` it adds `llvm.func @k_packed(%buffers: !llvm.ptr)` that
    loads `buffers[i]` for every argument and calls `@k`: the runtime, which
    has no MLIR, calls kernels through that single `void (*)(void **)` shape.
    A public function with a non-pointer argument or a result is rejected:
    it does not follow the kernel ABI (docs/lowering.md).

    Before:
    ```mlir
    llvm.func @k(%a: !llvm.ptr, %out: !llvm.ptr) { ... }
    ```
    After:
    ```mlir
    llvm.func @k(%a: !llvm.ptr, %out: !llvm.ptr) { ... }
    llvm.func @k_packed(%args: !llvm.ptr) {
      %p0 = llvm.getelementptr %args[0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
      %a = llvm.load %p0 : !llvm.ptr -> !llvm.ptr
      %p1 = llvm.getelementptr %args[1] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
      %out = llvm.load %p1 : !llvm.ptr -> !llvm.ptr
      llvm.call @k(%a, %out) : (!llvm.ptr, !llvm.ptr) -> ()
      llvm.return
    }
    ```
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def LowerStridedCopies : Pass<"kiln-cpu-lower-strided-copies", "::mlir::func::FuncOp"> {
  let summary = "Turn memref.copy between strided views into linalg.copy";
  let description = [{
    Bufferization writes `tensor.insert_slice` / `extract_slice` as a
    memref.copy into a strided subview. finalize-memref-to-llvm lowers a copy
    that is not contiguous to a call of `memrefCopy` in MLIR's C runner
    library, which neither the JIT nor an AOT kernel object should depend
    on. This pass rewrites such copies to `linalg.copy`, which later becomes
    plain loops; contiguous copies stay memref.copy (a memcpy).

    Before:
    ```mlir
    %v = memref.subview %buf[0, 1] [2, 3] [1, 1]
        : memref<2x5xf32> to memref<2x3xf32, strided<[5, 1], offset: 1>>
    memref.copy %src, %v : memref<2x3xf32> to memref<2x3xf32, strided<[5, 1], offset: 1>>
    ```
    After:
    ```mlir
    linalg.copy ins(%src : memref<2x3xf32>)
                outs(%v : memref<2x3xf32, strided<[5, 1], offset: 1>>)
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}


def TileAndVectorize : Pass<"kiln-cpu-tile-and-vectorize", "::mlir::func::FuncOp"> {
  let summary = "Cache/register tiling and AVX-512 vectorization of matmuls, "
                "convolutions (via im2col) and elementwise generics, on tensors";
  let description = [{
    Runs before one-shot bufferization.

    * `linalg.conv_2d_nchw_fchw` becomes an im2col generic plus a
      contraction (`linalg::rewriteInIm2Col`): per image, filter[F, C·Kh·Kw]
      times col[C·Kh·Kw, Ho·Wo], which is the NCHW output directly.
    * `linalg.matmul` reading B transposed (FullyConnected) gets an explicit
      `linalg.transpose` of B so B rows run along n.
    * Contractions with one m, n and k (plus batch dims) whose B and C run
      along n are tiled: `scf.forall` over (batch, 64·m, 256·n) cache tiles
      (the parallel loop), `scf.for` over 256-wide k blocks, `scf.for` over an
      8×32×1 register tile that is vectorized (masked where a tile is partial)
      to a `vector.contract`; the accumulator is hoisted out of the k loops
      and the contraction lowered to outer products, i.e. 8 FMAs on
      `vector<32xf32>` per k step.
    * All-parallel generics whose operands run along the innermost loop (or
      broadcast it) are collapsed to 1-D where possible, split into
      `scf.forall` chunks of 64 Ki elements when large, and vectorized 16
      lanes at a time.

    Everything else is left to `convert-linalg-to-loops`.

    Example (register tile after the pass, schematically):
    ```mlir
    %acc = vector.transfer_read %C[...] : tensor<8x32xf32>, vector<8x32xf32>
    %r = scf.for %k = ... iter_args(%c = %acc) -> vector<8x32xf32> {
      %a = vector.transfer_read %A[...] ...
      %b = vector.transfer_read %B[...] : ..., vector<32xf32>
      %f = vector.fma ...           // × 8
    }
    ```
  }];
  let options = [
    Option<"numThreads", "num-threads", "unsigned", /*default=*/"2",
           "Threads the parallel loops are cut for (1 = no scf.forall for elementwise ops)">,
    Option<"vectorBits", "vector-bits", "unsigned", /*default=*/"0",
           "Vector register width to tile for: 512 (AVX-512: 8x32 register tile, 16 lanes), "
           "256 (AVX2: 4x16, 8 lanes); 0 = the host's (JIT). An AOT build for another "
           "CPU must set it">,
    Option<"leaveGemms", "leave-gemms", "bool", /*default=*/"true",
           "Leave contractions that kiln-cpu-lower-contractions handles (Contraction.h) "
           "untouched; false = tile them here (im2col, transposed B, register tiles on tensors)">,
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect", "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect", "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect", "::mlir::affine::AffineDialect"];
}

def LowerContractions : Pass<"kiln-cpu-lower-contractions", "::mlir::ModuleOp"> {
  let summary = "Lower linalg contractions (matmul, batch_matmul, convolutions, contraction "
                "generics) on memrefs to packed, register-blocked GEMM loops";
  let description = [{
    Runs on memrefs, after bufferization and before
    `kiln-cpu-outline-parallel`. Every linalg op with two f32 inputs, a body
    `out + in0 * in1`, linear indexing maps (transposes, strided and dilated
    convolution windows) and an output that is contiguous along some
    dimension only one input uses (Target/CPU/Contraction.h) becomes a
    GotoBLAS-style GEMM written with scf/vector ops:

    * A (the operand without the vectorized dimension: a filter, the
      activations of FullyConnected) is packed once per call into
      `[batch][k block][mr-row panel][kc][mr]`.
    * `scf.forall` over tasks (batch x image/outer dims x nc-column tiles x
      row tiles), each packing its own B panel `[nc/nr][kc][nr]` per k block,
      zero-padded to whole micro-panels; a convolution's im2col is folded
      into this pack, a transposed B (FullyConnected's weight) is gathered.
    * The micro-kernel: an mr x nr register tile of C (AVX2: 6 x 16, i.e. 12
      ymm accumulators; AVX-512: 8 x 32), loaded, updated by kc rank-1
      steps (mr broadcasts, nr/L vector loads, mr*nr/L `vector.fma`s per k)
      and stored. A partial row panel gets its own micro-kernel with fewer
      rows; a partial column panel masks only the load and store of C.

    Operand offsets per group of dimensions are `i * stride` or a constant
    `memref.global` table (`__kiln_gemm_offsets*`). Temporary panels are
    `memref.alloc`s freed by the deallocation pipeline.

    ```mlir
    scf.forall (%t) in (8) {
      ...                                   // pack B panel
      %r = scf.for %k = %c0 to %kcb step %c1 iter_args(%c00 = ..., ...) -> (vector<8xf32> x 12) {
        %b0 = vector.load %Bp[...] : memref<...xf32>, vector<8xf32>
        %a0 = memref.load %Ap[...]
        %s0 = vector.broadcast %a0 : f32 to vector<8xf32>
        %f = vector.fma %s0, %b0, %c00 : vector<8xf32>   // x 12
        ...
      }
    }
    ```
  }];
  let options = [
    Option<"numThreads", "num-threads", "unsigned", /*default=*/"2",
           "Threads the tasks are cut for (about 4 tasks per thread)">,
    Option<"vectorBits", "vector-bits", "unsigned", /*default=*/"0",
           "Vector register width: 512 (AVX-512: 8x32 register tile), 256 (AVX2: 6x16); "
           "0 = the host's. An AOT build for another CPU must set it">,
  ];
  let dependentDialects = ["::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect", "::mlir::arith::ArithDialect"];
}

def ElideResultCopies : Pass<"kiln-cpu-elide-result-copies", "::mlir::func::FuncOp"> {
  let summary = "Compute a result in its out-param instead of copying an allocation into it";
  let description = [{
    Runs after `buffer-results-to-out-params`. A function that ends with
    `memref.copy %src, %out` where `%out` is an argument used by nothing else,
    `%src` is an identity-layout `memref.alloc` of the entry block (or one
    `collapse_shape`/`expand_shape` of it) and nothing after the copy touches
    memory gets the allocation replaced by `%out` (or the inverse reshape of
    it) and loses the copy. Skipped when the function's `kiln.inplace` lets
    that result alias an input (computing into it early could overwrite the
    input before it is read).

    Before:
    ```mlir
    %a = memref.alloc() : memref<4x8xf32>
    ... writes %a ...
    %c = memref.collapse_shape %a [[0, 1]] : memref<4x8xf32> into memref<32xf32>
    memref.copy %c, %out : memref<32xf32> to memref<32xf32>
    ```
    After:
    ```mlir
    %a = memref.expand_shape %out [[0, 1]] output_shape [4, 8] : memref<32xf32> into memref<4x8xf32>
    ... writes %a ...
    ```
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def ApproximateMath : Pass<"kiln-cpu-approximate-math", "::mlir::func::FuncOp"> {
  let summary = "Replace f32 math.tanh and math.exp by vectorizable polynomial approximations";
  let description = [{
    LLVM has no vector code for `llvm.tanh`/`llvm.exp` on x86: a vector of 8
    becomes 8 calls of libm's `tanhf`/`expf`. This pass applies MLIR's
    polynomial approximations (math dialect `populateMathPolynomialApproximationPatterns`,
    the Eigen/Cephes ones) to f32 `tanh` and `exp` on scalars and vectors
    alike, so the elementwise epilogues (tanh and sigmoid activations,
    softmax) stay in registers. Accuracy: a few ulp (the lowering tests
    compare with the interpreter at rtol 1e-4). `erf`, `log`, `log1p`,
    `expm1` stay libm calls. It also strength-reduces `powf` whose exponent
    is the constant 0.5 (→ `math.sqrt`, one vsqrtps per 8 lanes instead of
    8 libm calls; differs from pow only at −0 and −inf) or 2 (→ `x·x`,
    exact), e.g. `power_scalar 0.5` in Adam's update.
  }];
  let dependentDialects = ["::mlir::math::MathDialect", "::mlir::arith::ArithDialect",
                           "::mlir::vector::VectorDialect"];
}

def OutlineParallel : Pass<"kiln-cpu-outline-parallel", "::mlir::ModuleOp"> {
  let summary = "Outline bufferized scf.forall bodies into functions run by kiln_parallel_for";
  let description = [{
    Runs on memrefs, after bufferization. Every outermost `scf.forall` with
    static bounds and no results becomes a call of a private dispatch
    declaration `@<fn>_par<i>(%count: index, captures...)`; its body moves
    into `@<fn>_par<i>_body(%lo: index, %hi: index, captures...)` that runs
    the linearized iterations [lo, hi). A captured memref travels as its
    rank-0 base buffer (plus its offset when that is dynamic) and is rebuilt
    with `memref.reinterpret_cast`, so every argument is bare-pointer
    compatible. `kiln-cpu-lower-parallel-dispatch` later gives the dispatch
    its body (a call of `kiln_parallel_for`). A forall that does not qualify
    runs sequentially as `scf.for` loops.

    Before:
    ```mlir
    scf.forall (%i) = (0) to (512) step (64) {
      %s = memref.subview %out[%i] [64] [1] : ...
      ...
    }
    ```
    After:
    ```mlir
    %base, %off, %sz, %st = memref.extract_strided_metadata %out : ...
    func.call @k_par0(%c8, %base) : (index, memref<f32>) -> ()
    ...
    func.func private @k_par0(index, memref<f32>) attributes {kiln.parallel_body = @k_par0_body}
    func.func private @k_par0_body(%lo: index, %hi: index, %b: memref<f32>) {
      %out = memref.reinterpret_cast %b to offset: [0], sizes: [512], strides: [1] ...
      scf.for %t = %lo to %hi step %c1 { ... }
    }
    ```
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
                           "::mlir::func::FuncDialect", "::mlir::arith::ArithDialect"];
}

def LowerParallelDispatch : Pass<"kiln-cpu-lower-parallel-dispatch", "::mlir::ModuleOp"> {
  let summary = "Give the dispatch declarations of kiln-cpu-outline-parallel their bodies";
  let description = [{
    Runs on the LLVM dialect, after func-to-llvm with bare pointers. For each
    declaration carrying `kiln.parallel_body = @body` it adds a trampoline
    `void @body_tramp(i64 lo, i64 hi, ptr ctx)` that loads the captures from
    a struct and calls `@body`, and defines the declaration as: store the
    captures into a stack struct, call
    `kiln_parallel_for(0, count, @body_tramp, ctx)`. `kiln_parallel_for` is
    external: the JIT resolves it to lib/Target/CPU's default thread pool
    (ParallelRuntime.h) or whatever the host process registers; an AOT
    executable links the runtime's definition.

    ```mlir
    llvm.func internal @k_par0(%n: i64, %b: !llvm.ptr) {
      %ctx = llvm.alloca ... x !llvm.struct<(ptr)>
      llvm.store %b, ...
      llvm.call @kiln_parallel_for(%c0, %n, @k_par0_body_tramp, %ctx)
      llvm.return
    }
    ```
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // KILN_TARGET_CPU_PASSES
