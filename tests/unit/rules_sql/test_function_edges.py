"""SQL functions at the edges their AWS reference page documents (beyond the page's own examples).

Page: https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-functions.html
"""

from __future__ import annotations

import pytest

from localcore.rules.sql import SqlContext, compile_sql

V2 = "2016-03-23"


def value_of(expr: str, version: str = V2) -> bytes:
    """The output payload of `SELECT VALUE <expr>` on an empty JSON message."""
    result = compile_sql(f"SELECT VALUE {expr} FROM 'a/b'", version).evaluate(SqlContext("a/b", b"{}"))
    assert result.matched
    return result.payload


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("trunc(2.123456, 100)", b"2.123456"),  # places above 34 are set to 34
        ("trunc(2.123456, 34)", b"2.123456"),
        ("trunc(12.5, 33)", b"12.5"),  # 2 integer digits + 33 places > 34 digits
        ("trunc(123.5, 32)", b"123.5"),
        ("trunc(1234567890.0123456789012345678901234, 34)", b"1234567890.012345678901234567890123"),
        ("trunc(-7.98765, 3)", b"-7.987"),  # truncation goes toward zero
        ("trunc(2.9, -5)", b"2"),  # places below zero are set to zero
        ("trunc('3.14159', 2)", b"3.14"),  # strings are converted to Decimal
        ("trunc(5.55, 1.9)", b"5.5"),  # a non-Int second argument is rounded down
    ],
)
def test_trunc_clamps_places_to_0_and_34(expr: str, expected: bytes) -> None:
    """trunc(Decimal, Int): "If the second argument is greater than 34, it is set to 34"; below zero it is
    zero; trailing zeros are removed (iot-sql-functions.html#iot-func-trunc). The result never needs more
    digits than the input, so no combination of integer digits and places makes it Undefined."""
    assert value_of(expr) == expected


@pytest.mark.parametrize(
    ("text", "digest"),
    [
        ("hello", "a9046c73e00331af68917d3804f70655"),
        ("", "8350e5a3e24c153df2275c9f80692773"),  # RFC 1319 appendix A.5 test suite
        ("a", "32ec01ec4a6dac72c0ab96fb34c0b5d1"),
        ("abc", "da853b0d3f88d99b30283a69e6ded6bb"),
        ("message digest", "ab4f496bfb2a530b219ff33031fe06b0"),
        ("abcdefghijklmnopqrstuvwxyz", "4e8ddff3650292ab5a4108c3aa47940b"),
        (
            "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
            "d5976f79d83d3a0dc9806c3c66f3efd8",
        ),
    ],
)
def test_md2_is_supported(text: str, digest: str) -> None:
    """Hashing functions: md2(String) returns the hex MD2 digest like md5() and the SHA functions
    (iot-sql-functions.html#iot-sql-function-hash); digests are RFC 1319's published test suite."""
    assert value_of(f"md2('{text}')") == f'"{digest}"'.encode()


def test_md2_converts_its_argument_like_the_other_hashes() -> None:
    """Hashing functions take the string form of their argument; Undefined gives Undefined
    (iot-sql-functions.html#iot-sql-function-hash, same argument table as md5)."""
    assert value_of("md2(15)") == value_of("md2('15')")
    assert value_of("md2(missing)") == b""
