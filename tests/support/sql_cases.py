"""Conformance cases taken from AWS's IoT SQL reference pages.

Each case: the doc page it comes from, the SQL, the SQL version, the payload and the exact output payload
AWS documents (compact JSON; "" for a bare Undefined; NO_MATCH when the WHERE clause is not true).
Pages are under https://docs.aws.amazon.com/iot/latest/developerguide/.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

V1 = "2015-10-08"
V2 = "2016-03-23"
NO_MATCH = None

FUNCS = "iot-sql-functions.html"
OPS = "iot-sql-operators.html"
TYPES = "iot-sql-data-types.html"
SELECT = "iot-sql-select.html"


@dataclass(frozen=True)
class Case:
    page: str
    sql: str
    payload: str | bytes
    expected: str | bytes | None
    version: str | None = V1
    topic: str = "a/b"
    ctx: dict[str, Any] = field(default_factory=dict)


def value(
    page: str, expr: str, expected: str, version: str | None = V1, payload: str = "{}", **ctx: Any
) -> Case:
    """`SELECT VALUE <expr>`: the docs' `f(x) = y` examples."""
    return Case(page, f"SELECT VALUE {expr} FROM 'a/b'", payload, expected, version, ctx=ctx)


SENSORS = (
    '{"e":[{"n":"temperature","u":"Cel","t":1234,"v":22.5},'
    '{"n":"light","u":"lm","t":1235,"v":135},{"n":"acidity","u":"pH","t":1235,"v":7}]}'
)
TRANSFORM = '{"attributes":{"data1":1,"data2":2},"values":[{"a":3},{"b":4},{"c":5}]}'
TRANSFORM3 = (
    '{"data1":"example","data2":{"a":"first attribute","b":"second attribute","c":['
    '{"x":{"someInt":5,"someString":"hello"},"y":true},{"x":{"someInt":10,"someString":"world"},"y":false}]}}'
)
DEVICE = (
    '{"deviceid":"iot123","temp":54.98,"humidity":32.43,'
    '"coords":{"latitude":47.615694,"longitude":-122.3359976}}'
)
COLOR = '{"color":"red", "temperature":50}'

CASES: list[Case] = [
    # ---- iot-sql-select.html ----
    Case(SELECT, "SELECT * FROM 'a/b'", COLOR, '{"color":"red","temperature":50}'),
    Case(SELECT, "SELECT color FROM 'a/b'", COLOR, '{"color":"red"}'),
    Case(SELECT, "SELECT color AS my_color FROM 'a/b'", COLOR, '{"my_color":"red"}'),
    Case(
        SELECT,
        "SELECT color as my_color, temperature as fahrenheit FROM 'a/b'",
        COLOR,
        '{"my_color":"red","fahrenheit":50}',
    ),
    Case(SELECT, "SELECT *, 15 as speed FROM 'a/b'", COLOR, '{"color":"red","temperature":50,"speed":15}'),
    Case(SELECT, "SELECT VALUE color FROM 'a/b'", COLOR, '"red"'),
    Case(
        SELECT,
        "SELECT color.red as red_value FROM 'a/b'",
        '{"color":{"red":255,"green":0,"blue":0}, "temperature":50}',
        '{"red_value":255}',
    ),
    Case(
        SELECT,
        "SELECT (temperature - 32) * 5 / 9 AS celsius, upper(color) as my_color FROM 'a/b'",
        COLOR,
        '{"celsius":10,"my_color":"RED"}',
    ),
    # ---- iot-sql-reference.html / iot-sql-where.html ----
    Case(
        "iot-sql-reference.html",
        "SELECT color AS rgb FROM 'topic/subtopic' WHERE temperature > 50",
        '{"color":"red","temperature":100}',
        '{"rgb":"red"}',
        topic="topic/subtopic",
    ),
    Case(
        "iot-sql-where.html",
        "SELECT color AS rgb FROM 'topic/subtopic' WHERE temperature > 50",
        '{"color":"red","temperature":40}',
        NO_MATCH,
        topic="topic/subtopic",
    ),
    Case("iot-sql-where.html", "SELECT * FROM 'a/b' WHERE missing > 1", COLOR, NO_MATCH),
    Case("iot-sql-where.html", "SELECT * FROM 'a/b' WHERE color", COLOR, NO_MATCH),
    Case("iot-sql-where.html", "SELECT * FROM 'a/b' WHERE true", COLOR, '{"color":"red","temperature":50}'),
    # ---- iot-sql-json.html ----
    Case(
        "iot-sql-json.html",
        "SELECT temp, md5(deviceid) AS hashed_id FROM 'topic/#'",
        DEVICE,
        '{"temp":54.98,"hashed_id":"e37f81fb397e595c4aeb5645b8cbbbd1"}',
        topic="topic/x",
    ),
    # ---- iot-rule-sql-version.html ----
    Case(
        "iot-rule-sql-version.html",
        "SELECT VALUE arr FROM 'topic'",
        '{"a":{"b":"c"},"arr":[1,2,3,4]}',
        "[1,2,3,4]",
        V2,
        topic="topic",
    ),
    # ---- iot-sql-data-types.html ----
    Case(TYPES, "SELECT NULL AS n FROM 'a/b'", "{}", '{"n":null}'),
    Case(TYPES, "SELECT foo, bar FROM 'a/b'", '{"foo":null}', '{"foo":null}'),
    Case(TYPES, "SELECT VALUE bar FROM 'a/b'", '{"foo":null}', ""),
    value(TYPES, "abs('-5.123')", "5.123"),
    Case(TYPES, "SELECT VALUE n FROM 'a/b'", '{"n":10.0}', "10", V2),
    Case(TYPES, "SELECT VALUE n FROM 'a/b'", '{"n":10.0}', "10.0", V1),
    value(TYPES, "10.0 + 0", "10", V2),
    value(TYPES, "10.0 + 0", "10.0", V1),
    value(TYPES, "'0' + 0", '"00"'),
    value(TYPES, "floor('5E-12')", "0"),
    value(TYPES, "abs('1.2.3')", ""),
    # ---- iot-sql-operators.html ----
    value(OPS, "true AND true", "true"),
    value(OPS, "true AND 'FALSE'", "false"),
    value(OPS, "'true' AND 'True'", "true"),
    value(OPS, "true AND 1", ""),
    value(OPS, "false OR 'true'", "true"),
    value(OPS, "false OR false", "false"),
    value(OPS, "false OR 'yes'", ""),
    value(OPS, "NOT false", "true"),
    value(OPS, "NOT 'TRUE'", "false"),
    value(OPS, "NOT 5", ""),
    value(OPS, "3 > 2", "true"),
    value(OPS, "'10' > 9", "true"),
    value(OPS, "'10' >= '9.5'", "true"),
    value(OPS, "1.5 < 2", "true"),
    value(OPS, "2 <= 2.0", "true"),
    value(OPS, "'abc' > 1", ""),
    value(OPS, "true > false", ""),
    value(OPS, "5 = 5", "true"),
    value(OPS, "5 = 5.0", "true"),
    value(OPS, "'5' = 5", "false"),
    value(OPS, "'a' = 'a'", "true"),
    value(OPS, "'5' <> 5", "true"),
    value(OPS, "NULL <> NULL", "false"),
    value(OPS, "NULL = NULL", "true"),
    value(OPS, "missing = 1", ""),
    value(OPS, "missing <> 1", ""),
    value(OPS, "[1, 2] = [1, 2]", "true", V2),
    value(OPS, "[1, 2] = [2, 1]", "false", V2),
    value(OPS, "[1, 2] <> [2, 1]", "true", V2),
    value(OPS, "{'a': 1, 'b': 2} = {'b': 2, 'a': 1}", "true", V2),
    value(OPS, "'a' + 1", '"a1"'),
    value(OPS, "1 + 'a'", '"1a"'),
    value(OPS, "'a' + true", '"atrue"'),
    value(OPS, "1 + 2", "3"),
    value(OPS, "1 + 2.5", "3.5"),
    value(OPS, "true + 1", ""),
    value(OPS, "5 - 7", "-2"),
    value(OPS, "'5' - 3", "2"),
    value(OPS, "'5.5' - 'x'", ""),
    value(OPS, "1.5 * 2", "3.0"),
    value(OPS, "3 * 4", "12"),
    value(OPS, "'3' * '4'", "12"),
    value(OPS, "7 / 2", "3"),
    value(OPS, "-7 / 2", "-3"),
    value(OPS, "7.0 / 2", "3.5"),
    value(OPS, "1 / 0", ""),
    value(OPS, "7 % 3", "1"),
    value(OPS, "-7 % 3", "-1"),
    value(OPS, "'7' % 3", "1"),
    value(OPS, "[1] - 1", "", V2),
    # ---- iot-sql-case.html ----
    Case(
        "iot-sql-case.html",
        "SELECT CASE color WHEN 'green' THEN 'go' WHEN 'yellow' THEN 'caution' WHEN 'red' THEN 'stop' "
        "ELSE 'you are not at a stop light' END as instructions FROM 'a/b'",
        '{"color":"yellow"}',
        '{"instructions":"caution"}',
    ),
    Case(
        "iot-sql-case.html",
        "SELECT CASE color WHEN 'green' THEN 'go' ELSE 'other' END AS i FROM 'a/b'",
        '{"color":"blue"}',
        '{"i":"other"}',
    ),
    Case(
        "iot-sql-case.html",
        "SELECT CASE color WHEN 'green' THEN 'go' END AS i FROM 'a/b'",
        '{"color":"blue"}',
        "{}",
    ),
    Case("iot-sql-case.html", "SELECT CASE nope WHEN 'g' THEN 'go' ELSE 'x' END AS i FROM 'a/b'", "{}", "{}"),
    # ---- iot-sql-literals.html ----
    Case(
        "iot-sql-literals.html",
        "SELECT {'latitude': get(lat_long, 0),'longitude':get(lat_long, 1)} as lat_long"
        " FROM 'topic/subtopic'",
        '{"lat_long": [47.606,-122.332]}',
        '{"lat_long":{"latitude":47.606,"longitude":-122.332}}',
        V2,
        topic="topic/subtopic",
    ),
    Case(
        "iot-sql-literals.html",
        "SELECT [lat,long] as lat_long FROM 'topic/subtopic'",
        '{"lat": 47.606, "long": -122.332}',
        '{"lat_long":[47.606,-122.332]}',
        V2,
        topic="topic/subtopic",
    ),
    # ---- iot-sql-nested-queries.html ----
    Case(
        "iot-sql-nested-queries.html",
        "SELECT (SELECT VALUE n FROM e) as sensors FROM 'my/topic'",
        SENSORS,
        '{"sensors":["temperature","light","acidity"]}',
        V2,
        topic="my/topic",
    ),
    Case(
        "iot-sql-nested-queries.html",
        "SELECT (SELECT v FROM e WHERE n = 'temperature') as temperature FROM 'my/topic'",
        SENSORS,
        '{"temperature":[{"v":22.5}]}',
        V2,
        topic="my/topic",
    ),
    Case(
        "iot-sql-nested-queries.html",
        "SELECT get((SELECT v FROM e WHERE n = 'temperature'), 0).v as temperature FROM 'topic'",
        SENSORS,
        '{"temperature":22.5}',
        V2,
        topic="topic",
    ),
    # ---- iot-sql-functions.html ----
    value(FUNCS, "abs(-5)", "5"),
    value(FUNCS, "abs(-5.5)", "5.5"),
    value(FUNCS, "abs(true)", ""),
    value(FUNCS, "accountid()", '"123456789012"'),
    value(FUNCS, "acos(0)", "1.5707963267948966"),
    value(FUNCS, "asin(0)", "0.0"),
    value(FUNCS, "atan(0)", "0.0"),
    value(FUNCS, "atan2(1, 0)", "1.5707963267948966"),
    value(FUNCS, "acos(2)", ""),
    value(FUNCS, "bitand(13, 5)", "5"),
    value(FUNCS, "bitor(8, 5)", "13"),
    value(FUNCS, "bitxor(13, 5)", "8"),
    value(FUNCS, "bitand(13.9, '5')", "5"),
    value(FUNCS, "cast(true as Int)", "1"),
    value(FUNCS, "cast('5.7' as Int)", "5"),
    value(FUNCS, "cast(5.7 as Integer)", "5"),
    value(FUNCS, "cast(12 as String)", '"12"'),
    value(FUNCS, "cast(true as varchar)", '"true"'),
    value(FUNCS, "cast(0 as Boolean)", "false", V2),
    value(FUNCS, "cast(2.5 as Bool)", "true", V2),
    value(FUNCS, "cast('TRUE' as Boolean)", "true", V2),
    value(FUNCS, "cast(10.0 as Decimal)", "10", V2),
    value(FUNCS, "cast('2.5' as Decimal)", "2.5", V2),
    value(FUNCS, "cast([1] as Int)", "", V2),
    value(FUNCS, "cast(NULL as String)", ""),
    value(FUNCS, "ceil(1.2)", "2"),
    value(FUNCS, "ceil(-1.2)", "-1"),
    value(FUNCS, "chr(65)", '"A"'),
    value(FUNCS, "chr(49)", '"1"'),
    value(FUNCS, "chr(300)", ""),
    value(FUNCS, "clientid()", '"thing-1"', client_id="thing-1"),
    value(FUNCS, "clientid()", '"n/a"'),
    value(FUNCS, "concat()", ""),
    value(FUNCS, "concat([1, 2, 3], 4)", "[1,2,3,4]", V2),
    value(FUNCS, "concat([1, 2, 3], 'hello')", '[1,2,3,"hello"]', V2),
    value(FUNCS, "concat('con', 'cat')", '"concat"'),
    value(FUNCS, "concat(1, 'hello')", '"1hello"'),
    value(FUNCS, "concat('he','is','man')", '"heisman"'),
    value(FUNCS, "concat([1, 2, 3], 'hello', [4, 5, 6])", '[1,2,3,"hello",4,5,6]', V2),
    value(FUNCS, "cos(0)", "1", V2),
    value(FUNCS, "cosh(2.3)", "5.037220649268761"),
    Case(
        FUNCS,
        "SELECT decode(encoded_temp,\"base64\").temperature AS temp from 'topic/subtopic'",
        '{"encoded_temp": "eyAidGVtcGVyYXR1cmUiOiAzMyB9Cg=="}',
        '{"temp":33}',
        V2,
        topic="topic/subtopic",
    ),
    value(FUNCS, "decode('aGVsbG8=', 'base64')", '"hello"', V2),
    value(FUNCS, "decode('@@not base64', 'base64')", "null", V2),
    value(FUNCS, "encode('hello', 'base64')", '"aGVsbG8="', V2),
    value(FUNCS, "endswith('cat','at')", "true"),
    value(FUNCS, "endswith(NULL,'at')", ""),
    value(FUNCS, "endswith(123, 3)", "true"),
    value(FUNCS, "exp(1)", "2.718281828459045"),
    value(FUNCS, "floor(1.2)", "1"),
    value(FUNCS, "floor(-1.2)", "-2"),
    value(FUNCS, "get(['a', 'b', 'c'], 1)", '"b"', V2),
    value(FUNCS, "get({'a':'b'}, 'a')", '"b"', V2),
    value(FUNCS, "get('abc', 0)", '"a"'),
    value(FUNCS, "get(['a'], 5)", "", V2),
    value(FUNCS, "md5('hello')", '"5d41402abc4b2a76b9719d911017c592"'),
    value(FUNCS, "sha1('hello')", '"aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"'),
    value(FUNCS, "indexof('abcd', 'bc')", "1", V2),
    value(FUNCS, "isNull(5)", "false"),
    value(FUNCS, "isNull(Null)", "true"),
    value(FUNCS, "isUndefined(5)", "false", V2),
    value(FUNCS, "isUndefined(floor([1,2,3]))", "true", V2),
    value(FUNCS, "length('hi')", "2", V2),
    value(FUNCS, "length(false)", "5", V2),
    value(FUNCS, "log(100)", "2.0"),
    value(FUNCS, "ln(1)", "0.0"),
    value(FUNCS, "lower('HELLO')", '"hello"'),
    value(FUNCS, "lower(['HELLO'])", '"[\\"hello\\"]"', V2),
    value(FUNCS, "lpad('hello', 2)", '"  hello"'),
    value(FUNCS, "lpad(1, 3)", '"   1"'),
    value(FUNCS, "ltrim(' h i ')", '"h i "'),
    value(FUNCS, "mod(8, 3)", "2"),
    value(FUNCS, "nanvl(8, 3)", "8"),
    value(FUNCS, "nanvl(missing, 3)", "3"),
    value(FUNCS, "numbytes('hi')", "2", V2),
    value(FUNCS, "numbytes('€')", "3", V2),
    Case(
        FUNCS,
        'SELECT parse_time("yyyy.MM.dd G \'at\' HH:mm:ss z", 100000000, "America/Belize" ) as ts'
        " FROM 'A/B'",
        "{}",
        '{"ts":"1970.01.01 AD at 21:46:40 CST"}',
        V2,
        topic="A/B",
    ),
    value(FUNCS, "power(2, 5)", "32.0"),
    value(FUNCS, "regexp_matches('aaaa', 'a{2,}')", "true"),
    value(FUNCS, "regexp_matches('aaaa', 'b')", "false"),
    value(FUNCS, "regexp_matches('a', '(')", ""),
    value(FUNCS, "regexp_replace('abcd', 'bc', 'x')", '"axd"'),
    value(FUNCS, "regexp_replace('abcd', 'b(.*)d', '$1')", '"ac"'),
    value(FUNCS, "regexp_substr('hihihello', 'hi')", '"hi"'),
    value(FUNCS, "regexp_substr('hihihello', '(hi)*')", '"hihi"'),
    value(FUNCS, "remainder(8, 3)", "2"),
    value(FUNCS, "replace('abcd', 'bc', 'x')", '"axd"'),
    value(FUNCS, "replace('abcdabcd', 'b', 'x')", '"axcdaxcd"'),
    value(FUNCS, "rpad('hello', 2)", '"hello  "'),
    value(FUNCS, "rpad(1, 3)", '"1   "'),
    value(FUNCS, "Round(1.2)", "1"),
    value(FUNCS, "Round(1.5)", "2"),
    value(FUNCS, "Round(1.7)", "2"),
    value(FUNCS, "Round(-1.1)", "-1"),
    value(FUNCS, "Round(-1.5)", "-2"),
    value(FUNCS, "rtrim(' h i ')", '" h i"'),
    value(FUNCS, "sign(-7)", "-1"),
    value(FUNCS, "sign(0)", "0"),
    value(FUNCS, "sign(13)", "1"),
    value(FUNCS, "sin(0)", "0.0"),
    value(FUNCS, "sinh(2.3)", "4.936961805545957"),
    value(FUNCS, "substring('012345', 0)", '"012345"'),
    value(FUNCS, "substring('012345', 2)", '"2345"'),
    value(FUNCS, "substring('012345', 2.745)", '"2345"'),
    value(FUNCS, "substring(123, 2)", '"3"'),
    value(FUNCS, "substring('012345', -1)", '"012345"'),
    value(FUNCS, "substring(true, 1.2)", '"rue"'),
    value(FUNCS, "substring(false, -2.411E247)", '"false"'),
    value(FUNCS, "substring('012345', 1, 3)", '"12"'),
    value(FUNCS, "substring('012345', -50, 50)", '"012345"'),
    value(FUNCS, "substring('012345', 3, 1)", '""'),
    value(FUNCS, "sql_version()", '"2016-03-23"', V2),
    value(FUNCS, "sql_version()", '"2015-10-08"', None),
    value(FUNCS, "sqrt(9)", "3.0"),
    value(FUNCS, "startswith('ranger','ran')", "true"),
    value(FUNCS, "tan(3)", "-0.1425465430742778"),
    value(FUNCS, "tanh(2.3)", "0.9800963962661914"),
    value(
        FUNCS, "time_to_epoch('2020-04-03 09:45:18 UTC+01:00', 'yyyy-MM-dd HH:mm:ss VV')", "1585903518000", V2
    ),
    value(FUNCS, "time_to_epoch('18 December 2015', 'dd MMMM yyyy')", "1450396800000", V2),
    value(
        FUNCS,
        "time_to_epoch('2007-12-03 10:15:30.592 America/Los_Angeles', 'yyyy-MM-dd HH:mm:ss.SSS z')",
        "1196705730592",
        V2,
    ),
    value(FUNCS, "timestamp()", "1481825251155", timestamp_ms=1481825251155),
    Case(
        FUNCS,
        "SELECT topic() AS t, topic(1) AS t1 FROM 'things/#'",
        "{}",
        '{"t":"things/myThings/thingOne","t1":"things"}',
        topic="things/myThings/thingOne",
    ),
    Case(
        FUNCS,
        "SELECT topic() AS t, topic(3) AS t3, topic(9) AS t9 FROM 'Buildings/#'",
        "{}",
        '{"t":"Buildings/Building5/Floor2/Room201/Lights","t3":"Floor2"}',
        topic="$aws/rules/BuildingManager/Buildings/Building5/Floor2/Room201/Lights",
    ),
    value(
        FUNCS,
        "traceid()",
        '"12345678-1234-1234-1234-123456789012"',
        trace_id="12345678-1234-1234-1234-123456789012",
    ),
    value(FUNCS, "traceid()", ""),
    Case(
        FUNCS,
        "select value transform(\"enrichArray\", attributes, values) from 'A/B'",
        TRANSFORM,
        '[{"a":3,"data1":1,"data2":2},{"b":4,"data1":1,"data2":2},{"c":5,"data1":1,"data2":2}]',
        V2,
        topic="A/B",
    ),
    Case(
        FUNCS,
        'select value transform("enrichArray", {"key": attributes.data1}, values) from \'A/B\'',
        TRANSFORM,
        '[{"a":3,"key":1},{"b":4,"key":1},{"c":5,"key":1}]',
        V2,
        topic="A/B",
    ),
    Case(
        FUNCS,
        "select value transform('enrichArray', (select a, b"
        " from data2), (select value c from data2)) from 'A/B'",
        TRANSFORM3,
        '[{"x":{"someInt":5,"someString":"hello"},"y":true,"a":"first attribute","b":"second attribute"},'
        '{"x":{"someInt":10,"someString":"world"},"y":false,"a":"first attribute","b":"second attribute"}]',
        V2,
        topic="A/B",
    ),
    value(FUNCS, "Trim(' hi ')", '"hi"'),
    value(FUNCS, "trunc(2.3, 0)", "2"),
    value(FUNCS, "trunc(2.3123, 2)", "2.31"),
    value(FUNCS, "trunc(2.888, 2)", "2.88"),
    value(FUNCS, "trunc(2.00, 5)", "2"),
    value(FUNCS, "upper('hello')", '"HELLO"'),
    value(FUNCS, "upper(['hello'])", '"[\\"HELLO\\"]"', V2),
    value(
        FUNCS,
        "newuuid()",
        '"123a4567-b89c-12d3-e456-789012345000"',
        new_uuid=lambda: "123a4567-b89c-12d3-e456-789012345000",
    ),
    value(
        FUNCS,
        "principal()",
        '"ABCD1EFG3HIJK2LMNOP5:my-session-name"',
        principal="ABCD1EFG3HIJK2LMNOP5:my-session-name",
    ),
    value(FUNCS, "sourceip()", '"10.0.0.7"', V2, source_ip="10.0.0.7"),
    Case(
        FUNCS,
        "SELECT get_mqtt_property('content_type') AS c, get_mqtt_property('format_indicator') AS f, "
        "get_mqtt_property('response_topic') AS r, get_mqtt_property('correlation_data') AS d FROM 'a/b'",
        "{}",
        '{"c":"text/plain","f":"UTF8_DATA","r":"r/t","d":"Y2lk"}',
        V2,
        ctx={
            "content_type": "text/plain",
            "payload_format_indicator": 1,
            "response_topic": "r/t",
            "correlation_data": b"cid",
        },
    ),
    Case(
        FUNCS,
        "SELECT get_mqtt_property('format_indicator') AS f, get_mqtt_property('content_type') AS c"
        " FROM 'a/b'",
        "{}",
        '{"f":"UNSPECIFIED_BYTES"}',
        V2,
    ),
    Case(
        FUNCS,
        "SELECT get_user_properties('k') AS k, get_user_properties() AS all FROM 'a/b'",
        "{}",
        '{"k":["v1","v2"],"all":[{"k":"v1"},{"o":"ov"},{"k":"v2"}]}',
        V2,
        ctx={"user_properties": (("k", "v1"), ("o", "ov"), ("k", "v2"))},
    ),
    # ---- binary-payloads.html ----
    Case("binary-payloads.html", "SELECT * FROM 'a/b'", b"\x00\x01\xfe\xff", b"\x00\x01\xfe\xff"),
    Case(
        "binary-payloads.html",
        "SELECT * FROM 'a/b' WHERE timestamp() % 12 = 0",
        b"\x00\xff",
        b"\x00\xff",
        ctx={"timestamp_ms": 1200},
    ),
    Case(
        "binary-payloads.html", "SELECT * FROM 'a/b' WHERE device_type = 'thermostat'", b"\x00\xff", NO_MATCH
    ),
    Case(
        "binary-payloads.html",
        "SELECT encode(*, 'base64') AS data, timestamp() AS ts FROM 'a/b'",
        b"\x00\x01\xff",
        '{"data":"AAH/","ts":7}',
        V2,
        ctx={"timestamp_ms": 7},
    ),
    Case(
        "binary-payloads.html",
        "SELECT encode(*, 'base64') AS data FROM 'my_topic'",
        '{"a": 1}',
        '{"data":"eyJhIjogMX0="}',
        V2,
        topic="my_topic",
    ),
    Case(
        "binary-payloads.html",
        "SELECT VALUE decode(encode(*, 'base64'), 'base64') > 50 FROM 'a/b'",
        b"80",
        "true",
        V2,
    ),
    Case("binary-payloads.html", "SELECT temperature FROM 'a/b'", b"not json", "{}"),
    # ---- iot-sql-set.html ----
    Case(
        "iot-sql-set.html",
        "SET @c = (temperature - 32) * 5 / 9 SELECT @c AS celsius FROM 'a/b' WHERE @c > 5",
        COLOR,
        '{"celsius":10}',
    ),
    Case("iot-sql-set.html", "SET @a = 2, @b = @a * 3 SELECT VALUE @b FROM 'a/b'", "{}", "6"),
]

TEMPLATE_PAGE = "iot-substitution-templates.html"


@dataclass(frozen=True)
class TemplateCase:
    page: str
    template: str
    topic: str
    payload: str
    expected: str
    version: str | None = V1
    ctx: dict[str, Any] = field(default_factory=dict)


TEMPLATE_CASES: list[TemplateCase] = [
    TemplateCase(TEMPLATE_PAGE, "${topic()}/republish", "my/iot/topic", DEVICE, "my/iot/topic/republish"),
    TemplateCase(
        "republish-rule-action.html",
        "$$aws/things/${topic(2)}/shadow/update",
        "dev/t1",
        "{}",
        "$aws/things/t1/shadow/update",
    ),
    TemplateCase(TEMPLATE_PAGE, "device/${deviceid}/temp/${temp}", "a", DEVICE, "device/iot123/temp/54.98"),
    TemplateCase(TEMPLATE_PAGE, "x/${missing}/y", "a", "{}", "x//y"),
    TemplateCase(
        FUNCS,
        '${parse_time("yyyy", timestamp(), "UTC")}',
        "A/B",
        "{}",
        "2017",
        V2,
        ctx={"timestamp_ms": 1497028786000},
    ),
    TemplateCase(
        TEMPLATE_PAGE,
        "chat/${topic(2)}/response/${get({'r': rid}, 'r')}",
        "chat/u1/prompt",
        '{"rid":"r-9"}',
        "chat/u1/response/r-9",
        V2,
    ),
    TemplateCase(TEMPLATE_PAGE, "cost ${price}$ and ${price * 2}", "a", '{"price":1.5}', "cost 1.5$ and 3.0"),
]
