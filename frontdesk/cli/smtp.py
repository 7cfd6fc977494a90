"""`frontdesk smtp`: the inbound mail server on its own (`up` starts it too, when
FRONTDESK_INBOUND_SMTP_PORT is set).

It accepts mail only for connected inbound addresses (550 otherwise) and enqueues each
mail for the workers, so it runs beside `frontdesk worker` processes on the same Redis.
"""

from __future__ import annotations

import threading

import click

from channels.email.smtp_server import InboundServer
from frontdesk.cli.context import CliContext
from frontdesk.cli.run import redis_url_for
from frontdesk.wiring import Container

pass_cli = click.make_pass_decorator(CliContext)


def start_inbound(
    container: Container, host: str | None = None, port: int | None = None
) -> InboundServer:
    """Start the server, refusing clearly when the email channel cannot work."""
    if not container.settings.email_domain:
        raise click.ClickException(
            "FRONTDESK_EMAIL_DOMAIN is not set: there are no inbound addresses to receive for"
        )
    try:
        return container.inbound_smtp(host, port)
    except OSError as exc:
        where = f"{host or container.settings.inbound_smtp_host}:{port}"
        raise click.ClickException(f"cannot listen for mail on {where}: {exc}") from None


def listening(server: InboundServer) -> str:
    return f"smtp://{server.host}:{server.port}"


@click.command()
@click.option("--host", default=None, help="Interface [default: FRONTDESK_INBOUND_SMTP_HOST].")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Port [default: FRONTDESK_INBOUND_SMTP_PORT, or 2525].",
)
@pass_cli
def smtp(cli: CliContext, host: str | None, port: int | None) -> None:
    """Receive inbound mail by SMTP for the workspaces' addresses, until stopped.

    Mail is queued for the workers (`frontdesk worker`), who store it in the inbox.
    """
    port = port if port is not None else (cli.settings.inbound_smtp_port or 2525)
    with redis_url_for(cli) as redis_url:
        cli.redis_url = redis_url
        server = start_inbound(cli.container, host, port)
        click.echo(f"Receiving mail for @{cli.settings.email_domain} on {listening(server)}")
        click.echo("Press Ctrl-C to stop.")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
    click.echo("Mail server stopped.")
