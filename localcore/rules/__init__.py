"""The AWS IoT rules engine: SQL, topic rules, actions."""
