"""Safe artefacts (issue 6, part 3): checksums verified, pickles never executed.

* A ``SHA256SUMS`` manifest (``sha256sum`` format) beside offline artefacts is
  verified before anything is loaded: a mismatch, a listed file that is
  missing or a malformed manifest is refused naming the file; a match loads;
  no manifest loads unchecked. Checked through the real catalogue loaders,
  pointed at copies of the fixtures by their environment variables.
* ``.bin`` weights and training state load with ``weights_only=True``: a
  pickle whose payload would create a file is refused, and the file is never
  created.
"""

from __future__ import annotations

import hashlib
import pickle
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from _support import FILE_FIXTURES

from codex_ml.catalogue import integrity, paths
from codex_ml.catalogue.integrity import IntegrityError
from codex_ml.registry import model_registry

FIXTURES = FILE_FIXTURES  # resource id -> (its own environment variable, registry, catalogue name)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_manifest(folder: Path, *names: str, binary: bool = False) -> Path:
    sep = " *" if binary else "  "
    lines = [f"{sha256(folder / n)}{sep}{n}\n" for n in names]
    manifest = folder / "SHA256SUMS"
    manifest.write_text("# written by sha256sum\n" + "".join(lines))
    return manifest


def fixture_copy(resource: str, folder: Path) -> Path:
    packaged = paths.packaged_path(resource)
    assert packaged is not None and packaged.is_file()
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(packaged, folder / packaged.name))


# -------------------------------------------------------- the manifest itself
def test_match_is_accepted_and_reports_what_it_checked(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{}")
    (tmp_path / "b.bin").write_bytes(b"\x00\x01")
    write_manifest(tmp_path, "a.json")
    (tmp_path / "SHA256SUMS").write_text((tmp_path / "SHA256SUMS").read_text()
                                         + f"{sha256(tmp_path / 'b.bin')} *b.bin\n")
    assert integrity.verify_directory(tmp_path) == ["a.json", "b.bin"]
    assert integrity.verify_file(tmp_path / "a.json") is True
    assert integrity.verify_file(tmp_path / "unlisted.txt") is False


def test_missing_manifest_is_accepted_unchecked(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{}")
    assert integrity.verify_directory(tmp_path) == []
    assert integrity.verify_file(tmp_path / "a.json") is False


def test_mismatch_is_refused_naming_the_file(tmp_path: Path) -> None:
    target = tmp_path / "weights.bin"
    target.write_bytes(b"original")
    write_manifest(tmp_path, "weights.bin", binary=True)
    target.write_bytes(b"replaced")
    with pytest.raises(IntegrityError, match=re.escape(f"checksum mismatch for {target}")) as info:
        integrity.verify_directory(tmp_path)
    assert isinstance(info.value, ValueError)
    assert "refusing to load it" in str(info.value) and sha256(target) in str(info.value)


def test_listed_but_missing_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "gone.json").write_text("{}")
    write_manifest(tmp_path, "gone.json")
    (tmp_path / "gone.json").unlink()
    with pytest.raises(IntegrityError, match=re.escape(f"{tmp_path / 'gone.json'} is listed in")):
        integrity.verify_directory(tmp_path)


@pytest.mark.parametrize("line", ["not a checksum line", "abc123  short.json", "0" * 64 + "model.bin"])
def test_malformed_manifest_is_refused_with_its_line(tmp_path: Path, line: str) -> None:
    (tmp_path / "SHA256SUMS").write_text(f"{'0' * 64}  fine.json\n{line}\n")
    with pytest.raises(IntegrityError, match=re.escape(f"SHA256SUMS:2: malformed line {line!r}")):
        integrity.verify_directory(tmp_path)


# ------------------------------------------------- through the real loaders
@pytest.mark.parametrize("resource", sorted(FIXTURES))
def test_catalogue_fixture_with_matching_manifest_loads(resource: str, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    env, registry, name = FIXTURES[resource]
    copy = fixture_copy(resource, tmp_path / "artefacts")
    write_manifest(copy.parent, copy.name)
    monkeypatch.setenv(env, str(copy.parent))
    assert registry.create(name) is not None


@pytest.mark.parametrize("resource", sorted(FIXTURES))
def test_catalogue_fixture_that_does_not_match_is_refused(resource: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    env, registry, name = FIXTURES[resource]
    copy = fixture_copy(resource, tmp_path / "artefacts")
    write_manifest(copy.parent, copy.name)
    with open(copy, "a", encoding="utf-8") as handle:
        handle.write("\n")  # a one-byte change: still valid content, but not what was shipped
    monkeypatch.setenv(env, str(copy.parent))
    with pytest.raises(IntegrityError, match=re.escape(f"checksum mismatch for {copy}")):
        registry.create(name)


# ---------------------------------------------------------------- pickles
class _Payload:
    """Unpickling this runs ``exec``: it would create the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (exec, (f"import pathlib; pathlib.Path({str(self.marker)!r}).write_text('pwned')",))


@pytest.fixture
def torch_mod() -> Any:
    return pytest.importorskip("torch")


@pytest.mark.parametrize("fmt", ["zip", "legacy"])
def test_malicious_pickle_bin_is_refused_and_never_runs(torch_mod: Any, tmp_path: Path, fmt: str) -> None:
    from codex_ml.models.hf_offline import UnsafeCheckpointError, safe_torch_load

    marker = tmp_path / "pwned"
    weights = tmp_path / "pytorch_model.bin"
    state = {"transformer.wte.weight": torch_mod.zeros(2, 2), "evil": _Payload(marker)}
    if fmt == "zip":
        torch_mod.save(state, weights)
    else:  # a bare pickle, as very old checkpoints are
        with open(weights, "wb") as handle:
            pickle.dump(state, handle)
    with pytest.raises(UnsafeCheckpointError, match=re.escape(f"refusing to load {weights}")) as info:
        safe_torch_load(weights)
    assert "weights_only=True" in str(info.value) and info.value.__cause__ is not None
    assert not marker.exists()


def test_malicious_bin_checkpoint_folder_is_refused_by_the_catalogue(torch_mod: Any, tmp_path: Path) -> None:
    """gpt2-offline pointed at a folder whose pytorch_model.bin carries a payload."""
    pytest.importorskip("transformers")
    from transformers import GPT2Config

    from codex_ml.models.hf_offline import UnsafeCheckpointError

    folder = tmp_path / "gpt2"
    folder.mkdir()
    GPT2Config(vocab_size=16, n_positions=8, n_embd=8, n_layer=1, n_head=1).save_pretrained(folder)
    marker = tmp_path / "pwned"
    torch_mod.save({"transformer.wte.weight": torch_mod.zeros(16, 8), "evil": _Payload(marker)},
                   folder / "pytorch_model.bin")
    with pytest.raises(UnsafeCheckpointError, match=re.escape(f"refusing to load {folder / 'pytorch_model.bin'}")):
        model_registry.create("gpt2-offline", path=str(folder))
    assert not marker.exists()


def test_tampered_weights_are_refused_before_loading(torch_mod: Any, tmp_path: Path) -> None:
    """A manifest in a checkpoint folder: the weights' digest is checked before torch reads them."""
    pytest.importorskip("transformers")
    from transformers import GPT2Config

    folder = tmp_path / "gpt2"
    folder.mkdir()
    GPT2Config(vocab_size=16, n_positions=8, n_embd=8, n_layer=1, n_head=1).save_pretrained(folder)
    marker = tmp_path / "pwned"
    torch_mod.save({"transformer.wte.weight": torch_mod.zeros(16, 8)}, folder / "pytorch_model.bin")
    write_manifest(folder, "config.json", "pytorch_model.bin")
    torch_mod.save({"evil": _Payload(marker)}, folder / "pytorch_model.bin")  # swapped afterwards
    with pytest.raises(IntegrityError, match=re.escape(f"checksum mismatch for {folder / 'pytorch_model.bin'}")):
        model_registry.create("gpt2-offline", path=str(folder))
    assert not marker.exists()


def test_malicious_training_state_never_runs(torch_mod: Any, tmp_path: Path) -> None:
    from codex_ml.training import checkpoint

    folder = checkpoint.folder_for(tmp_path, 1)
    folder.mkdir(parents=True)
    marker = tmp_path / "pwned"
    torch_mod.save({"step": 1, "evil": _Payload(marker)}, folder / checkpoint.STATE)
    with pytest.raises(Exception):  # noqa: B017  (the type is pinned by the next test)
        checkpoint.load_state(folder)
    assert not marker.exists()


def test_malicious_training_state_is_a_clear_checkpoint_error(torch_mod: Any, tmp_path: Path) -> None:
    from codex_ml.training import checkpoint
    from codex_ml.training.errors import CheckpointError

    folder = checkpoint.folder_for(tmp_path, 1)
    folder.mkdir(parents=True)
    torch_mod.save({"step": 1, "evil": _Payload(tmp_path / "pwned")}, folder / checkpoint.STATE)
    with pytest.raises(CheckpointError, match=re.escape(f"could not read {folder / checkpoint.STATE}")):
        checkpoint.load_state(folder)


def test_shipped_fixtures_pass_their_own_checks() -> None:
    """Whatever manifest ships inside the package matches the files it ships with."""
    for manifest in paths.FIXTURES_DIR.rglob(integrity.MANIFEST_NAME):
        integrity.verify_directory(manifest.parent)
    for resource in FIXTURES:
        packaged = paths.packaged_path(resource)
        assert packaged is not None
        integrity.verify(packaged)
