r"""iotstream clients: sign in, chat over MQTT over SigV4 WebSockets, read the dashboard feed.

The same code runs against the local stack (`iotstream up`) and a deployed one (`--aws cdk-outputs.json`):

```python
from clients import Client, TokenCache, new_conversation_id, resolve_target, sign_in_user

target = resolve_target()  # .localcore/ready.json of `iotstream up`; AWS: resolve_target(aws_outputs=path)
session = sign_in_user(target, "alice", cache=TokenCache())  # a local user is created on first use
conversation = new_conversation_id()
with Client(session) as chat:  # MQTT 5 (awscrt) over SigV4 WebSockets; transport="paho" also works
    answer = chat.ask("What is MQTT?", conversation=conversation, max_tokens=64)
    for delta in answer:  # text as it streams in
        print(delta, end="", flush=True)
    print(f"\n[{answer.stop}] {answer.tokens} tokens, first after {answer.ttft_s:.2f} s")
```

`AsyncClient` is the asyncio flavour (`async with AsyncClient(session) as chat`, `answer = await chat.ask(…)`,
`async for delta in answer`); `DashboardFeed` / `AsyncDashboardFeed` read every stream's status (users of
the `dashboard` group). Every error is an `IotstreamClientError`. Guide: docs/clients.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from clients.accounts import sign_in_user
    from clients.answers import Answer, AsyncAnswer
    from clients.client import AsyncClient, Client, new_conversation_id
    from clients.config import ClientConfig
    from clients.dashboard_feed import AsyncDashboardFeed, DashboardFeed
    from clients.errors import (
        AttachPolicyError,
        ClientConfigError,
        ClientTimeoutError,
        IotstreamClientError,
        PasswordRequiredError,
        PolicyDeniedError,
        PromptError,
        ServiceError,
        SignInError,
        StackNotRunningError,
        WrongPasswordError,
    )
    from clients.session import Session, confirm_sign_up, sign_in, sign_up
    from clients.targets import Target, resolve_target
    from clients.token_cache import TokenCache
    from iotstream_lambdas.streaming.status import StreamStatus

# Imported on first use, so `iotstream` subcommands that need none of this start fast.
_HOMES = {
    "clients.accounts": ["sign_in_user"],
    "clients.answers": ["Answer", "AsyncAnswer"],
    "clients.client": ["AsyncClient", "Client", "new_conversation_id"],
    "clients.config": ["ClientConfig"],
    "clients.dashboard_feed": ["AsyncDashboardFeed", "DashboardFeed"],
    "clients.errors": [
        "AttachPolicyError",
        "ClientConfigError",
        "ClientTimeoutError",
        "IotstreamClientError",
        "PasswordRequiredError",
        "PolicyDeniedError",
        "PromptError",
        "ServiceError",
        "SignInError",
        "StackNotRunningError",
        "WrongPasswordError",
    ],
    "iotstream_lambdas.streaming.status": ["StreamStatus"],
    "clients.session": ["Session", "confirm_sign_up", "sign_in", "sign_up"],
    "clients.targets": ["Target", "resolve_target"],
    "clients.token_cache": ["TokenCache"],
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [
    "Answer",
    "AsyncAnswer",
    "AsyncClient",
    "AsyncDashboardFeed",
    "AttachPolicyError",
    "Client",
    "ClientConfig",
    "ClientConfigError",
    "ClientTimeoutError",
    "DashboardFeed",
    "IotstreamClientError",
    "PasswordRequiredError",
    "PolicyDeniedError",
    "PromptError",
    "ServiceError",
    "Session",
    "SignInError",
    "StackNotRunningError",
    "StreamStatus",
    "Target",
    "TokenCache",
    "WrongPasswordError",
    "confirm_sign_up",
    "new_conversation_id",
    "resolve_target",
    "sign_in",
    "sign_in_user",
    "sign_up",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'clients' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
