"""Two real ranks under ``mpiexec -n 2``: collectives, DistributedDataParallel, SyncBatchNorm, the sampler,
and a failing rank that must end the whole run. Skipped without MPI (the skip says what to install)."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from minidl.distributed import INSTALL, is_mpi_available, launch

HERE = Path(__file__).parent

try:
    MPIEXEC = launch.find_mpiexec()
except FileNotFoundError:
    MPIEXEC = None

pytestmark = pytest.mark.skipif(MPIEXEC is None or not is_mpi_available(),
                                reason=f"needs MPI: {INSTALL}")


def mpiexec(script, *arguments, timeout=120):
    """Run ``python script arguments`` on 2 ranks (1 thread each); returns the CompletedProcess."""
    return subprocess.run([MPIEXEC, "-n", "2", sys.executable, str(script), *map(str, arguments)],
                          env=launch.environment(2), capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def checks(tmp_path_factory):
    out = tmp_path_factory.mktemp("mpi") / "checks.json"
    done = mpiexec(HERE / "mpi_checks.py", out)
    assert done.returncode == 0, f"mpi_checks.py failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return json.loads(out.read_text(encoding="utf-8"))


def test_collectives_combine_the_ranks_values_in_place(checks):
    # rank 0 holds [1, 0, 3], rank 1 holds [2, -2, 3]
    assert checks["all_reduce"] == {"SUM": [3, -2, 6], "AVG": [1.5, -1, 3], "MAX": [2, 0, 3], "MIN": [1, -2, 3],
                                    "PRODUCT": [2, 0, 9]}
    assert checks["all_reduce_bool_max"] == [True, False, True]
    assert checks["all_reduce_float16"] == [True, [2.0]]
    assert checks["all_reduce_int64"] == [3, 20]
    assert checks["broadcast_from_1"] == [[1, 1], [1, 1]]
    assert checks["all_gather"] == [[0, 10], [1, 11]]


def test_mismatched_shapes_name_the_ranks_and_shapes(checks):
    message = checks["mismatch_message"]
    assert message and "all_reduce" in message and "rank 0: shape (3,)" in message and "rank 1: shape (4,)" in message


def test_initial_weights_are_rank_0s_on_every_rank(checks):
    assert checks["broadcast_weights_equal"]
    assert checks["weights_changed_by_rank"] == [False, True]
    assert checks["state_dict_keys"] == ["module.0.weight", "module.0.bias", "module.2.weight", "module.2.bias"]


def test_ddp_for_20_steps_equals_one_process_on_the_concatenated_batch(checks):
    assert checks["ddp_steps"] == 20
    assert checks["ddp_vs_single_weights"] < 1e-10
    assert checks["ddp_vs_single_losses"] < 1e-10
    assert checks["ranks_agree_after_training"] == 0.0


def test_no_sync_accumulation_equals_one_larger_batch(checks):
    assert checks["no_sync_vs_large_batch"] < 1e-12
    assert checks["no_sync_left_ranks_apart"] > 1e-3  # inside no_sync the gradients really were local


def test_sync_batchnorm_trains_as_batchnorm_on_the_whole_batch_and_plain_batchnorm_does_not(checks):
    assert checks["sync_batchnorm_vs_single"] < 1e-10
    assert checks["plain_batchnorm_vs_single"] > 1e-4


@pytest.mark.parametrize("length", [10, 11])
def test_sampler_shards_are_disjoint_and_cover_the_data(checks, length):
    first, second = checks[f"sampler_shards_{length}"]
    assert len(first) == len(second) == -(-length // 2)
    assert sorted(set(first) | set(second)) == list(range(length))
    overlap = set(first) & set(second)
    assert len(overlap) == 2 * len(first) - length  # only the padding repeats an index


def test_models_that_differ_are_named(checks):
    message = checks["model_mismatch_message"]
    assert message and "'weight'" in message and "(3, 4)" in message and "(5, 4)" in message and "rank 1" in message


def test_unused_parameters_are_found_or_named(checks):
    assert checks["unused_found_grads_equal"] == 0.0
    message = checks["unused_message"]
    assert message and "spare.weight" in message and "find_unused_parameters=True" in message


def test_a_rank_that_raises_ends_the_run_quickly_with_its_message(tmp_path):
    script = tmp_path / "fails.py"
    script.write_text("import time\nimport minidl.distributed as dist\n"
                      "dist.init_process_group('mpi')\n"
                      "if dist.get_rank() == 1:\n    raise RuntimeError('rank one cannot go on')\n"
                      "dist.barrier()\ntime.sleep(600)\n", encoding="utf-8")
    started = time.perf_counter()
    done = mpiexec(script, timeout=60)
    elapsed = time.perf_counter() - started
    assert done.returncode != 0
    assert elapsed < 30
    assert "rank 1 of 2 failed" in done.stderr and "RuntimeError: rank one cannot go on" in done.stderr


def test_launch_runs_the_script_and_stops_every_rank_when_one_exits_with_an_error(tmp_path):
    script = tmp_path / "exits.py"
    script.write_text("import pathlib, sys, time\nimport minidl.distributed as dist\n"
                      "dist.init_process_group()\nrank = dist.get_rank()\n"
                      "pathlib.Path(__file__).with_name(f'rank{rank}.txt').write_text(repr(sys.argv[1:]))\n"
                      "dist.barrier()\n"
                      "if rank == 0:\n    sys.exit(3)\ntime.sleep(600)\n", encoding="utf-8")
    started = time.perf_counter()
    done = launch.launch(2, script, ["--flag", "x"], capture_output=True, text=True, timeout=60)
    assert time.perf_counter() - started < 30
    assert done.returncode != 0
    for rank in range(2):
        assert (tmp_path / f"rank{rank}.txt").read_text() == "['--flag', 'x']"
    assert "rank 0 of 2 failed" in done.stderr and "exited with 3" in done.stderr
