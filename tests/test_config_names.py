"""One name per concept: ``name``/``path``/``kwargs`` for every component section.

The other spellings (``reward_model.plugin``, ``rl_agent.plugin``,
``training.trainer``, ``training.config_path``, ``training.trainer_kwargs``)
still compose with Hydra and move to the canonical key (the seed's two
``.plugin`` keys silently, the old trainer keys with one warning), and
conflict with it only when both are given different values. In process, with
Hydra's real ``compose`` and the same ``prepare_config`` that ``train`` and
``evaluate`` call; the command line as written is run in tests/test_cli_train.py
(``test_opt_out_keys``) and tests/test_evaluate_cli.py.
"""
from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

import codex_ml.configs
from codex_ml.training.confignames import ALIASES, canonical_names
from codex_ml.training.errors import DeprecatedConfigKey, TrainingConfigError
from codex_ml.training.jobs import prepare_config
from codex_ml.training.rundir import read_config

CONFIGS = Path(codex_ml.configs.__file__).parent
OLD = [(section, old, new) for section, pairs in ALIASES.items() for old, new in pairs]


@pytest.fixture(scope="module")
def hydra() -> Iterator[None]:
    with initialize_config_module("codex_ml.configs", version_base="1.3"):
        yield


def composed(overrides: list[str], name: str = "config") -> Any:
    return compose(name, overrides=overrides)


def prepared(overrides: list[str], name: str = "config") -> tuple[dict[str, Any], list[str]]:
    """The config as train/evaluate see it, and the old-key warnings raised on the way."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cfg = prepare_config(composed(overrides, name), overrides)
    return cfg, [str(w.message) for w in caught if issubclass(w.category, DeprecatedConfigKey)]


# ------------------------------------------------------------ the shape
@pytest.mark.usefixtures("hydra")
@pytest.mark.parametrize("preset", ["config", "offline/catalogue", "offline/tiny_fixtures"])
def test_every_component_section_has_name_path_kwargs(preset: str) -> None:
    cfg, said = prepared([], preset)
    for section in ("model", "tokenizer", "dataset_loader", "training", "reward_model", "rl_agent"):
        assert {"name", "path", "kwargs"} <= set(cfg[section]), section
    for section, old, _ in OLD:
        assert old not in cfg[section], f"{section}.{old} left in the prepared config"
    assert said == []  # the packaged presets use the canonical spelling


def test_no_packaged_yaml_sets_an_old_spelling() -> None:
    files = sorted(CONFIGS.rglob("*.yaml"))
    assert len(files) > 20
    for file in files:
        data = yaml.safe_load(file.read_text()) or {}
        package = next((line.split()[-1] for line in file.read_text().splitlines()
                        if line.startswith("# @package")), None)
        group = file.relative_to(CONFIGS).parts[0]
        sections = data if package == "_global_" or group == "config.yaml" else {group: data}
        for section, old, _ in OLD:
            part = sections.get(section)
            if isinstance(part, dict) and old in part:
                assert part[old] is None, f"{file}: {section}.{old} is set; write the canonical key"


@pytest.mark.usefixtures("hydra")
def test_the_old_keys_stay_in_the_yaml_so_hydra_accepts_them() -> None:
    cfg = composed([])
    for section, old, _ in OLD:
        assert old in cfg[section] and cfg[section][old] is None, f"{section}.{old}"


# ------------------------------------------------------------ old spellings
@pytest.mark.usefixtures("hydra")
@pytest.mark.parametrize(("override", "key", "value"), [
    ("reward_model.plugin=offline:length", ("reward_model", "name"), "offline:length"),
    ("rl_agent.plugin=offline:scripted", ("rl_agent", "name"), "offline:scripted"),
])
def test_the_seed_spellings_are_synonyms_kept_without_a_warning(
        override: str, key: tuple[str, str], value: Any) -> None:
    cfg, said = prepared([override])
    assert cfg[key[0]][key[1]] == value and said == []


@pytest.mark.usefixtures("hydra")
@pytest.mark.parametrize(("override", "key", "value"), [
    ("training.trainer=my-trainer", ("training", "name"), "my-trainer"),
    ("training.config_path=/tmp/mine.json", ("training", "path"), "/tmp/mine.json"),
    ("training.trainer_kwargs={width: 8}", ("training", "kwargs"), {"width": 8}),
    ("+training.trainer_kwargs.width=8", ("training", "kwargs"), {"width": 8}),
])
def test_an_old_spelling_works_with_one_warning_naming_both_keys(
        override: str, key: tuple[str, str], value: Any) -> None:
    cfg, said = prepared([override])
    assert cfg[key[0]][key[1]] == value
    old = override.lstrip("+").split("=")[0].split(".")
    old_key = ".".join(old[:2])
    assert len(said) == 1, said
    assert said[0].startswith(f"{old_key} is the old spelling of {key[0]}.{key[1]};")


@pytest.mark.usefixtures("hydra")
def test_an_old_spelling_overrides_the_preset_it_was_written_for() -> None:
    # interfaces/offline.yaml sets reward_model.name; the documented opt-out still wins.
    cfg, said = prepared(["interfaces=offline", "reward_model.plugin=offline:heuristic"])
    assert cfg["reward_model"]["name"] == "offline:heuristic" and said == []


@pytest.mark.usefixtures("hydra")
def test_both_spellings_with_different_values_is_one_error_naming_both() -> None:
    overrides = ["reward_model.plugin=offline:length", "reward_model.name=offline:heuristic"]
    with pytest.raises(TrainingConfigError, match=r"reward_model\.plugin='offline:length' and "
                       r"reward_model\.name='offline:heuristic' are both set.*Keep one"):
        prepare_config(composed(overrides), overrides)
    overrides = ["training.trainer=a", "training.name=b"]
    with pytest.raises(TrainingConfigError, match=r"training\.trainer='a' and training\.name='b'"):
        prepare_config(composed(overrides), overrides)


@pytest.mark.usefixtures("hydra")
def test_both_spellings_with_the_same_value_is_fine() -> None:
    overrides = ["rl_agent.plugin=offline:scripted", "rl_agent.name=offline:scripted"]
    cfg, said = prepared(overrides)
    assert cfg["rl_agent"]["name"] == "offline:scripted" and said == []


@pytest.mark.usefixtures("hydra")
def test_the_seed_opt_out_keys_compose_as_written(tmp_path: Path) -> None:
    overrides = ["model.name=MiniLM", "tokenizer.name=hf", f"tokenizer.name_or_path={tmp_path}",
                 f"dataset_loader.path={tmp_path / 'mine.txt'}", "reward_model.plugin=offline:length",
                 "rl_agent.plugin=offline:scripted"]
    cfg, said = prepared(overrides)
    assert cfg["model"]["name"] == "MiniLM" and cfg["tokenizer"]["name"] == "hf"
    assert cfg["dataset_loader"]["path"] == str(tmp_path / "mine.txt")
    assert (cfg["reward_model"]["name"], cfg["rl_agent"]["name"]) == ("offline:length",
                                                                      "offline:scripted")
    assert said == []  # the seed's own keys: no "will go away"


def test_a_warning_is_shown_once_per_key_and_value() -> None:
    def run() -> None:
        canonical_names({"training": {"name": None, "trainer": "offline:functional"}})

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")  # Python's own once-per-message rule
        for _ in range(3):
            run()
    assert len([w for w in caught if issubclass(w.category, DeprecatedConfigKey)]) == 1


def test_a_run_saved_with_the_old_spelling_reads_canonical_silently(tmp_path: Path) -> None:
    saved = {"training": {"trainer": "offline:functional", "config_path": None,
                          "trainer_kwargs": {}, "max_steps": 3},
             "reward_model": {"plugin": "offline:length", "path": None, "kwargs": {}}}
    (tmp_path / "config.yaml").write_text(OmegaConf.to_yaml(saved))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cfg = read_config(tmp_path)
    assert cfg["training"] == {"name": "offline:functional", "max_steps": 3}
    assert cfg["reward_model"] == {"name": "offline:length", "path": None, "kwargs": {}}
