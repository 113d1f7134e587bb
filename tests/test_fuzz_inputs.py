"""Bad input, fuzzed (issue 6, part 4): fixture JSON files and config overrides.

* Every JSON fixture of the offline catalogue is replaced by garbage (random
  bytes, random JSON, the real fixture with one value replaced by random
  JSON), pointed at by its own environment variable, and loaded through the
  registry. The loader either works or raises a ``ValueError`` subclass whose
  message names the file: never a bare ``JSONDecodeError``,
  ``UnicodeDecodeError``, ``KeyError``, ``TypeError`` or ``AttributeError``
  from deep inside.
* Generated bad Hydra overrides given to ``codex-ml train`` end with exit
  status 1 or 2 and one paragraph on stderr: no traceback, and never the
  CLI's "not a mistake codex-ml recognises" fallback for unexpected errors.
"""

from __future__ import annotations

import json
import os
import shutil
import string
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import _prewarm
import pytest
from _support import FILE_FIXTURES
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from codex_ml.catalogue import paths

pytestmark = pytest.mark.slow  # kill trials, fuzzers, stress: `-m "not slow"` skips them locally

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# the JSON ones of the file-backed fixtures (the corpus is plain text)
JSON_FIXTURES = {k: v for k, v in FILE_FIXTURES.items() if k != "tiny_corpus"}
# What a loader may never let escape: errors from deep inside that do not name the file.
LEAKS = (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, AttributeError, IndexError,
         ZeroDivisionError, RecursionError, OverflowError)

_scratch = Path(tempfile.mkdtemp(prefix="codex-fuzz-"))
_counter = iter(range(10**9))


@pytest.fixture(scope="module", autouse=True)
def _remove_scratch() -> Iterator[None]:
    yield
    shutil.rmtree(_scratch, ignore_errors=True)


def original(resource: str) -> Any:
    packaged = paths.packaged_path(resource)
    assert packaged is not None
    return json.loads(packaged.read_text(encoding="utf-8"))


@contextmanager
def fixture_file(resource: str, content: bytes) -> Iterator[Path]:
    """``content`` written to a fresh file that the resource's own variable points at."""
    env = JSON_FIXTURES[resource][0]
    packaged = paths.packaged_path(resource)
    assert packaged is not None
    folder = _scratch / f"{resource}-{next(_counter)}"
    folder.mkdir()
    file = folder / packaged.name
    file.write_bytes(content)
    saved = os.environ.get(env)
    os.environ[env] = str(file)
    try:
        yield file
    finally:
        if saved is None:
            os.environ.pop(env, None)
        else:
            os.environ[env] = saved


def load_or_explain(resource: str, content: bytes, *, must_fail: bool = False) -> None:
    """Load the fixture; any error must be a ValueError that names the file.

    When it loads, the content must really have been a JSON object (the shape
    every fixture has) and something must have been built: garbage that loads
    silently fails the test, as does a load where ``must_fail`` says it cannot.
    """
    _, registry, name = JSON_FIXTURES[resource]
    with fixture_file(resource, content) as file:
        try:
            built = registry.create(name)
        except LEAKS as exc:
            pytest.fail(f"{resource}: {type(exc).__name__} leaked from the loader for {content[:80]!r}: {exc}")
        except ValueError as exc:
            assert str(file) in str(exc), f"{resource}: the error does not name the file: {exc}"
            assert "\n" not in str(exc).strip() or len(str(exc)) < 2000
            return
    if must_fail:
        pytest.fail(f"{resource}: {content[:80]!r} loaded, but it is invalid")
    try:
        document = json.loads(content)
    except ValueError:
        pytest.fail(f"{resource}: {content[:80]!r} is not JSON, yet it loaded")
    assert isinstance(document, dict), f"{resource}: a JSON {type(document).__name__} loaded as a fixture"
    assert built is not None


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12)


@pytest.mark.parametrize("resource", sorted(JSON_FIXTURES))
@FUZZ
@given(content=st.binary(max_size=200))
@example(content=b"")
@example(content=b"{")
@example(content=b"\xff\xfe{}")
@example(content=b'{"a": 1,}')
@example(content=b"[]")
@example(content=b"null")
@example(content=b"NaN")
def test_garbage_bytes(resource: str, content: bytes) -> None:
    load_or_explain(resource, content)


@pytest.mark.parametrize("resource", sorted(JSON_FIXTURES))
@FUZZ
@given(value=json_values)
def test_any_json_document(resource: str, value: Any) -> None:
    load_or_explain(resource, json.dumps(value).encode())


@pytest.mark.parametrize("resource", sorted(JSON_FIXTURES))
@FUZZ
@given(data=st.data())
def test_the_real_fixture_with_one_value_replaced(resource: str, data: st.DataObject) -> None:
    """The shape a user starts from, with one key's value (or a new key) wrong."""
    doc = original(resource)
    assert isinstance(doc, dict)
    key = data.draw(st.sampled_from(sorted(doc)) | st.text(max_size=8), label="key")
    doc[key] = data.draw(json_values, label="value")
    load_or_explain(resource, json.dumps(doc).encode())


@pytest.mark.parametrize("key, value", [("batch_size", 0), ("learning_rate", -1.0), ("precision", "fp8")])
def test_bad_value_in_the_trainer_file_names_the_file(key: str, value: object) -> None:
    doc = original("functional_trainer_config")
    doc[key] = value
    load_or_explain("functional_trainer_config", json.dumps(doc).encode(), must_fail=True)


@pytest.mark.parametrize("resource", sorted(JSON_FIXTURES))
def test_deeply_nested_json_is_a_clear_error(resource: str) -> None:
    load_or_explain(resource, b"[" * 5000, must_fail=True)


@pytest.mark.parametrize("resource", sorted(JSON_FIXTURES))
def test_malformed_json_message_is_pinned(resource: str) -> None:
    _, registry, name = JSON_FIXTURES[resource]
    with fixture_file(resource, b'{"oops": 1,,}') as file, pytest.raises(ValueError) as info:
        registry.create(name)
    assert not isinstance(info.value, json.JSONDecodeError)
    message = str(info.value)
    assert f"{file} is not valid JSON: Expecting property name enclosed in double quotes at line 1 " \
           "column 12" in message, message
    assert "Fix the file or point the loader at another one." in message


# ----------------------------------------------------------------- overrides
TRAIN_KEYS = ("max_steps", "batch_size", "block_size", "learning_rate", "warmup_steps", "precision",
              "eval_interval", "keep_checkpoints", "grad_clip", "beta1", "order", "smoothing")
IDENT = st.from_regex(r"[a-z][a-z_]{0,10}", fullmatch=True)
PRINTABLE = st.text(alphabet=string.ascii_letters + string.digits + " !#$%&()*+,-./:;<>?@[]^_{|}~'\"=",
                    min_size=1, max_size=16)


def bad_overrides() -> st.SearchStrategy[str]:
    """Overrides that are wrong by construction: unknown key, impossible value, or garbage."""
    unknown_key = st.builds(lambda k, v: f"training.{k}zz={v}", IDENT, st.integers())
    impossible = st.one_of(
        st.builds(lambda k, v: f"training.{k}={v}", st.sampled_from(("max_steps", "batch_size", "block_size")),
                  st.integers(max_value=0)),
        st.builds(lambda v: f"training.learning_rate={v}", st.floats(max_value=0, allow_nan=False)),
        st.builds(lambda v: f"training.precision={v}", IDENT.filter(lambda s: s not in ("fp32", "bf16"))),
        st.builds(lambda k, v: f"training.{k}={v}", st.sampled_from(TRAIN_KEYS),
                  st.sampled_from(("abc", "[1,2]", "{a: 1}", "true", "null?", "1e9999x"))),
        st.builds(lambda v: f"model={v}", IDENT.map(lambda s: "no_such_" + s)),
        st.builds(lambda v: f"model.name={v}", IDENT.map(lambda s: "no-such-" + s)),
    )
    garbage = PRINTABLE.filter(lambda s: not s.startswith("-") and "=" not in s.strip("=")[1:-1])
    return st.one_of(unknown_key, impossible, garbage)


def train_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``codex-ml train`` in a real process (forked from the prewarmed server, tests/_prewarm.py)."""
    return subprocess.run(_prewarm.argv("train", "-cn", "offline/tiny_fixtures", "training.max_steps=1",
                                        f"training.output_dir={cwd / 'runs'}", *args),
                          cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def assert_one_paragraph(proc: subprocess.CompletedProcess[str], override: str) -> None:
    assert proc.returncode in (1, 2), (override, proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, (override, proc.stderr)
    assert "not a mistake codex-ml recognises" not in proc.stderr, (override, proc.stderr)
    assert "codex-ml train: error:" in proc.stderr, (override, proc.stderr)


@pytest.fixture(scope="module")
def cli_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("hydra")
    return tmp_path_factory.mktemp("cli")


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(override=bad_overrides())
@example(override="training.max_steps=-5")
@example(override="training.max_stepz=3")
@example(override="+foo=[1,2")
@example(override="===")
def test_bad_overrides_end_in_one_paragraph(cli_dir: Path, override: str) -> None:
    proc = train_cli([override], cli_dir)
    assert_one_paragraph(proc, override)
    assert not list((cli_dir / "runs").glob("*/checkpoints/latest"))  # nothing was trained


@settings(max_examples=25, deadline=None,  # ~0.4 s each: Hydra composes the config twice (its get_mode, then the run)
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(override=bad_overrides())
def test_bad_overrides_in_process(cli_dir: Path, override: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The same CLI entry, in-process, for many more generated overrides."""
    from codex_ml.cli.hydra_app import run

    status = run("train", ["-cn", "offline/tiny_fixtures", "training.max_steps=1",
                           f"training.output_dir={cli_dir / 'runs-inproc'}", override])
    err = capsys.readouterr().err
    proc = subprocess.CompletedProcess(["train", override], status, "", err)
    assert_one_paragraph(proc, override)


@FUZZ
@given(values=st.dictionaries(st.sampled_from(TRAIN_KEYS) | IDENT, json_values, min_size=1, max_size=3))
def test_training_settings_reject_bad_values_clearly(values: dict[str, Any]) -> None:
    """The typed settings record behind every override: only TrainingConfigError escapes."""
    import dataclasses

    from codex_ml.training.errors import TrainingConfigError
    from codex_ml.training.settings import TrainSettings, merge_settings

    try:
        settings = merge_settings(("the command line", values))
    except TrainingConfigError as exc:
        assert "training" in str(exc) or "the command line" in str(exc)
        return
    except LEAKS as exc:
        pytest.fail(f"{type(exc).__name__} leaked from merge_settings({values!r}): {exc}")
    known = {f.name for f in dataclasses.fields(TrainSettings)}
    assert set(values) <= known, f"unknown keys {set(values) - known} were accepted silently"
    for key, value in values.items():
        if value is not None:
            assert getattr(settings, key) is not None, f"{key}={value!r} was accepted but not applied"
