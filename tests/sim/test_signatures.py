"""Each scenario shows its signals at the strength docs/simulator.md states, measured from the
events of the default run (seed 7, 3 days, scale 1). If the generator drifts, these fail.

Thresholds cite DOMAIN.md; the asserted bounds sit between the documented threshold and the
strength the scenario is built for, so both "too weak to detect" and "cartoonish" are caught
where it matters.
"""

from __future__ import annotations

import statistics
from datetime import timedelta

from .conftest import Run
from .signals import Measured, Stats

# Braze default-deny SMS countries (DOMAIN.md §3.5 item 7).
# fmt: off
BRAZE = frozenset({
    "AF", "AO", "AZ", "BD", "BI", "CF", "CM", "CU", "CV", "DZ", "GM", "GT", "ID", "IR",
    "IQ", "JE", "LY", "KE", "KG", "KH", "KI", "KP", "LK", "MA", "ML", "MM", "MN", "MR",
    "MW", "NE", "NF", "NG", "NU", "OM", "PK", "PS", "SA", "SD", "SI", "SN", "SO", "SS",
    "SY", "TG", "TJ", "TL", "TN", "TZ", "UA", "UZ", "VN", "WF", "YE", "ZM",
})
# fmt: on
SHORTENERS = ("bit.ly/", "tinyurl.com/", "is.gd/", "cutt.ly/", "t.ly/")


def one(m: Measured, label: str) -> Stats:
    (stats,) = m.by_label(label)
    return stats


def subnet(ips: set[str]) -> set[str]:
    return {ip.rsplit(".", 1)[0] for ip in ips}


# -- abuse ------------------------------------------------------------------------------------


def test_sms_pumping(measured: Measured, default_run: Run) -> None:
    s = one(measured, "sms_pumping")
    assert s.signup_at is not None
    assert 7 <= (default_run.summary.start - s.signup_at).days <= 30  # newish
    targets = {c for c in s.starts_by_country if c in BRAZE}
    assert len(targets) >= 4
    pumped = sum(s.starts_by_country[c] for c in targets)
    assert pumped >= 1000
    assert s.conversion(targets) < 0.05  # S8: nobody enters the codes
    assert s.conversion({"GB"}) > 0.8  # its own users still do
    assert max(s.starts_by_prefix_hour.values()) >= 40  # S12: one prefix, one hour
    assert s.error_rate > 0.125  # S2 restriction line


def test_smishing_ring(measured: Measured) -> None:
    ring = measured.by_label("smishing_ring")
    assert 4 <= len(ring) <= 6
    signups = sorted(s.signup_at for s in ring if s.signup_at is not None)
    assert signups[-1] - signups[0] <= timedelta(hours=6)
    assert len(set.union(*(subnet(s.signup_ips) for s in ring))) == 1  # one /24
    for s in ring:
        others = [o for o in ring if o is not s]
        assert any(s.devices & o.devices or s.payments & o.payments for o in others)
        assert s.error_share("30007") >= 0.2  # S3: carriers filter it
        assert s.carrier_complaints > 0
        assert set(s.destinations) <= {"US", "GB"}
        links = [b for b in s.bodies if "https://" in b]
        assert len(links) == len(s.bodies)
        assert any(b.split("https://")[1].startswith(SHORTENERS) for b in s.bodies)
    senders = set.union(*(s.senders for s in ring))
    named = [r for r in measured.reports if r["target"] in senders]
    assert any(r["reporter"] == "carrier" and r["category"] == "phishing" for r in named)
    assert all("account_id" not in r for r in named)


def test_email_spam(measured: Measured) -> None:
    s = one(measured, "email_spam")
    assert s.email_out >= 200
    assert s.hard_bounce_rate >= 0.08  # E1: over SES's 5 % review line, near the 10 % pause
    assert 0.003 <= s.complaint_rate <= 0.01  # E2: over SES 0.1 % review, Gmail 0.3 %
    assert s.with_unsubscribe == 0  # E8
    assert s.auth_fail / s.email_out >= 0.2  # E7
    assert s.signup_at is not None
    assert s.first_event is not None
    assert s.signup_at >= s.first_event  # a new account: its sign-up is its first event


def test_compromised_account(measured: Measured, default_run: Run) -> None:
    account, s = next(
        (a, s) for a, s in measured.accounts.items() if s.label == "compromised_account"
    )
    takeover = measured.truth[account]["abuse_start"]
    assert s.signup_at is not None
    assert (default_run.summary.start - s.signup_at).days >= 365  # long-standing
    assert s.login_countries["US"] >= 1
    assert len(s.login_countries) == 2
    new_keys = [k for k, first in s.key_first_seen.items() if first.isoformat() > takeover]
    assert len(new_keys) == 1
    old = sum(n for k, n in s.message_api_keys.items() if k not in new_keys)
    spike = s.message_api_keys[new_keys[0]]
    assert spike >= 1.5 * old  # E11: more in a few hours than in three days of its own mail
    assert max(s.sends_by_hour.values()) >= 10 * statistics.median(s.sends_by_hour.values())
    assert s.complaint_rate >= 0.003  # E2 (over the whole window, its clean mail included)


def test_purchased_list(measured: Measured) -> None:
    s = one(measured, "purchased_list")
    assert s.error_share("30005", "30006", "21614") > 0.15  # S7
    assert s.error_rate > 0.125  # S2
    assert 0.03 <= s.opt_out_rate <= 0.06  # S1: over the 3 % restriction line
    assert s.errors["30007"] > 0
    assert s.quiet_hour_sends == 0  # only the list is wrong


def test_consent_violation(measured: Measured) -> None:
    s = one(measured, "consent_violation")
    assert s.opt_outs >= 30
    assert s.sends_after_opt_out >= 30  # S4
    assert s.errors["21610"] >= 10  # Twilio refusing sends to opted-out numbers
    assert s.quiet_hour_sends >= 0.2 * s.sms_out  # S14
    assert min(s.local_hours) < 8
    assert max(s.local_hours) >= 21


def test_prohibited_content(measured: Measured) -> None:
    s = one(measured, "prohibited_content")
    assert set(s.destinations) == {"US"}
    assert s.error_share("30007") >= 0.15
    words = ("CBD", "Cannabis", "Payday", "payday", "crypto", "cash advance")
    assert sum(any(w in b for w in words) for b in s.bodies) >= 0.6 * len(s.bodies)
    short = sum(any(x in b for x in SHORTENERS) for b in s.bodies)
    assert short >= 0.5 * len(s.bodies)
    assert s.opt_out_rate >= 0.015


def test_ban_evasion(measured: Measured) -> None:
    evader = one(measured, "ban_evasion")
    twins = [
        s
        for s in measured.accounts.values()
        if s.label not in ("legit", "ban_evasion")
        and s.devices & evader.devices
        and s.payments & evader.payments
    ]
    assert len(twins) == 1
    (twin,) = twins
    assert twin.label in ("smishing_ring", "email_spam")
    assert subnet(twin.signup_ips) & subnet(evader.signup_ips)
    assert evader.signup_at is not None
    assert twin.first_event is not None
    assert evader.signup_at - twin.first_event >= timedelta(hours=24)
    assert 0 < evader.sms_out + evader.email_out <= 0.3 * (twin.sms_out + twin.email_out)


def test_snowshoe(measured: Measured) -> None:
    flock = measured.by_label("snowshoe")
    assert len(flock) >= 10
    assert all(0 < s.sms_out <= 300 for s in flock)  # each one below any volume line
    assert len(set.union(*(s.devices for s in flock))) == len(flock)  # nothing shared...
    assert len(set.union(*(s.payments for s in flock))) == len(flock)
    for s in flock:  # ...but the content and the site behind the links
        assert all("approvedfunds.co/" in b and "pre-approved" in b for b in s.bodies)


def test_voice_robocall(measured: Measured) -> None:
    s = one(measured, "voice_robocall")
    assert s.calls >= 3000
    assert (s.attestation["B"] + s.attestation["C"]) / s.calls >= 0.8  # V1
    assert statistics.median(s.call_durations) < 15
    for legit in measured.by_kind("voice"):
        assert legit.attestation["A"] / legit.calls >= 0.9
        assert statistics.median(legit.call_durations) > 60


def test_outside_reports_name_targets_not_accounts(measured: Measured) -> None:
    assert len(measured.reports) >= 4
    senders = {x: s.label for s in measured.accounts.values() for x in s.senders}
    for report in measured.reports:
        assert "account_id" not in report
        assert report["target"] in senders
    labels = {senders[r["target"]] for r in measured.reports}
    assert "legit" in labels  # not every report is right
    assert len(labels - {"legit"}) >= 3


# -- legitimate traffic and the honest outliers --------------------------------------------


def test_legit_otp_converts(measured: Measured) -> None:
    for s in measured.by_kind("otp"):
        assert 0.8 <= s.conversion() <= 0.95
        assert 0.01 <= s.error_rate <= 0.04


def test_legit_marketing_is_healthy(measured: Measured) -> None:
    for s in measured.by_kind("marketing_sms"):
        assert 0.003 <= s.opt_out_rate <= 0.01  # S1 healthy band
        assert s.error_share("30007") < 0.01
        assert s.error_rate < 0.06  # S2 healthy
        assert s.quiet_hour_sends == 0
        assert all(any(w in b for w in ("STOP", "BAJA", "SAIR")) for b in s.bodies)
    for s in measured.by_kind("notifications_sms"):
        assert s.error_rate < 0.04
        assert s.opt_out_rate < 0.003


def test_legit_email_is_clean(measured: Measured) -> None:
    senders = measured.by_kind("transactional_email") + measured.by_kind("newsletter_email")
    for s in senders:
        assert s.hard_bounce_rate < 0.02  # E1 best practice
        assert s.auth_fail == 0
        assert s.fbl_complaints <= 3
    complaints = sum(s.fbl_complaints for s in senders)
    delivered = sum(s.email_delivered for s in senders)
    assert complaints / delivered < 0.0005
    for s in measured.by_kind("newsletter_email"):
        assert s.with_unsubscribe == s.email_out  # E8: RFC 8058 on every issue


def test_outlier_flash_sale_is_big_but_clean(measured: Measured) -> None:
    (s,) = measured.by_kind("outlier_flash_sale")
    (flash, biggest), *ordinary = s.campaign_sends.most_common()
    assert biggest >= 8 * statistics.median(n for _, n in ordinary)  # ~10x its usual campaign
    first, last = s.campaigns[flash]
    assert last - first <= timedelta(hours=2)
    assert s.opt_out_rate < 0.01
    assert s.error_rate < 0.06
    assert s.quiet_hour_sends == 0


def test_outlier_high_risk_otp_converts(measured: Measured) -> None:
    (s,) = measured.by_kind("outlier_otp_high_risk_good_conversion")
    assert s.starts_by_country["NG"] >= 0.9 * sum(s.starts_by_country.values())
    assert "NG" in BRAZE
    assert s.conversion({"NG"}) > 0.85


def test_outlier_big_email_is_big_and_clean(measured: Measured) -> None:
    (s,) = measured.by_kind("outlier_big_clean_email")
    others = [
        o.email_out
        for o in measured.accounts.values()
        if o.label == "legit" and o.email_out and o is not s
    ]
    assert s.email_out >= 8 * statistics.mean(others) / 2  # ~10x a transactional sender
    assert s.hard_bounce_rate < 0.01
    assert s.complaint_rate < 0.0002
