"""``wiretrace serve``: the web viewer and the HTTP API over one store, read-only.

:func:`create_app` builds the FastAPI application over a :class:`SnapshotSource` (the
store as last published, see :mod:`wiretrace.web.snapshot`); :func:`serve` runs it under
uvicorn. The JSON API lives under ``/api`` (:mod:`wiretrace.web.api`, OpenAPI schema at
``/api/openapi.json``), the HTML viewer everywhere else (:mod:`wiretrace.web.views`).

Every error, whoever raises it (a route, validation, the size limit, the token gate,
an unknown URL), reaches the client in one shape: ``{"error": {"code", "message"}}``
under ``/api``, the same code and message on an HTML page elsewhere.

Safety: nothing writes (the server opens snapshots read-only and no route takes a file
path); a body larger than ``serve.max_request_bytes`` gets 413; HTML is autoescaped and
served with a Content-Security-Policy that allows only this server's own script and
styles; away from the loopback interface every request must carry the token
(``Authorization: Bearer``, the ``wiretrace_token`` cookie, or ``?token=`` once, which
sets the cookie); on loopback without a token, requests must name a loopback host (a
guard against DNS rebinding).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from wiretrace.errors import (
    ConfigError,
    IngestError,
    InputTooLarge,
    NotFound,
    WiretraceError,
)
from wiretrace.settings import Settings
from wiretrace.web.snapshot import SnapshotSource, StoreUnavailable

__all__ = ["Busy", "WebState", "create_app", "error_body", "is_loopback", "serve"]

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

STATIC = Path(__file__).parent / "static"
TOKEN_COOKIE = "wiretrace_token"  # noqa: S105 - a cookie name, not a secret
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}

#: The Content-Security-Policy of every response: own script and styles only, no
#: inline script, no plugins, no framing, forms post only here.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


class Busy(WiretraceError):
    """Too many article checks at once (503)."""


@dataclass
class WebState:
    """What the routes share: the store's snapshots, the settings, the check slots."""

    source: SnapshotSource
    settings: Settings
    check_slots: threading.BoundedSemaphore


def is_loopback(host: str) -> bool:
    """True when ``host`` (a name or address to bind) is reachable only from here."""
    if host.strip("[]") in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    """The one error shape of the API."""
    return {"error": {"code": code, "message": message}}


def _status_code(status: int) -> str:
    return {
        400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
        405: "method_not_allowed", 413: "too_large", 503: "unavailable",
    }.get(status, "internal" if status >= 500 else HTTPStatus(status).phrase.lower().replace(
        " ", "_"))  # fmt: skip


def _is_api(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def error_response(path: str, status: int, code: str, message: str) -> Response:
    """The error as JSON under ``/api``, as an HTML page elsewhere."""
    if _is_api(path):
        return JSONResponse(error_body(code, message), status_code=status)
    from wiretrace.web.views import render_error

    page: Response = render_error(status, code, message)
    return page


# -- middleware (plain ASGI: cheap on every request) --------------------------------------


class SecurityHeaders:
    """Adds the CSP and related headers to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuses request bodies over ``limit`` bytes with 413: at once when the
    Content-Length says so; a body without one (chunked) is read first, up to the limit,
    and handed on only when it fits."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        length = headers.get(b"content-length")
        too_large = f"request body over {self.limit} bytes (serve.max_request_bytes)"
        if length is not None:
            if not length.isdigit() or int(length) > self.limit:
                await error_response(scope["path"], 413, "too_large", too_large)(
                    scope, receive, send
                )
                return
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if size > self.limit:
                await error_response(scope["path"], 413, "too_large", too_large)(
                    scope, receive, send
                )
                return
            if message["type"] != "http.request" or not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


class TokenGate:
    """Lets a request through only when it carries the token (header, cookie, or a
    ``?token=`` query, which sets the cookie and redirects to the URL without it)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    def _ok(self, value: str | None) -> bool:
        return value is not None and hmac.compare_digest(value.encode(), self.token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}  # fmt: skip
        auth = headers.get("authorization", "")
        bearer = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        if self._ok(bearer) or any(self._ok(v) for v in _cookie_values(headers, TOKEN_COOKIE)):
            await self.app(scope, receive, send)
            return
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"))
        given = next((v for k, v in query if k == "token"), None)
        if self._ok(given):
            rest = urlencode([(k, v) for k, v in query if k != "token"])
            # one leading slash: "//host/x" would send the browser to another site
            target = "/" + scope["path"].lstrip("/") + (f"?{rest}" if rest else "")
            response: Response = RedirectResponse(target, status_code=303)
            response.set_cookie(TOKEN_COOKIE, given or "", httponly=True, samesite="strict")
            await response(scope, receive, send)
            return
        message = (
            "this server needs its token: send 'Authorization: Bearer TOKEN', or open "
            "any page once with ?token=TOKEN"
        )
        await error_response(scope["path"], 401, "unauthorized", message)(scope, receive, send)


def _cookie_values(headers: dict[str, str], name: str) -> list[str]:
    """Every value of cookie ``name`` in the Cookie header, read leniently: cookies that
    other sites on this host set (browsers share them across ports) may break the
    strict grammar of ``http.cookies``, which then drops the whole header."""
    values = []
    for part in headers.get("cookie", "").split(";"):
        key, sep, value = part.partition("=")
        if sep and key.strip() == name:
            values.append(value.strip().strip('"'))
    return values


class LoopbackHosts:
    """On loopback without a token: refuse requests whose Host is not a loopback name
    (a page elsewhere cannot reach the server by rebinding its own name to 127.0.0.1)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = dict(scope.get("headers", [])).get(b"host", b"").decode("latin-1")
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if host and not is_loopback(name):
                message = f"host {host!r} is not this machine's loopback name"
                await error_response(scope["path"], 403, "forbidden", message)(
                    scope, receive, send
                )
                return
        await self.app(scope, receive, send)


# -- the application ---------------------------------------------------------------------


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(x) for x in err.get("loc", ()) if x not in ("query", "body"))
        parts.append(f"{where or 'request'}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def _install_error_handlers(app: FastAPI) -> None:
    async def wiretrace_error(request: Request, exc: Exception) -> Response:
        status, code = 500, "internal"
        if isinstance(exc, NotFound):
            status, code = 404, "not_found"
        elif isinstance(exc, InputTooLarge):
            status, code = 413, "too_large"
        elif isinstance(exc, ConfigError | IngestError):
            status, code = 400, "bad_request"
        elif isinstance(exc, Busy):
            status, code = 503, "busy"
        elif isinstance(exc, StoreUnavailable):
            status, code = 503, "unavailable"
        else:  # the message may name server paths or SQL: logged, not sent
            log.error("%s %s: %s", request.method, request.url.path, exc)
            return error_response(request.url.path, status, code, "internal error (logged)")
        return error_response(request.url.path, status, code, str(exc))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"{request.url.path}: no such page"
        return error_response(
            request.url.path, exc.status_code, _status_code(exc.status_code), detail
        )

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return error_response(request.url.path, 400, "bad_request", _validation_message(exc))

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("%s %s failed", request.method, request.url.path, exc_info=exc)
        return error_response(request.url.path, 500, "internal", "internal error (logged)")

    app.add_exception_handler(WiretraceError, wiretrace_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected)


def create_app(
    source: SnapshotSource,
    settings: Settings,
    token: str | None = None,
    loopback: bool = True,
) -> FastAPI:
    """The application over an opened ``source`` (see :meth:`SnapshotSource.start`).

    ``token``: every request must carry it (required by :func:`serve` off loopback);
    ``loopback``: the server is bound to a loopback address (enables the Host check
    when there is no token).
    """
    from wiretrace.web import api, views

    app = FastAPI(
        title="wiretrace",
        summary="Who reprinted, rewrote or stitched together whose copy: read-only API.",
        version="1",
        openapi_url="/api/openapi.json",
        docs_url=None,  # Swagger UI loads script from a CDN: not under this CSP
        redoc_url=None,
    )
    app.state.web = WebState(
        source=source,
        settings=settings,
        check_slots=threading.BoundedSemaphore(max(1, settings.serve.check_concurrency)),
    )
    _install_error_handlers(app)
    app.include_router(api.router)
    app.include_router(views.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(BodyLimit, limit=settings.serve.max_request_bytes)
    if token:
        app.add_middleware(TokenGate, token=token)
    elif loopback:
        app.add_middleware(LoopbackHosts)
    app.add_middleware(SecurityHeaders)
    return app


def serve(
    db: Path,
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8000,
    token: str | None = None,
    log_level: str = "info",
) -> None:
    """Run the viewer and API on ``host:port`` until interrupted.

    Raises :class:`ConfigError` when ``host`` is not loopback and no ``token`` is given,
    :class:`~wiretrace.errors.StoreError` when the store cannot be read.
    """
    import uvicorn

    loopback = is_loopback(host)
    if not loopback and not token:
        raise ConfigError(
            f"--host {host}: reachable from other machines; give --token (or set "
            "WIRETRACE_TOKEN) so that every request must carry it"
        )
    source = SnapshotSource(db, settings)
    source.start()
    try:
        app = create_app(source, settings, token=token, loopback=loopback)
        # at the application's shutdown: uvicorn re-raises the SIGTERM/SIGINT it caught
        # once it has stopped, which ends the process before a ``finally`` here runs
        app.router.add_event_handler("shutdown", source.close)
        uvicorn.run(app, host=host, port=port, log_level=log_level, server_header=False)
    finally:
        source.close()
