"""The index cache notices deploys that restore modification times (docs/guides/entry_points.md).

Each deploy replaces version 1.0 of a real pip-installed plugin by 2.0 (another
entry-point name) and leaves the ``sys.path`` folder with the very mtime it
had before; the next process must list 2.0.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from _support import env_with, make_package, pip_install
from test_epindex_cache import NO_PYC, _settle, listing


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Version 1.0 (lists ``cache-old``) and 2.0 (lists ``cache-new``), each installed in a folder of its own."""
    root = tmp_path_factory.mktemp("builds")
    out = {}
    for version, name in (("1.0", "cache-old"), ("2.0", "cache-new")):
        project = make_package(root / version, "stale-plugin", {"codex_ml.metrics": {name: "stale_mod:score"}},
                               {"stale_mod.py": "def score(p, t=None):\n    return 1.0\n"}, version=version)
        out[version] = pip_install(project, root / f"site-{version}")
    return out


def _replace_contents(site: Path, new: Path, copy: Callable[[Path, Path], None]) -> None:
    for child in site.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    copy(new, site)


def tar_x(site: Path, new: Path, work: Path) -> None:
    archive = work / "v2.tar"
    subprocess.run(["tar", "-C", str(new), "-cf", str(archive), "."], check=True)
    _replace_contents(site, new, lambda _n, s: subprocess.run(["tar", "-C", str(s), "-xpf", str(archive)],
                                                               check=True))


def cp_a(site: Path, new: Path, work: Path) -> None:
    _replace_contents(site, new, lambda n, s: subprocess.run(["cp", "-a", f"{n}/.", f"{s}/"], check=True))


def rsync_a(site: Path, new: Path, work: Path) -> None:
    subprocess.run(["rsync", "-a", "--delete", f"{new}/", f"{site}/"], check=True)


def touch_r(site: Path, new: Path, work: Path) -> None:
    reference = work / "reference"
    reference.touch()
    os.utime(reference, ns=(site.stat().st_atime_ns, site.stat().st_mtime_ns))
    _replace_contents(site, new, lambda n, s: subprocess.run(["cp", "-r", f"{n}/.", f"{s}/"], check=True))
    subprocess.run(["touch", "-r", str(reference), str(site)], check=True)


def folder_replaced(site: Path, new: Path, work: Path) -> None:
    old = work / "site.old"
    site.rename(old)
    subprocess.run(["cp", "-a", str(new), str(site)], check=True)
    subprocess.run(["touch", "-r", str(old), str(site)], check=True)


DEPLOYS = {"tar-x": tar_x, "cp-a": cp_a, "rsync-a": rsync_a, "touch-r": touch_r, "folder-replaced": folder_replaced}


@pytest.mark.parametrize("deploy", list(DEPLOYS))
def test_a_deploy_that_restores_mtimes_is_noticed(deploy: str, builds: dict[str, Path], tmp_path: Path) -> None:
    if deploy == "rsync-a" and shutil.which("rsync") is None:
        pytest.skip("rsync is not installed here (cp -a covers the same restore)")
    site, new = tmp_path / "site", tmp_path / "v2"
    subprocess.run(["cp", "-a", str(builds["1.0"]), str(site)], check=True)
    subprocess.run(["cp", "-a", str(builds["2.0"]), str(new)], check=True)
    _settle(site, new)  # both trees carry the same old times, as a reproducible build's would
    env = env_with(site, CODEX_ML_CACHE="1", CODEX_ML_CACHE_DIR=str(tmp_path / "cache"), **NO_PYC)
    assert listing(env, tmp_path / "cwd")["names"] == ["cache-old"]
    assert listing(env, tmp_path / "cwd")["source"] == "cache"
    mtime = site.stat().st_mtime_ns
    DEPLOYS[deploy](site, new, tmp_path)
    assert site.stat().st_mtime_ns == mtime  # the deploy really restored the folder's mtime
    after = listing(env, tmp_path / "cwd")
    assert after["names"] == ["cache-new"] and after["source"] == "scan"


def _egg(folder: Path, names: list[str]) -> None:
    info = folder / "EGG-INFO"
    info.mkdir(parents=True, exist_ok=True)
    (info / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: egg-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[codex_ml.metrics]\n" + "".join(f"{n} = egg_mod:score\n" for n in names))
    (folder / "egg_mod.py").write_text("def score(p, t=None):\n    return 5.0\n")


def test_an_unzipped_egg_on_sys_path_is_listed_and_its_edits_noticed(tmp_path: Path) -> None:
    egg = tmp_path / "egg_plugin-1.0-py3.11.egg"
    _egg(egg, ["cache-egg-a"])
    _settle(egg)
    probe = ("import importlib.metadata as m; "
             "print(sorted(e.name for e in m.entry_points(group='codex_ml.metrics') if e.name.startswith('cache-egg')))")
    env = env_with(egg, CODEX_ML_CACHE="1", CODEX_ML_CACHE_DIR=str(tmp_path / "cache"), **NO_PYC)
    seen = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert seen.stdout.strip() == "['cache-egg-a']"  # importlib.metadata lists it: so must we
    first = listing(env, tmp_path / "cwd")
    assert first["names"] == ["cache-egg-a"] and first["value"] == 5.0
    assert listing(env, tmp_path / "cwd")["source"] == "cache"
    ep_file = egg / "EGG-INFO" / "entry_points.txt"
    times = (ep_file.stat().st_atime_ns, ep_file.stat().st_mtime_ns)
    ep_file.write_text("[codex_ml.metrics]\ncache-egg-b = egg_mod:score\n")  # edited in place...
    os.utime(ep_file, ns=times)  # ...and its mtime restored
    assert listing(env, tmp_path / "cwd")["names"] == ["cache-egg-b"]


PROBE = """
    import json
    from codex_ml.registry import _epindex, metric_registry
    names = [n for n in metric_registry.list() if n.startswith("cache-")]
    targets = {n: (metric_registry.entry(n).target if n in metric_registry else None) for n in names}
    print(json.dumps({"names": names, "targets": targets, "source": _epindex.current().source,
                      "after": [n for n in metric_registry.list() if n.startswith("cache-")]}))
"""


def test_a_dist_info_rewritten_in_place_is_noticed_on_lookup(builds: dict[str, Path], tmp_path: Path) -> None:
    """Same name, same version, entry_points.txt rewritten in place with its mtime restored: the
    sys.path folder does not change, so the lookup checks the file before anything is imported."""
    import json
    import textwrap

    site = tmp_path / "site"
    subprocess.run(["cp", "-a", str(builds["1.0"]), str(site)], check=True)
    _settle(site)
    env = env_with(site, CODEX_ML_CACHE="1", CODEX_ML_CACHE_DIR=str(tmp_path / "cache"), **NO_PYC)
    assert listing(env, tmp_path / "cwd")["names"] == ["cache-old"]
    assert listing(env, tmp_path / "cwd")["source"] == "cache"
    before = (site.stat().st_ino, site.stat().st_mtime_ns, site.stat().st_ctime_ns)
    ep_file = next(site.glob("*.dist-info")) / "entry_points.txt"
    times = (ep_file.stat().st_atime_ns, ep_file.stat().st_mtime_ns)
    ep_file.write_text("[codex_ml.metrics]\ncache-old = stale_mod:other\ncache-extra = stale_mod:score\n")
    os.utime(ep_file, ns=times)

    def probe() -> dict[str, object]:
        out = subprocess.run([sys.executable, "-c", textwrap.dedent(PROBE)], env=env, cwd=tmp_path / "cwd",
                             capture_output=True, text=True, check=True).stdout
        return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]

    assert (site.stat().st_ino, site.stat().st_mtime_ns, site.stat().st_ctime_ns) == before  # untouched
    first = probe()  # listed from the cache, but the lookup sees the rewritten file
    assert first["names"] == ["cache-old"] and first["targets"] == {"cache-old": "stale_mod:other"}, first
    again = probe()  # the lookup rewrote the cache, or dropped it when the rewrite was too recent
    assert again["names"] == ["cache-extra", "cache-old"], again  # to be trusted: never the stale one
