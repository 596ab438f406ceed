"""Every chapter runs in quick mode and asserts the result it promises (as CI does)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from minidl.course import tour

CHAPTERS = [entry for entry in tour.chapters()]


@pytest.mark.parametrize("number,path,title", CHAPTERS, ids=[f"{n:02d}" for n, _, _ in CHAPTERS])
def test_chapter_runs_in_quick_mode(number, path, title, tmp_path):
    environment = dict(os.environ, MPLBACKEND="Agg", MINIDL_RUNS=str(tmp_path))
    done = subprocess.run([sys.executable, str(path), "--quick"], cwd=tmp_path, env=environment,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"chapter {number:02d} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    result = json.loads((tmp_path / "chapters" / f"{number:02d}" / "result.json").read_text(encoding="utf-8"))
    assert result["mode"] == "quick" and result["checks"], "a chapter must check at least one promised result"
    for figure in result["figures"]:
        assert Path(figure).exists() or Path(figure).with_suffix(".dot").exists(), f"missing figure {figure}"


def test_cli_lists_chapters_with_their_summaries(capsys):
    from minidl.cli import main
    assert main(["chapters"]) == 0
    listing = capsys.readouterr().out
    for number, path, title in CHAPTERS:
        assert f"{number:02d}  {title}" in listing
        assert tour.summary(path), f"chapter {number:02d} has no one-line summary under its title"
        assert tour.summary(path) in listing
    assert main(["run", "99"]) == 2
