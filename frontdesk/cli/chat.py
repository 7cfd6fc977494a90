"""`frontdesk chat`: talk to your receptionist in the terminal, through the real service."""

from __future__ import annotations

import uuid

import click

from agent.core.conversations import Inbound
from agent.core.errors import FrontdeskError
from frontdesk.cli.context import CliContext

pass_cli = click.make_pass_decorator(CliContext)


def _show_reply(cli: CliContext, workspace_id: int, message_id: int) -> None:
    with cli.container.uow() as uow:
        repo = uow.workspace(workspace_id)
        reply = repo.messages.reply_to(message_id)
        conversation = repo.conversations.get(repo.messages.get(message_id).conversation_id)
    if reply is None:
        state = "a person has taken over" if conversation.mode == "human" else "no reply"
        click.secho(f"  ({state})", dim=True)
        return
    click.secho(f"AI: {reply.body}", fg="green")
    for call in reply.meta.get("tool_calls", []):
        args = ", ".join(f"{k}={v!r}" for k, v in call.get("args", {}).items())
        click.secho(f"  tool {call['name']}({args})", dim=True)
    for citation in reply.meta.get("citations", []):
        click.secho(f"  source: {citation['source']}", dim=True)


@click.command()
@click.option("--workspace", "workspace_name", default=None, help="Workspace name or id.")
@click.option("--model", default=None, help="Chat model (default: FRONTDESK_MODEL or local).")
@pass_cli
def chat(cli: CliContext, workspace_name: str | None, model: str | None) -> None:
    """Chat with the AI receptionist as a visitor would (Ctrl-D or 'quit' to leave)."""
    cli.model = model
    workspace = cli.workspace(workspace_name)
    thread = f"terminal-{uuid.uuid4().hex[:12]}"
    click.echo(f"Chatting with the {workspace.name} receptionist ({cli.settings.model}).")
    initial = workspace.widget.get("initial_message")
    if initial:
        click.secho(f"AI: {initial}", fg="green")
    while True:
        try:
            text = click.prompt("You", prompt_suffix="> ")
        except (EOFError, click.Abort):
            click.echo()
            return
        if text.strip().lower() in ("quit", "exit"):
            return
        try:
            received = cli.container.conversations.receive(
                workspace.id, Inbound(channel="webchat", body=text, thread_id=thread)
            )
        except FrontdeskError as exc:
            click.secho(f"  {exc}", fg="red")
            continue
        _show_reply(cli, workspace.id, received.message.id)
