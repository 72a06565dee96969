"""How large a request body the API reads: refused with 413 before it is read whole.

A JSON (or any other) body may be at most `GRIDSUPPLY_MAX_JSON_BYTES` (1 MB), a file upload
(`multipart/form-data`) at most `GRIDSUPPLY_MAX_UPLOAD_BYTES` (20 MB). A declared Content-Length
over the limit is answered at once, without reading anything; a body without one (chunked) is
counted as it streams in and refused as soon as it passes the limit.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response
from api.web.render import error_page
from supply.core.settings import get_settings


class BodyTooLarge(HTTPException):
    """The request body passed its limit; rendered as 413 in the error shape."""

    def __init__(self, limit: int, *, upload: bool) -> None:
        what = "上传文件" if upload else "请求体"
        en = "a file upload" if upload else "a request body"
        shown = f"{limit / 1024 / 1024:g} MB" if limit >= 1024 * 1024 else f"{limit} bytes"
        super().__init__(
            status_code=413,
            detail=f"{what}超过 {shown} / {en} may be at most {shown}",
        )


class BodyLimitMiddleware:
    """Refuse a request body over its limit with 413, checking Content-Length first."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request, counting the bytes of its body as the app reads them."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        settings = get_settings()
        upload = headers.get("content-type", "").lower().startswith("multipart/")
        limit = settings.max_upload_bytes if upload else settings.max_json_bytes
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            too_large = BodyTooLarge(limit, upload=upload)
            await _refusal(scope, too_large.detail)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit, upload=upload)
            return message

        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge as exc:  # read where no exception handler sees it
            if started:
                raise
            await _refusal(scope, exc.detail)(scope, receive, send)


def _refusal(scope: Scope, detail: str) -> Response:
    """413 in the API's error shape, or as a page for a page (a form's upload)."""
    if scope["path"].startswith("/api/"):
        return error_response(413, "too_large", detail, loc=("body",))
    return error_page(Request(scope), 413, f"{detail}。请压缩或拆分文件后重试。")
