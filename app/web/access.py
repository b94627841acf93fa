"""Who may reach the web app: loopback needs no login, any other address needs one."""

from __future__ import annotations

import ipaddress

from app.settings import SettingsError

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost; false for 0.0.0.0, :: and every other address or name."""
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def parse_auth(value: str | None) -> list[tuple[str, str]]:
    """`user:pass[,user2:pass2]` into pairs; an empty value means no login."""
    if value is None or not value.strip():
        return []
    pairs = []
    for entry in value.split(","):
        user, sep, password = entry.strip().partition(":")
        if not sep or not user.strip() or not password:
            raise SettingsError("The login must be written as user:password (several separated by commas).")
        pairs.append((user.strip(), password))
    return pairs


def login_for(host: str, auth: str | None) -> list[tuple[str, str]]:
    """The logins to enforce for this bind address; refuses an address off loopback without any."""
    pairs = parse_auth(auth)
    if not pairs and not is_loopback(host):
        raise SettingsError(
            f"Refusing to serve on {host} without a login: anyone on the network could use it. "
            "Pass --auth user:password (or set MOCKINTERVIEW_AUTH), or bind 127.0.0.1."
        )
    return pairs
