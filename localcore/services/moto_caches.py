"""Work moto repeats on every request although its result never changes, done once per process.

moto is written for tests, where a few hundred requests do not make its per-request cost matter; localcore
serves every DynamoDB call of a streaming answer through it, on one thread, so that cost is the CPU each
answer takes (`python -m bench.profile`). Two results are kept, neither of which changes what moto answers:

- **The handler's method names.** moto's `BaseResponse.call_action` lists the response class's methods
  (`inspect.getmembers`, every attribute of a class with hundreds) on every request, to see whether the action
  is one it implements. A class's methods do not change while localcore runs: the list is made once per class.
- **Parsed update expressions.** moto parses a request's `UpdateExpression` twice (once to check the request,
  once to run it), and a program sends the same few expression texts over and over (the streaming Lambda's
  lease renewals, its claim and finish). Each text's tree is kept: moto's validator deep-copies the tree before
  it changes anything, and the request checks only read it, so a kept tree is never changed. A text that does
  not parse raises every time (an exception is not kept).
"""

from __future__ import annotations

import functools

from moto.core import responses, utils
from moto.dynamodb.parsing.expressions import (  # type: ignore[attr-defined]  # moto marks the module untyped
    UpdateExpressionParser,
)

EXPRESSIONS_KEPT = 512


def keep_unchanging_results() -> None:
    """Install both caches (idempotent; moto's functions stay as they are otherwise)."""
    names = vars(responses)  # the module `call_action` looks the function up in
    if names["method_names_from_class"] is utils.method_names_from_class:
        names["method_names_from_class"] = functools.cache(utils.method_names_from_class)
    if getattr(UpdateExpressionParser.make, "cache_info", None) is None:
        parse = functools.lru_cache(maxsize=EXPRESSIONS_KEPT)(UpdateExpressionParser.make)
        UpdateExpressionParser.make = parse
