"""The pacing table (issue 12) keeps the template's table promises and matches its PynamoDB model; only the
functions that call TikTok's paced endpoints may use it."""

from __future__ import annotations

from typing import Any

from local_stack.template import load_sam_template, parameter_values, translate
from tests.integration.template.test_template_invariants import ROOT

SAM = load_sam_template(ROOT / "template.yaml")
CFN = translate(SAM, parameter_values(SAM, {}))


def test_pacing_table_is_on_demand_encrypted_recoverable_and_expires_its_items() -> None:
    props = SAM["Resources"]["PacingTable"]["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["KeySchema"] == [{"AttributeName": "key", "KeyType": "HASH"}]
    assert props["AttributeDefinitions"] == [{"AttributeName": "key", "AttributeType": "S"}]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert SAM["Globals"]["Function"]["Environment"]["Variables"]["PACING_TABLE"] == {"Ref": "PacingTable"}


def test_the_model_matches_the_table() -> None:
    from tiktok_publisher.adapters.dynamodb import PacingModel

    attributes = PacingModel.get_attributes()
    assert [name for name, a in attributes.items() if a.is_hash_key] == ["key"]
    assert not any(a.is_range_key for a in attributes.values())
    assert "expires_at" in attributes


def _tables_of(role: dict[str, Any]) -> set[str]:
    found = set()
    for policy in role["Properties"].get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            resources = (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            )
            found.update(str(r) for r in resources if "PacingTable" in str(r))
    return found


def test_only_the_functions_that_call_paced_endpoints_may_use_it() -> None:
    roles = {k: r for k, r in CFN["Resources"].items() if r["Type"] == "AWS::IAM::Role"}
    users = {name for name, role in roles.items() if _tables_of(role)}
    assert users == {"AccountsFunctionRole", "PublishFunctionRole", "PublishWorkerFunctionRole"}
