"""LocalStack: moto's server, the template's resources, the TikTok emulator, the functions and the gateway.

with LocalStack() as stack:            # everything on free loopback ports
    token = stack.dev_token("tenant-a", "user-1")
    requests.get(f"{stack.gateway_url}/v1/accounts", headers={"Authorization": f"Bearer {token}"})
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import queue
import re
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import boto3
import jwt
from jwt.warnings import InsecureKeyLengthWarning

from . import procs, provision
from .delivery import (
    S3_BRIDGE_QUEUE,
    Delivery,
    DeliveryLog,
    EventRuleBridge,
    S3Bridge,
    ScheduleTimer,
    SqsPoller,
)
from .events import scheduled_event
from .functions import FunctionPool, InvocationResult
from .gateway import Gateway
from .template import (
    ACCOUNT_ID,
    REGION,
    Resolver,
    StackModel,
    build_model,
    load_sam_template,
    parameter_values,
    rate_seconds,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
JWT_AUDIENCE = "tiktok-publisher"
LOCAL_CLIENT_KEY = "sbawlocaldevkey"
LOCAL_CLIENT_SECRET = "local-dev-client-secret"
LOCAL_COMPANY_NAME = "Local Demo Publisher"
LOCAL_CONTACT_EMAIL = "privacy@example.com"
CALLBACK_PATH = "/v1/oauth/tiktok/callback"
WEBHOOK_PATH = "/v1/webhooks/tiktok"


class LocalStack:
    """The whole local stack; a context manager. Ports 0 (the default in tests) pick free ports."""

    def __init__(
        self,
        *,
        template_path: str | Path = REPO_ROOT / "template.yaml",
        host: str = "127.0.0.1",
        gateway_port: int = 0,
        moto_port: int = 0,
        emulator_port: int = 0,
        tiktok_api_base: str | None = None,
        tiktok_auth_base: str | None = None,
        jwt_secret: str | None = None,
        schedule_interval: float | None = 0,
        parameter_overrides: dict[str, str] | None = None,
        code_overrides: dict[str, str | Path] | None = None,
        extra_env: dict[str, str] | None = None,
        max_concurrency: int = 4,
        prewarm: bool = False,
        quiet: bool = False,
        stack_name: str = "tiktok-publisher-local",
    ) -> None:
        """`schedule_interval`: None = each schedule's template rate, 0 = on demand only, N = every N s.

        `code_overrides` maps a function (logical id or code dir name) to another code directory, so
        tests can put a probe handler behind a route or event source.
        """
        self.template_path = Path(template_path)
        self.host = host
        self._ports = {"gateway": gateway_port, "moto": moto_port, "emulator": emulator_port}
        self._tiktok_api_base = tiktok_api_base
        self._tiktok_auth_base = tiktok_auth_base
        # None: the key GenerateSecretString made for JwtSecret (read back after provisioning).
        self._jwt_secret_override = jwt_secret or os.environ.get("LOCAL_JWT_SECRET") or None
        self.jwt_secret = ""
        self.schedule_interval = schedule_interval
        self._parameter_overrides = dict(parameter_overrides or {})
        self._code_overrides = {k: str(v) for k, v in (code_overrides or {}).items()}
        self._extra_env = dict(extra_env or {})
        self.max_concurrency = max_concurrency
        self.prewarm = prewarm
        self.quiet = quiet
        self.stack_name = stack_name

        self.moto_url = ""
        self.gateway_url = ""
        self.emulator_url: str | None = None
        self.tiktok_api_base = ""
        self.tiktok_auth_base = ""
        self.deployment: provision.Deployment | None = None
        self.model: StackModel | None = None
        self.params: dict[str, str] = {}
        self.resources: dict[str, str] = {}
        self.function_envs: dict[str, dict[str, str]] = {}
        self.pools: dict[str, FunctionPool] = {}
        self.deliveries = DeliveryLog()
        self.app_secret_id = ""
        self._children: list[Any] = []
        self._loops: list[Any] = []
        self._gateway: Gateway | None = None
        self._started = False
        self._stopped = threading.Event()

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> LocalStack:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> LocalStack:
        """Boot everything; returns when the gateway answers."""
        if self._started:
            return self
        self._started = True
        self._start_moto()
        # The gateway's port goes into the emulator's config and the functions' environment, so the
        # socket is bound first; the emulator boots while moto creates the stack.
        self._gateway = Gateway(self, [], {}, None, api_id="local", quiet=self.quiet)
        gateway_port = self._gateway.bind(self.host, self._ports["gateway"])
        self.gateway_url = f"http://{self.host}:{gateway_port}"
        sam = load_sam_template(self.template_path)
        overrides = {"Stage": "local", **self._local_legal_parameters(), **self._parameter_overrides}
        self.params = parameter_values(sam, overrides)
        # The gateway's own origin is where the console runs: the API and the bucket's CORS must allow it.
        self.params["AllowedReturnOrigins"] = ",".join(self._allowed_origins())
        emulator = self._spawn_emulator()
        self.deployment = provision.deploy(self.moto_url, sam, self.params, self.stack_name)
        self.resources = dict(self.deployment.physical)
        resolver = Resolver(
            self.deployment.template,
            self.params,
            self.deployment.physical,
            self.deployment.attributes,
            stack_name=self.stack_name,
        )
        self.model = build_model(sam, resolver)
        self._wait_emulator(emulator)
        self._seed_secret()
        self._start_functions(sam, resolver)
        cors = dict(self.model.cors or {})
        if cors:
            cors["AllowOrigins"] = self._allowed_origins()
        api_id = next(
            (k for k, t in self.deployment.emulated.items() if t == "AWS::ApiGatewayV2::Api"), "local"
        )
        self._gateway.configure(self.model.routes, self.model.authorizers, cors or None, api_id)
        self._gateway.start()
        self._start_delivery()
        return self

    def stop(self) -> None:
        """Stop delivery, the gateway, every function environment and child process. Idempotent."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        for loop in self._loops:
            loop.stop()
        if self._gateway is not None:
            self._gateway.stop()
        for pool in self.pools.values():
            pool.close()
        for loop in self._loops:
            loop.join(timeout=3)
        for child in reversed(self._children):
            procs.stop(child)

    def pids(self) -> list[int]:
        """Process ids of every live child (moto, emulator, function environments)."""
        pids = [c.pid for c in self._children if c.poll() is None]
        for pool in self.pools.values():
            pids.extend(pool.pids())
        return pids

    # ------------------------------------------------------------------ boot steps
    def _start_moto(self) -> None:
        process = procs.spawn(
            [
                sys.executable,
                "-m",
                "local_stack.moto_main",
                "--host",
                self.host,
                "--port",
                str(self._ports["moto"]),
            ],
            env=self._child_env(),
        )
        self._children.append(process)
        line = _first_line(process, timeout=30)
        self.moto_url = f"http://{self.host}:{json.loads(line)['port']}"
        assert process.stdout is not None
        procs.pump_lines(process.stdout, "[moto]", (lambda _l: None) if self.quiet else None)

    def _spawn_emulator(self) -> Any:
        """Start the TikTok emulator unless TikTok's base URL points elsewhere."""
        if self._tiktok_api_base is not None:
            return None
        args = [
            sys.executable, "-m", "local_stack.run_module", "tiktok_emulator", "--host", self.host,
            "--port", str(self._ports["emulator"]),
            "--redirect-uri", self.gateway_url + CALLBACK_PATH,
            "--webhook-url", self.gateway_url + WEBHOOK_PATH,
            # moto's origin is the stack's "verified domain": presigned GETs on it can be pulled (http is
            # allowed on loopback). Functions use it by default (_media_pull: MEDIA_PULL_MODE=s3 on moto).
            "--verified-prefix", self.moto_url + "/",
        ]  # fmt: skip
        if self.params.get("AppAudited") == "true":
            args.append("--audited")  # the app TikTok audited is the emulator's app: public posts allowed
        if self.quiet:
            args.append("--quiet")
        process = procs.spawn(args, env=self._child_env())
        self._children.append(process)
        return process

    def _wait_emulator(self, process: Any) -> None:
        api_base = self._tiktok_api_base
        if process is not None:
            url = re.compile(r"(https?://[^\s]+)")
            found = url.search(_first_line(process, timeout=30, pattern=url))
            assert found is not None
            self.emulator_url = found.group(1).rstrip("/")
            procs.pump_lines(process.stdout, "[tiktok]", (lambda _l: None) if self.quiet else None)
            api_base = self.emulator_url
        assert api_base is not None
        self.tiktok_api_base = api_base.rstrip("/")
        self.tiktok_auth_base = (self._tiktok_auth_base or api_base).rstrip("/")

    def _child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}
        )
        env.pop("AWS_ENDPOINT_URL", None)
        return env

    def _local_legal_parameters(self) -> dict[str, str]:
        """What an operator fills in for the legal pages (docs/go-live.md step 1), so that /legal/* answers
        on a laptop; `--param CompanyName=...` and friends override them."""
        return {
            "CompanyName": LOCAL_COMPANY_NAME,
            "ContactEmail": LOCAL_CONTACT_EMAIL,
            "ProductUrl": self.gateway_url + "/",
            "LegalEffectiveDate": time.strftime("%Y-%m-%d", time.gmtime()),
        }

    def _allowed_origins(self) -> list[str]:
        origins = [o.strip() for o in self.params.get("AllowedReturnOrigins", "").split(",") if o.strip()]
        port = self.gateway_url.rsplit(":", 1)[-1]
        for origin in (self.gateway_url, f"http://localhost:{port}"):
            if origin not in origins:
                origins.append(origin)
        return origins

    def _seed_secret(self) -> None:
        """The local values of what an operator fills in after deploying: the emulator's client credentials.

        The signing keys (JWT, OAuth state, upload ids) were generated by provisioning, as CloudFormation's
        GenerateSecretString does; the dev token is signed with the generated JWT key, unless LOCAL_JWT_SECRET
        (or `jwt_secret`) names one, which then replaces it (the authorizer refuses it under 32 bytes).
        """
        assert self.deployment is not None
        physical = self.deployment.physical
        self.app_secret_id = physical["AppSecret"]
        provision.put_secret_json(
            self.moto_url,
            self.app_secret_id,
            {
                "client_key": os.environ.get("TIKTOK_CLIENT_KEY", LOCAL_CLIENT_KEY),
                "client_secret": os.environ.get("TIKTOK_CLIENT_SECRET", LOCAL_CLIENT_SECRET),
            },
        )
        sm = self.client("secretsmanager")
        if self._jwt_secret_override is not None:
            sm.put_secret_value(SecretId=physical["JwtSecret"], SecretString=self._jwt_secret_override)
        self.jwt_secret = sm.get_secret_value(SecretId=physical["JwtSecret"])["SecretString"]

    def local_overrides(self) -> dict[str, str]:
        """What differs from AWS in every function's environment on the laptop."""
        return {
            **self._media_pull(),
            "STAGE": "local",
            "AWS_ENDPOINT_URL": self.moto_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "TIKTOK_API_BASE": self.tiktok_api_base,
            "TIKTOK_AUTH_BASE": self.tiktok_auth_base,
            # The local TikTok serves upload_urls from its own base: trusted by local configuration only.
            "TIKTOK_UPLOAD_ORIGINS": self.tiktok_api_base,
            # Webhook receivers on this machine (a test's, or a developer's) are reachable locally only.
            "WEBHOOK_ALLOW_LOOPBACK": "true",
            "OAUTH_REDIRECT_URI": self.gateway_url + CALLBACK_PATH,
            "RETURN_TO_ALLOWED_ORIGINS": ",".join(self._allowed_origins()),
            # No X-Ray daemon on a laptop; Powertools would otherwise try to emit segments.
            "POWERTOOLS_TRACE_DISABLED": "true",
            "LOCAL_GATEWAY_URL": self.gateway_url,
            **self._extra_env,
        }

    def _media_pull(self) -> dict[str, str]:
        """PULL_FROM_URL out of the box: TikTok pulls presigned GETs on moto's origin, the prefix the emulator
        verifies (see _spawn_emulator), so photo posts and pulled videos work with no flags. Passing the
        template parameter (`--param MediaPullMode=none`) keeps the template's choice instead."""
        if "MediaPullMode" in self._parameter_overrides:
            return {}
        return {"MEDIA_PULL_MODE": "s3", "MEDIA_PULL_BASE_URL": self.moto_url}

    def _start_functions(self, sam: dict[str, Any], resolver: Resolver) -> None:
        assert self.model is not None
        layer_dirs = [
            str((self.template_path.parent / r["Properties"]["ContentUri"]).resolve())
            for r in sam["Resources"].values()
            if r["Type"] == "AWS::Serverless::LayerVersion"
        ]
        for logical, spec in self.model.functions.items():
            env = {k: _env_str(v) for k, v in resolver.resolve(spec.environment).items() if v is not None}
            env.update(self.local_overrides())
            log_group = _log_group(sam, logical, resolver)
            if log_group:
                env["AWS_LAMBDA_LOG_GROUP_NAME"] = log_group
            self.function_envs[logical] = env
            code_dir = self._code_overrides.get(logical) or self._code_overrides.get(Path(spec.code_uri).name)
            pool = FunctionPool(
                logical_id=logical,
                physical_name=self.resources.get(logical, logical),
                handler=spec.handler,
                code_dir=str(Path(code_dir).resolve())
                if code_dir
                else str((self.template_path.parent / spec.code_uri).resolve()),
                layer_dirs=layer_dirs,
                env=env,
                timeout=spec.timeout,
                memory_size=spec.memory_size,
                max_concurrency=self.max_concurrency,
                quiet=self.quiet,
            )
            self.pools[logical] = pool
            if self.prewarm:
                pool.prewarm()

    def _start_delivery(self) -> None:
        assert self.model is not None
        assert self.deployment is not None
        sqs = self.client("sqs")
        for source in self.model.sqs_sources:
            if not source.enabled:
                continue
            url = self.resources[source.queue]
            poller = SqsPoller(
                sqs=self.client("sqs"),
                name=source.name,
                function=source.function,
                queue_url=url,
                queue_arn=self.deployment.attributes[(source.queue, "Arn")],
                batch_size=source.batch_size,
                report_failures=source.report_batch_item_failures,
                invoke=self.invoke,
                log=self.deliveries,
            )
            self._loops.append(poller)
        if self.model.s3_sources:
            bridge_url = sqs.create_queue(QueueName=S3_BRIDGE_QUEUE, Attributes={"VisibilityTimeout": "2"})[
                "QueueUrl"
            ]
            bridge_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{S3_BRIDGE_QUEUE}"
            targets: dict[str, tuple[str, str]] = {}
            by_bucket: dict[str, list[dict[str, Any]]] = {}
            for s3_source in self.model.s3_sources:
                config_id = f"{s3_source.function}{s3_source.name}"
                targets[config_id] = (s3_source.name, s3_source.function)
                rules = [
                    {"Name": n, "Value": v}
                    for n, v in (("prefix", s3_source.prefix), ("suffix", s3_source.suffix))
                    if v
                ]
                config: dict[str, Any] = {
                    "Id": config_id,
                    "QueueArn": bridge_arn,
                    "Events": list(s3_source.events),
                }
                if rules:
                    config["Filter"] = {"Key": {"FilterRules": rules}}
                by_bucket.setdefault(self.resources[s3_source.bucket], []).append(config)
            s3 = self.client("s3")
            for bucket, configs in by_bucket.items():
                # Replaces the template's Lambda notification, which moto's server cannot invoke.
                s3.put_bucket_notification_configuration(
                    Bucket=bucket, NotificationConfiguration={"QueueConfigurations": configs}
                )
            self._loops.append(
                S3Bridge(self.client("sqs"), bridge_url, targets, self.invoke, self.deliveries)
            )
        for rule in self.model.event_rules:
            self._loops.append(self._bridge_rule(rule))
        for schedule in self.model.schedules:
            if not schedule.enabled or self.schedule_interval == 0:
                continue
            interval = self.schedule_interval or rate_seconds(schedule.expression)
            if interval:
                self._loops.append(
                    ScheduleTimer(
                        schedule.name, functools.partial(self.fire_schedule, schedule.name), float(interval)
                    )
                )
        for loop in self._loops:
            loop.start()

    def _bridge_rule(self, rule: Any) -> EventRuleBridge:
        """Point a template rule at an internal queue (moto cannot invoke its Lambda target) and drain it."""
        sqs, bus_events = self.client("sqs"), self.client("events")
        queue_name = f"local-stack-events-{rule.rule_logical_id}"[:80]
        url = sqs.create_queue(QueueName=queue_name, Attributes={"VisibilityTimeout": "2"})["QueueUrl"]
        arn = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{queue_name}"
        bus = self.resources[rule.bus] if rule.bus else "default"
        rule_name = self.resources.get(rule.rule_logical_id)
        if rule_name is None:  # moto's CloudFormation did not create it: create the rule from the template
            rule_name = rule.rule_logical_id
            bus_events.put_rule(Name=rule_name, EventBusName=bus, EventPattern=json.dumps(rule.pattern))
        rule_name = rule_name.rsplit("/", 1)[-1]
        existing = bus_events.list_targets_by_rule(Rule=rule_name, EventBusName=bus).get("Targets", [])
        if existing:
            bus_events.remove_targets(Rule=rule_name, EventBusName=bus, Ids=[t["Id"] for t in existing])
        bus_events.put_targets(Rule=rule_name, EventBusName=bus, Targets=[{"Id": "local-stack", "Arn": arn}])
        return EventRuleBridge(
            self.client("sqs"), url, rule.name, rule.function, self.invoke, self.deliveries
        )

    # ------------------------------------------------------------------ use
    def function_id(self, name: str) -> str:
        """The logical id of a function given by logical id, code dir (e.g. "accounts") or physical name."""
        assert self.model is not None
        if name in self.model.functions:
            return name
        for logical, spec in self.model.functions.items():
            if name in (Path(spec.code_uri).name, self.resources.get(logical)):
                return logical
        raise KeyError(f"no function {name!r} in the template")

    def invoke(self, function: str, event: Any) -> InvocationResult:
        """Invoke a function synchronously in one of its environments."""
        if self._stopped.is_set():
            raise RuntimeError("the local stack is stopped")
        return self.pools[self.function_id(function)].invoke(event)

    def fire_schedule(self, name: str) -> InvocationResult:
        """Deliver a schedule's event now (by template event name, rule name or rule logical id)."""
        assert self.model is not None
        for schedule in self.model.schedules:
            rule_name = self.resources.get(schedule.rule_logical_id, schedule.rule_logical_id)
            if name in (schedule.name, rule_name, schedule.rule_logical_id):
                rule_arn = f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{rule_name}"
                event = json.loads(schedule.input) if schedule.input else scheduled_event(rule_arn)
                result = self.invoke(schedule.function, event)
                self.deliveries.add(
                    Delivery("schedule", schedule.name, schedule.function, event, result.ok,
                             result.payload if result.ok else result.error)
                )  # fmt: skip
                return result
        raise KeyError(f"no schedule {name!r} in the template")

    def dev_token(
        self, tenant_id: str = "demo-tenant", user_id: str = "demo-user", ttl_seconds: int = 12 * 3600
    ) -> str:
        """A caller JWT the authorizer accepts locally (HS256 with the local JWT secret)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": user_id,
            "tenant_id": tenant_id,
            "aud": self.params.get("JwtAudience", JWT_AUDIENCE) or JWT_AUDIENCE,
            "iat": now,
            "nbf": now,
            "exp": now + ttl_seconds,
        }
        if self.params.get("JwtIssuer"):
            claims["iss"] = self.params["JwtIssuer"]
        with warnings.catch_warnings():
            # Only a LOCAL_JWT_SECRET override can be short (and the authorizer then refuses it, by design).
            warnings.simplefilter("ignore", InsecureKeyLengthWarning)
            return jwt.encode(claims, self.jwt_secret, algorithm="HS256")

    def session(self) -> boto3.session.Session:
        """A boto3 session with the dummy credentials moto accepts."""
        return provision.session()

    def client(self, service: str) -> Any:
        """A boto3 client bound to the stack's moto server."""
        return provision.client(self.moto_url, service)

    def summary(self) -> dict[str, Any]:
        """Names and URLs of everything (no secrets)."""
        assert self.model is not None
        assert self.deployment is not None
        return {
            "stack_name": self.stack_name,
            "gateway_url": self.gateway_url,
            "moto_url": self.moto_url,
            "emulator_url": self.emulator_url,
            "tiktok_api_base": self.tiktok_api_base,
            "resources": self.resources,
            "skipped": self.deployment.skipped,
            "emulated": self.deployment.emulated,
            "supplemented": self.deployment.supplemented,
            "routes": [
                {"routeKey": r.route_key, "function": r.function, "auth": r.authorizer}
                for r in self.model.routes
            ],
            "schedules": [
                {"name": s.name, "function": s.function, "expression": s.expression}
                for s in self.model.schedules
            ],
            "sqs": [
                {"name": s.name, "function": s.function, "queue": self.resources[s.queue]}
                for s in self.model.sqs_sources
            ],
            "events": [
                {"name": r.name, "function": r.function, "pattern": r.pattern} for r in self.model.event_rules
            ],
            "s3": [
                {
                    "name": s.name,
                    "function": s.function,
                    "bucket": self.resources[s.bucket],
                    "prefix": s.prefix,
                }
                for s in self.model.s3_sources
            ],
        }

    # ------------------------------------------------------------------ admin endpoints (/_local/...)
    def admin(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        """The gateway's /_local/ endpoints."""
        parts = path.strip("/").split("/")[1:]
        try:
            payload = json.loads(body) if body else None
        except ValueError:
            return 400, {"message": "body must be JSON"}
        try:
            if method == "GET" and parts == ["health"]:
                return 200, {"status": "ok"}
            if method == "GET" and parts == ["stack"]:
                return 200, self.summary()
            if method == "GET" and parts == ["deliveries"]:
                return 200, [d.as_dict() for d in self.deliveries.items()]
            if method == "POST" and len(parts) == 2 and parts[0] == "invoke":
                return 200, _invocation(self.invoke(parts[1], payload if payload is not None else {}))
            if method == "POST" and len(parts) == 2 and parts[0] == "schedule":
                return 200, _invocation(self.fire_schedule(parts[1]))
            if method == "POST" and parts == ["token"]:
                payload = payload or {}
                token = self.dev_token(
                    payload.get("tenant_id", "demo-tenant"), payload.get("user_id", "demo-user")
                )
                return 200, {"token": token}
        except KeyError as exc:
            return 404, {"message": str(exc.args[0]) if exc.args else "Not Found"}
        return 404, {"message": "Not Found"}


def _invocation(result: InvocationResult) -> dict[str, Any]:
    if result.ok:
        return {"requestId": result.request_id, "payload": result.payload}
    return {"requestId": result.request_id, "functionError": "Unhandled", "error": result.error}


def _env_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _log_group(sam: dict[str, Any], logical: str, resolver: Resolver) -> str | None:
    config = sam["Resources"][logical].get("Properties", {}).get("LoggingConfig", {})
    if "LogGroup" not in config:
        return None
    with contextlib.suppress(KeyError):
        return str(resolver.resolve(config["LogGroup"]))
    return None


def _first_line(process: Any, timeout: float, pattern: re.Pattern[str] | None = None) -> str:
    """The first stdout line of a child (matching `pattern` if given), or an error if it dies first."""
    lines: queue.Queue[str | None] = queue.Queue()
    seen: list[str] = []

    def read() -> None:
        for raw in iter(process.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if pattern is None or pattern.search(line):
                lines.put(line)
                return
            seen.append(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    try:
        line = lines.get(timeout=timeout)
    except queue.Empty:
        raise TimeoutError(f"child {process.args[:3]} printed nothing in {timeout}s") from None
    if line is None:
        raise RuntimeError(f"child {process.args[:3]} exited: " + "\n".join(seen[-20:]))
    return line
