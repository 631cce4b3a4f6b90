"""The consent page a person (or a headless browser) clicks through, and the error page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Response, render_template_string

from .config import TestAccount

if TYPE_CHECKING:
    from .oauth import AuthorizeRequest

SCOPE_LABELS = {
    "user.info.basic": "Read your profile info (avatar, display name)",
    "user.info.profile": "Read your profile details (username, bio, verified badge)",
    "user.info.stats": "Read your follower, like and video counts",
    "video.list": "Read your public videos",
    "video.publish": "Post content to your TikTok account",
    "video.upload": "Upload content to your TikTok drafts",
}

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Authorize {{ app_name }} - TikTok (emulator)</title>
<style>body{font-family:sans-serif;max-width:34em;margin:2em auto}fieldset{margin:1em 0}
button{padding:.5em 1.5em;margin-right:1em}</style></head>
<body>
<h1 id="app-name">{{ app_name }}</h1>
<p>wants to access your TikTok account. <small>(TikTok emulator: no real account is used.)</small></p>
<form id="consent-form" method="post" action="/v2/auth/authorize/">
  {% for name, value in hidden %}<input type="hidden" name="{{ name }}" value="{{ value }}">
  {% endfor %}
  <fieldset id="accounts"><legend>Log in as</legend>
  {% for account in accounts %}
    <label for="account-{{ account.name }}"><input type="radio" name="account" id="account-{{ account.name }}"
      value="{{ account.name }}"{% if account.name == default_account %} checked{% endif %}>
      {{ account.display_name }} (@{{ account.username }}){% if account.private %} - private{% endif %}
      {% if account.banned %} - banned from posting{% endif %}
      {% if targets is not none and account.name not in targets %} - not a sandbox target user{% endif %}
      </label><br>
  {% endfor %}
  </fieldset>
  <fieldset id="scopes"><legend>Permissions</legend>
  {% for scope in scopes %}
    <label for="scope-{{ scope | replace('.', '-') }}"><input type="checkbox" name="grant"
      id="scope-{{ scope | replace('.', '-') }}" value="{{ scope }}" checked>
      {{ labels.get(scope, scope) }} <code>{{ scope }}</code></label><br>
  {% endfor %}
  </fieldset>
  <button type="submit" id="authorize" name="decision" value="authorize">Authorize</button>
  <button type="submit" id="cancel" name="decision" value="cancel">Cancel</button>
</form>
</body></html>"""

_ERROR = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Something went wrong - TikTok (emulator)</title></head>
<body><h1>Something went wrong</h1>
<p>We couldn't log in with TikTok. This may be due to specific app settings.</p>
<p>If you're a developer, correct the following and try again:</p>
<p id="error" data-error="{{ error }}">{{ error }}: {{ description }}</p></body></html>"""


def consent_page(
    app_name: str,
    req: AuthorizeRequest,
    accounts: list[TestAccount],
    default_account: str,
    targets: list[str] | None = None,
) -> Response:
    """The HTML consent page for a validated authorize request (`targets`: sandbox target users)."""
    hidden = [
        ("client_key", req.client_key),
        ("redirect_uri", req.redirect_uri),
        ("response_type", req.response_type),
        ("scope", ",".join(req.scopes)),
        ("state", req.state or ""),
        ("code_challenge", req.code_challenge or ""),
        ("code_challenge_method", req.code_challenge_method or ""),
    ]
    html = render_template_string(
        _PAGE,
        app_name=app_name,
        hidden=hidden,
        accounts=accounts,
        default_account=default_account,
        scopes=req.scopes,
        labels=SCOPE_LABELS,
        targets=targets,
    )
    return Response(html, mimetype="text/html")


def error_page(error: str, description: str, status: int = 400) -> Response:
    """Shown instead of redirecting when the client or redirect_uri cannot be trusted."""
    html = render_template_string(_ERROR, error=error, description=description)
    return Response(html, status=status, mimetype="text/html")
