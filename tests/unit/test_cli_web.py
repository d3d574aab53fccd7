"""`iotstream web --aws cdk-outputs.json --out DIR`: the pages plus a config.json from the deployment's outputs (the
file `cdk deploy --outputs-file` writes: {stack: {OutputKey: value}}, see clients/deployment.py)."""

from __future__ import annotations

import json

from clients.cli import main

OUTPUTS = {
    "IotStream": {
        "Region": "eu-west-1",
        "UserPoolId": "eu-west-1_abc",
        "UserPoolClientId": "client123",
        "IdentityPoolId": "eu-west-1:0000",
        "IotDataEndpoint": "abc-ats.iot.eu-west-1.amazonaws.com",
        "AttachPolicyUrl": "https://xyz.lambda-url.eu-west-1.on.aws/",
        "DashboardShards": "4",
        "Topics": "{}",
    }
}


def test_writes_a_static_site_configured_for_aws(tmp_path, capsys):
    """On AWS the SDK uses Cognito's regional endpoints (cognitoEndpoint null) and the broker is wss://<endpoint>."""
    outputs = tmp_path / "cdk-outputs.json"
    outputs.write_text(json.dumps(OUTPUTS))
    site = tmp_path / "site"
    assert main(["web", "--aws", str(outputs), "--out", str(site)]) == 0
    assert json.loads((site / "config.json").read_text()) == {
        "region": "eu-west-1",
        "userPoolId": "eu-west-1_abc",
        "userPoolClientId": "client123",
        "identityPoolId": "eu-west-1:0000",
        "mqttEndpoint": "wss://abc-ats.iot.eu-west-1.amazonaws.com",
        "attachPolicyUrl": "https://xyz.lambda-url.eu-west-1.on.aws/",
        "cognitoEndpoint": None,
        "dashboardShards": 4,
    }
    for name in ("index.html", "dashboard.html", "assets/chat.js", "assets/dashboard.js", "assets/style.css"):
        assert (site / name).is_file(), name
    assert "aws s3 sync" in capsys.readouterr().out


def test_bad_outputs_file_is_one_line_and_nonzero(tmp_path, capsys):
    assert main(["web", "--aws", str(tmp_path / "missing.json"), "--out", str(tmp_path / "site")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("iotstream web: ") and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "site").exists()


def test_no_outputs_file_named(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("IOTSTREAM_AWS_OUTPUTS", raising=False)
    assert main(["web", "--out", str(tmp_path / "site")]) == 2
    assert "--aws cdk-outputs.json" in capsys.readouterr().err
