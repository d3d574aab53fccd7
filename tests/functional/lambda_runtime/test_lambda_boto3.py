"""Handlers use boto3 unchanged: endpoint and credentials come from the environment localcore sets."""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

from localcore.lambda_runtime import LambdaRuntime
from tests.support.lambda_helpers import LOCAL_ENV, function, run


def test_boto3_in_the_handler_calls_the_local_endpoint_with_local_credentials() -> None:
    """boto3 picks `AWS_ENDPOINT_URL_IOT_DATA_PLANE` and the AWS_* credentials from the environment
    (boto3 guide: configuration, service-specific endpoints), so iot-data Publish reaches localcore.
    """

    async def scenario():
        seen: list[tuple[str, str, bytes, str]] = []
        arrived = asyncio.Event()

        async def publish(request: web.Request) -> web.Response:
            body = await request.read()
            seen.append((request.path, request.query_string, body, request.headers.get("Authorization", "")))
            arrived.set()
            return web.json_response({})

        app = web.Application()
        app.router.add_post("/topics/{topic:.*}", publish)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        env = {**LOCAL_ENV, "AWS_ENDPOINT_URL_IOT_DATA_PLANE": f"http://127.0.0.1:{port}"}
        try:
            config = function("pub", "publisher.handler", timeout_seconds=10)
            async with LambdaRuntime([config], env) as runtime:
                result = await runtime.invoke("pub", {"topic": "chat/abc/response/1", "message": {"seq": 0}})
        finally:
            await runner.cleanup()
        return result, seen, arrived.is_set()

    result, seen, arrived = run(scenario())
    assert result.ok, result.payload
    assert result.payload == {"status": 200}
    assert arrived and len(seen) == 1
    path, query, body, authorization = seen[0]
    assert path == "/topics/chat/abc/response/1"
    assert "qos=1" in query
    assert json.loads(body) == {"seq": 0}
    assert "Credential=AKIDLOCAL/" in authorization and "/eu-west-1/iotdata/aws4_request" in authorization
