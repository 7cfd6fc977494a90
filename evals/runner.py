"""Play an eval suite through the real product: ingestion, conversation service, agent.

A throw-away workspace is built in a temporary data directory; each ``site:`` folder is
served on 127.0.0.1 and crawled; the clock is frozen at the suite's ``now``. Each case
is a fresh web-chat conversation played turn by turn through ``ConversationService``
exactly as a visitor's messages are (the agent runs inline instead of on a worker).
Appointments a case books are cancelled after it, so cases do not see each other's.
An exception while a case plays (a model that fails) ends that case with an "error"
failure; the other cases still run.
"""

from __future__ import annotations

import functools
import logging
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

from agent.config import Settings
from agent.core.clock import FixedClock
from agent.core.conversations import Inbound
from agent.core.models import AppointmentStatus, AuthorKind
from agent.core.workspaces import NewMember
from agent.services import Services
from evals.scorers import Failure, FinalObservation, TurnObservation, check_final, check_turn
from evals.spec import (
    Case,
    Expect,
    FileSource,
    QASource,
    ReleaseTurn,
    SiteSource,
    StaffTurn,
    Suite,
    TextSource,
    UserTurn,
)
from evals.usage import Usage, metered
from ingestion.index import ChromaIndex
from ingestion.jobs import DeferredIngestQueue
from ingestion.pipeline import Ingestor

Progress = Callable[[str], None]
log = logging.getLogger(__name__)


class EvalServices(Services, Protocol):
    """What a run needs from the composition root, ingestion included."""

    @property
    def ingestor(self) -> Ingestor: ...
    @property
    def index(self) -> ChromaIndex: ...


# Builds the throw-away workspace's services: (settings, clock=, ingest_queue_override=).
Build = Callable[..., EvalServices]
STAFF = NewMember(name="Eval Staff", email="dana@eval.example", password="throwaway passphrase 7")


@dataclass
class CaseResult:
    id: str
    tags: list[str]
    passed: bool = True
    runs: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)
    # What each visitor turn did: {"run", "turn", "tools", "retrieved", "sources"}.
    turns: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class RunResult:
    cases: list[CaseResult]
    latencies_ms: list[float]
    sources_checked: int
    sources_met: int
    ingest_s: float
    usage: Usage | None = None  # tokens and cost, for hosted models


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def _serve(folder: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=folder))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class SuiteRunner:
    def __init__(
        self,
        suite: Suite,
        *,
        build: Build,
        model: str = "local",
        progress: Progress | None = None,
    ):
        self.suite = suite
        self.build = build
        self.model = model
        self.progress = progress or (lambda message: None)

    def run(self, *, repeat: int = 1, case_ids: list[str] | None = None) -> RunResult:
        cases = [c for c in self.suite.cases if not case_ids or c.id in case_ids]
        with tempfile.TemporaryDirectory(prefix="frontdesk-eval-") as tmp:
            container, workspace_id, ingest_s = self._workspace(Path(tmp))
            try:
                knowledge_text = self._knowledge_text(container, workspace_id)
                results, latencies, checked, met = [], [], 0, 0
                with metered(self.model) as usage:
                    for n, case in enumerate(cases, 1):
                        self.progress(f"case {n}/{len(cases)}: {case.id}")
                        result = CaseResult(case.id, list(case.tags))
                        for run in range(repeat):
                            stats = self._play(
                                container, workspace_id, case, run, knowledge_text, result
                            )
                            latencies += stats[0]
                            checked += stats[1]
                            met += stats[2]
                            result.runs += 1
                        results.append(result)
            finally:
                container.engine.dispose()
        return RunResult(results, latencies, checked, met, ingest_s, usage)

    # -- the workspace -------------------------------------------------------------

    def _workspace(self, tmp: Path) -> tuple[EvalServices, int, float]:
        spec = self.suite.workspace
        settings = Settings.from_values(
            {"data_dir": tmp / "data", "model": self.model, "allow_private_urls": True}
        ).ensure_data_dir()
        queue = DeferredIngestQueue()
        clock = FixedClock(self.suite.now_aware.astimezone(UTC))
        container = self.build(settings, clock=clock, ingest_queue_override=queue)
        container.migrate()
        profile: dict[str, Any] = {
            "name": spec.name,
            "timezone": spec.timezone,
            "country": spec.country,
            "hours": spec.hours,
            "appointment_minutes": spec.appointment_minutes,
            "links": spec.links,
            "instructions": spec.instructions,
        }
        workspace = container.workspaces.create(profile, STAFF)
        started = time.perf_counter()
        with _servers(spec.knowledge) as urls:
            for source, url in zip(spec.knowledge, urls, strict=True):
                self._add(container, workspace.id, source, url, settings)
            for n, (action, ws, source_id) in enumerate(list(queue.pending), 1):
                self.progress(f"ingesting knowledge {n}/{len(queue.pending)}")
                if action == "ingest":
                    container.ingestor.run(ws, source_id)
        for source in container.knowledge.sources(workspace.id):
            if source.status != "ready":
                raise RuntimeError(f"knowledge source {source.title!r} failed: {source.error}")
        return container, workspace.id, time.perf_counter() - started

    @staticmethod
    def _add(
        container: EvalServices, ws: int, source: Any, url: str | None, settings: Settings
    ) -> None:
        knowledge = container.knowledge
        if isinstance(source, SiteSource):
            knowledge.add_website(ws, url or "", refresh_hours=None)
        elif isinstance(source, FileSource):
            folder = settings.uploads_path / str(ws)
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source.path, folder / source.path.name)
            knowledge.add_file(ws, source.path.name, source.path.name)
        elif isinstance(source, TextSource):
            knowledge.add_text(ws, source.title, source.body)
        elif isinstance(source, QASource):
            knowledge.add_qa(ws, source.q, source.a)

    @staticmethod
    def _knowledge_text(container: EvalServices, workspace_id: int) -> str:
        """Everything the workspace knows, for the abstain check's "no unsupported figure"."""
        return "\n".join(c.text for c in container.index.stored_chunks(workspace_id))

    # -- one case ----------------------------------------------------------------

    def _play(
        self,
        container: EvalServices,
        ws: int,
        case: Case,
        run: int,
        knowledge_text: str,
        result: CaseResult,
    ) -> tuple[list[float], int, int]:
        service = container.conversations
        thread = f"eval-{case.id}-{run}-{uuid.uuid4().hex[:6]}"
        with container.uow() as uow:
            staff_id = uow.workspace(ws).team.all()[0].id
        conversation_id: int | None = None
        latencies: list[float] = []
        checked = met = 0
        number: int | str = 0
        try:
            for number, turn in enumerate(case.turns, 1):
                if isinstance(turn, UserTurn):
                    started = time.perf_counter()
                    received = service.receive(
                        ws,
                        Inbound(
                            channel=case.channel,
                            body=turn.text,
                            thread_id=thread,
                            provider_message_id=f"{thread}-{number}",
                        ),
                    )
                    latencies.append((time.perf_counter() - started) * 1000)
                    conversation_id = received.conversation.id
                    observation = self._observe(container, ws, received.message.id)
                    result.turns.append(_turn_report(run, number, observation))
                    if turn.expect is not None or observation.fallback:
                        failures = check_turn(
                            turn.expect or Expect(),
                            observation,
                            knowledge_text=knowledge_text,
                            user_text=turn.text,
                        )
                        if turn.expect is not None and turn.expect.sources is not None:
                            checked += 1
                            met += not any(f.check == "sources" for f in failures)
                        self._record(result, number, failures)
                elif conversation_id is None:
                    raise RuntimeError(
                        f"case {case.id}: a staff turn needs a visitor message first"
                    )
                elif isinstance(turn, StaffTurn):
                    service.reply(ws, conversation_id, staff_id, turn.text)
                elif isinstance(turn, ReleaseTurn):
                    service.release(ws, conversation_id, staff_id)
            number = "final"
            if case.final is not None and conversation_id is not None:
                final = self._final(container, ws, conversation_id)
                self._record(result, "final", check_final(case.final, final))
        except Exception as exc:  # a failing case (a model error) must not end the run
            log.warning("eval case %s failed at turn %s", case.id, number, exc_info=True)
            error = Failure("error", None, f"{type(exc).__name__}: {exc}", "raised while playing")
            self._record(result, number, [error])
        finally:
            if conversation_id is not None:
                self._cancel_appointments(container, ws, conversation_id)
        return latencies, checked, met

    @staticmethod
    def _record(result: CaseResult, turn: int | str, failures: list[Any]) -> None:
        for failure in failures:
            result.passed = False
            result.failures.append(
                {
                    "turn": turn,
                    "check": failure.check,
                    "expected": failure.expected,
                    "actual": failure.actual,
                    **({"detail": failure.detail} if failure.detail else {}),
                }
            )

    @staticmethod
    def _observe(container: EvalServices, ws: int, message_id: int) -> TurnObservation:
        with container.uow() as uow:
            repo = uow.workspace(ws)
            reply = repo.messages.reply_to(message_id)
            conversation = repo.conversations.get(repo.messages.get(message_id).conversation_id)
        if reply is None or reply.author_kind != AuthorKind.AI:
            return TurnObservation(reply=None, mode=str(conversation.mode))
        calls = reply.meta.get("tool_calls", [])
        return TurnObservation(
            reply=reply.body,
            tools=[c["name"] for c in calls if not c.get("auto")],  # the model's own calls
            citations=list(reply.meta.get("citations", [])),
            mode=str(conversation.mode),
            retrieved=any(c.get("auto") and c["name"] == "search_knowledge" for c in calls),
            fallback=bool(reply.meta.get("fallback")),
        )

    def _final(self, container: EvalServices, ws: int, conversation_id: int) -> FinalObservation:
        tz = self.suite.tz
        with container.uow() as uow:
            repo = uow.workspace(ws)
            conversation = repo.conversations.get(conversation_id)
            contact = repo.contacts.get(conversation.contact_id)
            appointments = [
                a.start.astimezone(tz).replace(tzinfo=None)
                for a in repo.appointments.list(conversation_id=conversation_id)
                if a.status == AppointmentStatus.BOOKED
            ]
            leads = sum(
                1
                for n in repo.notifications.all()
                if n.kind == "new_lead" and n.conversation_id == conversation_id
            )
        fields = ("first_name", "last_name", "email", "phone", "address")
        return FinalObservation(
            contact={f: getattr(contact, f) for f in fields if getattr(contact, f)},
            appointments=appointments,
            lead_notifications=leads,
        )

    @staticmethod
    def _cancel_appointments(container: EvalServices, ws: int, conversation_id: int) -> None:
        with container.uow() as uow:
            for appointment in uow.workspace(ws).appointments.list(conversation_id=conversation_id):
                appointment.status = AppointmentStatus.CANCELLED
            uow.commit()


def _turn_report(run: int, number: int, obs: TurnObservation) -> dict[str, Any]:
    return {
        "run": run + 1,
        "turn": number,
        "tools": list(obs.tools),
        "retrieved": obs.retrieved,  # the graph's own search, apart from the model's tools
        "sources": [c.get("uri") or c.get("source") for c in obs.citations],
    }


@contextmanager
def _servers(sources: list[Any]) -> Iterator[list[str | None]]:
    """One local HTTP server per site folder, for the length of the ingestion."""
    stack: list[Any] = []
    urls: list[str | None] = []
    try:
        for source in sources:
            if isinstance(source, SiteSource):
                server = _serve(source.path)
                urls.append(server.__enter__())
                stack.append(server)
            else:
                urls.append(None)
        yield urls
    finally:
        for server in reversed(stack):
            server.__exit__(None, None, None)
