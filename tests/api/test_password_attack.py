"""A password link under a distributed guessing attack, over real HTTP: the owner gets in, the
attackers together get at most the link's open lane of checks a minute (links/proofs.py)."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
import requests

from shortlink.links.follow import GUESSES_PER_MINUTE
from support import Devserver, eventually, solve_proof

ATTACKERS = 50
THREADS = 10


@pytest.mark.devserver  # fifty addresses by X-Forwarded-For (TRUST_FORWARDED)
def test_the_owner_gets_in_while_fifty_addresses_guess(server: Devserver, api: requests.Session) -> None:
    made = api.post(f"{server.url}/api/links", json={"url": "https://example.com/members", "password": "correct horse"}).json()
    url = f"{server.url}/{made['code']}"
    stop = threading.Event()
    checked: list[float] = []  # when (the server's clock) an attacker's guess was checked: a 401
    refused: Counter[int] = Counter()

    def attack(thread: int) -> None:
        with requests.Session() as session:
            n = 0
            while not stop.is_set():
                address = f"198.51.100.{thread + THREADS * (n % (ATTACKERS // THREADS))}"
                answer = session.post(url, data={"password": f"guess-{thread}-{n}"}, allow_redirects=False,
                                      headers={"X-Forwarded-For": address, "Accept": "application/json"})
                if answer.status_code == 401:
                    checked.append(server.now())
                refused[answer.status_code] += 1
                n += 1

    workers = [threading.Thread(target=attack, args=(t,)) for t in range(THREADS)]
    for worker in workers:
        worker.start()
    try:
        eventually(lambda: refused[429], seconds=30, every=0.05)  # the lane is spent: the attack is on
        began = time.monotonic()
        owner = {"X-Forwarded-For": "203.0.113.7", "Accept": "application/json"}
        answer = requests.post(url, data={"password": "correct horse"}, headers=owner, allow_redirects=False)
        while answer.status_code == 429:  # as the page does: prove the work asked for, or wait as told
            problem = answer.json()
            if "challenge" not in problem:
                threading.Event().wait(float(answer.headers["Retry-After"]))
            proof = {"challenge": problem["challenge"], "proof": solve_proof(problem["challenge"], problem["bits"])} \
                if "challenge" in problem else {}
            answer = requests.post(url, data={"password": "correct horse", **proof}, headers=owner, allow_redirects=False)
        took = time.monotonic() - began
        after = sum(refused.values())
        eventually(lambda: sum(refused.values()) >= after + 300, seconds=60, every=0.1)  # and the attack goes on
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    assert answer.status_code == 303 and answer.headers["Location"] == "https://example.com/members"
    assert took <= 10, f"the owner waited {took:.1f} s"
    per_minute = Counter(int(moment // 60) for moment in checked)
    assert checked and max(per_minute.values()) <= GUESSES_PER_MINUTE, per_minute
    print(f"owner in after {took:.2f} s; attackers: {dict(refused)}, checks by minute {dict(per_minute)}")
