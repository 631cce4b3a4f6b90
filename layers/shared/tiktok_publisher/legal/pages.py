"""The privacy policy and terms of service TikTok's reviewers read, filled from the operator's parameters.

`render_page` is pure: a template text (the packaged one, or an operator's own file with the same
placeholders) and `LegalParams` in, HTML out. Every value is HTML-escaped; the scope table is built here
from escaped pieces. A template that names an unknown placeholder fails loudly (KeyError), never renders
a half-filled page.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
from collections.abc import Iterable, Mapping
from importlib import resources
from string import Template
from typing import Literal

PageName = Literal["privacy", "terms"]
PAGES: tuple[PageName, ...] = ("privacy", "terms")

# Why the product asks TikTok for each scope, in the words the pages (and the review checklist) use.
SCOPE_PURPOSES: Mapping[str, str] = {
    "user.info.basic": (
        "Identify the connected account (open ID) and show its display name and avatar, so you always see "
        "which TikTok account you are posting to."
    ),
    "user.info.profile": (
        "Show the account's @username next to its name in the account list and the post form."
    ),
    "user.info.stats": "Show the account's follower, like and video counts.",
    "video.list": "List the account's public videos.",
    "video.publish": (
        "Read your current posting settings (creator info) when the post form opens, publish the video or "
        "photos you chose directly to your profile when you press Publish, and report the post's status."
    ),
    "video.upload": (
        'Send a video to your TikTok inbox as a draft when you choose "Send to TikTok inbox"; you finish and '
        "post it in the TikTok app."
    ),
}

DEFAULT_RETENTION_DAYS = 365
_EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$")
_URL = re.compile(r"^https?://[^\s<>\"']+$")


@dataclasses.dataclass(frozen=True)
class LegalParams:
    """What an operator fills in (template parameters), plus what the stack already knows."""

    company_name: str
    contact_email: str
    product_url: str
    data_retention_days: int
    log_retention_days: int
    scopes: tuple[str, ...]
    effective_date: dt.date
    upload_retention_days: int = 7

    def __post_init__(self) -> None:
        problems = list(self.problems())
        if problems:
            raise ValueError("legal page parameters: " + "; ".join(problems))

    def problems(self) -> Iterable[str]:
        """Each parameter that cannot go on a page a reviewer reads, with what to fix."""
        if not self.company_name.strip():
            yield "company name is empty (template parameter CompanyName)"
        if not _EMAIL.match(self.contact_email):
            yield "contact email must be an address like privacy@example.com (parameter ContactEmail)"
        if not _URL.match(self.product_url):
            yield "product URL must start with https:// or http:// (template parameter ProductUrl)"
        for name in ("data_retention_days", "log_retention_days", "upload_retention_days"):
            if getattr(self, name) < 1:
                yield f"{name} must be at least 1"
        if not self.scopes:
            yield "no scopes listed"
        unexplained = [s for s in self.scopes if s not in SCOPE_PURPOSES]
        if unexplained:
            yield f"no stated purpose for scope(s) {', '.join(unexplained)}"


def legal_params(
    *,
    company_name: str | None,
    contact_email: str | None,
    product_url: str | None,
    effective_date: str | None,
    data_retention_days: int | None,
    log_retention_days: int | None,
    scopes: Iterable[str],
) -> LegalParams:
    """LegalParams from the deployment's settings; ValueError naming every template parameter to fix."""
    try:
        date = dt.date.fromisoformat(effective_date or "")
    except ValueError:
        date = None
    if date is None:
        # Checked here, with the others, so the operator sees every missing parameter at once.
        other = _other_problems(company_name, contact_email, product_url, data_retention_days, scopes)
        raise ValueError(
            "legal page parameters: "
            + "; ".join(["effective date must be YYYY-MM-DD (template parameter LegalEffectiveDate)", *other])
        )
    return LegalParams(
        company_name=company_name or "",
        contact_email=contact_email or "",
        product_url=product_url or "",
        data_retention_days=data_retention_days or DEFAULT_RETENTION_DAYS,
        log_retention_days=log_retention_days or DEFAULT_RETENTION_DAYS,
        scopes=tuple(scopes),
        effective_date=date,
    )


def _other_problems(
    company_name: str | None,
    contact_email: str | None,
    product_url: str | None,
    data_retention_days: int | None,
    scopes: Iterable[str],
) -> list[str]:
    try:
        LegalParams(
            company_name=company_name or "",
            contact_email=contact_email or "",
            product_url=product_url or "",
            data_retention_days=data_retention_days or DEFAULT_RETENTION_DAYS,
            log_retention_days=DEFAULT_RETENTION_DAYS,
            scopes=tuple(scopes),
            effective_date=dt.date(2000, 1, 1),
        )
    except ValueError as exc:
        return str(exc).removeprefix("legal page parameters: ").split("; ")
    return []


def scope_purposes(scopes: Iterable[str]) -> list[tuple[str, str]]:
    """(scope, why) for each scope, in the given order; KeyError for a scope without a stated purpose."""
    return [(scope, SCOPE_PURPOSES[scope]) for scope in scopes]


def _days(days: int) -> str:
    if days % 365 == 0:
        years = days // 365
        return f"{years} year" + ("s" if years > 1 else "")
    return f"{days} day" + ("s" if days > 1 else "")


def page_values(params: LegalParams) -> dict[str, str]:
    """The placeholders every template may use, each already HTML-escaped."""
    esc = html.escape
    rows = "\n".join(
        f'      <tr><th scope="row"><code>{esc(scope)}</code></th><td>{esc(why)}</td></tr>'
        for scope, why in scope_purposes(params.scopes)
    )
    return {
        "company_name": esc(params.company_name.strip()),
        "contact_email": esc(params.contact_email),
        "product_url": esc(params.product_url),
        "data_retention": esc(_days(params.data_retention_days)),
        "data_retention_days": str(params.data_retention_days),
        "log_retention_days": str(params.log_retention_days),
        "upload_retention_days": str(params.upload_retention_days),
        "effective_date": params.effective_date.isoformat(),
        "scope_list": esc(", ".join(params.scopes)),
        "scope_rows": rows,
    }


def render_page(template_text: str, params: LegalParams) -> str:
    """Fill `template_text` (string.Template placeholders such as ${company_name}) with escaped values."""
    return Template(template_text).substitute(page_values(params))


def packaged_template(page: PageName) -> str:
    """The template shipped with the package for `page`."""
    if page not in PAGES:
        raise KeyError(page)
    return resources.files(__package__).joinpath("templates", f"{page}.html").read_text(encoding="utf-8")
