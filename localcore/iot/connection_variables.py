"""Policy variables a device connection resolves: its X.509 certificate's and its thing's.

Certificate variables (https://docs.aws.amazon.com/iot/latest/developerguide/cert-policy-variables.html and
https://docs.aws.amazon.com/iot/latest/developerguide/use-policy-variables.html):
- `iot:Certificate.Subject.<Attribute>` and `iot:Certificate.Issuer.<Attribute>` for the thirteen attributes
  listed (no Locality); `...AlternativeName.<Kind>` for RFC822Name, DNSName, DirectoryName (written
  `cn=...,ou=...`, lower-case types), UniformResourceIdentifier, IPAddress; `iot:Certificate.SerialNumber` in
  decimal. A multi-valued attribute gives its first value, `.1` the second and so on, and `.List` all of them
  (a multi-valued condition key); at most five values count.
- A value holding a wildcard character (`*`, `$`, `+`, `?`, `#`) or longer than 1024 characters is not
  substituted: the variable stays unresolved, so whatever uses it matches nothing. The special characters
  `,` `"` `\\` `=` `<` `>` `;` are prefixed with a backslash, as the page's example shows
  (`O=Amazon.com Inc.` becomes `O\\=Amazon.com Inc.`).
- `iot:Certificate.AvailableKeys` lists the names of the variables that have a value.

Thing variables (https://docs.aws.amazon.com/iot/latest/developerguide/thing-policy-variables.html):
`iot:Connection.Thing.ThingName`, `iot:Connection.Thing.Attributes[name]` and
`iot:Connection.Thing.IsAttached` (`true`/`false`) for the thing `ThingStore.connection_thing` finds.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.x509.oid import NameOID

from iot_policies.evaluator import THING_NAME
from localcore.iot.things import Thing

NAME_ATTRIBUTES = {
    "DistinguishedNameQualifier": NameOID.DN_QUALIFIER,
    "Country": NameOID.COUNTRY_NAME,
    "Organization": NameOID.ORGANIZATION_NAME,
    "OrganizationalUnit": NameOID.ORGANIZATIONAL_UNIT_NAME,
    "State": NameOID.STATE_OR_PROVINCE_NAME,
    "CommonName": NameOID.COMMON_NAME,
    "SerialNumber": NameOID.SERIAL_NUMBER,
    "Title": NameOID.TITLE,
    "Surname": NameOID.SURNAME,
    "GivenName": NameOID.GIVEN_NAME,
    "Initials": NameOID.INITIALS,
    "Pseudonym": NameOID.PSEUDONYM,
    "GenerationQualifier": NameOID.GENERATION_QUALIFIER,
}
ALTERNATIVE_NAMES: dict[str, type[x509.GeneralName]] = {
    "RFC822Name": x509.RFC822Name,
    "DNSName": x509.DNSName,
    "DirectoryName": x509.DirectoryName,
    "UniformResourceIdentifier": x509.UniformResourceIdentifier,
    "IPAddress": x509.IPAddress,
}
MAX_VALUES = 5  # "Certificate attributes that contain arrays are limited to five items"
MAX_LENGTH = 1024
WILDCARDS = frozenset("*$+?#")
SPECIAL = frozenset(',"\\=<>;')  # `+` is listed too, but a value with `+` is never substituted (a wildcard)
IS_ATTACHED = "iot:Connection.Thing.IsAttached"
AVAILABLE_KEYS = "iot:Certificate.AvailableKeys"


@dataclass
class Variables:
    """Single-valued variables and multi-valued condition keys, as `RequestContext` takes them."""

    values: dict[str, str] = field(default_factory=dict)
    lists: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def add(self, name: str, raw_values: list[str], escape: bool = True) -> None:
        """`name` = the first value, `name.1` the second, ..., `name.List` all (unusable values skipped).
        `escape=False` for values that are escaped already (a directory name's RFC 4514 text)."""
        usable: list[str] = []
        for index, value in enumerate(raw_values[:MAX_VALUES]):
            if len(value) <= MAX_LENGTH and not WILDCARDS.intersection(value):
                text = _escape(value) if escape else value
                self.values[name if index == 0 else f"{name}.{index}"] = text
                usable.append(text)
        if usable:
            self.lists[f"{name}.List"] = tuple(usable)


def certificate_variables(certificate: x509.Certificate) -> Variables:
    """Every `iot:Certificate.*` variable `certificate` resolves."""
    variables = Variables()
    for part, name in (("Subject", certificate.subject), ("Issuer", certificate.issuer)):
        for attribute, oid in NAME_ATTRIBUTES.items():
            values = [str(a.value) for a in name.get_attributes_for_oid(oid)]
            if values:
                variables.add(f"iot:Certificate.{part}.{attribute}", values)
    for part, general_names in _alternative_names(certificate).items():
        for kind, general_type in ALTERNATIVE_NAMES.items():
            values = [_general_name(name.value) for name in general_names if isinstance(name, general_type)]
            if values:
                escape = kind != "DirectoryName"
                variables.add(f"iot:Certificate.{part}.AlternativeName.{kind}", values, escape)
    variables.values["iot:Certificate.SerialNumber"] = str(certificate.serial_number)
    variables.lists[AVAILABLE_KEYS] = tuple(sorted(variables.values))
    return variables


def thing_variables(thing: Thing | None) -> dict[str, str]:
    """The connection's thing variables; only `IsAttached` (false) when no attached thing is found."""
    if thing is None:
        return {IS_ATTACHED: "false"}
    values = {IS_ATTACHED: "true", THING_NAME: thing.name}
    values.update(
        {f"iot:Connection.Thing.Attributes[{key}]": value for key, value in thing.attributes.items()}
    )
    return values


def _alternative_names(certificate: x509.Certificate) -> dict[str, list[x509.GeneralName]]:
    """The subject's and the issuer's alternative names (extensions a certificate may lack)."""
    extensions = certificate.extensions
    found: dict[str, list[x509.GeneralName]] = {}
    with contextlib.suppress(x509.ExtensionNotFound):
        found["Subject"] = list(extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    with contextlib.suppress(x509.ExtensionNotFound):
        found["Issuer"] = list(extensions.get_extension_for_class(x509.IssuerAlternativeName).value)
    return found


def _general_name(value: object) -> str:
    """DirectoryName as `cn=...,ou=...,c=...` (lower-case attribute types, most specific first); others as text."""
    if isinstance(value, x509.Name):
        return ",".join(_lower_type(rdn.rfc4514_string()) for rdn in reversed(value.rdns))
    return str(value)


def _lower_type(rdn: str) -> str:
    """`CN=a+O=b` → `cn=a+o=b` (attribute types only; values keep their case and RFC 4514 escapes)."""
    return "+".join(
        f"{kind.lower()}={value}" for kind, _, value in (part.partition("=") for part in rdn.split("+"))
    )


def _escape(value: str) -> str:
    return "".join(f"\\{char}" if char in SPECIAL else char for char in value)
