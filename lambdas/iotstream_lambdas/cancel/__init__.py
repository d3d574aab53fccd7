"""The cancel Lambda: `iotstream_lambdas.cancel.handler.handler`."""
