"""Header facts of an email as tokens the model weighs beside the words.

Authentication (SPF, DKIM and DMARC results from Authentication-Results or Received-SPF, a
DKIM signature present), the sender's domain (free-mail, its top-level domain, a Reply-To
elsewhere), relays (how many Received hops), the mailer, and the shape of the message (HTML
only, attachments, a missing Message-ID or Date, a subject in capitals). Each token starts
with `h:` so it never meets a word of the text.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from abusedesk.content.mime import Mail
from abusedesk.enrich.email import address_domain, default_freemail, parse_auth_results

_SPF_RESULT: Final = re.compile(r"^\s*([a-z]+)", re.IGNORECASE)
_MAILER_WORD: Final = re.compile(r"[a-z][a-z-]{1,30}")
_NOT_LETTER: Final = re.compile(r"[\W\d_]+")
_NOT_UPPER: Final = re.compile(r"[^A-Z\u00c0-\u00de]+")
_CACHED_HEADER_CHARS: Final = 2000  # 4,096 cached header sets stay within ~16 MB
_MAX_VALUE: Final = 2000  # header values are attacker-written: read their start only


# The headers whose values _of_headers reads; of every other header only whether it is there,
# and how many times (Received), counts. Keep in step with _of_headers: documents.email_key
# keys emails on these values alone (tests/content/test_scoring_paths.py checks it).
VALUES_READ: Final = frozenset(
    {"authentication-results", "received-spf", "from", "reply-to", "x-mailer", "user-agent"}
)


@lru_cache(maxsize=4096)
def _of_headers(frozen: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[str, ...]:
    """The tokens read from the headers alone."""
    h = dict(frozen)

    def first(name: str) -> str:
        values = h.get(name)
        return values[0] if values else ""

    tokens: list[str] = []
    auth: dict[str, str] = {}
    for value in h.get("authentication-results", ())[:3]:
        for method, result in parse_auth_results(value[:_MAX_VALUE]):
            auth.setdefault(method, result)
    spf = h.get("received-spf")
    if spf and "spf" not in auth:
        match = _SPF_RESULT.match(spf[0])
        if match:
            auth["spf"] = match.group(1).lower()
    tokens.extend(f"h:{method}={auth.get(method, 'none')}" for method in ("spf", "dkim", "dmarc"))
    if "dkim-signature" in h or "domainkey-signature" in h:
        tokens.append("h:dkim-signed")
    relays = len(h.get("received", ()))
    tokens.append(f"h:relays={min(relays, 8)}")
    sender = first("from")[:_MAX_VALUE]
    domain = address_domain(sender) if sender else None
    if domain is None:
        tokens.append("h:from-no-domain")
    else:
        tokens.append(f"h:from-tld={domain.rsplit('.', 1)[-1]}")
        if domain in default_freemail():
            tokens.append("h:from-freemail")
        reply = first("reply-to")[:_MAX_VALUE]
        reply_domain = address_domain(reply) if reply else None
        if reply_domain is not None and reply_domain != domain:
            tokens.append("h:reply-to-elsewhere")
    mailer = (first("x-mailer") or first("user-agent"))[:200].lower()
    word = _MAILER_WORD.search(mailer)
    tokens.append(f"h:mailer={word.group() if word else 'none'}")
    if "message-id" not in h:
        tokens.append("h:no-message-id")
    if "date" not in h:
        tokens.append("h:no-date")
    if "list-unsubscribe" in h:
        tokens.append("h:list-unsubscribe")
    return tuple(tokens)


def header_tokens(mail: Mail) -> list[str]:
    """The `h:` tokens of one parsed message."""
    # The header part is cached on the headers: a sender sends the same ones, and reading
    # them was a third of an email event's scoring.
    # Raw mail (Received lines, ids) is unique per message and large: read, not cached.
    frozen = tuple((name, tuple(values)) for name, values in mail.headers.items())
    small = sum(len(v) for _name, values in frozen for v in values) <= _CACHED_HEADER_CHARS
    tokens = list(_of_headers(frozen) if small else _of_headers.__wrapped__(frozen))
    if mail.html and not mail.plain:
        tokens.append("h:html-only")
    if mail.attachments:
        tokens.append("h:attachments")
    if subject_caps(mail.subject):
        tokens.append("h:subject-caps")
    tokens.extend(f"h:defect={d}" for d in mail.defects[:4])
    return tokens


def subject_caps(subject: str) -> bool:
    """A subject mostly in capitals (8 letters at least), the `h:subject-caps` token."""
    letters = _NOT_LETTER.sub("", subject)
    return len(letters) >= 8 and len(_NOT_UPPER.sub("", letters)) > 0.7 * len(letters)
