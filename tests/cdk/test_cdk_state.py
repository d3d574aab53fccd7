"""The DynamoDB state table."""

from __future__ import annotations


def test_state_table_keys_ttl_and_billing(synth):
    """pk/sk string keys, TTL on `expires_at`, on-demand billing
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html)."""
    synth.template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
            "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
        },
    )


def test_state_table_is_retained_by_default(synth):
    """`retainData` defaults to true: `cdk destroy` keeps the table (DeletionPolicy Retain)."""
    (table,) = synth.resources("AWS::DynamoDB::Table").values()
    assert table["DeletionPolicy"] == "Retain"
