"""Name resolution on user-defined networks: a tiny DNS responder in the rootless namespace.

It listens on UDP port 53 of the rootless network namespace, so every bridge's gateway
address answers (containers' resolv.conf names it). A query for a container name, id prefix
or `--network-alias` is answered from the network records of the networks the asking address
is on, so containers on other networks stay unknown; everything else is relayed to the
upstream resolver (slirp4netns's 10.0.2.3). Records are re-read when they change on disk, so
names follow containers as they come and go without signalling anyone.

The packet code is pure (build/parse); `serve` is the loop the holder process runs.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
import threading
from dataclasses import dataclass
from pathlib import Path

TYPE_A = 1
TYPE_AAAA = 28
CLASS_IN = 1
RCODE_NXDOMAIN = 3
RCODE_SERVFAIL = 2
TTL = 0  # names change as containers come and go: never let a client cache them
UPSTREAM = ("10.0.2.3", 53)


@dataclass(frozen=True)
class Question:
    id: int
    flags: int
    name: str
    qtype: int
    qclass: int
    end: int  # offset just after the question, where answers go


def parse_query(packet: bytes) -> Question:
    """The first question of a DNS message (ValueError when malformed)."""
    if len(packet) < 12:
        raise ValueError("short DNS header")
    qid, flags, qdcount = struct.unpack("!HHH", packet[:6])
    if qdcount < 1:
        raise ValueError("no question")
    labels: list[str] = []
    pos = 12
    while True:
        if pos >= len(packet):
            raise ValueError("truncated name")
        length = packet[pos]
        pos += 1
        if length == 0:
            break
        if length > 63:
            raise ValueError("compressed or bad label in a question")
        labels.append(packet[pos:pos + length].decode("ascii", errors="replace"))
        pos += length
    if pos + 4 > len(packet):
        raise ValueError("truncated question")
    qtype, qclass = struct.unpack("!HH", packet[pos:pos + 4])
    return Question(qid, flags, ".".join(labels).lower(), qtype, qclass, pos + 4)


def encode_name(name: str) -> bytes:
    out = b""
    for label in filter(None, name.split(".")):
        raw = label.encode()
        out += bytes([len(raw)]) + raw
    return out + b"\0"


def build_query(name: str, qtype: int = TYPE_A, qid: int = 0x5059) -> bytes:
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + encode_name(name) + struct.pack(
        "!HH", qtype, CLASS_IN)


def build_answer(packet: bytes, q: Question, addresses: list[str], rcode: int = 0) -> bytes:
    """A reply to `packet` with A records for `addresses` (empty: NODATA or `rcode`)."""
    rd = q.flags & 0x0100
    flags = 0x8000 | 0x0400 | rd | 0x0080 | rcode  # QR, AA, RD copied, RA
    header = struct.pack("!HHHHHH", q.id, flags, 1, len(addresses), 0, 0)
    body = packet[12:q.end]
    for ip in addresses:
        body += struct.pack("!HHHIH", 0xC00C, TYPE_A, CLASS_IN, TTL, 4)
        body += ipaddress.IPv4Address(ip).packed
    return header + body


def parse_answer_addresses(packet: bytes) -> tuple[int, list[str]]:
    """(rcode, A-record addresses) from a reply; enough for tests and diagnostics."""
    q = parse_query(packet)
    rcode = struct.unpack("!H", packet[2:4])[0] & 0xF
    ancount = struct.unpack("!H", packet[6:8])[0]
    pos, out = q.end, []
    for _ in range(ancount):
        pos = _skip_name(packet, pos)
        rtype, _, _, rdlen = struct.unpack("!HHIH", packet[pos:pos + 10])
        pos += 10
        if rtype == TYPE_A and rdlen == 4:
            out.append(str(ipaddress.IPv4Address(packet[pos:pos + 4])))
        pos += rdlen
    return rcode, out


def _skip_name(packet: bytes, pos: int) -> int:
    while True:
        length = packet[pos]
        if length & 0xC0 == 0xC0:
            return pos + 2
        if length == 0:
            return pos + 1
        pos += 1 + length


def query(server: str, name: str, port: int = 53, timeout: float = 2.0) -> tuple[int, list[str]]:
    """Ask `server` for the A records of `name` (a client for tests and `pyc` diagnostics)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(build_query(name), (server, port))
        return parse_answer_addresses(s.recv(4096))


# --- the responder ---------------------------------------------------------------------------


class Names:
    """name -> addresses per asking address, from the network records, reloaded on change."""

    def __init__(self, records_dir: Path) -> None:
        self.dir = records_dir
        self._stamp: tuple[tuple[str, int, int, int], ...] = ()
        self._nets: list[tuple[ipaddress.IPv4Network, dict[str, str]]] = []

    def _reload(self) -> None:
        try:
            # Records are replaced by rename: a new inode and usually a new mtime and size.
            entries = sorted((e.name, e.inode(), e.stat().st_mtime_ns, e.stat().st_size)
                             for e in os.scandir(self.dir) if e.name.endswith(".json"))
        except FileNotFoundError:
            entries = []
        stamp = tuple(entries)
        if stamp == self._stamp:
            return
        from pycontainer.network.ipam import NetworkStore

        self._nets = [(ipaddress.IPv4Network(n.subnet), n.names())
                      for n in NetworkStore(self.dir).networks()]
        self._stamp = stamp

    def lookup(self, client_ip: str, name: str) -> list[str] | None:
        """Addresses of `name` on the networks `client_ip` is on; None if unknown there."""
        self._reload()
        client = ipaddress.IPv4Address(client_ip)
        found = [names[name] for net, names in self._nets if client in net and name in names]
        return found or None


def answer(names: Names, packet: bytes, client_ip: str) -> bytes | None:
    """The reply for a container name, or None to relay the query upstream."""
    q = parse_query(packet)
    if q.qclass != CLASS_IN:
        return None
    addresses = names.lookup(client_ip, q.name)
    if addresses is None:
        return None
    return build_answer(packet, q, addresses if q.qtype == TYPE_A else [])


def serve(records_dir: Path, bind: tuple[str, int] = ("0.0.0.0", 53),
          upstream: tuple[str, int] = UPSTREAM) -> None:  # pragma: no cover - runs forever
    names = Names(records_dir)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(bind)
    while True:
        packet, (client_ip, client_port) = sock.recvfrom(4096)
        try:
            reply = answer(names, packet, client_ip)
        except ValueError:
            continue
        if reply is not None:
            sock.sendto(reply, (client_ip, client_port))
        else:
            threading.Thread(target=_relay, args=(sock, packet, (client_ip, client_port),
                                                  upstream), daemon=True).start()


def _relay(sock: socket.socket, packet: bytes, client: tuple[str, int],
           upstream: tuple[str, int]) -> None:  # pragma: no cover - network I/O
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as up:
        up.settimeout(5)
        try:
            up.sendto(packet, upstream)
            reply = up.recv(65535)
        except OSError:
            try:
                q = parse_query(packet)
            except ValueError:
                return
            reply = build_answer(packet, q, [], RCODE_SERVFAIL)
    sock.sendto(reply, client)
