"""`iotstream pub` / `sub --user NAME` on iotstream's own stack: the user signs in as `iotstream chat` does
(Cognito, then the attach-policy function URL) and connects over a SigV4-presigned WebSocket; the `user`
policy attached to its identity decides (docs/security.md)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from clients.accounts import sign_in_user
from clients.targets import Target
from clients.token_cache import TokenCache
from localcore.testing import RunningLocalcore
from tests.support.cli import cli_environment, run_cli, start_cli


def test_a_signed_in_user_subscribes_and_publishes_only_its_own_topics(
    fast: tuple[RunningLocalcore, Target], tmp_path: Path
) -> None:
    """sub: the user's response filter is granted and a message published there arrives; pub: its cancel
    topic is allowed (PUBACK), another identity's prompt topic is refused (PUBACK 0x87, exit status 5)."""
    core, target = fast
    name = f"u-{uuid.uuid4().hex[:10]}"
    environment = cli_environment(tmp_path, target.source)
    identity = sign_in_user(
        target, name, cache=TokenCache(tmp_path / "xdg" / "iotstream" / "tokens.json")
    ).identity_id
    topic = f"chat/{identity}/response/{uuid.uuid4()}"
    sub, seen = start_cli(
        ["sub", "--user", name, f"chat/{identity}/response/+", "--count", "1"],
        environment,
        tmp_path,
        "subscribed",
        "stderr",
    )
    try:
        assert f"as {identity}-cli-" in seen
        core.client("iot-data").publish(topic=topic, qos=1, payload=b'{"v": 1}')
        out, _ = sub.communicate(timeout=30)
        assert sub.returncode == 0 and out == f'{topic} {{"v": 1}}\n'
    finally:
        if sub.poll() is None:
            sub.kill()
    cancel = json.dumps({"v": 1, "rid": str(uuid.uuid4())})
    allowed = run_cli(["pub", "--user", name, f"chat/{identity}/cancel", cancel], environment, tmp_path)
    assert allowed.returncode == 0, allowed.stderr
    other = f"chat/us-east-1:{uuid.uuid4()}/prompt"
    refused = run_cli(["pub", "--user", name, other, "{}"], environment, tmp_path)
    assert refused.returncode == 5
    assert (
        refused.stderr.strip()
        == f"iotstream pub: the broker refused PUBLISH {other}: Not authorized (PUBACK 0x87)"
    )
