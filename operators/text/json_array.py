"""Files holding one JSON array of records (Hugging Face's and Alpaca's `.json`), read
element by element with bounded memory: the standard library parses only whole
documents, and such files run to gigabytes."""
from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from typing import BinaryIO


class JsonArrayError(ValueError):
    pass


def is_json_array(head: bytes) -> bool:
    """The file holds one JSON array: it begins with "[", and not as JSONL whose first line
    happens to be a whole array with more lines after it."""
    body = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not body.startswith(b"["):
        return False
    first, newline, rest = body.partition(b"\n")
    if not newline or not rest.strip():
        return True
    try:
        json.loads(first)
    except ValueError:  # "[" alone, or a first line that goes on: an array over several lines
        return True
    return False


# Where raw_decode stops on a buffer that merely ends too soon: inside a string, or within
# the last few characters (a cut "true", "\\u00", number or closing bracket).
_NEEDS_MORE = 16
_NUMBER_GOES_ON = frozenset(".eE+-0123456789")


def json_array(stream: BinaryIO, max_element_bytes: int, chunk_size: int = 1 << 20) -> Iterator[tuple[int, object]]:
    """(number, element) for each element of a JSON array in a UTF-8 stream, read a chunk at
    a time (memory: the largest element plus a chunk); a JsonArrayError in place of the
    element where the JSON breaks or an element is over the limit, after which nothing more
    is read."""
    decoder, text = json.JSONDecoder(), codecs.getincrementaldecoder("utf-8-sig")()
    buffer, position, at_end, number = "", 0, False, 0

    def more() -> bool:
        nonlocal buffer, position, at_end
        if at_end:
            return False
        chunk = stream.read(chunk_size)
        at_end = not chunk
        buffer = buffer[position:] + text.decode(chunk, final=at_end)
        position = 0
        return True

    def skip_space() -> str:
        nonlocal position
        while True:
            while position < len(buffer) and buffer[position] in " \t\r\n":
                position += 1
            if position < len(buffer) or not more():
                return buffer[position:position + 1]

    try:
        if skip_space() != "[":
            raise JsonArrayError("not a JSON array")
        position += 1
        if skip_space() == "]":
            return
        while True:
            number += 1
            while True:
                try:
                    element, end = decoder.raw_decode(buffer, position)
                    if isinstance(element, (int, float)) and not isinstance(element, bool):
                        # "1" of "12", "0" of "0.5": a number is whole only when "," or "]" follows
                        follows = buffer[end:].lstrip()[:1]
                        if not follows or follows in _NUMBER_GOES_ON:
                            if more():
                                continue
                            if not follows:
                                raise JsonArrayError("invalid JSON: the file ends inside a number")
                        if follows not in ",]":
                            raise JsonArrayError(f"invalid JSON: {follows!r} after a number")
                    break
                except json.JSONDecodeError as exc:
                    cut = exc.msg.startswith("Unterminated string") or exc.pos >= len(buffer) - _NEEDS_MORE
                    if not cut or not more():
                        raise JsonArrayError(f"invalid JSON: {exc.msg}") from None
                    if len(buffer) > max_element_bytes + chunk_size:
                        raise JsonArrayError(f"longer than max_line_bytes={max_element_bytes:,}") from None
            position = end
            yield number, element
            following = skip_space()
            if following == "]":
                return
            if following != ",":
                number += 1
                raise JsonArrayError(f"expected ',' or ']' after element {number - 1}, found {following or 'the end'!r}")
            position += 1
            skip_space()
    except JsonArrayError as exc:
        yield number, exc
    except (UnicodeDecodeError, RecursionError) as exc:
        yield number, JsonArrayError(f"{type(exc).__name__}: {exc}")
