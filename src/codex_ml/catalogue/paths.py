"""Where the offline catalogue finds its files.

Every file-backed catalogue entry names a *resource*. :func:`resolve` turns a
resource id into a path, trying these locations in order:

1. the explicit argument (``path=...`` given to the factory or loader);
2. the resource's own environment variable(s);
3. the shared root environment variable joined with the resource's name
   under that root;
4. the seed's path relative to the current working directory;
5. the copy shipped inside the package (tiny fixtures only).

The first location that exists wins. A location given *explicitly* (1-3: an
argument or a set environment variable) that does not exist is a miss that
stops the search: it is never skipped in favour of another copy, because the
user asked for that file. Any miss raises :class:`FileNotFoundError` listing
every location, in order, with its label and what was wrong with it.

A location may name a directory when the resource is a file: the resource's
file name is then looked up inside it (``CODEX_ML_TINY_TOKENIZER_PATH=/x``
finds ``/x/vocab.json``). Directory resources (Hugging Face checkpoints)
must contain one of their marker files (``config.json`` for models).

Resources, environment variables and roots (the roots are joined with the
part after ``+``):

==========================  ===================================  ====================================================
resource id                 own variable(s), in order            shared root + name / seed path
==========================  ===================================  ====================================================
gpt2                        CODEX_ML_GPT2_PATH                   CODEX_ML_OFFLINE_MODELS_DIR + gpt2
                                                                 artifacts/models/gpt2
gpt2_tokenizer              CODEX_ML_GPT2_TOKENIZER_PATH,        CODEX_ML_OFFLINE_MODELS_DIR + gpt2
                            CODEX_ML_GPT2_PATH                   artifacts/models/gpt2
tinyllama                   CODEX_ML_TINYLLAMA_PATH              CODEX_ML_OFFLINE_MODELS_DIR + tinyllama
                                                                 artifacts/models/tinyllama
tinyllama_tokenizer         CODEX_ML_TINYLLAMA_TOKENIZER_PATH,   CODEX_ML_OFFLINE_MODELS_DIR + tinyllama
                            CODEX_ML_TINYLLAMA_PATH              artifacts/models/tinyllama
tiny_tokenizer              CODEX_ML_TINY_TOKENIZER_PATH         CODEX_ML_OFFLINE_MODELS_DIR + tiny_tokenizer/vocab.json
                                                                 artifacts/models/tiny_tokenizer/vocab.json
tiny_sequence               CODEX_ML_TINY_SEQUENCE_PATH          CODEX_ML_OFFLINE_MODELS_DIR + tiny_sequence_model/model.json
                                                                 artifacts/models/tiny_sequence_model/model.json
tiny_corpus                 CODEX_ML_TINY_CORPUS_PATH            CODEX_ML_OFFLINE_DATASETS_DIR + tiny_corpus.txt
                                                                 data/offline/tiny_corpus.txt
weighted_accuracy           CODEX_ML_WEIGHTED_ACCURACY_PATH      CODEX_ML_OFFLINE_METRICS_DIR + weighted_accuracy.json
                                                                 data/offline/weighted_accuracy.json
functional_trainer_config   CODEX_ML_FUNCTIONAL_TRAINER_CONFIG   CODEX_ML_OFFLINE_CONFIGS_DIR + trainer_functional.json
                                                                 data/offline/trainer_functional.json
length_reward               CODEX_ML_LENGTH_REWARD_PATH          CODEX_ML_OFFLINE_CONFIGS_DIR + length_reward.json
                                                                 data/offline/length_reward.json
scripted_agent              CODEX_ML_SCRIPTED_AGENT_PATH         CODEX_ML_OFFLINE_RL_DIR + scripted_agent/policy.json
                                                                 artifacts/rl/scripted_agent/policy.json
==========================  ===================================  ====================================================

The tokenizers of ``gpt2`` and ``tinyllama`` live in the model folder, so a
user who points ``CODEX_ML_GPT2_PATH`` at a folder gets its tokenizer too.
The tiny fixtures (the last seven rows) also ship inside the package under
``codex_ml/catalogue/fixtures/`` with the seed's relative layout.

Stdlib only: importing this module must not import torch or transformers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Union

PathArg = Union[str, "os.PathLike[str]", None]

FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"

MODELS_ROOT = "CODEX_ML_OFFLINE_MODELS_DIR"
DATASETS_ROOT = "CODEX_ML_OFFLINE_DATASETS_DIR"
METRICS_ROOT = "CODEX_ML_OFFLINE_METRICS_DIR"
CONFIGS_ROOT = "CODEX_ML_OFFLINE_CONFIGS_DIR"
RL_ROOT = "CODEX_ML_OFFLINE_RL_DIR"

_MODEL_MARKERS = ("config.json",)
_TOKENIZER_MARKERS = ("tokenizer.json", "tokenizer.model", "vocab.json", "tokenizer_config.json")


@dataclass(frozen=True)
class Resource:
    """One file or folder that a catalogue entry needs."""

    id: str
    description: str
    env_vars: tuple[str, ...]
    root_var: str
    root_subpath: str
    seed_path: str
    filename: str | None = None
    markers: tuple[str, ...] = ()
    packaged: bool = False

    @property
    def is_dir(self) -> bool:
        return self.filename is None


def _file(rid: str, desc: str, env: str, root: str, sub: str, seed: str) -> Resource:
    name = Path(seed).name
    return Resource(rid, desc, (env,), root, sub, seed, filename=name, packaged=True)


def _folder(
    rid: str, desc: str, envs: tuple[str, ...], sub: str, markers: tuple[str, ...]
) -> Resource:
    seed = f"artifacts/models/{sub}"
    return Resource(rid, desc, envs, MODELS_ROOT, sub, seed, markers=markers)


RESOURCES: dict[str, Resource] = {
    r.id: r
    for r in (
        _folder("gpt2", "GPT-2 checkpoint folder", ("CODEX_ML_GPT2_PATH",), "gpt2", _MODEL_MARKERS),
        _folder(
            "gpt2_tokenizer",
            "GPT-2 tokenizer folder",
            ("CODEX_ML_GPT2_TOKENIZER_PATH", "CODEX_ML_GPT2_PATH"),
            "gpt2",
            _TOKENIZER_MARKERS,
        ),
        _folder(
            "tinyllama",
            "TinyLlama checkpoint folder",
            ("CODEX_ML_TINYLLAMA_PATH",),
            "tinyllama",
            _MODEL_MARKERS,
        ),
        _folder(
            "tinyllama_tokenizer",
            "TinyLlama tokenizer folder",
            ("CODEX_ML_TINYLLAMA_TOKENIZER_PATH", "CODEX_ML_TINYLLAMA_PATH"),
            "tinyllama",
            _TOKENIZER_MARKERS,
        ),
        _file(
            "tiny_tokenizer",
            "six-token vocabulary",
            "CODEX_ML_TINY_TOKENIZER_PATH",
            MODELS_ROOT,
            "tiny_tokenizer/vocab.json",
            "artifacts/models/tiny_tokenizer/vocab.json",
        ),
        _file(
            "tiny_sequence",
            "tiny sequence model",
            "CODEX_ML_TINY_SEQUENCE_PATH",
            MODELS_ROOT,
            "tiny_sequence_model/model.json",
            "artifacts/models/tiny_sequence_model/model.json",
        ),
        _file(
            "tiny_corpus",
            "tiny text corpus",
            "CODEX_ML_TINY_CORPUS_PATH",
            DATASETS_ROOT,
            "tiny_corpus.txt",
            "data/offline/tiny_corpus.txt",
        ),
        _file(
            "weighted_accuracy",
            "weighted-accuracy weights",
            "CODEX_ML_WEIGHTED_ACCURACY_PATH",
            METRICS_ROOT,
            "weighted_accuracy.json",
            "data/offline/weighted_accuracy.json",
        ),
        _file(
            "functional_trainer_config",
            "functional trainer configuration",
            "CODEX_ML_FUNCTIONAL_TRAINER_CONFIG",
            CONFIGS_ROOT,
            "trainer_functional.json",
            "data/offline/trainer_functional.json",
        ),
        _file(
            "length_reward",
            "length reward configuration",
            "CODEX_ML_LENGTH_REWARD_PATH",
            CONFIGS_ROOT,
            "length_reward.json",
            "data/offline/length_reward.json",
        ),
        _file(
            "scripted_agent",
            "scripted agent policy",
            "CODEX_ML_SCRIPTED_AGENT_PATH",
            RL_ROOT,
            "scripted_agent/policy.json",
            "artifacts/rl/scripted_agent/policy.json",
        ),
    )
}

ENV_VARS: tuple[str, ...] = tuple(
    dict.fromkeys(v for r in RESOURCES.values() for v in (*r.env_vars, r.root_var))
)


@dataclass(frozen=True)
class Candidate:
    """A location tried for a resource: where it came from, the path, and whether it binds."""

    label: str
    path: Path
    binding: bool


def get_resource(resource_id: str) -> Resource:
    """Return the :class:`Resource` for ``resource_id`` or raise ``KeyError`` naming the known ids."""
    try:
        return RESOURCES[resource_id]
    except KeyError:
        known = ", ".join(sorted(RESOURCES))
        raise KeyError(
            f"unknown catalogue resource {resource_id!r}; known resources: {known}"
        ) from None


def packaged_path(resource_id: str) -> Path | None:
    """The copy shipped in the package, or ``None`` for resources that have none."""
    res = get_resource(resource_id)
    return FIXTURES_DIR / res.seed_path if res.packaged else None


def _as_path(value: str | os.PathLike[str]) -> Path:
    return Path(os.path.expanduser(os.fspath(value)))


def _candidates(res: Resource, explicit: PathArg) -> list[Candidate]:
    found: list[Candidate] = []
    if explicit is not None and os.fspath(explicit) != "":
        found.append(Candidate("explicit argument", _as_path(explicit), True))
    for var in res.env_vars:
        value = os.environ.get(var)
        if value:
            found.append(Candidate(f"{var}={value}", _as_path(value), True))
    root = os.environ.get(res.root_var)
    if root:
        found.append(Candidate(f"{res.root_var}={root}", _as_path(root) / res.root_subpath, True))
    found.append(Candidate("working directory", Path.cwd() / res.seed_path, False))
    pkg = packaged_path(res.id)
    if pkg is not None:
        found.append(Candidate("packaged copy", pkg, False))
    return found


def searched(resource_id: str, explicit: PathArg = None) -> list[tuple[str, Path]]:
    """Every location :func:`resolve` would try, as ``(label, path)`` pairs, in order."""
    res = get_resource(resource_id)
    return [(c.label, c.path) for c in _candidates(res, explicit)]


def _check(res: Resource, path: Path) -> tuple[Path | None, str]:
    """Return ``(usable path, "")`` or ``(None, why it is not usable)``."""
    if res.is_dir:
        if not path.is_dir():
            return None, "missing" if not path.exists() else "not a directory"
        if res.markers and not any((path / m).is_file() for m in res.markers):
            return None, "directory has none of " + ", ".join(res.markers)
        return path, ""
    if path.is_dir():
        inner = path / str(res.filename)
        return (inner, "") if inner.is_file() else (None, f"directory has no {res.filename}")
    if path.is_file():
        return path, ""
    return None, "missing" if not path.exists() else "not a regular file"


def _describe(cand: Candidate) -> str:
    _, _, value = cand.label.partition("=")
    if value and _as_path(value) == cand.path:
        return cand.label
    return f"{cand.label} -> {cand.path}"


def _search(res: Resource, explicit: PathArg) -> tuple[Path | None, list[str]]:
    report: list[str] = []
    candidates = _candidates(res, explicit)
    for index, cand in enumerate(candidates):
        usable, why = _check(res, cand.path)
        if usable is not None:
            return usable, report
        report.append(f"{_describe(cand)} ({why})")
        if cand.binding:
            giver = cand.label.split("=")[0]
            report.extend(
                f"{_describe(c)} (not searched: {giver} was given, so it must exist)"
                for c in candidates[index + 1 :]
            )
            return None, report
    return None, report


def status(
    resource_id: str, explicit: PathArg = None
) -> tuple[Path | None, list[tuple[str, Path]]]:
    """``(found path or None, every location searched)``: for the CLI's "is it there?" column."""
    res = get_resource(resource_id)
    found, _ = _search(res, explicit)
    return found, searched(resource_id, explicit)


def _fix_hint(res: Resource) -> str:
    envs = " or ".join(res.env_vars)
    target = "a folder" if res.is_dir else f"the file (or a folder holding {res.filename})"
    return (
        f"Fix: pass the path explicitly, set {envs} to {target}, set {res.root_var} to a folder "
        f"containing {res.root_subpath}, or place it at {res.seed_path} under the working directory."
    )


def resolve(resource_id: str, explicit: PathArg = None) -> Path:
    """Find ``resource_id`` on disk; raise ``FileNotFoundError`` listing every location tried."""
    res = get_resource(resource_id)
    found, report = _search(res, explicit)
    if found is not None:
        return found
    lines = "\n".join(f"  {i}. {line}" for i, line in enumerate(report, 1))
    raise FileNotFoundError(
        f"codex_ml catalogue: could not find the {res.description} ({resource_id!r}). "
        f"Searched, in order:\n{lines}\n{_fix_hint(res)}"
    )
