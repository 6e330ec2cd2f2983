"""Which client the rate limit counts a request against, behind 0, 1 or 2 trusted proxies."""

import json

import pytest
from werkzeug.test import EnvironBuilder

from punchline_serve import ratelimit

PEER = "10.1.2.3"  # the address the function's socket sees (Google's front end, in production)


def who(forwarded: str | None, hops: int) -> ratelimit.Client:
    headers = {} if forwarded is None else {"X-Forwarded-For": forwarded}
    environ = EnvironBuilder(headers=headers, environ_base={"REMOTE_ADDR": PEER}).get_environ()
    return ratelimit.client(environ, hops)


@pytest.mark.parametrize("forwarded, hops, key, source", [
    # Cloud Functions called directly: its front end appends the client.
    ("203.0.113.7", 1, "203.0.113.7", "x-forwarded-for[-1]"),
    ("1.2.3.4, 203.0.113.7", 1, "203.0.113.7", "x-forwarded-for[-1]"),  # a forged entry before it
    # Behind an external load balancer: "<client>, <balancer>".
    ("203.0.113.7, 34.120.0.1", 2, "203.0.113.7", "x-forwarded-for[-2]"),
    ("198.51.100.1, 203.0.113.7, 34.120.0.1", 2, "203.0.113.7", "x-forwarded-for[-2]"),  # forged
    ("34.120.0.1", 2, PEER, "peer"),  # fewer entries than hops: the peer, never the client's value
    (None, 1, PEER, "peer"),
    ("203.0.113.7", 0, PEER, "peer"),  # no trusted proxy: the header is the client's own words
    # Malformed headers fall back to the peer.
    ("not-an-ip", 1, PEER, "peer"),
    (" , ,", 1, PEER, "peer"),
    ("203.0.113.7, <script>", 1, PEER, "peer"),
    ("203.0.113.7:443", 1, PEER, "peer"),
    # IPv6: counted by the /64 a subscriber is given; IPv4-mapped addresses as IPv4.
    ("2001:db8:1:2::17", 1, "2001:db8:1:2::/64", "x-forwarded-for[-1]"),
    ("2001:DB8:1:2:ffff::1", 1, "2001:db8:1:2::/64", "x-forwarded-for[-1]"),
    ("::ffff:203.0.113.7, 34.120.0.1", 2, "203.0.113.7", "x-forwarded-for[-2]"),
])
def test_client_key(forwarded, hops, key, source):
    found = who(forwarded, hops)
    assert (found.key, found.source) == (key, source)


def test_the_entry_is_the_one_werkzeug_proxyfix_picks():
    from werkzeug.middleware.proxy_fix import ProxyFix

    header = "192.0.2.1, 198.51.100.2, 203.0.113.3, 34.120.0.4"
    for hops in range(0, 6):
        expected = ProxyFix(None, x_for=hops)._get_real_value(hops, header) or PEER
        assert who(header, hops).key == expected


def test_a_different_ipv6_block_is_a_different_client():
    assert who("2001:db8:1:2::1", 1).key != who("2001:db8:1:3::1", 1).key


def test_the_log_never_holds_the_address():
    found = who("203.0.113.7", 1)
    logged = json.dumps(found.for_log())
    assert "203.0.113" not in logged and found.for_log()["source"] == "x-forwarded-for[-1]"
    assert found.for_log() == who("1.1.1.1, 203.0.113.7", 1).for_log()  # same client, same digest
    assert found.for_log()["key"] != who("203.0.113.8", 1).for_log()["key"]


def behind_balancer(client_ip: str, forged: str = "") -> dict:
    return {"X-Forwarded-For": f"{forged}{client_ip}, 34.120.0.1"}


def test_behind_a_balancer_each_client_keeps_its_own_limit(make_client, tiny_bundle):
    client = make_client(MODEL_URI=str(tiny_bundle), RATE_LIMIT="2/minute", TRUSTED_PROXY_HOPS="2")
    alice, bob = behind_balancer("203.0.113.7"), behind_balancer("198.51.100.9")
    assert [client.get("/?n=1", headers=alice).status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/?n=1", headers=bob).status_code == 200  # Alice's use does not lock Bob out
    # Alice cannot escape her limit by writing entries of her own ...
    assert client.get("/?n=1", headers=behind_balancer("203.0.113.7", forged="192.0.2.50, ")).status_code == 429
    # ... and Mallory, forging Bob's address, spends only her own allowance.
    mallory = behind_balancer("192.0.2.66", forged="198.51.100.9, ")
    assert [client.get("/?n=1", headers=mallory).status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/?n=1", headers=bob).status_code == 200


def test_one_hop_behind_a_balancer_locks_everyone_out(make_client, tiny_bundle):
    """The mistake the setting exists for: with 1 hop, the balancer's address is every visitor's key."""
    client = make_client(MODEL_URI=str(tiny_bundle), RATE_LIMIT="2/minute", TRUSTED_PROXY_HOPS="1")
    assert [client.get("/?n=1", headers=behind_balancer("203.0.113.7")).status_code for _ in range(2)] == [200, 200]
    assert client.get("/?n=1", headers=behind_balancer("198.51.100.9")).status_code == 429


def test_the_log_line_says_where_the_key_came_from(make_client, tiny_bundle, capfd):
    client = make_client(MODEL_URI=str(tiny_bundle), TRUSTED_PROXY_HOPS="2")
    capfd.readouterr()
    client.get("/?n=1", headers=behind_balancer("203.0.113.7"))
    client.get("/?n=1", headers={"X-Forwarded-For": "203.0.113.7"})
    logs = [json.loads(line) for line in capfd.readouterr().out.splitlines() if line.startswith("{")]
    assert [r["client"]["source"] for r in logs] == ["x-forwarded-for[-2]", "peer"]
    assert all("203.0.113" not in json.dumps(r) for r in logs)


def test_bad_hops_setting_names_the_variable(make_client, tiny_bundle):
    response = make_client(MODEL_URI=str(tiny_bundle), TRUSTED_PROXY_HOPS="two").get("/")
    assert response.status_code == 500 and "TRUSTED_PROXY_HOPS='two'" in response.json["error"]
