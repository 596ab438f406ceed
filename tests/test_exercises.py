"""The exercises of every chapter: the reference solutions pass, planted mistakes fail with a message
that names the exercise, the element, expected versus got and a hint, and `minidl exercise` /
`minidl check` work from any folder."""

import os
import pathlib
import re
import subprocess
import sys
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

import minidl
from minidl import cli
from minidl.course import exercises
from minidl.course.exercises import checker

CHAPTERS = exercises.chapters()
ALL = [(number, exercise) for number in CHAPTERS for exercise in checker.chapter(number).EXERCISES]
PACKAGE = pathlib.Path(minidl.__file__).parent


def answers(number, **replaced):
    """The reference solutions of a chapter, some replaced by (wrong) answers."""
    functions = {exercise.name: exercise.solution for exercise in checker.chapter(number).EXERCISES}
    functions.update(replaced)
    return SimpleNamespace(**functions)


def outcome(number, name, function):
    return next(o for o in exercises.grade(number, answers(number, **{name: function})) if o.name == name)


def reference(number, name):
    return getattr(answers(number), name)


# ---------------------------------------------------------------- the reference solutions

def test_chapters_00_to_08_have_two_to_four_exercises_each():
    assert set(range(9)) <= set(CHAPTERS)
    for number in CHAPTERS:
        module = checker.chapter(number)
        assert 2 <= len(module.EXERCISES) <= 4, f"chapter {number:02d} has {len(module.EXERCISES)} exercises"
        assert module.TITLE and "import" in module.PREAMBLE
        names = [exercise.name for exercise in module.EXERCISES]
        assert len(set(names)) == len(names)


@pytest.mark.parametrize("number", CHAPTERS, ids=[f"{n:02d}" for n in CHAPTERS])
def test_reference_solutions_pass(number):
    outcomes = exercises.grade(number, exercises.solutions(number))
    assert [o.status for o in outcomes] == ["pass"] * len(outcomes), exercises.report(number, outcomes)


@pytest.mark.parametrize("number", CHAPTERS, ids=[f"{n:02d}" for n in CHAPTERS])
def test_the_stubs_load_and_are_all_to_do(number, tmp_path):
    path = exercises.write(number, tmp_path)
    assert path.name == f"exercises_{number:02d}.py"
    outcomes = exercises.grade(number, exercises.load(path))
    assert {o.status for o in outcomes} == {"to do"}, exercises.report(number, outcomes)
    text = path.read_text(encoding="utf-8")
    for exercise in checker.chapter(number).EXERCISES:  # each stub carries its instructions
        assert f"def {exercise.name}(" in text
        assert exercise.solution.__doc__.strip().splitlines()[0] in text


def nudged(result, arguments):
    """A slightly wrong version of a correct result (for the perturbation test)."""
    if result is None:  # an in-place update: spoil the first argument
        arguments[0].flat[0] += 0.01
        return None
    if isinstance(result, tuple):
        return (nudged(result[0], arguments),) + result[1:]
    if isinstance(result, list):
        return result[::-1]
    if isinstance(result, (int, np.integer)):
        return result + 1
    if isinstance(result, float):
        return result + 0.01
    wrong = np.array(result, copy=True)
    if wrong.dtype == bool:
        wrong.flat[0] = not wrong.flat[0]
    else:
        wrong.flat[0] += 1 if wrong.dtype.kind in "iu" else 0.01
    return wrong


@pytest.mark.parametrize("number,exercise", ALL, ids=[f"{n:02d}-{e.name}" for n, e in ALL])
def test_every_grader_rejects_a_slightly_wrong_answer(number, exercise):
    """No grader can pass everything: one wrong element (or a reversed order) fails it."""
    def wrong(*arguments, **options):
        return nudged(exercise.solution(*arguments, **options), arguments)
    result = outcome(number, exercise.name, wrong)
    assert result.status == "FAIL", result
    assert result.message.startswith(f"{exercise.name}: ") and "expected" in result.message and result.hint


# ---------------------------------------------------------------- planted mistakes

def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax_rows(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def pool_windows(x, k):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // k, k, w // k, k)


def pool_every_maximum(x, g, k):
    """Wrong tie rule: every position equal to the window's maximum gets the gradient."""
    windows = pool_windows(x, k)
    hits = windows == windows.max(axis=(3, 5), keepdims=True)
    return (hits * g[:, :, :, None, :, None]).reshape(x.shape)


def pool_last_maximum(x, g, k):
    """Wrong tie rule: the LAST maximum in row-major order gets the gradient."""
    flipped = reference(4, "max_pool2d_backward")(x[:, :, ::-1, ::-1], g[:, :, ::-1, ::-1], k)
    return flipped[:, :, ::-1, ::-1]


def attention_without_transpose(q, k, v, key_padding_mask=None):
    scores = q @ k / np.sqrt(q.shape[-1])
    if key_padding_mask is not None:
        scores = np.where(key_padding_mask[:, None, :], -np.inf, scores)
    return softmax_rows(scores) @ v


def adam_without_bias_correction(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    return param - lr * m / (np.sqrt(v) + eps), m, v


def batch_norm_backward_without_mean_terms(x, gamma, g, eps=1e-5):
    dx, dgamma, dbeta = reference(3, "batch_norm_backward")(x, gamma, g, eps)
    return g * gamma / np.sqrt(x.var(axis=0) + eps), dgamma, dbeta


def layer_norm_over_the_batch(x, gamma, g, eps=1e-5):
    rows = x.reshape(-1, x.shape[-1])
    dx = reference(3, "batch_norm_backward")(rows, gamma, g.reshape(rows.shape), eps)[0].reshape(x.shape)
    return (dx,) + tuple(reference(8, "layer_norm_backward")(x, gamma, g, eps)[1:])


def labels_only_where_masked(ids, selected, u, random_ids, mask_id):
    inputs, _ = reference(6, "mlm_corrupt")(ids, selected, u, random_ids, mask_id)
    return inputs, np.where(selected & (u < 0.8), ids, -100)


def sgd_rebinding(param, grad, buffer, lr, momentum):
    buffer = momentum * buffer + grad
    param = param - lr * buffer  # noqa: F841  (the mistake: rebinding changes nothing outside)


#: (description, chapter, exercise, wrong answer, a phrase the hint must contain)
PLANTED = [
    ("missing transpose in dL/dW", 1, "linear_backward", lambda x, w, g: (g @ w, g @ x, g.sum(axis=0)), "transpose"),
    ("transposed dL/dW", 1, "linear_backward", lambda x, w, g: (g @ w, x.T @ g, g.sum(axis=0)), "transpose"),
    ("missing transpose of K", 5, "attention", attention_without_transpose, "Q Kᵀ"),
    ("forgotten 1/n in the MSE", 2, "mse_grad", lambda p, t: 2 * (p - t), "constant factor"),
    ("forgotten 1/N in cross-entropy", 2, "cross_entropy_grad",
     lambda z, y: reference(2, "cross_entropy_grad")(z, y) * len(y), "constant factor"),
    ("sign error in σ'", 1, "sigmoid_backward", lambda x, g: g * sigmoid(x) * (sigmoid(x) - 1), "sign"),
    ("sign error: onehot − softmax", 2, "cross_entropy_grad",
     lambda z, y: -reference(2, "cross_entropy_grad")(z, y), "sign"),
    ("wrong tie rule: every maximum", 4, "max_pool2d_backward", pool_every_maximum, "FIRST maximum"),
    ("wrong tie rule: the last maximum", 4, "max_pool2d_backward", pool_last_maximum, "FIRST maximum"),
    ("tanh' as 1 − x²", 1, "tanh_backward", lambda x, g: g * (1 - x * x), "tanh"),
    ("no bias correction in Adam", 2, "adam_step", adam_without_bias_correction, "bias-correct"),
    ("biased variance in running_var", 3, "running_stats_update",
     lambda rm, rv, x, m=0.1: ((1 - m) * rm + m * x.mean(axis=0), (1 - m) * rv + m * x.var(axis=0)), "N − 1"),
    ("batch norm backward without the mean terms", 3, "batch_norm_backward",
     batch_norm_backward_without_mean_terms, "depend on every x"),
    ("heads split by a reshape alone", 5, "split_heads",
     lambda x, h: x.reshape(x.shape[0], h, x.shape[1], x.shape[2] // h), "swap axes"),
    ("causal mask with the diagonal masked", 5, "causal_mask", lambda t: np.triu(np.ones((t, t), bool)), "diagonal"),
    ("labels only where [MASK] was put", 6, "mlm_corrupt", labels_only_where_masked, "ORIGINAL id"),
    ("padding counted once", 4, "conv2d_output_size",
     lambda size, k, stride=1, padding=0, dilation=1: (size + padding - dilation * (k - 1) - 1) // stride + 1,
     "both sides"),
    ("confusion matrix transposed", 7, "confusion_matrix",
     lambda labels, predictions, c: reference(7, "confusion_matrix")(predictions, labels, c), "TRUE class"),
    ("padding counted in the mean", 7, "masked_mean", lambda x, padding: x.mean(axis=1), "REAL positions"),
    ("softmax without the shift", 8, "stable_softmax",
     lambda x: np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True), "NaN"),
    ("rebinding instead of writing in place", 8, "sgd_momentum_in_place", sgd_rebinding, "write into the arrays"),
    ("layer norm's means over the batch", 8, "layer_norm_backward", layer_norm_over_the_batch, "LAST axis"),
    ("sum_to forgetting the stretched dims", 0, "sum_to",
     lambda grad, shape: grad.sum(axis=tuple(range(grad.ndim - len(shape)))), "keepdims"),
    ("mul_backward without sum_to", 0, "mul_backward", lambda x, y, g: (g * y, g * x), "sum each back"),
]


@pytest.mark.parametrize("description,number,name,wrong,phrase", PLANTED, ids=[p[0] for p in PLANTED])
def test_a_planted_mistake_fails_with_the_element_and_a_hint(description, number, name, wrong, phrase):
    result = outcome(number, name, wrong)
    assert result.status == "FAIL", result
    assert result.message.startswith(f"{name}: "), result.message
    assert "expected" in result.message and ", got" in result.message, result.message
    assert phrase.lower() in result.hint.lower(), result.hint
    if "(its shape)" not in result.message and "a tuple" not in result.message:
        assert re.search(r"element \(\d+(, \d+)*,?\)", result.message), result.message


def test_the_four_named_slips_point_at_an_element():
    """A missing transpose, a forgotten 1/n, a sign error and a wrong tie rule each name an element."""
    for description, number, name, wrong, _ in PLANTED[:8]:
        result = outcome(number, name, wrong)
        assert "element (" in result.message, (description, result.message)


def test_scalar_answers_fail_with_expected_and_got():
    result = outcome(6, "mlm_loss", lambda z, y: reference(6, "mlm_loss")(z, y) * (y != -100).sum() / y.size)
    assert result.status == "FAIL" and "expected" in result.message and "selected positions" in result.hint


def topological_order_with_repeats(root):
    order = []

    def visit(node):
        for parent in node.parents:
            visit(parent)
        order.append(node)
    visit(root)
    return order


def topological_order_recursive(root, placed=None, order=None):
    placed, order = (set(), []) if placed is None else (placed, order)
    for parent in root.parents:
        if id(parent) not in placed:
            topological_order_recursive(parent, placed, order)
    if id(root) not in placed:
        placed.add(id(root))
        order.append(root)
    return order


def test_the_topological_sort_grader_catches_repeats_and_recursion():
    repeats = outcome(0, "topological_order", topological_order_with_repeats)
    assert repeats.status == "FAIL" and "once" in repeats.message and "element (" in repeats.message
    recursive = outcome(0, "topological_order", topological_order_recursive)
    assert recursive.status == "error" and "RecursionError" in recursive.message and "stack" in recursive.hint


# ---------------------------------------------------------------- learners' files

def test_an_answer_that_raises_is_reported_with_its_line(tmp_path):
    path = exercises.write(1, tmp_path)
    text = path.read_text(encoding="utf-8").replace(
        'raise NotImplementedError("sigmoid_backward: write your answer here")', "return g / 0 + undefined_name")
    path.write_text(text, encoding="utf-8")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "undefined_name" in row)
    result = exercises.grade(1, exercises.load(path))[0]
    assert result.status == "error" and "NameError" in result.message and f"line {line}" in result.message


def test_a_file_that_does_not_load_fails_every_exercise(tmp_path, capsys):
    path = exercises.write(2, tmp_path)
    path.write_text(path.read_text(encoding="utf-8") + "\ndef broken(:\n", encoding="utf-8")
    assert exercises.check(2, path) == 1
    out = capsys.readouterr().out
    assert "could not be loaded" in out and "SyntaxError" in out and out.count("error") >= 4


def test_a_missing_function_is_reported(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text("def sum_to(grad, shape):\n    return grad\n", encoding="utf-8")
    statuses = {o.name: o.status for o in exercises.grade(0, exercises.load(path))}
    assert statuses == {"topological_order": "missing", "sum_to": "FAIL", "mul_backward": "missing"}


def test_a_function_calling_an_unwritten_one_says_so(tmp_path):
    path = exercises.write(0, tmp_path)
    text = path.read_text(encoding="utf-8").replace(
        'raise NotImplementedError("mul_backward: write your answer here")',
        "return sum_to(g * y, x.shape), sum_to(g * x, y.shape)")
    path.write_text(text, encoding="utf-8")
    result = exercises.grade(0, exercises.load(path))[2]
    assert result.status == "error" and "not written yet" in result.message and "sum_to" in result.message


# ---------------------------------------------------------------- the commands

def full_marks(number, folder):
    """A learner's file holding the reference solutions."""
    names = ", ".join(exercise.name for exercise in checker.chapter(number).EXERCISES)
    path = folder / f"exercises_{number:02d}.py"
    path.write_text(f"from minidl.course.exercises.chapter_{number:02d} import {names}\n", encoding="utf-8")
    return path


def test_minidl_exercise_writes_the_file_and_never_overwrites_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["exercise", "3"]) == 0
    path = tmp_path / "exercises_03.py"
    assert "wrote exercises_03.py" in capsys.readouterr().out
    path.write_text("# my answers\n", encoding="utf-8")
    assert cli.main(["exercise", "3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("minidl: error: ") and "already exists" in err and len(err.strip().splitlines()) == 1
    assert path.read_text(encoding="utf-8") == "# my answers\n"


def test_minidl_check_exit_codes_and_table(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["exercise", "5"]) == 0
    capsys.readouterr()
    assert cli.main(["check", "5"]) == 1
    out = capsys.readouterr().out
    assert "0 of 4 pass" in out and "attention" in out and "to do" in out and "hint:" in out
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    path = full_marks(5, elsewhere)
    assert cli.main(["check", "5", str(path)]) == 0
    assert "4 of 4 pass" in capsys.readouterr().out


def test_minidl_check_and_exercise_refuse_unknown_chapters_and_missing_files(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["exercise", "99"]) == 2
    assert "no exercises for chapter 99" in capsys.readouterr().err
    assert cli.main(["check", "4"]) == 2
    err = capsys.readouterr().err
    assert "exercises_04.py does not exist" in err and "minidl exercise" in err


def test_exercises_work_from_any_folder_without_the_checkout(tmp_path):
    """Package data, not repository files: a folder outside the checkout, MINIDL_HOME unset."""
    environment = {key: value for key, value in os.environ.items() if key != "MINIDL_HOME"}
    done = subprocess.run([sys.executable, "-m", "minidl", "exercise", "0"], cwd=tmp_path, env=environment,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    graded = subprocess.run([sys.executable, "exercises_00.py"], cwd=tmp_path, env=environment,
                            capture_output=True, text=True, timeout=120)
    assert graded.returncode == 1 and "0 of 3 pass" in graded.stdout, graded.stdout + graded.stderr
    full_marks(0, tmp_path)
    passed = subprocess.run([sys.executable, "-m", "minidl", "check", "0"], cwd=tmp_path, env=environment,
                            capture_output=True, text=True, timeout=120)
    assert passed.returncode == 0 and "3 of 3 pass" in passed.stdout, passed.stdout + passed.stderr


def test_the_exercises_are_packaged_and_read_no_repository_file():
    setuptools = pytest.importorskip("setuptools", reason="pip install setuptools")
    assert "minidl.course.exercises" in setuptools.find_packages(str(PACKAGE.parent), include=["minidl*"])
    for path in (PACKAGE / "course" / "exercises").glob("*.py"):  # stubs come from the modules themselves
        text = path.read_text(encoding="utf-8")
        assert "__file__" not in text, path
        assert "chapters/" not in text and "read_text" not in text, path


# ---------------------------------------------------------------- one file per chapter

def test_adding_a_chapter_is_adding_one_module(tmp_path, monkeypatch):
    found = sorted(int(p.stem[-2:]) for p in (PACKAGE / "course" / "exercises").glob("chapter_[0-9][0-9].py"))
    assert exercises.chapters() == found
    (tmp_path / "chapter_42.py").write_text(
        "from minidl.course.exercises.grading import Exercise, expect\n"
        "TITLE = 'A new chapter'\nPREAMBLE = 'import numpy as np'\n\n"
        "def double(x):\n    '''Return 2x.'''\n    return 2 * x\n\n"
        "def _grade(answer):\n    expect(answer(3) == 6, 'double(3)', 6, answer(3), 'multiply by 2')\n\n"
        "EXERCISES = [Exercise(double, _grade, 'x + x')]\n", encoding="utf-8")
    monkeypatch.setattr(exercises, "__path__", list(exercises.__path__) + [str(tmp_path)])
    try:
        assert 42 in exercises.chapters()
        assert "def double(x):" in exercises.workbook(42)
        assert [o.status for o in exercises.grade(42, exercises.solutions(42))] == ["pass"]
    finally:
        sys.modules.pop("minidl.course.exercises.chapter_42", None)


def test_the_places_in_minidl_that_exercises_name_exist():
    """Each ``minidl/...py``, ``Name`` pointer in an exercise's instructions names a real file and definition."""
    pointer = re.compile(r"``(minidl/[\w/]+\.py)``, ``([\w.]+)``")
    checked = 0
    for number, exercise in ALL:
        for path, name in pointer.findall(exercise.solution.__doc__):
            source = (PACKAGE.parent / path).read_text(encoding="utf-8")
            for part in name.split("."):
                assert re.search(rf"^\s*(class|def) {part}\b", source, re.M), f"{exercise.name}: {path} has no {part}"
            checked += 1
    assert checked >= 15


def test_grading_an_overflowing_answer_raises_no_warning_and_restores_numpy_state():
    before = np.geterr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning escaping the grader would raise here
        result = outcome(8, "stable_softmax", lambda x: np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True))
    assert result.status == "FAIL" and np.geterr() == before


# ---------------------------------------------------------------- chapters 09 and 10

def ring_reduce_scatter_only(arrays):
    """Wrong: stops after the reduce-scatter, so each worker holds one finished chunk only."""
    p = len(arrays)
    chunks = [[c.astype(np.float64).copy() for c in np.array_split(np.asarray(a), p)] for a in arrays]
    for step in range(p - 1):
        sent = [(k, (k - step) % p, chunks[k][(k - step) % p].copy()) for k in range(p)]
        for k, c, values in sent:
            chunks[(k + 1) % p][c] = chunks[(k + 1) % p][c] + values
    return np.stack([np.concatenate(worker) for worker in chunks]), np.full(p, p - 1)


def quantize_without_the_127(w):
    scale = np.abs(w).max(axis=1)
    scale = np.where(scale > 0, scale, 1.0)
    return np.clip(np.round(w / scale[:, None]), -127, 127).astype(np.int8), scale


def quantize_by_floor(w):
    q, scale = reference(10, "quantize_symmetric_per_channel")(w)
    return np.clip(np.floor(w / scale[:, None]), -127, 127).astype(np.int8), scale


def int8_matmul_in_int8(x_q, x_scale, w_q, w_scale):
    with np.errstate(all="ignore"):
        accumulator = (x_q[:, None, :] * w_q[None, :, :]).sum(axis=-1, dtype=np.int8)
    return accumulator, accumulator.astype(np.float64) * x_scale * w_scale


#: (description, chapter, exercise, wrong answer, a phrase the hint must contain)
PLANTED_09_10 = [
    ("plain mean of unequal shards' gradients", 9, "average_shard_gradients",
     lambda gradients, sizes: np.mean(gradients, axis=0), "weight each shard"),
    ("a ring that only reduce-scatters", 9, "ring_allreduce", ring_reduce_scatter_only, "all-gather"),
    ("ring cost without the 2 of the bandwidth term", 9, "allreduce_time",
     lambda s, n, beta, alpha: (n - 1) / n * s / beta + 2 * (n - 1) * alpha, "2(N−1)/N"),
    ("ring cost with one latency per worker", 9, "allreduce_time",
     lambda s, n, beta, alpha: 2 * (n - 1) / n * s / beta + n * alpha, "one latency per step"),
    ("forgotten 1/127 in the scale", 10, "quantize_symmetric_per_channel", quantize_without_the_127,
     "constant factor"),
    ("rounding by floor instead of round", 10, "quantize_symmetric_per_channel", quantize_by_floor, "NEAREST"),
    ("int8 products summed in int8", 10, "int8_matmul", int8_matmul_in_int8, "int32"),
    ("rescale by the weight's scale only", 10, "int8_matmul",
     lambda x_q, x_scale, w_q, w_scale: (x_q.astype(np.int32) @ w_q.astype(np.int32).T,
                                         (x_q.astype(np.int32) @ w_q.astype(np.int32).T) * w_scale),
     "constant factor"),
    ("LoRA merged without alpha/r", 10, "lora_merge", lambda w, a, b, alpha, r: w + b @ a, "alpha / r"),
    ("LoRA merged in place", 10, "lora_merge",
     lambda w, a, b, alpha, r: w.__iadd__(alpha / r * (b @ a)), "new array"),
]


@pytest.mark.parametrize("description,number,name,wrong,phrase", PLANTED_09_10, ids=[p[0] for p in PLANTED_09_10])
def test_a_planted_mistake_of_chapters_09_and_10_fails_with_the_element_and_a_hint(description, number, name, wrong,
                                                                                    phrase):
    test_a_planted_mistake_fails_with_the_element_and_a_hint(description, number, name, wrong, phrase)


def test_chapters_09_and_10_have_exercises_and_point_at_minidl():
    assert {9, 10} <= set(CHAPTERS)
    for number in (9, 10):
        for exercise in checker.chapter(number).EXERCISES:
            assert "``minidl/" in exercise.solution.__doc__, exercise.name


def test_the_ring_sends_two_p_minus_one_messages_per_worker():
    result = outcome(9, "ring_allreduce", lambda arrays: (np.tile(np.sum(arrays, axis=0), (len(arrays), 1)),
                                                          np.full(len(arrays), len(arrays) - 1)))
    assert result.status == "FAIL" and "messages" in result.message and "p − 1" in result.hint
    assert re.search(r"element \(\d+,?\)", result.message), result.message
