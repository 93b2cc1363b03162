"""Questions to the cluster, with the Kubernetes Python client.

Every answer goes through the client's own models or JSON decoding, so tests hand it
recorded API responses through a fake transport (`ApiClient.rest_client`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import yaml

from dataplatform.status import StatusError
from dataplatform.status.outputs import EXIT_INPUT, ClusterTarget

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

REQUEST_TIMEOUT = 15
"""Seconds per API request."""
ARGOCD = ("argoproj.io", "v1alpha1", "applications")


class ClusterUnreachable(Exception):
    """The API server did not answer, or refused us: the message says which."""


def connect(target: ClusterTarget) -> ApiClient:
    """An ApiClient for the target, or StatusError when the kubeconfig cannot be used."""
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    configuration = client.Configuration()
    try:
        if target.kubeconfig is not None:
            config.load_kube_config_from_dict(
                yaml.safe_load(target.kubeconfig), context=target.context,
                client_configuration=configuration, persist_config=False)
        else:
            config.load_kube_config(context=target.context,
                                    client_configuration=configuration,
                                    persist_config=False)
    except (ConfigException, OSError, yaml.YAMLError, TypeError, ValueError) as exc:
        raise StatusError(f"status: cannot use the kubeconfig ({target.source}): "
                          f"{str(exc).strip() or type(exc).__name__}", EXIT_INPUT) from None
    return client.ApiClient(configuration)


@dataclass(frozen=True)
class HelmRelease:
    """The newest revision of a Helm release, from its `helm.sh/release.v1` Secrets."""

    name: str
    revision: int
    status: str


class Cluster:
    """The reads `dataplatform status` makes, through one ApiClient."""

    def __init__(self, api: ApiClient):
        self.api = api

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        try:
            return fn(*args, _request_timeout=REQUEST_TIMEOUT, **kwargs)
        except ApiException as exc:
            if exc.status == 404:
                return None
            reason = (exc.reason or "").strip() or "no answer"
            raise ClusterUnreachable(f"{what}: HTTP {exc.status} {reason}") from None
        except (HTTPError, OSError) as exc:
            raise ClusterUnreachable(f"{what}: {_short(exc)}") from None

    def applications(self, namespace: str) -> list[dict[str, Any]]:
        """Argo CD Applications in `namespace` (as JSON objects); none without the CRD."""
        from kubernetes.client import CustomObjectsApi

        group, version, plural = ARGOCD
        found = self._call(f"Argo CD Applications in {namespace}",
                           CustomObjectsApi(self.api).list_namespaced_custom_object,
                           group, version, namespace, plural)
        return list((found or {}).get("items") or [])

    def helm_release(self, namespace: str, name: str) -> HelmRelease | None:
        """The newest revision of release `name`, or None when Helm never installed it."""
        from kubernetes.client import CoreV1Api

        found = self._call(f"Helm release {name} in {namespace}",
                           CoreV1Api(self.api).list_namespaced_secret, namespace,
                           label_selector=f"owner=helm,name={name}")
        revisions = []
        for secret in (found.items if found else []) or []:
            labels = (secret.metadata.labels if secret.metadata else None) or {}
            if secret.type == "helm.sh/release.v1" and labels.get("version", "").isdigit():
                revisions.append(HelmRelease(name, int(labels["version"]),
                                             labels.get("status", "unknown")))
        return max(revisions, key=lambda r: r.revision) if revisions else None

    def alerts(self, namespace: str, service: str, port: int) -> list[dict[str, Any]]:
        """Active, unsilenced alerts from Alertmanager's API v2, through the API server's
        service proxy (no port-forward, the caller's own RBAC: services/proxy)."""
        path = (f"/api/v1/namespaces/{quote(namespace)}/services/"
                f"{quote(service)}:{port}/proxy/api/v2/alerts")
        request = self.api.param_serialize(
            method="GET", resource_path=path,
            query_params=[("active", "true"), ("silenced", "false")],
            header_params={"Accept": "application/json"}, auth_settings=["BearerToken"])

        def fetch(*, _request_timeout: int) -> Any:
            response = self.api.call_api(*request, _request_timeout=_request_timeout)
            response.read()
            if not 200 <= response.status <= 299:
                from kubernetes.client.exceptions import ApiException

                raise ApiException(status=response.status, reason=response.reason)
            return json.loads(response.data or b"[]")

        found = self._call(f"Alertmanager {namespace}/{service}", fetch)
        if found is None:
            raise ClusterUnreachable(f"Alertmanager {namespace}/{service}: no such Service")
        return [a for a in found if isinstance(a, dict)]


def _short(exc: BaseException) -> str:
    """The innermost reason of a urllib3 error, without the retry wrapping."""
    reason = getattr(exc, "reason", None) or exc
    text = str(reason)
    return text.split(": ", 1)[-1] if "Failed to establish" in text else text
