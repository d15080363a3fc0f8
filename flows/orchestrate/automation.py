"""A Prefect automation that calls a webhook when an archive or reprocess run fails or crashes.

    python -m flows.orchestrate.automation --webhook-url https://hooks.example.org/newsvault

(``PREFECT_API_URL`` names the server.) It saves a ``Webhook`` block (``newsvault-alerts``) and
creates (or replaces) the automation ``newsvault-failed-runs``: on the event
``prefect.flow-run.Failed`` or ``.Crashed`` of the flows ``archive-site``/``reprocess``, POST a
JSON body naming the flow run, its state message (a failed health check says what to look at)
and its URL in the UI. Any chat or paging tool that accepts an incoming webhook can receive it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from uuid import UUID

from prefect.automations import Automation
from prefect.blocks.webhook import Webhook
from prefect.events.actions import CallWebhook
from prefect.events.schemas.automations import EventTrigger, Posture
from pydantic import SecretStr

AUTOMATION = "newsvault-failed-runs"
BLOCK = "newsvault-alerts"
FLOWS = ("archive-site", "reprocess")
PAYLOAD = (
    '{"text": "newsvault: {{ flow.name }} run {{ flow_run.name }} is {{ flow_run.state.name }}:'
    " {{ flow_run.state.message | replace('\"', '\\'') }}\","
    ' "flow_run_id": "{{ flow_run.id }}", "url": "{{ flow_run|ui_url }}"}'
)


def failed_runs_trigger() -> EventTrigger:
    return EventTrigger(
        expect={"prefect.flow-run.Failed", "prefect.flow-run.Crashed"},
        match={"prefect.resource.id": "prefect.flow-run.*"},
        match_related={"prefect.resource.role": "flow", "prefect.resource.name": list(FLOWS)},
        posture=Posture.Reactive,
        threshold=1,
    )


def create_failed_runs_automation(webhook_url: str, *, allow_private: bool = False) -> UUID:
    """Save the webhook block and (re)create the automation; returns the automation's id."""
    block = Webhook(method="POST", url=SecretStr(webhook_url), allow_private_urls=allow_private)
    block_id = block.save(BLOCK, overwrite=True)
    assert isinstance(block_id, UUID)  # sync call: not a coroutine
    try:
        existing = Automation.read(name=AUTOMATION)
    except ValueError:
        existing = None  # not there yet
    if isinstance(existing, Automation):
        existing.delete()
    automation = Automation(
        name=AUTOMATION,
        description="Call the newsvault-alerts webhook when an archive or reprocess run fails",
        trigger=failed_runs_trigger(),
        actions=[CallWebhook(block_document_id=block_id, payload=PAYLOAD)],
    ).create()
    assert isinstance(automation, Automation) and automation.id is not None
    return automation.id


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m flows.orchestrate.automation", description=__doc__
    )
    parser.add_argument("--webhook-url", required=True)
    parser.add_argument(
        "--allow-private", action="store_true", help="allow a webhook on a private address"
    )
    args = parser.parse_args(argv)
    automation_id = create_failed_runs_automation(
        args.webhook_url, allow_private=args.allow_private
    )
    print(f"automation {AUTOMATION} ({automation_id}) calls block {BLOCK} on failed runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
