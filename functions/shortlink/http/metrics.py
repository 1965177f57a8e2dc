"""CloudWatch metrics as one Embedded Metric Format log line, for the redirect: the same
format Powertools Metrics writes, without importing it on the hot path."""

from __future__ import annotations

import json
import os
import sys

from .. import clock


def emit(**counts: int) -> None:
    """Print one EMF line with a Count metric per keyword (namespace and service from the env)."""
    service = os.environ.get("POWERTOOLS_SERVICE_NAME", "shortlink")
    document = {
        "_aws": {
            "Timestamp": clock.now(),
            "CloudWatchMetrics": [{
                "Namespace": os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "ShortLinks"),
                "Dimensions": [["service"]],
                "Metrics": [{"Name": name, "Unit": "Count"} for name in counts],
            }],
        },
        "service": service,
        **counts,
    }
    sys.stdout.write(json.dumps(document, separators=(",", ":")) + "\n")
