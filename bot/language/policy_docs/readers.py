"""Reading a policy file (.txt, .md, .docx, text .pdf) into a ``PolicyDocument``.

Word files are read with python-docx, PDFs with pypdf; both are imported only when such a file is
read. Each format becomes lines of text for ``structure.parse_lines``, so one set of rules finds
the clauses whatever the format: Word's heading styles become ``# heading`` lines, its list
paragraphs ``- bullet`` lines, and numbers Word adds itself ("List Number" styles) are counted in
order through the document, as a reader sees them.

Every way a file can be unusable (a format we do not read, a damaged Word file, a scanned PDF with
no text, an empty file, binary junk) is one plain sentence in a ``PolicybotError`` saying what to
do, never a traceback: the person importing is a comms officer, not a developer.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bot.errors import PolicybotError
from bot.language.policy_docs.model import PolicyDocument
from bot.language.policy_docs.structure import parse_lines

SUPPORTED = (".txt", ".md", ".docx", ".pdf")
MAX_BYTES = 20 * 1024 * 1024  # a policy is tens of pages; anything this big is not one
_CONTROL_OK = {"\n", "\r", "\t", "\f", "\v"}


def read_document(path: Path) -> PolicyDocument:
    """The clauses of the policy in ``path``; a ``PolicybotError`` (one sentence) when unusable."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        hint = " save it as .docx first" if suffix == ".doc" else " save it as one of those first"
        raise PolicybotError(f"{path.name} is not a format policybot reads (it reads {', '.join(SUPPORTED)});{hint}.")
    try:
        size = path.stat().st_size
    except OSError as err:
        raise PolicybotError(f"{path} cannot be opened ({err.strerror or err}); check the path.") from None
    if size == 0:
        raise PolicybotError(f"{path.name} is empty; export the policy again and import the new file.")
    if size > MAX_BYTES:
        raise PolicybotError(
            f"{path.name} is {size // (1024 * 1024)} MB, more than a policy document should be "
            f"({MAX_BYTES // (1024 * 1024)} MB at most); import the policy text without images."
        )
    lines = {".txt": _text_lines, ".md": _text_lines, ".docx": _docx_lines, ".pdf": _pdf_lines}[suffix](path)
    document = parse_lines(lines)
    if not document.clauses:
        raise PolicybotError(f"{path.name} has no text in it; check it is the policy and not a blank page.")
    return document


def _text_lines(path: Path) -> list[str]:
    data = path.read_bytes()
    text = _decode(data)
    if text is None or _looks_binary(text):
        raise PolicybotError(
            f"{path.name} is not plain text (it looks like a binary file renamed {path.suffix}); "
            "open the policy and save it as text, Word or PDF."
        )
    return text.splitlines()


def _decode(data: bytes) -> str | None:
    """UTF-8 (with or without a byte-order mark), else Windows' own encoding, as Notepad saves."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _looks_binary(text: str) -> bool:
    """NUL bytes, or more than 1 in 100 characters a text editor would never write."""
    if "\x00" in text:
        return True
    odd = sum(1 for ch in text if (ord(ch) < 32 and ch not in _CONTROL_OK) or 0x7F <= ord(ch) < 0xA0)
    return odd * 100 > len(text)


def _docx_lines(path: Path) -> list[str]:
    import docx

    try:
        document = docx.Document(str(path))
        return list(_docx_blocks(document))
    except Exception:  # a damaged or foreign file can fail anywhere inside python-docx or lxml
        raise PolicybotError(
            f"{path.name} is not a Word document policybot can read (it may be damaged, password-protected "
            "or another format renamed .docx); open it in Word, save it as .docx again and import that."
        ) from None


def _docx_blocks(document: Any) -> Iterator[str]:
    """Body paragraphs and table cells in order, one line each, a blank line after each."""
    from docx.table import Table

    counter = 0
    for item in document.iter_inner_content():
        paragraphs = []
        if isinstance(item, Table):
            seen: set[int] = set()
            for row in item.rows:
                for cell in row.cells:
                    if id(cell._tc) not in seen:  # a merged cell is listed once per grid column
                        seen.add(id(cell._tc))
                        paragraphs.extend(cell.paragraphs)
        else:
            paragraphs.append(item)
        for paragraph in paragraphs:
            text = " ".join(paragraph.text.split())
            if not text:
                continue
            style = (paragraph.style.name if paragraph.style is not None else "") or ""
            if style == "Title" or style.startswith("Heading"):
                yield f"# {text}"
            elif "Number" in style:
                counter += 1
                yield f"{counter}. {text}"
            elif style.startswith("List") or _has_numbering(paragraph):
                yield f"- {text}"
            else:
                yield text
            yield ""


def _has_numbering(paragraph: Any) -> bool:
    """A bullet or numbered list paragraph made with direct formatting rather than a list style."""
    properties = paragraph._p.pPr
    return properties is not None and properties.numPr is not None


def _pdf_lines(path: Path) -> list[str]:
    from pypdf import PdfReader

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise PolicybotError(
                f"{path.name} is a password-protected PDF; save a copy without the password and import that."
            )
        pages = [page.extract_text() or "" for page in reader.pages]
    except PolicybotError:
        raise
    except Exception:  # pypdf raises many kinds of error on a damaged file
        raise PolicybotError(
            f"{path.name} is not a PDF policybot can read (it may be damaged or another format renamed .pdf); "
            "export the policy to PDF again, or save it as Word or text, and import that."
        ) from None
    text = "\n".join(pages)
    if not text.strip():
        raise PolicybotError(
            f"{path.name} has no text policybot can read, only images (a scanned document); import the "
            "original Word file, or a PDF exported from it, instead."
        )
    return text.splitlines()
