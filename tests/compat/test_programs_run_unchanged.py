"""Programs written for PyTorch, in the style of its popular tutorials and examples, run on minidl
with only their imports changed (``program_runner.on_minidl``), and give PyTorch's losses when both
start from the same weights."""

import numpy as np
import pytest

import program_runner

PROGRAMS = program_runner.names()


def test_only_import_lines_change():
    source = ("import torch\nimport torch.nn as nn\nfrom torch.nn import functional as F\nimport torch.nn\n"
              "    from torch.utils.data import DataLoader\nx = torch.nn.Linear  # import torch stays\n")
    assert program_runner.on_minidl(source).splitlines() == [
        "import minidl as torch", "import minidl.nn as nn", "from minidl.nn import functional as F",
        "import minidl.nn; import minidl as torch", "    from minidl.utils.data import DataLoader",
        "x = torch.nn.Linear  # import torch stays"]


@pytest.mark.parametrize("name", PROGRAMS)
def test_the_program_runs_on_minidl(name, tmp_path, capsys):
    losses, evaluations, weights = program_runner.run(name, "minidl", work_folder=tmp_path)
    assert len(losses) > 3 and np.all(np.isfinite(losses)) and np.all(np.isfinite(evaluations))


@pytest.mark.parametrize("name", PROGRAMS)
def test_the_program_gives_pytorchs_losses(name, tmp_path, capsys):
    pytest.importorskip("torch", reason='parity needs PyTorch: pip install -e ".[torch]"')
    start = program_runner.run(name, "torch", work_folder=tmp_path)[2]  # PyTorch's weights after a run
    theirs = program_runner.run(name, "torch", initial_weights=start, work_folder=tmp_path)
    ours = program_runner.run(name, "minidl", initial_weights=start, work_folder=tmp_path)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=2e-3, atol=2e-4, err_msg=f"{name}: training losses")
    np.testing.assert_allclose(ours[1], theirs[1], rtol=2e-3, atol=2e-4, err_msg=f"{name}: evaluations")
