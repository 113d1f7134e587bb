"""Files read implicitly, and artefacts confined to their folder (issue 10, items 3 and 9).

* Fixture JSON, corpora and small pointer files are regular files opened
  without blocking, size-limited, and (where implicit) in folders owned by
  the user or root that others cannot write.
* ``SHA256SUMS`` and ``*.index.json`` may only name files inside the model
  folder; a violation says nothing about the outside file.

Attacks that need another account use real ones (tests/_accounts.py).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from _accounts import Accounts, accounts_fixture  # noqa: F401  (the fixture)
from _support import FILE_FIXTURES

from codex_ml.catalogue import integrity, paths
from codex_ml.catalogue.integrity import IntegrityError
from codex_ml.catalogue.jsonfile import MAX_FIXTURE_BYTES, FixtureError, load_json_object
from codex_ml.data.lines import LinesDataset
from codex_ml.data.tiny_corpus import TinyCorpus
from codex_ml.models.hf_offline import ShardIndexError, load_local_causal_lm, read_index
from codex_ml.registry import reward_model_registry
from codex_ml.registry._errors import UnsafeFileError
from codex_ml.registry._fsafe import read_small_file

REWARD = paths.packaged_path("length_reward")


def copy_reward(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    assert REWARD is not None
    return Path(shutil.copy(REWARD, folder / REWARD.name))


# ------------------------------------------------------- implicit small files
def test_a_fifo_fixture_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "length_reward.json"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(UnsafeFileError, match=re.escape(f"refusing to read {fifo}: it is not a regular file")):
        load_json_object(fifo, "length reward configuration")
    with pytest.raises(UnsafeFileError, match="not a regular file"):
        TinyCorpus.from_file(fifo)
    assert time.monotonic() - started < 5


def test_a_device_or_oversized_fixture_is_refused(tmp_path: Path) -> None:
    (tmp_path / "zero.json").symlink_to("/dev/zero")
    with pytest.raises(UnsafeFileError, match=re.escape("its symlink target /dev/zero is writable by other users")):
        load_json_object(tmp_path / "zero.json", "length reward configuration")
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as handle:
        handle.truncate(MAX_FIXTURE_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(UnsafeFileError, match=re.escape(f"{huge}: it holds {MAX_FIXTURE_BYTES + 1} bytes, more than")):
        load_json_object(huge, "length reward configuration")


def test_pointer_files_are_read_without_following_links(tmp_path: Path) -> None:
    (tmp_path / "latest").write_text("step-2\n")
    assert read_small_file(tmp_path / "latest", max_bytes=4096) == b"step-2\n"
    (tmp_path / "linked").symlink_to(tmp_path / "latest")
    with pytest.raises(UnsafeFileError, match="it is a symbolic link, and links are not followed here"):
        read_small_file(tmp_path / "linked", max_bytes=4096)
    with pytest.raises(UnsafeFileError, match="it holds 7 bytes, more than the 3 allowed here"):
        read_small_file(tmp_path / "latest", max_bytes=3)


FIXTURE_PROBE = """
    import json
    from codex_ml.registry import reward_model_registry
    try:
        reward_model_registry.create("offline:length")
        print(json.dumps("loaded"))
    except Exception as exc:
        print(json.dumps(f"{type(exc).__name__}: {exc}"))
"""


def test_a_fixture_planted_in_a_shared_working_folder_is_refused(accounts: Accounts) -> None:
    """The victim works in a sticky /tmp-like folder; the attacker plants the seed path there."""
    acc = accounts
    shared = acc.folder("shared-cwd", None, 0o1777)
    planted = acc.folder("shared-cwd/data", acc.attacker)
    acc.folder("shared-cwd/data/offline", acc.attacker)
    config = acc.file(planted / "offline" / "length_reward.json", REWARD.read_text(), acc.attacker)  # type: ignore[union-attr]
    proc = acc.run(acc.victim, FIXTURE_PROBE, cwd=shared)
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out == (f"UnsafeFileError: refusing to read {config}: the folder {planted} on its path is owned by uid "
                   f"{acc.attacker.uid} ({acc.attacker.name}), not by you or root. Another account could have put "
                   "it there or could change it. Fix: keep the file (a regular file) in folders owned by you or root "
                   "that only you can write (chown, chmod go-w), or point codex_ml at another copy.")
    mine = acc.folder("mine-cwd", acc.victim)
    acc.folder("mine-cwd/data/offline", acc.victim)
    acc.file(mine / "data" / "offline" / "length_reward.json", REWARD.read_text(), acc.victim)  # type: ignore[union-attr]
    proc = acc.run(acc.victim, FIXTURE_PROBE, cwd=mine)
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == "loaded"


@pytest.mark.parametrize("resource", sorted(FILE_FIXTURES))
def test_every_fixture_in_a_folder_others_can_write_is_refused(resource: str, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    env, registry, name = FILE_FIXTURES[resource]
    packaged = paths.packaged_path(resource)
    assert packaged is not None
    folder = tmp_path / "open"
    folder.mkdir()
    copy = Path(shutil.copy(packaged, folder / packaged.name))
    folder.chmod(0o777)
    monkeypatch.setenv(env, str(folder))
    with pytest.raises(UnsafeFileError, match=re.escape(f"refusing to read {copy}: the folder {folder} on its "
                                                        "path is writable by other users (mode 777)")):
        registry.create(name)
    folder.chmod(0o755)
    assert registry.create(name) is not None


def test_json_fixture_errors_name_the_file(tmp_path: Path) -> None:
    config = copy_reward(tmp_path)
    for text, problem in [("{\"scale\": " + "9" * 5000 + "}", "is not usable JSON: Exceeds the limit"),
                          ("[" * 100_000, "is not usable JSON: it nests deeper than the parser allows"),
                          ("[1, 2]", "must hold a JSON object"),
                          ("{\"oops\": 1,,}", "is not valid JSON")]:
        config.write_text(text)
        with pytest.raises(FixtureError, match=re.escape(f"{config} {problem}")):
            load_json_object(config, "length reward configuration")
    data = json.loads(REWARD.read_text())  # type: ignore[union-attr]
    config.write_text(json.dumps({**data, "target_length": [[["deep"]]]}))
    with pytest.raises(ValueError, match=re.escape(str(config))):
        reward_model_registry.create("offline:length", path=str(config))


def test_a_corpus_swapped_for_a_fifo_after_the_check_is_an_error_not_a_hang(tmp_path: Path) -> None:
    corpus = tmp_path / "train.txt"
    corpus.write_text("one\ntwo\n")
    dataset = LinesDataset(corpus)
    assert list(dataset) == ["one", "two"]
    corpus.unlink()
    os.mkfifo(corpus)
    with pytest.raises(UnsafeFileError, match="not a regular file"):
        list(dataset)


# ------------------------------------------------------------ SHA256SUMS
OUTSIDE_NAMES = ["../secret.bin", "{abs}", "link.bin"]


def _manifest_error(folder: Path, name: str) -> str:
    (folder / "SHA256SUMS").write_text(f"{'0' * 64}  {name}\n")
    with pytest.raises(IntegrityError) as info:
        integrity.verify_directory(folder)
    return str(info.value)


@pytest.mark.parametrize("name", OUTSIDE_NAMES)
def test_a_manifest_naming_a_file_outside_reveals_nothing(tmp_path: Path, name: str) -> None:
    folder, secret = tmp_path / "model", tmp_path / "secret.bin"
    folder.mkdir()
    name = name.format(abs=secret)
    (folder / "link.bin").symlink_to(secret)
    absent = _manifest_error(folder, name)
    secret.write_bytes(b"outside")
    present = _manifest_error(folder, name)
    assert present == absent  # the same words whether or not the outside file exists
    assert present.startswith(f"{folder / 'SHA256SUMS'}:1: {name!r} is not a file inside {folder}")
    assert integrity.sha256_file(secret) not in present and "missing" not in present


MANIFEST_PROBE = """
    import json
    from pathlib import Path
    from codex_ml.catalogue import integrity
    try:
        integrity.verify_directory(Path({folder!r}))
        print(json.dumps("accepted"))
    except Exception as exc:
        print(json.dumps(f"{{type(exc).__name__}}: {{exc}}"))
"""


def test_a_manifest_cannot_probe_another_accounts_files(accounts: Accounts) -> None:
    """Run as the victim: a file it may not read and a file that does not exist give the same refusal."""
    acc = accounts
    private = acc.folder("attacker-home", acc.attacker, 0o700)
    acc.file(private / "key", "secret", acc.attacker, 0o600)
    model = acc.folder("victim-model", acc.victim)
    answers = []
    for name in (f"{private}/key", f"{private}/nothing", "../attacker-home/key", "../attacker-home/nothing"):
        acc.file(model / "SHA256SUMS", f"{'0' * 64}  {name}\n", acc.victim)
        proc = acc.run(acc.victim, MANIFEST_PROBE.format(folder=str(model)))
        answers.append(json.loads(proc.stdout.strip().splitlines()[-1]).replace(name, "NAME"))
    assert len(set(answers)) == 1 and "is not a file inside" in answers[0]


def test_a_manifest_entry_that_is_a_fifo_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "weights.bin")
    (tmp_path / "SHA256SUMS").write_text(f"{'0' * 64}  weights.bin\n")
    with pytest.raises(IntegrityError, match=re.escape(f"{tmp_path / 'weights.bin'} is listed in")):
        integrity.verify_directory(tmp_path)


# ------------------------------------------------------ shard index files
def _index(folder: Path, data: Any, name: str = "model.safetensors.index.json") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    index = folder / name
    index.write_text(data if isinstance(data, str) else json.dumps(data))
    return index


@pytest.mark.parametrize("shard", ["../outside.safetensors", "{abs}", "link.safetensors"])
def test_a_shard_outside_the_model_folder_is_refused(tmp_path: Path, shard: str) -> None:
    folder, outside = tmp_path / "model", tmp_path / "outside.safetensors"
    shard = shard.format(abs=outside)
    index = _index(folder, {"metadata": {"total_size": 8}, "weight_map": {"w": shard}})
    (folder / "link.safetensors").symlink_to(outside)
    messages = []
    for exists in (False, True):
        if exists:
            outside.write_bytes(b"\0" * 8)
        with pytest.raises(ShardIndexError) as info:
            read_index(index)
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    assert messages[0].startswith(f"shard index {index} names {shard!r}, which is not a file inside {folder}")


@pytest.mark.parametrize("data, problem", [
    ([], "must hold a JSON object, found list"),
    ({"metadata": {}}, "needs a non-empty 'weight_map' object"),
    ({"weight_map": {"w": 7}}, "weight_map['w'] must be a shard file name, found 7"),
    ({"weight_map": {"w": "a.safetensors"}, "metadata": {"x": {"y": [1]}}}, "'metadata' must be a flat object"),
    ({"weight_map": {"w": "a.safetensors"}, "extra": 1}, "has unknown keys ['extra']"),
    ("[" * 100_000, "is not usable JSON: it nests deeper"),
    ('{"weight_map": {"w": "a.safetensors"}, "metadata": {"total_size": ' + "1" * 5000 + "}}",
     "is not usable JSON: Exceeds the limit"),
])
def test_a_malformed_index_names_the_file(tmp_path: Path, data: Any, problem: str) -> None:
    index = _index(tmp_path / "model", data)
    with pytest.raises(ValueError, match=re.escape(problem)) as info:
        read_index(index)
    assert str(index) in str(info.value)


def test_shards_must_be_regular_files_and_are_checked_before_loading(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    index = _index(folder, {"weight_map": {"a": "a.bin", "b": "b.bin"}}, "pytorch_model.bin.index.json")
    (folder / "a.bin").write_bytes(b"")
    os.mkfifo(folder / "b.bin")
    (folder / "config.json").write_text("{}")
    started = time.monotonic()
    with pytest.raises(ShardIndexError, match=re.escape(f"{folder / 'b.bin'} is not a regular file")):
        load_local_causal_lm(folder)
    assert time.monotonic() - started < 30
    (folder / "b.bin").unlink()
    with pytest.raises(FileNotFoundError, match=re.escape(f"shard index {index} names 'b.bin', but")):
        read_index(index)


def test_weights_that_are_a_symlink_out_of_the_folder_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (tmp_path / "elsewhere.safetensors").write_bytes(b"\0")
    (folder / "model.safetensors").symlink_to(tmp_path / "elsewhere.safetensors")
    with pytest.raises(ShardIndexError, match=re.escape(f"names 'model.safetensors', which is not a file inside {folder}")):
        load_local_causal_lm(folder)


PLAN_AS = """
import json
from codex_ml.training.runplan import plan_run
from codex_ml.training.settings import TrainSettings
out = {}
for name in ("planted", "linked", "mine", "own-link"):
    try:
        plan = plan_run({}, None, TrainSettings(output_dir=%r, run_name=name))
        plan.lock.release()
        out[name] = "accepted"
    except Exception as exc:
        out[name] = str(exc)
try:
    plan_run({}, None, TrainSettings(output_dir=%r, run_name="r"))
    out["open"] = "accepted"
except Exception as exc:
    out["open"] = str(exc)
print(json.dumps(out))
"""


def test_a_run_folder_another_account_planted_or_can_swap_is_refused(accounts: Accounts) -> None:
    """The attacker makes the victim's next run folder in a shared sticky folder (its own folder,
    or a link to one), or the victim's output folder lets anyone rename what is in it."""
    acc = accounts
    shared = acc.folder("runs-shared", None, 0o1777)  # /tmp-like: sticky, world-writable
    acc.folder("runs-shared/planted", acc.attacker, 0o777)
    theirs = acc.folder("attacker-runs", acc.attacker, 0o777)
    (shared / "linked").symlink_to(theirs)
    os.lchown(shared / "linked", acc.attacker.uid, acc.attacker.gid)
    acc.folder("runs-shared/mine", acc.victim, 0o755)
    acc.folder("victim-scratch/big", acc.victim, 0o755)
    (shared / "own-link").symlink_to(acc.base / "victim-scratch" / "big")  # the victim's own link
    os.lchown(shared / "own-link", acc.victim.uid, acc.victim.gid)
    open_folder = acc.folder("runs-open", None, 0o777)  # world-writable, no sticky bit
    proc = acc.run(acc.victim, PLAN_AS % (str(shared), str(open_folder)))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["mine"] == out["own-link"] == "accepted"  # the victim's own folder, and own link
    assert out["planted"].startswith(f"refusing to write a run into {shared / 'planted'}: it is owned by "
                                     f"uid {acc.attacker.uid} ({acc.attacker.name}), not by you or root.")
    assert out["linked"].startswith(f"refusing to write a run into {shared / 'linked'}: the symlink "
                                    f"{shared / 'linked'} on its path is owned by uid {acc.attacker.uid}")
    assert out["open"].startswith(f"refusing to write a run into {open_folder / 'r'}: the folder "
                                  f"{open_folder} on its path is writable by other users (mode 777).")
    assert "Fix: pick a training.output_dir in a folder only you (or root) can write." in out["open"]
    assert list(theirs.iterdir()) == []  # nothing was written into the attacker's folder
    assert not (open_folder / "r").exists()  # the refused folder, empty, was not left behind
