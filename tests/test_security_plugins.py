"""Only code the user chose runs (issue 6, part 2).

* ``CODEX_ML_PLUGINS_DISABLE`` / ``CODEX_ML_PLUGINS_ALLOW`` (distribution names
  or ``group:name``) decide which installed plugins may load. Every plugin
  module here writes a marker file when imported, so "not loaded" is proved
  by the absence of its marker, not by the absence of its name.
* Directory plugins that other users could change are refused, symlinks
  included, and a symlink loop does not hang discovery.

Extends tests/test_entry_points.py::test_allow_and_disable_lists and
tests/test_plugin_dirs.py (world-writable file/folder/root, symlink to a
world-writable file).
"""

from __future__ import annotations

import importlib.util
import json
import marshal
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from _support import env_with, make_package, pip_install, run_json, write

POSIX = pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
ROOT_ONLY = pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0,
                               reason="needs root to give a file to another user or group")


def _marking(module: str, body: str) -> str:
    """Module source that records its own import in $CODEX_TEST_MARKERS/<module>."""
    return (f"import os, pathlib\n"
            f"pathlib.Path(os.environ['CODEX_TEST_MARKERS'], {module!r}).write_text('imported')\n\n"
            + textwrap.dedent(body))


METRIC = "def score(predictions, targets=None):\n    return 1.0\n"
MODEL = "class Model:\n    def forward(self, x):\n        return x\n"


@pytest.fixture(scope="module")
def choose_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("choose")
    site = root / "site"
    alpha = make_package(root, "alpha-plugins", {
        "codex_ml.metrics": {"alpha-metric": "alpha_metric:score", "alpha-hook": "alpha_hook:register"},
        "codex_ml.models": {"alpha-model": "alpha_model:Model"},
    }, {
        "alpha_metric.py": _marking("alpha_metric", METRIC),
        "alpha_hook.py": _marking("alpha_hook", METRIC + "\n\ndef register(register_fn):\n"
                                                        "    register_fn('alpha-hook-metric', score)\n"),
        "alpha_model.py": _marking("alpha_model", MODEL),
    })
    beta = make_package(root, "beta_plugins", {
        "codex_ml.metrics": {"beta-metric": "beta_metric:score"},
        "codex_ml.plugins": {"beta-bundle": "beta_bundle"},
    }, {
        "beta_metric.py": _marking("beta_metric", METRIC),
        "beta_bundle.py": _marking("beta_bundle", "from codex_ml.registry import register_metric\n"
                                                  "register_metric('beta-bundle-metric', lambda p, t=None: 2.0)\n"),
    })
    return pip_install(alpha, site, beta)


PLUGIN_NAMES = {"alpha-metric", "alpha-hook-metric", "alpha-model", "beta-metric", "beta-bundle-metric"}
ALL_MODULES = {"alpha_metric", "alpha_hook", "alpha_model", "beta_metric", "beta_bundle"}

CHOOSE_PROBE = """
    import json, os, warnings
    warnings.simplefilter("ignore")
    from codex_ml import registry as R
    reports = R.discover_all()
    for reg in R.all_registries():  # ask for every listed plugin: nothing disabled may load
        for name in reg.list(resolve=True):
            if reg.metadata(name)["provenance"]["source"] != "entry-point":
                continue  # built-ins (some import torch) are not what this probe is about
            try:
                reg[name]
            except Exception:
                pass
    asked = {}
    for name in ["alpha-metric", "alpha-hook-metric", "beta-metric"]:
        try:
            R.metric_registry[name]
            asked[name] = "ok"
        except KeyError as exc:
            asked[name] = type(exc).__name__
    names = set(R.metric_registry.list()) | set(R.model_registry.list())
    print(json.dumps({
        "names": sorted(names), "asked": asked,
        "imported": sorted(os.listdir(os.environ["CODEX_TEST_MARKERS"])),
        "disabled": sorted(d for r in reports for d in r.disabled),
        "exact_match": R.metric_registry["exact_match"](["a"], ["a"]),
    }))
"""


def choose(site: Path, tmp_path: Path, **env: str) -> dict[str, Any]:
    markers = tmp_path / "markers"
    markers.mkdir(exist_ok=True)
    for stale in markers.iterdir():
        stale.unlink()
    out = run_json(CHOOSE_PROBE, env=env_with(site, CODEX_TEST_MARKERS=str(markers), **env))
    assert isinstance(out, dict)
    out["plugins"] = sorted(PLUGIN_NAMES & set(out["names"]))
    return out


def test_without_lists_every_plugin_loads(choose_site: Path, tmp_path: Path) -> None:
    out = choose(choose_site, tmp_path)
    assert out["plugins"] == sorted(PLUGIN_NAMES) and out["imported"] == sorted(ALL_MODULES)


@pytest.mark.parametrize("rule", ["alpha-plugins", "Alpha_Plugins", "ALPHA-PLUGINS", " alpha-plugins "])
def test_disable_a_distribution_any_spelling(choose_site: Path, tmp_path: Path, rule: str) -> None:
    out = choose(choose_site, tmp_path, CODEX_ML_PLUGINS_DISABLE=rule)
    assert out["plugins"] == ["beta-bundle-metric", "beta-metric"]
    assert out["imported"] == ["beta_bundle", "beta_metric"]  # none of alpha's code ran
    assert out["asked"]["alpha-metric"] == "UnknownComponentError"
    assert "codex_ml.metrics:alpha-metric (alpha-plugins): disabled by CODEX_ML_PLUGINS_DISABLE" in out["disabled"]
    assert out["exact_match"] == 1.0


@pytest.mark.parametrize("rule, gone, modules_not_run", [
    ("codex_ml.metrics:alpha-metric", {"alpha-metric"}, {"alpha_metric"}),
    ("codex_ml.metrics:alpha-hook", {"alpha-hook-metric"}, {"alpha_hook"}),
    ("codex_ml.models:alpha-model", {"alpha-model"}, {"alpha_model"}),
    ("codex_ml.plugins:beta-bundle", {"beta-bundle-metric"}, {"beta_bundle"}),
    ("codex_ml.metrics:*", {"alpha-metric", "alpha-hook-metric", "beta-metric"},
     {"alpha_metric", "alpha_hook", "beta_metric"}),
])
def test_disable_single_entry_points(choose_site: Path, tmp_path: Path, rule: str, gone: set[str],
                                     modules_not_run: set[str]) -> None:
    out = choose(choose_site, tmp_path, CODEX_ML_PLUGINS_DISABLE=rule)
    assert set(out["plugins"]) == PLUGIN_NAMES - gone
    assert set(out["imported"]) == ALL_MODULES - modules_not_run


@pytest.mark.parametrize("separator", [",", ";", " , ", " ;"])
def test_disable_several_rules(choose_site: Path, tmp_path: Path, separator: str) -> None:
    out = choose(choose_site, tmp_path,
                 CODEX_ML_PLUGINS_DISABLE=separator.join(["alpha-plugins", "codex_ml.plugins:beta-bundle"]))
    assert out["plugins"] == ["beta-metric"] and out["imported"] == ["beta_metric"]


def test_allow_list_loads_only_what_it_names(choose_site: Path, tmp_path: Path) -> None:
    out = choose(choose_site, tmp_path, CODEX_ML_PLUGINS_ALLOW="beta_plugins")
    assert out["plugins"] == ["beta-bundle-metric", "beta-metric"]
    assert out["imported"] == ["beta_bundle", "beta_metric"]
    assert "codex_ml.models:alpha-model (alpha-plugins): not in CODEX_ML_PLUGINS_ALLOW" in out["disabled"]
    assert out["exact_match"] == 1.0  # the built-in catalogue is never filtered


def test_allow_single_entry_points(choose_site: Path, tmp_path: Path) -> None:
    out = choose(choose_site, tmp_path,
                 CODEX_ML_PLUGINS_ALLOW="codex_ml.models:alpha-model;codex_ml.metrics:beta-metric")
    assert out["plugins"] == ["alpha-model", "beta-metric"]
    assert out["imported"] == ["alpha_model", "beta_metric"]


def test_disable_wins_over_allow(choose_site: Path, tmp_path: Path) -> None:
    out = choose(choose_site, tmp_path, CODEX_ML_PLUGINS_ALLOW="alpha-plugins",
                 CODEX_ML_PLUGINS_DISABLE="codex_ml.metrics:alpha-hook")
    assert out["plugins"] == ["alpha-metric", "alpha-model"]
    assert out["imported"] == ["alpha_metric", "alpha_model"]


def test_allow_list_that_matches_nothing_fails_closed(choose_site: Path, tmp_path: Path) -> None:
    out = choose(choose_site, tmp_path, CODEX_ML_PLUGINS_ALLOW="no-such-distribution")
    assert out["plugins"] == [] and out["imported"] == []


def test_disable_rule_uses_registry_name_normalisation(choose_site: Path, tmp_path: Path) -> None:
    out = choose(choose_site, tmp_path, CODEX_ML_PLUGINS_DISABLE="codex_ml.metrics:Alpha_Metric")
    assert "alpha-metric" not in out["plugins"] and "alpha_metric" not in out["imported"]


def test_disable_rule_uses_pep503_distribution_names(choose_site: Path, tmp_path: Path) -> None:
    out = choose(choose_site, tmp_path, CODEX_ML_PLUGINS_DISABLE="alpha.plugins")
    assert "alpha_metric" not in out["imported"]


# ------------------------------------------------------------ plugin folders
GOOD = "from codex_ml.registry import register_metric\nregister_metric({name!r}, lambda p, t=None: 1.0)\n"

LIST = """
    import json, warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from codex_ml.registry import _dirstate, metric_registry
        names = metric_registry.list()
    report = _dirstate.STATE.report
    print(json.dumps({"names": [n for n in names if n.startswith("pd-")],
                      "refused": {k: v for k, v in report.refused.items()},
                      "loaded": report.loaded,
                      "warnings": [str(w.message) for w in caught]}))
"""



@pytest.fixture
def plugins(tmp_path: Path) -> Path:
    root = tmp_path / "plugins"
    write(root / "models" / "safe.py", GOOD.format(name="pd-safe"))
    for folder in [root, root / "models"]:
        folder.chmod(0o755)
    return root


def discover_in(root: Path, cwd: Path, timeout: float = 60) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(LIST)],
                          env=env_with(CODEX_ML_PLUGIN_PATH=str(root)), cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def refused(out: dict[str, Any], path: Path) -> str:
    return out["refused"].get(str(path), "")


@POSIX
def test_symlink_to_a_folder_holding_a_world_writable_file(plugins: Path, tmp_path: Path) -> None:
    outside = tmp_path / "shared"
    write(outside / "fine.py", GOOD.format(name="pd-outside-fine"))
    write(outside / "evil.py", GOOD.format(name="pd-outside-evil"), mode=0o666)
    outside.chmod(0o755)
    (plugins / "linked").symlink_to(outside, target_is_directory=True)
    out = discover_in(plugins, tmp_path)
    assert sorted(out["names"]) == ["pd-outside-fine", "pd-safe"]
    assert "writable by other users (mode 666)" in refused(out, plugins / "linked" / "evil.py")
    assert any("Refused plugin" in w and "evil.py" in w and "chmod go-w" in w for w in out["warnings"])


@POSIX
def test_symlink_to_a_world_writable_folder(plugins: Path, tmp_path: Path) -> None:
    outside = tmp_path / "open"
    write(outside / "inside.py", GOOD.format(name="pd-inside"))
    outside.chmod(0o777)
    (plugins / "linked").symlink_to(outside, target_is_directory=True)
    out = discover_in(plugins, tmp_path)
    assert out["names"] == ["pd-safe"]
    assert "writable by other users (mode 777)" in refused(out, plugins / "linked")


@POSIX
def test_symlink_to_a_safe_file_in_a_folder_others_can_write(plugins: Path, tmp_path: Path) -> None:
    """The file is 644, but anyone could swap it: its folder is 777 without the sticky bit."""
    folder = tmp_path / "swappable"
    target = write(folder / "swap.py", GOOD.format(name="pd-swap"))
    folder.chmod(0o777)
    (plugins / "swap.py").symlink_to(target)
    out = discover_in(plugins, tmp_path)
    assert out["names"] == ["pd-safe"]
    assert (f"the folder {folder} on the way to its symlink target {target} is writable by other users "
            "(mode 777)") in refused(out, plugins / "swap.py")


@POSIX
def test_symlink_into_a_sticky_shared_folder_is_accepted(plugins: Path, tmp_path: Path) -> None:
    """/tmp-style folders (777 + sticky bit): others cannot replace the user's own file."""
    folder = tmp_path / "sticky"
    target = write(folder / "mine.py", GOOD.format(name="pd-sticky"))
    folder.chmod(0o1777)
    (plugins / "mine.py").symlink_to(target)
    out = discover_in(plugins, tmp_path)
    assert sorted(out["names"]) == ["pd-safe", "pd-sticky"]


@POSIX
@ROOT_ONLY
def test_group_writable_file_of_a_shared_group_is_refused(plugins: Path, tmp_path: Path) -> None:
    outside = tmp_path / "team"
    evil = write(outside / "team.py", GOOD.format(name="pd-team"), mode=0o664)
    os.chown(evil, -1, 65534)  # a group other users belong to ("nogroup")
    outside.chmod(0o755)
    (plugins / "team").symlink_to(outside, target_is_directory=True)
    out = discover_in(plugins, tmp_path)
    assert out["names"] == ["pd-safe"]
    assert "writable by other users (mode 664)" in refused(out, plugins / "team" / "team.py")


@POSIX
@ROOT_ONLY
def test_file_owned_by_another_user_is_refused(plugins: Path, tmp_path: Path) -> None:
    theirs = write(plugins / "theirs.py", GOOD.format(name="pd-theirs"))
    os.chown(theirs, 65534, -1)
    out = discover_in(plugins, tmp_path)
    assert out["names"] == ["pd-safe"]
    assert "owned by uid 65534" in refused(out, theirs)


@POSIX
def test_symlink_loops_do_not_hang(plugins: Path, tmp_path: Path) -> None:
    (plugins / "models" / "up").symlink_to("..", target_is_directory=True)  # folder loop
    (plugins / "again").symlink_to(plugins, target_is_directory=True)  # link to the root itself
    (plugins / "a.py").symlink_to("b.py")  # file loop: a -> b -> a
    (plugins / "b.py").symlink_to("a.py")
    (plugins / "self.py").symlink_to("self.py")
    (plugins / "dangling.py").symlink_to("nowhere.py")
    out = discover_in(plugins, tmp_path, timeout=30)
    assert out["names"] == ["pd-safe"]
    assert len(out["loaded"]) == 1  # imported once, not once per path that reaches it
    for name in ["a.py", "b.py", "self.py"]:
        assert "Too many levels of symbolic links" in refused(out, plugins / name)
    assert "No such file or directory" in refused(out, plugins / "dangling.py")


@POSIX
def test_world_writable_root_behind_a_symlink_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real-plugins"
    write(real / "inside.py", GOOD.format(name="pd-inside"))
    real.chmod(0o777)
    link = tmp_path / "plugins"
    link.symlink_to(real, target_is_directory=True)
    out = discover_in(link, tmp_path)
    assert out["names"] == [] and "writable by other users" in refused(out, link)


@POSIX
def test_planted_bytecode_in_a_world_writable_pycache_never_runs(plugins: Path, tmp_path: Path) -> None:
    source = plugins / "models" / "safe.py"
    pwned = tmp_path / "pwned"
    cache = Path(importlib.util.cache_from_source(str(source)))
    cache.parent.mkdir()
    cache.parent.chmod(0o777)  # e.g. created by a shared-umask process: anyone may write here
    st = source.stat()
    evil = compile(f"import pathlib\npathlib.Path({str(pwned)!r}).write_text('attacker code ran')\n"
                   + GOOD.format(name="pd-safe"), str(source), "exec")
    header = (importlib.util.MAGIC_NUMBER + (0).to_bytes(4, "little")
              + (int(st.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little")
              + (st.st_size & 0xFFFFFFFF).to_bytes(4, "little"))
    cache.write_bytes(header + marshal.dumps(evil))
    discover_in(plugins, tmp_path)
    assert not pwned.exists()
