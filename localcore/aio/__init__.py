"""asyncio plumbing the servers share: a loop in a thread for synchronous callers, and the listen error."""
