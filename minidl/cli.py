"""The ``minidl`` command (also ``python -m minidl``).

Each subcommand is one entry in :data:`COMMANDS`: a help line, a function that
adds its arguments to an argparse parser, and a function that runs it and
returns the exit code. Adding a subcommand means adding one entry.

Errors a user causes (a :class:`minidl.MinidlError` or ``ValueError`` raised by
a subcommand) are printed as one line ``minidl: error: ...`` with exit code 2,
without a traceback; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import sys

from minidl.core.errors import MinidlError

USER_ERRORS = (MinidlError, ValueError, FileNotFoundError, FileExistsError)


# ---------------------------------------------------------------- subcommands

def _info_arguments(parser):
    """``minidl info`` takes no arguments."""


def _run_info(args):
    from minidl import info
    return info.main()


def _demo_arguments(parser):
    from minidl.course import demo
    parser.add_argument("--epochs", type=int, default=demo.EPOCHS,
                        help=f"passes over the training set (default {demo.EPOCHS})")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and the weights (default 0)")
    parser.add_argument("--out", default=demo.OUT_DIR,
                        help=f"folder for the figure (default {demo.OUT_DIR})")
    parser.add_argument("--no-plot", action="store_true", help="do not save the figure")


def _run_demo(args):
    from minidl.course import demo
    demo.run(epochs=args.epochs, seed=args.seed, out_dir=None if args.no_plot else args.out)
    return 0


def _no_arguments(parser):
    """The subcommand takes no arguments."""


def _run_chapters(args):
    from minidl.course import tour
    for number, path, title in tour.chapters():
        print(f"{number:02d}  {title}\n    {tour.summary(path)}")
    return 0


def _chapter_arguments(parser):
    parser.add_argument("number", type=int, help="the chapter number, e.g. 3")
    parser.add_argument("--quick", action="store_true", help="the short version (under a minute on 2 cores)")


def _run_chapter(args):
    from minidl.course import tour
    return tour.run_chapter(args.number, quick=args.quick)


def _run_tour(args):
    from minidl.course import tour
    return tour.tour()


def _bench_arguments(parser):
    parser.add_argument("arguments", nargs=argparse.REMAINDER,
                        help="passed to benchmarks/run.py (workload names, --rounds N, --list)")


def _run_bench(args):
    from minidl.course import tour
    return tour.run_benchmarks(args.arguments)


def _profile_arguments(parser):
    parser.add_argument("arguments", nargs=argparse.REMAINDER,
                        help="passed to benchmarks/breakdown.py (a workload T, C or M, --steps N, --ops N, --json)")


def _run_profile(args):
    from minidl.course import tour
    return tour.run_benchmarks(args.arguments, script="breakdown.py")


def _exercise_arguments(parser):
    parser.add_argument("number", type=int, help="the chapter number, e.g. 3")


def _run_exercise(args):
    from minidl.course import exercises
    path = exercises.write(args.number)
    print(f"wrote {path}: write your answers in it, then grade them with `minidl check {args.number}`")
    return 0


def _check_arguments(parser):
    parser.add_argument("number", type=int, help="the chapter number, e.g. 3")
    parser.add_argument("file", nargs="?", help="the file to grade (default: exercises_NN.py in this folder)")


def _run_check(args):
    from minidl.course import exercises
    return exercises.check(args.number, args.file)


def _gradcheck_arguments(parser):
    parser.add_argument("--device", default="cpu", help="cpu (default) or strict, or cuda with CuPy and a GPU")


def _run_gradcheck(args):
    from minidl.testing import table
    return table.run(args.device)


def _launch_arguments(parser):
    parser.add_argument("-n", "--nproc", type=int, required=True, metavar="N", help="the number of processes (ranks)")
    parser.add_argument("script", help="the Python script every rank runs")
    parser.add_argument("arguments", nargs=argparse.REMAINDER, help="passed to the script")


def _run_launch(args):
    from minidl.distributed import launch
    return launch.launch(args.nproc, args.script, args.arguments).returncode


COMMANDS = {
    "gradcheck": ("check the gradient of every op against finite differences, as a table",
                  _gradcheck_arguments, _run_gradcheck),
    "chapters": ("list the chapters with one-line summaries", _no_arguments, _run_chapters),
    "run": ("run one chapter (python chapters/NN_*.py)", _chapter_arguments, _run_chapter),
    "tour": ("run every chapter in quick mode, then print a table of results and figures",
             _no_arguments, _run_tour),
    "bench": ("run the benchmarks against PyTorch (and JAX) in benchmarks/", _bench_arguments, _run_bench),
    "profile": ("where a benchmark workload's training step goes, stage by stage, in minidl and PyTorch",
                _profile_arguments, _run_profile),
    "info": ("print versions (Python, NumPy, BLAS, CuPy, CUDA, PyTorch) and check each backend",
             _info_arguments, _run_info),
    "exercise": ("write chapter N's exercises into exercises_NN.py in this folder (never over an existing file)",
                 _exercise_arguments, _run_exercise),
    "check": ("grade exercises_NN.py (or FILE): exit code 0 when every exercise passes, 1 otherwise",
              _check_arguments, _run_check),
    "demo": ("train a small MLP on a 2-D spiral and report its accuracy",
             _demo_arguments, _run_demo),
    "launch": ("run SCRIPT on N processes with MPI (mpiexec -n N), e.g. for DistributedDataParallel",
               _launch_arguments, _run_launch),
}


# ---------------------------------------------------------------- entry point

#: commands whose arguments go, as given, to a script of benchmarks/ (which parses them)
PASSED_THROUGH = ("bench", "profile")


def build_parser():
    """The argparse parser with one subparser per entry of :data:`COMMANDS`."""
    parser = argparse.ArgumentParser(prog="minidl", description="minidl: a small, readable deep-learning engine.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (help_line, add_arguments, run) in COMMANDS.items():
        subparser = subparsers.add_parser(name, help=help_line, description=help_line)
        add_arguments(subparser)
        subparser.set_defaults(run=run)
    return parser


def main(argv=None) -> int:
    """Run the ``minidl`` command with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        if argv and argv[0] in PASSED_THROUGH:  # everything after the command belongs to its script
            args = argparse.Namespace(command=argv[0], arguments=argv[1:], run=COMMANDS[argv[0]][2])
        else:
            args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, or a usage error argparse has already printed
        return exit_.code if isinstance(exit_.code, int) else 2
    try:
        return args.run(args)
    except USER_ERRORS as error:
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"minidl: error: {message}", file=sys.stderr)
        return 2
