"""template.yaml for webhooks to the SaaS: the FIFO queue and its dead letters, the bus rule, scoped IAM."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from local_stack.template import Resolver, build_model, load_sam_template, parameter_values, translate
from tiktok_publisher.domain.outbound import EVENT_TYPES, MAX_ATTEMPTS, RETRY_DELAYS_S

ROOT = Path(__file__).resolve().parents[3]
SAM = load_sam_template(ROOT / "template.yaml")
RES = SAM["Resources"]
CFN = translate(SAM, parameter_values(SAM, {}))


def _model() -> Any:
    return build_model(SAM, Resolver(SAM, parameter_values(SAM, {"Stage": "dev"})))


def test_the_delivery_queue_is_fifo_outlives_the_retries_and_has_a_dead_letter_queue() -> None:
    props = RES["WebhookDeliveryQueue"]["Properties"]
    assert props["FifoQueue"] is True
    assert RES["WebhookDeliveryDeadLetterQueue"]["Properties"]["FifoQueue"] is True
    assert props["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["WebhookDeliveryDeadLetterQueue", "Arn"]
    }
    assert props["RedrivePolicy"]["maxReceiveCount"] > MAX_ATTEMPTS
    assert props["MessageRetentionPeriod"] > sum(RETRY_DELAYS_S) + 3600
    function = _model().functions["WebhookDeliveryFunction"]
    assert props["VisibilityTimeout"] > function.timeout
    (source,) = [s for s in _model().sqs_sources if s.function == "WebhookDeliveryFunction"]
    assert source.queue == "WebhookDeliveryQueue"
    assert source.report_batch_item_failures is True


def test_the_fan_out_rule_takes_every_event_type_from_the_project_bus() -> None:
    (rule,) = [r for r in _model().event_rules if r.function == "WebhookFanoutFunction"]
    assert rule.function == "WebhookFanoutFunction"
    assert rule.bus == "EventBus"
    assert rule.pattern["source"] == ["tiktok-publisher"]
    assert set(rule.pattern["detail-type"]) == set(EVENT_TYPES.values())
    event = RES["WebhookFanoutFunction"]["Properties"]["Events"]["BusEvents"]["Properties"]
    assert event["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["WebhookFanoutDeadLetterQueue", "Arn"]}


def test_dead_letter_queues_have_alarms() -> None:
    watched = {
        a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for a in RES.values()
        if a["Type"] == "AWS::CloudWatch::Alarm" and a["Properties"]["Namespace"] == "AWS/SQS"
    }
    assert {"WebhookDeliveryDeadLetterQueue", "WebhookFanoutDeadLetterQueue"} <= watched


def _actions_and_resources(role: str) -> list[tuple[list[str], Any]]:
    found = []
    for policy in CFN["Resources"][role]["Properties"].get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            found.append((actions, statement["Resource"]))
    return found


def test_each_webhook_function_reaches_only_its_own_resources() -> None:
    roles = ("WebhookEndpointsFunctionRole", "WebhookFanoutFunctionRole", "WebhookDeliveryFunctionRole")
    text = {role: repr(_actions_and_resources(role)) for role in roles}
    for role, policies in text.items():
        # None of them reads the app secret, the accounts or the posts
        for other in ("AppSecret", "AccountsTable", "PostsTable", "MediaBucket", "PublishQueue"):
            assert other not in policies, (role, other)
    # The fan-out only reads endpoints, writes deliveries, sends to the queue: no KMS, no bus
    fanout = _actions_and_resources("WebhookFanoutFunctionRole")
    assert not any(a.startswith("kms:") for actions, _ in fanout for a in actions)
    assert not any(a.startswith("events:") for actions, _ in fanout for a in actions)
    endpoint_writes = [actions for actions, resource in fanout if "WebhookEndpointsTable" in repr(resource)]
    assert endpoint_writes
    assert not any(a in ("dynamodb:PutItem", "dynamodb:DeleteItem") for w in endpoint_writes for a in w)
    # Only the delivery function may hold a message back (ChangeMessageVisibility) and emit "disabled"
    delivery = repr(_actions_and_resources("WebhookDeliveryFunctionRole"))
    assert "sqs:ChangeMessageVisibility" in delivery
    assert "events:PutEvents" in delivery
    assert "sqs:ChangeMessageVisibility" not in text["WebhookEndpointsFunctionRole"]
