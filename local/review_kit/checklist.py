"""docs/review/CHECKLIST.md (the committed template) filled with what the kit recorded. Pure."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from string import Template

from .flow import Step

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = REPO_ROOT / "docs" / "review" / "CHECKLIST.md"

# TikTok's content sharing guidelines (TIKTOK-API.md §8) and the flow step that shows each.
GUIDELINES: tuple[tuple[str, str], ...] = (
    ("Creator's nickname shown on the post form", "composer"),
    ("Privacy chosen from the creator's options, no default", "privacy"),
    ("Interactions off by default; those the creator disabled greyed out", "interactions"),
    ("Commercial content disclosure with Your brand / Branded content", "disclosure"),
    ("Declaration with the Music Usage Confirmation above Publish", "declaration"),
    ("Upload only after the user presses Publish", "publish"),
    ("The outcome of the post shown to the user", "published"),
    ("Privacy policy and terms of service linked from the app", "legal"),
)


@dataclasses.dataclass(frozen=True)
class ChecklistValues:
    """Everything the checklist names."""

    company_name: str
    product_url: str
    privacy_url: str
    terms_url: str
    redirect_uri: str
    webhook_url: str
    scopes: Sequence[tuple[str, str]]
    data_retention: str
    audited: bool
    pull_prefix: str | None
    local: bool
    generated_at: str
    video_file: str
    video_duration: float
    video_bytes: int
    video_codec: str
    video_resolution: str


def _md(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60:02d}:{whole % 60:02d}"


def _size(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB" if count >= 100_000 else f"{count / 1000:.0f} kB"


def fill(template: str, values: ChecklistValues, steps: Sequence[Step]) -> str:
    """The template with every placeholder filled; KeyError if the template names an unknown one."""
    by_key = {s.key: s for s in steps}
    step_rows = "\n".join(
        f"| {_clock(s.started)} | {s.number}. {_md(s.title)} | {_md(s.caption)} "
        f"| `screenshots/{s.screenshot}` |"
        for s in steps
    )

    def shown_at(key: str) -> str:
        step = by_key.get(key)
        return f"{_clock(step.started)} (step {step.number})" if step else "not in this recording"

    guideline_rows = "\n".join(f"| {_md(text)} | {shown_at(key)} |" for text, key in GUIDELINES)
    scope_rows = "\n".join(f"| `{scope}` | {_md(why)} |" for scope, why in values.scopes)
    url_note = (
        "\n> These URLs are the **local stack's**. Run `python -m tiktok_publisher.cli portal-values` "
        "against your deployed stack for the ones to register, or re-run the kit with `--public-url`.\n"
        if values.local
        else ""
    )
    pull_note = (
        f"PULL_FROM_URL from the verified prefix `{values.pull_prefix}`"
        if values.pull_prefix
        else "FILE_UPLOAD only (no media URL prefix configured)"
    )
    audit_sentence = (
        "The app is audited: posts may be public."
        if values.audited
        else "Until the audit, the app posts only SELF_ONLY to private accounts and says so in the form."
    )
    return Template(template).substitute(
        company_name=values.company_name,
        product_url=values.product_url,
        privacy_url=values.privacy_url,
        terms_url=values.terms_url,
        redirect_uri=values.redirect_uri,
        webhook_url=values.webhook_url,
        data_retention=values.data_retention,
        generated_at=values.generated_at,
        stack_kind="local stack (`make run`)" if values.local else "deployed stack",
        url_note=url_note,
        pull_note=pull_note,
        scope_rows=scope_rows,
        video_file=values.video_file,
        video_duration=f"{values.video_duration:.1f}",
        video_size=_size(values.video_bytes),
        video_codec=values.video_codec,
        video_resolution=values.video_resolution,
        step_rows=step_rows,
        guideline_rows=guideline_rows,
        audit_sentence=audit_sentence,
    )


def template_text() -> str:
    """The committed template, without its leading HTML comment (which is for editors of the template)."""
    text = TEMPLATE.read_text(encoding="utf-8")
    if text.startswith("<!--"):
        text = text[text.index("-->") + 3 :].lstrip("\n")
    return text
