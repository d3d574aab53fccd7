"""Streaming LLM answers over AWS IoT Core: wire protocol, providers, coalescing publisher, service."""
