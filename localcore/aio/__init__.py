"""asyncio plumbing the servers share: `Service` (started and stopped by `async with`), `ListenError`, and a
loop in a thread for synchronous callers."""
