"""Every service of the running stack listens on loopback only (read from /proc, like ``ss -ltnp``)."""
from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

LISTEN = "0A"  # TCP state in /proc/net/tcp


def _group_pids(pgid: int) -> list[int]:
    """Every process in the process group ``pgid`` (each service runs in its own session)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[2]) == pgid:  # state, ppid, pgrp, ...
            pids.append(int(entry.name))
    return pids


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in fd_dir.iterdir() if fd_dir.exists() else ():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _address(hex_addr: str, family: int) -> str:
    raw = bytes.fromhex(hex_addr)
    if family == socket.AF_INET:
        return str(ipaddress.IPv4Address(raw[::-1]))
    # IPv6: four 32-bit words, each in host (little-endian) order.
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
    return str(ipaddress.IPv6Address(words))


def listening(pgid: int) -> list[tuple[str, int]]:
    """(address, port) of every TCP socket in LISTEN state owned by the process group."""
    inodes = set().union(*(_socket_inodes(pid) for pid in _group_pids(pgid)))
    found = []
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        lines = Path(table).read_text().splitlines()[1:] if Path(table).exists() else []
        for line in lines:
            cols = line.split()
            local, state, inode = cols[1], cols[3], cols[9]
            if state == LISTEN and inode in inodes:
                addr, port = local.split(":")
                found.append((_address(addr, family), int(port, 16)))
    return found


def test_address_decoding_matches_the_kernel() -> None:
    # A socket of our own on every interface and one on loopback, read back from /proc.
    with socket.socket() as anywhere, socket.socket() as loopback:
        anywhere.bind(("0.0.0.0", 0))
        anywhere.listen()
        loopback.bind(("127.0.0.1", 0))
        loopback.listen()
        own = set(listening(os.getpgid(0)))
        assert ("0.0.0.0", anywhere.getsockname()[1]) in own
        assert ("127.0.0.1", loopback.getsockname()[1]) in own


def test_every_service_listens_on_loopback_only(live_stack: Any) -> None:
    ports = {"gateway": live_stack.gateway_port, "rasa": live_stack.rasa_port, "actions": live_stack.action_port}
    for name, proc in live_stack.processes.items():
        sockets = listening(proc.pid)
        assert (("127.0.0.1", ports[name]) in sockets), f"{name} does not listen on 127.0.0.1:{ports[name]}: {sockets}"
        exposed = [(addr, port) for addr, port in sockets if not ipaddress.ip_address(addr).is_loopback]
        assert exposed == [], f"{name} listens beyond loopback: {exposed}"
