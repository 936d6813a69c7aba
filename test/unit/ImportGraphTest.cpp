//===- ImportGraphTest.cpp - importGraph / exportGraph --------------------===//
//
// Attribute conversion for every supported MXNet operator (the expected IR is
// written from MXNet's documented attribute meanings and MLIR's attribute
// syntax, not from the importer's output), argument order and kinds, result
// names, every error case, and export→import round trips.
//
//===----------------------------------------------------------------------===//

#include "ImportTestUtil.h"

#include "Import/OpCatalog.h"
#include "Import/OpTable.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace kiln;
using namespace kiln::test;

namespace {

struct OpCase {
  std::string op;
  std::map<std::string, std::string> attrs;
  /// Substrings the printed op must contain.
  std::vector<std::string> expect;
  /// Substrings it must not contain (defaults left implicit, etc.).
  std::vector<std::string> reject = {};
  int operands = -1; // -1: don't check
  int results = 1;
  /// The exported node's attribute map must contain these.
  std::map<std::string, std::string> exported = {};
};

std::vector<OpCase> opCases() {
  return {
      {"FullyConnected",
       {{"num_hidden", "10"}, {"no_bias", "True"}, {"flatten", "False"}},
       {"graph.fully_connected", "num_hidden = 10 : i64", "flatten = false"},
       {},
       2,
       1,
       {{"num_hidden", "10"}, {"no_bias", "True"}, {"flatten", "False"}}},
      {"FullyConnected",
       {{"num_hidden", "7"}, {"flatten", "True"}},
       {"num_hidden = 7 : i64"},
       {"flatten"},
       3,
       1,
       {{"no_bias", "False"}}},
      {"Convolution",
       {{"kernel", "(3L, 3L)"},
        {"num_filter", "8"},
        {"stride", "[2,2]"},
        {"pad", "(1, 1)"},
        {"dilate", "(2,2)"},
        {"num_group", "2"},
        {"workspace", "512"},
        {"cudnn_tune", "fastest"},
        {"cudnn_off", "True"},
        {"layout", "NCHW"}},
       {"graph.convolution", "kernel = array<i64: 3, 3>", "stride = array<i64: 2, 2>",
        "pad = array<i64: 1, 1>", "dilate = array<i64: 2, 2>", "num_group = 2 : i64",
        "num_filter = 8 : i64"},
       {"workspace", "cudnn", "layout"},
       3,
       1,
       {{"kernel", "(3, 3)"}, {"stride", "(2, 2)"}, {"num_group", "2"}, {"no_bias", "False"}}},
      {"Convolution",
       {{"kernel", "3"}, {"num_filter", "4"}, {"no_bias", "1"}, {"num_group", "1"}},
       {"kernel = array<i64: 3>", "num_filter = 4 : i64"},
       {"num_group", "stride"},
       2},
      {"Deconvolution",
       {{"kernel", "(4,4)"},
        {"num_filter", "3"},
        {"stride", "(2,2)"},
        {"adj", "(1,1)"},
        {"target_shape", "(8,8)"}},
       {"graph.deconvolution", "kernel = array<i64: 4, 4>", "adj = array<i64: 1, 1>",
        "target_shape = array<i64: 8, 8>", "num_filter = 3 : i64"},
       {},
       2, // MXNet's Deconvolution has no bias by default
       1,
       {{"no_bias", "True"}, {"adj", "(1, 1)"}}},
      {"Deconvolution",
       {{"kernel", "(2,2)"}, {"num_filter", "3"}, {"no_bias", "False"}},
       {"graph.deconvolution"},
       {},
       3,
       1,
       {{"no_bias", "False"}}},
      {"Pooling",
       {{"kernel", "(3,3)"},
        {"pool_type", "avg"},
        {"stride", "(2,2)"},
        {"pad", "(1,1)"},
        {"pooling_convention", "full"},
        {"count_include_pad", "False"},
        {"global_pool", "False"},
        {"cudnn_off", "False"}},
       {"graph.pooling", "pool_type = #graph.pool_type<avg>",
        "pooling_convention = #graph.pooling_convention<full>", "count_include_pad = false",
        "kernel = array<i64: 3, 3>"},
       {"global_pool"},
       1,
       1,
       {{"pool_type", "avg"}, {"pooling_convention", "full"}, {"count_include_pad", "False"}}},
      {"Pooling",
       {{"global_pool", "True"}, {"pool_type", "lp"}, {"p_value", "3"}, {"kernel", "(1,1)"}},
       {"global_pool = true", "pool_type = #graph.pool_type<lp>", "p_value = 3 : i64"},
       {}},
      {"Pooling",
       {{"kernel", "(2,2)"}, {"pool_type", "max"}, {"count_include_pad", "None"},
        {"p_value", "None"}},
       {"kernel = array<i64: 2, 2>"},
       {"pool_type", "count_include_pad", "p_value"},
       1,
       1,
       {}},
      {"Activation",
       {{"act_type", "softrelu"}},
       {"graph.activation", "act_type = #graph.act_type<softrelu>"},
       {},
       1,
       1,
       {{"act_type", "softrelu"}}},
      {"LeakyReLU",
       {{"act_type", "prelu"}},
       {"graph.leaky_relu", "act_type = #graph.leaky_act_type<prelu>"},
       {},
       2},
      {"LeakyReLU",
       {{"act_type", "elu"}, {"slope", "0.1"}, {"lower_bound", "0.2"}, {"upper_bound", "0.5"}},
       {"act_type = #graph.leaky_act_type<elu>", "slope = 1.000000e-01 : f32",
        "lower_bound = 2.000000e-01 : f32", "upper_bound = 5.000000e-01 : f32"},
       {},
       1,
       1,
       {{"slope", "0.1"}, {"lower_bound", "0.2"}, {"upper_bound", "0.5"}}},
      {"LeakyReLU", {}, {"graph.leaky_relu"}, {"act_type", "slope"}, 1},
      {"BatchNorm",
       {{"eps", "1e-05"},
        {"momentum", "0.8"},
        {"fix_gamma", "False"},
        {"use_global_stats", "True"},
        {"axis", "3"},
        {"cudnn_off", "False"},
        {"output_mean_var", "False"}},
       {"graph.batch_norm", "eps = 1.000000e-05 : f64", "momentum = 8.000000e-01 : f32",
        "fix_gamma = false", "use_global_stats = true", "axis = 3 : i64"},
       {"output_mean_var"},
       5,
       1,
       {{"eps", "1e-05"}, {"momentum", "0.8"}, {"fix_gamma", "False"}}},
      {"BatchNorm",
       {{"eps", "0.001"}, {"fix_gamma", "True"}, {"momentum", "0.9"}},
       {"graph.batch_norm"},
       {"eps", "fix_gamma", "momentum"},
       5},
      {"_contrib_SyncBatchNorm",
       {{"eps", "1e-05"}, {"momentum", "0.8"}, {"fix_gamma", "False"}, {"ndev", "2"},
        {"key", "bn0"}, {"output_mean_var", "False"}},
       {"graph.sync_batch_norm", "eps = 9.99999974E-6 : f32", "momentum = 8.000000e-01 : f32",
        "fix_gamma = false", "ndev = 2 : i64", "key = \"bn0\""},
       {"output_mean_var", "use_global_stats"},
       5,
       1,
       {{"eps", "1e-05"}, {"fix_gamma", "False"}, {"ndev", "2"}, {"key", "bn0"}}},
      {"LRN",
       {{"nsize", "5"}, {"alpha", "0.001"}, {"beta", "0.5"}, {"knorm", "1"}},
       {"graph.lrn", "nsize = 5 : i64", "alpha = 1.000000e-03 : f32", "beta = 5.000000e-01 : f32",
        "knorm = 1.000000e+00 : f32"},
       {},
       1},
      {"Dropout",
       {{"p", "0.2"}, {"mode", "always"}, {"axes", "(2,3)"}},
       {"graph.dropout", "p = 2.000000e-01 : f32", "mode = #graph.dropout_mode<always>",
        "axes = array<i64: 2, 3>"},
       {},
       1,
       1,
       {{"p", "0.2"}, {"mode", "always"}, {"axes", "(2, 3)"}}},
      {"Embedding",
       {{"input_dim", "100"}, {"output_dim", "8"}, {"dtype", "float32"}, {"sparse_grad", "False"}},
       {"graph.embedding", "input_dim = 100 : i64", "output_dim = 8 : i64"},
       {"dtype"},
       2},
      {"SoftmaxOutput",
       {{"grad_scale", "2"},
        {"ignore_label", "0"},
        {"multi_output", "True"},
        {"use_ignore", "True"},
        {"preserve_shape", "True"},
        {"normalization", "valid"},
        {"out_grad", "True"},
        {"smooth_alpha", "0.1"}},
       {"graph.softmax_output", "grad_scale = 2.000000e+00 : f32",
        "ignore_label = 0.000000e+00 : f32", "multi_output = true", "use_ignore = true",
        "preserve_shape = true", "normalization = #graph.normalization<valid>",
        "out_grad = true", "smooth_alpha = 1.000000e-01 : f32"},
       {},
       2,
       1,
       {{"normalization", "valid"}, {"grad_scale", "2"}}},
      {"Softmax", {{"grad_scale", "1"}}, {"graph.softmax_output"}, {"grad_scale"}, 2},
      {"LinearRegressionOutput",
       {{"grad_scale", "0.5"}},
       {"graph.linear_regression_output", "grad_scale = 5.000000e-01 : f32"},
       {},
       2},
      {"LogisticRegressionOutput", {}, {"graph.logistic_regression_output"}, {}, 2},
      {"MAERegressionOutput", {}, {"graph.mae_regression_output"}, {}, 2},
      {"softmax",
       {{"axis", "1"}, {"temperature", "2"}},
       {"graph.softmax ", "axis = 1 : i64", "temperature = 2.000000e+00 : f64"},
       {},
       1,
       1,
       {{"axis", "1"}, {"temperature", "2"}}},
      {"softmax", {{"temperature", "None"}, {"axis", "-1"}}, {"graph.softmax "},
       {"temperature", "axis"}, 1, 1, {}},
      {"log_softmax", {{"axis", "0"}}, {"graph.log_softmax", "axis = 0 : i64"}, {}, 1},
      {"SoftmaxActivation",
       {{"mode", "channel"}},
       {"graph.softmax_activation", "mode = #graph.softmax_mode<channel>"},
       {},
       1},
      {"Flatten", {}, {"graph.flatten"}, {}, 1},
      {"flatten", {}, {"graph.flatten"}, {}, 1},
      {"_copy", {}, {"graph.identity"}, {}, 1},
      {"identity", {}, {"graph.identity"}, {}, 1},
      {"Reshape",
       {{"shape", "(0, -1)"}, {"reverse", "True"}},
       {"graph.reshape", "shape = array<i64: 0, -1>", "reverse = true"},
       {},
       1,
       1,
       {{"shape", "(0, -1)"}, {"reverse", "True"}}},
      // Legacy Reshape: 0 in target_shape means "infer".
      {"Reshape", {{"target_shape", "(0, 4)"}}, {"shape = array<i64: -1, 4>"}, {"target"}, 1, 1,
       {{"shape", "(-1, 4)"}}},
      {"Reshape",
       {{"target_shape", "(7, 0)"}, {"keep_highest", "True"}},
       {"shape = array<i64: 0, -1>"},
       {"keep_highest"},
       1},
      {"transpose", {{"axes", "(0,2,1)"}}, {"graph.transpose", "axes = array<i64: 0, 2, 1>"}, {},
       1},
      {"Concat",
       {{"num_args", "3"}, {"dim", "0"}},
       {"graph.concat", "dim = 0 : i64"},
       {"num_args"},
       3,
       1,
       {{"num_args", "3"}, {"dim", "0"}}},
      {"SliceChannel",
       {{"num_outputs", "3"}, {"axis", "2"}, {"squeeze_axis", "True"}},
       {"graph.split", "num_outputs = 3 : i64", "axis = 2 : i64", "squeeze_axis = true"},
       {},
       1,
       3,
       {{"num_outputs", "3"}}},
      {"split", {{"num_outputs", "2"}}, {"graph.split", "num_outputs = 2 : i64"}, {}, 1, 2},
      {"batch_take", {}, {"graph.batch_take"}, {}, 2},
      {"SVMOutput",
       {{"margin", "0.5"}, {"regularization_coefficient", "2"}, {"use_linear", "True"}},
       {"graph.svm_output", "margin = 5.000000e-01 : f32",
        "regularization_coefficient = 2.000000e+00 : f32", "use_linear = true"},
       {},
       2,
       1,
       {{"margin", "0.5"}, {"regularization_coefficient", "2"}, {"use_linear", "True"}}},
      {"softmax_cross_entropy", {}, {"graph.softmax_cross_entropy"}, {}, 2},
      {"_contrib_box_encode", {}, {"graph.box_encode"}, {}, 6, 2},
      {"scatter_nd", {{"shape", "(3,4)"}}, {"graph.scatter_nd", "shape = array<i64: 3, 4>"}, {}, 2,
       1, {{"shape", "(3, 4)"}}},
      {"_contrib_index_array", {{"axes", "(1,-1)"}}, {"graph.index_array", "axes = array<i64: 1, -1>"},
       {}, 1, 1, {{"axes", "(1, -1)"}}},
      {"_contrib_index_array", {{"axes", "None"}}, {"graph.index_array"}, {"axes"}, 1},
      {"_ravel_multi_index", {{"shape", "(3,4)"}},
       {"graph.ravel_multi_index", "shape = array<i64: 3, 4>"}, {}, 1, 1, {{"shape", "(3, 4)"}}},
      {"ravel_multi_index", {{"shape", "(2,)"}}, {"graph.ravel_multi_index"}, {}, 1},
      {"_unravel_index", {{"shape", "(3,4)"}}, {"graph.unravel_index", "shape = array<i64: 3, 4>"},
       {}, 1, 1, {{"shape", "(3, 4)"}}},
      {"unravel_index", {{"shape", "(5,)"}}, {"graph.unravel_index"}, {}, 1},
      {"khatri_rao", {{"num_args", "3"}}, {"graph.khatri_rao"}, {"num_args"}, 3, 1,
       {{"num_args", "3"}}},
      {"diag",
       {{"k", "-1"}, {"axis1", "2"}, {"axis2", "0"}},
       {"graph.diag", "k = -1 : i64", "axis1 = 2 : i64", "axis2 = 0 : i64"},
       {},
       1,
       1,
       {{"k", "-1"}, {"axis1", "2"}, {"axis2", "0"}}},
      {"diag", {}, {"graph.diag"}, {"k =", "axis1", "axis2"}, 1},
      {"_split_v2",
       {{"indices", "(0,2,3)"}, {"axis", "0"}, {"squeeze_axis", "False"}},
       {"graph.split_v2", "indices = array<i64: 0, 2, 3>", "axis = 0 : i64"},
       {"squeeze_axis", "sections"},
       1,
       3,
       {{"indices", "(0, 2, 3)"}, {"axis", "0"}}},
      {"_split_v2",
       {{"indices", "()"}, {"sections", "2"}, {"squeeze_axis", "True"}},
       {"graph.split_v2", "sections = 2 : i64", "squeeze_axis = true"},
       {},
       1,
       2,
       {{"sections", "2"}, {"squeeze_axis", "True"}}},
      {"elemwise_add", {}, {"graph.elemwise_add"}, {}, 2},
      {"_Plus", {}, {"graph.elemwise_add"}, {}, 2},
      {"elemwise_sub", {}, {"graph.elemwise_sub"}, {}, 2},
      {"elemwise_mul", {}, {"graph.elemwise_mul"}, {}, 2},
      {"elemwise_div", {}, {"graph.elemwise_div"}, {}, 2},
      {"add_n", {{"num_args", "4"}}, {"graph.add_n"}, {}, 4, 1, {{"num_args", "4"}}},
      {"ElementWiseSum", {{"num_args", "2"}}, {"graph.add_n"}, {}, 2},
      {"_plus_scalar", {{"scalar", "2.5"}}, {"graph.plus_scalar", "scalar = 2.500000e+00 : f64"},
       {}, 1, 1, {{"scalar", "2.5"}}},
      {"_PlusScalar", {{"scalar", "1"}}, {"graph.plus_scalar"}, {}, 1},
      {"_minus_scalar", {{"scalar", "127.5"}}, {"graph.minus_scalar", "scalar = 1.275000e+02"}, {},
       1},
      {"_rminus_scalar", {{"scalar", "1"}}, {"graph.rminus_scalar"}, {}, 1},
      {"_mul_scalar", {{"scalar", "0.0078125"}}, {"graph.mul_scalar", "scalar = 7.812500e-03"}, {},
       1},
      {"_div_scalar", {{"scalar", "4"}}, {"graph.div_scalar"}, {}, 1},
      {"_rdiv_scalar", {{"scalar", "4"}}, {"graph.rdiv_scalar"}, {}, 1},
      {"_power_scalar", {{"scalar", "2"}}, {"graph.power_scalar"}, {}, 1},
      {"_rpower_scalar", {{"scalar", "2"}}, {"graph.rpower_scalar"}, {}, 1},
      {"_maximum_scalar", {{"scalar", "0"}, {"is_int", "False"}}, {"graph.maximum_scalar"},
       {"is_int"}, 1},
      {"_minimum_scalar", {{"scalar", "6"}}, {"graph.minimum_scalar"}, {}, 1},
      {"broadcast_add", {}, {"graph.broadcast_add"}, {}, 2},
      {"broadcast_plus", {}, {"graph.broadcast_add"}, {}, 2},
      {"broadcast_sub", {}, {"graph.broadcast_sub"}, {}, 2},
      {"broadcast_mul", {}, {"graph.broadcast_mul"}, {}, 2},
      {"broadcast_div", {}, {"graph.broadcast_div"}, {}, 2},
      {"broadcast_maximum", {}, {"graph.broadcast_maximum"}, {}, 2},
      {"broadcast_minimum", {}, {"graph.broadcast_minimum"}, {}, 2},
      {"broadcast_power", {}, {"graph.broadcast_power"}, {}, 2},
      {"broadcast_to", {{"shape", "(4, 0)"}}, {"graph.broadcast_to", "shape = array<i64: 4, 0>"},
       {}, 1, 1, {{"shape", "(4, 0)"}}},
      {"sum",
       {{"axis", "(1,)"}, {"keepdims", "True"}, {"exclude", "True"}},
       {"graph.sum", "axis = array<i64: 1>", "keepdims = true", "exclude = true"},
       {},
       1,
       1,
       {{"axis", "(1,)"}, {"keepdims", "True"}}},
      {"sum", {{"axis", "None"}}, {"graph.sum"}, {"axis"}, 1, 1, {}},
      {"mean", {{"axis", "1"}}, {"graph.mean", "axis = array<i64: 1>"}, {}, 1},
      {"max", {{"axis", "(0, 1)"}}, {"graph.max", "axis = array<i64: 0, 1>"}, {}, 1},
      {"min", {{"keepdims", "1"}}, {"graph.min", "keepdims = true"}, {}, 1},
      // MXOptDef: topk/sort/argsort's axis defaults to -1 and None means the
      // flattened array, so the default is explicit in the IR and an absent
      // attribute exports as None.
      {"topk", {}, {"graph.topk", "axis = -1 : i64"}, {"ret_typ", "k ="}, 1, 1, {}},
      {"topk",
       {{"axis", "None"}, {"k", "3"}, {"ret_typ", "both"}, {"dtype", "int32"}},
       {"graph.topk", "k = 3 : i64", "ret_typ = #graph.topk_ret_typ<both>",
        "dtype = #graph.dtype<int32>"},
       {"axis"},
       1,
       2,
       {{"axis", "None"}, {"ret_typ", "both"}}},
      {"_npx_topk", {{"axis", "0"}, {"ret_typ", "mask"}}, {"graph.topk", "axis = 0 : i64"}, {}, 1,
       1, {{"axis", "0"}}},
      {"sort", {{"axis", "-1"}, {"is_ascend", "False"}},
       {"graph.sort", "axis = -1 : i64", "is_ascend = false"}, {}, 1, 1, {{"is_ascend", "False"}}},
      {"argsort", {{"axis", "None"}}, {"graph.argsort"}, {"axis"}, 1, 1, {{"axis", "None"}}},
      {"moments",
       {{"axes", "(0,2)"}, {"keepdims", "True"}},
       {"graph.moments", "axes = array<i64: 0, 2>", "keepdims = true"},
       {},
       1,
       2,
       {{"axes", "(0, 2)"}, {"keepdims", "True"}}},
      {"argmax_channel", {}, {"graph.argmax_channel"}, {"axis"}, 1},
      {"argmax", {{"axis", "1"}, {"keepdims", "True"}},
       {"graph.argmax", "axis = 1 : i64", "keepdims = true"}, {}, 1, 1, {{"axis", "1"}}},
      {"argmin", {{"axis", "None"}}, {"graph.argmin"}, {"axis"}, 1, 1, {}},
      {"norm", {{"ord", "1"}, {"axis", "(0, 1)"}, {"out_dtype", "float32"}},
       {"graph.norm", "ord = 1 : i64", "axis = array<i64: 0, 1>", "out_dtype = #graph.dtype<float32>"},
       {}, 1, 1, {{"ord", "1"}, {"out_dtype", "float32"}}},
      {"prod", {{"axis", "1"}, {"exclude", "True"}}, {"graph.prod", "exclude = true"}, {}, 1},
      {"nansum", {}, {"graph.nansum"}, {"axis"}, 1},
      {"nanprod", {{"keepdims", "True"}}, {"graph.nanprod", "keepdims = true"}, {}, 1},
      // Shape and indexing (GraphShapeOps.td).
      {"slice",
       {{"begin", "(None, 1)"}, {"end", "[3, None]"}, {"step", "(None, -2)"}},
       {"graph.slice", "begin = array<i64: -9223372036854775808, 1>",
        "end = array<i64: 3, -9223372036854775808>", "step = array<i64: -9223372036854775808, -2>"},
       {},
       1,
       1,
       {{"begin", "(None, 1)"}, {"end", "(3, None)"}, {"step", "(None, -2)"}}},
      {"crop", {{"begin", "(0,)"}, {"end", "(2,)"}}, {"graph.slice"}, {"step"}, 1},
      {"slice_axis", {{"axis", "1"}, {"begin", "-2"}, {"end", "None"}}, {"graph.slice_axis"},
       {"end"}, 1, 1, {{"begin", "-2"}, {"end", "None"}}},
      {"take",
       {{"axis", "-1"}, {"mode", "wrap"}},
       {"graph.take", "axis = -1 : i64", "mode = #graph.take_mode<wrap>"},
       {},
       2,
       1,
       {{"mode", "wrap"}}},
      {"choose_element_0index", {{"keepdims", "True"}}, {"graph.pick", "keepdims = true"}, {"axis"},
       2},
      {"Pad",
       {{"mode", "reflect"}, {"pad_width", "(0, 0, 0, 0, 1, 1, 2, 2)"}},
       {"graph.pad", "mode = #graph.pad_mode<reflect>"},
       {"constant_value"},
       1,
       1,
       {{"mode", "reflect"}, {"pad_width", "(0, 0, 0, 0, 1, 1, 2, 2)"}}},
      {"Crop",
       {{"num_args", "2"}, {"center_crop", "True"}},
       {"graph.crop", "center_crop = true"},
       {"h_w", "offset"},
       2,
       1,
       {{"num_args", "2"}, {"center_crop", "True"}}},
      {"one_hot",
       {{"depth", "4"}, {"dtype", "int32"}, {"on_value", "2.5"}},
       {"graph.one_hot", "depth = 4 : i64", "dtype = #graph.dtype<int32>"},
       {"off_value"},
       1,
       1,
       {{"dtype", "int32"}, {"on_value", "2.5"}}},
      {"_arange",
       {{"start", "2"}, {"stop", "None"}, {"ctx", "cpu(0)"}, {"dtype", "float32"}},
       {"graph.arange", "start = 2.000000e+00 : f64"},
       {"stop", "dtype", "ctx"},
       0,
       1,
       {{"start", "2"}}},
      {"_zeros", {{"shape", "(2, 3)"}, {"dtype", "int64"}}, {"graph.zeros"}, {"dtype"}, 0},
      {"flip", {{"axis", "(0, 1)"}}, {"graph.reverse", "axis = array<i64: 0, 1>"}, {}, 1},
      {"swapaxes", {{"dim1", "1"}}, {"graph.swap_axis", "dim1 = 1 : i64"}, {"dim2"}, 1},
      {"stack", {{"num_args", "3"}, {"axis", "1"}}, {"graph.stack", "axis = 1 : i64"}, {}, 3, 1,
       {{"num_args", "3"}}},
      {"_contrib_PSROIPooling",
       {{"spatial_scale", "0.0625"}, {"output_dim", "21"}, {"pooled_size", "7"},
        {"group_size", "7"}},
       {"graph.psroi_pooling", "spatial_scale = 6.250000e-02 : f32", "output_dim = 21 : i64",
        "pooled_size = 7 : i64", "group_size = 7 : i64"},
       {},
       2,
       1,
       {{"output_dim", "21"}, {"pooled_size", "7"}}},
      {"_contrib_PSROIPooling",
       {{"spatial_scale", "0.5"}, {"output_dim", "2"}, {"pooled_size", "3"}},
       {"graph.psroi_pooling"},
       {"group_size"},
       2},
      {"GridGenerator",
       {{"transform_type", "affine"}, {"target_shape", "(3, 4)"}},
       {"graph.grid_generator", "transform_type = #graph.grid_transform<affine>",
        "target_shape = array<i64: 3, 4>"},
       {},
       1,
       1,
       {{"transform_type", "affine"}, {"target_shape", "(3, 4)"}}},
      {"GridGenerator",
       {{"transform_type", "warp"}},
       {"graph.grid_generator", "transform_type = #graph.grid_transform<warp>"},
       {"target_shape"},
       1},
      {"BilinearSampler", {{"cudnn_off", "True"}}, {"graph.bilinear_sampler"}, {"cudnn"}, 2},
      {"SpatialTransformer",
       {{"target_shape", "(5, 6)"},
        {"transform_type", "affine"},
        {"sampler_type", "bilinear"},
        {"cudnn_off", "False"}},
       {"graph.spatial_transformer", "target_shape = array<i64: 5, 6>",
        "transform_type = #graph.grid_transform<affine>",
        "sampler_type = #graph.sampler_type<bilinear>"},
       {"cudnn"},
       2,
       1,
       {{"sampler_type", "bilinear"}, {"target_shape", "(5, 6)"}}},
      {"Correlation",
       {{"kernel_size", "3"},
        {"max_displacement", "4"},
        {"stride1", "2"},
        {"stride2", "2"},
        {"pad_size", "4"},
        {"is_multiply", "False"}},
       {"graph.correlation", "kernel_size = 3 : i64", "max_displacement = 4 : i64",
        "stride1 = 2 : i64", "stride2 = 2 : i64", "pad_size = 4 : i64", "is_multiply = false"},
       {},
       2,
       1,
       {{"max_displacement", "4"}, {"is_multiply", "False"}}},
      {"Correlation", {}, {"graph.correlation"}, {"kernel_size", "is_multiply", "pad_size"}, 2},
      {"_contrib_interleaved_matmul_selfatt_qk",
       {{"heads", "8"}},
       {"graph.interleaved_matmul_selfatt_qk", "heads = 8 : i64"},
       {},
       1,
       1,
       {{"heads", "8"}}},
      {"_contrib_interleaved_matmul_selfatt_valatt",
       {{"heads", "2"}},
       {"graph.interleaved_matmul_selfatt_valatt", "heads = 2 : i64"},
       {},
       2,
       1,
       {{"heads", "2"}}},
      {"_contrib_interleaved_matmul_encdec_qk",
       {{"heads", "4"}},
       {"graph.interleaved_matmul_encdec_qk", "heads = 4 : i64"},
       {},
       2,
       1,
       {{"heads", "4"}}},
      {"_contrib_interleaved_matmul_encdec_valatt",
       {{"heads", "3"}},
       {"graph.interleaved_matmul_encdec_valatt", "heads = 3 : i64"},
       {},
       2,
       1,
       {{"heads", "3"}}},
      {"SequenceMask",
       {{"use_sequence_length", "True"}, {"value", "-1.5"}, {"axis", "1"}},
       {"graph.sequence_mask", "use_sequence_length = true", "value = -1.500000e+00 : f32",
        "axis = 1 : i64"},
       {},
       2,
       1,
       {{"use_sequence_length", "True"}, {"axis", "1"}}},
      {"_npx_sequence_mask", {}, {"graph.sequence_mask"}, {"value", "use_sequence_length"}, 1},
      {"SequenceLast",
       {{"use_sequence_length", "1"}, {"axis", "1"}},
       {"graph.sequence_last", "use_sequence_length = true", "axis = 1 : i64"},
       {},
       2,
       1,
       {{"use_sequence_length", "True"}, {"axis", "1"}}},
      {"SequenceLast", {{"axis", "0"}}, {"graph.sequence_last"}, {"use_sequence_length"}, 1},
      // Special functions (GraphElementwise.td).
      {"erfinv", {}, {"graph.erfinv"}, {}, 1},
      {"_npx_gamma", {}, {"graph.gamma"}, {}, 1},
      {"_sparse_gammaln", {}, {"graph.gammaln"}, {}, 1},
      {"softmin",
       {{"axis", "0"}, {"temperature", "2"}, {"use_length", "False"}, {"dtype", "None"}},
       {"graph.softmin", "axis = 0 : i64", "temperature = 2.000000e+00 : f64"},
       {},
       1,
       1,
       {{"axis", "0"}, {"temperature", "2"}}},
      {"_contrib_arange_like",
       {{"start", "1.5"}, {"axis", "-1"}, {"ctx", "cpu(0)"}},
       {"graph.arange_like", "start = 1.500000e+00 : f64", "axis = -1 : i64"},
       {"step", "repeat"},
       1,
       1,
       {{"start", "1.5"}, {"axis", "-1"}}},
      {"_npx_arange_like", {{"repeat", "2"}}, {"graph.arange_like", "repeat = 2 : i64"}, {"axis"}, 1},
      {"_eye",
       {{"N", "3"}, {"M", "4"}, {"k", "-1"}, {"dtype", "int32"}},
       {"graph.eye", "N = 3 : i64", "M = 4 : i64", "k = -1 : i64"},
       {"dtype"},
       0,
       1,
       {{"N", "3"}, {"M", "4"}, {"k", "-1"}}},
      {"_zeros_without_dtype", {{"shape", "(2, 3)"}, {"dtype", "-1"}},
       {"graph.zeros_without_dtype", "shape = array<i64: 2, 3>"}, {"dtype ="}, 0},
      {"amp_cast", {{"dtype", "float16"}}, {"graph.amp_cast", "dtype = #graph.dtype<float16>"}, {},
       1, 1, {{"dtype", "float16"}}},
      {"amp_multicast", {{"num_outputs", "3"}, {"cast_narrow", "True"}},
       {"graph.amp_multicast", "num_outputs = 3 : i64", "cast_narrow = true"}, {}, 3, 3,
       {{"num_outputs", "3"}, {"cast_narrow", "True"}}},
      {"make_loss", {}, {"graph.legacy_make_loss"}, {}, 1},
      {"_sparse_make_loss", {}, {"graph.legacy_make_loss"}, {}, 1},
      {"_contrib_gradientmultiplier", {{"scalar", "-1"}, {"is_int", "False"}},
       {"graph.gradient_multiplier", "scalar = -1.000000e+00 : f64"}, {"is_int"}, 1, 1,
       {{"scalar", "-1"}}},
      {"_contrib_round_ste", {}, {"graph.round_ste"}, {}, 1},
      {"_sparse__contrib_sign_ste", {}, {"graph.sign_ste"}, {}, 1},
      {"_contrib_quadratic", {{"a", "1"}, {"c", "-0.5"}},
       {"graph.quadratic", "a = 1.000000e+00 : f32", "c = -5.000000e-01 : f32"}, {"b ="}, 1, 1,
       {{"a", "1"}, {"c", "-0.5"}}},
      {"SequenceReverse",
       {{"use_sequence_length", "True"}},
       {"graph.sequence_reverse", "use_sequence_length = true"},
       {"axis"},
       2,
       1,
       {{"use_sequence_length", "True"}}},
  };
}

/// A graph with the one op under test, each input a variable named
/// "<node>_<input>" as MXNet names them, and every output a head.
mx::Graph singleOpGraph(const OpCase &c) {
  GraphBuilder b;
  const mx::OpInfo *info = mx::lookupOp(c.op);
  if (!info) {
    ADD_FAILURE() << "op catalog lacks " << c.op;
    return {};
  }
  std::vector<mx::NodeEntry> inputs;
  for (const std::string &in : info->inputNames(c.attrs))
    inputs.push_back({b.var("n_" + in), 0});
  int64_t id = b.op(c.op, "n", c.attrs, inputs);
  for (int i = 0; i < c.results; ++i)
    b.head(id, i);
  return b.g;
}

mlir::Operation *onlyGraphOp(mlir::ModuleOp m) {
  mlir::Operation *found = nullptr;
  mainOf(m).walk([&](mlir::Operation *op) {
    if (op->getDialect() && op->getDialect()->getNamespace() == "graph")
      found = op;
  });
  return found;
}

class ImportTest : public ::testing::Test {
protected:
  mlir::MLIRContext ctx;
  ImportOptions noInference() {
    ImportOptions o;
    o.fileName = "test-symbol.json";
    o.inferShapes = false;
    return o;
  }
};

TEST_F(ImportTest, EveryOpConvertsItsAttributes) {
  for (const OpCase &c : opCases()) {
    SCOPED_TRACE(c.op + " " + ::testing::PrintToString(c.attrs));
    mx::Graph g = singleOpGraph(c);
    if (g.nodes.empty())
      continue;
    mlir::OwningOpRef<mlir::ModuleOp> m;
    try {
      m = importGraph(ctx, g, noInference());
    } catch (const kiln::Error &e) {
      ADD_FAILURE() << e.what();
      continue;
    }
    mlir::Operation *op = onlyGraphOp(*m);
    ASSERT_NE(op, nullptr);
    std::string text = print(op);
    for (const std::string &s : c.expect)
      EXPECT_NE(text.find(s), std::string::npos) << "missing '" << s << "' in " << text;
    for (const std::string &s : c.reject)
      EXPECT_EQ(text.find(s), std::string::npos) << "unexpected '" << s << "' in " << text;
    if (c.operands >= 0) {
      EXPECT_EQ((int)op->getNumOperands(), c.operands) << text;
    }
    EXPECT_EQ((int)op->getNumResults(), c.results) << text;
    // The node name is the op's location, for diagnostics and export.
    auto loc = llvm::dyn_cast<mlir::NameLoc>(op->getLoc());
    ASSERT_TRUE(loc);
    EXPECT_EQ(loc.getName().str(), "n");
  }
}

TEST_F(ImportTest, EveryOpRoundTrips) {
  for (const OpCase &c : opCases()) {
    SCOPED_TRACE(c.op + " " + ::testing::PrintToString(c.attrs));
    mx::Graph g = singleOpGraph(c);
    if (g.nodes.empty())
      continue;
    try {
      auto m1 = importGraph(ctx, g, noInference());
      mx::Graph exported = exportGraph(mainOf(*m1));
      // The op node keeps its name and gets MXNet's canonical op name.
      const mx::Node &node = exported.nodes.back();
      EXPECT_EQ(node.name, "n");
      EXPECT_EQ(mx::canonicalOpName(node.op), node.op);
      EXPECT_EQ(node.op, mx::canonicalOpName(c.op));
      for (const auto &[k, v] : c.exported) {
        auto it = node.attrs.find(k);
        if (it == node.attrs.end())
          ADD_FAILURE() << "exported node lacks '" << k << "'";
        else
          EXPECT_EQ(it->second, v) << k;
      }
      for (const auto &[k, v] : node.attrs)
        EXPECT_TRUE(k.rfind("__", 0) != 0) << k;
      auto m2 = importGraph(ctx, exported, noInference());
      EXPECT_EQ(print(*m1), print(*m2));
      // And through the JSON text MXNet would read.
      mx::Graph reparsed = mx::parseSymbolJSON(mx::writeSymbolJSON(exported), "rt.json");
      auto m3 = importGraph(ctx, reparsed, noInference());
      EXPECT_EQ(print(*m1), print(*m3));
    } catch (const kiln::Error &e) {
      ADD_FAILURE() << e.what();
    }
  }
}

// The table's MXNet defaults must be the dialect's defaults, or leaving them
// implicit would change meaning: build each op with no optional attribute and
// read back what the dialect fills in.
TEST_F(ImportTest, TableDefaultsMatchDialectDefaults) {
  ctx.loadDialect<mlir::func::FuncDialect, graph::GraphDialect>();
  mlir::OpBuilder b(&ctx);
  auto loc = mlir::UnknownLoc::get(&ctx);
  auto t = mlir::UnrankedTensorType::get(b.getF32Type());
  mlir::OwningOpRef<mlir::ModuleOp> m = mlir::ModuleOp::create(loc);
  b.setInsertionPointToEnd(m->getBody());
  for (const graph::MXNetOpDef *def : graph::mxnetOps()) {
    const graph::MXNetOpDef &spec = *def;
    SCOPED_TRACE(spec.mxName);
    mlir::OperationState st(loc, spec.irName);
    st.addTypes(t);
    mlir::Operation *op = b.create(st);
    for (const graph::MXAttrSpec &a : spec.attrs) {
      mlir::Attribute d = importer::defaultAttr(&ctx, a);
      mlir::Attribute filled = op->getAttr(a.name);
      // An optional attribute with an MXNet default (MXOptDef) has no
      // dialect default: its absence means None.
      if (d && !a.optional)
        EXPECT_EQ(d, filled) << a.name;
      else
        EXPECT_FALSE(filled) << a.name << " has a dialect default the table lacks";
    }
    // The catalog knows every op of the table by its canonical name.
    EXPECT_NE(mx::lookupOp(spec.mxName), nullptr);
    EXPECT_EQ(mx::canonicalOpName(spec.mxName), spec.mxName);
  }
}

TEST_F(ImportTest, SpecDefaultsAreMXNets) {
  // SPEC §2.3's porting traps, checked against the table directly.
  auto find = [](const char *op, const char *attr) -> std::string {
    const graph::MXNetOpDef *s = importer::lookupByMXName(op);
    if (!s)
      return "<no op>";
    for (const graph::MXAttrSpec &a : s->attrs)
      if (std::string(a.name) == attr)
        return a.mxDefault ? a.mxDefault : "<required>";
    return "<no attr>";
  };
  EXPECT_EQ(find("BatchNorm", "eps"), "0.001");
  EXPECT_EQ(find("BatchNorm", "fix_gamma"), "True");
  EXPECT_EQ(find("BatchNorm", "momentum"), "0.9");
  EXPECT_EQ(find("LeakyReLU", "slope"), "0.25");
  EXPECT_EQ(find("Dropout", "p"), "0.5");
  EXPECT_EQ(find("Concat", "dim"), "1");
  EXPECT_EQ(find("softmax", "axis"), "-1");
  EXPECT_EQ(find("LRN", "alpha"), "0.0001");
  EXPECT_EQ(find("LRN", "knorm"), "2");
  EXPECT_EQ(find("Pooling", "pool_type"), "max");
  EXPECT_EQ(find("Pooling", "pooling_convention"), "valid");
  EXPECT_EQ(find("SoftmaxOutput", "ignore_label"), "-1");
  EXPECT_EQ(importer::lookupByMXName("Deconvolution")->inputRule,
            graph::MXInputRule::BiasOffByDefault);
  EXPECT_EQ(importer::lookupByMXName("Convolution")->inputRule, graph::MXInputRule::Bias);
}

//===-- Arguments and results --------------------------------------------===//

mx::Graph mlpWithBatchNorm() {
  GraphBuilder b;
  int64_t data = b.var("data");
  int64_t w = b.var("fc1_weight"), bias = b.var("fc1_bias");
  int64_t fc = b.op("FullyConnected", "fc1", {{"num_hidden", "3"}}, {{data, 0}, {w, 0}, {bias, 0}});
  int64_t gamma = b.var("bn_gamma"), beta = b.var("bn_beta");
  int64_t mm = b.var("bn_moving_mean"), mv = b.var("bn_moving_var");
  int64_t bn = b.op("BatchNorm", "bn", {},
                    {{fc, 0}, {gamma, 0}, {beta, 0}, {mm, 0}, {mv, 0}});
  int64_t label = b.var("softmax_label");
  int64_t sm = b.op("SoftmaxOutput", "softmax", {}, {{bn, 0}, {label, 0}});
  b.head(sm);
  return b.g;
}

TEST_F(ImportTest, ArgumentOrderKindsAndNames) {
  ImportOptions o = noInference();
  o.inputShapes["data"] = {2, 4};
  auto m = importGraph(ctx, mlpWithBatchNorm(), o);
  mlir::func::FuncOp f = mainOf(*m);
  std::vector<std::pair<std::string, std::string>> expected = {
      {"data", "input"},         {"softmax_label", "input"}, {"fc1_weight", "param"},
      {"fc1_bias", "param"},     {"bn_gamma", "param"},      {"bn_beta", "param"},
      {"bn_moving_mean", "aux"}, {"bn_moving_var", "aux"}};
  ASSERT_EQ(f.getNumArguments(), expected.size());
  for (unsigned i = 0; i < expected.size(); ++i) {
    auto name = f.getArgAttrOfType<mlir::StringAttr>(i, "graph.name");
    auto kind = f.getArgAttrOfType<mlir::StringAttr>(i, "graph.kind");
    ASSERT_TRUE(name && kind) << i;
    EXPECT_EQ(name.str(), expected[i].first);
    EXPECT_EQ(kind.str(), expected[i].second) << expected[i].first;
  }
  EXPECT_EQ(argKind(f, 0), ArgKind::Input);
  EXPECT_EQ(argKind(f, 2), ArgKind::Param);
  EXPECT_EQ(argKind(f, 7), ArgKind::Aux);
  // Given shapes become types; the rest stay unranked without inference.
  EXPECT_EQ(print(*m).find("tensor<2x4xf32> {graph.kind = \"input\", graph.name = \"data\"}") !=
                std::string::npos,
            true)
      << print(*m);
  EXPECT_TRUE(llvm::isa<mlir::UnrankedTensorType>(f.getArgument(2).getType()));
  ASSERT_EQ(f.getNumResults(), 1u);
  EXPECT_EQ(resultName(f, 0), "softmax_output");
}

TEST_F(ImportTest, ArgumentOrderWithInference) {
  ImportOptions o;
  o.fileName = "mlp.json";
  o.inputShapes["data"] = {2, 4};
  auto m = importGraph(ctx, mlpWithBatchNorm(), o);
  mlir::func::FuncOp f = mainOf(*m);
  auto shape = [&](unsigned i) {
    auto t = llvm::cast<mlir::RankedTensorType>(f.getArgument(i).getType());
    return std::vector<int64_t>(t.getShape().begin(), t.getShape().end());
  };
  EXPECT_EQ(shape(1), (std::vector<int64_t>{2}));    // softmax_label
  EXPECT_EQ(shape(2), (std::vector<int64_t>{3, 4})); // fc1_weight = (num_hidden, K)
  EXPECT_EQ(shape(3), (std::vector<int64_t>{3}));
  EXPECT_EQ(shape(6), (std::vector<int64_t>{3})); // moving mean
  auto r = llvm::cast<mlir::RankedTensorType>(f.getResultTypes()[0]);
  EXPECT_EQ(std::vector<int64_t>(r.getShape().begin(), r.getShape().end()),
            (std::vector<int64_t>{2, 3}));
}

TEST_F(ImportTest, MultiOutputHeadsAndVariableHeads) {
  GraphBuilder b;
  int64_t data = b.var("data");
  int64_t s = b.op("SliceChannel", "split0", {{"num_outputs", "3"}}, {{data, 0}});
  int64_t act = b.op("Activation", "relu0", {{"act_type", "relu"}}, {{s, 2}});
  b.head(act);
  b.head(s, 1);
  b.head(data);
  ImportOptions o;
  o.fileName = "split.json";
  o.inputShapes["data"] = {2, 6};
  auto m = importGraph(ctx, b.g, o);
  mlir::func::FuncOp f = mainOf(*m);
  ASSERT_EQ(f.getNumResults(), 3u);
  EXPECT_EQ(resultName(f, 0), "relu0_output");
  EXPECT_EQ(resultName(f, 1), "split0_output1");
  EXPECT_EQ(resultName(f, 2), "data");
  // relu consumes the third part, the second head is the second part.
  mlir::Operation *split = nullptr, *relu = nullptr;
  f.walk([&](mlir::Operation *op) {
    if (op->getName().getStringRef() == "graph.split")
      split = op;
    if (op->getName().getStringRef() == "graph.activation")
      relu = op;
  });
  ASSERT_TRUE(split && relu);
  EXPECT_EQ(relu->getOperand(0), split->getResult(2));
  auto ret = llvm::cast<mlir::func::ReturnOp>(f.getBody().front().getTerminator());
  EXPECT_EQ(ret.getOperand(1), split->getResult(1));
  EXPECT_EQ(ret.getOperand(2), f.getArgument(0));
  auto t = llvm::cast<mlir::RankedTensorType>(split->getResult(1).getType());
  EXPECT_EQ(t.getShape()[1], 2);
}

TEST_F(ImportTest, ShapeHintOnVariable) {
  // mx.sym.Variable('data', shape=(2, 3)) stores "__shape__"; a complete one
  // stands in for --input-shape, one with unknown (0) dims does not.
  GraphBuilder b;
  int64_t data = b.var("data");
  b.g.nodes[data].hints["__shape__"] = "(2, 3)";
  b.head(b.op("Activation", "a", {{"act_type", "relu"}}, {{data, 0}}));
  ImportOptions o;
  o.fileName = "hint.json";
  auto m = importGraph(ctx, b.g, o);
  EXPECT_NE(print(*m).find("tensor<2x3xf32>"), std::string::npos) << print(*m);
  b.g.nodes[data].hints["__shape__"] = "(0, 3)";
  std::string msg = errorOf([&] { importGraph(ctx, b.g, o); });
  EXPECT_NE(msg.find("data"), std::string::npos) << msg;
}

TEST_F(ImportTest, UnreachableNodesAreDropped) {
  GraphBuilder b;
  int64_t data = b.var("data");
  int64_t unused = b.var("unused_weight");
  b.op("Bogus", "dead", {}, {{unused, 0}});
  int64_t act = b.op("Activation", "a", {{"act_type", "tanh"}}, {{data, 0}});
  b.head(act);
  auto m = importGraph(ctx, b.g, noInference());
  EXPECT_EQ(mainOf(*m).getNumArguments(), 1u);
}

//===-- Errors ------------------------------------------------------------===//

void expectMentions(const std::string &msg, std::vector<std::string> parts) {
  for (const std::string &p : parts)
    EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
}

TEST_F(ImportTest, UnknownOpNamesTheNode) {
  GraphBuilder b;
  int64_t d = b.var("data");
  b.head(b.op("FancyAttention", "attn0", {}, {{d, 0}}));
  std::string msg = errorOf([&] { importGraph(ctx, b.g, noInference()); });
  expectMentions(msg, {"test-symbol.json", "attn0", "FancyAttention"});
}

TEST_F(ImportTest, DanglingInputs) {
  GraphBuilder b;
  int64_t d = b.var("data");
  b.head(b.op("Activation", "act", {{"act_type", "relu"}}, {{d + 5, 0}}));
  expectMentions(errorOf([&] { importGraph(ctx, b.g, noInference()); }),
                 {"test-symbol.json", "act", "does not exist"});

  GraphBuilder h;
  h.var("data");
  h.head(9);
  expectMentions(errorOf([&] { importGraph(ctx, h.g, noInference()); }),
                 {"test-symbol.json", "9", "does not exist"});

  GraphBuilder s;
  int64_t x = s.var("data");
  int64_t sp = s.op("SliceChannel", "sp", {{"num_outputs", "2"}}, {{x, 0}});
  s.head(s.op("Activation", "act", {{"act_type", "relu"}}, {{sp, 2}}));
  expectMentions(errorOf([&] { importGraph(ctx, s.g, noInference()); }),
                 {"act", "output 2", "'sp'", "2 outputs"});
}

TEST_F(ImportTest, BadAttributeValuesNameNodeAndAttribute) {
  struct Bad {
    std::string op;
    std::map<std::string, std::string> attrs;
    std::vector<std::string> mentions;
  };
  std::vector<Bad> cases = {
      {"Convolution", {{"kernel", "(3,x)"}, {"num_filter", "4"}}, {"kernel", "(3,x)"}},
      {"Convolution", {{"kernel", "(3,3)"}, {"num_filter", "4"}, {"layout", "NHWC"}},
       {"layout", "NHWC"}},
      {"Convolution", {{"kernel", "(3,3)"}, {"num_filter", "4"}, {"layout", "NCW"}},
       {"layout", "NCW"}},
      {"Convolution", {{"kernel", "(3,3)"}}, {"num_filter", "missing"}},
      {"Convolution", {{"kernel", "(3,3)"}, {"num_filter", "None"}}, {"num_filter"}},
      {"Pooling", {{"kernel", "(2,2)"}, {"layout", "NHWC"}}, {"layout", "NHWC"}},
      {"Pooling", {{"kernel", "(2,2)"}, {"pool_type", "median"}}, {"pool_type", "median"}},
      {"BatchNorm", {{"output_mean_var", "True"}}, {"output_mean_var"}},
      {"BatchNorm", {{"eps", "small"}}, {"eps", "small"}},
      {"Activation", {{"act_type", "swish"}}, {"act_type", "swish", "relu"}},
      {"Activation", {}, {"act_type"}},
      {"FullyConnected", {{"num_hidden", "10"}, {"flatten", "maybe"}}, {"flatten", "maybe"}},
      {"FullyConnected", {{"num_hidden", "10"}, {"bogus_key", "1"}}, {"bogus_key"}},
      {"Dropout", {{"mode", "sometimes"}}, {"mode", "sometimes"}},
      {"log_softmax", {{"use_length", "True"}}, {"use_length"}},
      {"Embedding", {{"input_dim", "3"}, {"output_dim", "2"}, {"dtype", "float16"}}, {"dtype"}},
  };
  for (const Bad &c : cases) {
    SCOPED_TRACE(c.op + " " + ::testing::PrintToString(c.attrs));
    GraphBuilder b;
    std::vector<mx::NodeEntry> inputs;
    const mx::OpInfo *info = mx::lookupOp(c.op);
    ASSERT_NE(info, nullptr);
    std::vector<std::string> names;
    try {
      names = info->inputNames(c.attrs);
    } catch (const kiln::Error &) {
      names = {"data"};
    }
    for (const std::string &in : names)
      inputs.push_back({b.var("v_" + in), 0});
    b.head(b.op(c.op, "badnode", c.attrs, inputs));
    std::string msg = errorOf([&] { importGraph(ctx, b.g, noInference()); });
    expectMentions(msg, {"test-symbol.json", "badnode"});
    expectMentions(msg, c.mentions);
  }
}

TEST_F(ImportTest, WrongArity) {
  GraphBuilder b;
  int64_t d = b.var("data"), w = b.var("w"), bias = b.var("b");
  b.head(b.op("FullyConnected", "fc", {{"num_hidden", "2"}, {"no_bias", "True"}},
              {{d, 0}, {w, 0}, {bias, 0}}));
  expectMentions(errorOf([&] { importGraph(ctx, b.g, noInference()); }),
                 {"test-symbol.json", "'fc'", "3 inputs", "2"});

  GraphBuilder c;
  int64_t x = c.var("x"), y = c.var("y");
  c.head(c.op("Concat", "cat", {{"num_args", "3"}}, {{x, 0}, {y, 0}}));
  expectMentions(errorOf([&] { importGraph(ctx, c.g, noInference()); }), {"cat", "num_args"});
}

TEST_F(ImportTest, ShapeMismatchWithParamsNamesTheParameter) {
  GraphBuilder b;
  int64_t d = b.var("data"), w = b.var("fc1_weight"), bias = b.var("fc1_bias");
  b.head(b.op("FullyConnected", "fc1", {{"num_hidden", "10"}}, {{d, 0}, {w, 0}, {bias, 0}}));
  ImportOptions o;
  o.fileName = "net-symbol.json";
  o.paramsFileName = "net-0001.params";
  o.inputShapes["data"] = {2, 4};
  o.paramShapes["fc1_weight"] = {10, 5};
  o.paramShapes["fc1_bias"] = {10};
  EXPECT_EQ(errorOf([&] { importGraph(ctx, b.g, o); }),
            "parameter 'fc1_weight' in net-0001.params has shape (10, 5) but node 'fc1' needs "
            "(10, 4)");
  // Consistent params are taken as the argument types.
  o.paramShapes["fc1_weight"] = {10, 4};
  auto m = importGraph(ctx, b.g, o);
  EXPECT_NE(print(*m).find("tensor<10x4xf32>"), std::string::npos);
}

TEST_F(ImportTest, UnknownShapeNamesTheArgument) {
  GraphBuilder b;
  int64_t d = b.var("data"), w = b.var("fc1_weight");
  b.head(b.op("FullyConnected", "fc1", {{"num_hidden", "10"}, {"no_bias", "True"}},
              {{d, 0}, {w, 0}}));
  ImportOptions o;
  o.fileName = "net-symbol.json";
  std::string msg = errorOf([&] { importGraph(ctx, b.g, o); });
  expectMentions(msg, {"net-symbol.json"});
  EXPECT_TRUE(msg.find("data") != std::string::npos || msg.find("fc1") != std::string::npos)
      << msg;
}

TEST_F(ImportTest, InputShapeForUnknownVariable) {
  ImportOptions o = noInference();
  o.inputShapes["dta"] = {1, 4};
  expectMentions(errorOf([&] { importGraph(ctx, mlpWithBatchNorm(), o); }),
                 {"test-symbol.json", "'dta'", "data"});
  ImportOptions p = noInference();
  p.paramsFileName = "x.params";
  p.paramShapes["fc9_weight"] = {1};
  expectMentions(errorOf([&] { importGraph(ctx, mlpWithBatchNorm(), p); }),
                 {"x.params", "fc9_weight"});
}

TEST_F(ImportTest, VerifierDiagnosticsAreCapturedNotPrinted) {
  // A Concat of mismatched shapes fails shape inference inside MLIR; the
  // message must come back in the exception, and nothing reach stderr.
  GraphBuilder b;
  int64_t x = b.var("x"), y = b.var("y");
  b.head(b.op("Concat", "cat", {{"num_args", "2"}, {"dim", "1"}}, {{x, 0}, {y, 0}}));
  ImportOptions o;
  o.fileName = "cat.json";
  o.inputShapes["x"] = {2, 3};
  o.inputShapes["y"] = {4, 3};
  ::testing::internal::CaptureStderr();
  std::string msg = errorOf([&] { importGraph(ctx, b.g, o); });
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(err, "");
  expectMentions(msg, {"cat.json", "node 'cat'"});
}

//===-- Export ------------------------------------------------------------===//

TEST_F(ImportTest, ExportNamesVariablesAndGeneratesMissingNames) {
  ImportOptions o = noInference();
  o.inputShapes["data"] = {2, 4};
  auto m = importGraph(ctx, mlpWithBatchNorm(), o);
  mlir::func::FuncOp f = mainOf(*m);
  // Strip the node names: the exporter must invent unique ones.
  f.walk([&](mlir::Operation *op) {
    if (!llvm::isa<mlir::func::FuncOp>(op))
      op->setLoc(mlir::UnknownLoc::get(&ctx));
  });
  mx::Graph g = exportGraph(f);
  std::set<std::string> names;
  for (const mx::Node &n : g.nodes)
    EXPECT_TRUE(names.insert(n.name).second) << "duplicate " << n.name;
  EXPECT_EQ(g.nodes[0].name, "data");
  EXPECT_TRUE(g.nodes[0].isVariable());
  EXPECT_EQ(g.nodes.back().op, "SoftmaxOutput");
  EXPECT_EQ(g.nodes.back().name, "softmaxoutput0");
  ASSERT_EQ(g.heads.size(), 1u);
  EXPECT_EQ(g.heads[0].node, (int64_t)g.nodes.size() - 1);
  // Still imports to the same function (locations are not printed), but
  // the result is named after the generated node name.
  auto m2 = importGraph(ctx, g, o);
  EXPECT_EQ(resultName(mainOf(*m2), 0), "softmaxoutput0_output");
  mainOf(*m2).setResultAttr(0, "graph.name", mlir::StringAttr::get(&ctx, "softmax_output"));
  EXPECT_EQ(print(*m), print(*m2));
}

TEST_F(ImportTest, ExportRejectsForeignOps) {
  ctx.loadDialect<mlir::func::FuncDialect>();
  mlir::OpBuilder b(&ctx);
  auto loc = mlir::UnknownLoc::get(&ctx);
  mlir::OwningOpRef<mlir::ModuleOp> m = mlir::ModuleOp::create(loc);
  b.setInsertionPointToEnd(m->getBody());
  auto t = mlir::RankedTensorType::get({2}, b.getF32Type());
  auto f = mlir::func::FuncOp::create(b, loc, "main", b.getFunctionType({t}, {t}));
  mlir::Block *entry = f.addEntryBlock();
  b.setInsertionPointToEnd(entry);
  mlir::OperationState st(mlir::NameLoc::get(b.getStringAttr("mystery")), "test.unknown");
  st.addOperands(entry->getArgument(0));
  st.addTypes(t);
  ctx.allowUnregisteredDialects(true);
  mlir::Operation *op = b.create(st);
  mlir::func::ReturnOp::create(b, loc, op->getResult(0));
  expectMentions(errorOf([&] { exportGraph(f); }), {"test.unknown", "mystery"});
}

} // namespace
