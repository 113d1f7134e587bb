"""What commands write where the user points them, and what they read back (docs/reliability.md,
"Hostile neighbours"): docs, reports, plots and exports go only into folders no other account can
change, and a link planted at a file's name is replaced, never followed; the token cache is private;
an export another account made is never loaded; ``python -m codex_ml.cli`` imports nothing from the
working folder.

"Another account" is uid 65534 (``nobody``), given to a file with ``lchown``; where that is not
allowed the tests that need it skip.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _support import env_with
from test_cli_app_support import clean_env, codex_ml

from codex_ml.registry._errors import UnsafeFileError
from codex_ml.utils.outputs import write_output

OTHER = 65534


def as_other(path: Path) -> Path:
    """``path`` (a file, folder or link) now owned by another account."""
    try:
        os.lchown(path, OTHER, OTHER)
    except PermissionError:
        pytest.skip("needs root, to give a file to another account")
    return path


def own_folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o755)
    return path


# ------------------------------------------------------------- written files
def test_an_output_in_a_folder_others_can_write_is_refused(tmp_path: Path) -> None:
    shared = own_folder(tmp_path / "shared")
    shared.chmod(0o777)
    with pytest.raises(UnsafeFileError, match=r"refusing to write into \S+shared: .*writable by other users.*"
                                              r"Fix: give --out a folder only you \(or root\) can write\."):
        write_output(shared / "report.html", "<html>", "--out")
    assert list(shared.iterdir()) == []


def test_a_link_planted_at_the_output_name_is_replaced_not_followed(tmp_path: Path) -> None:
    mine = own_folder(tmp_path / "site")
    secret = tmp_path / "bashrc"
    secret.write_text("the victim's own file\n")
    (mine / "index.html").symlink_to(secret)
    write_output(mine / "index.html", "<html>site</html>", "--out")
    assert secret.read_text() == "the victim's own file\n"
    assert not (mine / "index.html").is_symlink() and (mine / "index.html").read_text() == "<html>site</html>"


def test_an_output_folder_reached_through_another_accounts_link_is_refused(tmp_path: Path) -> None:
    target = own_folder(tmp_path / "victim-home")
    link = tmp_path / "out"
    link.symlink_to(target)
    as_other(link)
    with pytest.raises(UnsafeFileError, match=r"refusing to write into \S+out: .*symlink.*owned by uid 65534"):
        write_output(link / "cmp.png", b"png", "--out")
    assert list(target.iterdir()) == []


def test_docs_build_and_report_refuse_a_folder_others_can_write(tmp_path: Path) -> None:
    shared = own_folder(tmp_path / "shared")
    shared.chmod(0o777)
    proc = codex_ml("docs", "build", "--out", str(shared / "registries"), cwd=tmp_path)
    assert proc.returncode == 1 and "refusing to write into" in proc.stderr and "writable by other users" in proc.stderr
    assert not (shared / "registries" / "index.md").exists()
    proc = codex_ml("report", str(tmp_path), "--out", str(shared / "report.html"), cwd=tmp_path)
    assert proc.returncode == 1 and not (shared / "report.html").exists()


# ----------------------------------------------------------------- the guides
def test_guides_with_a_link_or_raw_html_cannot_leak_or_script(tmp_path: Path) -> None:
    pytest.importorskip("markdown")
    pytest.importorskip("jinja2")
    docs = own_folder(tmp_path / "docs")
    secret = tmp_path / "ssh_secret"
    secret.write_text("PRIVATE KEY")
    secret.chmod(0o600)
    (docs / "index.md").write_text('# Home\n\n<script>document.title="pwned"</script>\n\n![logo](logo.png)\n'
                                   '[click](javascript:alert(1))\n\n`<!-- kept in code -->`\n')
    (docs / "logo.png").symlink_to(secret)
    as_other(docs / "logo.png")  # another account's link: what it leads to is never published
    proc = codex_ml("docs", "build", "--format", "html", "--out", "site", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout
    assert "refusing to read" in proc.stderr and "logo.png" in proc.stderr and "owned by uid 65534" in proc.stderr
    (docs / "logo.png").unlink()
    (docs / "logo.png").write_bytes(b"\x89PNG")
    proc = codex_ml("docs", "build", "--format", "html", "--out", "site", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    page = (tmp_path / "site" / "docs" / "index.html").read_text()
    assert "<script>document.title" not in page and "&lt;script&gt;document.title" in page
    assert "javascript:" not in page and "&lt;!-- kept in code --&gt;" in page
    assert (tmp_path / "site" / "docs" / "logo.png").read_bytes() == b"\x89PNG"


def test_guides_in_a_folder_others_can_write_are_refused(tmp_path: Path) -> None:
    docs = own_folder(tmp_path / "docs")
    (docs / "index.md").write_text("# Home\n")
    docs.chmod(0o777)
    proc = codex_ml("docs", "build", "--format", "html", "--out", "site", cwd=tmp_path)
    assert proc.returncode == 1 and "refusing to read" in proc.stderr and "writable by other users" in proc.stderr


# ------------------------------------------------------------ the token cache
def _lines(path: Path) -> Path:
    path.write_text("".join(f"line {i} of the private corpus\n" for i in range(300)))
    return path


def test_a_token_cache_reached_through_another_accounts_link_is_refused(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from codex_ml.data.lines import LinesDataset
    from codex_ml.tokenizers.bytes import ByteTokenizer
    from codex_ml.training.errors import TrainingConfigError
    from codex_ml.training.token_cache import cached_tokens

    home = own_folder(tmp_path / "victim-home")
    shared = own_folder(tmp_path / "shared")
    (shared / ".token-cache").symlink_to(home)
    as_other(shared / ".token-cache")
    monkeypatch.delenv("CODEX_ML_CACHE_DIR", raising=False)
    with pytest.raises(TrainingConfigError, match=r"refusing the token cache \S+\.token-cache: .*symlink.*owned by "
                                                  r"uid 65534.*read the corpus"):
        cached_tokens({"training": {"output_dir": str(shared)}}, LinesDataset(_lines(tmp_path / "c.txt")),
                      ByteTokenizer())
    assert list(home.iterdir()) == []


def test_token_cache_files_are_readable_by_their_owner_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from codex_ml.data.lines import LinesDataset
    from codex_ml.tokenizers.bytes import ByteTokenizer
    from codex_ml.training.token_cache import cached_tokens

    monkeypatch.setenv("CODEX_ML_CACHE_DIR", str(own_folder(tmp_path / "cache")))
    bin_file, _ = cached_tokens({}, LinesDataset(_lines(tmp_path / "c.txt")), ByteTokenizer())
    assert {oct(p.stat().st_mode & 0o777) for p in bin_file.parent.iterdir()} == {"0o600"}


def test_a_corpus_changed_while_it_is_tokenised_leaves_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Changed and put back while the ids are written: the hash matches again, the ids do not."""
    from codex_ml.data.lines import LinesDataset
    from codex_ml.tokenizers.bytes import ByteTokenizer
    from codex_ml.training.errors import TrainingConfigError
    from codex_ml.training.token_cache import cached_tokens

    class Rewritten(LinesDataset):
        def __iter__(self):  # type: ignore[no-untyped-def]
            for number, line in enumerate(super().__iter__()):
                if number == 10:  # another writer: other bytes, then the original ones again
                    original = Path(self.path).read_bytes()
                    Path(self.path).write_bytes(b"X" * len(original))
                    Path(self.path).write_bytes(original)
                yield line

    cache = own_folder(tmp_path / "cache")
    monkeypatch.setenv("CODEX_ML_CACHE_DIR", str(cache))
    with pytest.raises(TrainingConfigError, match=r"c\.txt changed while it was being tokenised, so its token ids "
                                                  r"were not kept.*Fix: run again"):
        cached_tokens({}, Rewritten(_lines(tmp_path / "c.txt")), ByteTokenizer())
    assert list((cache / "tokens").iterdir()) == []


# ------------------------------------------------------------------- exports
def test_an_export_another_account_made_is_not_loaded(tmp_path: Path) -> None:
    from codex_ml.training.runs import EXPORT_MANIFEST, load_run

    export = own_folder(tmp_path / "mexp")
    (export / EXPORT_MANIFEST).write_text(json.dumps({"format": "codex_ml.decoder"}))
    (export / "model.safetensors").write_bytes(b"weights")
    as_other(export / "model.safetensors")
    with pytest.raises(UnsafeFileError, match=r"refusing to read \S+model\.safetensors: .*owned by uid 65534"):
        load_run(export)


@pytest.mark.parametrize(("manifest", "problem"), [
    ("{oops", r"is not valid JSON"),
    (json.dumps({"format": "codex_ml.decoder"}), r"lacks model\.config or tokenizer"),
])
def test_a_damaged_export_manifest_is_named(tmp_path: Path, manifest: str, problem: str) -> None:
    from codex_ml.training.errors import TrainingConfigError
    from codex_ml.training.runs import EXPORT_MANIFEST, load_run

    export = own_folder(tmp_path / "exp")
    (export / EXPORT_MANIFEST).write_text(manifest)
    with pytest.raises(TrainingConfigError, match=rf"\S+codex_ml_model\.json {problem}.*Fix: export the run again"):
        load_run(export)


def test_export_refuses_a_folder_others_can_write(tmp_path: Path) -> None:
    from codex_ml.training.export import export_run

    shared = own_folder(tmp_path / "shared")
    shared.chmod(0o777)
    with pytest.raises(UnsafeFileError, match=r"refusing to write into \S+shared: .*Fix: give out= a folder"):
        export_run(tmp_path / "no-run", shared / "exp")


# ------------------------------------------------------ python -m codex_ml.cli
@pytest.mark.parametrize("module", ["codex_ml.cli", "codex_ml.cli.app"])
def test_python_m_imports_no_hydra_plugins_from_the_working_folder(tmp_path: Path, module: str) -> None:
    marker = tmp_path / "PWNED"
    plugin = tmp_path / "hydra_plugins" / "evil" / "__init__.py"
    plugin.parent.mkdir(parents=True)
    plugin.write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    proc = subprocess.run([sys.executable, "-m", module, "train", "--cfg", "job"], cwd=tmp_path,
                          env=env_with(**clean_env()), capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert not marker.exists()  # Hydra scans hydra_plugins on sys.path: the working folder is not on it


def test_a_sweep_folder_others_can_write_is_refused_before_hydra_writes_into_it(tmp_path: Path) -> None:
    pytest.importorskip("hydra")
    shared = own_folder(tmp_path / "sweep")
    shared.chmod(0o777)
    proc = codex_ml("train", "-cn", "offline/tiny_fixtures", "-m", "training.seed=1", f"hydra.sweep.dir={shared}",
                    cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert f"codex-ml train: error: refusing to write into {shared}: it is writable by other users" in proc.stderr
    assert list(shared.iterdir()) == []  # no multirun.yaml, no job folder


def test_a_sticky_shared_folder_like_tmp_takes_new_outputs(tmp_path: Path) -> None:
    sticky = own_folder(tmp_path / "tmp")
    sticky.chmod(0o1777)
    write_output(sticky / "report.html", "<html>", "--out")
    assert (sticky / "report.html").read_text() == "<html>"


def test_a_refused_output_leaves_no_folder_behind(tmp_path: Path) -> None:
    shared = own_folder(tmp_path / "shared")
    shared.chmod(0o777)
    with pytest.raises(UnsafeFileError):
        write_output(shared / "new" / "deeper" / "x.png", b"png", "--out")
    assert list(shared.iterdir()) == []


def test_an_edited_export_model_config_is_named(tmp_path: Path) -> None:
    from codex_ml.training.errors import TrainingConfigError
    from codex_ml.training.runs import EXPORT_MANIFEST, load_run

    export = own_folder(tmp_path / "exp")
    (export / EXPORT_MANIFEST).write_text(json.dumps({"format": "codex_ml.decoder", "model": {"config": {"bogus": 1}},
                                                      "tokenizer": {"name": "offline:bytes"}}))
    with pytest.raises(TrainingConfigError, match=r"codex_ml_model\.json: its model\.config does not describe the "
                                                  r"decoder \(.*bogus.*\)\. Fix: export the run again\."):
        load_run(export)


def test_a_guide_the_user_linked_from_their_own_file_is_published(tmp_path: Path) -> None:
    pytest.importorskip("markdown")
    pytest.importorskip("jinja2")
    docs = own_folder(tmp_path / "docs")
    (docs / "index.md").write_text("# Home\n\nSee [the changes](CHANGELOG.md).\n")
    (tmp_path / "CHANGELOG.md").write_text("# Changes\n\nversion 2\n")
    (docs / "CHANGELOG.md").symlink_to(tmp_path / "CHANGELOG.md")  # the user's own link, to their own file
    proc = codex_ml("docs", "build", "--format", "html", "--out", "site", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "version 2" in (tmp_path / "site" / "docs" / "CHANGELOG.html").read_text()
