"""Kannel's XML sendsms (a POST with ``Content-Type: text/xml``), read as smsbox 1.4.5 reads it
(``get_x_kannel_from_xml`` in ``gw/smsbox.c``: libxml2 and one XPath per field)::

    <message><submit>
      <da><number>380671234567</number><number>...</number></da>  (every number: a receiver)
      <oa><number>Shop</number></oa>                              (the sender)
      <ud type="text">Hello%20there</ud>  (URL-decoded; type="binary": hexadecimal octets)
      <udh>0500030a0201</udh>             (hexadecimal, else URL-decoded)
      <dcs><coding>0</coding><mclass/><mwi/><compress/><alt-dcs/></dcs>
      <pid/> <rpi/> <priority/>
      <vp><delay>minutes</delay></vp> <timing><delay>minutes</delay></timing>
      <statusrequest><dlr-mask>31</dlr-mask><dlr-url>http://...</dlr-url></statusrequest>
      <from><username/><password/><account/></from>   (also <user>, <pass>)
    </submit></message>

Strings are an element's text, blanks stripped (the first such element in document order);
numbers are read as XPath's ``number()`` and then as C's ``(int)`` (a number XPath cannot read,
an empty element included, becomes INT_MIN: a value out of every range, so smsbox's "field
misformed" answer follows). The text's charset is the XML declaration's encoding (UTF-8 when
none), applied, as smsbox does, to the octets of the text as parsed.

Parsed with the standard library's expat, safely: a document with a DTD (``<!DOCTYPE``) is
refused (:class:`XmlRefused`), so there are no entity declarations, no external entities and
no entity expansion; nesting deeper than :data:`MAX_DEPTH` counts as unreadable. The body is
already bounded by the HTTP API's ``max_body``. A document that cannot be read gives no
fields at all, as in smsbox (which then refuses it as a failed authorization)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from xml.parsers import expat

MAX_DEPTH = 32
INT_MIN = -(2**31)  # C's (int) of NaN or of a double out of range, on the platforms Kannel runs
_NUMBER = re.compile(r"[ \t\r\n]*(-?(?:\d+(?:\.\d*)?|\.\d+))[ \t\r\n]*")
_BLANKS = " \t\r\n\f\v"  # octstr_strip_blanks: isspace()
_HEX = re.compile(rb"[0-9A-Fa-f]*")


class XmlRefused(ValueError):
    """A document smsc will not read (a DTD)."""


@dataclass(slots=True, eq=False)
class _Node:
    tag: str
    attributes: dict[str, str]
    content: list[_Node | str | None] = field(default_factory=list)  # None: a text break

    def children(self, tag: str) -> list[_Node]:
        return [c for c in self.content if isinstance(c, _Node) and c.tag == tag]

    def string(self) -> str:
        """XPath's string-value: every text inside, in document order."""
        out: list[str] = []
        stack: list[_Node | str | None] = [self]
        while stack:
            item = stack.pop()
            if isinstance(item, _Node):
                stack.extend(reversed(item.content))
            elif item:
                out.append(item)
        return "".join(out)

    def text_runs(self) -> list[str]:
        """XPath's ``text()`` children: the runs of character data between child nodes
        (elements, comments, processing instructions), CDATA sections left out as smsbox
        leaves them out."""
        runs: list[str] = []
        current: list[str] | None = None
        for item in self.content:
            if isinstance(item, str) and not isinstance(item, _Cdata):
                if current is None:
                    current = []
                    runs.append("")
                current.append(item)
                runs[-1] = "".join(current)
            else:
                current = None
        return runs


@dataclass(frozen=True, slots=True, kw_only=True)
class XmlSubmit:
    """What smsbox reads from the document: ``fields`` named as the sendsms parameters
    (strings, octets for ``text`` and ``udh``, ints), and the receivers (None: no
    ``da/number`` text at all)."""

    fields: dict[str, object]
    receivers: tuple[str, ...] | None


def read_xml(body: bytes) -> XmlSubmit:
    """The sendsms fields of an XML document (none when it cannot be read); XmlRefused for
    a document with a DTD."""
    parsed = _parse(body)
    if parsed is None:
        return XmlSubmit(fields={}, receivers=None)
    root, encoding = parsed
    fields: dict[str, object] = {}

    def first(*path: str) -> _Node | None:
        nodes = [root] if root.tag == "message" else []
        for tag in path:
            nodes = [c for n in nodes for c in n.children(tag)]
        return nodes[0] if nodes else None

    def string(name: str, *path: str) -> None:
        node = first(*path)
        if node is not None:
            fields[name] = node.string().strip(_BLANKS)

    def number(name: str, *path: str) -> None:
        node = first(*path)
        if node is not None:
            fields[name] = xpath_int(node.string())

    if first("submit", "from") is not None:
        string("username", "submit", "from", "user")
        string("username", "submit", "from", "username")
        string("password", "submit", "from", "pass")
        string("password", "submit", "from", "password")
        string("account", "submit", "from", "account")
    string("from", "submit", "oa", "number")
    udh = first("submit", "udh")
    if udh is not None:
        octets = udh.string().strip(_BLANKS).encode("utf-8")
        fields["udh"] = _from_hex(octets) if _is_hex(octets) else url_decode(octets)
    for name, path in (("pid", ("pid",)), ("rpi", ("rpi",)), ("mclass", ("dcs", "mclass")),
                       ("mwi", ("dcs", "mwi")), ("coding", ("dcs", "coding")),
                       ("compress", ("dcs", "compress")), ("alt-dcs", ("dcs", "alt-dcs")),
                       ("dlr-mask", ("statusrequest", "dlr-mask")),
                       ("validity", ("vp", "delay")), ("deferred", ("timing", "delay")),
                       ("priority", ("priority",))):
        number(name, "submit", *path)
    string("dlr-url", "submit", "statusrequest", "dlr-url")
    fields["charset"] = encoding or "UTF-8"
    ud = first("submit", "ud")
    text = b""
    if ud is not None:
        octets = ud.string().strip(_BLANKS).encode("utf-8")
        kind = ud.attributes.get("type", "").strip(_BLANKS)
        if kind.lower() == "binary":
            text = _from_hex(octets) if _is_hex(octets) else octets
        else:
            text = url_decode(octets)
    fields["text"] = text
    da = [n for d in (root.children("submit") if root.tag == "message" else [])
          for n in d.children("da")]
    runs = [r.strip(_BLANKS) for d in da for n in d.children("number") for r in n.text_runs()]
    return XmlSubmit(fields=fields, receivers=tuple(runs) if runs else None)


def _parse(body: bytes) -> tuple[_Node, str] | None:
    """(the root element, the declared encoding) or None when it cannot be read."""
    parser = expat.ParserCreate(namespace_separator=" ")  # a namespaced name matches nothing
    parser.buffer_text = True
    root: list[_Node] = []
    stack: list[_Node] = []
    encoding = [""]
    in_cdata = [False]

    def refuse_dtd(*_: object) -> int:
        raise XmlRefused("a document type declaration (DTD) is not accepted")

    def start(tag: str, attributes: dict[str, str]) -> None:
        if len(stack) >= MAX_DEPTH:
            raise _Unreadable
        node = _Node(tag, attributes)
        (stack[-1].content if stack else root).append(node)
        stack.append(node)

    def end(_: str) -> None:
        stack.pop()

    def text(data: str) -> None:
        if stack:
            stack[-1].content.append(_Cdata(data) if in_cdata[0] else data)

    def other(*_: object) -> None:  # a comment or a processing instruction: a break
        if stack:
            stack[-1].content.append(None)

    def cdata(starts: bool) -> None:
        in_cdata[0] = starts

    def declaration(_version: str, declared: str | None, _standalone: int) -> None:
        encoding[0] = declared or ""

    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_dtd
    parser.ExternalEntityRefHandler = refuse_dtd
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.CommentHandler = other
    parser.ProcessingInstructionHandler = other
    parser.StartCdataSectionHandler = lambda: cdata(True)
    parser.EndCdataSectionHandler = lambda: cdata(False)
    parser.XmlDeclHandler = declaration
    try:
        parser.Parse(body, True)
    except XmlRefused:
        raise
    except (expat.ExpatError, _Unreadable, ValueError, LookupError):
        return None
    return (root[0], encoding[0]) if root else None


class _Unreadable(Exception):
    """Nested deeper than MAX_DEPTH."""


class _Cdata(str):
    """Character data of a CDATA section: in an element's string-value, not in its
    ``text()`` runs."""
    __slots__ = ()


def xpath_int(value: str) -> int:
    """XPath's ``number()`` of a string, then C's ``(int)``: truncated toward zero; INT_MIN
    for what is not a number (or does not fit an int)."""
    match = _NUMBER.fullmatch(value)
    if match is None:
        return INT_MIN
    number = float(match.group(1))
    if not -(2**31) <= number < 2**31:
        return INT_MIN
    return int(number)


def url_decode(octets: bytes) -> bytes:
    """gwlib's ``octstr_url_decode``: ``+`` a space, ``%XX`` an octet, a ``%`` without two hex
    digits after it kept as it is, and a ``%`` in the last two octets dropped with what
    follows it."""
    out = bytearray()
    i = 0
    n = len(octets)
    while i < n:
        c = octets[i]
        if c == 0x25:  # %
            if i + 2 >= n:
                break
            pair = octets[i + 1:i + 3]
            if _is_hex(pair):
                out.append(int(pair, 16))
            else:
                out += octets[i:i + 3]
            i += 3
        elif c == 0x2B:  # +
            out.append(0x20)
            i += 1
        else:
            out.append(c)
            i += 1
    return bytes(out)


def _is_hex(octets: bytes) -> bool:
    return _HEX.fullmatch(octets) is not None


def _from_hex(octets: bytes) -> bytes:
    """gwlib's ``octstr_hex_to_binary`` of hex digits: an odd last digit is dropped."""
    return bytes.fromhex(octets[: len(octets) // 2 * 2].decode("ascii"))


__all__ = ["MAX_DEPTH", "XmlRefused", "XmlSubmit", "read_xml", "url_decode", "xpath_int"]
