"""The Typer application shared by ``codex-ml`` and ``python -m codex_ml.cli.plugins_cli``.

Each command only declares its arguments; the body lives in ``_actions``.
Sub-apps per noun: the registry verbs at the top (``list``, ``ls``,
``explain``, ``search``, ``doctor``), ``docs build`` and ``report``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from . import _actions, _render

HELP = ("Inspect codex_ml's component registries: what is installed, where it came from, "
        "and why something is missing. Exit status: 0 ok, 1 not found or broken, 2 usage error.")

Json = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts) instead of tables.")]
Resolve = Annotated[bool, typer.Option(
    "--resolve", help="Run hook and bundle plugins first (this imports them).")]
KindOpt = Annotated[str | None, typer.Option("--kind", "-k", help="Only this kind (e.g. models).")]
Tags = Annotated[list[str] | None, typer.Option(
    "--tag", "-t", help="Only entries with this tag (repeat: all must match).")]


def list_cmd(
    kind: Annotated[str, typer.Argument(help="models, datasets, metrics, trainers, reward_models, "
                                             "tokenizers, rl_agents, ... (`ls` shows every kind)")],
    tag: Tags = None,
    resolve: Resolve = False,
    as_json: Json = False,
) -> None:
    """List one kind: name, source, whether loaded, whether its files are present."""
    raise typer.Exit(_actions.list_action(kind, tag, resolve, as_json))


def ls_cmd(tag: Tags = None, resolve: Resolve = False, as_json: Json = False) -> None:
    """Every registry: its entry-point group, count and names (with --tag: the entries with those tags)."""
    raise typer.Exit(_actions.ls_action(resolve, as_json, tag))


def explain_cmd(
    name: Annotated[str, typer.Argument(help="Component name (any kind), or a kind.")],
    kind: KindOpt = None,
    no_load: Annotated[bool, typer.Option(
        "--no-load", help="Do not import the component (no signature or docstring).")] = False,
    as_json: Json = False,
) -> None:
    """Metadata, provenance, signature, docstring and files of NAME; or why it is absent."""
    raise typer.Exit(_actions.explain_action(name, kind, no_load, as_json))


def search_cmd(
    query: Annotated[str, typer.Argument(help="Words to look for in names, aliases, descriptions, tags.")],
    kind: KindOpt = None,
    tag: Tags = None,
    as_json: Json = False,
) -> None:
    """Ranked search over every registry (exit 1 when nothing matches)."""
    raise typer.Exit(_actions.search_action(query, kind, as_json, tag))


def doctor_cmd(
    load_all: Annotated[bool, typer.Option(
        "--all", help="Also import every built-in and in-process entry (slower: may import torch).")] = False,
    as_json: Json = False,
    timeout: Annotated[float, typer.Option(
        "--timeout", help="Seconds each plugin may take to import, in a child process first "
                          "(one that hangs is named, not waited for); 0: no child process.")] = 10.0,
) -> None:
    """Load every plugin and report each failure with its cause (exit 1 if any is broken)."""
    raise typer.Exit(_actions.doctor_action(load_all, as_json, timeout))


def cache_clear_cmd(as_json: Json = False) -> None:
    """Remove the entry-point index cache ($CODEX_ML_CACHE_DIR, else $XDG_CACHE_HOME/codex_ml)."""
    from ._cache import cache_clear_action

    raise typer.Exit(cache_clear_action(as_json))


def docs_build_cmd(
    out: Annotated[str | None, typer.Option(
        "--out", "-o", help="Folder to write the pages into (default: site/registries for md, site for "
                            "html).")] = None,
    fmt: Annotated[str, typer.Option(
        "--format", "-f", help="md: one Markdown table per registry; html: an offline site with "
                               "search, diagrams, the guides and broken plugins.")] = "md",
    guides: Annotated[str | None, typer.Option(
        "--guides", help="Folder of Markdown guides for the html site (default: ./docs, else the "
                         "source checkout's docs/).")] = None,
    resolve: Resolve = False,
    as_json: Json = False,
) -> None:
    """Write the registries' docs: Markdown tables (md) or a browsable offline site (html)."""
    raise typer.Exit(_actions.docs_build_action(out, as_json, fmt, guides, resolve))


def report_cmd(
    run_dirs: Annotated[list[str], typer.Argument(metavar="RUN_DIR", help="Run folders (runs/<name>), one or more.")],
    out: Annotated[str, typer.Option("--out", "-o", help="The HTML file to write.")] = "report.html",
    as_json: Json = False,
) -> None:
    """One offline HTML page: curves, config differences, evaluations, samples, training data."""
    from ._report import report_action

    raise typer.Exit(report_action(run_dirs, out, as_json))


def build_app(*, hydra_commands: bool = False) -> typer.Typer:
    """The command tree; ``hydra_commands`` adds train/evaluate (for ``codex-ml --help``)."""
    app = typer.Typer(help=HELP, add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                      context_settings={"help_option_names": ["-h", "--help"]})  # every command's -h too
    app.command("list")(list_cmd)
    app.command("ls")(ls_cmd)
    app.command("explain")(explain_cmd)
    app.command("search")(search_cmd)
    app.command("doctor")(doctor_cmd)
    docs = typer.Typer(help="Documentation generated from the registries.", no_args_is_help=True)
    docs.command("build")(docs_build_cmd)
    app.add_typer(docs, name="docs")
    cache = typer.Typer(help="The entry-point index cache.", no_args_is_help=True)
    cache.command("clear")(cache_clear_cmd)
    app.add_typer(cache, name="cache")
    app.command("report")(report_cmd)
    if hydra_commands:
        _add_hydra_commands(app)
    return app


def _add_hydra_commands(app: typer.Typer) -> None:
    settings = {"allow_extra_args": True, "ignore_unknown_options": True}
    for name, what in (("train", "Train from a composed Hydra config"),
                       ("evaluate", "Evaluate from a composed Hydra config")):
        def command(ctx: typer.Context, _name: str = name) -> None:
            raise typer.Exit(_actions.run_hydra(_name, list(ctx.args)))

        command.__doc__ = f"{what} (Hydra arguments: -cn NAME, key=value overrides)."
        app.command(name, context_settings=settings, add_help_option=False)(command)
    for name, what in (("generate", "Generate text from a trained run (run_dir=R prompt=...)"),
                       ("export", "Export a run for transformers / load_run (run_dir=R out=DIR)"),
                       ("plot", "Overlay runs' curves in a PNG (RUN... --out F.png)")):
        def after(ctx: typer.Context, _name: str = name) -> None:
            from ._after import run

            raise typer.Exit(run(_name, list(ctx.args)))

        after.__doc__ = f"{what}."
        app.command(name, context_settings=settings, add_help_option=False)(after)


def invoke(app: typer.Typer, argv: list[str], prog: str) -> int:
    """Run ``app`` on ``argv`` and return its exit status (never raise, never a traceback)."""
    try:
        app(args=argv, prog_name=prog, standalone_mode=True)
    except SystemExit as exc:
        return _actions.exit_status(exc)
    except KeyboardInterrupt:
        _render.error("interrupted")
        return 130
    except Exception as exc:  # noqa: BLE001 - one paragraph; the traceback only when asked for
        from ._traceback import show_traceback

        show_traceback(exc)  # the one switch for every command: CODEX_ML_TRACEBACK=1
        _render.error(f"internal error: {type(exc).__name__}: {exc}; rerun with "
                      "CODEX_ML_TRACEBACK=1 to see the traceback.")
        return 1
    return 0
