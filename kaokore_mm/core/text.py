"""Text files as the tools that write them save them (standard library only).

Spreadsheets and Windows editors save CSV and TXT with a byte-order mark, CRLF
line ends, or (Japanese Excel) Shift-JIS; KaoKore's own files are UTF-8. One
decoder for every text file the project reads, so that no reader meets a BOM
glued to its first field or a ``\\r`` at the end of its last. JSON is UTF-8 by
its RFC (8259), which lets a reader ignore a BOM (Notepad writes one):
:func:`parse_json` is the one parser of JSON that a person or another tool
wrote (COCO and W3C files, manifests by file or URL, the review app's bodies).
"""

from __future__ import annotations

import codecs
import json

BOMS = ((codecs.BOM_UTF8, 'utf-8'), (codecs.BOM_UTF16_LE, 'utf-16-le'), (codecs.BOM_UTF16_BE, 'utf-16-be'))
FALLBACK = 'cp932'  # Shift-JIS as Windows (and Excel in Japan) writes it


def decode_text(data: bytes) -> tuple[str | None, str]:
    """``(text, encoding)`` of a file's bytes: a BOM says the encoding (and is
    dropped); else UTF-8; else Shift-JIS (cp932) when the whole file decodes as
    that into real characters and no line of it is non-ASCII UTF-8; else ``(None, 'utf-8')``: the
    caller reports the lines that are not UTF-8 one by one. Line ends are
    normalised to ``\\n``."""
    for bom, enc in BOMS:
        if data.startswith(bom):
            try:
                return _lines(data[len(bom) :].decode(enc)), enc
            except UnicodeDecodeError:
                return None, enc
    try:
        return _lines(data.decode('utf-8')), 'utf-8'
    except UnicodeDecodeError:
        pass
    if any(not line.isascii() and _is_utf8(line) for line in data.split(b'\n')):
        return None, 'utf-8'  # a UTF-8 file with broken lines: never re-read its good lines as Shift-JIS
    try:
        text = data.decode(FALLBACK)
    except UnicodeDecodeError:
        return None, 'utf-8'
    if any(_unlikely(c) for c in text):  # cp932 maps stray bytes (0xFD-0xFF, ...) to private use: not text
        return None, 'utf-8'
    return _lines(text), FALLBACK


def _unlikely(c: str) -> bool:
    import unicodedata

    return unicodedata.category(c) in ('Co', 'Cn') or (unicodedata.category(c) == 'Cc' and c not in '\t\n\r')


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode('utf-8')
        return True
    except UnicodeDecodeError:
        return False


def _lines(text: str) -> str:
    return text.replace('\r\n', '\n').replace('\r', '\n')


def read_text(path) -> str:
    """The text of a file as :func:`decode_text` reads it.

    Raises:
        ValueError: the file is in none of those encodings (the message names it).
    """
    with open(path, 'rb') as f:
        data = f.read()
    text, enc = decode_text(data)
    if text is None:
        raise ValueError(
            f'{path}: not text in UTF-8 (with or without a BOM), UTF-16 with a BOM or Shift-JIS; save it as UTF-8'
        )
    return text


def parse_json(data: bytes) -> object:
    """The JSON document in ``data``: UTF-8 with or without a BOM.

    Raises:
        ValueError: ``not UTF-8 JSON (<the first line of why>)``.
        RecursionError: nested too deeply for the parser (the error boundary,
            :func:`kaokore_mm.utils.cli.input_error_message`, names it).
    """
    try:
        return json.loads(data.decode('utf-8-sig'))
    except ValueError as e:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise ValueError(f'not UTF-8 JSON ({str(e).splitlines()[0]})') from None
