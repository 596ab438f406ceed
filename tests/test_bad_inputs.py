"""Bad inputs, as a new user would make them: each gets a clear error naming the function or layer
and the offending value or shapes (or does what PyTorch does, in tests/test_degenerate_sizes.py).

Each case is (id, call, exception type, fragments the message must contain).
"""

import numpy as np
import pytest

import minidl
import minidl.nn as nn
import minidl.nn.functional as F
from minidl.core.errors import AutogradError, DeviceError, ShapeError
from minidl.data import DataLoader, Subset, TensorDataset, random_split

CASES = []


def case(name, error, *fragments):
    """Register the decorated zero-argument function as a bad-input case."""
    def register(call):
        CASES.append(pytest.param(call, error, fragments, id=name))
        return call
    return register


def bad(name, call, error, *fragments):
    CASES.append(pytest.param(call, error, fragments, id=name))


x23 = lambda: minidl.randn(2, 3)  # noqa: E731
params = lambda: nn.Linear(2, 2).parameters()  # noqa: E731

# --- creation -----------------------------------------------------------------------------------------
bad("tensor_of_a_string", lambda: minidl.tensor("abc"), TypeError, "tensor", "str")
bad("tensor_of_none", lambda: minidl.tensor(None), TypeError, "tensor", "NoneType")
bad("tensor_of_a_dict", lambda: minidl.tensor({"a": 1}), TypeError, "tensor", "dict")
bad("tensor_of_an_object_array", lambda: minidl.tensor(np.array([object()])), TypeError, "tensor", "object")
bad("tensor_of_numeric_strings", lambda: minidl.tensor(["1.0", "2.0"]), TypeError, "tensor", "str")
bad("tensor_of_a_mixed_list", lambda: minidl.tensor([1, "a"]), TypeError, "tensor", "str")
bad("tensor_of_a_ragged_list", lambda: minidl.tensor([[1, 2], [3]]), ValueError, "tensor", "ragged")
bad("tensor_of_a_set", lambda: minidl.tensor({1, 2}), TypeError, "tensor", "set")
bad("tensor_with_an_unknown_dtype", lambda: minidl.tensor([1.0], dtype="banana"), TypeError, "tensor", "banana")
bad("tensor_with_a_string_dtype", lambda: minidl.tensor([1.0], dtype=np.str_), TypeError, "tensor", "str")
bad("tensor_with_a_number_device", lambda: minidl.tensor([1.0], device=5), TypeError, "device", "int")
bad("tensor_with_an_unknown_device", lambda: minidl.tensor([1.0], device="tpu"), DeviceError, "device", "tpu")
bad("zeros_of_a_float_size", lambda: minidl.zeros(2.5), TypeError, "zeros", "2.5")
bad("zeros_of_a_negative_size", lambda: minidl.zeros(-1), ValueError, "zeros", "-1")
bad("ones_of_a_string_size", lambda: minidl.ones("3"), TypeError, "ones", "'3'")
bad("randn_with_none_in_its_size", lambda: minidl.randn(2, None), TypeError, "randn", "None")
bad("rand_of_an_integer_dtype", lambda: minidl.rand(3, dtype=np.int64), TypeError, "rand", "int64")
bad("empty_of_a_negative_size", lambda: minidl.empty(2, -3), ValueError, "empty", "-3")
bad("full_of_a_string", lambda: minidl.full((2, 2), "x"), TypeError, "full", "'x'")
bad("full_of_a_float_size", lambda: minidl.full((2.0, 2), 1.0), TypeError, "full", "2.0")
bad("randint_with_low_above_high", lambda: minidl.randint(5, 2, (3,)), ValueError, "randint", "5", "2")
bad("randint_of_an_empty_range", lambda: minidl.randint(0, (3,)), ValueError, "randint", "0")
bad("randint_of_a_negative_size", lambda: minidl.randint(0, 5, (-2,)), ValueError, "randint", "-2")
bad("randperm_of_a_negative_n", lambda: minidl.randperm(-1), ValueError, "randperm", "-1")
bad("arange_with_step_zero", lambda: minidl.arange(0, 10, 0), ValueError, "arange", "step")
bad("arange_to_infinity", lambda: minidl.arange(0, float("inf")), ValueError, "arange", "inf")
bad("arange_with_a_step_of_the_wrong_sign", lambda: minidl.arange(10, 0, 1), ValueError, "arange", "step")
bad("arange_of_a_string", lambda: minidl.arange("5"), TypeError, "arange", "'5'")
bad("linspace_with_negative_steps", lambda: minidl.linspace(0, 1, -1), ValueError, "linspace", "-1")
bad("eye_of_a_negative_size", lambda: minidl.eye(-2), ValueError, "eye", "-2")
bad("from_numpy_of_a_list", lambda: minidl.from_numpy([1, 2]), TypeError, "from_numpy", "list")
bad("from_numpy_of_strings", lambda: minidl.from_numpy(np.array(["a"])), TypeError, "from_numpy", "<U1")
bad("manual_seed_of_a_word", lambda: minidl.manual_seed("abc"), TypeError, "manual_seed", "abc")
bad("default_dtype_of_ints", lambda: minidl.set_default_dtype(np.int64), TypeError, "set_default_dtype", "int64")
bad("to_a_number", lambda: x23().to(5), TypeError, "to", "5")
bad("to_an_unknown_device", lambda: x23().to("gpu"), DeviceError, "gpu")
bad("to_an_unknown_dtype", lambda: x23().to(dtype="float32x"), TypeError, "to", "float32x")
bad("zeros_like_of_a_list", lambda: minidl.zeros_like([1, 2]), TypeError, "zeros_like", "list")

# --- tensor ops ------------------------------------------------------------------------------------------
bad("add_of_unbroadcastable_shapes", lambda: minidl.ones(2) + minidl.ones(3), ShapeError, "add", "(2,)", "(3,)")
bad("add_of_a_string", lambda: minidl.ones(2) + "a", TypeError, "str")
bad("mul_of_a_list", lambda: minidl.ones(2) * [1, 2], TypeError, "list")
bad("matmul_of_mismatched_shapes", lambda: minidl.ones(2, 3) @ minidl.ones(2, 3), ShapeError, "matmul", "(2, 3)")
bad("matmul_of_a_scalar", lambda: minidl.tensor(2.0) @ minidl.ones(2), ShapeError, "matmul")
bad("reshape_to_the_wrong_size", lambda: x23().reshape(5), ShapeError, "reshape", "5")
bad("view_with_two_unknowns", lambda: x23().view(-1, -1), ShapeError, "reshape")
bad("permute_with_a_repeated_dim", lambda: x23().permute(0, 0), ValueError, "permute", "(0, 0)")
bad("transpose_of_a_missing_dim", lambda: x23().transpose(0, 5), IndexError, "transpose", "5")
bad("sum_over_a_missing_dim", lambda: x23().sum(dim=3), IndexError, "sum", "3")
bad("mean_over_a_word", lambda: x23().mean(dim="a"), TypeError, "mean", "'a'")
bad("getitem_past_the_end", lambda: minidl.ones(3)[5], IndexError, "getitem", "5")
bad("getitem_of_a_float", lambda: minidl.ones(3)[1.5], IndexError, "getitem", "1.5")
bad("getitem_of_a_float_tensor", lambda: minidl.ones(3)[minidl.tensor([1.5])], IndexError, "getitem", "float")
bad("cat_of_nothing", lambda: minidl.cat([]), ValueError, "cat")
bad("cat_of_mismatched_shapes", lambda: minidl.cat([minidl.ones(2, 3), minidl.ones(2, 4)], dim=0), ShapeError,
    "cat", "(2, 3)", "(2, 4)")
bad("stack_of_mismatched_shapes", lambda: minidl.stack([minidl.ones(2), minidl.ones(3)]), ShapeError, "stack")
bad("expand_to_a_smaller_shape", lambda: minidl.ones(2).expand(3, 5), ShapeError, "expand")
bad("squeeze_of_a_missing_dim", lambda: x23().squeeze(4), IndexError, "squeeze", "4")
bad("unsqueeze_of_a_missing_dim", lambda: x23().unsqueeze(5), IndexError, "unsqueeze", "5")
bad("split_into_size_zero", lambda: x23().split(0), ValueError, "split", "0")
bad("chunk_into_zero", lambda: x23().chunk(0), ValueError, "chunk", "0")
bad("clamp_without_bounds", lambda: x23().clamp(), ValueError, "clamp")
bad("where_of_an_int_condition", lambda: minidl.where(minidl.tensor([1, 0]), minidl.ones(2), minidl.zeros(2)),
    TypeError, "where", "int64")
bad("backward_of_a_vector", lambda: (minidl.ones(2, requires_grad=True) * 2).backward(), AutogradError, "backward")
bad("backward_with_a_gradient_of_another_shape",
    lambda: (minidl.ones(2, requires_grad=True) * 2).backward(minidl.ones(3)), ShapeError, "backward", "(3,)")
bad("backward_of_a_constant", lambda: minidl.ones(1).backward(), AutogradError, "backward")
bad("item_of_two_values", lambda: minidl.ones(2).item(), ValueError, "item", "2")
bad("truth_of_two_values", lambda: bool(minidl.ones(2)), ValueError, "2 elements")
bad("numpy_of_a_tensor_requiring_grad", lambda: minidl.ones(2, requires_grad=True).numpy(), AutogradError, "numpy")
bad("softmax_over_a_missing_dim", lambda: x23().softmax(dim=5), IndexError, "softmax", "5")
bad("masked_fill_with_an_int_mask", lambda: x23().masked_fill(minidl.ones(2, 3, dtype=np.int64), 1.0), TypeError,
    "masked_fill", "int64")
bad("masked_fill_with_a_vector", lambda: x23().masked_fill(x23() > 0, minidl.ones(2)), ValueError,
    "masked_fill", "(2,)")
bad("max_over_a_missing_dim", lambda: x23().max(dim=9), IndexError, "max", "9")
bad("pad_of_an_odd_length", lambda: F.pad(x23(), (1,)), ValueError, "pad", "(1,)")
bad("pad_in_an_unknown_mode", lambda: F.pad(x23(), (1, 1), mode="wrap"), ValueError, "pad", "wrap")
bad("add_across_devices", lambda: minidl.ones(2) + minidl.ones(2).to("strict"), DeviceError, "add", "cpu", "strict")
bad("add__of_a_bigger_operand", lambda: minidl.ones(2).add_(minidl.ones(3, 2)), ShapeError, "add_", "(3, 2)")
bad("leaf_edit_under_recording", lambda: minidl.ones(2, requires_grad=True).mul_(2), AutogradError, "mul_", "leaf")

# --- indexing, repeating, einsum, norms -------------------------------------------------------------------
index22 = lambda: minidl.tensor([[0, 1], [1, 0]])  # noqa: E731
bad("gather_over_a_missing_dim", lambda: x23().gather(2, index22()), IndexError, "gather", "2")
bad("gather_index_past_the_end", lambda: x23().gather(1, minidl.tensor([[0, 3], [1, 0]])), IndexError, "gather",
    "3", "size 3")
bad("gather_of_a_negative_index", lambda: x23().gather(1, minidl.tensor([[0, -1], [1, 0]])), IndexError, "gather",
    "-1")
bad("gather_of_a_float_index", lambda: x23().gather(1, minidl.tensor([[0.0, 1.0], [1.0, 0.0]])), TypeError,
    "gather", "float32")
bad("gather_of_a_list_index", lambda: x23().gather(1, [[0, 1]]), TypeError, "gather", "list")
bad("gather_of_an_index_with_fewer_dims", lambda: x23().gather(1, minidl.tensor([0, 1])), ShapeError, "gather",
    "(2,)", "(2, 3)")
bad("gather_of_an_index_larger_than_the_input", lambda: x23().gather(0, minidl.tensor([[0, 1, 0, 1]])), ShapeError,
    "gather", "(1, 4)", "(2, 3)")
bad("gather_of_an_index_on_another_device", lambda: x23().gather(1, index22().to("strict")), DeviceError,
    "gather", "cpu", "strict")
bad("index_select_of_a_matrix_index", lambda: x23().index_select(1, index22()), ShapeError, "index_select",
    "(2, 2)")
bad("index_select_past_the_end", lambda: x23().index_select(0, minidl.tensor([2])), IndexError, "index_select",
    "2", "size 2")
bad("index_select_of_a_bool_index", lambda: x23().index_select(0, minidl.tensor([True])), TypeError,
    "index_select", "bool")
bad("scatter_add_of_another_dtype", lambda: x23().scatter_add(1, index22(), minidl.ones(2, 2, dtype=np.float64)),
    TypeError, "scatter_add", "float64", "float32")
bad("scatter_add_index_past_the_end", lambda: x23().scatter_add(0, index22() * 2, minidl.ones(2, 2)), IndexError,
    "scatter_add", "2")
bad("scatter_of_neither_src_nor_value", lambda: x23().scatter(1, index22()), TypeError, "scatter", "src")
bad("narrow_past_the_end", lambda: x23().narrow(1, 2, 2), ValueError, "narrow", "start (2)", "length (2)", "3")
bad("narrow_from_a_start_out_of_range", lambda: x23().narrow(1, -4, 1), IndexError, "narrow", "-4")
bad("narrow_of_a_float_length", lambda: x23().narrow(1, 0, 1.5), TypeError, "narrow", "length", "1.5")
bad("unbind_of_a_scalar", lambda: minidl.tensor(2.0).unbind(), IndexError, "unbind", "0-d")
bad("unbind_over_a_missing_dim", lambda: x23().unbind(2), IndexError, "unbind", "2")
bad("flip_of_a_repeated_dim", lambda: x23().flip(0, 0), ValueError, "flip", "repeats")
bad("flip_over_a_missing_dim", lambda: x23().flip(3), IndexError, "flip", "3")
bad("repeat_with_fewer_sizes_than_dims", lambda: x23().repeat(2), ValueError, "repeat", "(2, 3)")
bad("repeat_of_a_negative_size", lambda: x23().repeat(2, -1), ValueError, "repeat", "-1")
bad("repeat_interleave_of_negative_repeats", lambda: minidl.repeat_interleave(x23(), -1), ValueError,
    "repeat_interleave", "-1")
bad("repeat_interleave_of_too_many_repeats", lambda: x23().repeat_interleave(minidl.tensor([1, 2, 3]), dim=0),
    ShapeError, "repeat_interleave", "2", "3")
bad("repeat_interleave_of_float_repeats", lambda: x23().repeat_interleave(minidl.tensor([1.0, 2.0]), dim=0),
    TypeError, "repeat_interleave", "repeats", "float32")
bad("meshgrid_of_a_matrix", lambda: minidl.meshgrid(minidl.ones(2), x23(), indexing="ij"), ShapeError, "meshgrid",
    "(2, 3)")
bad("meshgrid_of_an_unknown_indexing", lambda: minidl.meshgrid(minidl.ones(2), indexing="ji"), ValueError,
    "meshgrid", "indexing", "'ji'")
bad("meshgrid_of_nothing", lambda: minidl.meshgrid(), ValueError, "meshgrid", "non-empty")
bad("meshgrid_of_two_dtypes", lambda: minidl.meshgrid(minidl.ones(2), minidl.tensor([1, 2]), indexing="ij"),
    TypeError, "meshgrid", "float32", "int64")


@case("meshgrid_without_indexing_warns", UserWarning, "meshgrid", "indexing='ij'")
def _meshgrid_warns():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        minidl.meshgrid(minidl.ones(2), minidl.ones(3))


bad("cumsum_over_a_missing_dim", lambda: x23().cumsum(2), IndexError, "cumsum", "2")
bad("cumsum_over_two_dims", lambda: x23().cumsum((0, 1)), TypeError, "cumsum", "(0, 1)")
bad("bmm_of_matrices", lambda: minidl.bmm(x23(), minidl.ones(3, 2)), ShapeError, "bmm", "3-D", "(2, 3)", "(3, 2)")
bad("bmm_of_other_batch_sizes", lambda: minidl.bmm(minidl.ones(2, 3, 4), minidl.ones(3, 4, 5)), ShapeError, "bmm",
    "(2, 3, 4)", "(3, 4, 5)")
bad("bmm_of_mismatched_inner_sizes", lambda: minidl.ones(2, 3, 4).bmm(minidl.ones(2, 3, 5)), ShapeError, "bmm",
    "(2, 4, p)")
bad("einsum_of_too_few_operands", lambda: minidl.einsum("ij,jk->ik", x23()), ValueError, "einsum", "'ij,jk->ik'",
    "2 operand", "1 were given")
bad("einsum_of_too_many_operands", lambda: minidl.einsum("ij", x23(), x23()), ValueError, "einsum", "1 operand",
    "2 were given")
bad("einsum_of_subscripts_for_other_dims", lambda: minidl.einsum("ijk->i", x23()), ShapeError, "einsum", "(2, 3)",
    "'ijk'")
bad("einsum_of_mismatched_sizes", lambda: minidl.einsum("ij,jk", x23(), minidl.ones(4, 2)), ShapeError, "einsum",
    "'j'", "4", "3")
bad("einsum_of_an_output_label_in_no_operand", lambda: minidl.einsum("ij->k", x23()), ValueError, "einsum", "'k'")
bad("einsum_of_a_repeated_output_label", lambda: minidl.einsum("ij->ii", x23()), ValueError, "einsum", "'i'",
    "more than once")
bad("einsum_of_a_digit", lambda: minidl.einsum("i1->i", x23()), ValueError, "einsum", "'i1->i'")
bad("einsum_of_two_dtypes", lambda: minidl.einsum("ij,jk", x23(), minidl.ones(3, 2, dtype=np.float64)), TypeError,
    "einsum", "float32", "float64")
bad("norm_of_ints", lambda: minidl.tensor([3, 4]).norm(), TypeError, "norm", "int64")
bad("norm_of_an_unknown_p", lambda: x23().norm(p="max"), ValueError, "norm", "'max'")
bad("norm_nuclear", lambda: x23().norm(p="nuc"), NotImplementedError, "norm", "nuc")
bad("norm_fro_over_three_dims", lambda: minidl.ones(2, 2, 2).norm(dim=(0, 1, 2)), ValueError, "norm", "fro")
bad("normalize_over_a_missing_dim", lambda: F.normalize(minidl.ones(3)), IndexError, "normalize", "1")
bad("new_full_of_an_int_size", lambda: x23().new_full(2, 1.0), TypeError, "new_full", "2")
bad("new_zeros_of_a_negative_size", lambda: x23().new_zeros(2, -1), ValueError, "new_zeros", "-1")
bad("new_ones_without_a_size", lambda: x23().new_ones(), TypeError, "new_ones", "size")

# --- layer construction -----------------------------------------------------------------------------------
bad("linear_of_negative_features", lambda: nn.Linear(-1, 3), ValueError, "Linear", "in_features", "-1")
bad("linear_of_float_features", lambda: nn.Linear(2.5, 3), TypeError, "Linear", "in_features", "2.5")
bad("linear_of_string_features", lambda: nn.Linear(2, "3"), TypeError, "Linear", "out_features", "'3'")
bad("conv2d_with_kernel_zero", lambda: nn.Conv2d(3, 8, 0), ValueError, "Conv2d", "kernel_size", "0")
bad("conv2d_with_stride_zero", lambda: nn.Conv2d(3, 8, 3, stride=0), ValueError, "Conv2d", "stride", "0")
bad("conv2d_with_negative_padding", lambda: nn.Conv2d(3, 8, 3, padding=-1), ValueError, "Conv2d", "padding", "-1")
bad("conv2d_with_an_unknown_padding", lambda: nn.Conv2d(3, 8, 3, padding="full"), ValueError, "Conv2d", "full")
bad("conv2d_with_an_unknown_padding_mode", lambda: nn.Conv2d(3, 8, 3, padding_mode="wrap"), ValueError,
    "Conv2d", "padding_mode", "wrap")
bad("conv2d_with_no_input_channels", lambda: nn.Conv2d(0, 8, 3), ValueError, "Conv2d", "in_channels", "0")
bad("conv2d_with_a_float_kernel", lambda: nn.Conv2d(3, 8, 2.5), TypeError, "Conv2d", "kernel_size", "2.5")
bad("max_pool_with_kernel_zero", lambda: nn.MaxPool2d(0), ValueError, "MaxPool2d", "kernel_size", "0")
bad("avg_pool_with_stride_zero", lambda: nn.AvgPool2d(2, stride=0), ValueError, "AvgPool2d", "stride", "0")
bad("max_pool_with_too_much_padding", lambda: nn.MaxPool2d(2, padding=2)(minidl.ones(1, 1, 4, 4)), ValueError,
    "max_pool2d", "padding")
bad("batch_norm_of_negative_features", lambda: nn.BatchNorm1d(-1), ValueError, "BatchNorm1d", "-1")
bad("batch_norm_with_a_string_momentum", lambda: nn.BatchNorm2d(4, momentum="a"), TypeError, "BatchNorm2d",
    "momentum")
bad("batch_norm_with_a_negative_eps", lambda: nn.BatchNorm2d(4, eps=-1.0), ValueError, "BatchNorm2d", "eps")
bad("layer_norm_of_a_negative_shape", lambda: nn.LayerNorm(-2), ValueError, "LayerNorm", "-2")
bad("layer_norm_of_a_word", lambda: nn.LayerNorm("a"), TypeError, "LayerNorm", "'a'")
bad("embedding_of_negative_size", lambda: nn.Embedding(-1, 4), ValueError, "Embedding", "-1")
bad("embedding_padding_past_the_end", lambda: nn.Embedding(10, 4, padding_idx=10), ValueError, "Embedding",
    "padding_idx", "10")
bad("dropout_above_one", lambda: nn.Dropout(1.5), ValueError, "Dropout", "1.5")
bad("dropout_below_zero", lambda: nn.Dropout(-0.1), ValueError, "Dropout", "-0.1")
bad("dropout_of_a_word", lambda: nn.Dropout("half"), TypeError, "Dropout", "'half'")
bad("attention_heads_not_dividing", lambda: nn.MultiheadAttention(10, 3), ValueError, "MultiheadAttention",
    "10", "3")
bad("attention_of_zero_heads", lambda: nn.MultiheadAttention(8, 0), ValueError, "MultiheadAttention", "num_heads",
    "0")
bad("encoder_layer_heads_not_dividing", lambda: nn.TransformerEncoderLayer(10, 3), ValueError, "10", "3")
bad("encoder_layer_unknown_activation", lambda: nn.TransformerEncoderLayer(8, 2, activation="swish"), ValueError,
    "TransformerEncoderLayer", "swish")
bad("encoder_layer_dropout_above_one", lambda: nn.TransformerEncoderLayer(8, 2, dropout=2.0), ValueError,
    "dropout", "2.0")
bad("transformer_heads_not_dividing", lambda: nn.Transformer(d_model=8, nhead=3), ValueError, "8", "3")
bad("sequential_of_a_number", lambda: nn.Sequential(5), TypeError, "Sequential", "int")
bad("sequential_index_past_the_end", lambda: nn.Sequential(nn.ReLU())[5], IndexError, "Sequential", "5")
bad("module_list_of_a_number", lambda: nn.ModuleList([1]), TypeError, "ModuleList", "int")
bad("module_dict_of_a_number", lambda: nn.ModuleDict({"a": 3}), TypeError, "ModuleDict", "int")
bad("buffer_of_a_list", lambda: nn.Module().register_buffer("x", [1, 2]), TypeError, "register_buffer", "list")
bad("module_name_with_a_dot", lambda: nn.Module().add_module("a.b", nn.ReLU()), KeyError, "a.b")
bad("loss_with_an_unknown_reduction", lambda: nn.CrossEntropyLoss(reduction="avg"), ValueError, "reduction", "avg")
bad("mse_with_an_unknown_reduction", lambda: nn.MSELoss(reduction="x"), ValueError, "reduction", "'x'")
bad("label_smoothing_above_one", lambda: nn.CrossEntropyLoss(label_smoothing=1.5), ValueError, "label_smoothing",
    "1.5")
bad("leaky_relu_of_a_word", lambda: nn.LeakyReLU("a"), TypeError, "LeakyReLU", "'a'")

# --- layer inputs -------------------------------------------------------------------------------------------
bad("linear_of_the_wrong_width", lambda: nn.Linear(3, 4)(minidl.ones(2, 5)), ShapeError, "Linear", "(2, 5)", "3")
bad("linear_of_ints", lambda: nn.Linear(3, 4)(minidl.ones(2, 3, dtype=np.int64)), TypeError, "Linear", "int64")
bad("conv2d_of_the_wrong_channels", lambda: nn.Conv2d(3, 8, 3)(minidl.ones(2, 4, 8, 8)), ShapeError, "Conv2d",
    "3", "4")
bad("conv2d_of_a_matrix", lambda: nn.Conv2d(3, 8, 3)(minidl.ones(3, 8)), ShapeError, "Conv2d", "(3, 8)")
bad("conv2d_kernel_above_the_image", lambda: nn.Conv2d(3, 8, 5)(minidl.ones(1, 3, 2, 2)), ShapeError, "conv2d",
    "(2, 2)")
bad("max_pool_above_the_image", lambda: nn.MaxPool2d(3)(minidl.ones(1, 1, 2, 2)), ShapeError, "max_pool2d")
bad("batch_norm_of_the_wrong_features", lambda: nn.BatchNorm1d(4)(minidl.ones(2, 5)), ShapeError, "BatchNorm1d",
    "4", "5")
bad("batch_norm_of_one_value_per_channel", lambda: nn.BatchNorm1d(4)(minidl.ones(1, 4)), ValueError,
    "BatchNorm1d", "more than 1 value per channel")
bad("batch_norm_2d_of_a_3d_input", lambda: nn.BatchNorm2d(3)(minidl.ones(2, 3, 4)), ShapeError, "BatchNorm2d",
    "4D", "(2, 3, 4)")
bad("layer_norm_of_the_wrong_width", lambda: nn.LayerNorm(4)(minidl.ones(2, 5)), ShapeError, "layer_norm", "(4,)",
    "(2, 5)")
bad("embedding_index_past_the_end", lambda: nn.Embedding(10, 4)(minidl.tensor([10])), IndexError, "Embedding",
    "10")
bad("embedding_of_floats", lambda: nn.Embedding(10, 4)(minidl.tensor([1.5])), TypeError, "Embedding", "float")
bad("embedding_of_a_large_negative_index", lambda: nn.Embedding(10, 4)(minidl.tensor([-11])), IndexError,
    "Embedding", "-11")
bad("attention_keys_and_values_of_other_lengths",
    lambda: nn.MultiheadAttention(8, 2, batch_first=True)(minidl.ones(2, 3, 8), minidl.ones(2, 4, 8),
                                                          minidl.ones(2, 5, 8)),
    ShapeError, "MultiheadAttention", "key", "value")
bad("attention_of_the_wrong_width",
    lambda: nn.MultiheadAttention(8, 2)(minidl.ones(3, 2, 6), minidl.ones(3, 2, 6), minidl.ones(3, 2, 6)),
    ShapeError, "MultiheadAttention", "8", "6")
bad("attention_mask_of_the_wrong_shape",
    lambda: nn.MultiheadAttention(8, 2)(minidl.ones(3, 2, 8), minidl.ones(3, 2, 8), minidl.ones(3, 2, 8),
                                        attn_mask=minidl.zeros(4, 4)), ShapeError, "attn_mask", "(4, 4)")
bad("padding_mask_of_the_wrong_shape",
    lambda: nn.MultiheadAttention(8, 2)(minidl.ones(3, 2, 8), minidl.ones(3, 2, 8), minidl.ones(3, 2, 8),
                                        key_padding_mask=minidl.zeros(2, 4, dtype=np.bool_)),
    ShapeError, "key_padding_mask", "(2, 4)")
bad("transformer_target_mask_of_the_wrong_shape",
    lambda: nn.Transformer(8, 2, 1, 1, 16, dropout=0.0)(minidl.ones(3, 2, 8), minidl.ones(4, 2, 8),
                                                        tgt_mask=minidl.zeros(3, 3)),
    ShapeError, "tgt_mask", "(3, 3)")
bad("transformer_of_two_batch_sizes",
    lambda: nn.Transformer(8, 2, 1, 1, 16, dropout=0.0)(minidl.ones(3, 2, 8), minidl.ones(4, 5, 8)),
    ShapeError, "Transformer", "batch")
bad("encoder_layer_of_the_wrong_width",
    lambda: nn.TransformerEncoderLayer(8, 2)(minidl.ones(3, 2, 6)), ShapeError, "6", "8")
bad("cross_entropy_of_other_batch_sizes", lambda: F.cross_entropy(minidl.ones(3, 5), minidl.tensor([0, 1, 2, 3])),
    ShapeError, "cross_entropy", "3", "4")
bad("cross_entropy_of_a_class_past_the_end", lambda: F.cross_entropy(minidl.ones(3, 5), minidl.tensor([0, 1, 5])),
    IndexError, "cross_entropy", "5")
bad("cross_entropy_of_probabilities_of_another_shape",
    lambda: F.cross_entropy(minidl.ones(3, 5), minidl.ones(3, 4)), ShapeError, "cross_entropy", "(3, 4)")
bad("mse_of_other_shapes", lambda: F.mse_loss(minidl.ones(3), minidl.ones(4)), ShapeError, "mse_loss")
bad("binary_cross_entropy_outside_zero_one",
    lambda: F.binary_cross_entropy(minidl.tensor([1.5]), minidl.tensor([1.0])), ValueError, "binary_cross_entropy")
bad("nll_of_float_targets", lambda: F.nll_loss(minidl.ones(3, 5), minidl.ones(3)), TypeError, "nll_loss", "float")
bad("dropout_of_two", lambda: F.dropout(x23(), p=2.0), ValueError, "dropout", "2.0")
bad("attention_of_other_widths",
    lambda: F.scaled_dot_product_attention(minidl.ones(2, 3, 4), minidl.ones(2, 3, 5), minidl.ones(2, 3, 5)),
    ShapeError, "scaled_dot_product_attention")
bad("conv2d_of_a_3d_weight", lambda: F.conv2d(minidl.ones(1, 1, 4, 4), minidl.ones(1, 3, 3)), ShapeError, "conv2d")
bad("embedding_of_a_1d_weight", lambda: F.embedding(minidl.tensor([0]), minidl.ones(4)), ShapeError, "embedding")

# --- optimizers and schedules ---------------------------------------------------------------------------------
bad("sgd_of_no_parameters", lambda: minidl.optim.SGD([], lr=0.1), ValueError, "SGD", "empty")
bad("sgd_with_a_string_lr", lambda: minidl.optim.SGD(params(), lr="0.1"), TypeError, "SGD", "lr", "'0.1'")
bad("sgd_with_a_negative_lr", lambda: minidl.optim.SGD(params(), lr=-1), ValueError, "SGD", "lr", "-1")
bad("sgd_with_negative_momentum", lambda: minidl.optim.SGD(params(), lr=0.1, momentum=-0.5), ValueError, "momentum",
    "-0.5")
bad("nesterov_without_momentum", lambda: minidl.optim.SGD(params(), lr=0.1, nesterov=True), ValueError, "SGD",
    "nesterov")
bad("adam_beta_of_one", lambda: minidl.optim.Adam(params(), betas=(1.0, 0.9)), ValueError, "Adam", "betas", "1.0")
bad("adam_with_negative_eps", lambda: minidl.optim.Adam(params(), eps=-1.0), ValueError, "Adam", "eps", "-1.0")
bad("adamw_with_negative_weight_decay", lambda: minidl.optim.AdamW(params(), weight_decay=-1.0), ValueError,
    "AdamW", "weight_decay")
bad("adam_of_numbers", lambda: minidl.optim.Adam([1, 2]), TypeError, "Adam", "int")
bad("adam_of_one_tensor", lambda: minidl.optim.Adam(nn.Linear(2, 2).weight), TypeError, "Adam", "iterable")
bad("adam_of_a_repeated_parameter", lambda: minidl.optim.Adam([nn.Parameter(minidl.ones(2))] * 2), ValueError,
    "Adam", "more than once")
bad("step_lr_of_step_zero", lambda: minidl.optim.lr_scheduler.StepLR(minidl.optim.SGD(params(), lr=0.1), 0),
    ValueError, "StepLR", "step_size", "0")


@case("adam_after_a_parameter_changed_shape", ShapeError, "Adam", "(3,)", "(2,)")
def _adam_after_shape_change():
    weight = nn.Parameter(minidl.ones(2))
    optimizer = minidl.optim.Adam([weight])
    (weight * weight).sum().backward()
    optimizer.step()
    weight.array = np.ones(3, dtype=np.float32)
    weight.grad = minidl.ones(3)
    optimizer.step()


@case("optimizer_loading_a_model_state", ValueError, "load_state_dict", "param_groups")
def _optimizer_loads_model_state():
    model = nn.Linear(2, 2)
    minidl.optim.Adam(model.parameters()).load_state_dict(model.state_dict())


@case("optimizer_loading_other_groups", ValueError, "load_state_dict", "2", "1")
def _optimizer_loads_other_groups():
    model = nn.Linear(2, 2)
    two = minidl.optim.SGD([{"params": [model.weight]}, {"params": [model.bias]}], lr=0.1)
    minidl.optim.SGD(model.parameters(), lr=0.1).load_state_dict(two.state_dict())


@case("lr_given_as_a_string_in_a_group", TypeError, "SGD", "lr", "'fast'")
def _lr_string_in_group():
    minidl.optim.SGD([{"params": nn.Linear(2, 2).parameters(), "lr": "fast"}], lr=0.1)


# --- state dicts ---------------------------------------------------------------------------------------------
def _state_with(**changes):
    state = nn.Linear(2, 3).state_dict()
    state.update(changes)
    return state


bad("load_of_a_wrong_shape", lambda: nn.Linear(2, 3).load_state_dict(_state_with(weight=minidl.ones(3, 4))),
    RuntimeError, "state_dict", "weight", "(3, 4)", "(3, 2)")
bad("load_with_a_missing_key", lambda: nn.Linear(2, 3).load_state_dict({"weight": minidl.ones(3, 2)}), RuntimeError,
    "state_dict", "missing", "bias")
bad("load_with_an_unexpected_key", lambda: nn.Linear(2, 3).load_state_dict(_state_with(extra=minidl.ones(1))),
    RuntimeError, "state_dict", "unexpected", "extra")
bad("load_of_strings", lambda: nn.Linear(2, 3).load_state_dict(_state_with(bias=np.array(["a", "b", "c"]))),
    RuntimeError, "state_dict", "bias", "<U1")
bad("load_of_a_list", lambda: nn.Linear(2, 3).load_state_dict(_state_with(bias=[1.0, 2.0, 3.0])), RuntimeError,
    "state_dict", "bias", "list")
bad("load_of_objects", lambda: nn.Linear(2, 3).load_state_dict(_state_with(bias=np.array([None] * 3))),
    RuntimeError, "state_dict", "bias", "object")
bad("load_of_a_list_of_pairs", lambda: nn.Linear(2, 3).load_state_dict([("weight", 1)]), TypeError,
    "load_state_dict", "list")

# --- data --------------------------------------------------------------------------------------------------------
dataset = lambda: TensorDataset(minidl.ones(4, 2), minidl.zeros(4))  # noqa: E731
bad("loader_batch_of_zero", lambda: DataLoader(dataset(), batch_size=0), ValueError, "DataLoader", "batch_size", "0")
bad("loader_batch_of_a_float", lambda: DataLoader(dataset(), batch_size=2.5), ValueError, "DataLoader", "batch_size",
    "2.5")
bad("loader_shuffle_of_a_word", lambda: DataLoader(dataset(), shuffle="yes"), ValueError, "DataLoader", "shuffle",
    "'yes'")
bad("loader_of_a_number", lambda: DataLoader(5), TypeError, "DataLoader", "int")
bad("dataset_of_other_lengths", lambda: TensorDataset(minidl.ones(3), minidl.ones(4)), ValueError, "TensorDataset",
    "3", "4")
bad("split_lengths_not_adding_up", lambda: random_split(dataset(), [2, 3]), ValueError, "random_split", "5", "4")
bad("subset_index_past_the_end", lambda: Subset(dataset(), [10])[0], IndexError, "10")

# --- files -----------------------------------------------------------------------------------------------------------
bad("load_of_a_missing_file", lambda: minidl.load("/nonexistent/model.npz"), FileNotFoundError, "/nonexistent/model.npz")
bad("save_into_a_missing_folder", lambda: minidl.save({"a": minidl.ones(1)}, "/nonexistent/dir/model.npz"),
    FileNotFoundError, "save", "/nonexistent/dir/model.npz")
bad("save_of_a_function", lambda: minidl.save({"f": print}, "/tmp/never-written.npz"), TypeError, "save",
    "builtin_function_or_method")


@case("load_of_a_corrupt_file", ValueError, "load", "corrupt.npz")
def _load_corrupt(tmp_path_factory=None):
    import tempfile
    folder = tempfile.mkdtemp()
    path = f"{folder}/corrupt.npz"
    with open(path, "wb") as file:
        file.write(b"PK\x03\x04 this is not a zip archive")
    minidl.load(path)


@case("save_onto_a_folder", IsADirectoryError, "save")
def _save_onto_folder():
    import tempfile
    minidl.save({"a": minidl.ones(1)}, tempfile.mkdtemp())


# --- the command line --------------------------------------------------------------------------------------------
@case("bench_with_zero_rounds", SystemExit, "2")
def _bench_zero_rounds():
    from minidl import cli
    code = cli.main(["bench", "M", "--rounds", "0"])
    raise SystemExit(code)


@case("run_of_a_missing_chapter", SystemExit, "2")
def _run_missing_chapter():
    from minidl import cli
    raise SystemExit(cli.main(["run", "99"]))


@pytest.mark.parametrize("call, error, fragments", CASES)
def test_a_bad_input_gets_a_clear_error(call, error, fragments):
    with pytest.raises(error) as info:
        call()
    message = str(info.value.args[0]) if isinstance(info.value, KeyError) and info.value.args else str(info.value)
    missing = [fragment for fragment in fragments if fragment not in message]
    assert not missing, f"{type(info.value).__name__}: {message!r} lacks {missing}"


def test_there_are_at_least_150_cases():
    assert len(CASES) >= 150
