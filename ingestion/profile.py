"""The business profile as a knowledge document, so hours and addresses are citable."""

from __future__ import annotations

from agent.core.models import Workspace
from agent.core.validation import DAY_NAMES
from ingestion.document import Document, sections_from_markdown

PROFILE_URI = "business-profile"


def profile_markdown(workspace: Workspace) -> str:
    lines = [f"# {workspace.name}"]
    if any(workspace.hours.values()):  # none set is "unknown", not "closed all week"
        lines += ["", "## Opening hours", ""]
        for day, name in DAY_NAMES.items():
            ranges = workspace.hours.get(day) or []
            spoken = " and ".join(r.replace("-", " to ") for r in ranges) if ranges else "closed"
            lines.append(f"- {name}: {spoken}")
        lines.append(f"- Time zone: {workspace.timezone}")
    contact = [
        ("Address", workspace.address),
        ("Phone", workspace.phone),
        ("Email", workspace.email),
    ]
    if any(value for _, value in contact):
        lines += ["", "## Location and contact", ""]
        lines += [f"- {label}: {value}" for label, value in contact if value]
    if workspace.services:
        lines += ["", "## Services", ""] + [f"- {service}" for service in workspace.services]
    lines += [
        "",
        "## Appointments",
        "",
        f"Appointments last {workspace.appointment_minutes} minutes and can be booked "
        "during opening hours.",
    ]
    if workspace.links:
        lines += ["", "## Links", ""]
        lines += [f"- {name.replace('_', ' ')}: {url}" for name, url in workspace.links.items()]
    return "\n".join(lines)


def profile_document(workspace: Workspace) -> Document:
    return Document(
        uri=PROFILE_URI,
        title=f"{workspace.name} business profile",
        sections=sections_from_markdown(profile_markdown(workspace)),
    )
