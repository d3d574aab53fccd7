"""DynamoDB on the gateway: SigV4 and IAM in front (`permissions.py`), moto's DynamoDB behind (`service.py`),
with the transactions and the TTL moto lacks (`store.py`)."""
