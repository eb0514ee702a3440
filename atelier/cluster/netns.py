"""`--hosts`: the cluster's machines as network namespaces on one private Ethernet segment.

A namespace `<prefix>sw` holds a bridge; every host (balancer, two API hosts, primary,
replica) is a namespace with one veth link into it, and this machine (the operator: `up`, the
load generator, the tests) gets one more link, so traffic stays on those links and loopback.
Addresses are 10.213.<n>.0/24 with <n> chosen free on this machine; two clusters get two
prefixes and two segments. `remove` deletes the namespaces, which deletes their links.
"""

from __future__ import annotations

import ipaddress
import subprocess
from dataclasses import dataclass, field

HOSTS = {"lb": 2, "api1": 11, "api2": 12, "pg1": 21, "pg2": 22}  # name -> last octet
OPERATOR = 1


def _ip(*args: str, netns: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    command = ["ip", *(["-n", netns] if netns else []), *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: {result.stderr.strip()}")
    return result


def existing_namespaces() -> set[str]:
    out = _ip("netns", "list").stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def free_subnet() -> int:
    """A third octet n such that 10.213.n.0/24 is on no interface of this machine."""
    used = _ip("-4", "-o", "addr", "show").stdout
    for n in range(1, 255):
        if f" 10.213.{n}." not in used:
            return n
    raise RuntimeError("no free 10.213.n.0/24 subnet")


@dataclass
class Segment:
    prefix: str  # namespace and link names start with it (at most 8 characters)
    subnet: int
    namespaces: list[str] = field(default_factory=list)

    @property
    def network(self) -> str:
        return f"10.213.{self.subnet}.0/24"

    def address(self, host: str) -> str:
        return f"10.213.{self.subnet}.{HOSTS[host] if host in HOSTS else OPERATOR}"

    def ns(self, host: str) -> str:
        return f"{self.prefix}{host}"

    @property
    def operator_link(self) -> str:
        return f"{self.prefix}op"

    def create(self) -> None:
        """Namespaces, bridge and links; everything made is recorded in `namespaces` first, so
        that `remove` can undo a half-made segment."""
        switch = self.ns("sw")
        self.namespaces.append(switch)
        _ip("netns", "add", switch)
        _ip("link", "add", "br0", "type", "bridge", netns=switch)
        _ip("link", "set", "br0", "up", netns=switch)
        _ip("link", "set", "lo", "up", netns=switch)
        for host in HOSTS:
            ns = self.ns(host)
            self.namespaces.append(ns)
            _ip("netns", "add", ns)
            _ip("link", "set", "lo", "up", netns=ns)
            _ip("link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", host, "netns", switch)
            _ip("addr", "add", f"{self.address(host)}/24", "dev", "eth0", netns=ns)
            _ip("link", "set", "eth0", "up", netns=ns)
            _ip("link", "set", host, "master", "br0", netns=switch)
            _ip("link", "set", host, "up", netns=switch)
        _ip("link", "add", self.operator_link, "type", "veth", "peer", "name", "op", "netns", switch)
        _ip("addr", "add", f"{self.address('op')}/24", "dev", self.operator_link)
        _ip("link", "set", self.operator_link, "up")
        _ip("link", "set", "op", "master", "br0", netns=switch)
        _ip("link", "set", "op", "up", netns=switch)
        ipaddress.ip_network(self.network)  # a well-formed network, or fail here

    def remove(self) -> None:
        present = existing_namespaces()
        for ns in reversed(self.namespaces):
            if ns in present:
                _ip("netns", "delete", ns, check=False)
        _ip("link", "delete", self.operator_link, check=False)  # gone with its peer, normally

    def pids(self, host: str) -> list[int]:
        out = _ip("netns", "pids", self.ns(host), check=False).stdout
        return [int(p) for p in out.split()]
