"""`atelier cluster` on loopback, with faults under load: NGINX, API processes, a private primary
and its synchronous replica (started by the cluster, never the shared PostgreSQL), the cache.

One cluster serves the whole module (its `up` costs about 15 s); each fault test leaves it as it
found it. Load comes from wrk (`atelier loadtest`'s engine) and from Python writer threads.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from conftest import atelier, free_port

from atelier.cluster import cachekeys, processes
from atelier.cluster.cluster import Cluster, State

pytestmark = pytest.mark.skipif(shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists(),
                                reason="nginx is not installed (bench/install-tools.sh)")

PRODUCT = 1  # in the generated data set, with reviews and questions
REVIEW = {"product_id": PRODUCT, "rating": 3, "summary": "cluster", "body": "written through NGINX",
          "recommend": True, "name": "", "email": "cluster@example.com", "photos": []}


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    folder = Path(tempfile.mkdtemp(prefix="atelier-cluster-"))
    folder.chmod(0o755)  # PostgreSQL runs as another user and must reach its data folder
    port = free_port()
    env = {"DATABASE_URL": ""}
    try:
        atelier("generate", "--out", str(folder / "data"), "--scale", "0.0005", "--defect-rate", "0", "--quiet")
        atelier("cluster", "up", "--dir", str(folder / "c"), "--api", "2", "--replica", "--cache", "--no-fsync",
                "--port", str(port), "--data", str(folder / "data"), env=env, timeout=240)
        yield Cluster(folder / "c")
    finally:
        down = atelier("cluster", "down", "--dir", str(folder / "c"), env=env, check=False, timeout=120)
        print(down.stderr)  # which member was slow to stop, if any
        shutil.rmtree(folder, ignore_errors=True)


def state(cluster: Cluster) -> State:
    return cluster.load()


def post_review(client: httpx.Client, name: str) -> int:
    return client.post("/reviews", json={**REVIEW, "name": name}).status_code


def fetch(url: str, query: str, *args: Any) -> Any:
    async def go() -> Any:
        conn = await asyncpg.connect(url, timeout=5)
        try:
            return await conn.fetchval(query, *args)
        finally:
            await conn.close()

    return asyncio.run(go())


def wrk_in_background(url: str, path: str, rate: float, duration: float) -> tuple[threading.Thread, dict[str, Any]]:
    """wrk at a fixed rate (open loop) in a thread; the result lands in the returned dict."""
    from atelier.loadtest.scenarios import Options, run_rate

    out: dict[str, Any] = {}

    def go() -> None:
        options = Options(url=url, mix=path, id_ranges={"product": (1, 1_000_000)}, duration=duration, rate=rate,
                          timeout=5.0)
        out["result"] = run_rate(options)

    thread = threading.Thread(target=go)
    thread.start()
    time.sleep(0.5)  # wrk is connecting
    return thread, out


def failures(run: dict[str, Any]) -> int:
    """Requests the cluster failed: an error status, a socket error, or no answer at all. Not the
    requests wrk could not send in time on a busy machine, nor answers later than its timeout."""
    errors = run["errors"]
    return sum(errors.get(k, 0) for k in ("status", "connect", "read", "write", "unanswered"))


def assert_few_fail_around(url: str, prefix: str, fault: Callable[[], None]) -> None:
    """300 uncached reads/s and a writer for 8 s, `fault` 2 s in: under 0.1% of the requests fail
    (an error status, a socket error, no answer), over at least 1,000 requests."""
    load, result = wrk_in_background(url, "/reviews?product_id={id}&count=7", rate=300, duration=8)
    stop = threading.Event()
    write, written = writer(url, stop, prefix)
    time.sleep(2)
    fault()
    load.join(60)
    stop.set()
    write.join(60)
    run = result["result"]
    failed = failures(run) + len(written["other"])
    total = run["sent"] + len(written["acked"]) + len(written["other"])
    assert total > 1000
    assert failed / total < 0.001, (run["errors"], written["other"])


def writer(url: str, stop: threading.Event, prefix: str,
           keep_alive: bool = True) -> tuple[threading.Thread, dict[str, Any]]:
    """POSTs reviews until `stop`; records each acknowledged name and every other answer."""
    out: dict[str, Any] = {"acked": [], "other": []}
    limits = httpx.Limits() if keep_alive else httpx.Limits(max_keepalive_connections=0)

    def go() -> None:
        with httpx.Client(base_url=url, timeout=10, limits=limits) as client:
            i = 0
            while not stop.is_set():
                i += 1
                name = f"{prefix}{i}"
                try:
                    status = post_review(client, name)
                except httpx.HTTPError as exc:
                    out["other"].append((time.monotonic(), type(exc).__name__))
                    continue
                if status == 201:
                    out["acked"].append(name)
                else:
                    out["other"].append((time.monotonic(), status))
                time.sleep(0.01)

    thread = threading.Thread(target=go)
    thread.start()
    return thread, out


# ---- the cache ------------------------------------------------------------------------------------


def test_every_cached_variant_is_purged_by_the_keys_of_its_product(cluster: Cluster) -> None:
    """Each URL below is cached by NGINX; purging `cachekeys.keys_of_change` drops all of them."""
    s = state(cluster)
    question = httpx.get(f"{s.url}/qa/questions?product_id={PRODUCT}").json()["results"][0]["question_id"]
    urls = [f"/reviews?product_id={PRODUCT}", f"/reviews?product_id={PRODUCT}&sort=helpful&count=20&page=2",
            f"/reviews?count=100&sort=newest&product_id={PRODUCT}", f"/reviews/meta?product_id={PRODUCT}",
            f"/qa/questions?product_id={PRODUCT}&count=10",
            f"/qa/questions/{question}/answers", f"/qa/questions/{question}/answers?page=2&count=5"]
    # the same keys as URLs above: the API answers them alike (the legacy prefix, a trailing slash)
    aliases = [f"/api/fec2/hr-rfp/reviews/meta?product_id={PRODUCT}",
               f"/reviews/?product_id={PRODUCT}&page=2&sort=helpful&count=20"]
    with httpx.Client(base_url=s.url, timeout=10) as client:
        for url in urls:
            client.get(url)
            assert client.get(url).headers["x-cache-status"] == "HIT", url
        for url in aliases:
            assert client.get(url).headers["x-cache-status"] == "HIT", url
        # outside the key sets: passed to the API every time
        for url in (f"/reviews?product_id={PRODUCT}&count=7", f"/reviews?product_id={PRODUCT}&count=5&count=10",
                    f"/reviews?product_id={PRODUCT}&co%75nt=10", "/cart"):
            assert client.get(url).headers["x-cache-status"] == "BYPASS", url
        purge = httpx.Client(base_url=s.purge_url, timeout=10)
        for key in cachekeys.keys_of_change(PRODUCT, question):
            assert purge.get(f"/purge/{key}").status_code in (200, 404)
        for url in urls:
            assert client.get(url).headers["x-cache-status"] == "MISS", url
        for url in aliases:
            assert client.get(url).headers["x-cache-status"] == "HIT", url


def test_after_each_acknowledged_write_a_read_through_nginx_shows_it(cluster: Cluster) -> None:
    """Q&A and review writes while readers keep the product's answers cached and refilled."""
    s = state(cluster)
    stop = threading.Event()
    reads = [f"/reviews/meta?product_id={PRODUCT}", f"/reviews?product_id={PRODUCT}&sort=newest&count=100",
             f"/qa/questions?product_id={PRODUCT}&count=100"]

    def reader() -> None:
        with httpx.Client(base_url=s.url, timeout=10) as client:
            while not stop.is_set():
                for url in reads:
                    client.get(url)

    readers = [threading.Thread(target=reader) for _ in range(3)]
    for t in readers:
        t.start()
    hits = 0
    try:
        with httpx.Client(base_url=s.url, timeout=10) as client:
            for i in range(25):
                meta = client.get(reads[0])
                hits += meta.headers["x-cache-status"] == "HIT"
                total = sum(int(n) for n in meta.json()["ratings"].values())
                name = f"stream{i}"
                assert post_review(client, name) == 201
                meta = client.get(reads[0]).json()
                assert sum(int(n) for n in meta["ratings"].values()) == total + 1
                assert any(r["reviewer_name"] == name for r in client.get(reads[1]).json()["results"])

                body = f"question {i} through the cache"
                assert client.post("/qa/questions", json={"body": body, "name": "c", "email": "c@example.com",
                                                          "product_id": PRODUCT}).status_code == 201
                questions = client.get(reads[2]).json()["results"]
                asked = next(q for q in questions if q["question_body"] == body)
                answers_url = f"/qa/questions/{asked['question_id']}/answers"
                assert client.get(answers_url).json()["results"] == []  # now cached, empty
                assert client.post(answers_url, json={"body": f"answer {i}", "name": "a",
                                                      "email": "a@example.com"}).status_code == 201
                assert [a["body"] for a in client.get(answers_url).json()["results"]] == [f"answer {i}"]
                assert client.put(f"/qa/questions/{asked['question_id']}/helpful").status_code == 204
                questions = client.get(reads[2]).json()["results"]
                assert next(q for q in questions if q["question_id"] == asked["question_id"])[
                    "question_helpfulness"] == 1
    finally:
        stop.set()
        for t in readers:
            t.join()
    assert hits > 0  # the cache was in play, not bypassed


def test_a_purge_that_cannot_be_done_fails_the_write(cluster: Cluster) -> None:
    """NGINX (and so its purge server) stopped: the write answers 503 after its retries, never 201."""
    s = state(cluster)
    api = s.apis[0]
    processes.stop(s.nginx_pid, group=False)
    try:
        answer = httpx.post(f"http://{api.address}/reviews", json={**REVIEW, "name": "unpurged"}, timeout=30)
        assert answer.status_code == 503
        assert "cache" in answer.json()["error"]
    finally:
        from atelier.cluster import nginx

        s.nginx_pid = nginx.start(cluster._plan())
        cluster.save()
        processes.wait_until(lambda: httpx.get(s.url + "/health").status_code == 200, 30, "nginx")


# ---- the replica ----------------------------------------------------------------------------------


def test_reads_go_to_the_replica_and_see_the_writes_before_them(cluster: Cluster) -> None:
    s = state(cluster)
    with httpx.Client(base_url=s.url, timeout=10) as client:
        for i in range(30):
            name = f"ryw{i}"
            assert post_review(client, name) == 201
            # count=7 is never cached: this read is answered by an API process from the replica
            page = client.get(f"/reviews?product_id={PRODUCT}&sort=newest&count=7").json()["results"]
            assert page[0]["reviewer_name"] == name
    # the API processes' read connections are on the replica (their pollers' too, running REPLICA_POLL)
    readers = fetch(s.replica_url, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
                                   "AND pid <> pg_backend_pid() AND query LIKE '%reviews.%'")
    assert readers >= 1


def test_replica_stopped_reads_continue_from_the_primary(cluster: Cluster) -> None:
    s = state(cluster)
    replica = cluster.database("replica")
    load, result = wrk_in_background(s.url, "/reviews?product_id={id}&count=7", rate=300, duration=7)
    stop = threading.Event()
    write, written = writer(s.url, stop, "replica-down-")
    time.sleep(1.5)
    stopped_at = time.monotonic()
    replica.stop()
    try:
        load.join(60)
    finally:
        stop.set()
        write.join(60)
        replica.start()
    run = result["result"]
    assert run["sent"] > 1500
    late = [sec for sec in run["timeline"] if sec["t"] >= 3 and sec["errors"]]  # stopped at ~1 s into the run
    assert late == [], run["timeline"]
    assert [o for o in written["other"] if o[0] > stopped_at + 1] == []  # writes stopped waiting for it
    assert written["acked"]
    processes.wait_until(lambda: fetch(s.database_url, "SELECT count(*) FROM pg_stat_replication WHERE "
                                                       "application_name = $1 AND sync_state = 'sync'", s.standby)
                         == 1, 60, "the replica to be synchronous again")


# ---- the primary ----------------------------------------------------------------------------------


def test_primary_stopped_for_10_seconds(cluster: Cluster) -> None:
    """503 at once while it is down (bounded by the client's timeout: no hang), then service again
    without restarting anything, and every acknowledged write is there."""
    s = state(cluster)
    primary = cluster.database("primary")
    stop = threading.Event()
    write, written = writer(s.url, stop, "primary-down-")
    time.sleep(1)
    primary.stop()
    down_at = time.monotonic()
    outage: list[int] = []
    reads: list[int] = []
    with httpx.Client(base_url=s.url, timeout=5) as client:
        while time.monotonic() - down_at < 10:
            outage.append(post_review(client, f"outage{len(outage)}"))
            reads.append(client.get(f"/reviews?product_id={len(reads) + 1}&count=7").status_code)
            time.sleep(0.2)
        primary.start()
        recovered = False
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not recovered:
            recovered = post_review(client, "after-outage") == 201
            time.sleep(0.2)
    stop.set()
    write.join(60)
    assert recovered
    assert set(outage) == {503}
    assert set(reads) == {200}  # the replica answers reads while the primary is down
    acked = written["acked"]
    assert acked
    assert fetch(s.database_url, "SELECT count(*) FROM reviews.review WHERE reviewer_name = ANY($1)", acked) \
        == len(acked)
    processes.wait_until(lambda: fetch(s.database_url, "SELECT count(*) FROM pg_stat_replication WHERE "
                                                       "application_name = $1 AND sync_state = 'sync'", s.standby)
                         == 1, 60, "the replica to be synchronous again")


# ---- API processes: killed, replaced, reloaded --------------------------------------------------


def test_an_api_process_killed_under_load(cluster: Cluster) -> None:
    s = state(cluster)
    assert_few_fail_around(s.url, "kill-", lambda: processes.kill(s.apis[0].pid))
    cluster.scale(2)  # replaces the dead process
    assert all(processes.alive(a.pid) for a in state(cluster).apis)


def readers(url: str, stop: threading.Event, count: int) -> tuple[list[threading.Thread], dict[str, Any]]:
    """Threads GETting uncached reads until `stop` on kept-alive connections, sending a GET once more
    when the connection it was written on is closed without an answer, as browsers do (RFC 9110
    9.2.2 allows it for idempotent requests)."""
    out: dict[str, Any] = {"ok": 0, "failed": []}
    lock = threading.Lock()

    def go(offset: int) -> None:
        with httpx.Client(base_url=url, timeout=10) as client:
            i = offset
            while not stop.is_set():
                i += count
                path = f"/reviews?product_id={i % 100_000 + 1}&count=7"  # never cached: every read reaches an API
                try:
                    try:
                        status = client.get(path).status_code
                    except (httpx.ReadError, httpx.RemoteProtocolError):  # a reused connection closed under it
                        status = client.get(path).status_code
                except httpx.HTTPError as exc:
                    with lock:
                        out["failed"].append(type(exc).__name__)
                    continue
                with lock:
                    if status == 200:
                        out["ok"] += 1
                    else:
                        out["failed"].append(status)

    threads = [threading.Thread(target=go, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    return threads, out


def test_nginx_reloaded_with_new_upstream_lists_fails_no_request(cluster: Cluster) -> None:
    """Two reloads under load: an upstream added, then the oldest one removed (and stopped once
    the NGINX workers that knew it are done). At a reload NGINX's old workers close their idle
    client connections: a GET written on one at that instant is sent again (as browsers do), and
    the writes go on connections of their own, which a reload never closes under them."""
    s = state(cluster)
    stop = threading.Event()
    threads, read = readers(s.url, stop, 6)
    write, written = writer(s.url, stop, "reload-", keep_alive=False)
    try:
        time.sleep(1)
        cluster.scale(3)  # one more upstream
        time.sleep(1)
        first = state(cluster).apis[0]
        assert cluster.state is not None  # just loaded
        cluster.state.apis = cluster.state.apis[1:] + [first]  # the oldest process leaves next
        cluster.save()
        cluster.scale(2)
        time.sleep(1)
    finally:
        stop.set()
        for t in [*threads, write]:
            t.join(60)
    assert read["failed"] == [] and read["ok"] > 300
    assert written["other"] == [] and written["acked"]
    assert not processes.alive(first.pid)
    assert len(state(cluster).apis) == 2


def test_status_names_every_member(cluster: Cluster) -> None:
    out = atelier("cluster", "status", "--dir", str(cluster.folder)).stdout
    print((cluster.folder / "logs" / "syncguard.log").read_text()[-3000:])
    for member in ("nginx", "primary", "replica", "syncguard"):
        assert member in out
    assert "down" not in out
    assert out.count(" ok ") >= 6
    assert "sync" in out


def test_replica_on_a_server_without_a_superuser_is_refused_clearly(cluster: Cluster) -> None:
    s = state(cluster)
    fetch(s.database_url, "DO $$ BEGIN CREATE ROLE plain LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
    plain = s.database_url.replace("postgres@", "plain@")
    folder = cluster.folder.parent / "refused"
    out = atelier("cluster", "up", "--dir", str(folder), "--replica", "--port", str(free_port()),
                  env={"DATABASE_URL": plain}, check=False)
    assert out.returncode != 0
    assert "--replica needs a superuser" in out.stderr
    assert not (folder / "cluster.json").exists()  # what it started is stopped and forgotten


def test_a_port_in_use_is_named_before_anything_starts(cluster: Cluster) -> None:
    taken = int(state(cluster).url.rsplit(":", 1)[1])  # this module's cluster holds it
    folder = cluster.folder.parent / "second"
    out = atelier("cluster", "up", "--dir", str(folder), "--port", str(taken), env={"DATABASE_URL": ""}, check=False)
    assert out.returncode != 0
    assert f"port {taken} is in use" in out.stderr
    assert not (folder / "cluster.json").exists()
