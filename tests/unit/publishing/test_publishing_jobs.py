"""Job messages: old bodies still parse, steps keep their old shape, reconcile jobs round-trip."""

from __future__ import annotations

import json

from tiktok_publisher.domain.jobs import RECONCILE, STEP, Job
from tiktok_publisher.domain.status import RECONCILE_WINDOW_S, reconcile_open, reconcile_until


def test_a_message_without_kind_is_a_step() -> None:
    job = Job.from_json('{"tenant_id":"t","post_id":"p","attempt":2,"poll":3}')
    assert job == Job("t", "p", attempt=2, poll=3, kind=STEP)


def test_a_step_body_has_no_kind_and_a_reconcile_job_round_trips() -> None:
    step = Job("t", "p", attempt=1, poll=4)
    assert json.loads(step.to_json()) == {"tenant_id": "t", "post_id": "p", "attempt": 1, "poll": 4}
    reconcile = step.reconciling()
    assert reconcile == Job("t", "p", kind=RECONCILE)
    assert Job.from_json(reconcile.to_json()) == reconcile


def test_reconcile_window() -> None:
    until = reconcile_until(1000.5)
    assert until == 1000 + RECONCILE_WINDOW_S
    assert reconcile_open(until, until)
    assert not reconcile_open(until, until + 1)
    assert not reconcile_open(None, 0)
