"""The local admin key of a state dir: random, made once, kept private (0600), reused by the next start."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from localcore.iam.admin_key import ADMIN_CREDENTIALS_FILE, AdminCredentialsError, admin_credentials


def test_made_once_private_and_reused(tmp_path: Path) -> None:
    """The first start makes the key (0600); the next start with the same state dir reads the same key; another
    state dir gets another one."""
    first = admin_credentials(tmp_path / "a")
    assert stat.S_IMODE((tmp_path / "a" / ADMIN_CREDENTIALS_FILE).stat().st_mode) == 0o600
    assert admin_credentials(tmp_path / "a") == first
    assert admin_credentials(tmp_path / "b").secret_access_key != first.secret_access_key


def test_a_file_readable_by_others_is_made_private(tmp_path: Path) -> None:
    admin_credentials(tmp_path)
    path = tmp_path / ADMIN_CREDENTIALS_FILE
    path.chmod(0o644)
    admin_credentials(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_damaged_file_is_one_clear_error(tmp_path: Path) -> None:
    """A damaged file says which file and what to do, in one line (never a traceback at the user)."""
    (tmp_path / ADMIN_CREDENTIALS_FILE).write_text("{not json")
    with pytest.raises(AdminCredentialsError) as error:
        admin_credentials(tmp_path)
    assert str(error.value).count("\n") == 0 and "delete it" in str(error.value)
