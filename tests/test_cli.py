"""The ``minidl`` command: ``info``, ``demo`` and how it reports errors."""

import pathlib
import subprocess
import sys

import numpy as np
import pytest

import minidl
from minidl import cli, info
from minidl.course import demo

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]


def status_lines(text):
    """The PASS/FAIL/SKIP lines of an info report, keyed by backend."""
    lines = {}
    for line in text.splitlines():
        parts = line.split()
        if parts and parts[0] in ("PASS", "FAIL", "SKIP"):
            lines[parts[1]] = parts[0]
    return lines


# ---------------------------------------------------------------- info

def test_info_passes_on_cpu_and_strict(capsys):
    code = cli.main(["info"])
    out = capsys.readouterr().out
    statuses = status_lines(out)
    assert statuses["cpu"] == "PASS"
    assert statuses["strict"] == "PASS"
    assert statuses["cuda"] in ("PASS", "SKIP")
    assert code == 0


def test_info_names_every_version():
    text = info.report(checks=[])
    for label in ("minidl", "Python", "Platform", "NumPy", "BLAS", "CuPy", "CUDA", "PyTorch", "Kernels"):
        assert any(line.startswith(label + " ") for line in text.splitlines()), label


def test_info_says_whether_kernels_are_on():
    assert f"Kernels    on, {len(minidl.core.dispatch.registered())} registered" in info.report(checks=[])
    with minidl.use_kernels(False):
        assert "Kernels    off (textbook ops only)" in info.report(checks=[])


def test_info_expected_gradient_matches_finite_differences():
    x = np.random.default_rng(1).standard_normal((4, 3))

    def f(a):
        return (np.tanh(a) @ a.T).sum()

    eps = 1e-6
    numeric = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = eps
        numeric[index] = (f(x + step) - f(x - step)) / (2 * eps)
    assert np.allclose(info.expected_gradient(x), numeric, atol=1e-7)


def test_info_fails_and_exits_1_when_a_gradient_is_wrong(monkeypatch, capsys):
    monkeypatch.setattr(info, "expected_gradient", lambda x: 2 * np.ones_like(x))
    code = cli.main(["info"])
    statuses = status_lines(capsys.readouterr().out)
    assert statuses["cpu"] == "FAIL"
    assert code == 1


def test_python_m_minidl_info_runs():
    result = subprocess.run([sys.executable, "-m", "minidl", "info"], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert status_lines(result.stdout)["cpu"] == "PASS"


# ---------------------------------------------------------------- demo

def test_demo_quick_run_learns_the_spiral(tmp_path):
    result = demo.run(epochs=50, seed=0, out_dir=str(tmp_path), progress=False, verbose=False)
    assert result["test_accuracy"] >= 0.7  # chance is 1/3
    assert len(result["losses"]) == 50
    assert result["losses"][-1] < result["losses"][0]
    figure = pathlib.Path(result["figure"])
    assert figure.parent == tmp_path and figure.stat().st_size > 0


def test_spiral_is_balanced_and_split_keeps_every_point_once():
    points, labels = demo.spiral(points_per_class=50, seed=1)
    assert points.shape == (150, 2) and points.dtype == np.float32
    assert np.bincount(labels).tolist() == [50, 50, 50]
    (train_x, train_y), (test_x, test_y) = demo.split(points, labels, test_fraction=0.2)
    assert len(train_y) == 120 and len(test_y) == 30
    rejoined = np.concatenate([train_x, test_x])
    assert np.array_equal(np.unique(rejoined, axis=0), np.unique(points, axis=0))


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("argv", [["frobnicate"], []])
def test_unknown_or_missing_subcommand_fails(argv, capsys):
    assert cli.main(argv) != 0
    assert "usage: minidl" in capsys.readouterr().err


def test_help_exits_0(capsys):
    assert cli.main(["--help"]) == 0
    assert "demo" in capsys.readouterr().out


def assert_one_line_error(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("minidl: error: ")
    assert "Traceback" not in err


def test_user_error_prints_one_line_without_traceback(capsys):
    assert cli.main(["demo", "--epochs", "0", "--no-plot"]) == 2
    captured = capsys.readouterr()
    assert_one_line_error(captured.err)
    assert "epochs must be a positive integer" in captured.err


def test_minidl_error_from_a_subcommand_is_one_line(monkeypatch, capsys):
    def broken():
        raise minidl.DeviceError("device 'cuda': no GPU\nwas found")

    monkeypatch.setattr(info, "main", broken)
    assert cli.main(["info"]) == 2
    err = capsys.readouterr().err
    assert_one_line_error(err)
    assert "no GPU was found" in err


def test_gradcheck_command_checks_every_op(capsys):
    from minidl.cli import main
    assert main(["gradcheck"]) == 0
    out = capsys.readouterr().out
    assert "every gradient check passed" in out and "softmax" in out and "matmul" in out


def test_profile_command_breaks_a_workload_step_into_stages(capfd):
    """`minidl profile M` runs benchmarks/breakdown.py: minidl's step by stage, adding up to the step."""
    import json
    assert cli.main(["profile", "M", "--steps", "2", "--json"]) == 0
    report = json.loads(capfd.readouterr().out.strip().splitlines()[-1])
    stages = report["minidl"]["stages"]
    assert stages["matrix products"] > 0 and stages["step"] > 0
    assert sum(ms for name, ms in stages.items() if name != "step") == pytest.approx(stages["step"])
    assert {"linear", "linear_backward", "relu", "cross_entropy"} <= set(report["minidl"]["ops"])


@pytest.mark.parametrize("argv", [["chapters"], ["run", "1", "--quick"], ["bench", "--list"], ["profile", "M"]])
def test_commands_that_need_the_checkout_say_so_outside_one(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MINIDL_HOME", raising=False)
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert_one_line_error(err)
    assert "run this command inside the checkout" in err and "MINIDL_HOME" in err


def test_minidl_home_points_at_the_checkout_from_anywhere(tmp_path, monkeypatch, capsys):
    from minidl.course import tour
    checkout = tour.repository()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MINIDL_HOME", str(checkout))
    assert tour.repository() == checkout
    monkeypatch.setenv("MINIDL_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="is not a minidl checkout"):
        tour.repository()


# ---------------------------------------------------------------- exercises, and chapter 00

def test_help_lists_the_exercise_and_check_commands(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "exercise" in out and "check" in out


def test_exercise_refuses_to_overwrite_with_a_one_line_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["exercise", "1"]) == 0
    assert cli.main(["exercise", "1"]) == 2
    err = capsys.readouterr().err
    assert_one_line_error(err)
    assert "exercises_01.py already exists" in err


def test_chapter_00_comes_first_and_runs_by_its_number(tmp_path, monkeypatch):
    from minidl.course import tour
    number, path, _ = tour.chapters()[0]
    assert number == 0 and path.name == "00_building_the_engine.py" and tour.find(0)[1] == path
    monkeypatch.setenv("MINIDL_RUNS", str(tmp_path))
    assert cli.main(["run", "0", "--quick"]) == 0
    assert (tmp_path / "chapters" / "00" / "result.json").exists()
