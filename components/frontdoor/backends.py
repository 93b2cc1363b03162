"""What each routed web UI is behind: its Service, port and the pods' port.

Service names follow the charts' fullnames for the release names the app components use.
`sso_proxy`: the open-source edition has no OIDC login, so the Gateway's OIDC filter signs
people in (Airbyte OSS: basic auth only, SSO is Enterprise; Metabase OSS: SAML/JWT SSO are
Pro/Enterprise). The others log in through OIDC themselves (phase 2 wires it).
"""

from __future__ import annotations

from dataclasses import dataclass

from components.apps.airbyte._values import SERVER_PORT as AIRBYTE_PORT
from components.apps.airbyte._values import SERVER_SERVICE as AIRBYTE_SERVICE
from components.apps.datahub._settings import RELEASE as DATAHUB_RELEASE


@dataclass(frozen=True)
class Backend:
    service: str
    port: int
    target_port: int
    sso_proxy: bool = False


BACKENDS: dict[str, Backend] = {
    "airflow": Backend("airflow-api-server", 8080, 8080),
    "airbyte": Backend(AIRBYTE_SERVICE, AIRBYTE_PORT, AIRBYTE_PORT, sso_proxy=True),
    "metabase": Backend("metabase", 80, 3000, sso_proxy=True),
    "datahub": Backend(f"{DATAHUB_RELEASE}-datahub-frontend", 9002, 9002),
    # The cluster owner's: Argo CD's release `argocd`, kube-prometheus-stack's Grafana.
    "argocd": Backend("argocd-server", 80, 8080),
    "grafana": Backend("kube-prometheus-stack-grafana", 80, 3000),
}
