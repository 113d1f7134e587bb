"""A plugin's failure can never escape, however strange (docs/reliability.md).

Real pip-installed distributions and real plugin files raise exceptions whose
``__str__``/``__repr__`` raise, ``BaseException`` subclasses, recursion and a
50 MB message; each is recorded as that plugin's failure with a short, safe
description, and every other registry keeps working.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from _support import make_package, pip_install, write

import codex_ml.registry as core
from codex_ml.registry import RegistryLoadError, metric_registry, model_registry
from codex_ml.registry._errors import MAX_CAUSE, describe_exception
from codex_ml.registry.testing import isolated

BOUND = MAX_CAUSE + 200  # a cause, with its type name and the cut marker

WEIRD = """
class StrRaises(Exception):
    def __str__(self):
        raise RuntimeError("__str__ exploded")

class ReprRaises(Exception):
    def __str__(self):
        raise ValueError("no str")
    def __repr__(self):
        raise ValueError("no repr")

class NotAnError(BaseException):
    pass

class StrRecurses(Exception):
    def __str__(self):
        return str(self)

class StrNotText(Exception):
    def __str__(self):
        return 42
"""

MODULES = {
    "weird.py": WEIRD,
    "bad_str.py": "from weird import StrRaises\nraise StrRaises()\n",
    "bad_repr.py": "from weird import ReprRaises\nraise ReprRaises()\n",
    "bad_base.py": "from weird import NotAnError\nraise NotAnError('not an Exception')\n",
    "bad_exit.py": "raise SystemExit(3)\n",
    "bad_generator_exit.py": "raise GeneratorExit()\n",
    "bad_recursion.py": "def down(n):\n    return down(n + 1)\ndown(0)\n",
    "bad_str_recurses.py": "from weird import StrRecurses\nraise StrRecurses()\n",
    "bad_str_not_text.py": "from weird import StrNotText\nraise StrNotText()\n",
    "bad_huge.py": "raise ValueError('x' * 50_000_000)\n",
    "bad_hook.py": "from weird import ReprRaises\ndef register(register_fn):\n    raise ReprRaises()\n",
    "bad_bundle.py": "from weird import NotAnError\nraise NotAnError('bundle')\n",
    "good_metric.py": "def score(preds, targets):\n    return 1.0\n",
}
BAD_MODELS = {
    "str-raises": "StrRaises: <message not shown: its __str__ raised>",
    "repr-raises": "ReprRaises: <message not shown: its __str__ raised>",
    "base-exception": "NotAnError: not an Exception",
    "system-exit": "SystemExit: 3",
    "generator-exit": "GeneratorExit",
    "recursion": "RecursionError: maximum recursion depth exceeded",
    "str-recurses": "StrRecurses: <message not shown: its __str__ raised>",
    "str-not-text": "StrNotText: <message not shown: its __str__ raised>",
    "huge-message": "ValueError: " + "x" * MAX_CAUSE + "... (message cut)",
}


@pytest.fixture(scope="module")
def broken_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("broken")
    targets = ["bad_str", "bad_repr", "bad_base", "bad_exit", "bad_generator_exit", "bad_recursion",
               "bad_str_recurses", "bad_str_not_text", "bad_huge"]
    project = make_package(root, "weird-plugins", {
        "codex_ml.models": {name: f"{mod}:Model" for name, mod in zip(BAD_MODELS, targets)},
        "codex_ml.metrics": {"bad-hook": "bad_hook:register", "good-metric": "good_metric:score"},
        "codex_ml.plugins": {"bad-bundle": "bad_bundle"},
    }, MODULES)
    return pip_install(project, root / "site")


def test_describe_exception_never_raises_and_is_bounded() -> None:
    class Meta(type):
        @property
        def __name__(cls):  # noqa: N805
            raise RuntimeError("no name")

    class Odd(Exception, metaclass=Meta):
        def __str__(self):
            raise KeyError("x")

    assert describe_exception(Odd()) == "exception: <message not shown: its __str__ raised>"
    assert describe_exception(ValueError("a\nb")) == "ValueError: a"
    assert len(describe_exception(ValueError("y" * 10_000_000))) < BOUND


def test_every_failure_is_recorded_and_other_registries_work(broken_site: Path, tmp_path: Path) -> None:
    folder = tmp_path / "plugins"
    write(folder / "weird_file.py", WEIRD + "raise ReprRaises()\n")
    with isolated(sys_path=[str(broken_site)], env={"CODEX_ML_PLUGIN_PATH": str(folder)}), \
            warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert set(BAD_MODELS) <= set(model_registry.list())  # listing imports nothing
        for name, cause in BAD_MODELS.items():
            with pytest.raises(RegistryLoadError, match=f"could not load model '{name}'") as info:
                model_registry[name]
            assert cause in str(info.value) and len(str(info.value)) < BOUND + 600
        report = core.init_model_plugins()
        assert {f.name for f in report.failed} >= set(BAD_MODELS)
        assert all(len(f.cause) < BOUND for f in report.failed)
        metrics = core.init_metric_plugins()
        assert "bad-hook" in {f.name for f in metrics.failed}
        assert "bad-bundle" in {f.name for f in metrics.failed}
        assert metric_registry.get("good-metric")([1], [1]) == 1.0
        assert core.get_metric("exact_match") is not None  # a built-in still loads
        assert "offline:tiny-vocab" in core.list_tokenizers()
        dir_report = core.plugin_dir_report()
        assert list(dir_report.failed) == [str(folder / "weird_file.py")]
        assert all(len(str(w.message)) < 2 * BOUND for w in caught)
        assert any("weird_file.py: ReprRaises: <message not shown" in str(w.message) for w in caught)


def test_strict_discovery_reports_them_as_one_bounded_error(broken_site: Path) -> None:
    with isolated(sys_path=[str(broken_site)]), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RegistryLoadError, match="could not load model 'base-exception'") as info:
            core.init_model_plugins(strict=True)
        assert len(str(info.value)) < len(BAD_MODELS) * (BOUND + 300)
