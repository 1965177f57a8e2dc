"""API Gateway's throttles and quotas, as template.yaml sets them: token buckets that refill at
the rate and hold the burst (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html).

The REST API: each method setting's bucket (all clients of that method together), and per API
key the usage plan's bucket and daily quota. The HTTP API: its stage's default route bucket.
A request over any of them is refused as API Gateway refuses it: THROTTLED or QUOTA_EXCEEDED,
the template's gateway responses (429 problem+json). `make bench` switches them off
(DEVSERVER_THROTTLES=off) to measure the code rather than the limits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .template import Route, Template


@dataclass
class Bucket:
    rate: float  # tokens a second
    burst: float  # tokens it holds
    tokens: float = -1.0  # full at the first request
    at: float = 0.0

    def take(self, now: float) -> bool:
        self.tokens = self.burst if self.tokens < 0 else min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


@dataclass
class Quota:
    limit: int
    used: dict[tuple[str, int], int] = field(default_factory=dict)  # (key, UTC day) -> requests

    def take(self, key: str, now: float) -> bool:
        day = int(now // 86400)
        used = self.used.get((key, day), 0)
        if used >= self.limit:
            return False
        self.used[(key, day)] = used + 1
        return True


@dataclass(frozen=True)
class MethodSetting:
    resource: str  # "/*" (every resource) or a path
    method: str  # "*" or one method
    bucket: Bucket

    def covers(self, route: Route) -> bool:
        return (self.resource == "/*" or self.resource == route.path) and self.method in ("*", route.method)


class Throttles:
    def __init__(self, template: Template, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self.methods: dict[str, list[MethodSetting]] = {}  # REST API id -> settings, the most specific first
        self.plans: dict[str, tuple[float, float]] = {}  # REST API id -> the usage plan's (rate, burst)
        self.key_buckets: dict[tuple[str, str], Bucket] = {}
        self.quotas: dict[str, Quota] = {}
        self.routes: dict[str, Bucket] = {}  # HTTP API id -> its default route bucket
        for api_id, props in template.rest_apis().items():
            # ResourcePath "/*", or "/" then the path with its slashes as "~1" ("/~1shorten")
            settings = [MethodSetting(s["ResourcePath"] if s["ResourcePath"] == "/*" else s["ResourcePath"][1:].replace("~1", "/"),
                                      s["HttpMethod"],
                                      Bucket(float(s["ThrottlingRateLimit"]), float(s["ThrottlingBurstLimit"])))
                        for s in props.get("MethodSettings", []) if "ThrottlingRateLimit" in s]
            self.methods[api_id] = sorted(settings, key=lambda s: (s.resource == "/*", s.method == "*"))
            plan = props.get("Auth", {}).get("UsagePlan", {})
            if "Throttle" in plan:
                self.plans[api_id] = (float(plan["Throttle"]["RateLimit"]), float(plan["Throttle"]["BurstLimit"]))
            if "Quota" in plan:
                assert plan["Quota"].get("Period", "DAY") == "DAY", "the devserver counts quotas per day"
                self.quotas[api_id] = Quota(int(plan["Quota"]["Limit"]))
        for api_id, defaults in template.http_api_default_routes().items():
            if "ThrottlingRateLimit" in defaults:
                self.routes[api_id] = Bucket(float(template.resolve(defaults["ThrottlingRateLimit"])),
                                             float(template.resolve(defaults["ThrottlingBurstLimit"])))

    def refusal(self, route: Route, api_key: str | None) -> str | None:
        """None when the request may pass, else the gateway response type that refuses it."""
        now = self.clock()
        with self._lock:
            if route.payload == "2.0":
                bucket = self.routes.get(route.api)
                return "THROTTLED" if bucket and not bucket.take(now) else None
            if api_key and route.api_key_required:
                quota = self.quotas.get(route.api)
                if quota and not quota.take(api_key, time.time()):
                    return "QUOTA_EXCEEDED"
                if route.api in self.plans:
                    bucket = self.key_buckets.setdefault((route.api, api_key), Bucket(*self.plans[route.api]))
                    if not bucket.take(now):
                        return "THROTTLED"
            setting = next((s for s in self.methods.get(route.api, []) if s.covers(route)), None)
            return "THROTTLED" if setting and not setting.bucket.take(now) else None


def throttles_from(template: Template, switch: str) -> Throttles | None:
    """The throttles, unless DEVSERVER_THROTTLES says off."""
    return None if switch.strip().lower() in ("off", "0", "false", "no") else Throttles(template)

