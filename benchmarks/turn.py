"""Turn latency: one visitor message through the service and the agent graph.

1. The offline model on a workspace with 10,000 knowledge chunks: the full path a
   web-chat message takes (store, route, load context, retrieve, model, tools, reply),
   first with eight everyday messages repeated (sentence vectors cached), then "cold":
   every question new, about passages never read before, so every sentence vector the
   answerer wants is computed in the turn.
2. The graph's own overhead: the same path with a model that answers instantly and a
   knowledge search that returns nothing, so only LangGraph, the checkpointer and our
   nodes are measured.

    python benchmarks/turn.py [--turns 200] [--chunks 10000]

Targets on 2 cores: p95 < 100 ms per turn; graph overhead p95 < 20 ms.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from _site import percentile
from ingest import DETAILS, OBJECTS, TOWNS, fill_index
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from agent.config import Settings
from agent.core.conversations import Inbound
from frontdesk.wiring import build

QUESTIONS = [
    "how much do you charge to replace a shower valve?",
    "are you open on saturday?",
    "I'm Jo Baker, 250-555-0101, can you come Thursday at 10am?",
    "do you service heat pumps in Langford?",
    "I want to talk to a real person",
    "what's your warranty on installs?",
    "can I book online?",
    "my basement is flooding, who do I call?",
]


class _NoKnowledge:
    def search(self, workspace_id: int, query: str, k: int = 5) -> list:
        return []


class _Instant(GenericFakeChatModel):
    """Answers at once, whatever it is asked; tools are accepted and never called."""

    def bind_tools(self, tools, **kwargs):  # type: ignore[no-untyped-def]
        return self


def cold_questions(count: int) -> list[str]:
    """Questions that differ from each other (and from the warm-up) in what they ask."""
    shapes = [
        "how much do you charge for {obj} {detail}?",
        "do you work on {obj} in {town}?",
        "can someone look at our {obj} {detail}?",
        "how long does it take to fix {obj}?",
    ]
    rng = random.Random(17)
    out: list[str] = []
    while len(out) < count:
        question = rng.choice(shapes).format(
            obj=rng.choice(OBJECTS), detail=rng.choice(DETAILS), town=rng.choice(TOWNS)
        )
        if question not in out:
            out.append(question)
    return out


def run_turns(  # type: ignore[no-untyped-def]
    container, workspace_id: int, turns: int, questions: list[str] = QUESTIONS, tag: str = ""
) -> list[float]:
    latencies = []
    for n in range(turns):
        inbound = Inbound(
            channel="webchat",
            body=questions[n % len(questions)],
            thread_id=f"visitor{tag}-{n // 4}",
        )  # four messages per conversation
        start = time.perf_counter()
        container.conversations.receive(workspace_id, inbound)
        latencies.append((time.perf_counter() - start) * 1000)
    return latencies


def workspace(container) -> int:  # type: ignore[no-untyped-def]
    created = container.workspaces.create(
        {
            "name": "Bench Plumbing",
            "timezone": "America/Vancouver",
            "country": "CA",
            "hours": {d: "08:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri")},
            "links": {"booking": "https://bench.example/book"},
        }
    )
    return created.id


def report(label: str, latencies: list[float], target: float) -> None:
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    verdict = "met" if p95 < target else "NOT met"
    print(
        f"{label:<34} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms"
        f"   (target p95 < {target:.0f} ms: {verdict})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--chunks", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_values({"data_dir": Path(tmp) / "local"}).ensure_data_dir()
        container = build(settings)
        container.migrate()
        ws = workspace(container)
        fill_index(container.index, ws, args.chunks)
        run_turns(container, ws, 8)  # warm up: model load, corpus cache
        local = run_turns(container, ws, args.turns)
        cold = run_turns(container, ws, args.turns, cold_questions(args.turns), tag="-cold")

        settings = Settings.from_values({"data_dir": Path(tmp) / "bare"}).ensure_data_dir()
        instant = _Instant(messages=iter([AIMessage("ok")] * (args.turns + 20)))
        bare = build(settings)
        # Pre-set two of the container's lazily built parts: an instant model and an
        # empty knowledge search, so only the graph and its storage are measured.
        bare.__dict__["chat_model"] = instant
        bare.__dict__["index"] = _NoKnowledge()
        bare.migrate()
        ws_bare = workspace(bare)
        run_turns(bare, ws_bare, 8)
        overhead = run_turns(bare, ws_bare, args.turns)
    print(f"{args.turns} turns, {args.chunks:,} chunks, offline model")
    report("turn (offline model, 10k chunks)", local, 100)
    report("turn, every question new", cold, 100)
    report("graph overhead (instant model)", overhead, 20)


if __name__ == "__main__":
    main()
