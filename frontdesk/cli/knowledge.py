"""`frontdesk knowledge ...`: add, list, refresh, remove and search what the AI knows."""

from __future__ import annotations

import json
from pathlib import Path

import click

from agent.core.errors import FrontdeskError
from agent.core.models import KnowledgeSource
from frontdesk.cli.context import CliContext
from frontdesk.cli.run import redis_url_for
from ingestion.jobs import DeferredIngestQueue
from ingestion.uploads import add_upload

pass_cli = click.make_pass_decorator(CliContext)
workspace_option = click.option(
    "--workspace", "workspace_name", default=None, help="Workspace name or id (if several)."
)


@click.group()
def knowledge() -> None:
    """Manage the knowledge the AI receptionist answers from."""


def _describe(source: KnowledgeSource) -> str:
    progress = ""
    if source.status == "running" and source.progress_total:
        progress = f" {source.progress_done}/{source.progress_total}"
    label = source.uri if source.kind == "website" else source.title
    line = f"#{source.id:<4} {source.kind:<8} {source.status}{progress:<10} {label}"
    if source.error:
        line += f"\n       error: {source.error}"
    return line


def _run_now(cli: CliContext, pending: DeferredIngestQueue) -> None:
    """Run queued ingestion in this process, with a progress bar per source."""
    container = cli.container
    for action, workspace_id, source_id in pending.pending:
        if action == "purge":
            container.ingestor.purge(workspace_id, source_id)
            continue
        with click.progressbar(length=1, label=f"source #{source_id}", show_pos=True) as bar:

            def progress(source: KnowledgeSource, bar=bar) -> None:  # type: ignore[no-untyped-def]
                bar.length = max(source.progress_total, 1)
                bar.update(source.progress_done - bar.pos)

            container.ingestor.run(workspace_id, source_id, progress=progress)
        with container.uow() as uow:
            source = uow.workspace(workspace_id).knowledge.get(source_id)
        click.echo(_describe(source))
        last = source.config.get("last_run")
        if last:
            click.echo(
                "       "
                + ", ".join(
                    f"{k.replace('_', ' ')}: {v}" for k, v in last.items() if isinstance(v, int)
                )
            )
        if source.status == "failed":
            raise click.exceptions.Exit(1)


def _service(cli: CliContext, wait: bool):  # type: ignore[no-untyped-def]
    """The knowledge service, queueing to the worker or collecting work to run right here."""
    if wait:
        pending = DeferredIngestQueue()
        cli.overrides["ingest_queue_override"] = pending
        return cli.container.knowledge, pending
    return cli.container.knowledge, None


@knowledge.command()
@click.argument("url_or_path", required=False)
@click.option("--text", "text", nargs=2, metavar="TITLE BODY", help="Add free text.")
@click.option("--qa", "qa", nargs=2, metavar="QUESTION ANSWER", help="Add a custom Q&A.")
@click.option(
    "--refresh-hours",
    type=int,
    default=24,
    show_default=True,
    help="Re-crawl a website this often (0: never).",
)
@click.option("--max-pages", type=int, default=500, show_default=True)
@click.option("--wait", is_flag=True, help="Ingest now, here, with a progress bar.")
@workspace_option
@pass_cli
def add(
    cli: CliContext,
    url_or_path: str | None,
    text: tuple[str, str] | None,
    qa: tuple[str, str] | None,
    refresh_hours: int,
    max_pages: int,
    wait: bool,
    workspace_name: str | None,
) -> None:
    """Add a website (URL), a file (PATH), --text TITLE BODY or --qa QUESTION ANSWER."""
    given = [x for x in (url_or_path, text, qa) if x]
    if len(given) != 1:
        raise click.UsageError("give exactly one of URL_OR_PATH, --text or --qa")
    with redis_url_for(cli) as redis_url:
        cli.redis_url = redis_url
        service, pending = _service(cli, wait)
        workspace = cli.workspace(workspace_name)
        try:
            if text:
                source = service.add_text(workspace.id, *text)
            elif qa:
                source = service.add_qa(workspace.id, *qa)
            elif Path(url_or_path).exists():
                source = _add_file(cli, service, workspace.id, Path(url_or_path))
            else:
                source = service.add_website(
                    workspace.id, url_or_path, refresh_hours=refresh_hours, max_pages=max_pages
                )
        except FrontdeskError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"Added #{source.id} ({source.kind}) to {workspace.name}.")
        if pending is not None:
            _run_now(cli, pending)
        else:
            click.echo("Queued: `frontdesk up` (or `frontdesk worker`) will ingest it.")


def _add_file(cli: CliContext, service, workspace_id: int, path: Path) -> KnowledgeSource:  # type: ignore[no-untyped-def]
    if not path.is_file():
        raise click.ClickException(f"{path} is not a file")
    limit = cli.settings.max_upload_mb * 1024 * 1024
    with path.open("rb") as handle:
        return add_upload(
            service, cli.settings.uploads_path, workspace_id, handle, path.name, max_bytes=limit
        )


@knowledge.command(name="list")
@workspace_option
@pass_cli
def list_sources(cli: CliContext, workspace_name: str | None) -> None:
    """List knowledge sources with their status."""
    workspace = cli.workspace(workspace_name)
    sources = cli.container.knowledge.sources(workspace.id)
    if not sources:
        click.echo("No knowledge yet: `frontdesk knowledge add URL_OR_PATH`.")
    for source in sources:
        click.echo(_describe(source))


@knowledge.command()
@click.argument("source_id", type=int, required=False)
@click.option("--due", is_flag=True, help="Only websites whose refresh interval has passed.")
@click.option("--wait", is_flag=True, help="Ingest now, here, with a progress bar.")
@workspace_option
@pass_cli
def refresh(
    cli: CliContext, source_id: int | None, due: bool, wait: bool, workspace_name: str | None
) -> None:
    """Re-ingest one source (ID), every source, or only those due (--due)."""
    with redis_url_for(cli) as redis_url:
        cli.redis_url = redis_url
        service, pending = _service(cli, wait)
        try:
            if due:
                queued = service.refresh_due()
            else:
                workspace = cli.workspace(workspace_name)
                ids = [source_id] if source_id else [s.id for s in service.sources(workspace.id)]
                queued = [(workspace.id, service.refresh(workspace.id, i).id) for i in ids]
        except FrontdeskError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"Refreshing {len(queued)} source(s).")
        if pending is not None:
            _run_now(cli, pending)


@knowledge.command()
@click.argument("source_id", type=int)
@workspace_option
@pass_cli
def remove(cli: CliContext, source_id: int, workspace_name: str | None) -> None:
    """Remove a source; its passages disappear from the index."""
    service, pending = _service(cli, wait=True)
    workspace = cli.workspace(workspace_name)
    try:
        service.remove(workspace.id, source_id)
    except FrontdeskError as exc:
        raise click.ClickException(str(exc)) from None
    _run_now(cli, pending)
    click.echo(f"Removed #{source_id}.")


@knowledge.command()
@click.argument("query")
@click.option("-k", "k", type=click.IntRange(1, 50), default=5, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@workspace_option
@pass_cli
def search(cli: CliContext, query: str, k: int, as_json: bool, workspace_name: str | None) -> None:
    """Show the passages the AI would retrieve for QUERY, with their sources."""
    workspace = cli.workspace(workspace_name)
    passages = cli.container.index.search(workspace.id, query, k)
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "citation": p.citation,
                        "uri": p.uri,
                        "title": p.title,
                        "heading": p.heading,
                        "kind": p.kind,
                        "score": round(p.score, 4),
                        "similarity": round(p.similarity, 4),
                        "keyword": round(p.keyword, 4),
                        "text": p.text,
                    }
                    for p in passages
                ],
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    if not passages:
        click.echo("Nothing found.")
    for n, p in enumerate(passages, 1):
        click.echo(
            click.style(f"{n}. {p.citation}", bold=True) + f"  (similarity {p.similarity:.2f})"
        )
        click.echo("   " + p.text.replace("\n", "\n   "))
