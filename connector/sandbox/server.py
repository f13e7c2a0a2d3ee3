"""Serving the sandbox: uvicorn on a loopback port in a background thread."""

from __future__ import annotations

import socket
import threading
import time

from connector.sandbox.app import Sandbox
from connector.sandbox.state import SandboxState


class SandboxServer:
    """Run a :class:`Sandbox` under uvicorn on a loopback port in a background thread.

    >>> with SandboxServer() as server:  # doctest: +SKIP
    ...     print(server.url)
    """

    def __init__(self, sandbox: Sandbox | None = None, *, host: str = "127.0.0.1", port: int = 0):
        import uvicorn

        self.sandbox = sandbox or Sandbox()
        # Say IPPROTO_TCP: asyncio turns Nagle off (TCP_NODELAY) only on sockets whose
        # protocol says TCP, and with Nagle on every answer after a connection's first
        # waits about 40 ms for the client's delayed ACK.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host, self.port = self._socket.getsockname()[:2]
        config = uvicorn.Config(
            self.sandbox,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_keep_alive=30,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="sipalto-sandbox", daemon=True)

    @property
    def url(self) -> str:
        """The base URL to give a client."""
        return f"http://{self.host}:{self.port}"

    @property
    def state(self) -> SandboxState:
        """The emulated server's data."""
        return self.sandbox.state

    def _run(self) -> None:
        self._server.run(sockets=[self._socket])

    def start(self) -> SandboxServer:
        """Start serving; returns when the server accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the sandbox server did not start")
            time.sleep(0.01)
        return self

    def wait(self) -> None:
        """Block until the server stops (Ctrl-C raises ``KeyboardInterrupt`` here)."""
        while self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
