"""``codex-ml train|evaluate``: a Hydra application, with our errors on top.

Hydra parses the command line and runs the job exactly as a ``@hydra.main``
application would (:func:`hydra._internal.utils._run_hydra` with Hydra's own
argument parser), so every Hydra flag and ``hydra.*`` key means what Hydra's
documentation says: ``-m/--multirun`` sweeps, launchers and sweepers
(``hydra/launcher=joblib``, ``hydra/sweeper=optuna``), ``-cn/-cp/-cd``,
``--cfg job|hydra|all``, ``--resolve``, ``--package``, ``--info``,
``--hydra-help``, ``--shell-completion``, ``hydra.run.dir``,
``hydra.sweep.dir/subdir``, ``hydra.job.chdir``, ``hydra/job_logging`` and
``hydra.searchpath``. Three things are ours:

* the packaged configs (``pkg://codex_ml.configs``) stay on the search path
  whatever ``-cp``/``-cd`` say (a search-path plugin), so ``-cd DIR`` holding
  a single ``model/mine.yaml`` adds an option to the packaged groups;
* the seed's bare ``group/option`` form (``metrics/offline/weighted_accuracy``)
  becomes ``group=option``;
* every mistake is one paragraph with a suggestion: exit 1 for a config
  mistake or a failed run, 2 for a usage error, never a traceback (set
  ``CODEX_ML_TRACEBACK=1`` to see one).

The default run folder is ``hydra.run.dir`` of ``config.yaml``:
``<training.output_dir>/<training.run_name or a timestamp>``; Hydra does not
change the working directory (``hydra.job.chdir=false``).
"""
from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

from codex_ml.cli._hydra_explain import (
    PACKAGED,
    ConfigMistake,
    Folders,
    UsageError,
    append_missing_group,
    explain,
    translate,
)
from codex_ml.cli._traceback import TRACEBACK_VARS, config_warnings, show_traceback, traceback_wanted
from codex_ml.registry._search import did_you_mean
from codex_ml.utils import interrupts

__all__ = ["TRACEBACK_VARS", "report", "run", "traceback_wanted"]

COMMANDS = ("train", "evaluate")
USAGE = ("usage: codex-ml {train,evaluate} [-h] [--hydra-help] [-m] [-cn NAME] [-cp DIR] [-cd DIR] "
         "[--cfg {job,hydra,all}] [--resolve] [-p PACKAGE] [-i INFO] [-sc] [OVERRIDE ...]\n"
         "  OVERRIDE: key=value | +key=value | ~key | group=option | group/option "
         "(Hydra's override grammar; -m sweeps key=a,b | range(..) | choice(..) | glob(..))")
def known_errors() -> tuple[type[BaseException], ...]:
    from codex_ml.registry import RegistryError
    from codex_ml.training.errors import CheckpointError, RunWriteError, TrainingConfigError

    return (ConfigMistake, RegistryError, TrainingConfigError, CheckpointError, RunWriteError,
            FileNotFoundError, NotADirectoryError, PermissionError, ValueError)


def report(command: str, exc: BaseException) -> None:
    """Print ``exc`` as one paragraph on stderr (the traceback only when asked for)."""
    show_traceback(exc)
    if isinstance(exc, known_errors()):
        text = " ".join(str(exc).split()) if isinstance(exc, ConfigMistake) else str(exc)
    else:
        frame = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
        where = f" (raised at {frame[0].filename}:{frame[0].lineno})" if frame else ""
        text = (f"{type(exc).__name__}: {exc}{where}. This is not a mistake codex-ml recognises; "
                "set CODEX_ML_TRACEBACK=1 to see the traceback, and report it if it is a bug.")
    print(f"codex-ml {command}: error: {text}", file=sys.stderr)


# ------------------------------------------------------------------ jobs
def _prepare(cfg: Any) -> None:
    """Keep Hugging Face libraries offline before anything imports them."""
    if (cfg.get("interfaces") or {}).get("offline", True):
        for flag in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
            os.environ[flag] = "1"


def _job_folder(cfg: Any) -> tuple[str, list[str]]:
    """This job's output folder (spelled relative when the user spelled it so) and overrides."""
    from hydra.core.hydra_config import HydraConfig

    hc = HydraConfig.get()
    folder = str(hc.runtime.output_dir)
    dirs = [o.split("=", 1)[1] for o in hc.overrides.hydra
            if o.split("=", 1)[0] in ("hydra.run.dir", "hydra.sweep.dir")]
    output_dir = str((cfg.get("training") or {}).get("output_dir") or "")
    absolute = (bool(hc.job.chdir) or any(os.path.isabs(d) for d in dirs)
                or (not dirs and os.path.isabs(output_dir)))
    shown = os.path.relpath(folder)
    return (folder if absolute or shown.startswith("..") else shown), list(hc.overrides.task)


def _train(cfg: Any) -> float | None:
    from pathlib import Path

    from codex_ml.training.jobs import train

    folder, overrides = _job_folder(cfg)
    summary = train(cfg, run_dir=Path(folder), overrides=overrides)
    if "rank" not in summary:  # only rank 0 reports
        run_dir = summary["run_dir"]
        print(f"wrote {run_dir}: {', '.join(_written(Path(run_dir)))}\n"
              f"evaluate it with: codex-ml evaluate run_dir={run_dir}", flush=True)
    loss = (summary.get("final_eval") or {}).get("loss")
    return float(loss) if isinstance(loss, (int, float)) else None


def _written(run_dir: Any) -> list[str]:
    """The run's main files that are there (the loggers chosen decide some of them)."""
    names = ("config.yaml", "metrics.jsonl", "summary.json", "tensorboard", "checkpoints")
    return [name + ("/" if (run_dir / name).is_dir() else "") for name in names if (run_dir / name).exists()]


def _data_label(data: dict[str, Any]) -> str:
    where = f" {data['path']}" if data.get("path") else ""
    return f"{data.get('name')}{where} ({data.get('source')})"


def _evaluate(cfg: Any) -> float | None:
    from codex_ml.training.evaluate import evaluate
    from codex_ml.training.progress import print_table

    _, overrides = _job_folder(cfg)
    result = evaluate(cfg, overrides=overrides)
    rows: dict[str, Any] = {"model": result["model"], "weights": result["weights"],
                            "data": _data_label(result["data"]), **result["metrics"]}
    for key in ("reward_model", "rl_agent"):
        if key in result:
            rows[f"{key} ({result[key]['plugin']})"] = result[key].get(
                "mean", result[key].get("mean_reward", result[key].get("actions")))
    for note in result.get("notes", []):
        print(note, flush=True)
    print_table("codex-ml evaluate", rows)
    print(f"wrote {result['output']}", flush=True)
    loss = result["metrics"].get("loss")
    return float(loss) if isinstance(loss, (int, float)) else None


JOBS: dict[str, Callable[[Any], float | None]] = {"train": _train, "evaluate": _evaluate}


def _silence_stdout() -> None:
    from codex_ml.cli._dispatch import silence_broken_pipe

    silence_broken_pipe()


class Job:
    """Hydra's task function for one command; its return value is the final validation loss
    (what ``hydra/sweeper=optuna`` minimises)."""

    def __init__(self, command: str) -> None:
        self.command = command
        # Hydra names the job (hydra.job.name, log files) after the task's module's last part.
        self.__module__ = f"codex_ml.cli.{command}"

    def __call__(self, cfg: Any) -> float | None:
        try:
            _prepare(cfg)
            return JOBS[self.command](cfg)
        except BrokenPipeError:  # `codex-ml train | head`: the reader went away
            _silence_stdout()
            raise SystemExit(141) from None
        except Exception as exc:  # noqa: BLE001 - one paragraph; Hydra would add its own lines
            if interrupts.pending():  # it came from a Ctrl-C that a library swallowed
                raise KeyboardInterrupt from None
            report(self.command, exc)
            raise SystemExit(1) from None


# --------------------------------------------------------------- parsing
def _parser(command: str) -> Any:
    """Hydra's own argument parser; its complaints become our usage errors (exit 2)."""
    from hydra._internal.utils import get_args_parser

    parser = get_args_parser()
    parser.prog = f"codex-ml {command}"

    def error(message: str) -> NoReturn:
        raise UsageError(message)

    parser.error = error  # type: ignore[method-assign]
    return parser


def check_flags(parser: Any, argv: list[str]) -> None:
    """An option Hydra does not know is a usage error naming the closest one."""
    known = list(parser._option_string_actions)
    for arg in argv:
        flag = arg.split("=", 1)[0]
        if not arg.startswith("-") or arg == "-" or flag in known:
            continue
        if flag.startswith("--") and sum(k.startswith(flag) for k in known) == 1:
            continue  # argparse's unambiguous abbreviation (--multi for --multirun)
        raise UsageError(f"unknown option {arg!r}.{did_you_mean(flag, known)} Hydra's options: "
                         f"{', '.join(k for k in known if k.startswith('--'))}.")


def parse(command: str, argv: list[str]) -> Any:
    """Hydra's parsed arguments, with a relative ``-cp`` made relative to the working folder."""
    parser = _parser(command)
    check_flags(parser, argv)
    args = parser.parse_args(argv)
    modes = [flag for flag, on in (("--run", args.run), ("--multirun", args.multirun),
                                   ("--cfg", args.cfg is not None), ("--info", args.info is not None),
                                   ("--shell-completion", args.shell_completion)) if on]
    if len(modes) > 1:
        raise UsageError(f"only one of --run, --multirun, --cfg, --info and --shell-completion "
                         f"may be given; found {', '.join(modes)}.")
    if args.resolve and args.cfg is None and not args.help:
        raise UsageError("--resolve goes with --cfg (or --help): codex-ml train --cfg job --resolve")
    if args.config_path and not args.config_path.startswith("pkg://"):
        args.config_path = os.path.abspath(os.path.expanduser(args.config_path))
    return parser, args


# ---------------------------------------------------------------- running
def _register_search_path() -> None:
    from hydra.core.config_search_path import ConfigSearchPath
    from hydra.core.plugins import Plugins
    from hydra.plugins.search_path_plugin import SearchPathPlugin

    class PackagedConfigs(SearchPathPlugin):
        """Keeps ``pkg://codex_ml.configs`` searchable whatever the primary config path is."""

        def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
            if not any(e.path == PACKAGED for e in search_path.get_path()):
                search_path.append(provider="codex_ml", path=PACKAGED)

    PackagedConfigs.__module__ = "codex_ml.cli.hydra_app"
    Plugins.instance().register(PackagedConfigs)


def register_resolvers(command: str) -> None:
    """The resolvers ``config.yaml``'s ``hydra.run.dir`` and ``hydra.sweep.dir`` call; the run
    folder's depends on ``command`` (the one running, not a ``hydra.*`` key a user can set)."""
    import functools

    from omegaconf import OmegaConf

    from codex_ml.training.runplan import hydra_run_dir, hydra_sweep_root

    OmegaConf.register_new_resolver("codex_ml.run_dir", functools.partial(hydra_run_dir, command),
                                    replace=True, use_cache=True)
    OmegaConf.register_new_resolver("codex_ml.output_root", hydra_sweep_root, replace=True)


@contextmanager
def hydra_session(command: str) -> Iterator[None]:
    """Hydra set up as ``@hydra.main(version_base="1.3")`` would, raising its errors to us."""
    from hydra import version

    version.setbase("1.3")
    _register_search_path()
    register_resolvers(command)
    previous = os.environ.get("HYDRA_FULL_ERROR")
    os.environ["HYDRA_FULL_ERROR"] = "1"  # exceptions reach us; we explain them
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("HYDRA_FULL_ERROR", None)
        else:
            os.environ["HYDRA_FULL_ERROR"] = previous


def _launch(command: str, parser: Any, args: Any) -> None:
    from hydra._internal.utils import _run_hydra
    from hydra.errors import ConfigCompositionException

    folders = Folders(args.config_dir, args.config_path)
    args.overrides = [translate(folders, a) for a in args.overrides]
    name = args.config_name or "config"
    while True:
        try:
            _run_hydra(args=args, args_parser=parser, task_function=Job(command),
                       config_path=PACKAGED, config_name="config")
            return
        except ConfigCompositionException as exc:
            fixed = append_missing_group(exc, args.overrides)
            if fixed is None:
                raise explain(exc, folders, name, args.overrides, known_errors()) from exc
            args.overrides = fixed
        except (ConfigMistake, UsageError, KeyboardInterrupt, SystemExit, BrokenPipeError):
            raise
        except Exception as exc:
            raise explain(exc, folders, name, args.overrides, known_errors()) from exc


def run(command: str, argv: list[str]) -> int:
    """Run ``codex-ml <command> <argv...>``; return the exit status (0, 1, 2, or 130 for Ctrl-C)."""
    with interrupts.watching():
        return _run(command, argv)


def _interrupted(command: str) -> int:
    print(f"codex-ml {command}: interrupted", file=sys.stderr)
    return 130


def _run(command: str, argv: list[str]) -> int:
    try:
        if command not in COMMANDS:
            raise UsageError(f"unknown command {command!r}; choose one of {', '.join(COMMANDS)}")
        parser, args = parse(command, argv)
        with hydra_session(command), config_warnings(command):
            _launch(command, parser, args)
        return 0
    except ImportError as exc:
        from codex_ml._extras import needs_extra

        if interrupts.pending():  # a Ctrl-C that an import swallowed, failing a later import
            return _interrupted(command)
        message = needs_extra(f"`codex-ml {command}`", exc)
        if message is None or traceback_wanted():
            report(command, exc)
            return 1
        print(f"codex-ml {command}: error: {message}", file=sys.stderr)
        return 1
    except UsageError as exc:
        print(f"{USAGE}\ncodex-ml {command}: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # Hydra's --help/--version, or a job that reported its error
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        return _interrupted(command)
    except BrokenPipeError:  # `codex-ml train --cfg job | head -1`
        _silence_stdout()
        return 0
    except Exception as exc:  # noqa: BLE001 - one paragraph, never a traceback (see report)
        if interrupts.pending():
            return _interrupted(command)
        report(command, exc)
        return 1
