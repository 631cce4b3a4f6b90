"""DNS and HTTP for webhooks to the SaaS (ports.WebhookTransport).

The feature resolves a host once, checks every address (domain/ssrf.py), and hands the chosen address here:
the connection goes to that address, never to a new lookup, so an answer that changes between the check and
the connection (DNS rebinding) cannot redirect it. For https the TLS handshake still names and verifies the
host (SNI and certificate hostname), so connecting by address loses nothing. No redirect is followed, no
retry is made here (the queue retries), the whole attempt is bounded in time and at most
`max_response_bytes` of the answer are read.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Mapping

import urllib3
from urllib3.exceptions import HTTPError, ProtocolError, SSLError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from tiktok_publisher.domain.outbound import TransportResult
from tiktok_publisher.domain.ssrf import WebhookUrl

USER_AGENT = "tiktok-publisher-webhooks/1"


class HttpWebhookTransport:
    """Resolve with the system resolver; POST with urllib3 to a fixed address."""

    def __init__(
        self,
        *,
        connect_timeout: float = 3.05,
        total_timeout: float = 15.0,
        max_response_bytes: int = 64 * 1024,
        ca_certs: str | None = None,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.total_timeout = total_timeout
        self.max_response_bytes = max_response_bytes
        self._ca_certs = ca_certs

    @property
    def ca_certs(self) -> str:
        if self._ca_certs is None:
            import certifi

            self._ca_certs = certifi.where()
        return self._ca_certs

    def resolve(self, host: str, port: int) -> list[str]:
        try:
            answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError, OSError):
            return []
        found: list[str] = []
        for _family, _type, _proto, _canon, sockaddr in answers:
            address = str(sockaddr[0])
            if address not in found:
                found.append(address)
        return found

    def post(self, url: WebhookUrl, address: str, headers: Mapping[str, str], body: bytes) -> TransportResult:
        started = time.monotonic()
        timeout = urllib3.Timeout(connect=self.connect_timeout, read=self.total_timeout)
        pool: urllib3.HTTPConnectionPool
        if url.scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                address,
                url.port,
                timeout=timeout,
                retries=False,
                maxsize=1,
                cert_reqs="CERT_REQUIRED",
                ca_certs=self.ca_certs,
                server_hostname=url.host,
                assert_hostname=url.host,
            )
        else:
            pool = urllib3.HTTPConnectionPool(address, url.port, timeout=timeout, retries=False, maxsize=1)
        sent = {
            **headers,
            "Host": url.host_header,
            "User-Agent": USER_AGENT,
            "Content-Type": "application/json",
            "Content-Length": str(len(body)),
        }
        try:
            response = pool.urlopen(
                "POST",
                url.target,
                body=body,
                headers=sent,
                redirect=False,
                retries=False,
                preload_content=False,
                assert_same_host=False,
            )
            try:
                self._drain(response, started)
            finally:
                response.release_conn()
            return TransportResult(response.status, _ms(started))
        except _Deadline:
            return TransportResult(None, _ms(started), "timeout")
        except SSLError:
            return TransportResult(None, _ms(started), "tls_error")
        except Urllib3Timeout:
            return TransportResult(None, _ms(started), "timeout")
        except (ProtocolError, HTTPError, OSError):
            return TransportResult(None, _ms(started), "connection_error")
        finally:
            pool.close()

    def _drain(self, response: urllib3.BaseHTTPResponse, started: float) -> None:
        """Read at most max_response_bytes of the answer within the total time; the rest is dropped."""
        read = 0
        while read < self.max_response_bytes:
            if time.monotonic() - started > self.total_timeout:
                raise _Deadline
            chunk = response.read(min(8192, self.max_response_bytes - read))
            if not chunk:
                return
            read += len(chunk)


class _Deadline(Exception):
    """The attempt ran out of its total time while the receiver was still sending."""


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
