"""``codex-ml generate|export|plot``: what to do with a run once it is trained.

::

    codex-ml generate run_dir=R prompt="Once upon" max_new_tokens=40 [temperature=0.8]
                      [top_k=50] [top_p=0.95] [seed=1] [prompts_file=F] [checkpoint=best]
    codex-ml export run_dir=R out=DIR [checkpoint=latest] [lora=merge|adapter]
    codex-ml plot RUN [RUN ...] --out cmp.png [--metric val_loss]

Exit status: 0 done, 1 an error (explained in one paragraph), 2 a usage error.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

COMMANDS = ("generate", "export", "plot")
USAGE = {
    "generate": "usage: codex-ml generate run_dir=RUN (prompt=TEXT | prompts_file=FILE) "
                "[max_new_tokens=N] [temperature=T] [top_k=K] [top_p=P] [seed=S] "
                "[checkpoint=latest|best|step-N]",
    "export": "usage: codex-ml export run_dir=RUN out=DIR [checkpoint=latest|best|step-N] "
              "[lora=merge|adapter]",
    "plot": "usage: codex-ml plot RUN [RUN ...] --out FILE.png [--metric val_loss]",
}
_NUMBERS: dict[str, Callable[[str], Any]] = {"max_new_tokens": int, "top_k": int, "seed": int,
                                              "temperature": float, "top_p": float}
_KEYS = {"generate": ("run_dir", "prompt", "prompts_file", "checkpoint", *_NUMBERS),
         "export": ("run_dir", "out", "checkpoint", "lora")}


class UsageError(Exception):
    """The command line is malformed (exit 2)."""


def key_values(command: str, argv: list[str]) -> dict[str, Any]:
    """``key=value`` arguments, checked against the command's keys, numbers converted."""
    values: dict[str, Any] = {}
    for arg in argv:
        key, eq, value = arg.partition("=")
        if not eq or key not in _KEYS[command]:
            raise UsageError(f"{arg!r} is not one of {', '.join(k + '=' for k in _KEYS[command])}")
        try:
            values[key] = _NUMBERS[key](value) if key in _NUMBERS else value
        except ValueError:
            raise UsageError(f"{key}={value!r} is not a number") from None
    if "run_dir" not in values:
        raise UsageError("run_dir= is required: the folder `codex-ml train` printed")
    return values


def read_prompts(values: dict[str, Any]) -> list[str]:
    prompts = [values["prompt"]] if "prompt" in values else []
    if "prompts_file" in values:
        file = Path(values["prompts_file"])
        if not file.is_file():
            raise FileNotFoundError(f"prompts_file={file}: no such file; give a text file with one "
                                    "prompt a line.")
        prompts += [line for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not prompts:
        raise UsageError("give prompt=TEXT or prompts_file=FILE (one prompt a line)")
    return prompts


def generate_command(argv: list[str]) -> int:
    values = key_values("generate", argv)
    prompts = read_prompts(values)
    from codex_ml.training.generate import Sampling, generate
    from codex_ml.training.runs import load_run

    sampling = Sampling(**{k: v for k, v in values.items() if k in _NUMBERS})
    model, tokenizer = load_run(values["run_dir"], values.get("checkpoint", "latest"))
    for prompt, text in zip(prompts, generate(model, tokenizer, prompts, sampling)):
        print(prompt + text, flush=True)
    return 0


def export_command(argv: list[str]) -> int:
    values = key_values("export", argv)
    if "out" not in values:
        raise UsageError("out=DIR is required: the folder to write")
    from codex_ml.training.export import export_run

    written = export_run(values["run_dir"], values["out"], values.get("checkpoint", "latest"),
                         values.get("lora", "merge"))
    print(f"wrote {written['out']} ({written['format']}): {', '.join(written['files'])}")
    return 0


def picture_formats() -> list[str]:
    """The file suffixes matplotlib can write here (none known without matplotlib: its note comes later)."""
    try:
        from matplotlib.backend_bases import FigureCanvasBase
    except ImportError:
        return []
    return sorted(FigureCanvasBase.get_supported_filetypes())


def plot_args(argv: list[str]) -> tuple[list[str], str, str]:
    runs: list[str] = []
    options = {"--out": "", "--metric": "val_loss"}
    args = iter(argv)
    for arg in args:
        name, eq, inline = arg.partition("=")
        if name in options:
            value = inline if eq else next(args, "")
            if not value:
                raise UsageError(f"{name} needs a value")
            options[name] = value
        elif arg.startswith("-"):
            raise UsageError(f"unknown option {arg!r}")
        else:
            runs.append(arg)
    if not runs or not options["--out"]:
        raise UsageError("give at least one run folder and --out FILE.png")
    suffix = options["--out"].rpartition(".")[2].lower() if "." in options["--out"] else ""
    formats = picture_formats()
    if formats and suffix not in formats:
        raise UsageError(f"--out {options['--out']}: the picture's file name must end in one of "
                         f"{', '.join('.' + s for s in formats)} (that picks the format)")
    return runs, options["--out"], options["--metric"]


def plot_command(argv: list[str]) -> int:
    runs, out, metric = plot_args(argv)
    from codex_ml.training.plot import compare_runs

    print(f"wrote {compare_runs([Path(r) for r in runs], Path(out), metric)}")
    return 0


JOBS: dict[str, Callable[[list[str]], int]] = {
    "generate": generate_command, "export": export_command, "plot": plot_command}


def _known_errors() -> tuple[type[BaseException], ...]:
    from codex_ml.registry import RegistryError
    from codex_ml.training.errors import CheckpointError, TrainingConfigError

    return (RegistryError, TrainingConfigError, CheckpointError, OSError, ValueError, ImportError)


def run(command: str, argv: list[str]) -> int:
    """Run ``codex-ml <command> <argv...>``; return 0, 1 or 2 (never a traceback)."""
    if argv and argv[0] in ("-h", "--help"):
        print(USAGE[command])
        return 0
    from codex_ml.cli._traceback import config_warnings

    try:
        with config_warnings(command):  # codex_ml's warnings (a vocabulary mismatch, say) as one line
            return JOBS[command](argv)
    except UsageError as exc:
        print(f"{USAGE[command]}\ncodex-ml {command}: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - one paragraph; the traceback only when asked for
        from codex_ml.cli._traceback import show_traceback

        show_traceback(exc)
        text = str(exc) if isinstance(exc, _known_errors()) else f"{type(exc).__name__}: {exc}"
        print(f"codex-ml {command}: error: {_with_extra(command, exc, text)}", file=sys.stderr)
        return 1


def _with_extra(command: str, exc: BaseException, text: str) -> str:
    """A module of an optional extra that is not installed is named with the extra to install."""
    from codex_ml._extras import needs_extra

    return needs_extra(f"`codex-ml {command}`", exc) or text
