"""Attach the IoT policy to the signed-in caller's Cognito identity (Lambda function URL, IAM auth)."""
