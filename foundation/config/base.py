"""The base of the stack model: the strict Model, RuleViolations and the value types.

This model *is* the schema: the loader validates every stack file with it, onboarding
writes files through it, and the components read nothing else. Keys are camelCase in
YAML (Pulumi's convention, so `pulumi config set --path cluster.kubeContext` works) and
snake_case in Python. Defaults live here and nowhere else.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
)
from pydantic.alias_generators import to_camel

from foundation.naming import is_dns_label


class Model(BaseModel):
    """Strict base: unknown keys and wrong types are errors, YAML keys are camelCase."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
        serialize_by_alias=True,
    )


class RuleViolations(ValueError):
    """Cross-field rule failures, each with the key (relative to the model) it concerns."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{k}: {m}" for k, m in problems))


def dns_label(max_len: int):
    def check(value: str) -> str:
        if not is_dns_label(value, max_len):
            raise ValueError(
                f"'{value}' is not a valid name: use at most {max_len} lowercase letters, "
                "digits and '-', starting and ending with a letter or digit (DNS-1123)"
            )
        return value

    return AfterValidator(check)


def _cidr(value: str) -> str:
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"'{value}' is not a valid CIDR ({exc})") from None
    return str(net)


LABEL_VALUE = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")
LABEL_KEY = re.compile(r"[a-z]([-a-z0-9_.]{0,61}[a-z0-9])?")
GCP_PROJECT = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")
QUANTITY = re.compile(r"(\d+(\.\d+)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?")


def _label_value(value: str) -> str:
    if not LABEL_VALUE.fullmatch(value):
        raise ValueError(
            f"'{value}' is not a valid label value: 1-63 ASCII letters, digits, '-', '_' or "
            "'.', starting and ending with a letter or digit"
        )
    return value


def _label_key(value: str) -> str:
    if not LABEL_KEY.fullmatch(value):
        raise ValueError(
            f"'{value}' is not a valid label key: 1-63 lowercase letters, digits, '-', '_' "
            "or '.', starting with a letter (Kubernetes and GCP labels)"
        )
    return value


def _gcp_project(value: str) -> str:
    if not GCP_PROJECT.fullmatch(value):
        raise ValueError(f"'{value}' is not a valid GCP project id: 6-30 lowercase letters, "
                         "digits and '-', starting with a letter")
    return value


def _ipv4(value: str) -> str:
    if ipaddress.ip_network(value).version != 4:
        raise ValueError(f"'{value}' is not an IPv4 range (cluster networks are IPv4)")
    return value


def _quantity(value: str) -> str:
    if not QUANTITY.fullmatch(value):
        raise ValueError(f"'{value}' is not a Kubernetes quantity (e.g. 500m, 4, 512Mi, 24Gi)")
    return value


Cidr = Annotated[str, AfterValidator(_cidr)]
Ipv4Cidr = Annotated[Cidr, AfterValidator(_ipv4)]
LabelValue = Annotated[str, AfterValidator(_label_value)]
LabelKey = Annotated[str, AfterValidator(_label_key)]
GcpProject = Annotated[str, AfterValidator(_gcp_project)]
Quantity = Annotated[str, AfterValidator(_quantity)]
CustomerName = Annotated[str, dns_label(16)]
DomainName = Annotated[str, dns_label(20)]
EnvironmentName = Annotated[str, dns_label(10)]
StackName = Annotated[str, dns_label(63)]
