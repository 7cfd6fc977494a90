"""`frontdesk eval ...`: measure the receptionist on an eval suite."""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import click

from agent.core.errors import FrontdeskError
from frontdesk.cli.context import CliContext

pass_cli = click.make_pass_decorator(CliContext)


@click.group(name="eval")
def eval_group() -> None:
    """Run eval suites against the AI receptionist."""


@eval_group.command()
@click.argument("suite_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--model", default="local", show_default=True, help="Chat model spec.")
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the JSON report here.",
)
@click.option(
    "--min-pass",
    type=click.FloatRange(0, 1),
    default=None,
    help="Exit 1 when the pass rate is below this (0-1).",
)
@click.option("--case", "case_ids", multiple=True, help="Only this case (repeatable).")
@click.option(
    "--repeat",
    type=click.IntRange(1, 100),
    default=1,
    show_default=True,
    help="Run each case N times; it passes only if every run passes.",
)
def run(
    suite_path: Path,
    model: str,
    report_path: Path | None,
    min_pass: float | None,
    case_ids: tuple[str, ...],
    repeat: int,
) -> None:
    """Build a throw-away workspace from SUITE_PATH, play its cases and report."""
    from evals.report import build_report, markdown
    from evals.runner import SuiteRunner
    from evals.suite import load_suite
    from frontdesk.wiring import build

    try:
        suite = load_suite(suite_path)
    except FrontdeskError as exc:
        raise click.ClickException(str(exc)) from None
    unknown = sorted(set(case_ids) - {c.id for c in suite.cases})
    if unknown:
        raise click.ClickException(f"no case with id {unknown[0]!r} in {suite_path}")
    total = len(case_ids or suite.cases)
    started, clock = datetime.now(UTC), time.perf_counter()
    with click.progressbar(
        length=total, label="Running cases", show_pos=True, file=sys.stderr
    ) as bar:

        def progress(message: str) -> None:
            if message.startswith("case ") and bar.pos < total:
                bar.update(1)

        try:
            result = SuiteRunner(suite, build=build, model=model, progress=progress).run(
                repeat=repeat, case_ids=list(case_ids) or None
            )
        except FrontdeskError as exc:
            raise click.ClickException(str(exc)) from None
    report = build_report(suite.name, model, started, time.perf_counter() - clock, result)
    click.echo(markdown(report))
    if report_path is not None:
        report_path.parent.mkdir(parents=True, exist_ok=True)
        report_path.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
        click.echo(f"\nReport written to {report_path}")
    if min_pass is not None and report["pass_rate"] < min_pass:
        click.echo(f"Pass rate {report['pass_rate']:.0%} is below {min_pass:.0%}.", err=True)
        raise click.exceptions.Exit(1)


@eval_group.command()
@click.option(
    "--workspace", "workspace_name", default=None, help="Workspace name or id (if several)."
)
@click.option(
    "--output",
    "output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the suite [default: ./<workspace>-starter.yaml].",
)
@click.option(
    "--max-cases",
    type=click.IntRange(1, 500),
    default=40,
    show_default=True,
    help="At most this many cases.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing suite and its snapshot.")
@pass_cli
def init(
    cli: CliContext,
    workspace_name: str | None,
    output: Path | None,
    max_cases: int,
    force: bool,
) -> None:
    """Write a starter suite generated from the workspace's own knowledge, for review.

    Questions come from custom Q&A, text titles and page/file headings; website pages
    are written as a snapshot folder beside the suite so it runs offline.
    """
    import shutil
    from zoneinfo import ZoneInfo

    from evals.starter import build_starter, to_yaml

    workspace = cli.workspace(workspace_name)
    container = cli.container
    output = output or Path(f"{_slug(workspace.name)}-starter.yaml")
    assets = f"{output.stem}-knowledge"
    assets_dir = output.parent / assets
    if not force and (output.exists() or assets_dir.exists()):
        raise click.ClickException(f"{output} or {assets_dir} already exists: use --force")
    now = datetime.now(ZoneInfo(workspace.timezone))
    starter = build_starter(
        workspace,
        container.knowledge.sources(workspace.id),
        container.index.stored_chunks(workspace.id),
        now,
        assets=assets,
        max_cases=max_cases,
    )
    if assets_dir.exists():
        shutil.rmtree(assets_dir)
    for folder, pages in starter.sites.items():
        for relative, page in pages.items():
            target = output.parent / folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(page, encoding="utf-8")
    uploads = cli.settings.uploads_path / str(workspace.id)
    for relative, stored in starter.files.items():
        target = output.parent / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(uploads / stored, target)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(to_yaml(starter, workspace.name, now), encoding="utf-8")
    for note in starter.notes:
        click.echo(f"note: {note}", err=True)
    pages = sum(len(p) for p in starter.sites.values())
    click.echo(
        f"Wrote {starter.case_count} cases to {output}"
        + (f" ({pages} pages snapshotted under {assets_dir})" if pages else "")
    )
    click.echo(f"Review the cases, then run: frontdesk eval run {output}")


def _slug(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split()) or "workspace"
