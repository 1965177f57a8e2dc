"""The devserver's embedded store keeps what it acknowledged: through kill -9, with a damaged
snapshot, and it refuses to start (or to take a write) when it cannot keep it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from support import ROOT, Devserver, link_count

KEY = "local-store-key-0000000000"


def _create(server: Devserver, count: int) -> list[str]:
    codes = []
    for i in range(count):
        answer = requests.post(f"{server.url}/api/links", json={"url": f"https://example.com/kept/{i}"}, headers={"x-api-key": KEY})
        assert answer.status_code == 201
        codes.append(answer.json()["code"])
    return codes


def _follows(server: Devserver, codes: list[str]) -> int:
    return sum(requests.get(f"{server.url}/{code}", allow_redirects=False).status_code == 302 for code in codes)


def test_acknowledged_writes_survive_kill_9(tmp_path: Path) -> None:
    first = Devserver(tmp_path, LOCAL_API_KEYS=KEY, SHORT_DOMAINS="keep.example", TTL_SWEEP_INTERVAL="3600").start()
    codes = _create(first, 50)
    assert first.proc is not None
    first.proc.kill()  # SIGKILL: no snapshot, no goodbye
    first.proc.wait(timeout=10)
    second = Devserver(tmp_path, LOCAL_API_KEYS=KEY, SHORT_DOMAINS="keep.example").start()
    try:
        assert _follows(second, codes) == 50
        # the 50 creates, and whatever of the search index's writes (kept from the stream) landed before the kill
        replayed = [int(m.group(1)) for line in second.output if (m := re.search(r"(\d+) journaled write\(s\) replayed", line))]
        assert replayed and replayed[0] >= 50, second.output
    finally:
        assert second.stop() == 0
    third = Devserver(tmp_path, LOCAL_API_KEYS=KEY, SHORT_DOMAINS="keep.example").start()  # after a clean stop: from the snapshot
    try:
        assert _follows(third, codes) == 50 and link_count(third.dynamodb) == 50
    finally:
        third.stop()


def test_a_damaged_snapshot_is_named_kept_and_the_earlier_copy_used(tmp_path: Path) -> None:
    first = Devserver(tmp_path, LOCAL_API_KEYS=KEY, SHORT_DOMAINS="keep.example").start()
    early = _create(first, 3)
    assert first.stop() == 0  # snapshot 1
    second = Devserver(tmp_path, LOCAL_API_KEYS=KEY, SHORT_DOMAINS="keep.example").start()
    _create(second, 2)
    assert second.stop() == 0  # snapshot 2; snapshot 1 is now dynamodb.json.prev
    snapshot = tmp_path / "dynamodb.json"
    snapshot.write_bytes(snapshot.read_bytes()[:40])  # torn
    third = Devserver(tmp_path, LOCAL_API_KEYS=KEY, SHORT_DOMAINS="keep.example").start()
    try:
        kept = list(tmp_path.glob("dynamodb.json.damaged-*"))
        assert len(kept) == 1 and len(kept[0].read_bytes()) == 40
        said = "".join(third.output)
        assert f"the snapshot {snapshot} is damaged" in said and str(kept[0]) in said and "dynamodb.json.prev" in said
        assert _follows(third, early) == 3
    finally:
        third.stop()


@pytest.mark.parametrize("data_dir", ["/proc/devserver-data", "/dev/null/devserver"])
def test_a_data_dir_that_cannot_be_written_stops_the_server_naming_it(data_dir: str) -> None:
    run = subprocess.run([sys.executable, "-m", "devserver"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env={**os.environ, "DEVSERVER_DATA": data_dir, "PORT": "0"})
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [run.stderr.strip()] and data_dir in run.stderr
    assert "Ready" not in run.stdout


def test_a_write_the_journal_cannot_take_is_refused_not_lost(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, template: Any) -> None:
    import boto3
    from botocore.config import Config

    from devserver.dynamo import EmbeddedDynamoDB, Journal, create_tables

    db = EmbeddedDynamoDB()
    client = boto3.client("dynamodb", endpoint_url=db.start(), config=Config(retries={"max_attempts": 1}), region_name="us-east-1",
                          aws_access_key_id="local", aws_secret_access_key="local")
    try:
        create_tables(client, template.tables())
        db.journal = Journal(tmp_path / "journal.jsonl")

        def disk_full(_fd: int) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(os, "fsync", disk_full)
        with pytest.raises(client.exceptions.InternalServerError, match="cannot write"):
            client.put_item(TableName="LinksTable", Item={"link_id": {"S": "a/b"}})
        monkeypatch.undo()
        assert "Item" not in client.get_item(TableName="LinksTable", Key={"link_id": {"S": "a/b"}})
        client.put_item(TableName="LinksTable", Item={"link_id": {"S": "a/c"}})
        lines = (tmp_path / "journal.jsonl").read_text().splitlines()
        assert [json.loads(line)["seq"] for line in lines] == [1] and "a/c" in lines[0]  # the refused write is not in it
    finally:
        db.stop()
