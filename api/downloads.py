"""A workbook made in memory, answered as a download with its Chinese file name (RFC 6266:
`filename*=UTF-8''…`, and an ASCII `filename` for old clients) and never cached."""

from __future__ import annotations

from urllib.parse import quote

from starlette.responses import Response

from supply.core.sheets import MEDIA_TYPES


def xlsx_download(content: bytes, name: str) -> Response:
    """`content` (an .xlsx workbook) as the attachment `name`."""
    fallback = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return Response(
        content,
        media_type=MEDIA_TYPES["xlsx"],
        headers={
            "Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}",
            "Cache-Control": "no-store",
        },
    )
