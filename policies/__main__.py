"""Entry point of the policy pack: the PolicyPack built from the rules in `guardrails/`.

`pulumi preview --policy-pack policies` and `dataplatform plan` both start this file.
`PolicyPack(...)` serves the analyzer over gRPC on 127.0.0.1, prints the port on stdout,
and blocks until the process is stopped.
"""

from guardrails import DESCRIPTION, PACK_NAME, POLICIES, default_enforcement_level
from pulumi_policy import PolicyPack

PolicyPack(
    name=PACK_NAME,
    description=DESCRIPTION,
    policies=POLICIES,
    enforcement_level=default_enforcement_level(),
)
