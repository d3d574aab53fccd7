"""Attach the IoT policy to the calling Cognito identity (Lambda function URL, IAM auth)."""
