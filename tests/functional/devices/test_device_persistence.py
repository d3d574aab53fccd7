"""With `--persist`, certificates (their status too), things and their principals survive a restart, and the
certificate files a device holds keep working (the local and device CAs stay in the state dir). AWS keeps all
of these until they are deleted; localcore keeps them in `<state-dir>/state.json` when asked.
(API_UpdateCertificate.html: only ACTIVE certificates authenticate, so a revoked one stays refused.)"""

from __future__ import annotations

import json
from pathlib import Path

from clients.local_app import local_config
from localcore.testing import Device, RunningLocalcore
from tests.support.device_support import (
    THING_POLICY,
    provision,
    self_signed,
    write_key_and_certificate,
)

NOT_AUTHORIZED = 0x87


def test_devices_survive_a_restart(tmp_path: Path) -> None:
    """Before: one device ACTIVE, one REVOKED, one with a certificate from another CA (RegisterCertificateWithoutCA).
    After a restart with the same state dir: the registry and the attachments are back, the active devices
    connect and publish with their files (the registered certificate is trusted again), the revoked one is
    refused."""
    config = local_config(state_dir=tmp_path / "state", persist=True, mqtts_port=0)
    with RunningLocalcore(config) as first:
        iot = first.client("iot")
        active, revoked = provision(iot, tmp_path), provision(iot, tmp_path)
        iot.update_thing(thingName=active.thing, attributePayload={"attributes": {"room": "attic"}})
        iot.update_certificate(certificateId=revoked.certificate_id, newStatus="REVOKED")
        key, pem = self_signed("byo-persisted")
        made = iot.register_certificate_without_ca(certificatePem=pem, status="ACTIVE")
        foreign = Device(
            "byo-persisted",
            made["certificateId"],
            made["certificateArn"],
            *write_key_and_certificate(tmp_path, key, pem),
        )
        iot.create_thing(thingName=foreign.thing)
        iot.attach_thing_principal(thingName=foreign.thing, principal=foreign.certificate_arn)
        iot.create_policy(policyName="byo-persisted", policyDocument=json.dumps(THING_POLICY))
        iot.attach_policy(policyName="byo-persisted", target=foreign.certificate_arn)
    with RunningLocalcore(config) as second:
        iot = second.client("iot")
        assert iot.describe_thing(thingName=active.thing)["attributes"] == {"room": "attic"}
        assert iot.list_thing_principals(thingName=active.thing)["principals"] == [active.certificate_arn]
        description = iot.describe_certificate(certificateId=revoked.certificate_id)["certificateDescription"]
        assert description["status"] == "REVOKED"
        for device in (active, foreign):
            with second.device_client(device) as client:
                client.connect()
                assert client.publish(f"things/{device.thing}/telemetry", b"{}", qos=1) == 0
        refused = second.device_client(revoked).connect(expect_success=False)
        assert refused.connack is not None and refused.connack.reason_code == NOT_AUTHORIZED
        refused.disconnect()
