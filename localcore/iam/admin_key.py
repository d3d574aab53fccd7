"""The local admin's access key: made once per state dir, stored 0600, never a constant in the code.

The admin may do everything on localcore's AWS APIs (boto3 from tests and tools). A fixed, published key
would let anyone on the machine do the same, so the secret is random, created on the first `iotstream up`
with a given `--state-dir` and kept there (`<state-dir>/admin-credentials.json`) for the next runs.
"""

from __future__ import annotations

import json
import logging
import stat
from dataclasses import dataclass
from pathlib import Path

from localcore.errors import LocalcoreError
from localcore.iam.private_files import PRIVATE_MODE, write_private_json
from localcore.identity.credentials import new_access_key_id, new_secret_key

log = logging.getLogger(__name__)
ADMIN_CREDENTIALS_FILE = "admin-credentials.json"
ADMIN_PRINCIPAL = "admin"


class AdminCredentialsError(LocalcoreError):
    """The state dir's admin credentials file cannot be used."""


@dataclass(frozen=True)
class AdminCredentials:
    access_key_id: str
    secret_access_key: str


def admin_credentials(state_dir: Path) -> AdminCredentials:
    """The state dir's admin key, created (0600) when it has none; a readable-by-others file is made private."""
    path = state_dir / ADMIN_CREDENTIALS_FILE
    if not path.exists():
        credentials = AdminCredentials(new_access_key_id("AKIA"), new_secret_key())
        write_private_json(
            path,
            {"AccessKeyId": credentials.access_key_id, "SecretAccessKey": credentials.secret_access_key},
        )
        return credentials
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        log.warning("%s was readable by others; now 0600", path)
        path.chmod(PRIVATE_MODE)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return AdminCredentials(str(document["AccessKeyId"]), str(document["SecretAccessKey"]))
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise AdminCredentialsError(
            f"{path} is not a valid admin credentials file ({error.__class__.__name__}); delete it and a new "
            "key is made at the next start"
        ) from None
