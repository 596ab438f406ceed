"""The exercises of every chapter: finding them, writing a learner's file, grading it.

Each chapter's exercises are one module of this package, ``chapter_NN.py``, holding

* ``TITLE``: the chapter's title;
* ``PREAMBLE``: the imports the learner's file starts with;
* ``EXERCISES``: a list of :class:`~minidl.course.exercises.grading.Exercise`, each a
  reference solution (whose name, signature and docstring become the learner's stub)
  and the function that grades an answer.

Adding a chapter's exercises is adding its module: :func:`chapters` finds it.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import io
import pkgutil
import re
import sys
import textwrap
import traceback
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from minidl.course.exercises.grading import Mistake

_MODULE = re.compile(r"chapter_(\d\d)$")


def chapters():
    """The chapter numbers that have exercises, in order: the chapter_NN modules of this package."""
    package = sys.modules[__package__]  # minidl.course.exercises, imported before this module
    found = (_MODULE.match(module.name) for module in pkgutil.iter_modules(package.__path__))
    return sorted(int(match.group(1)) for match in found if match)


def chapter(number):
    """The exercise module of chapter ``number``; a ValueError naming the chapters that have exercises."""
    if isinstance(number, bool) or not isinstance(number, int) or number not in chapters():
        known = ", ".join(f"{n:02d}" for n in chapters())
        raise ValueError(f"there are no exercises for chapter {number!r}; the chapters with exercises are {known}")
    return importlib.import_module(f"minidl.course.exercises.chapter_{number:02d}")


def file_name(number):
    """The learner's file of chapter ``number``: exercises_NN.py."""
    return f"exercises_{int(number):02d}.py"


# ---------------------------------------------------------------- the learner's file

def stub(exercise):
    """The learner's version of one exercise: the solution's signature and instructions, no body."""
    solution = exercise.solution
    instructions = textwrap.indent(inspect.getdoc(solution), "    ")
    return (f"def {solution.__name__}{inspect.signature(solution)}:\n"
            f'    """{instructions.strip()}\n    """\n'
            f'    raise NotImplementedError("{solution.__name__}: write your answer here")\n')


def workbook(number):
    """The text of chapter ``number``'s exercise file, with one stub per exercise."""
    module = chapter(number)
    name = file_name(number)
    listing = "\n".join(f"#   {index}. {exercise.name}" for index, exercise in enumerate(module.EXERCISES, 1))
    header = (f"# Exercises for chapter {number:02d}: {module.TITLE}\n#\n"
              f"# Replace each `raise NotImplementedError(...)` by your answer; the docstring says what to\n"
              f"# write. Then grade your answers (from the folder that holds this file):\n#\n"
              f"#     minidl check {number}              (or: python {name})\n#\n"
              f"# Each answer is compared with a reference or with finite differences; on a failure\n"
              f"# the checker names the exercise, the element, the expected value and what you got,\n"
              f"# and gives one hint. Arrays are NumPy float64 arrays unless the docstring says else.\n"
              f"#\n# The exercises:\n{listing}\n\n")
    body = "\n\n".join(stub(exercise) for exercise in module.EXERCISES)
    footer = (f'\n\nif __name__ == "__main__":\n    from minidl.course.exercises import main\n\n'
              f"    raise SystemExit(main({number}))\n")
    return header + module.PREAMBLE.strip() + "\n\n\n" + body + footer


def write(number, folder="."):
    """Write chapter ``number``'s exercise file into ``folder``; never over an existing file."""
    text = workbook(number)
    path = Path(folder) / file_name(number)
    try:
        with open(path, "x", encoding="utf-8") as file:
            file.write(text)
    except FileExistsError:
        raise FileExistsError(f"{path} already exists and is never overwritten: grade it with "
                              f"`minidl check {number}`, or rename it to start afresh") from None
    return path


# ---------------------------------------------------------------- grading

@dataclass
class Outcome:
    """How one exercise went: status is "pass", "FAIL", "error", "to do" (a stub) or "missing"."""

    name: str
    status: str
    message: str = ""
    hint: str = ""


def load(path):
    """The learner's file as a module, or the one-line reason it cannot be loaded (a str)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; write the exercise file first with `minidl exercise N`")
    spec = importlib.util.spec_from_file_location(f"minidl_answers_{uuid.uuid4().hex}", path)
    if spec is None:
        raise ValueError(f"{path} is not a Python file: the checker grades a .py file such as {file_name(0)}")
    module = importlib.util.module_from_spec(spec)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            spec.loader.exec_module(module)
    except SyntaxError as error:
        return f"{path.name} line {error.lineno}: SyntaxError: {error.msg}"
    except Exception as error:  # noqa: BLE001  (the learner's file: report whatever it raised)
        return f"{path.name} line {_line_in(path, error)}: {type(error).__name__}: {error}"
    return module


def grade(number, answers):
    """One Outcome per exercise of chapter ``number``; ``answers`` is a module (or anything with the
    functions as attributes), or a str saying why the learner's file could not be loaded."""
    outcomes = []
    for exercise in chapter(number).EXERCISES:
        if isinstance(answers, str):
            outcomes.append(Outcome(exercise.name, "error", f"the file could not be loaded: {answers}",
                                    "fix that line first; every exercise is graded once the file loads"))
            continue
        answer = getattr(answers, exercise.name, None)
        if not callable(answer):
            outcomes.append(Outcome(exercise.name, "missing", f"there is no function {exercise.name}",
                                    "keep the function names of the exercise file"))
            continue
        outcomes.append(_grade_one(exercise, answer))
    return outcomes


def _grade_one(exercise, answer):
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            exercise.grade(answer)
    except Mistake as mistake:
        return Outcome(exercise.name, "FAIL", f"{exercise.name}: {mistake.describe()}", mistake.hint)
    except NotImplementedError as error:
        if str(error).startswith(f"{exercise.name}:"):
            return Outcome(exercise.name, "to do", f"{exercise.name}: not written yet", exercise.hint)
        return Outcome(exercise.name, "error", f"{exercise.name}: it calls a function not written yet ({error})",
                       "write that function first (the exercises build on each other)")
    except RecursionError:
        return Outcome(exercise.name, "error", f"{exercise.name}: RecursionError (Python's recursion limit)",
                       "walk the graph with a list used as a stack instead of recursive calls")
    except Exception as error:  # noqa: BLE001  (the learner's code: report whatever it raised)
        where = _learner_line(error)
        return Outcome(exercise.name, "error", f"{exercise.name}: raised {type(error).__name__}: {error}{where}",
                       exercise.hint)
    return Outcome(exercise.name, "pass")


def _learner_line(error):
    """' (file, line N)' of the deepest frame outside the minidl package: where the learner's code raised."""
    package = Path(importlib.util.find_spec("minidl").submodule_search_locations[0]).resolve()
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if package not in Path(frame.filename).resolve().parents]
    return f" ({Path(frames[-1].filename).name}, line {frames[-1].lineno})" if frames else ""


def _line_in(path, error):
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if Path(frame.filename).resolve() == path.resolve()]
    return frames[-1].lineno if frames else "?"


def report(number, outcomes, source=""):
    """The table of outcomes, then each failure with its message and hint."""
    passed = sum(outcome.status == "pass" for outcome in outcomes)
    width = max(len(outcome.name) for outcome in outcomes) + 2
    lines = [f"chapter {number:02d} exercises{f' ({source})' if source else ''}: {passed} of {len(outcomes)} pass",
             "", f"  {'exercise':<{width}}result", f"  {'-' * (width + 8)}"]
    lines += [f"  {outcome.name:<{width}}{outcome.status}" for outcome in outcomes]
    for outcome in outcomes:
        if outcome.status != "pass":
            lines += ["", f"{outcome.message}", f"  hint: {outcome.hint}"]
    return "\n".join(lines)


def check(number, path=None):
    """Grade the learner's file of chapter ``number`` (default: exercises_NN.py here) and print the
    report; returns 0 when every exercise passes, 1 otherwise."""
    chapter(number)  # an unknown chapter is a usage error before anything is read
    path = Path(path) if path is not None else Path(file_name(number))
    outcomes = grade(number, load(path))
    print(report(number, outcomes, path.name))
    return 0 if all(outcome.status == "pass" for outcome in outcomes) else 1


def main(number, path=None):
    """What ``python exercises_NN.py`` runs: the checker on that file (the script run, by default)."""
    return check(number, sys.argv[0] if path is None else path)


def solutions(number):
    """The reference solutions of chapter ``number`` as a namespace (what a full marks file holds)."""
    return SimpleNamespace(**{exercise.name: exercise.solution for exercise in chapter(number).EXERCISES})
