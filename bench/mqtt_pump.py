"""Many paho-mqtt clients driven by one thread, through paho's external event loop API.

`loop_start()` gives every client its own thread and a `select()` call, which cannot watch file descriptors
above 1023: a benchmark with a thousand connections needs epoll. paho documents this use: the
`on_socket_open` / `on_socket_close` / `on_socket_register_write` / `on_socket_unregister_write` callbacks
plus `loop_read()`, `loop_write()` and `loop_misc()`. Selector changes requested from other threads are
queued to the pump's own thread, so the selector is only ever touched there.
"""

from __future__ import annotations

import contextlib
import queue
import selectors
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as paho

MISC_INTERVAL_S = 1.0


class MqttPump:
    """`pump.attach(client)` before `client.connect(...)`; no `loop_start()`."""

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._requests: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._clients: set[paho.Client] = set()
        self._running = True
        self._thread = threading.Thread(target=self._run, name="mqtt-pump", daemon=True)
        self._thread.start()

    def attach(self, client: paho.Client) -> None:
        client.on_socket_open = self._on_open
        client.on_socket_close = self._on_close
        client.on_socket_register_write = self._on_register_write
        client.on_socket_unregister_write = self._on_unregister_write

    def close(self) -> None:
        self._running = False
        self._wake()
        self._thread.join(10)
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    # paho callbacks (any thread): queue the selector change for the pump's thread

    def _on_open(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        with contextlib.suppress(OSError, AttributeError):
            # paho leaves Nagle on: a prompt written while the previous PUBACK is unacknowledged waits for the
            # peer's delayed ACK (~40 ms), which a benchmark would count as the service's latency.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._request(lambda: self._watch(client, sock, selectors.EVENT_READ))

    def _on_close(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        self._request(lambda: self._forget(client, sock))

    def _on_register_write(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        self._request(lambda: self._watch(client, sock, selectors.EVENT_READ | selectors.EVENT_WRITE))

    def _on_unregister_write(self, client: paho.Client, userdata: Any, sock: Any) -> None:
        self._request(lambda: self._watch(client, sock, selectors.EVENT_READ))

    def _request(self, change: Callable[[], None]) -> None:
        if self._running:  # after `close`, sockets closing on their own need nothing from the pump
            self._requests.put(change)
            self._wake()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):  # a full wake-up pipe (the pump is being woken) or a closed pump
            self._wake_w.send(b"x")

    # the pump's thread

    def _watch(self, client: paho.Client, sock: Any, events: int) -> None:
        self._clients.add(client)
        try:
            self._selector.modify(sock, events, client)
        except KeyError:
            self._selector.register(sock, events, client)
        except (ValueError, OSError):  # the socket closed before the request was handled
            self._clients.discard(client)

    def _forget(self, client: paho.Client, sock: Any) -> None:
        self._clients.discard(client)
        with contextlib.suppress(KeyError, ValueError, OSError):  # already gone
            self._selector.unregister(sock)

    def _run(self) -> None:
        next_misc = time.monotonic() + MISC_INTERVAL_S
        while self._running:
            while not self._requests.empty():
                self._requests.get()()
            for key, mask in self._selector.select(timeout=MISC_INTERVAL_S):
                client = key.data
                if client is None:
                    self._drain_wakeups()
                    continue
                if mask & selectors.EVENT_READ:
                    client.loop_read()
                if mask & selectors.EVENT_WRITE:
                    client.loop_write()
            if time.monotonic() >= next_misc:
                next_misc = time.monotonic() + MISC_INTERVAL_S
                for client in list(self._clients):
                    client.loop_misc()

    def _drain_wakeups(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while self._wake_r.recv(4096):
                pass
