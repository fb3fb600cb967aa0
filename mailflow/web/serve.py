"""Serving the web view with uvicorn (one worker: the store is one SQLite file)."""

from __future__ import annotations

import logging

import uvicorn

from mailflow.app.wiring import App
from mailflow.web.app import create_app

log = logging.getLogger("mailflow.web")


def serve(app: App, host: str, port: int, https: bool = False,
          url: str | None = None) -> None:
    """`url`: the address people open (behind a proxy); else this host and port."""
    public = url or f"{'https' if https else 'http'}://{host}:{port}"
    log.info("web view on http://%s:%s/ (links point at %s)", host, port, public)
    uvicorn.run(create_app(app, https=https, public_url=public), host=host, port=port,
                log_level="warning", proxy_headers=https)
