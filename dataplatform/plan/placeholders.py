"""Placeholder owner and cost center left in a stack file: the plan warns about them.

Both label and tag every resource, so cost showback and on-call routing rest on them.
`dataplatform new` writes its own stand-ins when none is given (the customer-domain name
as owner, `cc-unassigned` as cost center) and marks their lines `# placeholder: replace`
(`_onboarding_render.MARK`); a value is a placeholder when its line carries that mark,
or when it reads as one (`TODO`, `changeme`, `tbd`, `owner`, `cost-center`, `cc-0000`,
`<team>`…). In prod it also writes an email receiver; lines of the `monitoring` or
`alerting` sections marked that way are warned about too (alerts would reach no one). The
shipped example stacks hold none.
"""

from __future__ import annotations

import re
from pathlib import Path

from foundation.config.loader import PROJECT
from foundation.config.stack import StackConfig

KEYS = {"owner": "owner", "costCenter": "cost_center"}
"""The stack file's key, and the config's attribute."""
WHAT = {"owner": "the team that owns the stack", "costCenter": "the stack's cost center"}
RECEIVER_SECTIONS = {"monitoring": "monitoring.platformReceiver",
                     "alerting": "alerting.receivers"}
"""Sections holding alert receivers, and the key a warning names."""

_PLACEHOLDER = re.compile(
    r"""(?ix) ^ (?:
        todo | tbd | tba | fixme | xxx+ | changeme | change[-_.]me | replace[-_.]?me
      | placeholder | unknown | unassigned | unset | none | null | n[/-]?a | example
      | owner | team | (?:your|my)[-_.].* | owner[-_.]?team
      | cost[-_.]?cent(?:er|re) | cc | cc[-_.]?(?:0+|x+|todo|tbd|unassigned|unknown)
      | <.*> | \{.*\} | \$\{.*\}
    ) $""")
_MARKED = re.compile(r"#\s*placeholder\b", re.I)


def looks_like_placeholder(value: str) -> bool:
    """A value a person left to fill in (`dataplatform new` writes `cc-unassigned`)."""
    return bool(_PLACEHOLDER.match(value.strip()))


def marked_keys(text: str) -> set[str]:
    """The keys among KEYS whose line in the stack file says `# placeholder`."""
    out = set()
    for line in text.splitlines():
        m = re.match(rf"\s*{PROJECT}:(owner|costCenter)\s*:", line)
        if m and _MARKED.search(line):
            out.add(m.group(1))
    return out


def marked_receivers(text: str) -> list[str]:
    """The sections among RECEIVER_SECTIONS with a line marked `# placeholder` (the email
    receiver `dataplatform new` writes in prod stacks when no address is given)."""
    out: list[str] = []
    section = None
    for line in text.splitlines():
        m = re.match(rf"\s*{PROJECT}:([A-Za-z]+)\s*:", line)
        if m:
            section = m.group(1)
        if section in RECEIVER_SECTIONS and _MARKED.search(line) and section not in out:
            out.append(section)
    return out


def placeholder_warnings(cfg: StackConfig, path: Path) -> list[str]:
    """One message per placeholder owner or cost center of the stack file at `path`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:  # the loader read it a moment ago; a vanished file has no marks
        text = ""
    marked = marked_keys(text)
    try:
        shown = path.relative_to(Path.cwd())
    except ValueError:
        shown = path
    out = []
    for key, attr in KEYS.items():
        value = str(getattr(cfg, attr))
        if key in marked or looks_like_placeholder(value):
            why = "marked `# placeholder`" if key in marked else "a placeholder"
            out.append(f"{shown}: {key} '{value}' is {why}: set {WHAT[key]} before deploying "
                       "(every resource is labelled and tagged with it)")
    for section in marked_receivers(text):
        out.append(f"{shown}: {RECEIVER_SECTIONS[section]} holds values marked `# placeholder`"
                   ": set where alerts go before deploying (example.com reaches no one)")
    return out
