"""A listener that cannot bind says which one, where and why, in one line (a taken port above all)."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager

from localcore.errors import LocalcoreError


class ListenError(LocalcoreError):
    """`listener` (e.g. "mqtt", "http") could not listen on `host:port` for `reason`; `port_taken` when
    another process holds the port (EADDRINUSE)."""

    def __init__(self, listener: str, host: str, port: int, error: OSError) -> None:
        self.listener = listener
        self.host = host
        self.port = port
        self.port_taken = error.errno == errno.EADDRINUSE
        self.reason = "the port is taken" if self.port_taken else (error.strerror or str(error))
        super().__init__(f"{listener} cannot listen on {host}:{port}: {self.reason}")


@contextmanager
def binding(listener: str, host: str, port: int) -> Iterator[None]:
    """Turn the OSError of a bind inside the block into a ListenError naming the listener."""
    try:
        yield
    except OSError as error:
        raise ListenError(listener, host, port, error) from error
