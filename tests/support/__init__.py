"""Helpers shared by the tests, imported one way: `from tests.support.<module> import <name>`.

Fixtures stay in each folder's `conftest.py`; what a test imports by name lives here, never in a conftest.
"""
