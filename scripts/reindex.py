"""`make reindex STACK=<stack> REGION=<region>`: fill the search index (SearchTable) from the
links a stack already holds, with each life's visits rank, once, after updating a stack made
before the index (or before its visits order) existed. Links made or changed afterwards reach
the index from the stream (functions/search), and their visits from StatsFunction. Safe to run
again: every posting it writes is whole and the same each time, and a rank is never lowered.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "functions"))

from shortlink import clock
from shortlink.links.catalogue import Catalogue
from shortlink.links.store import from_item
from shortlink.stats.store import StatsStore


def reindex(dynamodb: Any, links_table: str, catalogue: Catalogue, stats: StatsStore, now: int) -> int:
    """Index every link (not its visit counters) the links table holds, ranked by the visits it
    has now; how many."""
    count = 0
    for page in dynamodb.get_paginator("scan").paginate(TableName=links_table, FilterExpression="attribute_exists(code)"):
        for item in page["Items"]:
            catalogue.changed(None, item)
            count += 1
        for link in stats.counted([from_item(item) for item in page["Items"]]):
            catalogue.raise_rank(link, now)
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stack", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--retention-days", type=int, default=90, help="the stack's StatsRetentionDays")
    args = parser.parse_args()
    os.environ["AWS_DEFAULT_REGION"] = args.region
    resources = boto3.client("cloudformation").describe_stack_resources(StackName=args.stack)["StackResources"]
    tables = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}
    indexed = reindex(boto3.client("dynamodb"), tables["LinksTable"], Catalogue(tables["SearchTable"], args.retention_days),
                      StatsStore(tables["StatsTable"]), clock.now())
    print(f"indexed {indexed} link(s) into {tables['SearchTable']}")


if __name__ == "__main__":
    main()
