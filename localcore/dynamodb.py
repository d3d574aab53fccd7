"""A DynamoDB-compatible endpoint for the Lambdas' state: moto's server mode, on 127.0.0.1."""

from __future__ import annotations

import boto3
from moto.server import ThreadedMotoServer

from streaming.state import create_state_table


class LocalDynamoDB:
    """moto in server mode (real HTTP, real boto3 calls), with the project's state table created."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self.url = ""

    def start(self, table: str, region: str) -> str:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        client = boto3.client(
            "dynamodb",
            endpoint_url=self.url,
            region_name=region,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        create_state_table(client, table)
        return self.url

    def stop(self) -> None:
        self._server.stop()
