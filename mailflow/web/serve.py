"""Serving the web view with uvicorn (one worker: the store is one SQLite file)."""

from __future__ import annotations

import logging

import uvicorn

from mailflow.app.wiring import App
from mailflow.web.app import create_app

log = logging.getLogger("mailflow.web")


def serve(app: App, host: str, port: int, https: bool = False) -> None:
    log.info("web view on http://%s:%s/", host, port)
    uvicorn.run(create_app(app, https=https), host=host, port=port, log_level="warning",
                proxy_headers=https)
