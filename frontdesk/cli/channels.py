"""`frontdesk channels ...`: list, connect, disconnect and test the workspace's channels.

The same operations as Settings > Channels. Scripts rely on `list --json` (one object per
channel) and on `connect email` printing the inbound address.
"""

from __future__ import annotations

import json

import click

from agent.core.channel_accounts import CONNECTABLE, META, META_WEBHOOK_PATH, PUBLIC_ADDRESS
from agent.core.errors import FrontdeskError
from agent.core.models import Channel
from frontdesk.cli.context import CliContext

pass_cli = click.make_pass_decorator(CliContext)
workspace_option = click.option(
    "--workspace", "workspace_name", default=None, help="Workspace name or id (if several)."
)
PROVIDER_CHANNELS = [c.value for c in Channel if c != Channel.WEBCHAT]


@click.group()
def channels() -> None:
    """Connect the channels customers reach you on (email, Messenger, Instagram...)."""


@channels.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@workspace_option
@pass_cli
def list_channels(cli: CliContext, as_json: bool, workspace_name: str | None) -> None:
    """Every channel with its state and identifiers (email: inbound and public address)."""
    workspace = cli.workspace(workspace_name)
    rows = [s.as_dict() for s in cli.container.channels.states(workspace.id)]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for row in rows:
        state = row["state"].replace("_", " ")
        detail = row["external_id"] or ("" if row["connectable"] else "not available yet")
        if row.get("public_address"):
            detail += f" (public address {row['public_address']})"
        if row["state"] != "not_connected" and not row["ai_auto_reply"]:
            detail += " [AI auto-reply off]"
        click.echo(f"{row['channel']:<10} {state:<14} {detail}".rstrip())
        if row["last_error"]:
            click.echo(f"           last error: {row['last_error']}")


@channels.command()
@click.argument("channel", type=click.Choice(PROVIDER_CHANNELS))
@click.option("--address", default="", help="Email: the public address customers write to.")
@click.option("--page-id", default="", help="Messenger: the Facebook Page id.")
@click.option("--account-id", default="", help="Instagram: the professional account id.")
@click.option("--access-token", default="", help="Messenger/Instagram: the Page access token.")
@click.option("--app-secret", default="", help="Messenger/Instagram: the Meta app's secret.")
@click.option("--verify-token", default="", help="Messenger/Instagram: the webhook's verify token.")
@workspace_option
@pass_cli
def connect(
    cli: CliContext,
    channel: str,
    address: str,
    page_id: str,
    account_id: str,
    access_token: str,
    app_secret: str,
    verify_token: str,
    workspace_name: str | None,
) -> None:
    """Connect CHANNEL. Email prints the inbound address to forward mail to; Messenger
    and Instagram print the webhook URL and verify token for the Meta app."""
    if channel not in CONNECTABLE:
        allowed = ", ".join(sorted(CONNECTABLE))
        raise click.ClickException(f"{channel} cannot be connected yet (only: {allowed})")
    workspace = cli.workspace(workspace_name)
    if channel in META:
        ident = page_id if channel == Channel.MESSENGER else account_id
        option = "--page-id" if channel == Channel.MESSENGER else "--account-id"
        given = {option: ident, "--access-token": access_token, "--app-secret": app_secret}
        missing = [
            name for name, value in {**given, "--verify-token": verify_token}.items() if not value
        ]
        if missing:
            raise click.UsageError(f"{channel} needs {', '.join(missing)}")
        try:
            cli.container.channels.connect_meta(
                workspace.id,
                channel,
                ident,
                access_token=access_token,
                app_secret=app_secret,
                verify_token=verify_token,
            )
        except FrontdeskError as exc:
            raise click.ClickException(str(exc)) from None
        label = "Messenger" if channel == Channel.MESSENGER else "Instagram"
        click.echo(f"{label} is connected for {workspace.name} ({ident}).")
        click.echo(f"Webhook URL: {cli.container.settings.base_url}{META_WEBHOOK_PATH}")
        click.echo(f"Verify token: {verify_token}")
        return
    try:
        account = cli.container.channels.connect_email(workspace.id, address)
    except FrontdeskError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Email is connected for {workspace.name}.")
    click.echo(f"Inbound address: {account.external_id}")
    public = account.settings.get(PUBLIC_ADDRESS)
    if public:
        click.echo(f"Forward {public} to {account.external_id} (or point your MX record here).")


@channels.command()
@click.argument("channel", type=click.Choice(PROVIDER_CHANNELS))
@workspace_option
@pass_cli
def disconnect(cli: CliContext, channel: str, workspace_name: str | None) -> None:
    """Disconnect CHANNEL (its account and stored credentials are forgotten)."""
    workspace = cli.workspace(workspace_name)
    if cli.container.channels.disconnect(workspace.id, channel):
        click.echo(f"{channel} is disconnected.")
    else:
        click.echo(f"{channel} was not connected.")


@channels.command(name="test")
@click.argument("channel", type=click.Choice(PROVIDER_CHANNELS))
@click.option("--to", "to", required=True, metavar="ADDRESS_OR_NUMBER", help="Who gets the test.")
@workspace_option
@pass_cli
def send_test(cli: CliContext, channel: str, to: str, workspace_name: str | None) -> None:
    """Send a test message on CHANNEL to ADDRESS_OR_NUMBER, right now."""
    workspace = cli.workspace(workspace_name)
    try:
        result = cli.container.delivery.send_test(workspace.id, channel, to)
    except FrontdeskError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Test message sent to {to} (provider id {result.provider_message_id}).")
