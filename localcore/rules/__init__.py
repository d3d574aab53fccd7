"""The local AWS IoT rules engine: SQL parsing and evaluation (`sql`), rules and actions."""
