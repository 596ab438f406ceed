"""Bad inputs to the elementwise math, rounding, selection, product, diagonal, rearranging, distance,
activation and loss functions of minidl/ops/ (elementwise_math.py to robust_loss.py) and their
modules: each gets a clear error naming the function and the offending argument, shapes or value.

Each case is (id, call, exception type, fragments the message must contain), as in test_bad_inputs.py.
"""

import numpy as np
import pytest

import minidl
import minidl.nn as nn
import minidl.nn.functional as F
from minidl.core.errors import DeviceError, ShapeError

CASES = []


def bad(name, call, error, *fragments):
    CASES.append(pytest.param(call, error, fragments, id=name))


t = minidl.tensor
ones = minidl.ones

# --- elementwise math and rounding ---------------------------------------------------------------------
bad("tan_of_a_list", lambda: minidl.tan([1.0]), TypeError, "tan", "list")
bad("atan2_of_unbroadcastable_shapes", lambda: minidl.atan2(ones(2), ones(3)), ShapeError, "atan2", "(2,)", "(3,)")
bad("logaddexp_of_a_string", lambda: minidl.logaddexp(ones(2), "a"), TypeError, "str")
bad("lerp_with_a_float64_weight", lambda: minidl.lerp(ones(2), ones(2), ones(2).double()), TypeError, "lerp",
    "weight", "float64")
bad("lerp_of_mixed_dtypes", lambda: minidl.lerp(ones(2), ones(2).double(), 0.5), TypeError, "lerp", "float32",
    "float64")
bad("clamp_min_of_none", lambda: ones(2).clamp_min(None), ValueError, "clamp")
bad("round_with_float_decimals", lambda: ones(2).round(decimals=1.5), TypeError, "round", "decimals", "1.5")
bad("remainder_by_an_integer_zero", lambda: minidl.remainder(t([5, 3]), t([2, 0])), ZeroDivisionError,
    "remainder", "division by zero")
bad("floor_divide_by_an_integer_zero", lambda: t([5]) // 0, ZeroDivisionError, "floor_divide")
bad("fmod_across_devices", lambda: minidl.fmod(ones(2), ones(2).to("strict")), DeviceError, "fmod", "cpu", "strict")
bad("fmod_of_unbroadcastable_shapes", lambda: minidl.fmod(ones(2, 3), ones(4)), ShapeError, "fmod", "(2, 3)", "(4,)")
bad("erfinv_of_a_number", lambda: minidl.erfinv(0.5), TypeError, "erfinv", "float")
bad("square_of_a_number", lambda: minidl.square(3), TypeError, "square", "int")

# --- selection -------------------------------------------------------------------------------------------
bad("logical_and_of_unbroadcastable_shapes", lambda: minidl.logical_and(ones(2), ones(3)), ShapeError,
    "logical_and", "(2,)", "(3,)")
bad("logical_xor_across_devices", lambda: minidl.logical_xor(ones(2), ones(2).to("strict")), DeviceError,
    "logical_xor", "strict")
bad("isclose_with_negative_rtol", lambda: minidl.isclose(ones(2), ones(2), rtol=-1.0), ValueError, "isclose",
    "rtol", "-1.0")
bad("isclose_of_mixed_dtypes", lambda: minidl.isclose(ones(2), ones(2).double()), TypeError, "isclose",
    "float32", "float64")
bad("count_nonzero_of_a_bad_dim", lambda: minidl.count_nonzero(ones(2, 3), dim=2), IndexError, "count_nonzero", "2")
bad("nonzero_of_a_list", lambda: minidl.nonzero([1, 0]), TypeError, "nonzero", "list")
bad("unique_along_a_bad_dim", lambda: minidl.unique(ones(2, 3), dim=3), IndexError, "unique", "3")
bad("searchsorted_with_an_unknown_side", lambda: minidl.searchsorted(t([1, 2]), t([1]), side="middle"),
    ValueError, "searchsorted", "side", "'middle'")
bad("searchsorted_with_opposite_sides", lambda: minidl.searchsorted(t([1, 2]), t([1]), right=True, side="left"),
    ValueError, "searchsorted", "side", "right")
bad("searchsorted_of_mismatched_rows", lambda: minidl.searchsorted(ones(2, 4), ones(3, 2)), ShapeError,
    "searchsorted", "(2, 4)", "(3, 2)")
bad("searchsorted_of_a_0d_sequence", lambda: minidl.searchsorted(t(1.0), t([1.0])), ShapeError, "searchsorted",
    "sorted_sequence", "0-d")
bad("bucketize_with_2d_boundaries", lambda: minidl.bucketize(t([1]), ones(2, 2)), ShapeError, "bucketize",
    "boundaries", "(2, 2)")
bad("tril_indices_of_a_negative_row", lambda: minidl.tril_indices(-1, 3), ValueError, "tril_indices", "-1")
bad("triu_indices_of_float_sizes", lambda: minidl.triu_indices(2.5, 3), TypeError, "triu_indices", "row", "2.5")
bad("tril_indices_of_a_float_dtype", lambda: minidl.tril_indices(2, 2, dtype=minidl.float32), TypeError,
    "tril_indices", "dtype", "float32")
bad("finfo_of_an_integer_dtype", lambda: minidl.finfo(minidl.int64), TypeError, "finfo", "int64", "iinfo")
bad("iinfo_of_a_float_dtype", lambda: minidl.iinfo(minidl.float32), TypeError, "iinfo", "float32", "finfo")
bad("iinfo_of_bool", lambda: minidl.iinfo(minidl.bool), TypeError, "iinfo", "bool")
bad("finfo_of_a_word", lambda: minidl.finfo("banana"), TypeError, "finfo", "banana")
bad("numel_of_a_list", lambda: minidl.numel([1, 2]), TypeError, "numel", "list")

# --- products, statistics, diagonals ------------------------------------------------------------------------
bad("dot_of_matrices", lambda: minidl.dot(ones(2, 2), ones(2)), ShapeError, "dot", "1-D", "(2, 2)")
bad("dot_of_different_lengths", lambda: minidl.dot(ones(2), ones(3)), ShapeError, "dot", "2", "3")
bad("dot_of_mixed_dtypes", lambda: minidl.dot(ones(2), ones(2).double()), TypeError, "dot", "float32", "float64")
bad("mm_of_mismatched_shapes", lambda: minidl.mm(ones(2, 3), ones(2, 3)), ShapeError, "mm", "(2, 3)",
    "3 != 2")
bad("mm_of_a_vector", lambda: ones(2, 3).mm(ones(3)), ShapeError, "mm", "2-D", "(3,)")
bad("outer_of_a_matrix", lambda: minidl.outer(ones(2, 3), ones(2)), ShapeError, "outer", "1-D", "(2, 3)")
bad("addmm_with_an_unbroadcastable_input", lambda: minidl.addmm(ones(3, 3), ones(2, 2), ones(2, 4)), ShapeError,
    "addmm", "(3, 3)", "(2, 4)")
bad("baddbmm_of_matrices", lambda: minidl.baddbmm(ones(2, 2), ones(2, 2), ones(2, 2)), ShapeError, "bmm",
    "3-D")
bad("prod_over_several_dims", lambda: ones(2, 3).prod(dim=(0, 1)), TypeError, "prod", "dim")
bad("cumprod_of_a_bad_dim", lambda: ones(2).cumprod(1), IndexError, "cumprod", "1")
bad("median_over_an_empty_dim", lambda: minidl.zeros(0, 3).median(0), IndexError, "median", "size 0")
bad("median_with_two_dims", lambda: ones(2, 3).median((0, 1)), TypeError, "median", "dim")
bad("var_mean_with_both_corrections", lambda: minidl.var_mean(ones(3), unbiased=True, correction=0), TypeError,
    "var", "unbiased", "correction")
bad("trace_of_a_vector", lambda: ones(3).trace(), ShapeError, "trace", "(3,)")
bad("diag_of_a_3d_tensor", lambda: minidl.diag(ones(2, 2, 2)), ShapeError, "diag", "(2, 2, 2)")
bad("diagonal_of_one_dim_twice", lambda: ones(2, 3).diagonal(0, 1, -1), ValueError, "diagonal", "dim1", "dim2")
bad("diagonal_of_a_vector", lambda: minidl.diagonal(ones(3)), ShapeError, "diagonal", "(3,)")
bad("diag_with_a_float_offset", lambda: minidl.diag(ones(3), 1.5), TypeError, "diag", "diagonal", "1.5")

# --- rearranging --------------------------------------------------------------------------------------------
bad("roll_with_more_shifts_than_dims", lambda: ones(2, 3).roll((1, 2), 0), ValueError, "roll", "shifts", "dims")
bad("roll_without_dims_by_a_tuple", lambda: ones(2, 3).roll((1, 2)), ValueError, "roll", "shifts")
bad("roll_along_a_bad_dim", lambda: ones(2, 3).roll(1, 2), IndexError, "roll", "2")
bad("masked_select_with_a_float_mask", lambda: ones(3).masked_select(ones(3)), TypeError, "masked_select", "bool",
    "float32")
bad("masked_select_of_unbroadcastable_shapes", lambda: ones(3).masked_select(t([True, False])), ShapeError,
    "masked_select", "(3,)", "(2,)")
bad("take_along_dim_with_float_indices", lambda: ones(3).take_along_dim(ones(1)), TypeError, "take_along_dim",
    "indices")
bad("take_along_dim_out_of_range", lambda: ones(2, 3).take_along_dim(t([[3]]), 1), IndexError, "take_along_dim",
    "3", "size 3")
bad("take_along_dim_of_negative_flat_indices", lambda: ones(2, 3).take_along_dim(t([-1])), IndexError,
    "take_along_dim", "-1")
bad("take_along_dim_of_fewer_index_dims", lambda: ones(2, 3).take_along_dim(t([1]), 1), ShapeError,
    "take_along_dim", "(2, 3)", "(1,)")
bad("take_along_dim_of_unbroadcastable_dims", lambda: ones(2, 3).take_along_dim(t([[0], [1], [2]]), 1), ShapeError,
    "take_along_dim", "(3, 1)")
bad("vstack_of_one_tensor", lambda: minidl.vstack(ones(2)), TypeError, "vstack", "list")
bad("hstack_of_numbers", lambda: minidl.hstack([1, 2]), TypeError, "hstack", "int")
bad("broadcast_tensors_of_unbroadcastable_shapes", lambda: minidl.broadcast_tensors(ones(2), ones(3)), ShapeError,
    "broadcast_tensors", "(2,)", "(3,)")
bad("nan_to_num_with_a_string", lambda: ones(2).nan_to_num(nan="zero"), TypeError, "nan_to_num", "nan", "'zero'")
bad("swapaxes_of_a_bad_axis", lambda: ones(2, 3).swapaxes(0, 2), IndexError, "transpose", "2")

# --- distances --------------------------------------------------------------------------------------------
bad("cross_without_a_dim_of_3", lambda: minidl.cross(ones(2, 4), ones(2, 4)), ShapeError, "cross", "size 3")
bad("cross_along_a_dim_of_4", lambda: minidl.cross(ones(2, 4), ones(2, 4), dim=1), ShapeError, "cross", "dim 1",
    "3 elements")
bad("cross_of_different_ranks", lambda: minidl.cross(ones(2, 3), ones(3)), ShapeError, "cross", "(2, 3)", "(3,)")
bad("cdist_of_vectors", lambda: minidl.cdist(ones(3), ones(5)), ShapeError, "cdist", "2 dims", "(3,)")
bad("cdist_of_different_widths", lambda: minidl.cdist(ones(3, 4), ones(5, 3)), ShapeError, "cdist", "columns",
    "(3, 4)", "(5, 3)")
bad("cdist_with_a_negative_p", lambda: minidl.cdist(ones(3, 4), ones(5, 4), p=-1), ValueError, "cdist", "p", "-1")
bad("cdist_with_an_unknown_mode", lambda: minidl.cdist(ones(3, 4), ones(5, 4), compute_mode="fast"), ValueError,
    "cdist", "compute_mode", "'fast'")
bad("dist_of_unbroadcastable_shapes", lambda: minidl.dist(ones(2), ones(3)), ShapeError, "dist", "(2,)", "(3,)")
bad("cosine_similarity_along_a_bad_dim", lambda: F.cosine_similarity(ones(3), ones(3)), IndexError,
    "cosine_similarity", "1")
bad("pairwise_distance_of_unbroadcastable_shapes", lambda: F.pairwise_distance(ones(2, 3), ones(2, 4)), ShapeError,
    "pairwise_distance", "(2, 3)", "(2, 4)")

# --- activations --------------------------------------------------------------------------------------------
bad("glu_of_an_odd_dim", lambda: F.glu(ones(2, 3)), ShapeError, "glu", "even", "size 3")
bad("glu_of_a_0d_tensor", lambda: F.glu(t(1.0)), ShapeError, "glu", "0-d")
bad("hardtanh_with_min_above_max", lambda: F.hardtanh(ones(2), 1.0, -1.0), ValueError, "hardtanh", "min_val",
    "max_val")
bad("Hardtanh_with_min_above_max", lambda: nn.Hardtanh(2.0, 1.0), ValueError, "Hardtanh", "min_val")
bad("celu_with_alpha_0", lambda: F.celu(ones(2), alpha=0.0), ValueError, "celu", "alpha", "0")
bad("elu_with_a_string_alpha", lambda: F.elu(ones(2), alpha="1"), TypeError, "elu", "alpha", "'1'")
bad("softplus_with_beta_0", lambda: F.softplus(ones(2), beta=0), ValueError, "softplus", "beta")
bad("softmin_without_dim", lambda: F.softmin(ones(2, 3)), TypeError, "softmin", "dim")
bad("prelu_with_a_slope_per_wrong_channel_count", lambda: F.prelu(ones(2, 4), ones(3)), ShapeError, "prelu",
    "3 slopes", "4 channels")
bad("prelu_with_a_2d_weight", lambda: F.prelu(ones(2, 4), ones(2, 2)), ShapeError, "prelu", "weight", "(2, 2)")
bad("PReLU_with_zero_parameters", lambda: nn.PReLU(0), ValueError, "PReLU", "num_parameters", "0")
bad("PReLU_per_channel_on_a_vector", lambda: nn.PReLU(3)(ones(3)), ShapeError, "prelu", "3 slopes", "1 channels")

# --- losses -------------------------------------------------------------------------------------------------
bad("smooth_l1_loss_with_negative_beta", lambda: F.smooth_l1_loss(ones(2), ones(2), beta=-1.0), ValueError,
    "smooth_l1_loss", "beta", "-1.0")
bad("huber_loss_with_delta_0", lambda: F.huber_loss(ones(2), ones(2), delta=0.0), ValueError, "huber_loss",
    "delta", "0.0")
bad("huber_loss_of_different_shapes", lambda: F.huber_loss(ones(2), ones(3)), ShapeError, "huber_loss", "(2,)",
    "(3,)")
bad("smooth_l1_loss_with_an_unknown_reduction", lambda: F.smooth_l1_loss(ones(2), ones(2), reduction="avg"),
    ValueError, "smooth_l1_loss", "reduction", "'avg'")
bad("HuberLoss_with_negative_delta", lambda: nn.HuberLoss(delta=-1.0), ValueError, "HuberLoss", "delta")
bad("SmoothL1Loss_with_an_unknown_reduction", lambda: nn.SmoothL1Loss(reduction="avg"), ValueError, "SmoothL1Loss",
    "'avg'")
bad("cosine_embedding_loss_with_a_2d_target", lambda: F.cosine_embedding_loss(ones(2, 3), ones(2, 3), ones(2, 1)),
    ShapeError, "cosine_embedding_loss", "(2, 1)")
bad("cosine_embedding_loss_of_different_shapes", lambda: F.cosine_embedding_loss(ones(2, 3), ones(2, 4), ones(2)),
    ShapeError, "cosine_embedding_loss", "(2, 3)", "(2, 4)")

# --- settings -----------------------------------------------------------------------------------------------
bad("matmul_precision_unknown", lambda: minidl.set_float32_matmul_precision("low"), ValueError,
    "set_float32_matmul_precision", "'highest'", "'low'")
bad("deterministic_of_a_string", lambda: minidl.use_deterministic_algorithms("yes"), TypeError,
    "use_deterministic_algorithms", "'yes'")
bad("printoptions_of_an_unknown_profile", lambda: minidl.set_printoptions(profile="long"), ValueError,
    "set_printoptions", "profile", "'long'")
bad("printoptions_of_a_negative_precision", lambda: minidl.set_printoptions(precision=-1), ValueError,
    "set_printoptions", "precision", "-1")
bad("printoptions_with_a_string_sci_mode", lambda: minidl.set_printoptions(sci_mode="on"), TypeError,
    "set_printoptions", "sci_mode", "'on'")


@pytest.mark.parametrize("call, error, fragments", CASES)
def test_a_bad_input_gets_a_clear_error(call, error, fragments):
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    missing = [fragment for fragment in fragments if fragment not in message]
    assert not missing, f"{type(info.value).__name__}: {message!r} lacks {missing}"


def test_a_failed_call_leaves_the_print_options_and_switches_as_they_were():
    before = repr(minidl.tensor([1.23456]))
    for call in (lambda: minidl.set_printoptions(precision=-1), lambda: minidl.set_printoptions(profile="long"),
                 lambda: minidl.set_printoptions(profile="short", linewidth=-5)):
        with pytest.raises(ValueError):
            call()
    assert repr(minidl.tensor([1.23456])) == before
    with pytest.raises(ValueError):
        minidl.set_float32_matmul_precision("low")
    assert minidl.get_float32_matmul_precision() == "highest"
    assert np.isfinite(minidl.finfo().eps)
