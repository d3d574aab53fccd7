"""The IAM permissions each AWS data service request needs: (action, resource ARN) pairs, per service."""
