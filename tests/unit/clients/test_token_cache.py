"""The saved sign-in file: where it lives (XDG Base Directory spec,
https://specifications.freedesktop.org/basedir-spec/latest/), its modes, its keys, and bad files."""

from __future__ import annotations

import stat
from pathlib import Path

from clients.token_cache import TokenCache, config_dir


def test_config_dir_follows_xdg_config_home_and_ignores_a_relative_one(tmp_path: Path) -> None:
    """$XDG_CONFIG_HOME when set to an absolute path ("If ... not absolute ... ignored"), else ~/.config."""
    assert config_dir({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "iotstream"
    assert config_dir({"XDG_CONFIG_HOME": "relative/dir"}) == Path.home() / ".config" / "iotstream"
    assert config_dir({}) == Path.home() / ".config" / "iotstream"


def test_tokens_are_keyed_by_client_and_user_and_kept_private(tmp_path: Path) -> None:
    """Keys are app client id + user name; the file is 0600 even under a permissive umask or over an old file."""
    path = tmp_path / "iotstream" / "tokens.json"
    path.parent.mkdir()
    path.write_text("{}")
    path.chmod(0o644)
    cache = TokenCache(path)
    cache.save("client-a", "alice", "r1")
    cache.save("client-b", "alice", "r2")
    assert cache.refresh_token("client-a", "alice") == "r1"
    assert cache.refresh_token("client-b", "alice") == "r2"
    assert cache.refresh_token("client-a", "bob") is None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    cache.forget("client-a", "alice")
    assert cache.refresh_token("client-a", "alice") is None
    assert cache.refresh_token("client-b", "alice") == "r2"


def test_an_unreadable_cache_is_treated_as_empty_and_replaced(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text("not json")
    cache = TokenCache(path)
    assert cache.refresh_token("c", "u") is None
    cache.save("c", "u", "r")
    assert TokenCache(path).refresh_token("c", "u") == "r"
