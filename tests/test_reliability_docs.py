"""docs/reliability.md cannot drift: every row names tests that exist.

Rows above "Known gaps" must name tests that are not expected to fail; rows
under it must name tests marked ``xfail(strict=True)``, and every strict
xfail of the reliability suite must be listed there.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "reliability.md"
ABBREVIATIONS = {
    "RP": "tests/test_reliability_plugins.py", "RT": "tests/test_reliability_training.py",
    "SP": "tests/test_security_plugins.py", "SA": "tests/test_security_artefacts.py",
    "FR": "tests/test_fuzz_registry.py", "FI": "tests/test_fuzz_inputs.py",
    "ST": "tests/test_stress_registry.py", "NN": "tests/test_no_network.py",
}
REF = re.compile(r"`(?P<file>[A-Z]{2}|tests/[\w/]+\.py)::(?P<name>[\w…]+)(?:\[[^\]]*\])?`")


def rows() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(section, row text, [(file, test name)]) of every table row, '…' resolved."""
    section, out, previous = "", [], ""
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        if not line.startswith("| ") or line.startswith("| ---") or "Test |" in line:
            continue
        refs = []
        for match in REF.finditer(line.rsplit("|", 2)[-2]):
            file = ABBREVIATIONS.get(match["file"], match["file"])
            name = match["name"]
            if name == "…":
                name = previous
            previous = name
            refs.append((file, name))
        out.append((section, line, refs))
    return out


def defined(file: str, name: str) -> bool:
    text = (REPO / file).read_text(encoding="utf-8")
    return re.search(rf"^(def {re.escape(name)}\(|{re.escape(name)} = )", text, re.MULTILINE) is not None


def xfail_marked(file: str, name: str) -> bool:
    text = (REPO / file).read_text(encoding="utf-8")
    head = text[: text.index(f"def {name}(")].rsplit("\n\n\n", 1)[-1]
    return "xfail(strict=True" in head


def test_every_row_names_an_existing_test() -> None:
    table = rows()
    assert len(table) >= 60
    for section, line, refs in table:
        assert refs, f"a row without a test: {line}"
        for file, name in refs:
            assert defined(file, name), f"{section}: {file}::{name} does not exist"


def test_known_gaps_and_only_they_are_strict_xfails() -> None:
    listed_gaps = set()
    for section, _, refs in rows():
        for file, name in refs:
            if not name.startswith("test_"):
                continue
            gap = xfail_marked(file, name)
            assert gap == (section == "Known gaps"), f"{file}::{name} in section {section!r}"
            if gap:
                listed_gaps.add((file, name))
    all_gaps = set()
    for file in ABBREVIATIONS.values():
        text = (REPO / file).read_text(encoding="utf-8")
        for match in re.finditer(r"^def (test_\w+)\(", text, re.MULTILINE):
            if xfail_marked(file, match[1]):
                all_gaps.add((file, match[1]))
    assert all_gaps == listed_gaps
