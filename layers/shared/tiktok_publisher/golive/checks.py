"""Is the deployment ready for users and for TikTok's review? Each check is a Finding with what was seen and,
when it fails, what to do. Logic only (the stack, the secret, HTTP and the rules are ports)."""

from __future__ import annotations

import json
from typing import Any

from tiktok_publisher.domain.deployment import Deployment, WebAnswer
from tiktok_publisher.golive.findings import Finding
from tiktok_publisher.golive.portal import PRIVACY_PATH, TERMS_PATH
from tiktok_publisher.golive.secret import secret_id_of, unfilled
from tiktok_publisher.ports import ScheduleRules, SecretDocuments, WebProbe

# A bearer value no authorizer can accept: not a JWT at all.
BAD_TOKEN = "not-a-valid-token"


def check_deployment(
    deployment: Deployment,
    *,
    secrets: SecretDocuments,
    web: WebProbe,
    rules: ScheduleRules,
    scopes: tuple[str, ...],
) -> list[Finding]:
    """Every check, in the order an operator fixes them."""
    api = deployment.api_url.rstrip("/")
    return [
        _secret(deployment, secrets),
        _authorizer(web, api),
        _openapi(web, api),
        *(_legal(web, api + path, deployment, scopes) for path in (PRIVACY_PATH, TERMS_PATH)),
        *_schedules(deployment, rules),
        _redirect_uri(deployment),
    ]


def _secret(deployment: Deployment, secrets: SecretDocuments) -> Finding:
    values = secrets.read(secret_id_of(deployment))
    missing = unfilled(values, jwks=bool(deployment.parameters.get("JwksUrl")))
    if missing:
        return Finding(
            "secret filled",
            False,
            f"still unset: {', '.join(missing)} (python -m tiktok_publisher.cli configure ...)",
        )
    return Finding("secret filled", True, "client_key, client_secret and the signing keys are set")


def _unreachable(check: str, answer: WebAnswer) -> Finding:
    return Finding(check, False, f"{answer.url} did not answer: {answer.error}")


def _authorizer(web: WebProbe, api: str) -> Finding:
    check = "authorizer refuses a bad token"
    answer = web.get(api + "/v1/accounts", headers={"Authorization": f"Bearer {BAD_TOKEN}"})
    if answer.error:
        return _unreachable(check, answer)
    if answer.status in (401, 403):
        return Finding(check, True, f"GET /v1/accounts with a bad token: {answer.status}")
    return Finding(check, False, f"GET /v1/accounts with a bad token answered {answer.status}, not 401/403")


def _openapi(web: WebProbe, api: str) -> Finding:
    check = "OpenAPI document served"
    answer = web.get(api + "/v1/openapi.json")
    if answer.error:
        return _unreachable(check, answer)
    try:
        document: Any = json.loads(answer.body)
    except ValueError:
        document = None
    if answer.status == 200 and isinstance(document, dict) and "/v1/accounts" in document.get("paths", {}):
        return Finding(check, True, f"{len(document['paths'])} paths")
    return Finding(check, False, f"GET /v1/openapi.json answered {answer.status} without the API's paths")


def _legal(web: WebProbe, url: str, deployment: Deployment, scopes: tuple[str, ...]) -> Finding:
    check = f"{url.rsplit('/', 1)[-1]} page served"
    answer = web.get(url)
    if answer.error:
        return _unreachable(check, answer)
    text = answer.body.decode("utf-8", "replace")
    company = deployment.parameters.get("CompanyName") or ""
    if answer.status == 503:
        return Finding(
            check, False, f"{url}: not configured (set CompanyName, ContactEmail, ProductUrl, ...)"
        )
    missing = [s for s in scopes if s not in text]
    if answer.status != 200 or (company and company not in text) or missing:
        detail = f"{url} answered {answer.status}"
        if missing:
            detail += f"; scopes not listed: {', '.join(missing)}"
        return Finding(check, False, detail)
    return Finding(check, True, url)


# Schedules that run only when the operator turned their feature on: logical id prefix -> the parameter.
OPTIONAL_SCHEDULES = {"MetricsFunctionMetricsSchedule": "MetricsEnabled"}


def _schedules(deployment: Deployment, rules: ScheduleRules) -> list[Finding]:
    named = {
        physical: logical
        for logical, physical in deployment.of_type("AWS::Events::Rule").items()
        if logical.endswith("Schedule")
    }
    if not named:
        return [Finding("schedules enabled", False, "no schedule rules in the stack")]
    found = []
    for name in sorted(named):
        state = rules.state(name)
        switch = next((p for prefix, p in OPTIONAL_SCHEDULES.items() if named[name].startswith(prefix)), None)
        if switch is not None and deployment.parameters.get(switch, "false") != "true":
            # Off by design until the operator enables the feature: it must not run, and that is fine.
            found.append(
                Finding(
                    f"schedule {name}", state == "DISABLED", f"{state or 'no such rule'} ({switch}=false)"
                )
            )
            continue
        found.append(Finding(f"schedule {name}", state == "ENABLED", state or "no such rule"))
    return found


def _redirect_uri(deployment: Deployment) -> Finding:
    check = "OAuthRedirectUri set"
    if deployment.parameters.get("OAuthRedirectUri") or deployment.local:
        return Finding(check, True, deployment.parameters.get("OAuthRedirectUri") or "local stack")
    return Finding(
        check,
        False,
        "empty: register the OAuthCallbackUrl output at TikTok and deploy again with OAuthRedirectUri set "
        "to it",
    )
