"""Email addresses and headers: domains, free-mail, Authentication-Results, unsubscribe headers.

Authentication-Results (RFC 8601) carries the receiving side's SPF, DKIM and DMARC verdicts;
Gmail, Yahoo and Outlook require all three for bulk senders (DOMAIN.md 1.2-1.4). RFC 8058
one-click unsubscribe needs both `List-Unsubscribe` with an https URI and
`List-Unsubscribe-Post: List-Unsubscribe=One-Click` (DOMAIN.md 1.6).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, Final

from abusedesk.enrich._data import data_lines, read_data
from abusedesk.enrich.urls import parse_host

_ANGLE: Final = re.compile(r"<([^<>]*@[^<>]*)>")
_DOMAIN: Final = re.compile(
    r"[a-z0-9\u00c0-\uffff](?:[a-z0-9\u00c0-\uffff.-]*[a-z0-9\u00c0-\uffff])?"
)
# method=result (where the method starts a word: checked in parse_auth_results).
_AUTH: Final = re.compile(r"(spf|dkim|dmarc)\s*=\s*([a-z]+)", re.IGNORECASE)
_COMMENT: Final = re.compile(r"\([^()]*\)")
_HTTPS_URI: Final = re.compile(r"<\s*https://", re.IGNORECASE)
_MAX_HEADER: Final = 8192  # a header value is attacker-written; bound what is scanned
_WANTED: Final = frozenset({"authentication-results", "list-unsubscribe", "list-unsubscribe-post"})
_WANTED_LENGTHS: Final = frozenset(len(name) for name in _WANTED)


def address_domain(value: str) -> str | None:
    """Lower-case domain of an address, also in "Name <a@b>" form; None if there is none."""
    match = _ANGLE.search(value) if "<" in value else None  # the search costs 0.2 µs
    address = match.group(1) if match else value
    local, at, domain = address.strip().rpartition("@")
    if not at or not local:
        return None
    domain = domain.strip().rstrip(".").lower()
    return domain if _DOMAIN.fullmatch(domain) else None


@dataclass(frozen=True, slots=True)
class Freemail:
    domains: frozenset[str]
    names: frozenset[str]  # "yahoo" from "yahoo.*"

    def __contains__(self, domain: object) -> bool:
        if not isinstance(domain, str):
            return False
        host = parse_host(domain)
        return (
            domain in self.domains
            or host.registered in self.domains
            or (bool(host.suffix) and host.domain in self.names)
        )


def parse_freemail(text: str) -> Freemail:
    entries = [line.lower() for _, line in data_lines(text)]
    return Freemail(
        domains=frozenset(e for e in entries if not e.endswith(".*")),
        names=frozenset(e[:-2] for e in entries if e.endswith(".*")),
    )


@cache
def default_freemail() -> Freemail:
    return parse_freemail(read_data("freemail.txt"))


@lru_cache(maxsize=65536)
def sender_fields(value: str) -> dict[str, Any]:
    """from_* fields of a sender address (cached: senders repeat). Shared: do not mutate."""
    return _sender_domain_fields(address_domain(value))


@lru_cache(maxsize=65536)
def recipient_fields(value: str) -> dict[str, Any]:
    """to_domain / to_freemail of a recipient address (cached). Shared: do not mutate."""
    return _recipient_domain_fields(address_domain(value))


# The fields depend on the domain only, and recipients are many people at few domains: the
# simulator's 32,432 message recipients have 31 (a first-seen address costs 0.6 µs, not 1.7).
@lru_cache(maxsize=65536)
def _sender_domain_fields(domain: str | None) -> dict[str, Any]:
    if domain is None:
        return {"from_kind": "email"}
    return {
        "from_kind": "email",
        "from_domain": domain,
        "from_registered_domain": parse_host(domain).registered,
        "from_freemail": domain in default_freemail(),
    }


@lru_cache(maxsize=65536)
def _recipient_domain_fields(domain: str | None) -> dict[str, Any]:
    if domain is None:
        return {}
    return {"to_domain": domain, "to_freemail": domain in default_freemail()}


def cache_clear() -> None:
    """Forget cached address and Authentication-Results fields (tests; after editing
    data/freemail.txt in place)."""
    for cached in (
        sender_fields,
        recipient_fields,
        _sender_domain_fields,
        _recipient_domain_fields,
        parse_auth_results,
        _fields_cached,
    ):
        cached.cache_clear()


def _wanted_headers(headers: Mapping[str, Any] | list[Any]) -> dict[str, list[str]]:
    """The values of the headers enrichment reads, by lower-case name, in one pass (a message
    has dozens of headers; names compare case-insensitively; a name may hold a list)."""
    items: Iterable[Any]
    if type(headers) is dict or isinstance(headers, Mapping):  # the ABC check costs 0.1 µs
        items = headers.items()
    else:  # [{"name": ..., "value": ...}] as SES and others send them
        items = [(h.get("name"), h.get("value")) for h in headers if isinstance(h, Mapping)]
    found: dict[str, list[str]] = {}
    for name, value in items:
        # The length test skips the other dozens of headers without lower-casing them.
        if type(name) is not str or len(name) not in _WANTED_LENGTHS:
            continue
        key = name.lower()
        if key not in _WANTED:
            continue
        for item in value if isinstance(value, list) else (value,):
            if isinstance(item, str):
                found.setdefault(key, []).append(item[:_MAX_HEADER])
    return found


@lru_cache(maxsize=4096)
def parse_auth_results(value: str) -> tuple[tuple[str, str], ...]:
    """(method, result) pairs of one Authentication-Results value, in order (cached: a
    receiving MTA writes the same value for every message of a sender)."""
    if "(" in value:
        value = _COMMENT.sub(" ", value)
    pairs = []
    for match in _AUTH.finditer(value):
        start = match.start()
        # "header.d=" and "dkim-atps=" are properties, not methods: the method must start a word.
        if start and (value[start - 1].isalnum() or value[start - 1] in "._-"):
            continue
        pairs.append((match.group(1).lower(), match.group(2).lower()))
    return tuple(pairs)


def _first_results(values: Iterable[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for value in values:
        for method, result in parse_auth_results(value):
            found.setdefault(method, result)
    return found


def auth_results(headers: Mapping[str, Any] | list[Any]) -> dict[str, str]:
    """{"spf": ..., "dkim": ..., "dmarc": ...} from Authentication-Results; the first result
    of each method wins (the topmost header is the one our own receiving side added)."""
    return _first_results(_wanted_headers(headers).get("authentication-results", ()))


def header_fields(headers: Mapping[str, Any] | list[Any]) -> dict[str, Any]:
    """spf, dkim, dmarc (when reported), has_list_unsubscribe, has_one_click_unsubscribe."""
    return dict(shared_header_fields(headers))


def shared_header_fields(headers: Mapping[str, Any] | list[Any]) -> dict[str, Any]:
    """header_fields(), possibly a cached dict shared with other callers: read it, do not
    change it (enrichment copies it into the row anyway, so it skips a copy)."""
    wanted = _wanted_headers(headers)
    auth = tuple(wanted.get("authentication-results", ()))
    unsubscribe = tuple(wanted.get("list-unsubscribe", ()))
    post = tuple(wanted.get("list-unsubscribe-post", ()))
    # Cached when small, as a sender's mail is (the same few values on every message); an
    # attacker's headers can be many and long, and are read without keeping them.
    if sum(map(len, auth)) + sum(map(len, unsubscribe)) + sum(map(len, post)) <= _CACHED_HEADERS:
        return _fields_cached(auth, unsubscribe, post)
    return _fields_of(auth, unsubscribe, post)


_CACHED_HEADERS: Final = 2048  # characters of wanted header values, at most, to cache them


def _fields_of(
    auth: tuple[str, ...], unsubscribe_values: tuple[str, ...], post_values: tuple[str, ...]
) -> dict[str, Any]:
    """header_fields of the wanted headers' values."""
    fields: dict[str, Any] = _first_results(auth)
    unsubscribe = " ".join(unsubscribe_values)
    post = " ".join(post_values)
    fields["has_list_unsubscribe"] = bool(unsubscribe.strip())
    fields["has_one_click_unsubscribe"] = bool(
        _HTTPS_URI.search(unsubscribe)
        and "".join(post.split()).lower() == "list-unsubscribe=one-click"
    )
    return fields


_fields_cached = lru_cache(maxsize=4096)(_fields_of)  # shared results: callers copy
