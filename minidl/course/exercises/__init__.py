"""Exercises for every chapter, graded automatically.

``minidl exercise N`` writes ``exercises_NN.py`` (stubs with instructions) into the current
folder, never over an existing file; ``minidl check N [file]`` grades it: each answer is
compared with a reference solution or with finite differences, and a failure names the
exercise, the element, the expected value and what came back, with one hint.

Each chapter's exercises are one module here, ``chapter_NN.py`` (see ``checker``); the
reference solutions live in those modules, the grading tools in ``grading``.
"""

from minidl.course.exercises.checker import chapters, check, grade, load, main, report, solutions, workbook, write

__all__ = ["chapters", "check", "grade", "load", "main", "report", "solutions", "workbook", "write"]
