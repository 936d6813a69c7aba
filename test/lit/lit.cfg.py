# lit configuration for Kiln's FileCheck tests.
import os
import lit.formats
from lit.llvm import llvm_config

config.name = "Kiln"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test", ".json"]
config.excludes = ["Inputs", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.kiln_obj_root, "test", "lit")

config.environment["FILECHECK_OPTS"] = "--enable-var-scope"
llvm_config.with_system_environment(["HOME", "TMPDIR"])
llvm_config.use_default_substitutions()
config.substitutions.append(("%testdata", config.kiln_testdata_dir))
config.substitutions.append(("%kiln_src", config.kiln_src_root))
# libkiln.so (lib/CAPI): what bindings from other languages load.
config.substitutions.append(("%libkiln", os.path.join(config.kiln_obj_root, "lib", "libkiln.so")))
if os.path.isdir(os.path.join(config.kiln_testdata_dir, "mxnet-format-samples")):
    config.available_features.add("mxnet-samples")

llvm_config.add_tool_substitutions(
    ["kiln-opt", "kiln-compile", "kiln-run", "kiln-train", "eager-mlp", "jit-embed"],
    [config.kiln_tools_dir])
if os.path.isdir("/usr/share/datasets/fashion-mnist") or os.environ.get("KILN_FASHION_MNIST_DIR"):
    config.available_features.add("fashion-mnist")
llvm_config.add_tool_substitutions(
    ["FileCheck", "not", "count", "split-file", "llvm-nm"], [config.llvm_tools_dir])
# Distributed KVStore tests (docs/distributed.md): `mpi` when Open MPI's
# mpirun is installed and the MPI backend was built. %mpirun runs ranks on
# this machine only (shared memory, no network), also as root.
import shutil
mpirun = shutil.which("mpirun")
if mpirun and os.path.exists(os.path.join(config.kiln_tools_dir, "kvstore-mpi-check")):
    config.available_features.add("mpi")
    llvm_config.add_tool_substitutions(["kvstore-mpi-check"], [config.kiln_tools_dir])
    config.substitutions.append(
        ("%mpirun", mpirun + " --allow-run-as-root --oversubscribe --mca btl self,vader"))
