"""The names and kinds of every field enrichment adds to an event's row.

Rules, features and backtests may use these names next to the event's own fields; the rule
validator reads this table to know them. docs/rule-functions.md lists them (generated).
Kinds are those of events.schema: str, int, num, bool, strlist.
"""

from __future__ import annotations

from typing import Final

from abusedesk.events.schema import Kind

ENRICHED_FIELDS: Final[dict[str, tuple[Kind, str]]] = {
    # destination number (message/call/verification `to`, opt_out `recipient`)
    "to_valid": ("bool", "destination parses as a valid phone number"),
    "to_country": ("str", "ISO 3166 alpha-2 country of the destination number"),
    "to_type": (
        "str",
        (
            "number type: mobile, fixed_line, fixed_line_or_mobile, voip, toll_free, "
            "premium_rate, shared_cost, personal_number, pager, uan, voicemail, unknown"
        ),
    ),
    "to_prefix": ("str", "destination in E.164 without its last 4 digits"),
    "to_cost_tier": (
        "str",
        "standard, elevated or high, from the shipped high-risk destination table",
    ),
    "to_domain": ("str", "domain of a destination email address"),
    "to_freemail": ("bool", "destination email is at a free-mail provider"),
    # the other party: who was sent to (outbound message, call, verification), who sent
    # (inbound message), who opted out or complained, whose delivery this is
    "counterparty": ("str", "the other party's number or address, as given in the event"),
    # sender (message/call `from`)
    "from_kind": ("str", "e164, short_code, alphanumeric or email"),
    "from_country": ("str", "ISO country of a sender phone number"),
    "from_domain": ("str", "domain of a sender email address"),
    "from_registered_domain": ("str", "registered domain (public suffix + 1) of the sender email"),
    "from_freemail": ("bool", "sender email is at a free-mail provider"),
    # links in the body
    "url_count": ("int", "number of URLs in the body"),
    "url_domains": ("strlist", "registered domains of the URLs, in order"),
    "first_url_domain": ("str", "registered domain of the first URL"),
    "has_url": ("bool", "the body has at least one URL"),
    "has_shortener": ("bool", "a URL is on a public shortener (bit.ly, tinyurl, ...)"),
    "has_punycode": ("bool", "a URL host is punycode (xn--)"),
    "has_ip_url": ("bool", "a URL host is a bare IP address"),
    "lookalike_brand": ("str", "well-known brand a URL domain imitates, if any"),
    # content
    "template_fp": ("str", "fingerprint of the body with numbers, codes, URLs and names masked"),
    "prohibited_category": (
        "str",
        (
            "first prohibited-content category found (cannabis, "
            "high_risk_finance, gambling, sex, hate, alcohol, firearms, tobacco, "
            "debt, get_rich_quick), if any"
        ),
    ),
    "phishing_lure": ("bool", "the body reads like a credential / payment lure"),
    "is_otp_like": ("bool", "the body looks like a one-time passcode message"),
    # email authentication and unsubscribe (message headers)
    "spf": ("str", "SPF result from Authentication-Results: pass, fail, softfail, neutral, none"),
    "dkim": ("str", "DKIM result from Authentication-Results"),
    "dmarc": ("str", "DMARC result from Authentication-Results"),
    "has_list_unsubscribe": ("bool", "a List-Unsubscribe header is present"),
    "has_one_click_unsubscribe": ("bool", "RFC 8058 one-click unsubscribe headers are present"),
    # time
    "hour_utc": ("int", "hour of the event in UTC"),
    "local_hour": ("int", "hour at the recipient (from the destination number's time zone)"),
    "is_quiet_hours": ("bool", "recipient local time before 08:00 or from 21:00 (47 CFR 64.1200)"),
    # delivery outcomes
    "is_failure": ("bool", "delivery status failed, undelivered or bounced"),
    "is_hard_bounce": ("bool", "permanent email bounce"),
    "error_class": (
        "str",
        (
            "carrier error family: filtered, opted_out, invalid_number, "
            "unreachable, unregistered, blocked, rate_limited, other"
        ),
    ),
}
