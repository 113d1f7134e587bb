"""Optional SHA-256 manifests beside catalogue artefacts.

A folder (or the folder holding a file) may contain ``SHA256SUMS`` in the
format ``sha256sum`` writes::

    3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b  model.safetensors
    0b5c...  *pytorch_model.bin

When it is present, every file it lists is hashed before anything is loaded
and a mismatch or a listed file that is missing is refused with
:class:`IntegrityError`, naming the file. Without a manifest nothing is
checked. A manifest may only name files inside its own folder: a line with
an absolute path, a ``..`` or a symlink that leaves the folder is refused
with the same message whether or not the outside file exists, so nothing
about it (its hash, its existence) is revealed. Listed files must be
regular files, opened without blocking. Stdlib only.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from codex_ml.registry._errors import UnsafeFileError
from codex_ml.registry._fsafe import open_file, read_small_file

MANIFEST_NAME = "SHA256SUMS"
WEIGHT_SUFFIXES = (".bin", ".safetensors", ".pt", ".pth", ".ckpt", ".h5", ".msgpack", ".index.json")
_LINE = re.compile(r"^(?P<digest>[0-9a-fA-F]{64}) [ *](?P<name>.+)$")
_CHUNK = 1 << 20
MAX_MANIFEST_BYTES = 8 << 20  # a line per file: far more than any checkpoint has


class IntegrityError(ValueError):
    """A file does not match the checksum its ``SHA256SUMS`` manifest records."""


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of the regular file ``path``, read in 1 MiB chunks (a FIFO or device is refused)."""
    digest = hashlib.sha256()
    with open_file(path, trusted=False) as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def confined(folder: Path, name: str) -> Path | None:
    """``folder / name`` when it stays inside ``folder`` (symlinks resolved), else None.

    Decided from the name and the links inside the folder alone, so the
    answer says nothing about what lies outside.
    """
    parts = name.replace("\\", "/").split("/")
    if not name or "\0" in name or os.path.isabs(name) or name.startswith("/") or ".." in parts:
        return None
    base = os.path.realpath(folder)
    real = os.path.realpath(os.path.join(base, name))
    return folder / name if real.startswith(base.rstrip("/") + "/") else None


def _outside(manifest: Path, number: int, name: str) -> IntegrityError:
    return IntegrityError(
        f"{manifest}:{number}: {name!r} is not a file inside {manifest.parent}; a manifest may only list "
        "files in its own folder (no absolute paths, no '..', no symlinks that lead out). Nothing outside "
        "was read. Fix the line, or copy the file into the folder."
    )


def read_manifest(manifest: Path) -> dict[str, str]:
    """Parse a ``SHA256SUMS`` file into ``{relative name: lower-case hex digest}``.

    Every name must stay inside the manifest's folder (see :func:`confined`).
    """
    entries: dict[str, str] = {}
    try:
        text = read_small_file(manifest, max_bytes=MAX_MANIFEST_BYTES, follow_symlinks=True, trusted=False)
        lines = text.decode("utf-8").splitlines()
    except (UnsafeFileError, UnicodeDecodeError) as exc:
        raise IntegrityError(f"{manifest} cannot be used as a manifest: {exc}") from exc
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise IntegrityError(
                f"{manifest}:{number}: malformed line {raw!r}; expected '<64 hex digits>  <file name>' "
                "as written by `sha256sum FILE > SHA256SUMS`"
            )
        name = match["name"].strip()
        if confined(manifest.parent, name) is None:
            raise _outside(manifest, number, name)
        entries[name] = match["digest"].lower()
    return entries


def mismatch(target: Path, manifest: Path, expected: str, actual: str) -> IntegrityError:
    """The error for a file whose digest differs from its manifest's."""
    return IntegrityError(
        f"checksum mismatch for {target}: {manifest} records {expected}, the file hashes to "
        f"{actual}. The file is corrupt or was replaced; refusing to load it. Re-download it, or "
        "regenerate the manifest with `sha256sum` if the change is intended."
    )


def _verify_entry(folder: Path, manifest: Path, name: str, expected: str) -> None:
    target = folder / name
    try:
        actual = sha256_file(target)
    except FileNotFoundError:
        raise IntegrityError(
            f"{target} is listed in {manifest} but missing; restore the file or remove its line"
        ) from None
    except UnsafeFileError as exc:
        raise IntegrityError(f"{target} is listed in {manifest} but {exc.reason}; refusing to read it") from exc
    if actual != expected:
        raise mismatch(target, manifest, expected, actual)


def verify_bytes(path: Path, data: bytes) -> bool:
    """Check ``data``, the content just read from ``path``, against the manifest beside it.

    The bytes that were checked are the bytes that get used: no second open.
    ``True`` when it was listed and matched; ``False`` when there is no entry.
    """
    manifest = path.parent / MANIFEST_NAME
    if not os.path.lexists(manifest):
        return False
    expected = read_manifest(manifest).get(path.name)
    if expected is None:
        return False
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise mismatch(path, manifest, expected, actual)
    return True


MAX_CHECKED_FILES = 10_000  # a model folder holds a few files; a bound for one that does not


def require_safe_tree(*paths: Path) -> None:
    """Refuse a folder or file that another account could change (docs/reliability.md, "Threat model").

    A folder is checked with every folder above it and every file below it:
    once all of them are owned by the user or root and writable by no one
    else, nobody else can change what is loaded from them afterwards.
    """
    from codex_ml.registry import _fsafe

    trust = _fsafe.Trust()
    for path in paths:
        for item in [path, *_below(path)]:
            problem = _fsafe.check(item, trust)
            if problem:
                raise UnsafeFileError(str(item), problem, "folder" if item.is_dir() else "file")


def _below(path: Path) -> list[Path]:
    """Everything inside ``path`` (a folder) but links; nothing for a file.

    Where a link may lead is the folder's confinement rule (``SHA256SUMS``,
    shard indexes, the weights), whose refusals say nothing about an outside
    file; following links here would.
    """
    found: list[Path] = []
    for top, dirs, files in os.walk(path):
        found += [p for p in (Path(top, name) for name in (*dirs, *files)) if not p.is_symlink()]
        if len(found) > MAX_CHECKED_FILES:
            break
    return found


def verify_directory(folder: Path, *, skip_suffixes: tuple[str, ...] = ()) -> list[str]:
    """Check that no other account can change ``folder``, then every file listed in ``folder/SHA256SUMS``.

    Returns the names checked against the manifest (empty: no manifest).
    ``skip_suffixes`` leaves out entries the caller will not read (a tokenizer
    loader skips the weights, which can be gigabytes).
    """
    if folder.is_dir():
        require_safe_tree(folder)
    manifest = folder / MANIFEST_NAME
    if not os.path.lexists(manifest):
        return []
    entries = {k: v for k, v in read_manifest(manifest).items() if not k.endswith(skip_suffixes)}
    for name, expected in entries.items():
        _verify_entry(folder, manifest, name, expected)
    return sorted(entries)


def verify_file(path: Path) -> bool:
    """Check ``path`` against the manifest beside it; ``True`` if it was listed and matched."""
    manifest = path.parent / MANIFEST_NAME
    if not os.path.lexists(manifest):
        return False
    entries = read_manifest(manifest)
    expected = entries.get(path.name)
    if expected is None:
        return False
    _verify_entry(path.parent, manifest, path.name, expected)
    return True


def verify(path: Path) -> None:
    """Verify a resolved resource: a folder's whole manifest, or one file's entry."""
    if path.is_dir():
        verify_directory(path)
    else:
        verify_file(path)
