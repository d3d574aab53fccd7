"""The prompt Lambda: `iotstream_lambdas.prompt.handler.handler`."""
