"""The AWS data services on the gateway — DynamoDB, SQS, SNS, S3, Kinesis, Firehose, CloudWatch and IAM — each
moto's implementation behind localcore's SigV4 + IAM front (`front.py`): which services and how they differ
(`catalog.py`), what each request needs from IAM (`permissions/`), refusals in each protocol's shape
(`wire_errors.py`), moto on its worker thread (`moto_worker.py`); the roles rule actions act as (`roles.py`,
`role_calls.py`)."""
