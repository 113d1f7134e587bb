"""Directory plugins (docs/guides/directory_plugins.md), each scenario in a fresh interpreter."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from _support import env_with, run_json, run_py, write

MODEL = '''
from codex_ml.models import BaseModel
from codex_ml.registry import register_model

@register_model("{name}", version="1.0", author="you")
class Model(BaseModel):
    def __init__(self, config):
        super().__init__(config)

    def forward(self, x):
        return "{name}"
'''



@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "plugins"
    write(root / "models" / "gans" / "stylegan.py", MODEL.format(name="stylegan"))
    write(root / "models" / "diffusion" / "ddpm.py", MODEL.format(name="ddpm"))
    # the same file name in two folders must not collide
    write(root / "a" / "model.py", MODEL.format(name="from-a"))
    write(root / "b" / "model.py", MODEL.format(name="from-b"))
    for folder in [root, *[p for p in root.rglob("*") if p.is_dir()]]:
        folder.chmod(0o755)
    return root


LIST = """
    import json
    from codex_ml.registry import list_models
    print(json.dumps([n for n in list_models() if n in {"stylegan", "ddpm", "from-a", "from-b"}]))
"""


def test_cwd_plugins_folder_is_auto_discovered_recursively(tree: Path) -> None:
    env = env_with()
    env.pop("CODEX_ML_PLUGIN_PATH", None)
    assert run_json(LIST, env=env, cwd=tree.parent) == ["ddpm", "from-a", "from-b", "stylegan"]


def test_plugin_path_env_and_model_use(tree: Path, tmp_path: Path) -> None:
    out = run_json("""
        import json
        from codex_ml.registry import get_model, get_model_metadata
        cls = get_model("stylegan")
        meta = get_model_metadata("stylegan")
        print(json.dumps({"forward": cls(None).forward(1), "version": meta["version"],
                          "source": meta["provenance"]["source"], "file": meta["provenance"]["file"]}))
    """, env=env_with(CODEX_ML_PLUGIN_PATH=str(tree)), cwd=tmp_path)
    assert out["forward"] == "stylegan" and out["version"] == "1.0"
    assert out["source"] == "plugin-file" and out["file"].endswith("stylegan.py")


def test_set_auto_discover_false_then_manual(tree: Path, tmp_path: Path) -> None:
    out = run_json("""
        import json
        from codex_ml.registry import discover_plugins, list_models, reset_discovery, set_auto_discover
        set_auto_discover(False)
        before = "ddpm" in list_models()
        discover_plugins()
        after = "ddpm" in list_models()
        reset_discovery()
        report = discover_plugins(force=True)
        print(json.dumps({"before": before, "after": after, "loaded": len(report.loaded)}))
    """, env=env_with(CODEX_ML_PLUGIN_PATH=str(tree)), cwd=tmp_path)
    assert out == {"before": False, "after": True, "loaded": 4}


def test_failed_file_is_skipped_with_a_warning(tree: Path, tmp_path: Path) -> None:
    write(tree / "my_model.py", "import not_a_real_dependency\n")
    proc = run_py(LIST.replace("import json", "import json, warnings; warnings.simplefilter('always')"),
                  env=env_with(CODEX_ML_PLUGIN_PATH=str(tree)), cwd=tree.parent)
    assert "ddpm" in proc.stdout  # the others still load
    assert "Failed to import plugin plugins/my_model.py: ModuleNotFoundError: No module named " \
           "'not_a_real_dependency'" in proc.stderr


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
@pytest.mark.parametrize("victim", ["file", "folder", "root"])
def test_writable_by_others_is_refused(tree: Path, tmp_path: Path, victim: str) -> None:
    target = {"file": tree / "models" / "gans" / "stylegan.py", "folder": tree / "models" / "gans",
              "root": tree}[victim]
    target.chmod(0o777 if target.is_dir() else 0o666)
    proc = run_py(LIST, env=env_with(CODEX_ML_PLUGIN_PATH=str(tree)), cwd=tmp_path)
    names = proc.stdout.strip().splitlines()[-1]
    assert "stylegan" not in names
    assert ("ddpm" in names) is (victim != "root")
    assert "Refused plugin" in proc.stderr and "writable by other users" in proc.stderr


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_symlink_to_world_writable_file_is_refused(tree: Path, tmp_path: Path) -> None:
    outside = write(tmp_path / "elsewhere" / "evil.py", MODEL.format(name="evil"), mode=0o666)
    (tree / "evil.py").symlink_to(outside)
    proc = run_py(LIST.replace('"ddpm",', '"ddpm", "evil",'),
                  env=env_with(CODEX_ML_PLUGIN_PATH=str(tree)), cwd=tmp_path)
    assert "evil" not in proc.stdout.strip().splitlines()[-1]
    assert "Refused plugin" in proc.stderr


def test_plugin_that_recurses_into_discovery(tree: Path, tmp_path: Path) -> None:
    write(tree / "recursive.py", "from codex_ml.registry import list_models, discover_plugins\n"
          "list_models(); discover_plugins(force=True)\n")
    assert "stylegan" in run_json(LIST, env=env_with(CODEX_ML_PLUGIN_PATH=str(tree)), cwd=tmp_path)


def test_auto_refresh_notices_changed_plugin_file(tree: Path, tmp_path: Path) -> None:
    out = run_json(f"""
        import json, pathlib, time
        from codex_ml.registry import get_model, list_models
        first = get_model("ddpm")(None).forward(0)
        time.sleep(0.05)
        path = pathlib.Path({str(tree / "models" / "diffusion" / "ddpm.py")!r})
        path.write_text(path.read_text().replace('return "ddpm"', 'return "ddpm-v2"'))
        second = get_model("ddpm")(None).forward(0)
        print(json.dumps([first, second]))
    """, env=env_with(CODEX_ML_PLUGIN_PATH=str(tree), CODEX_ML_REGISTRY_AUTO_REFRESH="1"), cwd=tmp_path)
    assert out == ["ddpm", "ddpm-v2"]


def test_a_missing_plugin_folder_is_reported_not_ignored(tree: Path, tmp_path: Path) -> None:
    """In-process (isolated world): a typo in CODEX_ML_PLUGIN_PATH warns and is in the report;
    a missing folder passed to discover_plugins is an error before anything is imported."""
    from codex_ml.registry import PluginWarning, discover_plugins, model_registry, plugin_dir_report
    from codex_ml.registry.testing import isolated

    missing, a_file, dangling = tmp_path / "plugns", tmp_path / "notes.txt", tmp_path / "gone"
    a_file.write_text("not a folder")
    dangling.symlink_to(tmp_path / "nowhere")
    with isolated(env={"CODEX_ML_PLUGIN_PATH": os.pathsep.join(map(str, (tree, missing, a_file, dangling)))}):
        with pytest.warns(PluginWarning, match=r"Plugin folder \S*plugns does not exist: nothing is imported "
                                               r"from it\. Fix: create it, or correct CODEX_ML_PLUGIN_PATH"):
            assert "ddpm" in model_registry.list()  # the folder that exists still loads
        assert plugin_dir_report().missing == {str(missing): "does not exist", str(a_file): "is a file, not a folder",
                                               str(dangling): "is a link to nothing"}
        with pytest.raises(FileNotFoundError, match=r"plugin folder '\S*plugns' does not exist \(given to "
                                                    r"discover_plugins\); nothing was imported\. Fix: create it"):
            discover_plugins(paths=[tree, missing], force=True)
        assert plugin_dir_report().missing != {}  # the failed call changed nothing


def test_doctor_names_a_missing_plugin_folder(tmp_path: Path) -> None:
    from test_cli_app_support import clean_env, codex_ml, parsed

    proc = codex_ml("doctor", "--json", "--timeout", "0", cwd=tmp_path,
                    env=clean_env(CODEX_ML_PLUGIN_PATH=str(tmp_path / "plugns")))
    data = parsed(proc)
    assert proc.returncode == 1 and data["ok"] is False
    assert data["plugin_files"]["missing"] == [{"path": "plugns", "reason": "does not exist"}]  # shown relative
