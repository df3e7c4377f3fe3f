"""Policy files built in the test's own folder: Word files with python-docx, PDFs with a small
writer of our own (text in Helvetica, one line per text-showing operator), so the readers are
tested on real files of each format without any sample file checked in."""

from __future__ import annotations

from pathlib import Path

LINES_PER_PAGE = 50


def _pdf_string(line: str) -> bytes:
    raw = line.encode("cp1252", errors="replace")  # WinAnsiEncoding is cp1252
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def write_pdf(path: Path, lines: list[str], *, with_text: bool = True) -> Path:
    """A PDF with ``lines`` as text, 50 to a page; ``with_text=False`` draws only a rectangle on
    each page, as a scanned page has pictures and no text."""
    pages = [lines[i : i + LINES_PER_PAGE] for i in range(0, max(len(lines), 1), LINES_PER_PAGE)]
    objects: list[bytes] = [
        b"",
        b"",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    kids = []
    for page in pages:
        if with_text:
            body = b"BT /F1 9 Tf 11 TL 30 810 Td " + b" ".join(_pdf_string(line) + b" Tj T*" for line in page) + b" ET"
        else:
            body = b"0.5 g 30 30 500 700 re f"
        objects.append(b"<< /Length %d >>\nstream\n" % len(body) + body + b"\nendstream")
        content = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> "
            b"/Contents %d 0 R >>" % content
        )
        kids.append(len(objects))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def write_docx(path: Path, lines: list[str]) -> Path:
    """A Word file from text lines: ``# x`` a Heading 1, ``- x`` a List Bullet, ``1. x`` a List Number
    (Word draws the number; the text has none), anything else a Normal paragraph; blank lines skipped."""
    import docx

    document = docx.Document()
    for line in lines:
        text = line.strip()
        if not text:
            continue
        if text.startswith("# "):
            document.add_heading(text[2:], level=1)
        elif text.startswith("- "):
            document.add_paragraph(text[2:], style="List Bullet")
        elif text[:1].isdigit() and ". " in text[:5] and text.split(". ", 1)[0].isdigit():
            document.add_paragraph(text.split(". ", 1)[1], style="List Number")
        else:
            document.add_paragraph(text)
    document.save(str(path))
    return path
