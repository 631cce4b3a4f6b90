"""Least privilege, checked both ways: template.yaml grants each function exactly the AWS calls that
iam/calls.yaml declares for it (no more, no less), and the code makes only declared calls (every in-process
handler call of the suite runs under tests/fixtures/iam.py's recorder, which refuses an undeclared call with
AccessDenied as AWS would).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from local_stack.template import load_sam_template, parameter_values, translate
from tests.fixtures.iam import FUNCTION_OF_DIR, declared

ROOT = Path(__file__).resolve().parents[3]
SAM = load_sam_template(ROOT / "template.yaml")
CFN = translate(SAM, parameter_values(SAM, {}))
MEDIA_BUCKET = "tiktok-publisher-${Stage}-media-${AWS::AccountId}-${AWS::Region}"


def _resource_name(expression: Any) -> str:
    """The template resource an IAM Resource expression names (MediaBucket for the computed bucket name)."""
    if isinstance(expression, dict) and "Fn::GetAtt" in expression:
        target = expression["Fn::GetAtt"]
        logical, attribute = target if isinstance(target, list) else target.split(".", 1)
        assert attribute == "Arn", expression
        return str(logical)
    if isinstance(expression, dict) and "Ref" in expression:
        return str(expression["Ref"])
    if isinstance(expression, dict) and "Fn::Sub" in expression:
        text = expression["Fn::Sub"]
        assert isinstance(text, str), expression
        index = re.fullmatch(r"\$\{(\w+)\.Arn\}/index/\*", text)
        if index:
            return f"{index.group(1)}/index/*"
        if text.startswith("arn:${AWS::Partition}:s3:::" + MEDIA_BUCKET):
            rest = text.removeprefix("arn:${AWS::Partition}:s3:::" + MEDIA_BUCKET)
            assert rest in ("", "/uploads/*"), text
            return "MediaBucket"
    raise AssertionError(
        f"unexpected IAM resource {expression!r}: use !GetAtt X.Arn, !Ref secret, index or bucket"
    )


def granted() -> dict[str, dict[str, set[str]]]:
    """Function logical id -> resource -> actions, from the roles SAM generates."""
    roles = {k: r for k, r in CFN["Resources"].items() if r["Type"] == "AWS::IAM::Role"}
    out: dict[str, dict[str, set[str]]] = {}
    for function in (k for k, r in SAM["Resources"].items() if r["Type"] == "AWS::Serverless::Function"):
        grants: dict[str, set[str]] = {}
        for policy in roles[f"{function}Role"]["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                assert statement["Effect"] == "Allow"
                actions = (
                    statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                )
                resources = statement["Resource"]
                for resource in resources if isinstance(resources, list) else [resources]:
                    grants.setdefault(_resource_name(resource), set()).update(actions)
        out[function] = grants
    return out


def test_every_function_is_declared() -> None:
    functions = {k for k, r in SAM["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}
    assert set(declared()) == functions
    assert set(FUNCTION_OF_DIR.values()) == functions


@pytest.mark.parametrize("function", sorted(declared()))
def test_the_template_grants_exactly_what_the_function_calls(function: str) -> None:
    # Given what the code calls (iam/calls.yaml) and what the role allows (template.yaml, SAM-expanded)
    wanted = {resource: set(actions) for resource, actions in declared()[function].items()}
    grants = granted()[function]

    # Then they are the same, action for action and resource for resource
    extra = {r: sorted(a - wanted.get(r, set())) for r, a in grants.items() if a - wanted.get(r, set())}
    missing = {r: sorted(a - grants.get(r, set())) for r, a in wanted.items() if a - grants.get(r, set())}
    assert extra == {}, f"{function}'s role grants calls its code never makes"
    assert missing == {}, f"{function}'s role lacks calls its code makes"


def test_no_wildcard_action_and_object_actions_only_under_uploads() -> None:
    roles = {k: r for k, r in CFN["Resources"].items() if r["Type"] == "AWS::IAM::Role"}
    for name, role in roles.items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = (
                    statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                )
                assert not any("*" in a for a in actions), (name, actions)
                resources = (
                    statement["Resource"]
                    if isinstance(statement["Resource"], list)
                    else [statement["Resource"]]
                )
                for resource in resources:
                    text = str(resource)
                    if any(a.startswith("s3:") and a != "s3:ListBucket" for a in actions):
                        assert "/uploads/*" in text, (name, statement)
                    if "s3:ListBucket" in actions:
                        assert "/uploads" not in text, (name, statement)
