"""Which customer a provider event is about, when its payload does not say (docs/formats.md).

Real provider payloads carry no field of ours: a SendGrid event names its IP pool, categories
and unique args (and its subuser is the one whose webhook endpoint sent it: `--subuser`), a Mailgun event its tags and sending IP, an SES notification its configuration
set, sending identity (source ARN) and message tags, an ARF report the original's sender and
source IP. The workspace's account map (YAML, `ABUSEDESK_ACCOUNT_MAP_PATH`, default
`<home>/account_map.yaml`) says which of those values belong to which account:

    sendgrid:
      subuser: {acme-sub: acct-1}  # the subuser whose webhook sent the batch (--subuser)
      ip_pool: {pool-acme: acct-1}
      category: {acme-newsletter: acct-1}
      unique_arg: [tenant]        # unique args whose value *is* the account id
    mailgun:
      domain: {mg.acme.example: acct-1}
      account: {5f1e...: acct-1}  # Mailgun (sub)account id
      tag: {acme: acct-1}
      variable: [tenant]
    ses:
      configuration_set: {acme-prod: acct-1}
      source_arn: {"arn:aws:ses:us-east-1:123456789012:identity/acme.example": acct-1}
      tag: [tenant]               # message tags whose value is the account id
    sender_domain: {acme.example: acct-1}
    sender_ip: {192.0.2.8: acct-1}

Sender domain and IP are also fed by the registry: a domain or IP that the registry has linked
to exactly one account (from that account's own outbound messages) maps to it, so a desk needs
no entry for senders the platform already knows. A value linked to several accounts maps to none
(a shared pool or domain names nobody in particular). `resolve` is pure; the registry lookup is
`registry_owners`, which the pipeline calls once a batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Connection, text

from abusedesk.errors import ConfigError

# provider -> key in the map -> how the value is read from the event (see _values)
_PROVIDER_KEYS: dict[str, tuple[str, ...]] = {
    "sendgrid": ("subuser", "ip_pool", "category", "unique_arg"),
    "mailgun": ("domain", "account", "tag", "variable"),
    "ses": ("configuration_set", "source_arn", "tag"),
}


@dataclass(frozen=True)
class AccountMap:
    """value -> account tables per provider key, and the names whose value is the account."""

    tables: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    account_keys: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    sender_domain: dict[str, str] = field(default_factory=dict)
    sender_ip: dict[str, str] = field(default_factory=dict)

    def resolve(
        self, event: Mapping[str, Any], owners: Mapping[tuple[str, str], str]
    ) -> str | None:
        """The account of `event` (a canonical event without account_id), or None.

        Provider fields first (the most specific), then the sender's domain and IP from the
        map, then from the registry (`owners`: (kind, value) -> its only account)."""
        provider = str(event.get("id", "")).split(":", 1)[0]
        for key in _PROVIDER_KEYS.get(provider, ()):
            for value in _values(provider, key, event):
                account = self.tables.get((provider, key), {}).get(value)
                if account:
                    return account
            for name in self.account_keys.get((provider, key), ()):
                account = _named(provider, key, event, name)
                if account:
                    return account
        domain, ip = sender_of(event)
        if domain and domain in self.sender_domain:
            return self.sender_domain[domain]
        if ip and ip in self.sender_ip:
            return self.sender_ip[ip]
        if domain and ("domain", domain) in owners:
            return owners[("domain", domain)]
        if ip and ("ip", ip) in owners:
            return owners[("ip", ip)]
        return None


def sender_of(event: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(sender domain, sending IP) of the mail an event is about, from the fields adapters keep."""
    domain = None
    for key in ("original_mail_from", "mail_from", "sender", "original_from", "from"):
        value = event.get(key)
        if isinstance(value, str) and "@" in value:
            domain = value.rsplit("@", 1)[1].strip(" >").lower() or None
            break
    if domain is None and isinstance(event.get("domain"), str):  # Mailgun's sending domain
        domain = str(event["domain"]).lower() or None
    ip = None
    for key in ("source_ip", "sending_ip", "sender_ip"):
        value = event.get(key)
        if isinstance(value, str) and value:
            ip = value
            break
    return domain, ip


def _values(provider: str, key: str, event: Mapping[str, Any]) -> list[str]:
    if provider == "sendgrid":
        if key == "subuser":
            return _strs(event.get("subuser"))
        if key == "ip_pool":
            return _strs(event.get("ip_pool"))
        if key == "category":
            return _strs(event.get("category"))
        return []
    if provider == "mailgun":
        if key == "domain":
            return _strs(event.get("domain"))
        if key == "account":
            return _strs(event.get("mailgun_account"))
        return _strs(event.get("tags")) if key == "tag" else []
    if provider == "ses":
        tags = event.get("tags")
        if key == "configuration_set" and isinstance(tags, dict):
            return _strs(tags.get("ses:configuration-set"))
        if key == "source_arn":
            return _strs(event.get("source_arn"))
    return []


def _named(provider: str, key: str, event: Mapping[str, Any], name: str) -> str | None:
    """The value of the unique arg / user variable / message tag `name`, when it is a string."""
    if provider == "sendgrid" and key == "unique_arg":
        holder = event.get("custom_args")
    elif provider == "mailgun" and key == "variable":
        holder = event.get("user_variables")
    elif provider == "ses" and key == "tag":
        holder = event.get("tags")
    else:
        return None
    if not isinstance(holder, dict):
        return None
    value = holder.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, str) and value else None


def _strs(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def load_account_map(path: Path | None) -> AccountMap:
    """The map at `path`; an empty map when `path` is None or does not exist."""
    if path is None or not path.exists():
        return AccountMap()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the account map {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse_account_map(raw, str(path))


def parse_account_map(raw: Any, where: str) -> AccountMap:
    if raw is None:
        return AccountMap()
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: the account map must be a mapping")
    tables: dict[tuple[str, str], dict[str, str]] = {}
    account_keys: dict[tuple[str, str], tuple[str, ...]] = {}
    for provider, section in raw.items():
        if provider in ("sender_domain", "sender_ip"):
            continue
        if provider not in _PROVIDER_KEYS:
            known = ", ".join([*_PROVIDER_KEYS, "sender_domain", "sender_ip"])
            raise ConfigError(f"{where}: unknown section {provider!r}; expected one of {known}")
        if not isinstance(section, dict):
            raise ConfigError(f"{where}: {provider} must be a mapping")
        for key, value in section.items():
            if key not in _PROVIDER_KEYS[provider]:
                expected = ", ".join(_PROVIDER_KEYS[provider])
                raise ConfigError(f"{where}: {provider}.{key} is not one of {expected}")
            if isinstance(value, list):
                account_keys[(provider, key)] = tuple(_names(value, f"{where}: {provider}.{key}"))
            else:
                tables[(provider, key)] = _table(value, f"{where}: {provider}.{key}")
    return AccountMap(
        tables,
        account_keys,
        {k.lower(): v for k, v in _table(raw.get("sender_domain") or {}, where).items()},
        _table(raw.get("sender_ip") or {}, where),
    )


def _table(value: object, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in value.items()
    ):
        raise ConfigError(f"{where} must map values to account ids (strings)")
    return dict(value)


def _names(value: Iterable[object], where: str) -> list[str]:
    names = list(value)
    if not all(isinstance(n, str) and n for n in names):
        raise ConfigError(f"{where} must be a list of names")
    return [str(n) for n in names]


def registry_owners(
    conn: Connection, wanted: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """(kind, value) -> account, for the domains and IPs the registry links to exactly one
    account."""
    out: dict[tuple[str, str], str] = {}
    pairs = sorted(set(wanted))
    for kind in ("domain", "ip"):
        values = [value for k, value in pairs if k == kind]
        for start in range(0, len(values), 500):
            chunk = values[start : start + 500]
            params = {f"v{i}": v for i, v in enumerate(chunk)}
            marks = ", ".join(f":v{i}" for i in range(len(chunk)))
            rows = conn.execute(
                text(
                    "SELECT e.value, MIN(ae.account_id), COUNT(DISTINCT ae.account_id) "
                    "FROM entities e JOIN account_entities ae ON ae.entity_id = e.id "
                    f"WHERE e.kind = :kind AND e.value IN ({marks}) GROUP BY e.value"
                ),
                {"kind": kind, **params},
            )
            for value, account, count in rows:
                if count == 1:
                    out[(kind, value)] = account
    return out
