"""Countries the simulated platform serves: time zone, language, SMS price, web suffix.

Prices are rough public list prices per SMS segment (USD) and only need to be in the right
order of magnitude: pumping shows up as cost to high-cost destinations, so those are an order
of magnitude dearer than domestic US traffic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Market:
    country: str
    tz: str
    lang: str
    sms_price: float
    tld: str
    currency: str


MARKETS: Final[dict[str, Market]] = {
    m.country: m
    for m in (
        Market("US", "America/New_York", "en", 0.0079, "com", "$"),
        Market("CA", "America/Toronto", "en", 0.0079, "ca", "$"),
        Market("GB", "Europe/London", "en", 0.0400, "co.uk", "£"),
        Market("IE", "Europe/Dublin", "en", 0.0750, "ie", "€"),
        Market("DE", "Europe/Berlin", "de", 0.0790, "de", "€"),
        Market("FR", "Europe/Paris", "fr", 0.0750, "fr", "€"),
        Market("ES", "Europe/Madrid", "es", 0.0700, "es", "€"),
        Market("NL", "Europe/Amsterdam", "nl", 0.0900, "nl", "€"),
        Market("IT", "Europe/Rome", "en", 0.0850, "it", "€"),
        Market("BR", "America/Sao_Paulo", "pt", 0.0450, "com.br", "R$"),
        Market("MX", "America/Mexico_City", "es", 0.0500, "com.mx", "$"),
        Market("IN", "Asia/Kolkata", "en", 0.0350, "in", "₹"),
        Market("AU", "Australia/Sydney", "en", 0.0520, "com.au", "$"),
        # Destinations on the Braze default-deny list (DOMAIN.md §3.5 item 7): high termination
        # rates are what makes pumping pay.
        Market("NG", "Africa/Lagos", "en", 0.2100, "ng", "₦"),
        Market("PK", "Asia/Karachi", "en", 0.2200, "pk", "Rs"),
        Market("CM", "Africa/Douala", "fr", 0.2850, "cm", "FCFA"),
        Market("UZ", "Asia/Tashkent", "en", 0.3050, "uz", "UZS"),
        Market("TJ", "Asia/Dushanbe", "en", 0.3250, "tj", "TJS"),
        Market("KG", "Asia/Bishkek", "en", 0.2950, "kg", "KGS"),
        Market("AZ", "Asia/Baku", "en", 0.3100, "az", "AZN"),
    )
}

# Where legitimate customers are based; each also sends a little across borders.
LEGIT_HOMES: Final[tuple[str, ...]] = ("US", "GB", "DE", "FR", "BR", "IN", "MX", "ES", "NL", "AU")
NEIGHBOURS: Final[dict[str, tuple[str, ...]]] = {
    "US": ("CA", "MX", "GB"),
    "GB": ("IE", "US", "FR"),
    "DE": ("NL", "FR", "IT"),
    "FR": ("ES", "DE", "IT"),
    "BR": ("US", "MX", "ES"),
    "IN": ("GB", "US", "AU"),
    "MX": ("US", "ES", "BR"),
    "ES": ("FR", "GB", "MX"),
    "NL": ("DE", "GB", "FR"),
    "AU": ("GB", "US", "IN"),
    "NG": ("GB", "US", "IN"),
}


def market(country: str) -> Market:
    return MARKETS[country]
