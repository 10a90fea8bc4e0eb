"""SMS segment arithmetic: GSM-7 or UCS-2, how many segments a text costs, and cutting it to fit.

A text made only of GSM 03.38 characters travels as GSM-7: 160 septets in one segment, 153
per segment once it needs several (the rest carries the concatenation header). The
extension table's characters (€ [ ] { } ^ ~ | \\ and form feed) take two septets each, and a
character is never split across two segments. Any other character switches the whole message
to UCS-2: 70 UTF-16 units in one segment, 67 per segment beyond, a character outside the
Basic Multilingual Plane (most emoji) taking two units.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7 = "GSM-7"
UCS2 = "UCS-2"

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

# (single segment, per segment of a multipart message)
LIMITS = {GSM7: (160, 153), UCS2: (70, 67)}

# Typographic characters that have a GSM-7 look-alike. Replacing them keeps a title with a
# curly quote or an en dash at 160 characters a segment instead of 70 (what Twilio calls
# "smart encoding").
LOOKALIKES = str.maketrans(
    {
        "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2010": "-", "\u2011": "-",
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
        "\u2026": "...", "\u2022": "-", "\u00b7": "-",
        "\u00a0": " ", "\u2009": " ", "\u200a": " ", "\u202f": " ", "\u2002": " ", "\u2003": " ",
        "\u200b": "", "\ufeff": "",
        "\t": " ",
    }
)


@dataclass(frozen=True)
class Info:
    encoding: str  # GSM-7 or UCS-2
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def is_gsm7(text: str) -> bool:
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def encoding(text: str) -> str:
    return GSM7 if is_gsm7(text) else UCS2


def _char_units(text: str, enc: str) -> list[int]:
    if enc == GSM7:
        return [2 if char in GSM7_EXTENSION else 1 for char in text]
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def _count_segments(sizes: list[int], enc: str) -> int:
    single, multi = LIMITS[enc]
    total = sum(sizes)
    if total == 0:
        return 0
    if total <= single:
        return 1
    count, used = 1, 0
    for size in sizes:
        if used + size > multi:  # a character is never split across segments
            count, used = count + 1, 0
        used += size
    return count


def info(text: str) -> Info:
    enc = encoding(text)
    sizes = _char_units(text, enc)
    return Info(encoding=enc, units=sum(sizes), segments=_count_segments(sizes, enc))


def segments(text: str) -> int:
    """How many segments `text` is sent as (0 for an empty text)."""
    return info(text).segments


def normalize(text: str) -> str:
    """Typographic punctuation replaced by GSM-7 look-alikes; other characters kept."""
    return text.translate(LOOKALIKES)


def _cut(text: str, length: int) -> str:
    head = text[:length].rstrip()
    # "…" is not a GSM-7 character: it would turn the whole message into UCS-2 and halve
    # what fits, so a GSM-7 text ends with three dots instead.
    return head + ("..." if is_gsm7(head) else "…")


def fit(text: str, max_segments: int) -> str:
    """`text` (look-alikes normalised) cut with an ellipsis so it fits in `max_segments` segments."""
    text = normalize(text)
    max_segments = max(1, int(max_segments))
    if segments(text) <= max_segments:
        return text
    # The longest prefix that fits, by bisection: if a prefix fits, every shorter one does
    # (same encoding: fewer units; GSM-7 after dropping a UCS-2 character: more room).
    low, high = 0, len(text) - 1
    while low < high:
        middle = (low + high + 1) // 2
        if segments(_cut(text, middle)) <= max_segments:
            low = middle
        else:
            high = middle - 1
    return _cut(text, low)
