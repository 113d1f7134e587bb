"""Optional SHA-256 manifests beside catalogue artefacts.

A folder (or the folder holding a file) may contain ``SHA256SUMS`` in the
format ``sha256sum`` writes::

    3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b  model.safetensors
    0b5c...  *pytorch_model.bin

When it is present, every file it lists is hashed before anything is loaded
and a mismatch or a listed file that is missing is refused with
:class:`IntegrityError`, naming the file. Without a manifest nothing is
checked. Stdlib only.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

MANIFEST_NAME = "SHA256SUMS"
WEIGHT_SUFFIXES = (".bin", ".safetensors", ".pt", ".pth", ".ckpt", ".h5", ".msgpack", ".index.json")
_LINE = re.compile(r"^(?P<digest>[0-9a-fA-F]{64}) [ *](?P<name>.+)$")
_CHUNK = 1 << 20


class IntegrityError(ValueError):
    """A file does not match the checksum its ``SHA256SUMS`` manifest records."""


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of ``path``, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(manifest: Path) -> dict[str, str]:
    """Parse a ``SHA256SUMS`` file into ``{relative name: lower-case hex digest}``."""
    entries: dict[str, str] = {}
    text = manifest.read_text(encoding="utf-8")
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise IntegrityError(
                f"{manifest}:{number}: malformed line {raw!r}; expected '<64 hex digits>  <file name>' "
                "as written by `sha256sum FILE > SHA256SUMS`"
            )
        entries[match["name"].strip()] = match["digest"].lower()
    return entries


def _verify_entry(folder: Path, manifest: Path, name: str, expected: str) -> None:
    target = folder / name
    if not target.is_file():
        raise IntegrityError(
            f"{target} is listed in {manifest} but missing; restore the file or remove its line"
        )
    actual = sha256_file(target)
    if actual != expected:
        raise IntegrityError(
            f"checksum mismatch for {target}: {manifest} records {expected}, the file hashes to "
            f"{actual}. The file is corrupt or was replaced; refusing to load it. Re-download it, or "
            "regenerate the manifest with `sha256sum` if the change is intended."
        )


def verify_directory(folder: Path, *, skip_suffixes: tuple[str, ...] = ()) -> list[str]:
    """Check every file listed in ``folder/SHA256SUMS``; return the names checked (empty: no manifest).

    ``skip_suffixes`` leaves out entries the caller will not read (a tokenizer
    loader skips the weights, which can be gigabytes).
    """
    manifest = folder / MANIFEST_NAME
    if not manifest.is_file():
        return []
    entries = {k: v for k, v in read_manifest(manifest).items() if not k.endswith(skip_suffixes)}
    for name, expected in entries.items():
        _verify_entry(folder, manifest, name, expected)
    return sorted(entries)


def verify_file(path: Path) -> bool:
    """Check ``path`` against the manifest beside it; ``True`` if it was listed and matched."""
    manifest = path.parent / MANIFEST_NAME
    if not manifest.is_file():
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
