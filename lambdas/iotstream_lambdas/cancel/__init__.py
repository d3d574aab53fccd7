"""The cancel Lambda: `cancel.handler.handler`."""
