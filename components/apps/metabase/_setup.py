"""Close Metabase's setup wizard and keep DataHub's read-only user (the setup Job's script).

Runs in the `metabase-setup` Job (this file is mounted from a ConfigMap; Python standard
library only). Environment: MB_URL, MB_SITE_NAME, MB_ADMIN_EMAIL, MB_ADMIN_PASSWORD,
MB_READER_EMAIL and MB_READER_PASSWORD (both or neither: no reader without them),
MB_WAIT_SECONDS. Each run:
1. waits until `GET /api/health` answers 200 (Metabase migrates its database first);
2. `GET /api/session/properties`: while `has-user-setup` is false, `POST /api/setup` with
   its `setup-token` creates the admin from the Secret, which closes the wizard; once set
   up, logs in as that admin (`POST /api/session`);
3. ensures the reader: created when missing (`POST /api/user`), reactivated, never an
   admin, its password set to the Secret's.
Every step checks before it writes, so a re-run (a replaced Job) changes nothing.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

Http = Callable[[str, str, dict[str, str], bytes | None], tuple[int, bytes]]
SESSION_HEADER = "X-Metabase-Session"


class SetupError(RuntimeError):
    """A state this script must not repair on its own (the Job fails and says why)."""


def http(method: str, url: str, headers: dict[str, str], body: bytes | None
         ) -> tuple[int, bytes]:
    """One request; (status, body). Network errors raise OSError (the caller retries)."""
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


class Metabase:
    """Metabase's REST API at `url`, as one (optional) session."""

    def __init__(self, send: Http, url: str):
        self.send, self.url, self.session = send, url.rstrip("/"), ""

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.session:
            headers[SESSION_HEADER] = self.session
        data = None if body is None else json.dumps(body).encode()
        status, raw = self.send(method, f"{self.url}{path}", headers, data)
        try:
            return status, json.loads(raw or b"null")
        except ValueError:
            return status, raw.decode(errors="replace")

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        status, data = self.call(method, path, body)
        if status >= 300:
            raise SetupError(f"{method} {path}: Metabase answered {status}: {data}")
        return data


def wait_healthy(mb: Metabase, wait_seconds: float, sleep: Callable[[float], None],
                 clock: Callable[[], float]) -> None:
    deadline = clock() + wait_seconds
    while True:
        try:
            status, _ = mb.call("GET", "/api/health")
            if status == 200:
                return
        except OSError:
            pass  # not listening yet
        if clock() >= deadline:
            raise SetupError(f"Metabase did not become healthy within {wait_seconds:.0f}s")
        sleep(5)


def admin_session(mb: Metabase, env: dict[str, str]) -> str:
    """Set Metabase up with the admin of the Secret, or log in as that admin."""
    props = mb.ok("GET", "/api/session/properties")
    email, password = env["MB_ADMIN_EMAIL"], env["MB_ADMIN_PASSWORD"]
    if not props.get("has-user-setup"):
        token = props.get("setup-token")
        if not token:
            raise SetupError("Metabase is not set up but publishes no setup-token")
        site = env.get("MB_SITE_NAME", "Metabase")
        reply = mb.ok("POST", "/api/setup", {
            "token": token,
            "user": {"first_name": "Platform", "last_name": "Admin", "email": email,
                     "password": password, "site_name": site},
            "prefs": {"site_name": site, "site_locale": "en", "allow_tracking": False}})
        print("metabase setup: done, admin created")
        return str(reply["id"])
    status, reply = mb.call("POST", "/api/session", {"username": email, "password": password})
    if status != 200:
        raise SetupError(
            f"Metabase is already set up and its admin {email} cannot log in ({status}): it "
            "was set up by hand or the admin's password changed; restore the password of "
            "Secret metabase-admin-credentials in Metabase, or reset Metabase's database")
    print("metabase setup: already done, logged in as the admin")
    return str(reply["id"])


def find_user(mb: Metabase, email: str) -> dict[str, Any] | None:
    query = urllib.parse.urlencode({"query": email, "status": "all"})
    found = mb.ok("GET", f"/api/user?{query}")
    users = found.get("data", []) if isinstance(found, dict) else found
    return next((u for u in users if str(u.get("email", "")).lower() == email.lower()), None)


def ensure_reader(mb: Metabase, email: str, password: str) -> str:
    """The reader exists, is active, is no admin and has the Secret's password."""
    user = find_user(mb, email)
    if user is None:
        mb.ok("POST", "/api/user", {"first_name": "DataHub", "last_name": "Reader",
                                    "email": email, "password": password})
        return "created"
    uid = user["id"]
    if not user.get("is_active", True):
        mb.ok("PUT", f"/api/user/{uid}/reactivate")
    if user.get("is_superuser"):
        mb.ok("PUT", f"/api/user/{uid}", {"is_superuser": False})
    mb.ok("PUT", f"/api/user/{uid}/password", {"password": password})
    return "kept"


def run(env: dict[str, str], send: Http, sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic) -> list[str]:
    """Set Metabase up and ensure the reader; returns what was done."""
    mb = Metabase(send, env["MB_URL"])
    wait_healthy(mb, float(env.get("MB_WAIT_SECONDS", "1200")), sleep, clock)
    mb.session = admin_session(mb, env)
    done = ["admin"]
    reader, password = env.get("MB_READER_EMAIL"), env.get("MB_READER_PASSWORD")
    if bool(reader) != bool(password):
        raise SetupError("MB_READER_EMAIL and MB_READER_PASSWORD go together")
    if reader and password:
        done.append(f"reader {ensure_reader(mb, reader, password)}")
    mb.call("DELETE", "/api/session")  # log out: the session is not needed any more
    return done


def main() -> int:
    try:
        print(f"metabase setup: {', '.join(run(dict(os.environ), http))}")
    except (SetupError, OSError, KeyError) as exc:
        print(f"metabase setup: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
