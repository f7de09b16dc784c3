"""Converting between the browser's offsets and ours.

We store offsets as Unicode code points (what Python's str indexes). Browsers count UTF-16
code units, in which every character outside the Basic Multilingual Plane (emoji, many CJK
ideographs, mathematical letters) takes two.
"""


def utf16_length(text):
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def utf16_to_code_points(text, offset):
    """The code-point offset for a UTF-16 offset into `text`.

    An offset falling inside a surrogate pair (half a character) rounds down to the
    character's start. Raises ValueError for an offset outside the text."""
    if offset < 0:
        raise ValueError("offset before the start of the text")
    units = 0
    for index, char in enumerate(text):
        if units >= offset:
            return index
        units += 2 if ord(char) > 0xFFFF else 1
        if units > offset:
            return index
    if units == offset:
        return len(text)
    raise ValueError("offset after the end of the text")


def code_points_to_utf16(text, offset):
    if not 0 <= offset <= len(text):
        raise ValueError("offset outside the text")
    return utf16_length(text[:offset])
