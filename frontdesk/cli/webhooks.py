"""`frontdesk webhooks ...`: send the workspace's events to Zapier, Make, n8n or a CRM."""

from __future__ import annotations

import click

from agent.core.errors import FrontdeskError
from agent.core.models import WebhookDelivery, WebhookEndpoint
from agent.core.webhook_payloads import EVENT_TYPES
from frontdesk.cli.context import CliContext

pass_cli = click.make_pass_decorator(CliContext)
workspace_option = click.option(
    "--workspace", "workspace_name", default=None, help="Workspace name or id (if several)."
)


@click.group()
def webhooks() -> None:
    """Outgoing webhooks: signed JSON POSTs when things happen in the inbox."""


def _outcome(delivery: WebhookDelivery) -> str:
    code = f"HTTP {delivery.response_code}" if delivery.response_code is not None else "no answer"
    line = f"{delivery.status}, {code}"
    return f"{line}: {delivery.last_error}" if delivery.last_error else line


def _describe(endpoint: WebhookEndpoint, last: WebhookDelivery | None) -> str:
    state = "active" if endpoint.active else "paused"
    line = (
        f"#{endpoint.id:<4} {state:<7} {endpoint.url}\n       events: {', '.join(endpoint.events)}"
    )
    if last is not None:
        line += f"\n       last delivery: {last.event_type} {_outcome(last)}"
    return line


@webhooks.command()
@click.argument("url")
@click.option(
    "--events",
    required=True,
    metavar="EVENT[,EVENT...]",
    help=f"What to send: {', '.join(EVENT_TYPES)}.",
)
@workspace_option
@pass_cli
def add(cli: CliContext, url: str, events: str, workspace_name: str | None) -> None:
    """Add an endpoint; prints its id and signing secret (shown only this once)."""
    workspace = cli.workspace(workspace_name)
    try:
        endpoint, secret = cli.container.outgoing_webhooks.add(workspace.id, url, events)
    except FrontdeskError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Webhook endpoint added: {endpoint.url} ({', '.join(endpoint.events)})")
    click.echo(f"id: {endpoint.id}")
    click.echo(f"secret: {secret}")
    click.echo(
        "Keep the secret: it is not shown again. Check each request's "
        "X-Frontdesk-Signature header with it (see the README)."
    )


@webhooks.command("list")
@workspace_option
@pass_cli
def list_endpoints(cli: CliContext, workspace_name: str | None) -> None:
    """List the endpoints, their events and their latest delivery."""
    workspace = cli.workspace(workspace_name)
    service = cli.container.outgoing_webhooks
    endpoints = service.endpoints(workspace.id)
    if not endpoints:
        click.echo(
            "No webhook endpoints yet: add one with `frontdesk webhooks add URL --events ...`"
        )
        return
    for endpoint in endpoints:
        last = next(iter(service.deliveries(workspace.id, endpoint.id, limit=1)), None)
        click.echo(_describe(endpoint, last))


@webhooks.command()
@click.argument("endpoint_id", type=int)
@workspace_option
@pass_cli
def test(cli: CliContext, endpoint_id: int, workspace_name: str | None) -> None:
    """Send a signed `ping` event now and print the response code."""
    workspace = cli.workspace(workspace_name)
    try:
        delivery = cli.container.outgoing_webhooks.test(workspace.id, endpoint_id)
    except FrontdeskError as exc:
        raise click.ClickException(str(exc)) from None
    if delivery.response_code is not None:
        click.echo(f"Response code: {delivery.response_code}")
    if delivery.status != "delivered":
        raise click.ClickException(f"the ping was not accepted ({_outcome(delivery)})")
    click.echo("The endpoint accepted the ping.")


@webhooks.command()
@click.argument("endpoint_id", type=int)
@workspace_option
@pass_cli
def remove(cli: CliContext, endpoint_id: int, workspace_name: str | None) -> None:
    """Remove an endpoint and its delivery log (nothing more is sent to it)."""
    workspace = cli.workspace(workspace_name)
    try:
        cli.container.outgoing_webhooks.remove(workspace.id, endpoint_id)
    except FrontdeskError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Removed webhook endpoint {endpoint_id}.")
