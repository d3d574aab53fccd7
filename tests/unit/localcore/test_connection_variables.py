"""Certificate and thing policy variables, checked against AWS's own example.

The certificate below is the one https://docs.aws.amazon.com/iot/latest/developerguide/use-policy-variables.html
prints ("X.509 certificate example"); the expected values are that page's tables ("Using certificate issuer /
subject / alternate name / other attributes as certificate policy variables"). The limitations (wildcards,
five array items, 1024 characters, special characters) are its "X.509 Certificate policy variable
limitations"; the thing variables are https://docs.aws.amazon.com/iot/latest/developerguide/thing-policy-variables.html.
"""

from __future__ import annotations

import datetime
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from iot_policies.document import parse_policy
from iot_policies.evaluator import RequestContext, evaluate
from localcore.iot.connection_variables import certificate_variables, thing_variables
from localcore.iot.things import Thing

N = NameOID


def name(*pairs: tuple[x509.ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in pairs])


def certificate(
    subject: x509.Name,
    issuer: x509.Name | None = None,
    serial: int = 1,
    extensions: tuple[x509.ExtensionType, ...] = (),
) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer or subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
    )
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(key, hashes.SHA256())


AWS_EXAMPLE_ISSUER = name(
    (N.COUNTRY_NAME, "US"),
    (N.ORGANIZATION_NAME, "IoT Devices"),
    (N.ORGANIZATIONAL_UNIT_NAME, "SmartHome"),
    (N.STATE_OR_PROVINCE_NAME, "WA"),
    (N.COMMON_NAME, "IoT Devices Primary CA"),
    (N.GIVEN_NAME, "Primary CA1"),
    (N.INITIALS, "XY"),
    (N.DN_QUALIFIER, "Example corp"),
    (N.SURNAME, "SmartHome"),
    (N.TITLE, "CA1"),
    (N.PSEUDONYM, "Primary_CA"),
    (N.GENERATION_QUALIFIER, "2"),
    (N.SERIAL_NUMBER, "987"),
)
AWS_EXAMPLE_SUBJECT = name(
    (N.COUNTRY_NAME, "US"),
    (N.ORGANIZATION_NAME, "IoT Devices"),
    (N.ORGANIZATIONAL_UNIT_NAME, "LightBulb"),
    (N.STATE_OR_PROVINCE_NAME, "NY"),
    (N.COMMON_NAME, "LightBulb Device Cert"),
    (N.GIVEN_NAME, "Bulb"),
    (N.INITIALS, "ZZ"),
    (N.DN_QUALIFIER, "Bulb001"),
    (N.SURNAME, "Multi Color"),
    (N.TITLE, "RGB"),
    (N.PSEUDONYM, "RGB Device"),
    (N.GENERATION_QUALIFIER, "4"),
    (N.SERIAL_NUMBER, "123"),
)


def alternative_names(dns: str, ip: str, uri: str, email: str, directory: str) -> list[x509.GeneralName]:
    """One name of each kind; `directory` as the page prints it, `/C=US/O=.../CN=...`."""
    oids = {
        "C": N.COUNTRY_NAME,
        "O": N.ORGANIZATION_NAME,
        "OU": N.ORGANIZATIONAL_UNIT_NAME,
        "CN": N.COMMON_NAME,
    }
    pairs = [part.split("=", 1) for part in directory.strip("/").split("/")]
    return [
        x509.DNSName(dns),
        x509.IPAddress(ipaddress.ip_address(ip)),
        x509.UniformResourceIdentifier(uri),
        x509.RFC822Name(email),
        x509.DirectoryName(name(*((oids[key], value) for key, value in pairs))),
    ]


def aws_example() -> x509.Certificate:
    subject_alt = alternative_names(
        "example.com",
        "1.2.3.4",
        "ResourceIdentifier001",
        "device1@example.com",
        "/C=US/O=IoT/OU=SmartHome/CN=LightBulbCert",
    )
    issuer_alt = alternative_names(
        "issuer.com",
        "5.6.7.8",
        "PrimarySignerCA",
        "primary@issuer.com",
        "/C=US/O=Issuer/OU=IoT Devices/CN=Primary Issuer CA",
    )
    extensions = (x509.SubjectAlternativeName(subject_alt), x509.IssuerAlternativeName(issuer_alt))
    return certificate(AWS_EXAMPLE_SUBJECT, AWS_EXAMPLE_ISSUER, 0x921285CBB7A5E086, extensions)


def test_aws_example_certificate_resolves_the_documented_values() -> None:
    """Every row of the page's tables: issuer and subject attributes, both alternative names (DirectoryName
    written `cn=…,ou=…,o=…,c=…`), and the serial number 92:12:85:cb:b7:a5:e0:86 as the decimal
    10525622389124227206 ("Certificate SerialNumber format")."""
    values = certificate_variables(aws_example()).values
    expected = {
        "iot:Certificate.Issuer.Country": "US",
        "iot:Certificate.Issuer.Organization": "IoT Devices",
        "iot:Certificate.Issuer.OrganizationalUnit": "SmartHome",
        "iot:Certificate.Issuer.State": "WA",
        "iot:Certificate.Issuer.CommonName": "IoT Devices Primary CA",
        "iot:Certificate.Issuer.GivenName": "Primary CA1",
        "iot:Certificate.Issuer.Initials": "XY",
        "iot:Certificate.Issuer.DistinguishedNameQualifier": "Example corp",
        "iot:Certificate.Issuer.Surname": "SmartHome",
        "iot:Certificate.Issuer.Title": "CA1",
        "iot:Certificate.Issuer.Pseudonym": "Primary_CA",
        "iot:Certificate.Issuer.GenerationQualifier": "2",
        "iot:Certificate.Issuer.SerialNumber": "987",
        "iot:Certificate.Subject.Country": "US",
        "iot:Certificate.Subject.Organization": "IoT Devices",
        "iot:Certificate.Subject.State": "NY",
        "iot:Certificate.Subject.CommonName": "LightBulb Device Cert",
        "iot:Certificate.Subject.GivenName": "Bulb",
        "iot:Certificate.Subject.Initials": "ZZ",
        "iot:Certificate.Subject.DistinguishedNameQualifier": "Bulb001",
        "iot:Certificate.Subject.Surname": "Multi Color",
        "iot:Certificate.Subject.Title": "RGB",
        "iot:Certificate.Subject.Pseudonym": "RGB Device",
        "iot:Certificate.Subject.GenerationQualifier": "4",
        "iot:Certificate.Subject.SerialNumber": "123",
        "iot:Certificate.Issuer.AlternativeName.DNSName": "issuer.com",
        "iot:Certificate.Issuer.AlternativeName.IPAddress": "5.6.7.8",
        "iot:Certificate.Issuer.AlternativeName.UniformResourceIdentifier": "PrimarySignerCA",
        "iot:Certificate.Issuer.AlternativeName.RFC822Name": "primary@issuer.com",
        "iot:Certificate.Issuer.AlternativeName.DirectoryName": "cn=Primary Issuer CA,ou=IoT Devices,o=Issuer,c=US",
        "iot:Certificate.Subject.AlternativeName.DNSName": "example.com",
        "iot:Certificate.Subject.AlternativeName.IPAddress": "1.2.3.4",
        "iot:Certificate.Subject.AlternativeName.UniformResourceIdentifier": "ResourceIdentifier001",
        "iot:Certificate.Subject.AlternativeName.RFC822Name": "device1@example.com",
        "iot:Certificate.Subject.AlternativeName.DirectoryName": "cn=LightBulbCert,ou=SmartHome,o=IoT,c=US",
        "iot:Certificate.SerialNumber": "10525622389124227206",
    }
    assert {key: values.get(key) for key in expected} == expected


def test_multi_valued_attributes_first_indexed_and_list() -> None:
    """A multi-valued attribute: the variable is its first value, `.1` the second, `.List` all of them (used
    with ForAllValues/ForAnyValue, cert-policy-variables.html); at most five items count."""
    countries = [(N.COUNTRY_NAME, code) for code in ("US", "DE", "FR", "JP", "BR", "IN")]
    variables = certificate_variables(certificate(name(*countries, (N.COMMON_NAME, "multi"))))
    assert variables.values["iot:Certificate.Subject.Country"] == "US"
    assert variables.values["iot:Certificate.Subject.Country.1"] == "DE"
    assert "iot:Certificate.Subject.Country.5" not in variables.values  # the sixth is ignored
    assert variables.lists["iot:Certificate.Subject.Country.List"] == ("US", "DE", "FR", "JP", "BR")
    assert "iot:Certificate.Subject.CommonName" in variables.lists["iot:Certificate.AvailableKeys"]
    policy = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "iot:Publish",
                    "Resource": "*",
                    "Condition": {
                        "ForAnyValue:StringEquals": {"iot:Certificate.Subject.Country.List": ["FR"]}
                    },
                }
            ],
        },
        "country",
    )
    context = RequestContext(variables=variables.values, multi_values=variables.lists)
    assert evaluate([policy], "iot:Publish", "arn:aws:iot:us-east-1:1:topic/t", context).allowed


def test_wildcards_long_values_and_special_characters() -> None:
    """A value with `*`, `$`, `+`, `?` or `#`, or over 1024 characters, is not substituted (the variable stays
    unresolved and matches nothing); `,` `"` `\\` `=` `<` `>` `;` get a backslash (the page's example:
    `O=Amazon.com Inc.` becomes `O\\=Amazon.com Inc.`)."""
    subject = name(
        (N.COMMON_NAME, "sensor+1"),
        (N.ORGANIZATION_NAME, "a" * 1025),
        (N.ORGANIZATIONAL_UNIT_NAME, "Amazon Web Services O=Amazon.com Inc. L=Seattle"),
        (N.TITLE, 'x,y;"z"<>\\'),
    )
    values = certificate_variables(certificate(subject)).values
    assert "iot:Certificate.Subject.CommonName" not in values
    assert "iot:Certificate.Subject.Organization" not in values
    assert (
        values["iot:Certificate.Subject.OrganizationalUnit"]
        == "Amazon Web Services O\\=Amazon.com Inc. L\\=Seattle"
    )
    assert values["iot:Certificate.Subject.Title"] == 'x\\,y\\;\\"z\\"\\<\\>\\\\'
    document = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "iot:Connect",
                    "Resource": "arn:aws:iot:*:*:client/${iot:Certificate.Subject.CommonName}",
                }
            ],
        },
        "by-cn",
    )
    context = RequestContext(variables=values)
    assert not evaluate([document], "iot:Connect", "arn:aws:iot:us-east-1:1:client/sensor+1", context).allowed


def test_thing_variables() -> None:
    """ThingName and Attributes[name] for the connection's thing, IsAttached true; without a thing only
    IsAttached, false (thing-policy-variables.html)."""
    thing = Thing("lamp-1", "id", "arn:aws:iot:us-east-1:1:thing/lamp-1", {"room": "kitchen"})
    assert thing_variables(thing) == {
        "iot:Connection.Thing.IsAttached": "true",
        "iot:Connection.Thing.ThingName": "lamp-1",
        "iot:Connection.Thing.Attributes[room]": "kitchen",
    }
    assert thing_variables(None) == {"iot:Connection.Thing.IsAttached": "false"}
