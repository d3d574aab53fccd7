"""A TCP proxy on 127.0.0.1 whose connections a test can cut (a real TCP close on both sides), and which can
refuse new connections for a while: how a client's network drop looks to the client and to the broker.
With an SSL context it terminates TLS in front of a plain listener, as AWS IoT's `wss://` endpoint does."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading


class CuttableProxy:
    """Forwards every accepted connection to `upstream_port`; `cut()` closes them all, `hold()` refuses new ones."""

    def __init__(
        self, upstream_port: int, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None
    ) -> None:
        self.upstream = (host, upstream_port)
        self.tls = tls
        self._listener = socket.create_server((host, 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._open = threading.Event()
        self._open.set()
        self.accepted = 0
        self._closed = False
        threading.Thread(target=self._accept, name="proxy-accept", daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                downstream, _ = self._listener.accept()
            except OSError:
                return  # closed
            if not self._open.is_set():
                downstream.close()  # refused while held: the client sees the connection fail
                continue
            threading.Thread(target=self._connect, args=(downstream,), daemon=True).start()

    def _connect(self, downstream: socket.socket) -> None:
        try:
            if self.tls is not None:
                downstream = self.tls.wrap_socket(downstream, server_side=True)
            upstream = socket.create_connection(self.upstream)
        except OSError:
            downstream.close()
            return
        with self._lock:
            self.accepted += 1
            self._sockets += [downstream, upstream]
        for source, target in ((downstream, upstream), (upstream, downstream)):
            threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Close every proxied connection now, on both sides."""
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def hold(self) -> None:
        """Refuse new connections until `release()`."""
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def close(self) -> None:
        self._listener.close()
        self.cut()
