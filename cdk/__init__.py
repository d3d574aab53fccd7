"""The CDK app (Python) that deploys iotstream to AWS; `python -m cdk.app` is the entry point."""
