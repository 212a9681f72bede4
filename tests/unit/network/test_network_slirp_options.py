"""slirp4netns options, argv, resolv.conf contents and socket paths (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pycontainer.errors import UsageError
from pycontainer.network import resolv, slirp
from pycontainer.network.slirp import SlirpOptions

OPTIONS_OK = [
    ("", SlirpOptions()),
    ("allow_host_loopback=true", SlirpOptions(allow_host_loopback=True)),
    ("allow_host_loopback=false,mtu=1500", SlirpOptions(mtu=1500)),
    ("port_handler=slirp4netns", SlirpOptions(port_handler="slirp4netns")),
    ("port_handler=pyc", SlirpOptions()),
    ("cidr=10.5.0.0/24,enable_ipv6=true", SlirpOptions(cidr="10.5.0.0/24", enable_ipv6=True)),
    ("outbound_addr=192.0.2.7", SlirpOptions(outbound_addr="192.0.2.7")),
    ("outbound_addr6=2001:db8::1", SlirpOptions(outbound_addr6="2001:db8::1")),
]


@pytest.mark.parametrize(("text", "expected"), OPTIONS_OK)
def test_parse_slirp_options(text: str, expected: SlirpOptions) -> None:
    assert slirp.parse_slirp_options(text) == expected


OPTIONS_BAD = [
    ("bogus=1", "unknown slirp4netns option 'bogus'"),
    ("mtu", "want key=value"),
    ("mtu=70000", "invalid slirp4netns mtu"),
    ("mtu=abc", "invalid slirp4netns mtu"),
    ("allow_host_loopback=maybe", "want true/false"),
    ("port_handler=rootlesskit", "port_handler=rootlesskit is not supported"),
    ("cidr=10.0.0.0/30", "too small"),
    ("cidr=banana", "invalid slirp4netns cidr"),
    ("outbound_addr=2001:db8::1", "want an IPv4 address"),
]


@pytest.mark.parametrize(("text", "message"), OPTIONS_BAD)
def test_parse_slirp_options_rejects(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        slirp.parse_slirp_options(text)


def test_addresses_follow_the_cidr() -> None:
    opts = SlirpOptions(cidr="10.5.0.0/24")
    assert (opts.guest_ip, opts.gateway, opts.dns_ip) == ("10.5.0.100", "10.5.0.2", "10.5.0.3")
    assert SlirpOptions().dns_ip == "10.0.2.3"


HELP_120 = """\
-c, --configure          bring up the interface
-e, --exit-fd=FD         specify the FD for terminating slirp4netns
--disable-host-loopback  prohibit connecting to 127.0.0.1:* on the host namespace
--enable-sandbox         create a new mount namespace
--enable-seccomp         enable seccomp to limit syscalls (experimental)
"""


def test_build_argv_default() -> None:
    known = slirp.parse_help(HELP_120)
    argv = slirp.build_argv("/usr/bin/slirp4netns", 42, "/run/x.sock", 5, 6, SlirpOptions(), known)
    assert argv == [
        "/usr/bin/slirp4netns", "--configure", "--mtu=65520", "--disable-host-loopback",
        "--enable-sandbox", "--enable-seccomp", "--api-socket=/run/x.sock", "--exit-fd=5",
        "--ready-fd=6", "42", "tap0",
    ]


def test_build_argv_old_binary_and_options() -> None:
    opts = SlirpOptions(allow_host_loopback=True, mtu=1500, cidr="10.9.0.0/24")
    argv = slirp.build_argv("s", 1, "a", 3, 4, opts, frozenset({"--configure"}))
    assert "--enable-sandbox" not in argv and "--disable-host-loopback" not in argv
    assert "--mtu=1500" in argv and "--cidr=10.9.0.0/24" in argv


def test_build_argv_without_sandbox_when_unsafe() -> None:
    argv = slirp.build_argv("s", 1, "a", 3, 4, SlirpOptions(), slirp.parse_help(HELP_120),
                            sandbox=False)
    assert "--enable-sandbox" not in argv and "--enable-seccomp" not in argv


HOST = """\
# generated
nameserver 127.0.0.53
search corp.example lab.example
options edns0 trust-ad
"""


def test_resolv_config_points_at_slirp_dns() -> None:
    got = resolv.resolv_config(host_resolv=HOST)
    assert got == resolv.ResolvConfig(("10.0.2.3",), ("corp.example", "lab.example"),
                                      ("edns0", "trust-ad"))


def test_resolv_config_honours_dns_flags() -> None:
    got = resolv.resolv_config(SlirpOptions(cidr="10.5.0.0/24"), dns=["1.1.1.1", "9.9.9.9"],
                               dns_search=["example.org"], dns_option=["ndots:2"],
                               host_resolv=HOST)
    assert got == resolv.ResolvConfig(("1.1.1.1", "9.9.9.9"), ("example.org",), ("ndots:2",))
    assert resolv.resolv_config(dns_search=["."], host_resolv=HOST).search == ()
    assert resolv.resolv_config(SlirpOptions(cidr="10.5.0.0/24")).nameservers == ("10.5.0.3",)


def test_api_socket_path_stays_under_sun_path(tmp_path: Path) -> None:
    short = slirp.api_socket_path(Path("/run/user/1000/pycontainer/net"), "0123456789ab")
    assert short == "/run/user/1000/pycontainer/net/0123456789ab.sock"
    deep = tmp_path / ("d" * 120)
    path = slirp.api_socket_path(deep, "0123456789ab")
    assert len(path.encode()) <= 107 and path.endswith("/0123456789ab.sock")


def test_slirp_record_round_trips() -> None:
    s = slirp.Slirp(10, "/run/a.sock", 20, SlirpOptions(mtu=1500, allow_host_loopback=True))
    back = slirp.Slirp.from_dict(s.to_dict())
    assert (back.pid, back.api_socket, back.netns_pid, back.options) == (
        10, "/run/a.sock", 20, s.options)


def test_check_mappings_refuses_what_slirp_cannot_forward() -> None:
    from pycontainer.network.ports import PortMapping

    slirp.check_mappings([PortMapping("0.0.0.0", 8080, 80), PortMapping("", 53, 53, "udp")])
    with pytest.raises(UsageError, match="tcp and udp only"):
        slirp.check_mappings([PortMapping("", 0, 9, "sctp")])
    with pytest.raises(UsageError, match="IPv4 host addresses only"):
        slirp.check_mappings([PortMapping("::1", 8080, 80)])
