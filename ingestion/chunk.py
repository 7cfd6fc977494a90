"""Structure-aware chunking: sections first, then paragraphs and sentences to a size.

Each chunk keeps where it came from (title, heading path, position) so the agent can
cite it, and carries an ``embed_text`` that prefixes that context: a paragraph under
"Pricing > Drains" is found by a question about drain prices even if it never says
"drain". A custom Q&A is never split.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from agent.text import sentences
from ingestion.document import Document, Section

TARGET_CHARS = 900  # ~200 word pieces: inside MiniLM's 256-token window with the header
OVERLAP_CHARS = 150


@dataclass(frozen=True)
class Chunk:
    text: str  # what is stored and quoted
    title: str
    heading_path: tuple[str, ...]
    position: int  # order within the document

    @property
    def context(self) -> str:
        return " > ".join(p for p in (self.title, *self.heading_path) if p)

    @property
    def embed_text(self) -> str:
        return f"{self.context}\n{self.text}" if self.context else self.text

    def chunk_id(self, source_id: int, uri: str) -> str:
        """Content-addressed: unchanged text keeps its id, so re-ingesting embeds nothing."""
        digest = hashlib.sha256(f"{source_id}\x1f{uri}\x1f{self.embed_text}".encode())
        return digest.hexdigest()[:32]


def _pieces(text: str) -> list[str]:
    """Paragraphs, with over-long paragraphs cut at sentence ends (or hard, as a last resort)."""
    pieces: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        if len(paragraph) <= TARGET_CHARS:
            pieces.append(paragraph)
            continue
        lines = paragraph.split("\n") if "\n" in paragraph else [paragraph]
        for line in lines:
            for sentence in sentences(line):
                while len(sentence) > TARGET_CHARS:
                    cut = sentence.rfind(" ", 0, TARGET_CHARS)
                    cut = cut if cut > TARGET_CHARS // 2 else TARGET_CHARS
                    pieces.append(sentence[:cut].strip())
                    sentence = sentence[cut:].strip()
                if sentence:
                    pieces.append(sentence)
    return pieces


def _pack(pieces: list[str]) -> list[str]:
    """Greedy packing to the target size; each new chunk repeats the previous tail."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for piece in pieces:
        if current and size + len(piece) + 1 > TARGET_CHARS:
            chunks.append("\n".join(current))
            tail = current[-1] if len(current[-1]) <= OVERLAP_CHARS else ""
            current, size = ([tail], len(tail)) if tail else ([], 0)
        current.append(piece)
        size += len(piece) + 1
    if current and (not chunks or "\n".join(current) not in chunks[-1]):
        chunks.append("\n".join(current))
    return chunks


def chunk_document(document: Document) -> list[Chunk]:
    chunks: list[Chunk] = []
    for section in document.sections:
        for text in _pack(_pieces(section.text)):
            chunks.append(Chunk(text, document.title, section.heading_path, len(chunks)))
    return chunks


def qa_chunk(question: str, answer: str) -> Chunk:
    return Chunk(f"Q: {question.strip()}\nA: {answer.strip()}", "Q&A", (), 0)


def text_chunks(title: str, body: str) -> list[Chunk]:
    return chunk_document(Document(uri=title, title=title, sections=[Section((), body)]))
