"""Without MPI, chapter 09 still runs (its 1-process parts) and records what it skipped, and the tour lists
such lines under its table."""

import json
import os
import subprocess
import sys

from minidl.course import tour


def test_chapter_09_says_what_it_skipped_without_mpi(tmp_path):
    hidden = tmp_path / "hidden"
    (hidden / "mpi4py").mkdir(parents=True)
    (hidden / "mpi4py" / "__init__.py").write_text("raise ImportError('mpi4py is hidden in this test')\n")
    environment = dict(os.environ, MPLBACKEND="Agg", MINIDL_RUNS=str(tmp_path),
                       PYTHONPATH=os.pathsep.join([str(hidden), os.environ.get("PYTHONPATH", "")]))
    _, path, _ = tour.find(9)
    done = subprocess.run([sys.executable, str(path), "--quick"], cwd=tmp_path, env=environment,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    result = json.loads((tmp_path / "chapters" / "09" / "result.json").read_text(encoding="utf-8"))
    assert result["results"]["skipped"] == "the 2-process run (MPI is not installed: pip install mpi4py mpich)"
    assert "loss_curve_max_difference" not in result["results"]
    assert "skipped: the 2-process run" in done.stdout


def test_the_tour_lists_what_chapters_skipped(tmp_path, monkeypatch, capsys):
    checkout = tmp_path / "checkout"
    (checkout / "benchmarks").mkdir(parents=True)
    (checkout / "chapters").mkdir()
    (checkout / "chapters" / "98_a_part_left_out.py").write_text(
        "# # A part left out\n"
        "from minidl.course.chapter import Chapter\n"
        "chapter = Chapter(98, 'A part left out')\n"
        "chapter.check(True, 'runs')\n"
        "chapter.record('skipped', 'the part that needs a thing that is not installed')\n"
        "chapter.finish()\n", encoding="utf-8")
    monkeypatch.setenv("MINIDL_HOME", str(checkout))
    monkeypatch.setenv("MINIDL_RUNS", str(tmp_path / "runs"))
    monkeypatch.setattr(tour, "RUNS", tmp_path / "runs" / "chapters")
    assert tour.tour() == 0
    assert "chapter 98 skipped the part that needs a thing that is not installed" in capsys.readouterr().out
