"""Custom resource: detach every target of the stack's IoT policies when the stack is deleted."""
