"""A start that cannot bind one of its ports stops every part it had already started, in reverse order: no
thread, asyncio task, socket or worker process is left behind, and the error names the listener and the port.

The rule that makes a port "taken": a TCP port with a socket listening on it cannot be bound again, even with
SO_REUSEADDR (bind(2) answers EADDRINUSE; Linux socket(7), SO_REUSEADDR: "binding to a local address is
allowed unless there is an active listening socket bound to the address"). Localcore binds, in order, the
gateway (`http`), then the broker's `mqtt`, `mqtts`, `ws` and `wss` listeners; each case below takes one of them, so
every earlier part has started and must be stopped again.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from clients.cli import main
from clients.cli.up import PORT_OPTIONS
from clients.local_app import local_config
from localcore.aio.listen import ListenError
from localcore.app import Localcore, LocalcoreConfig
from localcore.testing import RunningLocalcore

LISTENERS = tuple(PORT_OPTIONS)


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port on 127.0.0.1 another socket listens on for the whole test."""
    with socket.create_server(("127.0.0.1", 0)) as holder:
        yield holder.getsockname()[1]


def open_sockets() -> set[str]:
    """The process's open sockets (`socket:[inode]`), from /proc/self/fd."""
    sockets = set()
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = str(fd.readlink())
        except OSError:  # the directory's own descriptor, closed by now
            continue
        if target.startswith("socket:"):
            sockets.add(target)
    return sockets


def child_processes() -> set[str]:
    """The process ids of this process's children (Lambda workers would be some), from each thread's
    /proc/self/task/<tid>/children (a thread that ends meanwhile has none)."""
    children = set()
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(FileNotFoundError):
            children.update((task / "children").read_text().split())
    return children


def threads() -> set[threading.Thread]:
    return set(threading.enumerate())


@dataclass
class FailedStart:
    error: ListenError
    tasks_left: set[asyncio.Task[object]]
    sockets_left: set[str]
    threads_left: set[str]


async def failed_start(config: LocalcoreConfig) -> FailedStart:
    """`async with Localcore(config)` that fails, and what it left on this loop (the loop's own default
    executor, which `asyncio.run` shuts down, is not the stack's)."""
    sockets, before = open_sockets(), threads()
    with pytest.raises(ListenError) as failure:
        async with Localcore(config):
            pytest.fail("the stack started on a taken port")
    tasks = asyncio.all_tasks() - {asyncio.current_task()}
    new_threads = {t.name for t in threads() - before if not t.name.startswith("asyncio_")}
    return FailedStart(failure.value, tasks, open_sockets() - sockets, new_threads)


def config_taking(listener: str, port: int, state_dir: Path) -> LocalcoreConfig:
    """Every listener on (the TLS one too), `listener` on the taken `port`, the others on free ports."""
    ports = {"mqtts_port": 0, "wss_port": 0, f"{listener}_port": port}
    return local_config(state_dir=state_dir, **ports)


@pytest.mark.parametrize("listener", LISTENERS)
def test_a_start_that_cannot_bind_leaves_nothing_running(
    listener: str, taken_port: int, tmp_path: Path
) -> None:
    """The taken port's listener is named in the ListenError; the gateway, DynamoDB's worker thread, the Lambda
    runtime's reaper task and the listeners bound before it are all stopped before the error propagates."""
    sockets, before, children = open_sockets(), threads(), child_processes()
    result = asyncio.run(failed_start(config_taking(listener, taken_port, tmp_path)))
    error = result.error
    assert (error.listener, error.port, error.port_taken) == (listener, taken_port, True)
    assert str(taken_port) in str(error)
    assert result.tasks_left == set()
    assert result.sockets_left == set()
    assert result.threads_left == set()
    assert threads() <= before
    assert open_sockets() <= sockets
    assert child_processes() <= children


def test_the_test_harness_start_that_fails_leaves_no_thread(taken_port: int, tmp_path: Path) -> None:
    """`RunningLocalcore.start()` (tests, `iotstream demo`) raises the ListenError and takes its loop thread
    and temporary state with it."""
    before, sockets = threads(), open_sockets()
    running = RunningLocalcore(local_config(http_port=taken_port))
    with pytest.raises(ListenError):
        running.start()
    assert threads() <= before
    assert open_sockets() <= sockets
    assert not Path(running.core.config.state_dir).exists()


@pytest.mark.parametrize(("listener", "option"), PORT_OPTIONS.items())
def test_iotstream_up_names_the_taken_port_and_its_option(
    listener: str, option: str, taken_port: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`iotstream up` on a taken port: one line naming the port and the option that changes it, exit 1."""
    ports = {name: "0" for name in PORT_OPTIONS.values()}
    ports[option] = str(taken_port)
    arguments = [item for pair in ports.items() for item in pair]
    assert main(["up", "--llm", "scripted", *arguments, "--state-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"port {taken_port} ({listener}, 127.0.0.1) is taken" in err and option in err
