"""`frontdesk channels ...`: list, connect, disconnect and test the workspace's channels.

The same operations as Settings > Channels. Scripts rely on `list --json` (one object per
channel) and on `connect email` printing the inbound address.
"""

from __future__ import annotations

import json

import click

from agent.core.channel_accounts import (
    CALLS,
    DEFAULT_TIER,
    META,
    META_WEBHOOK_PATH,
    PUBLIC_ADDRESS,
    TEXT_BACK,
    TWILIO_PATHS,
    WHATSAPP_WEBHOOK_PATH,
)
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
@click.argument("channel", type=click.Choice([*PROVIDER_CHANNELS, "twilio"]))
@click.option("--address", default="", help="Email: the public address customers write to.")
@click.option("--page-id", default="", help="Messenger: the Facebook Page id.")
@click.option("--account-id", default="", help="Instagram: the professional account id.")
@click.option("--access-token", default="", help="Meta channels: the access token.")
@click.option("--app-secret", default="", help="Meta channels: the Meta app's secret.")
@click.option("--verify-token", default="", help="Meta channels: the webhook's verify token.")
@click.option("--phone-number-id", default="", help="WhatsApp: the phone number id.")
@click.option("--waba-id", default="", help="WhatsApp: the WhatsApp Business Account id.")
@click.option("--display-number", default="", help="WhatsApp: the number, in E.164.")
@click.option(
    "--tier",
    type=click.IntRange(1),
    default=DEFAULT_TIER,
    show_default=True,
    help="WhatsApp: business-initiated conversations allowed per 24 hours.",
)
@click.option("--account-sid", default="", help="Twilio: the Account SID (AC...).")
@click.option("--auth-token", default="", help="Twilio: the auth token.")
@click.option("--number", default="", help="Twilio: the number, in E.164.")
@click.option(
    "--calls",
    type=click.Choice(CALLS),
    default="end",
    show_default=True,
    help="Twilio: when a call comes in, end it, forward it, or let the AI answer.",
)
@click.option("--forward-to", default="", help="Twilio: where calls are forwarded (E.164).")
@click.option(
    "--text-back",
    type=click.Choice(TEXT_BACK),
    default="missed",
    show_default=True,
    help="Twilio: text the caller after a call: never, always, or when missed.",
)
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
    phone_number_id: str,
    waba_id: str,
    display_number: str,
    tier: int,
    account_sid: str,
    auth_token: str,
    number: str,
    calls: str,
    forward_to: str,
    text_back: str,
    workspace_name: str | None,
) -> None:
    """Connect CHANNEL. Email prints the inbound address to forward mail to; Messenger,
    Instagram and WhatsApp print the webhook URL and verify token for the Meta app;
    twilio (SMS and calls on one number) prints the webhook URLs for the number."""
    if channel in (Channel.SMS, Channel.PHONE):
        raise click.UsageError("SMS and calls connect together: frontdesk channels connect twilio")
    workspace = cli.workspace(workspace_name)
    if channel == "twilio":
        _require(channel, {"--account-sid": account_sid, "--auth-token": auth_token,
                           "--number": number})  # fmt: skip
        try:
            sms, _ = cli.container.channels.connect_twilio(
                workspace.id,
                account_sid=account_sid,
                auth_token=auth_token,
                number=number,
                calls=calls,
                forward_to=forward_to,
                text_back=text_back,
            )
        except FrontdeskError as exc:
            raise click.ClickException(str(exc)) from None
        base = cli.container.settings.base_url.rstrip("/")
        click.echo(f"SMS and calls are connected for {workspace.name} ({sms.external_id}).")
        click.echo(f"A message comes in (SMS webhook): {base}{TWILIO_PATHS['sms']}")
        click.echo(f"Status callback: {base}{TWILIO_PATHS['status']}")
        click.echo(f"A call comes in (voice webhook): {base}{TWILIO_PATHS['voice']}")
        click.echo(f"Call status changes: {base}{TWILIO_PATHS['voice']}/status")
        return
    if channel == Channel.WHATSAPP:
        given = {
            "--phone-number-id": phone_number_id,
            "--waba-id": waba_id,
            "--display-number": display_number,
            "--access-token": access_token,
            "--app-secret": app_secret,
            "--verify-token": verify_token,
        }
        _require(channel, given)
        try:
            account = cli.container.channels.connect_whatsapp(
                workspace.id,
                phone_number_id=phone_number_id,
                waba_id=waba_id,
                display_number=display_number,
                access_token=access_token,
                app_secret=app_secret,
                verify_token=verify_token,
                tier=tier,
            )
        except FrontdeskError as exc:
            raise click.ClickException(str(exc)) from None
        number = account.settings.get("display_number")
        click.echo(f"WhatsApp is connected for {workspace.name} ({number}).")
        click.echo(f"Webhook URL: {cli.container.settings.base_url}{WHATSAPP_WEBHOOK_PATH}")
        click.echo(f"Verify token: {verify_token}")
        return
    if channel in META:
        ident = page_id if channel == Channel.MESSENGER else account_id
        option = "--page-id" if channel == Channel.MESSENGER else "--account-id"
        given = {option: ident, "--access-token": access_token, "--app-secret": app_secret}
        _require(channel, {**given, "--verify-token": verify_token})
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


def _require(channel: str, given: dict[str, str]) -> None:
    missing = [name for name, value in given.items() if not value]
    if missing:
        raise click.UsageError(f"{channel} needs {', '.join(missing)}")


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
