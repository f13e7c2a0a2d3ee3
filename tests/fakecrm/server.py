"""Serving a fake CRM: uvicorn on a loopback port in a background thread.

The project's :class:`connector.sandbox.server.SandboxServer` is typed for the Sipalto
sandbox (it exposes ``.state``), so the fakes get this small twin that takes any ASGI app.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn


class FakeServer:
    """Run an ASGI app under uvicorn on ``127.0.0.1`` (a free port) in a daemon thread.

    >>> with FakeServer(app) as server:  # doctest: +SKIP
    ...     httpx.get(server.url + "/...")
    """

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0) -> None:
        # IPPROTO_TCP so asyncio turns Nagle off (see SandboxServer for the 40 ms story).
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host, self.port = self._socket.getsockname()[:2]
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="off", timeout_keep_alive=30
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="fakecrm", daemon=True)

    @property
    def url(self) -> str:
        """The base URL, without a trailing slash."""
        return f"http://{self.host}:{self.port}"

    def _run(self) -> None:
        self._server.run(sockets=[self._socket])

    def start(self) -> FakeServer:
        """Start serving; returns once the server accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the fake CRM server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        # force_exit: no waiting for idle keep-alive connections of finished clients.
        self._server.should_exit = self._server.force_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
