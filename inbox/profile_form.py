"""The business-profile form: workspace <-> form values, and every field's error at once.

The core (``clean_profile``) stops at the first bad value; a person fixing a form wants
all of them, each next to its input, so each field is checked on its own here with the
same core rules before the whole change is saved.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from agent.core import validation
from agent.core.errors import ValidationError
from agent.core.models import Workspace
from agent.core.validation import DAY_NAMES
from agent.core.workspaces import clean_profile

TEXT_FIELDS = ("name", "timezone", "country", "address", "phone", "email")
BLANK_LINK_ROWS = 2  # empty rows under the saved links, for adding new ones without script


def values_from_workspace(workspace: Workspace) -> dict[str, Any]:
    """What the form shows for the saved profile."""
    return {
        **{key: str(getattr(workspace, key) or "") for key in TEXT_FIELDS},
        "hours": {day: ", ".join(workspace.hours.get(day) or []) or "closed" for day in DAY_NAMES},
        "services": "\n".join(workspace.services),
        "appointment_minutes": str(workspace.appointment_minutes),
        "links": [{"name": name, "url": url} for name, url in workspace.links.items()],
    }


def values_from_form(form: Any) -> dict[str, Any]:
    """The submitted form (a werkzeug MultiDict) as the same shape, exactly as typed."""
    names, urls = form.getlist("link_name"), form.getlist("link_url")
    links = [
        {"name": str(name).strip(), "url": str(url).strip()}
        for name, url in zip(names, urls, strict=False)
        if str(name).strip() or str(url).strip()
    ]
    return {
        **{key: str(form.get(key, "")).strip() for key in TEXT_FIELDS},
        "hours": {day: str(form.get(f"hours_{day}", "")).strip() for day in DAY_NAMES},
        "services": str(form.get("services", "")),
        "appointment_minutes": str(form.get("appointment_minutes", "")).strip(),
        "links": links,
    }


def link_rows(values: Mapping[str, Any]) -> list[dict[str, str]]:
    return [*values["links"], *({"name": "", "url": ""} for _ in range(BLANK_LINK_ROWS))]


def _link_name(text: str) -> str:
    """Spaces become underscores ("Book online" -> "book_online"), as share_link looks up."""
    return re.sub(r"\s+", "_", text.strip().lower())


def changes_from_values(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Profile changes for ``update_profile`` and the errors by input name (empty when valid)."""
    errors: dict[str, str] = {}

    def check(name: str, rule: Callable[[], Any]) -> Any:
        try:
            return rule()
        except ValidationError as exc:
            errors.setdefault(name, exc.message)
            return None

    changes: dict[str, Any] = {key: values[key] for key in TEXT_FIELDS}
    for key in ("name", "timezone", "country", "address", "email"):
        check(key, lambda key=key: clean_profile({key: values[key]}, partial=True))
    if values["phone"] and "country" not in errors:
        check("phone", lambda: validation.phone(values["phone"], values["country"] or "US"))
    hours = {}
    for day in DAY_NAMES:
        spec = values["hours"][day]
        hours[day] = spec
        check(f"hours_{day}", lambda spec=spec, day=day: validation.opening_hours({day: spec}))
    changes["hours"] = hours
    services = [line.strip() for line in values["services"].splitlines() if line.strip()]
    changes["services"] = services
    check("services", lambda: clean_profile({"services": services}, partial=True))
    changes["appointment_minutes"] = values["appointment_minutes"]
    check(
        "appointment_minutes",
        lambda: clean_profile({"appointment_minutes": values["appointment_minutes"]}, partial=True),
    )
    links: dict[str, str] = {}
    for index, row in enumerate(values["links"]):
        name = _link_name(row["name"])
        if not row["url"]:
            errors[f"link_{index}"] = "enter the web address (https://...) for this link"
        elif not name:
            errors[f"link_{index}"] = "give this link a short name, like 'booking'"
        elif name in links:
            errors[f"link_{index}"] = f"the name {name!r} is used twice"
        else:
            url = row["url"]
            checked = check(f"link_{index}", lambda name=name, url=url: validation.link(name, url))
            if checked:
                links[checked[0]] = checked[1]
    changes["links"] = links
    return changes, errors
