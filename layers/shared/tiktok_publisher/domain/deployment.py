"""A deployed stack as the operator's tools see it (CloudFormation's parameters, outputs and resources, or the
local stack's), and an HTTP answer as a probe saw it. Pure data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tiktok_publisher.domain.errors import DomainError


class OperatorError(DomainError):
    """Input or a target the operator's command cannot work with; the message says what to do instead."""

    code = "operator_error"


@dataclass(frozen=True, slots=True)
class Resource:
    physical_id: str
    type: str


@dataclass(frozen=True, slots=True)
class Deployment:
    """One stack: where its API answers, its template parameters, outputs and resources (by logical id)."""

    stack_name: str
    region: str
    api_url: str
    parameters: Mapping[str, str] = field(default_factory=dict)
    outputs: Mapping[str, str] = field(default_factory=dict)
    resources: Mapping[str, Resource] = field(default_factory=dict)
    local: bool = False

    def resource(self, logical_id: str) -> str | None:
        found = self.resources.get(logical_id)
        return found.physical_id if found else None

    def of_type(self, resource_type: str) -> dict[str, str]:
        """logical id -> physical id of every resource of `resource_type`."""
        return {k: r.physical_id for k, r in self.resources.items() if r.type == resource_type}


@dataclass(frozen=True, slots=True)
class WebAnswer:
    """What an HTTP GET answered (redirects are never followed), or why there was no answer."""

    url: str
    status: int = 0
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-cased names
    body: bytes = b""  # at most what the probe reads
    error: str | None = None  # the connection failed: DNS, refused, TLS, timeout

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")
