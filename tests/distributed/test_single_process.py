"""minidl.distributed in one process, with and without MPI: the world of one, the collectives' checks and
errors, the host-copy paths of more ranks (through an in-process twin communicator), and the launcher."""

import subprocess
import sys

import numpy as np
import pytest

import minidl
import minidl.distributed as dist
from minidl.cli import main
from minidl.core.errors import ShapeError
from minidl.distributed import launch, world

from fake_world import twin_group

needs_mpi4py = pytest.mark.skipif(not dist.is_mpi_available(), reason=f"needs MPI: {dist.INSTALL}")


@pytest.fixture
def no_mpi(monkeypatch):
    """As if mpi4py were not installed and no launcher had started this process."""
    monkeypatch.setattr(world, "is_mpi_available", lambda: False)
    for name in world.LAUNCH_SIZE_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(params=["without MPI", "with MPI"])
def world_of_one(request, monkeypatch):
    if request.param == "without MPI":
        request.getfixturevalue("no_mpi")
    elif not dist.is_mpi_available():
        pytest.skip(f"needs MPI: {dist.INSTALL}")
    group = dist.init_process_group("mpi")
    yield group
    dist.destroy_process_group()


def test_a_single_process_is_rank_0_of_a_world_of_one(world_of_one):
    assert dist.is_available() and dist.is_initialized()
    assert (dist.get_rank(), dist.get_world_size(), dist.get_backend()) == (0, 1, "mpi")
    assert (world_of_one.comm is None) == (not world.is_mpi_available())


def test_collectives_in_a_world_of_one_keep_the_values(world_of_one):
    for op in dist.ReduceOp:
        t = minidl.tensor([1.5, -2.0])
        version = t._version[0]
        assert dist.all_reduce(t, op=op) is None
        assert t.tolist() == [1.5, -2.0] and t._version[0] > version
    t = minidl.tensor([3.0])
    work = dist.broadcast(t, src=0, async_op=True)
    assert work.wait() and work.is_completed() and t.tolist() == [3.0]
    gathered = [minidl.zeros(2, 2)]
    dist.all_gather(gathered, minidl.ones(2, 2))
    assert gathered[0].tolist() == [[1, 1], [1, 1]]
    dist.barrier()


def test_without_a_process_group_every_function_says_to_initialise(no_mpi):
    for call in (dist.get_rank, dist.get_world_size, dist.barrier, lambda: dist.all_reduce(minidl.ones(1)),
                 dist.destroy_process_group):
        with pytest.raises(ValueError, match="init_process_group"):
            call()
    assert not dist.is_initialized()


def test_init_process_group_refuses_what_mpi_cannot_do(no_mpi):
    with pytest.raises(ValueError, match="backend must be 'mpi'.*'nccl'"):
        dist.init_process_group("nccl")
    with pytest.raises(ValueError, match="init_method"):
        dist.init_process_group("mpi", init_method="tcp://10.0.0.1:23456")
    with pytest.raises(ValueError, match="world_size=2 was given.*world_size 1"):
        dist.init_process_group("mpi", world_size=2, rank=0)
    assert not dist.is_initialized()
    dist.init_process_group()
    try:
        with pytest.raises(RuntimeError, match="twice"):
            dist.init_process_group()
    finally:
        dist.destroy_process_group()


def test_a_launch_of_several_processes_without_mpi4py_says_what_to_install(no_mpi, monkeypatch):
    monkeypatch.setenv("PMI_SIZE", "2")
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # makes `from mpi4py import MPI` fail
    with pytest.raises(ImportError, match="the MPI backend needs mpi4py.*`pip install mpi4py mpich`"):
        dist.init_process_group("mpi")
    assert not dist.is_initialized()


def test_the_mpi_import_error_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # makes `from mpi4py import MPI` fail
    with pytest.raises(ImportError, match=r"`pip install mpi4py mpich`"):
        world.mpi()
    assert not world.is_mpi_available()


def test_collective_arguments_are_checked(world_of_one):
    with pytest.raises(TypeError, match="all_reduce: expected a minidl Tensor, got ndarray"):
        dist.all_reduce(np.ones(2))
    with pytest.raises(ValueError, match="all_reduce: op must be a ReduceOp"):
        dist.all_reduce(minidl.ones(2), op="sum")
    with pytest.raises(TypeError, match="AVG needs a floating-point tensor, got dtype int64"):
        dist.all_reduce(minidl.tensor([1, 2]), op=dist.ReduceOp.AVG)
    with pytest.raises(ValueError, match="broadcast: src must be a rank from 0 to 0, got 1"):
        dist.broadcast(minidl.ones(2), src=1)
    with pytest.raises(ValueError, match="tensor_list must be a list of 1 tensors .* got 2"):
        dist.all_gather([minidl.ones(2), minidl.ones(2)], minidl.ones(2))
    with pytest.raises(ShapeError, match=r"tensor_list\[0\] has shape \(3,\)"):
        dist.all_gather([minidl.ones(3)], minidl.ones(2))


@needs_mpi4py
def test_two_ranks_shapes_that_differ_are_named():
    group = twin_group(others=((4, 2), "minidl.float32"))
    with pytest.raises(ShapeError, match=r"all_reduce: .* rank 0: shape \(3,\) minidl.float32; rank 1: shape "
                                         r"\(4, 2\) minidl.float32"):
        dist.all_reduce(minidl.ones(3), group=group)
    assert group.comm.calls == []  # nothing was sent


@needs_mpi4py
@pytest.mark.parametrize("device", ["cpu", "strict"])
@pytest.mark.parametrize("dtype", [minidl.float32, minidl.float16, minidl.int64, minidl.bool])
def test_two_ranks_reduce_through_host_copies_of_any_layout(device, dtype):
    group = twin_group()
    values = np.array([[1, 0, 3], [0, 2, 1]])
    t = minidl.tensor(values.T, dtype=dtype).to(device)  # a transposed, non-contiguous view
    dist.all_reduce(t, group=group)
    expected = values.T.astype(bool) if dtype == minidl.bool else 2 * values.T
    assert t.dtype == dtype and t.device == minidl.Device(device)
    np.testing.assert_array_equal(t.cpu().numpy(), expected)
    if dtype in (minidl.float32, minidl.float16):
        dist.all_reduce(t, op=dist.ReduceOp.AVG, group=group)
        np.testing.assert_array_equal(t.cpu().numpy(), expected)


def test_launcher_finds_mpiexec_or_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(launch.sysconfig, "get_path", lambda name: str(tmp_path))
    monkeypatch.setattr(launch.shutil, "which", lambda name: None)
    with pytest.raises(FileNotFoundError, match="no mpiexec found.*`pip install mpi4py mpich`"):
        launch.find_mpiexec()


def test_launcher_divides_the_cores_between_the_ranks(monkeypatch):
    monkeypatch.setattr(launch, "usable_cores", lambda: 8)
    env = launch.environment(8, base={})
    assert env["OMP_NUM_THREADS"] == "1" and env["MINIDL_THREAD_PLAN"] == "one thread"
    env = launch.environment(2, base={"OMP_NUM_THREADS": "3"})
    assert env["OMP_NUM_THREADS"] == "3" and "MINIDL_THREAD_PLAN" not in env


def test_minidl_launch_explains_what_is_missing(monkeypatch, tmp_path, capsys):
    script = tmp_path / "train.py"
    script.write_text("print('hello')\n", encoding="utf-8")
    monkeypatch.setattr(world, "is_mpi_available", lambda: False)
    assert main(["launch", "-n", "2", str(script)]) == 2
    assert "pip install mpi4py mpich" in capsys.readouterr().err
    assert main(["launch", "-n", "2", str(tmp_path / "missing.py")]) == 2
    assert "no script" in capsys.readouterr().err
    assert main(["launch", "-n", "0", str(script)]) == 2
    assert "-n must be a positive number" in capsys.readouterr().err


def test_the_runner_runs_a_script_as_python_would(tmp_path):
    script = tmp_path / "show.py"
    (tmp_path / "helper.py").write_text("VALUE = 42\n", encoding="utf-8")
    script.write_text("import sys\nimport helper\nprint(__name__, sys.argv[1:], helper.VALUE)\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "minidl.distributed.run", str(script), "a", "--b"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "__main__ ['a', '--b'] 42"
