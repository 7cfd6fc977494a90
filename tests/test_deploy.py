"""deploy/ stays true to the code: every command in the compose file, the Dockerfile and the
guide parses against the real CLI, the environment names real settings with valid values,
Caddy proxies to the ports the web processes listen on, and every queue has a worker.

Docker is not needed: the files are read and checked against the code, not run.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from collections.abc import Mapping
from functools import cache
from importlib.metadata import version
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import click
import pytest
import yaml
from sqlalchemy.engine import make_url

from agent.config import _ENV, Settings
from frontdesk.cli import main
from frontdesk.wiring import WORKER_QUEUES

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"

FRONTDESK_ROLES = {"migrate", "web1", "web2", "worker1", "worker2"}
REQUIRED_SERVICES = FRONTDESK_ROLES | {"postgres", "redis", "chroma", "caddy"}
# Variables frontdesk services may set besides the settings in agent.config._ENV: each is
# read by frontdesk or a library it drives, and named in the top-level README.
DOCUMENTED_EXTRAS = {"OPENAI_API_KEY", "OPENAI_BASE_URL"}
# The postgresql-client major version of each Debian release the image may be built on:
# pg_dump refuses a server newer than itself.
PG_CLIENT_OF_DEBIAN = {"bookworm": 15, "trixie": 17}
# Services reachable from outside the host: Caddy, and the optional inbound mail server.
PUBLISHED = {"caddy", "smtp"}


# -- reading the files -----------------------------------------------------------------


@cache
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


def frontdesk_services() -> dict[str, dict[str, Any]]:
    """The services that run the frontdesk image (built from deploy/Dockerfile)."""
    return {
        name: svc
        for name, svc in services().items()
        if (svc.get("build") or {}).get("dockerfile") == "deploy/Dockerfile"
    }


def by_command(subcommand: str) -> dict[str, dict[str, Any]]:
    return {
        name: svc
        for name, svc in frontdesk_services().items()
        if parse_cli(command_args(svc))[0] == subcommand.split()
    }


def command_args(service: Mapping[str, Any]) -> list[str]:
    """A service's command as argv (compose takes a list or a shell-like string)."""
    command = service.get("command")
    assert command, "a frontdesk service runs the image's default command: name it explicitly"
    return list(command) if isinstance(command, list) else shlex.split(command)


def env_example() -> dict[str, str]:
    values = {}
    for line in (DEPLOY / ".env.example").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f"not KEY=VALUE in .env.example: {line!r}"
            values[key.strip()] = value.strip()
    return values


_VARIABLE = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error} and ${VAR?error}."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2) or "", match.group(3) or ""
        present = name in env and (env[name] != "" or not op.startswith(":"))
        if present:
            return env[name]
        if op.endswith("?"):
            raise AssertionError(f"{name} is required: {arg}")
        return arg if op.endswith("-") else ""

    return _VARIABLE.sub(one, value.replace("$$", "\0")).replace("\0", "$")


def variables(text: str) -> dict[str, str]:
    """Each variable a compose file interpolates -> its operator ('', ':-', ':?', ...)."""
    found: dict[str, str] = {}
    for name, op, _ in _VARIABLE.findall(text):
        if found.get(name, "") == "" or op.endswith("?"):
            found[name] = op
    return found


def deploy_environ() -> dict[str, str]:
    """deploy/.env as an operator writes it: the example, with the secrets filled in."""
    values = env_example()
    required = [name for name, op in variables(COMPOSE.read_text()).items() if op.endswith("?")]
    for name in required:
        values[name] = values.get(name) or f"test{name.lower().replace('_', '')}"
    return values


def service_env(name: str) -> dict[str, str]:
    """A service's environment as its container sees it, from the filled-in deploy/.env."""
    raw = services()[name].get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    env = deploy_environ()
    return {key: interpolate(str(value), env) for key, value in raw.items()}


def named_volumes(service: Mapping[str, Any]) -> dict[str, str]:
    """Named volumes a service mounts -> where (bind mounts of host paths left out)."""
    mounts = {}
    for entry in service.get("volumes") or []:
        if isinstance(entry, dict):
            source, target = entry.get("source", ""), entry["target"]
            if entry.get("type", "volume") != "volume":
                continue
        else:
            source, target = entry.split(":")[:2]
        if source and not source.startswith((".", "/", "~", "$")):
            mounts[source] = target
    return mounts


def parse_cli(args: list[str]) -> tuple[list[str], dict[str, Any]]:
    """The subcommand path and given options of a `frontdesk ...` argv, checked by the real
    click group: an unknown command or option, a missing option value, a value of the wrong
    type or an extra argument fails. Nothing runs and nothing prompts."""
    assert args and args[0] == "frontdesk", f"not a frontdesk command: {args}"
    command: click.Command = main
    ctx: click.Context | None = None
    name, rest, path = "frontdesk", args[1:], []
    while True:
        ctx = click.Context(command, info_name=name, parent=ctx)
        opts, rest, _ = command.make_parser(ctx).parse_args(list(rest))
        for param in command.params:
            given = opts.get(param.name)  # a string (or strings) when given; else a marker
            if isinstance(given, str) or (given and isinstance(given, list | tuple)):
                param.type_cast_value(ctx, given)
        if not isinstance(command, click.Group):
            if rest and not command.allow_extra_args:
                raise click.UsageError(f"unexpected extra arguments {rest}", ctx)
            return path, opts
        if not rest:
            raise click.UsageError("a command is missing", ctx)
        name, sub, rest = command.resolve_command(ctx, rest)
        assert name is not None and sub is not None
        path.append(name)
        command = sub


def web_port(name: str) -> int:
    """Where a `frontdesk serve` service listens: --port, else FRONTDESK_PORT, else default."""
    _, opts = parse_cli(command_args(services()[name]))
    if opts.get("port") is not None:
        return int(opts["port"])
    return Settings.load({**service_env(name), "FRONTDESK_DATA_DIR": "/data"}).port


def caddyfile() -> list[list[str]]:
    """The Caddyfile as lines of tokens, comments dropped."""
    lines = []
    for raw in (DEPLOY / "Caddyfile").read_text().splitlines():
        tokens = shlex.split(raw, comments=True)
        if tokens:
            lines.append(tokens)
    return lines


def caddy_directive(name: str) -> list[list[str]]:
    return [tokens[1:] for tokens in caddyfile() if tokens[0] == name]


def guide_lines() -> list[list[str]]:
    """deploy/README.md's shell lines (in its code blocks) as tokens, comments dropped."""
    text = (DEPLOY / "README.md").read_text()
    lines = []
    for block in re.findall(r"^```[a-z]*\n(.*?)^```", text, flags=re.S | re.M):
        for line in block.replace("\\\n", " ").splitlines():
            tokens = shlex.split(line, comments=True)
            if tokens:
                lines.append(tokens)
    return lines


def guide_commands() -> list[list[str]]:
    """Every `frontdesk ...` command in the guide: at the start of a line, or after the
    service that `docker compose run|exec` runs it in (not a database named frontdesk)."""
    found = []
    for tokens in guide_lines():
        for i, token in enumerate(tokens):
            if token == "frontdesk" and (i == 0 or tokens[i - 1] in services()):
                argv = []
                for word in tokens[i:]:
                    if word in ("&&", "||", "|", ";", ">", "<"):
                        break
                    argv.append(word)
                found.append(argv)
                break
    return found


# -- the services ----------------------------------------------------------------------


def test_the_required_services_exist_and_run_the_frontdesk_image():
    assert set(services()) >= REQUIRED_SERVICES
    assert set(frontdesk_services()) >= FRONTDESK_ROLES
    images = {svc["image"] for svc in frontdesk_services().values()}
    assert len(images) == 1, f"frontdesk services run different images: {images}"
    build = next(iter(frontdesk_services().values()))["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"


@pytest.mark.parametrize("name", sorted(frontdesk_services()))
def test_each_command_parses_against_the_cli(name):
    parse_cli(command_args(services()[name]))


def test_the_roles_run_the_commands_the_cli_names():
    assert set(by_command("serve")) == {"web1", "web2"}
    assert set(by_command("worker")) == {"worker1", "worker2"}
    assert set(by_command("db upgrade")) == {"migrate"}


def test_the_check_refuses_what_the_cli_would():
    for argv in (
        ["frontdesk", "serv"],
        ["frontdesk", "worker", "--queue", "ingest"],
        ["frontdesk", "worker", "--queues"],
        ["frontdesk", "up", "--port", "eighty"],
        ["frontdesk", "db"],
        ["frontdesk", "db", "upgrade", "now"],
    ):
        with pytest.raises(click.UsageError):
            parse_cli(argv)


def test_every_queue_has_a_worker():
    served: set[str] = set()
    for svc in by_command("worker").values():
        queues = parse_cli(command_args(svc))[1].get("queues", ",".join(WORKER_QUEUES))
        names = {q.strip() for q in queues.split(",") if q.strip()}
        assert names <= set(WORKER_QUEUES), f"unknown queues {names - set(WORKER_QUEUES)}"
        served |= names
    # /healthz answers 503 (monitoring alerts) while a queue has none.
    assert served == set(WORKER_QUEUES)


# -- the environment -------------------------------------------------------------------


def test_frontdesk_services_set_only_known_settings_and_documented_extras():
    readme = (ROOT / "README.md").read_text()
    known = set(_ENV.values()) | DOCUMENTED_EXTRAS
    for name in frontdesk_services():
        unknown = set(service_env(name)) - known
        assert not unknown, f"{name} sets {sorted(unknown)}: not frontdesk settings"
    for extra in DOCUMENTED_EXTRAS:
        assert f"`{extra}`" in readme, f"{extra} is not documented in README.md"


def test_frontdesk_services_share_one_environment_and_data_volume():
    envs = {name: service_env(name) for name in frontdesk_services()}
    first = next(iter(envs.values()))
    data_volumes = set()
    for name, env in envs.items():
        assert env == first, f"{name}'s environment differs from the others'"
        data_dir = PurePosixPath(env["FRONTDESK_DATA_DIR"])
        # Strictly inside the volume: `frontdesk restore` stages the archive beside the data
        # directory and keeps what it replaces there, which must persist and be writable.
        holding = [
            source
            for source, target in named_volumes(services()[name]).items()
            if data_dir.is_relative_to(target) and data_dir != PurePosixPath(target)
        ]
        assert holding, f"{name}: {data_dir} is not a folder inside a volume"
        data_volumes.update(holding)
    assert len(data_volumes) == 1, f"uploads are split across volumes {data_volumes}"


def test_the_environment_is_valid_settings_pointing_at_the_services():
    env = service_env("web1")
    settings = Settings.load(env)  # raises on a bad value, naming the setting

    database = make_url(settings.database_url)
    postgres = service_env("postgres")
    assert database.drivername == "postgresql+psycopg"
    assert (database.host, database.port or 5432) == ("postgres", 5432)
    assert database.database == postgres["POSTGRES_DB"]
    assert database.username == postgres["POSTGRES_USER"]
    assert database.password == postgres["POSTGRES_PASSWORD"]

    redis = urlsplit(settings.redis_url)
    assert (redis.scheme, redis.hostname, redis.port or 6379) == ("redis", "redis", 6379)
    assert services()["redis"]["image"].split(":")[0] == "redis"

    chroma = urlsplit(settings.chroma_url)
    assert (chroma.scheme, chroma.hostname, chroma.port) == ("http", "chroma", 8000)
    assert services()["chroma"]["image"].startswith("chromadb/chroma:")

    domain = deploy_environ()["FRONTDESK_DOMAIN"]
    assert settings.public_url == f"https://{domain}"
    assert settings.trusted_proxies == 1  # Caddy, and no one else
    assert settings.secret_key, "every process must share one secret key"


def test_chroma_server_matches_the_client_and_is_pinned():
    tag = services()["chroma"]["image"].split(":", 1)[1]
    assert re.fullmatch(r"\d+\.\d+\.\d+", tag), f"pin chroma to a release, not {tag!r}"
    assert tag.split(".")[0] == version("chromadb").split(".")[0]


def test_env_example_lists_what_compose_needs_and_nothing_else():
    example = env_example()
    used = variables(COMPOSE.read_text())
    required = {name for name, op in used.items() if op.endswith("?")}
    assert required <= set(example), f"missing from .env.example: {required - set(example)}"
    assert set(example) <= set(used), f"not used by compose: {set(example) - set(used)}"


# -- ordering, persistence, exposure ---------------------------------------------------


def test_migrations_run_once_before_web_and_workers():
    migrate = services()["migrate"]
    assert migrate.get("restart") in ("no", None)
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "healthcheck" in services()["postgres"]
    for name in {*by_command("serve"), *by_command("worker")}:
        depends = services()[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name


def test_redis_keeps_queued_jobs_across_a_restart():
    redis = services()["redis"]
    args = command_args(redis)
    assert args[args.index("--appendonly") + 1] == "yes"
    assert args[args.index("--maxmemory-policy") + 1] == "noeviction"  # rq loses no job
    assert "/data" in named_volumes(redis).values()
    assert "healthcheck" in redis


def test_every_volume_is_declared_and_used():
    declared = set(compose().get("volumes") or {})
    used: set[str] = set()
    for svc in services().values():
        used |= set(named_volumes(svc))
    assert used <= declared, f"undeclared volumes: {used - declared}"
    assert declared <= used, f"declared but unused: {declared - used}"
    for name in ("postgres", "chroma"):
        assert named_volumes(services()[name]), f"{name} keeps its data in no volume"


def test_only_caddy_and_the_mail_server_are_published():
    for name, svc in services().items():
        if name not in PUBLISHED:
            assert not svc.get("ports"), f"{name} is reachable from outside the host"
    ports = {str(p).split(":")[-1] for p in services()["caddy"]["ports"]}
    assert {"80", "443"} <= ports


# -- Caddy -----------------------------------------------------------------------------


def test_caddy_proxies_to_the_web_processes_stickily():
    (proxy,) = caddy_directive("reverse_proxy")
    upstreams = {t for t in proxy if t != "{" and not t.startswith(("/", "@", "*"))}
    assert upstreams == {f"{name}:{web_port(name)}" for name in by_command("serve")}
    (policy,) = caddy_directive("lb_policy")
    assert policy[0] == "cookie", "Socket.IO needs each browser kept on one web process"
    # Liveness only: a worker or Chroma outage (which /healthz reports) must not take every
    # web process out of rotation at once.
    assert caddy_directive("health_uri") == [["/livez"]]


def test_caddy_serves_the_public_domain_with_its_own_config():
    site = next(tokens for tokens in caddyfile() if tokens[-1] == "{" and len(tokens) == 2)
    (variable,) = re.fullmatch(r"\{\$(\w+)\}", site[0]).groups()  # type: ignore[union-attr]
    caddy_env = service_env("caddy")
    assert caddy_env[variable] == deploy_environ()[variable]
    assert Settings.load(service_env("web1")).public_url == f"https://{caddy_env[variable]}"
    mounts = [str(v).split(":")[:2] for v in services()["caddy"]["volumes"]]
    assert ["./Caddyfile", "/etc/caddy/Caddyfile"] in mounts
    assert {"/data", "/config"} <= set(named_volumes(services()["caddy"]).values())


def test_web_healthchecks_ask_the_port_the_process_listens_on():
    for name in by_command("serve"):
        check = " ".join(services()[name]["healthcheck"]["test"])
        assert f":{web_port(name)}/livez" in check


# -- the image -------------------------------------------------------------------------


def dockerfile() -> list[str]:
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def instruction(name: str) -> list[str]:
    return [line.split(None, 1)[1] for line in dockerfile() if line.split()[0] == name]


def test_the_image_serves_by_default_as_a_user_with_ocr_and_pg_dump():
    (cmd,) = instruction("CMD")
    assert parse_cli(json.loads(cmd))[0] == ["serve"]
    users = instruction("USER")
    assert users and users[-1] not in ("root", "0")
    installs = " ".join(r for r in instruction("RUN") if "apt-get install" in r).split()
    assert {"tesseract-ocr", "poppler-utils", "postgresql-client"} <= set(installs)


def test_the_image_defaults_match_the_compose_file():
    env = dict(pair.split("=", 1) for line in instruction("ENV") for pair in shlex.split(line))
    assert env["FRONTDESK_DATA_DIR"] == service_env("web1")["FRONTDESK_DATA_DIR"]
    assert instruction("EXPOSE") == [env["FRONTDESK_PORT"]]
    chowned = " ".join(r for r in instruction("RUN") if "chown" in r)
    data_volume = next(
        target
        for target in named_volumes(services()["web1"]).values()
        if env["FRONTDESK_DATA_DIR"].startswith(target)
    )
    assert data_volume in chowned, "a new data volume must start out owned by the image's user"


def test_pg_dump_in_the_image_can_dump_the_postgres_server():
    (base,) = instruction("FROM")
    match = re.fullmatch(r"python:3\.11-slim-(\w+)", base)
    assert match, f"pin the Debian release of the base image: {base}"
    client = PG_CLIENT_OF_DEBIAN[match.group(1)]
    server = int(services()["postgres"]["image"].split(":")[1].split(".")[0].split("-")[0])
    assert server <= client, f"pg_dump {client} cannot dump PostgreSQL {server}"


def test_the_build_context_lets_every_package_in():
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {p.removesuffix("*") for p in patterns}
    assert {f"!{name}/" for name in packages} <= set(ignore)
    assert {"!pyproject.toml", "!README.md"} <= set(ignore)


# -- the guide -------------------------------------------------------------------------


def test_the_guide_commands_parse_against_the_cli():
    commands = guide_commands()
    paths = {" ".join(parse_cli(argv)[0]) for argv in commands}
    assert {"db upgrade", "init", "backup", "restore"} <= paths


def test_the_guide_names_only_services_that_exist():
    named = []
    for tokens in guide_lines():
        if tokens[:2] != ["docker", "compose"] or len(tokens) < 3:
            continue
        verb, rest = tokens[2], tokens[3:]
        if verb in ("run", "exec"):  # options, then the service, then its command
            values = {"-v", "--volume", "-e", "--env", "-u", "--user", "-w", "--workdir"}
            i = 0
            while rest[i].startswith("-"):
                i += 2 if rest[i] in values else 1
            named.append(rest[i])
        elif verb in ("up", "stop", "start", "create", "restart", "logs"):
            for before, word in zip(["", *rest], rest, strict=False):
                if before == "--scale":
                    named.append(word.split("=")[0])
                elif not word.startswith("-"):
                    named.append(word)
    assert named, "the guide runs no docker compose command"
    unknown = sorted(set(named) - set(services()))
    assert not unknown, f"the guide names services the compose file lacks: {unknown}"


def test_the_readme_points_to_the_guide():
    readme = (ROOT / "README.md").read_text()
    assert "](deploy/README.md)" in readme
    guide = (DEPLOY / "README.md").read_text()
    for needed in ("FRONTDESK_TRUSTED_PROXIES", "/healthz", "/metrics", "pg_dump"):
        assert needed in guide, f"the deploy guide does not mention {needed}"
