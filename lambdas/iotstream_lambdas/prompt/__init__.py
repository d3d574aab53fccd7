"""The prompt Lambda: `prompt.handler.handler`."""
