"""``CODEX_ML_TRACEBACK=1`` works the same for every command family.

Each command reports an error as one paragraph with an exit status; the switch
adds the traceback before that paragraph and changes nothing else. Run in
process through the real entry points (``codex-ml`` and ``plugins_cli``).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from codex_ml.cli import app, plugins_cli
from codex_ml.cli._traceback import traceback_wanted

Main = Callable[[list[str]], int]


@pytest.fixture(autouse=True)
def _fresh_switch(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for var in ("CODEX_ML_TRACEBACK", "CODEX_ML_DEBUG"):
        monkeypatch.delenv(var, raising=False)
    traceback_wanted.cache_clear()  # the switch is read once per process
    yield
    traceback_wanted.cache_clear()


def _run(main: Main, argv: list[str], capsys: pytest.CaptureFixture[str],
         monkeypatch: pytest.MonkeyPatch, switch: str | None) -> tuple[int, str]:
    if switch is not None:
        monkeypatch.setenv("CODEX_ML_TRACEBACK", switch)
    traceback_wanted.cache_clear()
    capsys.readouterr()
    status = main(argv)
    return status, capsys.readouterr().err


def _families(tmp_path: Path) -> list[tuple[str, Main, list[str], str]]:
    return [
        ("hydra (train)", app.main, ["train", "training.max_steps=abc",
                                     f"training.output_dir={tmp_path / 'runs'}"], "max_steps"),
        ("after (generate)", app.main, ["generate", f"run_dir={tmp_path / 'nope'}", "prompt=hi"],
         "is not a run directory"),
        ("plugin CLI (docs build)", plugins_cli.main, ["docs", "build", "--out", "/dev/null/site"],
         "cannot create the docs folder"),
    ]


def test_every_command_family_adds_the_traceback_and_changes_nothing_else(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    for family, main, argv, says in _families(tmp_path):
        plain_status, plain = _run(main, argv, capsys, monkeypatch, None)
        traced_status, traced = _run(main, argv, capsys, monkeypatch, "1")
        assert plain_status == traced_status == 1, family
        assert "Traceback (most recent call last)" not in plain, (family, plain)
        assert says in plain and len(plain.strip().splitlines()) == 1, (family, plain)
        assert traced.startswith("Traceback (most recent call last)"), (family, traced)
        assert traced.strip().splitlines()[-1] == plain.strip(), family  # the same paragraph, last
        monkeypatch.delenv("CODEX_ML_TRACEBACK")
    assert not (tmp_path / "runs").exists()  # the failed train wrote nothing


def test_off_values_keep_tracebacks_off(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    argv = ["generate", f"run_dir={tmp_path / 'nope'}", "prompt=hi"]
    for off in ("0", "false", "off", ""):
        status, err = _run(app.main, argv, capsys, monkeypatch, off)
        assert status == 1 and "Traceback" not in err, (off, err)


def test_a_usage_error_stays_one_paragraph_with_the_switch_on(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    status, err = _run(app.main, ["list", "no-such-kind"], capsys, monkeypatch, "1")
    assert status == 2 and "Traceback" not in err and "unknown kind 'no-such-kind'" in err
