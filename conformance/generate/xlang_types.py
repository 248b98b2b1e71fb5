"""Wire types used for the XLANG user-type vectors (xlang-types.json).

Every class here is an ordinary Python dataclass tagged with aster's own
``@wire_type`` decorator, i.e. declared the way an application using the
reference package (aster-rpc 0.1.2) declares its request/response types.
``generate.py`` serialises instances with ``aster.codec.ForyCodec`` in XLANG
mode and records the bytes.

Rules that matter for the bytes:
  * field declaration order is irrelevant to pyfory's struct layout (it sorts
    fields itself) but it is the order recorded in the JSON ``fields`` lists;
  * ``int`` is a 64-bit varint, ``pyfory.int8/int16/int32`` and
    ``pyfory.float32`` pin narrower widths, ``float`` is float64;
  * ``Optional[T]`` (typing.Optional) makes a field nullable.

Do not add ``from __future__ import annotations`` to this module: the
reference resolves annotations with ``typing.get_type_hints`` either way, but
real annotation objects keep this file independent of that machinery.
"""

import enum
from dataclasses import dataclass, field
from typing import Optional

import pyfory

from aster.codec import wire_type


# ---------------------------------------------------------------------------
# Mission Control example types. Declared with the same tags, field names,
# field types and defaults as the reference's examples/python/mission_control
# example, so the bytes are what a Mission Control peer puts on the wire.
# ---------------------------------------------------------------------------

@wire_type("mission/StatusRequest")
@dataclass
class StatusRequest:
    agent_id: str = ""


@wire_type("mission/StatusResponse")
@dataclass
class StatusResponse:
    agent_id: str = ""
    status: str = "idle"
    uptime_secs: int = 0


@wire_type("mission/LogEntry")
@dataclass
class LogEntry:
    timestamp: float = 0.0
    level: str = "info"
    message: str = ""
    agent_id: str = ""


@wire_type("mission/SubmitLogResult")
@dataclass
class SubmitLogResult:
    accepted: bool = True


@wire_type("mission/TailRequest")
@dataclass
class TailRequest:
    agent_id: str = ""
    level: str = "info"


@wire_type("mission/MetricPoint")
@dataclass
class MetricPoint:
    name: str = ""
    value: float = 0.0
    timestamp: float = 0.0
    tags: dict[str, str] = field(default_factory=dict)


@wire_type("mission/IngestResult")
@dataclass
class IngestResult:
    accepted: pyfory.int32 = 0
    dropped: pyfory.int32 = 0


@wire_type("mission/Heartbeat")
@dataclass
class Heartbeat:
    agent_id: str = ""
    capabilities: list[str] = field(default_factory=list)
    load_avg: float = 0.0


@wire_type("mission/Assignment")
@dataclass
class Assignment:
    task_id: str = ""
    command: str = ""


@wire_type("mission/Command")
@dataclass
class Command:
    command: str = ""


@wire_type("mission/CommandResult")
@dataclass
class CommandResult:
    stdout: str = ""
    stderr: str = ""
    exit_code: pyfory.int32 = -1


# ---------------------------------------------------------------------------
# Echo / counter types of the conformance scenarios (wire.md section 9.1).
# ---------------------------------------------------------------------------

@wire_type("echo/EchoRequest")
@dataclass
class EchoRequest:
    message: str = ""


@wire_type("echo/EchoResponse")
@dataclass
class EchoResponse:
    reply: str = ""


@wire_type("counter/CountRequest")
@dataclass
class CountRequest:
    count: pyfory.int32 = 0


@wire_type("counter/CountItem")
@dataclass
class CountItem:
    value: pyfory.int32 = 0


# ---------------------------------------------------------------------------
# An enum. pyfory writes the declaration index (ordinal), not the value, so
# the values are deliberately unrelated to the positions.
# ---------------------------------------------------------------------------

@wire_type("t/Color")
class Color(enum.Enum):
    RED = "red"
    GREEN = 10
    BLUE = 5


# ---------------------------------------------------------------------------
# One single-field box per scalar kind ("scalar" namespace).
# ---------------------------------------------------------------------------

@wire_type("scalar/Bool")
@dataclass
class BoolBox:
    v: bool = False


@wire_type("scalar/Int8")
@dataclass
class Int8Box:
    v: pyfory.int8 = 0


@wire_type("scalar/Int16")
@dataclass
class Int16Box:
    v: pyfory.int16 = 0


@wire_type("scalar/Int32")
@dataclass
class Int32Box:
    v: pyfory.int32 = 0


@wire_type("scalar/Int64")
@dataclass
class Int64Box:
    v: int = 0


@wire_type("scalar/Float32")
@dataclass
class Float32Box:
    v: pyfory.float32 = 0.0


@wire_type("scalar/Float64")
@dataclass
class Float64Box:
    v: float = 0.0


@wire_type("scalar/Text")
@dataclass
class TextBox:
    v: str = ""


@wire_type("scalar/Blob")
@dataclass
class BlobBox:
    v: bytes = b""


@wire_type("scalar/Enum")
@dataclass
class EnumBox:
    v: Color = Color.RED


# ---------------------------------------------------------------------------
# Nested structs ("nest" namespace; Inner and Other share it).
# ---------------------------------------------------------------------------

@wire_type("nest/Inner")
@dataclass
class Inner:
    label: str = ""
    n: int = 0


@wire_type("nest/Other")
@dataclass
class Other:
    flag: bool = False


@wire_type("nest/Outer")
@dataclass
class Outer:
    first: Inner = field(default_factory=Inner)
    maybe: Optional[Inner] = None
    second: Inner = field(default_factory=Inner)
    other: Other = field(default_factory=Other)
    items: list[Inner] = field(default_factory=list)


@wire_type("nest/Deep")
@dataclass
class Deep:
    outer: Outer = field(default_factory=Outer)
    title: str = ""


@wire_type("geo/Point")
@dataclass
class Point:
    x: int = 0
    y: int = 0


@wire_type("geo/Segment")
@dataclass
class Segment:
    a: Point = field(default_factory=Point)
    b: Point = field(default_factory=Point)
    tag: Optional[Inner] = None


# ---------------------------------------------------------------------------
# Optional fields ("opt" namespace): one box per inner kind + a combined one.
# ---------------------------------------------------------------------------

@wire_type("opt/Bool")
@dataclass
class OptBool:
    v: Optional[bool] = None


@wire_type("opt/Int32")
@dataclass
class OptInt32:
    v: Optional[pyfory.int32] = None


@wire_type("opt/Int64")
@dataclass
class OptInt64:
    v: Optional[int] = None


@wire_type("opt/Float64")
@dataclass
class OptFloat64:
    v: Optional[float] = None


@wire_type("opt/Text")
@dataclass
class OptText:
    v: Optional[str] = None


@wire_type("opt/Blob")
@dataclass
class OptBlob:
    v: Optional[bytes] = None


@wire_type("opt/Struct")
@dataclass
class OptStruct:
    v: Optional[Inner] = None


@wire_type("opt/List")
@dataclass
class OptList:
    v: Optional[list[str]] = None


@wire_type("opt/Map")
@dataclass
class OptMap:
    v: Optional[dict[str, int]] = None


@wire_type("opt/Enum")
@dataclass
class OptEnum:
    v: Optional[Color] = None


@wire_type("opt/All")
@dataclass
class OptAll:
    b: Optional[bool] = None
    i8: Optional[pyfory.int8] = None
    i16: Optional[pyfory.int16] = None
    i32: Optional[pyfory.int32] = None
    i64: Optional[int] = None
    f32: Optional[pyfory.float32] = None
    f64: Optional[float] = None
    s: Optional[str] = None
    raw: Optional[bytes] = None
    inner: Optional[Inner] = None
    names: Optional[list[str]] = None
    counts: Optional[dict[str, int]] = None
    color: Optional[Color] = None


# ---------------------------------------------------------------------------
# Lists ("list" namespace).
# ---------------------------------------------------------------------------

@wire_type("list/Bools")
@dataclass
class ListBool:
    v: list[bool] = field(default_factory=list)


@wire_type("list/Int8s")
@dataclass
class ListInt8:
    v: list[pyfory.int8] = field(default_factory=list)


@wire_type("list/Int16s")
@dataclass
class ListInt16:
    v: list[pyfory.int16] = field(default_factory=list)


@wire_type("list/Int32s")
@dataclass
class ListInt32:
    v: list[pyfory.int32] = field(default_factory=list)


@wire_type("list/Int64s")
@dataclass
class ListInt64:
    v: list[int] = field(default_factory=list)


@wire_type("list/Float32s")
@dataclass
class ListFloat32:
    v: list[pyfory.float32] = field(default_factory=list)


@wire_type("list/Float64s")
@dataclass
class ListFloat64:
    v: list[float] = field(default_factory=list)


@wire_type("list/Texts")
@dataclass
class ListText:
    v: list[str] = field(default_factory=list)


@wire_type("list/Blobs")
@dataclass
class ListBlob:
    v: list[bytes] = field(default_factory=list)


@wire_type("list/Nested")
@dataclass
class ListNested:
    v: list[list[str]] = field(default_factory=list)


@wire_type("list/MaybeTexts")
@dataclass
class ListMaybeText:
    v: list[Optional[str]] = field(default_factory=list)


@wire_type("list/Points")
@dataclass
class ListPoint:
    v: list[Point] = field(default_factory=list)


@wire_type("list/Colors")
@dataclass
class ListColor:
    v: list[Color] = field(default_factory=list)


@wire_type("list/Maps")
@dataclass
class ListMap:
    v: list[dict[str, int]] = field(default_factory=list)


# ---------------------------------------------------------------------------
# Maps ("map" namespace).
# ---------------------------------------------------------------------------

@wire_type("map/StrStr")
@dataclass
class MapStrStr:
    v: dict[str, str] = field(default_factory=dict)


@wire_type("map/StrInt")
@dataclass
class MapStrInt:
    v: dict[str, int] = field(default_factory=dict)


@wire_type("map/IntStr")
@dataclass
class MapIntStr:
    v: dict[int, str] = field(default_factory=dict)


@wire_type("map/Int32Float64")
@dataclass
class MapInt32Float64:
    v: dict[pyfory.int32, float] = field(default_factory=dict)


@wire_type("map/StrPoint")
@dataclass
class MapStrPoint:
    v: dict[str, Point] = field(default_factory=dict)


@wire_type("map/StrList")
@dataclass
class MapStrList:
    v: dict[str, list[str]] = field(default_factory=dict)


@wire_type("map/StrMaybe")
@dataclass
class MapStrMaybe:
    v: dict[str, Optional[str]] = field(default_factory=dict)


@wire_type("map/StrMap")
@dataclass
class MapStrMap:
    v: dict[str, dict[str, int]] = field(default_factory=dict)


@wire_type("map/StrBlob")
@dataclass
class MapStrBlob:
    v: dict[str, bytes] = field(default_factory=dict)


@wire_type("map/StrColor")
@dataclass
class MapStrColor:
    v: dict[str, Color] = field(default_factory=dict)


@wire_type("map/BoolStr")
@dataclass
class MapBoolStr:
    v: dict[bool, str] = field(default_factory=dict)


# ---------------------------------------------------------------------------
# Recursion, field ordering, naming.
# ---------------------------------------------------------------------------

@wire_type("tree/Node")
@dataclass
class Node:
    name: str = ""
    next: Optional["Node"] = None
    children: list["Node"] = field(default_factory=list)


@wire_type("chain/Alpha")
@dataclass
class Alpha:
    name: str = ""
    beta: Optional["Beta"] = None


@wire_type("chain/Beta")
@dataclass
class Beta:
    weight: float = 0.0
    gamma: Optional["Gamma"] = None


@wire_type("chain/Gamma")
@dataclass
class Gamma:
    alphas: list[Alpha] = field(default_factory=list)


@wire_type("mix/Kitchen")
@dataclass
class Kitchen:
    """Many fields of mixed kinds in a scrambled declaration order."""

    name: str = ""
    zeta: int = 0
    alpha: int = 0
    flag: bool = False
    tiny: pyfory.int8 = 0
    short: pyfory.int16 = 0
    medium: pyfory.int32 = 0
    ratio: pyfory.float32 = 0.0
    score: float = 0.0
    blob: bytes = b""
    tags: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    maybe_count: Optional[int] = None
    maybe_flag: Optional[bool] = None
    maybe_score: Optional[float] = None
    maybe_small: Optional[pyfory.int32] = None
    maybe_name: Optional[str] = None
    inner: Inner = field(default_factory=Inner)
    maybe_inner: Optional[Inner] = None
    color: Color = Color.RED
    Zed: str = ""
    ids: list[int] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    lookup: dict[int, str] = field(default_factory=dict)
    maybe_tags: Optional[list[str]] = None
    big: int = 0


@wire_type("case/CamelCase")
@dataclass
class CamelCase:
    """camelCase names; 'aZ' vs 'a_b' tells raw-name from snake_case sorting."""

    userId: str = ""
    displayName: str = ""
    createdAtMs: int = 0
    isActive: bool = False
    tagList: list[str] = field(default_factory=list)
    aZ: str = ""
    a_b: str = ""
    retryCount: pyfory.int32 = 0
    a_c: int = 0
    aY: int = 0


@wire_type("empty/Nothing")
@dataclass
class Nothing:
    pass


@wire_type("empty/Holder")
@dataclass
class EmptyHolder:
    a: Nothing = field(default_factory=Nothing)
    b: Optional[Nothing] = None
    many: list[Nothing] = field(default_factory=list)


# ---------------------------------------------------------------------------
# Tags chosen for pyfory's meta-string encodings (namespace encoder special
# chars '.' '_', typename encoder special chars '$' '_'):
#   LOWER_SPECIAL               lowercase plus . _ $ |        5 bits/char
#   LOWER_UPPER_DIGIT_SPECIAL   any case, digits, 2 specials  6 bits/char
#   FIRST_TO_LOWER_SPECIAL      only the first char upper     5 bits/char
#   ALL_TO_LOWER_SPECIAL        few upper chars (escaped)     5 bits/char
#   UTF_8                       anything else (e.g. '-', '/')
# Encoded meta strings longer than 16 bytes are written with an 8-byte hash
# instead of the encoding byte.
# ---------------------------------------------------------------------------

@wire_type("lowerspecial/snake_type")
@dataclass
class MetaLower:
    id: int = 0


@wire_type("v2/Vec3")
@dataclass
class MetaDigits:
    x: float = 0.0
    y: float = 0.0
    z: float = 0.0


@wire_type("caps/ABCDE")
@dataclass
class MetaManyUpper:
    id: int = 0


@wire_type("first/Point")
@dataclass
class MetaFirstUpper:
    id: int = 0


@wire_type("all/StreamHeaderLike")
@dataclass
class MetaAllToLower:
    id: int = 0


@wire_type("my-app/Type-Name")
@dataclass
class MetaUtf8:
    id: int = 0


@wire_type("org/unit/Widget")
@dataclass
class MetaSlashNamespace:
    id: int = 0


@wire_type("com.example.v1/Item_v1")
@dataclass
class MetaDotted:
    id: int = 0


@wire_type("dollar/with$dollar")
@dataclass
class MetaDollar:
    id: int = 0


@wire_type("abcdefghijklmnopqrstuvwxyz/AVeryLongTypeNameThatExceedsSixteenBytes")
@dataclass
class MetaLong:
    id: int = 0


@wire_type("abcdefghijklmnopqrstuvwxy/abcdefghijklmnopqrstuvwxy")
@dataclass
class MetaSixteen:
    id: int = 0


@wire_type("Bare")
@dataclass
class Bare:
    id: int = 0


@wire_type("Naked")
@dataclass
class Naked:
    first: Bare = field(default_factory=Bare)
    second: Bare = field(default_factory=Bare)
    label: str = ""


@wire_type("meta/Holder")
@dataclass
class MetaHolder:
    lower: MetaLower = field(default_factory=MetaLower)
    digits: MetaDigits = field(default_factory=MetaDigits)
    upper: MetaManyUpper = field(default_factory=MetaManyUpper)
    first: MetaFirstUpper = field(default_factory=MetaFirstUpper)
    allLower: MetaAllToLower = field(default_factory=MetaAllToLower)
    utf8: MetaUtf8 = field(default_factory=MetaUtf8)
    slash: MetaSlashNamespace = field(default_factory=MetaSlashNamespace)
    dotted: MetaDotted = field(default_factory=MetaDotted)
    dollar: MetaDollar = field(default_factory=MetaDollar)
    long: MetaLong = field(default_factory=MetaLong)
    sixteen: MetaSixteen = field(default_factory=MetaSixteen)
    bare: Bare = field(default_factory=Bare)
    naked: Naked = field(default_factory=Naked)
    again: MetaLong = field(default_factory=MetaLong)
