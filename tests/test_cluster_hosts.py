"""`atelier cluster up --hosts`: balancer, two API hosts, primary and replica as network namespaces
on a private segment of veth links (root only), one API host killed under load, and `down`
leaving no namespace, link or process behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import atelier, free_port
from test_cluster import REVIEW, assert_few_fail_around

from atelier.cluster import processes
from atelier.cluster.cluster import Cluster
from atelier.cluster.netns import HOSTS, existing_namespaces

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("ip") is None or not Path("/usr/sbin/nginx").exists(),
    reason="--hosts needs root, iproute2 and nginx")


def namespace_of(pid: int) -> str:
    return subprocess.run(["ip", "netns", "identify", str(pid)], capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="module")
def hosts() -> Iterator[Cluster]:
    folder = Path(tempfile.mkdtemp(prefix="atelier-hosts-"))
    folder.chmod(0o755)
    env = {"DATABASE_URL": ""}
    try:
        atelier("generate", "--out", str(folder / "data"), "--scale", "0.0005", "--defect-rate", "0", "--quiet")
        atelier("cluster", "up", "--hosts", "--dir", str(folder / "c"), "--api", "2", "--replica", "--cache",
                "--no-fsync", "--port", str(free_port()), "--data", str(folder / "data"), env=env, timeout=240)
        yield Cluster(folder / "c")
    finally:
        if (folder / "c" / "cluster.json").exists():
            down = atelier("cluster", "down", "--dir", str(folder / "c"), env=env, check=False, timeout=120)
            print(down.stderr)  # which member was slow to stop, if any
        shutil.rmtree(folder, ignore_errors=True)


def test_every_member_runs_on_its_own_host(hosts: Cluster) -> None:
    s = hosts.load()
    segment = hosts.segment()
    assert segment is not None
    assert namespace_of(s.nginx_pid) == segment.ns("lb")
    assert {namespace_of(a.pid) for a in s.apis} == {segment.ns("api1"), segment.ns("api2")}
    assert namespace_of(hosts.database("primary").pid()) == segment.ns("pg1")
    assert namespace_of(hosts.database("replica").pid()) == segment.ns("pg2")
    with httpx.Client(base_url=s.url, timeout=10) as client:  # over the operator's link to the balancer
        assert client.post("/reviews", json={**REVIEW, "name": "on-hosts"}).status_code == 201
        page = client.get("/reviews?product_id=1&sort=newest").json()["results"]
        assert page[0]["reviewer_name"] == "on-hosts"


def test_an_api_host_killed_under_load(hosts: Cluster) -> None:
    s = hosts.load()
    segment = hosts.segment()
    assert segment is not None

    def kill_the_host() -> None:
        victims = segment.pids("api1")  # every process of that host: it is gone
        assert victims
        for pid in victims:
            processes.kill(pid)

    assert_few_fail_around(s.url, "host-down-", kill_the_host)


def test_down_removes_every_namespace_link_and_process(hosts: Cluster) -> None:
    s = hosts.load()
    segment = hosts.segment()
    assert segment is not None
    pids = [s.nginx_pid, s.guard_pid, *(a.pid for a in s.apis), hosts.database("primary").pid()]
    atelier("cluster", "down", "--dir", str(hosts.folder), env={"DATABASE_URL": ""})
    assert not any(processes.alive(p) for p in pids)
    assert not existing_namespaces() & {segment.ns(h) for h in [*HOSTS, "sw"]}
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert segment.operator_link not in links
