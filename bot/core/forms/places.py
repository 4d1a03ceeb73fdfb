"""UK counties, unitary areas and big towns, each with its nation or English region, so that
"Carmarthenshire", "Bolton" or "Kent" typed at "Where are you based?" finds Wales, the North West or the
South East. Region slugs are those of the mentoring profile (bot/mentoring/lists.py REGIONS).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.forms.typed import Option, Reading, choose, normalise

_PLACES: dict[str, str] = {
    "north_east": "Northumberland, County Durham, Durham, Tyne and Wear, Newcastle, Newcastle upon Tyne, "
                  "Sunderland, Gateshead, Middlesbrough, Darlington, Hartlepool, Stockton, Teesside, Tees Valley, "
                  "Redcar, South Shields, North Tyneside",
    "north_west": "Cumbria, Lancashire, Greater Manchester, Manchester, Merseyside, Liverpool, Cheshire, Bolton, "
                  "Salford, Stockport, Wigan, Oldham, Rochdale, Bury, Preston, Blackpool, Blackburn, Burnley, "
                  "Warrington, Chester, Carlisle, Lancaster, Wirral, Birkenhead, St Helens, Knowsley, Sefton, "
                  "Trafford, Tameside, Halton, Widnes, Runcorn, Kendal, Barrow",
    "yorkshire": "Yorkshire, North Yorkshire, South Yorkshire, West Yorkshire, East Riding, East Yorkshire, "
                 "Humberside, Leeds, Sheffield, Bradford, York, Hull, Kingston upon Hull, Doncaster, Rotherham, "
                 "Barnsley, Wakefield, Huddersfield, Halifax, Calderdale, Kirklees, Harrogate, Scarborough, "
                 "Grimsby, Scunthorpe, North Lincolnshire, North East Lincolnshire, Yorkshire and Humber",
    "east_midlands": "Derbyshire, Derby, Nottinghamshire, Nottingham, Leicestershire, Leicester, Lincolnshire, "
                     "Lincoln, Northamptonshire, Northampton, Rutland, Chesterfield, Mansfield, Loughborough, "
                     "Kettering, Corby, Boston",
    "west_midlands": "Birmingham, Coventry, Wolverhampton, Dudley, Walsall, Sandwell, Solihull, West Bromwich, "
                     "Staffordshire, Stoke, Stoke-on-Trent, Shropshire, Telford, Shrewsbury, Herefordshire, "
                     "Hereford, Worcestershire, Worcester, Warwickshire, Warwick, Nuneaton, Rugby, Stafford, "
                     "Black Country",
    "east": "East Anglia, Norfolk, Norwich, Suffolk, Ipswich, Cambridgeshire, Cambridge, Peterborough, Essex, "
            "Chelmsford, Colchester, Southend, Basildon, Hertfordshire, Herts, St Albans, Watford, Stevenage, "
            "Bedfordshire, Bedford, Luton, Great Yarmouth, Kings Lynn, Thurrock",
    "london": "Greater London, Camden, Hackney, Islington, Lambeth, Southwark, Tower Hamlets, Westminster, "
              "Croydon, Barnet, Brent, Ealing, Enfield, Haringey, Lewisham, Newham, Wandsworth, Greenwich, "
              "Hammersmith, Fulham, Kensington, Chelsea, Hounslow, Harrow, Hillingdon, Bromley, Bexley, "
              "Sutton, Merton, Kingston, Richmond, Redbridge, Havering, Waltham Forest, Barking, Dagenham, "
              "City of London",
    "south_east": "Kent, Surrey, Sussex, East Sussex, West Sussex, Hampshire, Hants, Berkshire, Buckinghamshire, "
                  "Bucks, Oxfordshire, Oxford, Isle of Wight, Brighton, Hove, Southampton, Portsmouth, Reading, "
                  "Slough, Milton Keynes, Canterbury, Maidstone, Medway, Guildford, Crawley, Winchester, "
                  "Basingstoke, Eastbourne, Hastings, Dover, Ashford, Windsor, Woking, Aylesbury",
    "south_west": "Cornwall, Devon, Somerset, Dorset, Wiltshire, Gloucestershire, Bristol, Bath, Plymouth, "
                  "Exeter, Torquay, Torbay, Truro, Taunton, Swindon, Salisbury, Gloucester, Cheltenham, "
                  "Bournemouth, Poole, Weymouth, Yeovil, Isles of Scilly",
    "scotland": "Glasgow, Edinburgh, Aberdeen, Dundee, Inverness, Stirling, Perth, Fife, Highlands, Highland, "
                "Lothian, Ayrshire, Lanarkshire, Dumfries, Galloway, Borders, Scottish Borders, Argyll, "
                "Aberdeenshire, Angus, Moray, Orkney, Shetland, Western Isles, Falkirk, Paisley, Renfrewshire",
    "wales": "Cardiff, Swansea, Newport, Wrexham, Carmarthenshire, Carmarthen, Pembrokeshire, Ceredigion, "
             "Powys, Gwynedd, Anglesey, Ynys Mon, Conwy, Denbighshire, Flintshire, Monmouthshire, Torfaen, "
             "Blaenau Gwent, Caerphilly, Merthyr Tydfil, Merthyr, Rhondda, Rhondda Cynon Taf, Bridgend, "
             "Neath, Port Talbot, Vale of Glamorgan, Llanelli, Aberystwyth, Bangor, Cymru",
    "northern_ireland": "Belfast, Derry, Londonderry, Antrim, Down, Armagh, Tyrone, Fermanagh, Newry, Lisburn, "
                        "NI, N Ireland, Ulster",
}
PLACES: dict[str, str] = {normalise(place): region for region, names in _PLACES.items()
                          for place in names.split(", ")}


def read_region(text: str, regions: Sequence[Option]) -> Reading:
    """A region from its name ("Wales", "north west") or a place in it ("Carmarthenshire", "Bolton")."""
    reading = choose(text, regions)
    if reading.found:
        return reading
    place = PLACES.get(normalise(text).removeprefix("in ").strip())
    if place is not None:
        return Reading(place)
    options = [Option(region, place) for place, region in PLACES.items()]
    by_place = choose(text, options, cutoff=88)
    if by_place.found:
        return by_place
    return reading
