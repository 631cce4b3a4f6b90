"""Webhooks to the SaaS: tenants' endpoints, the fan-out of bus events to them, signed deliveries with
retries (docs/webhooks.md)."""
