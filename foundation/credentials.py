"""One definition of "a credential in plain text", for stack files and for plans.

The loader refuses what this finds anywhere in a stack file (free-form Helm values,
patches, provider keys), and the secrets test runs the same detector over every planned
resource's inputs, so the two cannot drift apart. It judges a value two ways:

- by its key, whatever the spelling (`adminPassword`, `ADMIN_PASSWORD`, `admin-password`,
  `AIRFLOW__CORE__FERNET_KEY`, an env entry `{name: DB_PASSWORD, value: ...}`), unless the
  key names a reference to a credential kept elsewhere (`existingSecret`,
  `passwordSecretKey`, `tokenSecretName`, `passwordFile`);
- by its form, under any key: a URL or DSN with `user:password@`, `password=` inside a
  connection string or config blob, private keys, and the well-known token formats.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# A key whose letters (lower case, separators dropped) end with one of these holds a credential.
_CREDENTIAL_END = re.compile(
    r"(password|passwd|pwd|pass|passphrase|secret|secretkey|secretaccesskey|token|apikey"
    r"|accesskey|privatekey|fernetkey|encryptionkey|signingkey|masterkey|sessionkey|hmackey"
    r"|authkey|licensekey|credential|salt|dsn|connectionstring|webhookurl)s?$")
# ... unless it names where the credential is kept: a Secret, one of its keys, a file.
_REFERENCE = re.compile(
    r"existing|(name|names|ref|refs|file|path|dir|env|field|id|ids|selector)$"
    r"|(password|passwd|pass|token|credentials?|user|username|login|id|key)(secret)?keys?$"
    r"|(password|passwd|pass|token|credentials?|key)secrets?$"
    r"|(secret|token)(length|ttl|expiry|expiration|duration|lifetime|type|version)$")
_BARE_SECRET_KEY = {"secretkey", "secretkeys"}  # `secretKey` is a credential, not a reference
_SECRET_NAMES = re.compile(r"secrets$")  # `imagePullSecrets`, `secrets: [name]`: Secret names
# Values that stand for a credential instead of holding one.
_PLACEHOLDER = re.compile(r"^\s*(\$\{[^}]*\}|\$\([^)]*\)|\{\{.*\}\}|<[^>]*>)\s*$", re.S)
_FORMS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@?#]*:(?!\$\{|\$\(|\{\{)[^/\s@?#]+@", re.I),
     "a URL with a user and password"),
    # `Server=db;Password=x;` and `?token=x`: not `password = x` lines, which code has too
    (re.compile(r"(?i)(^|[;?&])\s*(password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key)"
                r"\s*=\s*(?!\$\{|\$\(|\{\{|[;&\s])[^;&\s]{3,}"),
     "a password or token set inside the string"),
    (re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY"), "a private key"),
    (re.compile(r"(?<![A-Z0-9])(AKIA|ASIA)[0-9A-Z]{16}(?![A-Z0-9])"), "an AWS access key"),
    (re.compile(r"(?<![A-Za-z0-9])(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}"
                r"|glpat-[A-Za-z0-9_-]{20,})"), "a Git host token"),
    (re.compile(r"(?<![A-Za-z0-9])xox[abposr]-[A-Za-z0-9-]{10,}"), "a Slack token"),
    (re.compile(r"hooks\.slack\.com/services/\S+"), "a Slack webhook URL"),
    (re.compile(r"(?<![A-Za-z0-9])AIza[0-9A-Za-z_-]{35}"), "a Google API key"),
    (re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+"),
     "a JSON web token"),
    (re.compile(r"(?<![A-Za-z0-9])(sk|rk)_live_[A-Za-z0-9]{16,}"), "a payment API key"),
)
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)  # a DSN's key says little: its form tells
_KUBECONFIG = re.compile(r"client-key-data|client-certificate-data|token:|\n|^\s*[{]")


@dataclass(frozen=True)
class Finding:
    """A credential in plain text: where (key path) and what it looks like."""

    path: tuple[str | int, ...]
    what: str


def compact(key: str) -> str:
    """`ADMIN_PASSWORD`, `admin-password`, `adminPassword` -> `adminpassword`; full-width
    letters, ligatures and invisible characters folded (NFKC), separators dropped."""
    return re.sub(r"[^a-z0-9]", "", unicodedata.normalize("NFKC", key).casefold())


def credential_key(key: str) -> bool:
    """Whether a value under `key` is a credential (as opposed to a reference to one)."""
    c = compact(key)
    if c.endswith("kubeconfig"):
        return False  # a path is fine; its content is judged by kubeconfig_content()
    if not _CREDENTIAL_END.search(c) or _SECRET_NAMES.search(c):
        return False
    return c in _BARE_SECRET_KEY or not _REFERENCE.search(c)


def kubeconfig_content(value: Any) -> bool:
    """A kubeconfig's content (keys, tokens) rather than the path to one."""
    return isinstance(value, str) and bool(_KUBECONFIG.search(value))


def _plain(value: Any) -> bool:
    """A value that holds something: a non-empty string or a number (not a bool)."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, (int, float)):
        return True
    return isinstance(value, str) and bool(value.strip()) and not _PLACEHOLDER.match(value)


def form(text: str) -> str | None:
    """What a string's own form gives away, under any key (None: nothing)."""
    return next((what for pattern, what in _FORMS if pattern.search(text)), None)


def find(value: Any, path: tuple[str | int, ...] = (), *,
         ignore: Iterable[str] = ()) -> list[Finding]:
    """Every credential in plain text in `value`; `{secure: ...}` (encrypted) is skipped
    and so are the strings in `ignore` (a plan's mask)."""
    seen: dict[tuple[str | int, ...], Finding] = {}
    for f in _walk(value, path, None, frozenset(ignore)):
        seen.setdefault(f.path, f)  # an env entry's value is found twice: once is enough
    return list(seen.values())


def _walk(value: Any, path: tuple[str | int, ...], key: str | None,
          ignore: frozenset[str]) -> Iterator[Finding]:
    if isinstance(value, Mapping):
        if set(value) == {"secure"}:
            return
        yield from _pair(value, path, ignore)
        names = _reference_keys(value)
        for k, v in value.items():
            if isinstance(k, str) and (what := form(k)):  # a DSN used as a key is one still
                # (found at the parent: the key itself must not be echoed back)
                yield Finding(path, f"{what}, as one of the keys here")
            yield from _walk(v, (*path, str(k)), None if k in names else str(k), ignore)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _walk(v, (*path, i), key, ignore)  # items inherit their list's key
    elif _plain(value) and str(value) not in ignore and (what := _judge(key, value)):
        yield Finding(path, what)


def _judge(key: str | None, value: Any) -> str | None:
    """Why `value` under `key` is a credential in clear (None: it is not)."""
    text = str(value)
    if key is not None and credential_key(key) and not _URL.match(text):
        return f"a credential in plain text (key '{key}')"
    if key is not None and compact(key).endswith("kubeconfig") and kubeconfig_content(text):
        return "a kubeconfig with its credentials in plain text"
    return form(text) if isinstance(value, str) else None


def _reference_keys(value: Mapping[str, Any]) -> set[str]:
    """The keys of a mapping that points into a Secret (`{secretName, secretKey}`,
    `{secretRef, secretKey}`, `{secret, key}`): their values name the Secret and its key."""
    keys = {compact(str(k)): k for k in value}
    if {"secretname", "secretref"} & set(keys) or {"secret", "key"} <= set(keys):
        return {keys[k] for k in ("secret", "secretname", "secretkey", "key") if k in keys}
    return set()


def _pair(value: Mapping[str, Any], path: tuple[str | int, ...],
          ignore: frozenset[str]) -> Iterator[Finding]:
    """A name/value pair whose name says the value is a credential: an environment entry
    `{name: DB_PASSWORD, value: ...}`, a JSON patch `{path: /data/password, value: ...}`,
    a `{key: ..., value: ...}` item."""
    val = value.get("value")
    if not _plain(val) or str(val) in ignore:
        return
    for field in ("name", "path", "key"):
        name = value.get(field)
        if isinstance(name, str) and credential_key(name.rsplit("/", 1)[-1]) and (
                not _URL.match(str(val))):
            yield Finding((*path, "value"), f"a credential in plain text ({field} '{name}')")
            return
