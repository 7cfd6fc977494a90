"""Custom AI actions: HTTP calls an admin lets the AI make as tools ("look up an order").

An action is a name, a description (what it is for, when to use it, example visitor
phrasings), a JSON schema of flat parameters, a method and a URL template
(``https://api.example.com/orders/{order_number}``), headers (secret values sealed with
the ``SecretBox``) and the dotted paths of the response the AI may see.

Calling one (``run``) validates the arguments against the schema, fills the template with
each value URL-encoded (a value can never change the host: the filled URL's origin must be
the template's), sends the other parameters as the query string (GET, DELETE) or a JSON
body (POST, PUT, PATCH), and goes through the ``ActionCaller`` port, which checks the
address against the crawler's SSRF rules again and limits time and size. Of the answer
only the chosen fields are kept; the rest is dropped before any model sees it. Every
outcome, failures included, is a JSON-able dict for the conversation's tool log.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from string import Formatter
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from agent.core import validation
from agent.core.errors import (
    Conflict,
    FrontdeskError,
    SendError,
    ValidationError,
)
from agent.core.models import CustomAction
from agent.core.ports import ActionCaller, Clock, SecretBox, UnitOfWorkFactory

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
PARAMETER_TYPES = frozenset({"string", "integer", "number", "boolean"})
# The built-in tools' names (agent.graph.tools.TOOLS): an action may not shadow one.
RESERVED_NAMES = frozenset(
    {
        "search_knowledge",
        "capture_contact",
        "check_availability",
        "book_appointment",
        "share_link",
        "handoff_to_human",
    }
)
MAX_ACTIONS = 30  # per workspace: each is a tool in every model call
MAX_DESCRIPTION = 2000
MAX_URL = 2000
MAX_FIELDS = 40
MAX_HEADERS = 20
MAX_VALUE_CHARS = 500  # one response value as the AI sees it
_NAME = re.compile(r"^[a-z][a-z0-9_]{1,63}$")  # OpenAI tool names allow these and more
_PARAM = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_FIELD = re.compile(r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$")
_FORBIDDEN_HEADERS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "te", "upgrade", "trailer"}
)


@dataclass(frozen=True)
class ActionDraft:
    """What the admin typed; ``headers`` values of secret headers left empty keep the
    stored secret when editing."""

    name: str
    description: str
    parameters: Mapping[str, Any] | str
    method: str
    url: str
    headers: Sequence[Mapping[str, Any]] = ()
    response_fields: Sequence[str] | str = ()
    enabled: bool = True


def tool_spec(action: CustomAction) -> dict[str, Any]:
    """The action as a model sees it: an OpenAI-format function tool."""
    return {
        "type": "function",
        "function": {
            "name": action.name,
            "description": action.description,
            "parameters": action.parameters or {"type": "object", "properties": {}},
        },
    }


def placeholders(template: str) -> list[str]:
    """The parameter names a URL template uses, in order ("{order_number}")."""
    try:
        return [f for _, f, _, _ in Formatter().parse(template) if f is not None]
    except ValueError:
        raise ValidationError("url", "has an unmatched { or }") from None


def fill_url(template: str, args: Mapping[str, Any]) -> str:
    """The template with each value percent-encoded whole ("/", "?", "#" and "@" included),
    so a value stays inside its path segment or query value and never reaches the host."""
    return template.format_map({k: _segment(_plain(v)) for k, v in args.items()})


def _segment(value: str) -> str:
    """A value percent-encoded whole; "." and ".." too, so no value climbs the path."""
    if value in (".", ".."):
        return value.replace(".", "%2E")
    return quote(value, safe="")


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def pick(data: Any, paths: Sequence[str]) -> dict[str, Any]:
    """Only the dotted ``paths`` of ``data`` (``order.status``; a list is walked into, each
    item: ``items.name``), keyed by path; everything else is dropped."""
    kept: dict[str, Any] = {}
    for path in paths:
        value = _walk(data, path.split("."))
        if value is not _MISSING:
            kept[path] = value
    return kept


_MISSING = object()


def _walk(data: Any, keys: list[str]) -> Any:
    if not keys:
        return _scalars(data)
    if isinstance(data, list):
        found = [_walk(item, keys) for item in data[:20]]
        found = [f for f in found if f is not _MISSING]
        return found if found else _MISSING
    if isinstance(data, Mapping) and keys[0] in data:
        return _walk(data[keys[0]], keys[1:])
    return _MISSING


def _scalars(value: Any) -> Any:
    """A chosen field's value, made small: long text cut, deep structures flattened."""
    if isinstance(value, str):
        return validation.clean_text(value)[:MAX_VALUE_CHARS]
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, list) and all(isinstance(v, str | bool | int | float) for v in value):
        return [_scalars(v) for v in value[:20]]
    text = json.dumps(value, ensure_ascii=False, default=str)
    return validation.clean_text(text)[:MAX_VALUE_CHARS]


def field_paths(data: Any, prefix: str = "", limit: int = 60) -> list[str]:
    """The dotted paths an answer offers (for the admin's test: which fields to allow)."""
    paths: list[str] = []
    if isinstance(data, list) and data:
        return field_paths(data[0], prefix, limit)
    if isinstance(data, Mapping):
        for key, value in data.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, Mapping | list) and value:
                paths += field_paths(value, path, limit)
            else:
                paths.append(path)
            if len(paths) >= limit:
                break
    return paths[:limit]


class CustomActionService:
    """The admin's actions (add, edit, remove, test) and the AI's calls to them."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        box: SecretBox,
        caller: ActionCaller,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._box = box
        self._caller = caller

    # -- the admin's list ---------------------------------------------------------------

    def actions(self, workspace_id: int) -> list[CustomAction]:
        with self._uow(read_only=True) as uow:
            return list(uow.workspace(workspace_id).custom_actions.all())

    def action(self, workspace_id: int, action_id: int) -> CustomAction:
        with self._uow(read_only=True) as uow:
            return uow.workspace(workspace_id).custom_actions.get(action_id)

    def enabled(self, workspace_id: int) -> list[CustomAction]:
        with self._uow(read_only=True) as uow:
            return list(uow.workspace(workspace_id).custom_actions.enabled())

    def add(self, workspace_id: int, draft: ActionDraft) -> CustomAction:
        values = self._validated(draft, old_headers=[])
        now = self._clock()
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            if repo.custom_actions.by_name(values["name"]) is not None:
                raise ValidationError("name", f"an action named {values['name']} exists already")
            if len(repo.custom_actions.all()) >= MAX_ACTIONS:
                raise Conflict(f"a workspace can have at most {MAX_ACTIONS} actions")
            action = CustomAction(
                workspace_id=workspace_id, created_at=now, updated_at=now, **values
            )
            repo.add(action)
            repo.flush()
            uow.commit()
        return action

    def update(self, workspace_id: int, action_id: int, draft: ActionDraft) -> CustomAction:
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            action = repo.custom_actions.get(action_id)
            values = self._validated(draft, old_headers=list(action.headers or []))
            other = repo.custom_actions.by_name(values["name"])
            if other is not None and other.id != action.id:
                raise ValidationError("name", f"an action named {values['name']} exists already")
            for key, value in values.items():
                setattr(action, key, value)
            action.updated_at = self._clock()
            repo.flush()
            uow.commit()
        return action

    def set_enabled(self, workspace_id: int, action_id: int, enabled: bool) -> CustomAction:
        with self._uow() as uow:
            action = uow.workspace(workspace_id).custom_actions.get(action_id)
            action.enabled = bool(enabled)
            action.updated_at = self._clock()
            uow.commit()
        return action

    def remove(self, workspace_id: int, action_id: int) -> None:
        with self._uow() as uow:
            repo = uow.workspace(workspace_id)
            repo.delete(repo.custom_actions.get(action_id))
            uow.commit()

    # -- calls ----------------------------------------------------------------------------

    def run(self, workspace_id: int, name: str, args: Mapping[str, Any] | None) -> dict[str, Any]:
        """The AI's call of the enabled action ``name``: the outcome for its tool log."""
        with self._uow(read_only=True) as uow:
            action = uow.workspace(workspace_id).custom_actions.by_name(str(name))
        if action is None or not action.enabled:
            return {"ok": False, "status_code": None, "error": f"no action named {name!r}"}
        return self.call(action, args)

    def test(
        self, workspace_id: int, action_id: int, args: Mapping[str, Any] | str | None
    ) -> dict[str, Any]:
        """The admin's "test this action": the same call the AI would make (even while
        the action is switched off), plus the fields the answer offers."""
        action = self.action(workspace_id, action_id)
        if isinstance(args, str):
            try:
                args = json.loads(args or "{}")
            except ValueError as exc:
                return {"ok": False, "status_code": None, "error": f"sample parameters: {exc}"}
        if not isinstance(args, Mapping):
            return {"ok": False, "status_code": None, "error": "sample parameters: not an object"}
        return self.call(action, args, offered=True)

    def call(
        self, action: CustomAction, args: Mapping[str, Any] | None, *, offered: bool = False
    ) -> dict[str, Any]:
        outcome: dict[str, Any] = {"ok": False, "action": action.name, "status_code": None}
        try:
            arguments = checked_arguments(action.parameters, args or {})
            method, url, headers, body = self._request(action, arguments)
        except ValidationError as exc:
            return {**outcome, "error": str(exc)}
        except FrontdeskError as exc:  # a secret header that no longer opens
            return {**outcome, "error": f"the action's secret headers: {exc}"}
        try:
            status, raw = self._caller.call(method, url, headers, body)
        except SendError as exc:
            return {**outcome, "error": exc.reason}
        outcome["status_code"] = status
        data: Any = None
        if raw.strip():
            try:
                data = json.loads(raw.decode("utf-8", errors="replace"))
            except ValueError:
                outcome["note"] = "the answer was not JSON: nothing from it is shown"
        outcome["data"] = pick(data, action.response_fields or [])
        if offered:
            outcome["available_fields"] = field_paths(data)
        if 200 <= status < 300:
            outcome["ok"] = True
        else:
            outcome["error"] = f"the service answered HTTP {status}"
        return outcome

    def _request(
        self, action: CustomAction, args: Mapping[str, Any]
    ) -> tuple[str, str, dict[str, str], bytes | None]:
        in_url = set(placeholders(action.url))
        url = fill_url(action.url, {k: args.get(k, "") for k in in_url})
        if _origin(url) != _origin(action.url):
            raise ValidationError("url", "the parameters would change the address's host")
        rest = {k: v for k, v in args.items() if k not in in_url}
        body = None
        headers = {"Accept": "application/json"}
        if action.method in BODY_METHODS:
            body = json.dumps(rest, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        elif rest:
            url += ("&" if urlsplit(url).query else "?") + urlencode(
                {k: _plain(v) for k, v in rest.items()}
            )
        for header in action.headers or []:
            value = str(header.get("value", ""))
            headers[str(header["name"])] = self._box.open(value) if header.get("secret") else value
        return action.method, url, headers, body

    # -- validation -----------------------------------------------------------------------

    def _validated(self, draft: ActionDraft, *, old_headers: list[dict[str, Any]]) -> dict:
        name = validation.as_text(draft.name, "name").strip().lower()
        if not _NAME.match(name):
            raise ValidationError(
                "name",
                "use 2-64 lower-case letters, digits and underscores, starting with a letter",
            )
        if name in RESERVED_NAMES:
            raise ValidationError("name", f"{name} is a built-in tool's name")
        description = validation.as_text(draft.description, "description").strip()
        if not description:
            raise ValidationError(
                "description", "say what the action does and when to use it, with examples"
            )
        if len(description) > MAX_DESCRIPTION:
            raise ValidationError("description", f"is longer than {MAX_DESCRIPTION} characters")
        parameters = parameter_schema(draft.parameters)
        method = validation.as_text(draft.method, "method").strip().upper() or "GET"
        if method not in METHODS:
            raise ValidationError("method", f"must be one of {', '.join(METHODS)}")
        url = self._url(validation.as_text(draft.url, "url").strip(), parameters)
        return {
            "name": name,
            "description": description,
            "parameters": parameters,
            "method": method,
            "url": url,
            "headers": self._headers(draft.headers, old_headers),
            "response_fields": response_fields(draft.response_fields),
            "enabled": bool(draft.enabled),
        }

    def _url(self, url: str, parameters: dict[str, Any]) -> str:
        if not url:
            raise ValidationError("url", "enter the address to call")
        if len(url) > MAX_URL:
            raise ValidationError("url", f"is longer than {MAX_URL} characters")
        used = placeholders(url)
        known = set(parameters.get("properties", {}))
        for field in used:
            if field not in known:
                raise ValidationError("url", f"{{{field}}} is not one of the parameters")
        parts = urlsplit(url)
        if "{" in parts.netloc or "}" in parts.netloc or "{" in parts.scheme:
            raise ValidationError("url", "parameters may only fill the path or the query")
        sample = fill_url(url, {f: "0" for f in used})
        refusal = self._caller.refusal(sample)
        if refusal:
            raise ValidationError("url", refusal)
        return url

    def _headers(
        self, headers: Sequence[Mapping[str, Any]], old: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        stored = {str(h.get("name", "")).lower(): h for h in old}
        kept: list[dict[str, Any]] = []
        for header in headers or []:
            name = validation.as_text(header.get("name"), "headers").strip()
            value = validation.as_text(header.get("value"), "headers").strip()
            secret = bool(header.get("secret"))
            if not name and not value:
                continue
            if not _HEADER_NAME.match(name):
                raise ValidationError("headers", f"{name!r} is not a valid header name")
            if name.lower() in _FORBIDDEN_HEADERS:
                raise ValidationError("headers", f"{name} is set by frontdesk itself")
            if "\n" in value or "\r" in value:
                raise ValidationError("headers", f"{name}: the value must be one line")
            if secret and not value:  # left blank when editing: keep the stored secret
                previous = stored.get(name.lower())
                if not previous or not previous.get("secret"):
                    raise ValidationError("headers", f"{name}: enter the secret value")
                kept.append({"name": name, "value": previous["value"], "secret": True})
                continue
            kept.append(
                {
                    "name": name,
                    "value": self._box.seal(value) if secret else value,
                    "secret": secret,
                }
            )
        if len(kept) > MAX_HEADERS:
            raise ValidationError("headers", f"at most {MAX_HEADERS} headers")
        if len({h["name"].lower() for h in kept}) != len(kept):
            raise ValidationError("headers", "a header is given twice")
        return kept


def parameter_schema(value: Mapping[str, Any] | str | None) -> dict[str, Any]:
    """A JSON schema of flat parameters (string, integer, number, boolean), checked."""
    if isinstance(value, str):
        text = value.strip() or "{}"
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise ValidationError("parameters", f"is not valid JSON ({exc})") from None
    if not isinstance(value, Mapping):
        raise ValidationError("parameters", "must be a JSON object (a JSON schema)")
    schema = dict(value) or {"type": "object", "properties": {}}
    schema.setdefault("type", "object")
    schema.setdefault("properties", {})
    if schema["type"] != "object" or not isinstance(schema["properties"], Mapping):
        raise ValidationError("parameters", 'must be {"type": "object", "properties": {...}}')
    for name, spec in schema["properties"].items():
        if not _PARAM.match(str(name)):
            raise ValidationError("parameters", f"{name!r} is not a valid parameter name")
        if not isinstance(spec, Mapping) or spec.get("type") not in PARAMETER_TYPES:
            raise ValidationError(
                "parameters", f"{name}: the type must be string, integer, number or boolean"
            )
        if "pattern" in spec:
            try:
                re.compile(str(spec["pattern"]))
            except re.error as exc:
                raise ValidationError("parameters", f"{name}: invalid pattern ({exc})") from None
    required = schema.get("required", [])
    if not isinstance(required, list) or any(r not in schema["properties"] for r in required):
        raise ValidationError("parameters", "required must list some of the parameters")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise ValidationError("parameters", f"is not a valid JSON schema ({exc.message})") from None
    return validation.clean_data(schema)


def response_fields(value: Sequence[str] | str) -> list[str]:
    """The dotted paths the AI may see, one per line or comma-separated."""
    items = re.split(r"[\s,]+", value) if isinstance(value, str) else list(value or [])
    fields = list(dict.fromkeys(str(i).strip() for i in items if str(i).strip()))
    for field in fields:
        if not _FIELD.match(field):
            raise ValidationError("response_fields", f"{field!r} is not a dotted field path")
    if len(fields) > MAX_FIELDS:
        raise ValidationError("response_fields", f"at most {MAX_FIELDS} fields")
    return fields


def checked_arguments(schema: Mapping[str, Any], args: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments valid for the schema, numbers given as text ("42") read as numbers;
    a ValidationError names the first problem, so the model can ask the visitor again."""
    properties = dict(schema.get("properties") or {})
    clean: dict[str, Any] = {}
    for key, value in dict(args or {}).items():
        if key not in properties:
            continue  # a model may invent extras; they are never sent
        clean[key] = _coerced(properties[key].get("type"), value)
    errors = sorted(Draft202012Validator(dict(schema)).iter_errors(clean), key=lambda e: e.path)
    if errors:
        error = errors[0]
        where = ".".join(str(p) for p in error.path) or "parameters"
        raise ValidationError(where, error.message)
    return clean


def _coerced(kind: Any, value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if kind == "integer" and re.fullmatch(r"[+-]?\d{1,18}", text):
            return int(text)
        if kind == "number" and re.fullmatch(r"[+-]?\d+(\.\d+)?", text):
            return float(text)
        if kind == "boolean" and text.lower() in ("true", "false", "yes", "no"):
            return text.lower() in ("true", "yes")
        return validation.clean_text(text)
    if kind == "string" and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value
