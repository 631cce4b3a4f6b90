"""HTTP API plumbing: resolver factory, error mapping, caller identity, routes and the OpenAPI document."""

from tiktok_publisher.api.app import ApiResolver, create_app
from tiktok_publisher.api.caller import Caller, CallerDep, caller, tenant

__all__ = ["ApiResolver", "Caller", "CallerDep", "caller", "create_app", "tenant"]
