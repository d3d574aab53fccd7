"""The built-in function registry: name -> (minimum SQL version, implementation)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from localcore.rules.sql.functions import message, numeric, strings, timefmt
from localcore.rules.sql.values import V1, V2

Implementation = Callable[[Any, list[Any]], Any]


@dataclass(frozen=True)
class FunctionSpec:
    """One built-in: the oldest SQL version that has it and the Python implementation."""

    name: str
    min_version: str
    impl: Implementation


def _specs(version: str, table: dict[str, Implementation]) -> dict[str, FunctionSpec]:
    return {name: FunctionSpec(name, version, impl) for name, impl in table.items()}


FUNCTIONS: Final[dict[str, FunctionSpec]] = {
    **_specs(
        V1,
        {
            "abs": numeric.f_abs,
            "accountid": message.f_accountid,
            "bitand": numeric.f_bitand,
            "bitor": numeric.f_bitor,
            "bitxor": numeric.f_bitxor,
            "bitnot": numeric.f_bitnot,
            "ceil": numeric.f_ceil,
            "chr": strings.f_chr,
            "clientid": message.f_clientid,
            "concat": strings.f_concat,
            "endswith": strings.f_endswith,
            "floor": numeric.f_floor,
            "get": message.f_get,
            "isnull": message.f_isnull,
            "lower": strings.f_lower,
            "lpad": strings.f_lpad,
            "ltrim": strings.f_ltrim,
            "mod": numeric.f_mod,
            "nanvl": numeric.f_nanvl,
            "newuuid": message.f_newuuid,
            "principal": message.f_principal,
            "rand": numeric.f_rand,
            "regexp_matches": strings.f_regexp_matches,
            "regexp_replace": strings.f_regexp_replace,
            "regexp_substr": strings.f_regexp_substr,
            "remainder": numeric.f_mod,
            "replace": strings.f_replace,
            "round": numeric.f_round,
            "rpad": strings.f_rpad,
            "rtrim": strings.f_rtrim,
            "sign": numeric.f_sign,
            "sql_version": message.f_sql_version,
            "startswith": strings.f_startswith,
            "substring": strings.f_substring,
            "timestamp": message.f_timestamp,
            "topic": message.f_topic,
            "traceid": message.f_traceid,
            "trim": strings.f_trim,
            "trunc": numeric.f_trunc,
            "upper": strings.f_upper,
            **numeric.DOUBLE_FUNCTIONS,
            **strings.HASHES,
        },
    ),
    **_specs(
        V2,
        {
            "decode": message.f_decode,
            "encode": message.f_encode,
            "get_mqtt_property": message.f_get_mqtt_property,
            "get_user_properties": message.f_get_user_properties,
            "indexof": strings.f_indexof,
            "isundefined": message.f_isundefined,
            "length": strings.f_length,
            "numbytes": strings.f_numbytes,
            "parse_time": timefmt.f_parse_time,
            "sourceip": message.f_sourceip,
            "time_to_epoch": timefmt.f_time_to_epoch,
            "transform": message.f_transform,
        },
    ),
}

_EXTERNAL = "it calls another AWS service, which localcore does not emulate inside SQL"
UNSUPPORTED: Final[dict[str, str]] = {
    "aws_lambda": _EXTERNAL,
    "get_dynamodb": _EXTERNAL,
    "get_secret": _EXTERNAL,
    "get_thing_shadow": _EXTERNAL,
    "get_registry_data": _EXTERNAL,
    "machinelearning_predict": _EXTERNAL,
}
