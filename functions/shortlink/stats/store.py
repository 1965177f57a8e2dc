"""StatsTable: visit counters per link life and UTC hour, written only by StatsFunction."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from ..dynamodb import ConditionFailed, call, plain


@dataclass
class HourTotals:
    """What one hour row gains: counts of the visits not yet added to it."""

    total: int
    last: int
    platforms: Counter[str]
    apps: Counter[str]
    countries: Counter[str]
    browsers: Counter[str]
    systems: Counter[str]
    devices: Counter[str]
    referrers: Counter[str]


class StatsStore:
    """Hourly visit counters of links (StatsTable): one row per (link life, UTC hour).
    The table's key is `link_key` (a link life, aggregate.life_of) and `hour` (2026-11-25T08)."""

    def __init__(self, table: str) -> None:
        self.table = table

    def progress(self, life: str, hour: str) -> tuple[int, set[str]]:
        """(highest visit number already added, referrer hosts the row already has)."""
        answer = call("get_item", TableName=self.table, Key={"link_key": {"S": life}, "hour": {"S": hour}},
                       ConsistentRead=True, ProjectionExpression="upto, hosts")
        item = answer.get("Item", {})
        return int(item.get("upto", {"N": "0"})["N"]), set(item.get("hosts", {}).get("SS", []))

    def add(self, life: str, hour: str, read_upto: int, totals: HourTotals, referrers: dict[str, int], expires_at: int) -> bool:
        """Add totals to the hour row if nobody added visits since read_upto; False otherwise."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {":upto": {"N": str(totals.last)}, ":exp": {"N": str(expires_at)},
                                  ":total": {"N": str(totals.total)}, ":read": {"N": str(read_upto)}}
        adds = ["#total :total"]
        names["#total"] = "total"
        counters = [("platform", totals.platforms), ("app", totals.apps), ("referrer", referrers), ("country", totals.countries),
                    ("browser", totals.browsers), ("os", totals.systems), ("device", totals.devices)]
        for kind, counts in counters:
            for label, n in counts.items():
                i = len(names)
                names[f"#c{i}"], values[f":c{i}"] = f"{kind}:{label}", {"N": str(n)}
                adds.append(f"#c{i} :c{i}")
        hosts = sorted(h for h in referrers if not h.startswith("("))
        if hosts:
            adds.append("hosts :hosts")
            values[":hosts"] = {"SS": hosts}
        try:
            call(
                "update_item",
                TableName=self.table,
                Key={"link_key": {"S": life}, "hour": {"S": hour}},
                UpdateExpression="SET upto = :upto, expires_at = :exp ADD " + ", ".join(adds),
                ConditionExpression="attribute_not_exists(upto) OR upto = :read",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ConditionFailed:
            return False
        return True

    def hours(self, life: str, first: str, last: str) -> dict[str, dict[str, Any]]:
        """The rows of one link between two UTC hours (inclusive), by hour."""
        rows: dict[str, dict[str, Any]] = {}
        kwargs: dict[str, Any] = {}
        while True:
            answer = call(
                "query",
                TableName=self.table,
                KeyConditionExpression="link_key = :k AND #hour BETWEEN :a AND :b",
                ExpressionAttributeNames={"#hour": "hour"},
                ExpressionAttributeValues={":k": {"S": life}, ":a": {"S": first}, ":b": {"S": last}},
                **kwargs,
            )
            for item in answer.get("Items", []):
                row = plain(item)
                rows[row["hour"]] = row
            if "LastEvaluatedKey" not in answer:
                return rows
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
