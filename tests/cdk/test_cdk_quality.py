"""Quality gates of the template: cdk-nag's AwsSolutions pack and cfn-lint, partition-agnostic ARNs."""

from __future__ import annotations

import json

import cfnlint.api

LINT_REGIONS = ["eu-west-1", "us-east-1", "ap-northeast-1"]
IGNORED_LINT_CHECKS = ["W3005"]
"""W3005 "obsolete DependsOn": CDK makes every function depend on its role and the role's policy; the role
dependency is also implied by the GetAtt. Harmless, and not ours to change."""


def _report(synth) -> dict:
    (plugin,) = json.loads((synth.outdir / "validation-report.json").read_text())["pluginReports"]
    return plugin


def test_cdk_nag_finds_nothing_unacknowledged(synth, tuned):
    """cdk-nag AwsSolutions (https://github.com/cdklabs/cdk-nag/blob/main/RULES.md) runs at every synth of
    the CDK tests (conftest): no violation is left, and each acknowledged one carries its reason."""
    for deployment in (synth, tuned):
        report = _report(deployment)
        assert report["pluginName"] == "AwsSolutions"
        assert (report["conclusion"], report["violations"]) == ("success", [])
        assert report["suppressedViolations"]
        assert all(len(v["reason"]) > 20 for v in report["suppressedViolations"])


def test_cfn_lint_is_clean(synth, tuned):
    """cfn-lint (the CloudFormation linter, https://github.com/aws-cloudformation/cfn-lint) reports nothing on
    the synthesized templates, in the stack's Region and others."""
    config = cfnlint.api.ManualArgs(regions=LINT_REGIONS, ignore_checks=IGNORED_LINT_CHECKS)
    for deployment in (synth, tuned):
        matches = cfnlint.api.lint(json.dumps(deployment.json), config=config)
        assert [str(m) for m in matches] == []


def test_arns_name_the_partition_of_the_stack(synth):
    """No ARN in the template is written for the `aws` partition: each uses `Ref AWS::Partition`
    (Stack.partition / Aws.PARTITION), so the stack deploys in aws-cn and aws-us-gov too."""
    assert '"arn:aws:' not in json.dumps(synth.json)
    assert "arn:aws:" not in json.dumps(synth.json).replace('"arn:aws:', "")
