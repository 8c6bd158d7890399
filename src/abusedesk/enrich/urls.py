"""Links in a text: where they are, their registered domains, shorteners, punycode, IP hosts.

Three shapes are recognised: `http(s)://...`, `www....`, and bare domains (`bit.ly/3xYz`,
`paypa1-secure.com/login`). Bare domains are what SMS spam writes, and what casual text looks
like when a space is missing after a full stop ("lor.so", "Sorry.Today"), so a bare domain
counts only when its suffix is on the Public Suffix List and, without a path after it, when its
TLD is lower (or upper) case and not a word that chat text produces (see `_bare_ok`).

Registered domains (public suffix + 1) come from tldextract with its bundled suffix list and
no network: `TLDExtract(suffix_list_urls=(), cache_dir=None)` neither fetches nor caches to disk.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import Any, Final, NamedTuple

import tldextract

from abusedesk.enrich._data import data_lines, read_data
from abusedesk.enrich.brand_index import default_brand_index

# Characters a host may hold in running text: ASCII, and the scripts IDN homographs use.
_SCRIPTS: Final = (
    "\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff\u0590-\u05ff\u0600-\u06ff"
    "\u0e00-\u0e7f\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af"
)
_H: Final = "a-z0-9" + _SCRIPTS
_TAIL: Final = r"[^\s<>\"'`{}|\\^\[\]]"  # what may follow a host in a link (path, query)
_URL_RE: Final = re.compile(
    r"(?<![\w.@/:-])(?:"
    rf"(?P<scheme>https?://|www\.){_TAIL}+"
    rf"|(?P<bare>(?:[{_H}][{_H}-]{{0,62}}\.)+[a-z{_SCRIPTS}][{_H}-]{{1,62}})"
    rf"(?P<rest>(?::\d{{1,5}})?[/?#]{_TAIL}*|:\d{{1,5}}(?![\w.]))?"
    rf"|(?P<ip>\d{{1,3}}(?:\.\d{{1,3}}){{3}})(?::\d{{1,5}})?/{_TAIL}*"
    r")",
    re.IGNORECASE,
)
# Every link holds a dot followed by a letter or digit ("bit.ly", "www.", "1.2.3.4/"); this
# literal-led pattern is found in ~0.2 µs per SMS (see find_links).
_LINK_HINT: Final = re.compile(r"\.[^\W_]")
_PATH_START: Final = re.compile(r"[/?#]")
_IPV4: Final = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_TRAILING: Final = ".,;:!?'\"*>]}…"

# Two-letter TLDs that are also words or abbreviations of chat text ("lor.so", "home.in",
# "ok.la", "0.pm"); without a path after them they are read as text, not as links.
_WORD_TLDS: Final = frozenset({
    "ad", "am", "an", "as", "at", "be", "by", "do", "go", "id", "in", "is", "it", "la", "ma",
    "me", "mo", "my", "no", "pa", "pm", "so", "to", "tv", "us",
})  # fmt: skip
# Longer TLDs common enough in links to accept without a path; other new gTLDs (".today",
# ".how", ".now") need a path, because "Sorry.Today" is a typo more often than a link.
_LINK_TLDS: Final = frozenset({
    "com", "net", "org", "info", "biz", "edu", "gov", "xyz", "top", "online", "site", "club",
    "shop", "store", "app", "dev", "vip", "icu", "link", "click", "live", "cyou", "sbs", "cfd",
    "buzz", "rest", "bond", "world", "life", "support", "help", "services", "digital", "cloud",
    "tech", "space", "website", "page", "email",
})  # fmt: skip


@cache
def extractor() -> tldextract.TLDExtract:
    """tldextract on its bundled Public Suffix List snapshot: no fetch, no disk cache."""
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


class Host(NamedTuple):
    subdomain: str
    domain: str  # the label under the public suffix ("paypal" in www.paypal.co.uk)
    suffix: str  # the public suffix ("co.uk"); "" for IPs and unknown TLDs
    registered: str  # domain.suffix, or the host itself when there is no public suffix


@lru_cache(maxsize=65536)
def parse_host(host: str) -> Host:
    parts = extractor()(host)
    if parts.domain and parts.suffix:
        return Host(parts.subdomain, parts.domain, parts.suffix, f"{parts.domain}.{parts.suffix}")
    return Host(parts.subdomain, parts.domain, parts.suffix, host)


class Link(NamedTuple):
    start: int  # span of the link in the text
    end: int
    host: str  # lower case, ASCII (an IDN is converted to its xn-- form)
    domain: str  # registered domain; the host itself for IP addresses
    is_ip: bool
    is_punycode: bool


def _to_ascii(host: str) -> str:
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _bare_ok(written_tld: str, host: Host, has_rest: bool, shorteners: frozenset[str]) -> bool:
    if not (host.domain and host.suffix):
        return False
    if not (written_tld.islower() or written_tld.isupper()):
        return False  # "Sorry.Today": a sentence, not a link
    if has_rest or host.registered in shorteners:
        return True
    if host.domain.isdigit():
        return False  # "0.st" from "1.st", "00.in": numbers and a full stop
    tld = host.suffix.rsplit(".", 1)[-1]
    if "." in host.suffix or tld in _LINK_TLDS:
        return True
    return len(tld) == 2 and tld not in _WORD_TLDS


def _word_around(text: str, index: int) -> tuple[int, int]:
    """A range of `text` around `index` that holds the whole word there. It may reach past a
    newline or a tab (only spaces are looked for): the regex then reads a little more, and
    finds the same links, since a link holds no whitespace."""
    end = text.find(" ", index)
    return text.rfind(" ", 0, index) + 1, len(text) if end < 0 else end


def find_links(text: str, shorteners: frozenset[str]) -> list[Link]:
    """Every link in `text`, in order. Callers bound the text (the body is cut at 4 KiB).

    A link never holds whitespace and always holds a dot followed by a letter or digit, so the
    link regex runs only over the words around such dots: its leading lookbehind makes it cost
    ~6 µs per SMS when run over a whole text, a tenth of that over one word.
    """
    links: list[Link] = []
    done = 0
    for hint in _LINK_HINT.finditer(text):
        if hint.start() < done:
            continue  # a further dot in a word already read
        word_start, done = _word_around(text, hint.start())
        for match in _URL_RE.finditer(text, word_start, done):
            link = _link(text, match, shorteners)
            if link is not None:
                links.append(link)
    return links


def _link(text: str, match: re.Match[str], shorteners: frozenset[str]) -> Link | None:
    start = match.start()
    raw = match.group()
    while (raw and raw[-1] in _TRAILING) or (raw.endswith(")") and "(" not in raw):
        raw = raw[:-1]
    end = start + len(raw)
    scheme = match.group("scheme")
    bare = match.group("bare")
    if scheme:
        after = raw[len(scheme) :] if scheme[0] in "hH" else raw
        hostport = _PATH_START.split(after, maxsplit=1)[0].rpartition("@")[2]
        name = hostport.split(":", 1)[0]
    elif bare:
        if text[match.end() : match.end() + 1] == "@":
            return None  # "john.smith@..." is the local part of an address
        name = bare
    else:
        name = match.group("ip")
    name = _to_ascii(name.lower().strip("."))
    if not name:
        return None
    if name[0].isdigit() and _IPV4.fullmatch(name):
        if all(int(octet) <= 255 for octet in name.split(".")):
            return Link(start, end, name, name, True, False)
        return None
    host = parse_host(name)
    if bare and not _bare_ok(bare.rsplit(".", 1)[-1], host, bool(match.group("rest")), shorteners):
        return None
    if scheme and scheme[0] in "wW" and "." not in name[4:]:
        return None  # "www.": a word, not a host
    punycode = name.startswith("xn--") or ".xn--" in name
    return Link(start, end, name, host.registered, False, punycode)


@cache
def default_shorteners() -> frozenset[str]:
    return frozenset(line.lower() for _, line in data_lines(read_data("shorteners.txt")))


@lru_cache(maxsize=65536)
def host_lookalike(host: str) -> str | None:
    parts = parse_host(host)
    return default_brand_index().find(parts.subdomain, parts.domain, parts.suffix)


_NO_LINKS: Final[dict[str, Any]] = {
    "url_count": 0,
    "has_url": False,
    "url_domains": (),
    "has_shortener": False,
    "has_punycode": False,
    "has_ip_url": False,
}


def link_fields(links: list[Link], shorteners: frozenset[str]) -> dict[str, Any]:
    """The url_* / has_* / lookalike_brand fields for the links of one text.

    url_domains is a tuple here (the result is cached and shared); enrich() hands out lists.
    """
    if not links:
        return dict(_NO_LINKS)
    shortener = punycode = ip = False
    brand = None
    for link in links:
        shortener = shortener or link.domain in shorteners or link.host in shorteners
        punycode = punycode or link.is_punycode
        ip = ip or link.is_ip
        if brand is None and not link.is_ip:
            brand = host_lookalike(link.host)
    domains = tuple(link.domain for link in links)
    fields: dict[str, Any] = {
        "url_count": len(links),
        "has_url": True,
        "url_domains": domains,
        "has_shortener": shortener,
        "has_punycode": punycode,
        "has_ip_url": ip,
        "first_url_domain": domains[0],
    }
    if brand is not None:
        fields["lookalike_brand"] = brand
    return fields
