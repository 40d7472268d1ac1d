"""Currencies: ISO 4217 codes, lower case as the API writes them."""

from __future__ import annotations

# Active ISO 4217 currency codes (funds and precious-metal codes left out).
ISO_4217 = frozenset(
    """
    aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bhd bif bmd bnd bob brl bsd btn bwp
    byn bzd cad cdf chf clp cny cop crc cuc cup cve czk djf dkk dop dzd egp ern etb eur fjd fkp
    gbp gel ghs gip gmd gnf gtq gyd hkd hnl htg huf idr ils inr iqd irr isk jmd jod jpy kes kgs
    khr kmf kpw krw kwd kyd kzt lak lbp lkr lrd lsl lyd mad mdl mga mkd mmk mnt mop mru mur mvr
    mwk mxn myr mzn nad ngn nio nok npr nzd omr pab pen pgk php pkr pln pyg qar ron rsd rub rwf
    sar sbd scr sdg sek sgd shp sle sll sos srd ssp stn svc syp szl thb tjs tmt tnd top try ttd
    twd tzs uah ugx usd uyu uzs ves vnd vuv wst xaf xcd xcg xof xpf yer zar zmw zwg zwl
    """.split()
)


# A request's currency field is the store's currency: the OpenAPI document, generated for a
# deployment, puts that one code in the place of schemas marked so.
STORE_CURRENCY_MARK = "x-store-currency"

# What requests may send: a code in lower case (as the API writes it) or upper case.
CURRENCY_CODES = sorted(ISO_4217) + sorted(code.upper() for code in ISO_4217)


def iso_currency(code: str) -> str:
    """Validate and normalise a currency code (pydantic AfterValidator): `usd` or `USD`."""
    if code.lower() not in ISO_4217 or code not in (code.lower(), code.upper()):
        raise ValueError(f"{code!r} is not an ISO 4217 currency code (lower or upper case)")
    return code.lower()


# ISO 4217 currencies without minor units (amounts are whole units already).
ZERO_DECIMAL = frozenset("bif clp djf gnf isk jpy kmf krw pyg rwf ugx vnd vuv xaf xof xpf".split())
THREE_DECIMAL = frozenset("bhd iqd jod kwd lyd omr tnd".split())


def format_amount(minor_units: int, currency: str) -> str:
    """`1999, "usd"` -> `"19.99 USD"`: for emails and logs, never for arithmetic."""
    code = currency.lower()
    digits = 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2
    sign = "-" if minor_units < 0 else ""
    units, rest = divmod(abs(minor_units), 10**digits)
    amount = f"{units:,}" + (f".{rest:0{digits}d}" if digits else "")
    return f"{sign}{amount} {code.upper()}"
