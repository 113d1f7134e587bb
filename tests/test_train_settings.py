"""Training defaults in one place, parsed once, refused before anything is written.

``TrainSettings`` is the single source of the settings' names, types and
defaults (the main job's values). ``configs/training/default.yaml`` spells them
out for the command line and must agree exactly; ``training/offline/functional.yaml``
leaves each to the trainer's JSON file; the JSON file holds only the settings its
fine-tuning profile changes. Each check below fails on any drift.
"""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hydra import compose, initialize_config_module

import codex_ml.configs
from codex_ml.catalogue import paths
from codex_ml.cli import hydra_app
from codex_ml.training.confignames import ALIASES
from codex_ml.training.errors import TrainingConfigError
from codex_ml.training.jobs import parse_training, prepare_config
from codex_ml.training.settings import (
    CHOICE_KEYS,
    FIELDS,
    RULES,
    TrainSettings,
    read_settings_file,
)

CONFIGS = Path(codex_ml.configs.__file__).parent
DEFAULTS = TrainSettings()
OLD_KEYS = {old for old, _ in ALIASES["training"]}
SECTION_KEYS = set(FIELDS) | set(CHOICE_KEYS) | OLD_KEYS


def _yaml(name: str) -> dict[str, Any]:
    return dict(yaml.safe_load((CONFIGS / "training" / name).read_text()))


def _kind(value: Any) -> type:
    return type(value)


# ------------------------------------------------------------ one source
def test_default_yaml_spells_out_the_dataclass_defaults_exactly() -> None:
    data = _yaml("default.yaml")
    assert set(data) == SECTION_KEYS, set(data) ^ SECTION_KEYS
    drift = {k: (data[k], getattr(DEFAULTS, k)) for k in FIELDS
             if data[k] != getattr(DEFAULTS, k) or _kind(data[k]) is not _kind(getattr(DEFAULTS, k))}
    assert drift == {}, f"configs/training/default.yaml differs from TrainSettings (yaml, class): {drift}"
    assert data["name"] == "offline:functional" and data["path"] is None and data["kwargs"] == {}
    assert all(data[k] is None for k in OLD_KEYS)


def test_the_functional_preset_leaves_every_setting_to_the_trainer_file() -> None:
    data = _yaml("offline/functional.yaml")
    assert set(data) == SECTION_KEYS, set(data) ^ SECTION_KEYS
    assert {k: v for k, v in data.items() if k in FIELDS and v is not None} == {}


def test_the_trainer_file_holds_only_the_changes_of_its_profile() -> None:
    file = paths.resolve("functional_trainer_config")
    raw = json.loads(file.read_text())
    values = read_settings_file(file)  # unknown keys are refused here
    assert set(raw) - set(values) == {"name", "description"}
    for key, value in values.items():
        default = getattr(DEFAULTS, key)
        assert _kind(value) is _kind(default), f"{file}: {key}={value!r} is not a {_kind(default)}"
        assert value != default, (f"{file}: {key}={value!r} repeats the TrainSettings default; "
                                  "drop it (the file holds only the profile's changes)")
    profile = dataclasses.replace(DEFAULTS, **values)  # validates
    assert profile.max_steps < DEFAULTS.max_steps  # a short profile: the offline presets' runs


def test_every_setting_has_a_rule_for_its_error_message() -> None:
    assert set(RULES) == set(FIELDS)


# ------------------------------------------------------------ parsed once
@pytest.fixture
def hydra() -> Iterator[None]:  # per test: hydra_app.run below initialises Hydra itself
    with initialize_config_module("codex_ml.configs", version_base="1.3"):
        yield


def parsed(overrides: list[str]) -> TrainSettings:
    cfg = prepare_config(compose("config", overrides=overrides), overrides)
    return parse_training(cfg).settings


@pytest.mark.usefixtures("hydra")
def test_the_main_job_runs_with_the_dataclass_defaults() -> None:
    assert parsed([]) == DEFAULTS


@pytest.mark.usefixtures("hydra")
def test_the_functional_preset_runs_with_the_trainer_file_profile() -> None:
    values = read_settings_file(paths.resolve("functional_trainer_config"))
    assert parsed(["training=offline/functional"]) == dataclasses.replace(DEFAULTS, **values)
    assert parsed(["training=offline/functional", "training.max_steps=3"]).max_steps == 3


BAD = [
    ("training.max_steps=abc",
     "training.max_steps='abc' is not allowed: training.max_steps must be an integer >= 1"),
    ("training.learning_rate=-1",
     "training.learning_rate=-1.0 is not allowed: training.learning_rate must be a number > 0"),
    ("training.precision=fp8",
     "training.precision='fp8' is not allowed: training.precision must be one of fp32, bf16"),
    ("training.resume=maybe",
     "training.resume='maybe' is not allowed: training.resume must be true or false"),
]


@pytest.mark.usefixtures("hydra")
@pytest.mark.parametrize("preset", ["training=default", "training=offline/functional"])
@pytest.mark.parametrize(("override", "message"), BAD)
def test_a_bad_value_names_key_value_and_what_is_allowed(preset: str, override: str,
                                                         message: str) -> None:
    with pytest.raises(TrainingConfigError, match=message.replace(".", r"\.").replace("(", r"\(")):
        parsed([preset, override])


@pytest.mark.parametrize(("override", "message"), BAD[:3])
def test_a_bad_value_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch, override: str,
                                    message: str) -> None:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    status = hydra_app.run("train", [override, f"training.output_dir={out}", "training.run_name=r"])
    err = capsys.readouterr().err
    assert status == 1 and message in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_the_real_cli_refuses_a_bad_value_before_writing(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    result = subprocess.run(
        [sys.executable, "-m", "codex_ml.cli", "train", "training.precision=fp8",
         f"training.output_dir={out}"], cwd=tmp_path, capture_output=True, text=True,
        check=False, timeout=120)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("codex-ml train: error: ")
    assert "training.precision='fp8' is not allowed" in result.stderr and "fp32, bf16" in result.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []
