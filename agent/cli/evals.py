"""`frontdesk eval ...`: measure the receptionist on an eval suite."""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import click

from agent.core.errors import FrontdeskError


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
            result = SuiteRunner(suite, model=model, progress=progress).run(
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
