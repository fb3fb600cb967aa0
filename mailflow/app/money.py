"""Referral values as the firm reads them: in its currency, in the reader's locale."""

from __future__ import annotations

from babel.numbers import format_currency, get_decimal_symbol, get_territory_currencies

from mailflow.app.planning import country_of
from mailflow.config import Config


def currency_of(config: Config) -> str:
    """`currency:` from the config, else the firm's country's (GB: GBP), else EUR."""
    if config.currency:
        return config.currency
    country = country_of(config)
    found = get_territory_currencies(country) if country else []
    return found[0] if found else "EUR"


def money(amount: float, config: Config, locale: str) -> str:
    """4500 → '£4,500' (en_GB), '4.500 €' (de): whole amounts without decimals."""
    text = format_currency(amount, currency_of(config), locale=locale)
    if float(amount).is_integer():
        text = text.replace(f"{get_decimal_symbol(locale)}00", "", 1)
    return text


def value_text(given: float, received: float, config: Config, locale: str) -> str:
    """'£4,500 / £1,200' (given / received), or '' when neither has a value."""
    if not given and not received:
        return ""
    return f"{money(given, config, locale)} / {money(received, config, locale)}"
