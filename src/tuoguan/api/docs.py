"""The API's documentation pages, served whole by this server: Swagger UI and ReDoc.

FastAPI's own pages load their scripts from a CDN, which is often blocked in mainland China, so
the page stays blank there. These load the same builds from the ``fastapi-offline`` package
(Swagger UI and ReDoc as FastAPI uses them), under ``/static/api-docs/``, with the console's
favicon: the pages make no request to another host.

Each page sends its own Content-Security-Policy, this server only. Swagger UI's page may run
its one inline script, named by its hash. ReDoc's may apply inline styles: it writes them
into ``<style>`` elements as it renders (styled-components) and also adds its bundled CSS
before it reads any option, so neither a nonce nor hashes can name them; and it may start its
search worker from a ``blob:`` URL its own script makes. Scripts stay limited to this
server's files there too. ReDoc's sidebar shows Redocly's logo from Redocly's CDN: the policy
blocks that image before it leaves the browser, and ReDoc hides it.
"""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_URL = "/static/api-docs"
FAVICON_URL = "/static/favicon.svg"
_INLINE = {
    "script": re.compile(r"<script>(.*?)</script>", re.S),
    "style": re.compile(r"<style>(.*?)</style>", re.S),
}


def assets_dir() -> Path:
    """Where the installed fastapi-offline package keeps Swagger UI's and ReDoc's files."""
    return Path(str(files("fastapi_offline") / "static"))


def _hashes(kind: str, html: str) -> str:
    blocks = _INLINE[kind].findall(html)
    digests = (base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() for b in blocks)
    return "".join(f" 'sha256-{digest}'" for digest in digests)


def policy(html: str, *, redoc: bool = False) -> str:
    """The page's Content-Security-Policy: this server, and the hash of each inline block."""
    styles = " 'unsafe-inline'" if redoc else _hashes("style", html)
    # ReDoc's search runs in a worker it makes from its own code (a blob: URL).
    workers = "worker-src 'self' blob:; " if redoc else ""
    return (
        f"default-src 'self'; script-src 'self'{_hashes('script', html)}; {workers}"
        f"style-src 'self'{styles}; img-src 'self' data:; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def install(app: FastAPI, *, openapi_url: str, docs_url: str, redoc_url: str) -> None:
    """Serve Swagger UI at ``docs_url`` and ReDoc at ``redoc_url``, and their files.

    Call it before mounting the console's ``/static``: the first mount whose prefix matches
    answers.
    """
    app.mount(ASSETS_URL, StaticFiles(directory=assets_dir()), name="api-docs")
    swagger = bytes(
        get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} API · Swagger UI",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=FAVICON_URL,
            # No "valid" badge: it would send the document to swagger.io's validator.
            swagger_ui_parameters={"validatorUrl": None},
        ).body
    ).decode()
    redoc = bytes(
        get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} API · ReDoc",
            redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=FAVICON_URL,
            with_google_fonts=False,
        ).body
    ).decode()
    swagger_headers = {"content-security-policy": policy(swagger)}
    redoc_headers = {"content-security-policy": policy(redoc, redoc=True)}

    async def swagger_ui() -> HTMLResponse:
        return HTMLResponse(swagger, headers=swagger_headers)

    async def redoc_ui() -> HTMLResponse:
        return HTMLResponse(redoc, headers=redoc_headers)

    app.add_api_route(docs_url, swagger_ui, methods=["GET"], include_in_schema=False)
    app.add_api_route(redoc_url, redoc_ui, methods=["GET"], include_in_schema=False)
