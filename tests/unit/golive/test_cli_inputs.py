"""The go-live tool refuses input it cannot use before it touches AWS or the network: exit status 2 and a
message that says what to give instead. (With a target, against the local stack: tests/e2e/golive.)"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tiktok_publisher.entrypoints.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    out = io.StringIO()
    status = main(list(argv), stdin=io.StringIO(""), out=out)
    return status, out.getvalue(), capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["check"], "which stack? give --stack NAME"),
        (["verify-domain", "--stack", "s", "--prefix", "http://media.example.com/t/"], "plain http"),
        (["verify-domain", "--local", "--prefix", "http://media.example.com/"], "accepted only on loopback"),
        (["verify-domain", "--stack", "s", "--prefix", "ftp://media.example.com/"], "not a URL prefix"),
        (["verify-domain", "--stack", "s", "--prefix", "https://media.example.com/?v=1"], "no query string"),
        (
            ["verify-domain", "--domain", "https://media.example.com/x", "--txt-value", "v"],
            "not a domain name",
        ),
        (["verify-domain", "--domain", "media.example.com"], "needs --txt-value"),
        (["configure", "--stack", "s"], "nothing to set"),
        (["configure", "--stack", "s", "--client-key", "not a key"], "client_key must be"),
        (["configure", "--stack", "s", "--cloudfront-key-pair-id", "K1"], "go together"),
        (["configure", "--stack", "s", "--client-secret-file", "/nonexistent/secret"], "cannot read"),
    ],
)
def test_unusable_input_is_refused_before_any_call(capsys, argv, message):
    status, out, err = run(capsys, *argv)

    assert status == 2
    assert err.startswith("error: ")
    assert message in err
    assert out == ""


def test_the_client_secret_comes_from_stdin_and_is_checked(capsys, tmp_path: Path):
    secret_file = tmp_path / "secret"
    secret_file.write_text(" \n")

    status, _, err = run(capsys, "configure", "--stack", "s", "--client-secret-file", str(secret_file))

    assert status == 2
    assert "client_secret is empty" in err


def test_dns_record_needs_no_stack(capsys):
    status, out, _ = run(capsys, "verify-domain", "--domain", "media.example.com", "--txt-value", "v=1")

    assert status == 0
    assert 'value  "v=1"' in out
