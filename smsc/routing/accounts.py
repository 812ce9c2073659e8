"""Account rules and security: logins (system_id, password, generated passwords), sub-accounts,
password hashes, allowed addresses, bind types and lockout.

A system_id is 1 to 15 printable characters without spaces, a password 1 to 8 characters (the
SMPP 3.4 limits: 16 and 9 octets with the closing NUL). A generated password is 8 letters and
digits (never a "-" first: it is pasted on command lines; no look-alikes such as l, 1, O, 0).
A sub-account's parent is not itself a sub-account; a sub-account has its parent's currency and
no credit of its own (it draws on its parent's).

Passwords are stored as ``scrypt$<n>$<r>$<p>$<salt, base64>$<hash, base64>`` (hashlib.scrypt,
16 random bytes of salt, 32 bytes of hash). The default cost (n=2048, r=8, p=1, 2 MiB of memory)
makes one verification take a few milliseconds: cheap for a bind, slow for guessing. Stored
hashes carry their own parameters, so the cost can be raised later (``needs_rehash``).

Bind decisions (:func:`bind_status`) happen in this order, each refusal hiding what comes after.
Rules 1, 3 and 4 need no password (:func:`status_before_password`), so a locked bind costs
no hashing; the password is checked apart from the store (:func:`password_matches`):

1. the connecting address is locked (unknown system_ids) -> ESME_RBINDFAIL, whatever the password
2. unknown system_id -> ESME_RINVSYSID (a dummy verification keeps the timing alike)
3. the account is locked, or the account from this address -> ESME_RBINDFAIL, whatever the
   password (a lock reveals nothing)
4. the address is not in the account's allowed CIDR blocks -> ESME_RBINDFAIL
5. wrong password -> ESME_RINVPASWD
6. the account is disabled -> SMSC_RACCOUNTDISABLED (0x408)
7. the bind type is not allowed for the account -> ESME_RBINDFAIL

Which failures count toward which lock, and for how long, is smsc.core.binds' to decide.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import os
import secrets
from functools import lru_cache
from typing import Final

from smsc.pdu.constants import CommandStatus
from smsc.store.records import Account, BindLocks, BindType, LockKind

__all__ = [
    "address_allowed",
    "bind_status",
    "bind_type_allowed",
    "check_cidrs",
    "check_parent",
    "check_password",
    "check_sub_account_credit",
    "check_system_id",
    "dummy_verify",
    "hash_password",
    "lock_in_force",
    "needs_rehash",
    "new_password",
    "password_matches",
    "status_after_password",
    "status_before_password",
    "sub_account_currency",
    "verify_password",
]

SCRYPT_N: Final = 2**11
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1
SALT_BYTES: Final = 16
HASH_BYTES: Final = 32
# Limits for parameters read back from a stored hash, so a corrupted row cannot make one bind
# take seconds or gigabytes.
MAX_N: Final = 2**17
MAX_R: Final = 16
MAX_P: Final = 4
MAX_PASSWORD: Final = 1024  # characters; SMPP passwords are at most 8
_MAXMEM: Final = 256 * 1024 * 1024
NETWORK_CACHE: Final = 4096

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

SYSTEM_ID_MAX: Final = 15  # characters (SMPP system_id: 16 octets with its NUL)
PASSWORD_MAX: Final = 8  # characters (SMPP password: 9 octets with its NUL)
GENERATED_PASSWORD: Final = 8  # characters of a generated password
# Letters and digits only, without look-alikes: a generated password never starts with "-" and
# reads the same in every SMPP client.
PASSWORD_ALPHABET: Final = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


# --- logins and sub-accounts ------------------------------------------------------------------


def check_system_id(system_id: str) -> str:
    """``system_id`` if it can be an account's login, else ValueError saying what it must be."""
    if (not 1 <= len(system_id) <= SYSTEM_ID_MAX or not system_id.isprintable()
            or " " in system_id):
        raise ValueError(f"must be 1 to {SYSTEM_ID_MAX} printable characters without spaces "
                         "(SMPP system_id)")
    return system_id


def check_password(password: str) -> str:
    """``password`` if an SMPP client can send it, else ValueError saying what it must be."""
    if not 1 <= len(password) <= PASSWORD_MAX:
        raise ValueError(f"must be 1 to {PASSWORD_MAX} characters (SMPP password)")
    return password


def new_password() -> str:
    """A random SMPP password: 8 letters and digits (never a "-" first)."""
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(GENERATED_PASSWORD))


def check_parent(parent: Account) -> Account:
    """``parent`` if it may have sub-accounts (it is not one itself), else ValueError."""
    if parent.parent:
        raise ValueError(f"{parent.system_id} is itself a sub-account")
    return parent


def sub_account_currency(parent: Account, asked: str | None = None) -> str:
    """The currency of a sub-account of ``parent``: the parent's; ValueError when another one
    is ``asked`` for (case aside)."""
    if asked and asked.upper() != parent.currency:
        raise ValueError(f"a sub-account uses its parent's currency {parent.currency}")
    return parent.currency


def check_sub_account_credit(amount: int) -> None:
    """ValueError when a sub-account would get credit of its own (``amount`` minor units)."""
    if amount:
        raise ValueError("a sub-account draws on its parent's credit; top up the parent")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8", "surrogatepass")[: MAX_PASSWORD * 4],
        salt=salt,
        n=n,
        r=r,
        p=p,
        dklen=HASH_BYTES,
        maxmem=_MAXMEM,
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def hash_password(
    password: str,
    *,
    n: int = SCRYPT_N,
    r: int = SCRYPT_R,
    p: int = SCRYPT_P,
    salt: bytes | None = None,
) -> str:
    """A self-describing scrypt hash of ``password`` with a fresh random salt."""
    if n < 2 or n & (n - 1) or n > MAX_N or not 1 <= r <= MAX_R or not 1 <= p <= MAX_P:
        raise ValueError("scrypt parameters: n a power of 2 up to 2**17, r 1-16, p 1-4")
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    digest = _scrypt(password, salt, n, r, p)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def _parse(encoded: str) -> tuple[int, int, int, bytes, bytes] | None:
    parts = encoded.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return None
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, digest = _unb64(parts[4]), _unb64(parts[5])
    except (ValueError, binascii.Error):
        return None
    if n < 2 or n & (n - 1) or n > MAX_N or not 1 <= r <= MAX_R or not 1 <= p <= MAX_P:
        return None
    if not salt or len(digest) != HASH_BYTES:
        return None
    return n, r, p, salt, digest


_DUMMY_SALT: Final = b"\x00" * SALT_BYTES


def verify_password(password: str, encoded: str) -> bool:
    """Whether ``password`` matches the stored hash (compared in constant time). A malformed
    hash matches nothing (and still costs one default-cost hash, so timing does not tell)."""
    parsed = _parse(encoded)
    if parsed is None or len(password) > MAX_PASSWORD:
        _scrypt(password[:MAX_PASSWORD], _DUMMY_SALT, SCRYPT_N, SCRYPT_R, SCRYPT_P)
        return False
    n, r, p, salt, digest = parsed
    return hmac.compare_digest(_scrypt(password, salt, n, r, p), digest)


def dummy_verify(password: str) -> bool:
    """Spend what a verification costs and return False (for unknown system_ids)."""
    _scrypt(password[:MAX_PASSWORD], _DUMMY_SALT, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return False


def needs_rehash(encoded: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> bool:
    """Whether a stored hash is malformed or cheaper than the given parameters."""
    parsed = _parse(encoded)
    return parsed is None or parsed[:3] < (n, r, p)


# --- addresses ------------------------------------------------------------------------------


def check_cidrs(cidrs: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The CIDR blocks in canonical form (``10.0.0.0/8``, ``2001:db8::/32``; a bare address is
    a /32 or /128); ValueError naming the first bad one (host bits set count as bad)."""
    out: list[str] = []
    for text in cidrs:
        try:
            out.append(str(ipaddress.ip_network(text.strip(), strict=True)))
        except ValueError as exc:
            raise ValueError(f"{text!r} is not a CIDR block: {exc}") from exc
    return tuple(out)


@lru_cache(maxsize=NETWORK_CACHE)
def _networks(cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    networks: list[Network] = []
    for text in cidrs:
        try:
            networks.append(ipaddress.ip_network(text.strip(), strict=False))
        except ValueError:
            continue  # a bad entry matches nothing (config validation reports it)
    return tuple(networks)


def address_allowed(account: Account, address: str) -> bool:
    """Whether ``address`` (IPv4 or IPv6 text; IPv4-mapped IPv6 counts as IPv4) may bind to
    ``account``. No allowed blocks means any address; an unreadable address is refused."""
    if not account.allowed_ips:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in _networks(account.allowed_ips))


def bind_type_allowed(account: Account, bind_type: BindType) -> bool:
    return bind_type in account.bind_types


# --- the order of bind refusals ---------------------------------------------------------------


def lock_in_force(account: Account | None, locks: BindLocks, now: float) -> LockKind | None:
    """The lock that refuses a bind before its password is looked at: the address's (for any
    system_id), then, for a known account, the account's and the pair's."""
    if locks.address.locked(now):
        return LockKind.ADDRESS
    if account is None:
        return None
    if locks.account.locked(now):
        return LockKind.ACCOUNT
    if locks.pair.locked(now):
        return LockKind.PAIR
    return None


def status_before_password(account: Account | None, *, address: str, locks: BindLocks,
                           now: float) -> CommandStatus | None:
    """ESME_RBINDFAIL when a lock or the account's allowed addresses refuse the bind whatever
    the password; None when the password decides."""
    if lock_in_force(account, locks, now) is not None:
        return CommandStatus.ESME_RBINDFAIL
    if account is not None and not address_allowed(account, address):
        return CommandStatus.ESME_RBINDFAIL
    return None


def password_matches(account: Account | None, password: str) -> bool:
    """Verify the password (scrypt: run it away from the event loop and the store thread); an
    unknown account costs a dummy verification and matches nothing."""
    if account is None:
        return dummy_verify(password)
    return verify_password(password, account.password_hash)


def status_after_password(account: Account | None, *, password_ok: bool,
                          bind_type: BindType) -> CommandStatus:
    """Rules 2 and 5-7, once the password has been checked."""
    if account is None:
        return CommandStatus.ESME_RINVSYSID
    if not password_ok:
        return CommandStatus.ESME_RINVPASWD
    if not account.enabled:
        return CommandStatus.SMSC_RACCOUNTDISABLED
    if not bind_type_allowed(account, bind_type):
        return CommandStatus.ESME_RBINDFAIL
    return CommandStatus.ESME_ROK


def bind_status(
    account: Account | None,
    *,
    password: str,
    address: str,
    bind_type: BindType,
    locks: BindLocks,
    now: float,
) -> CommandStatus:
    """The status of a bind attempt (ESME_ROK when it may bind), in the order of the module's
    rules, all in one call. The caller checks the account's bind count itself."""
    refused = status_before_password(account, address=address, locks=locks, now=now)
    if refused is not None:
        return refused
    return status_after_password(account, password_ok=password_matches(account, password),
                                 bind_type=bind_type)
