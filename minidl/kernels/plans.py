"""Choosing the thread plan of a training loop by timing its first steps.

A thread plan (kernels/threads.py) says who runs on the cores: minidl's threads, BLAS's, or
one thread alone. The fastest depends on the workload as a whole: a CNN spends its time in
passes over big activations that only minidl's threads share out, an MLP in products that
BLAS's threads run best, and mixing the two pools slows both (an OpenBLAS worker keeps
spinning after each product). Timing each product or pass alone cannot see that, so minidl
times whole steps: the optimizer reports each step's end (``step_finished``); after a
warm-up step, each plan runs ROUNDS steps in turn, and the plan whose fastest step was
fastest stays, remembered for this model's parameter shapes, thread count and machine
(kernels/tuning.py). Later runs of the same model start with it.

Models whose steps take under SMALL_STEP_SECONDS keep the default plan: there is too
little work to share out for the plan to matter. ``threads.set_plan`` (or
``MINIDL_THREAD_PLAN``) fixes the plan and turns the choosing off; so does ``MINIDL_TUNING=off``.
"""

from __future__ import annotations

import os
import time

from minidl.kernels import threads, tuning

#: timed steps per plan while choosing (the fastest of them counts)
ROUNDS = 2
#: steps faster than this keep the default plan
SMALL_STEP_SECONDS = 0.005

_trials = {}  # key -> _Trial, while a model's plan is being chosen


class _Trial:
    """The schedule of one model's plan trial: the plan of each coming step, and their times."""

    def __init__(self):
        self.schedule = [plan for _ in range(ROUNDS) for plan in threads.PLANS]
        self.times = {plan: [] for plan in threads.PLANS}
        self.running = None      # the plan of the step now running; None during the warm-up step
        self.last = None         # when the previous step finished


def choosing():
    """True when plans are chosen by timing: more than one thread, measuring on, no fixed plan."""
    return (threads.get_num_threads() > 1 and tuning.measuring()
            and os.environ.get("MINIDL_THREAD_PLAN") not in threads.PLANS and not threads._plan_fixed)


def step_finished(parameters):
    """Called by the optimizer at the end of each step, with the arrays it updated."""
    if not choosing():
        return
    key = ("plan", threads.get_num_threads(), sorted([list(p.shape), p.dtype.str] for p in parameters))
    chosen = tuning.remembered(key)
    if chosen in threads.PLANS:
        if threads.get_plan() != chosen:
            threads._use_plan(chosen)
        return
    now = time.perf_counter()
    trial = _trials.setdefault(_text(key), _Trial())
    if trial.last is None:  # the first step ends: the next one is the warm-up
        trial.last = now
        return
    seconds, trial.last = now - trial.last, now
    if trial.running is None and seconds < SMALL_STEP_SECONDS:
        _decide(key, threads.PLANS[0])
        return
    if trial.running is not None:
        trial.times[trial.running].append(seconds)
    if trial.schedule:
        trial.running = trial.schedule.pop(0)
        threads._use_plan(trial.running)
        trial.last = time.perf_counter()  # the plan switch itself is not counted
        return
    _decide(key, min(threads.PLANS, key=lambda plan: min(trial.times[plan])))


def _decide(key, plan):
    _trials.pop(_text(key), None)
    tuning.remember(key, plan)
    threads._use_plan(plan)


def _text(key):
    return repr(key)
