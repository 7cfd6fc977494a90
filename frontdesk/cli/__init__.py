"""The ``frontdesk`` command line: one group, commands grouped by role in sibling modules."""

from __future__ import annotations

import logging
import os

import click

from frontdesk.cli.channels import channels
from frontdesk.cli.chat import chat
from frontdesk.cli.context import CliContext
from frontdesk.cli.evals import eval_group
from frontdesk.cli.knowledge import knowledge
from frontdesk.cli.ops import backup, contacts, restore
from frontdesk.cli.run import serve, up, worker
from frontdesk.cli.setup import db, demo, init, jobs
from frontdesk.cli.smtp import smtp
from frontdesk.cli.webhooks import webhooks


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    envvar="FRONTDESK_DATA_DIR",
    help="Where the database, uploads, Chroma files and embedded Redis live.",
)
@click.version_option(package_name="frontdesk")
@click.pass_context
def main(ctx: click.Context, data_dir: str | None) -> None:
    """frontdesk: the self-hostable AI receptionist and shared team inbox.

    Start with `frontdesk demo` (or `frontdesk init`), then `frontdesk up`.
    """
    os.environ.setdefault("DO_NOT_TRACK", "1")
    logging.basicConfig(
        level=os.environ.get("FRONTDESK_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    ctx.obj = CliContext(data_dir=data_dir)


COMMANDS = (init, demo, up, serve, worker, smtp, db, jobs, knowledge, channels, chat, eval_group)
COMMANDS += (backup, restore, contacts)  # operations: frontdesk.cli.ops
COMMANDS += (webhooks,)  # outgoing webhooks: frontdesk.cli.webhooks
for command in COMMANDS:
    main.add_command(command)
