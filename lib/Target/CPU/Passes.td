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

#endif // KILN_TARGET_CPU_PASSES
