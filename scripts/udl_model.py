"""The public contract read as data: udl/oxim.udl (records, interfaces, callback interfaces),
bindings/src/enums.rs (V2TIM's enums with their numbers) and proto/src/code.rs (the error table).

Shared by scripts/gen-renames.py and scripts/gen-bindings.py. A deliberately small parser: the
UDL in this repository is written one declaration per line (methods and fields end with `;` on
the line they start), and the generators fail loudly on anything else.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UDL = ROOT / "udl" / "oxim.udl"
ENUMS = ROOT / "bindings" / "src" / "enums.rs"
CODES = ROOT / "proto" / "src" / "code.rs"


@dataclass
class Type:
    """A UDL type: `name` is string, i32, i64, f64, boolean, bytes, sequence, record, or a
    declared type; `inner` the element (sequence) or value (record) type."""
    name: str
    optional: bool = False
    inner: "Type | None" = None

    @staticmethod
    def parse(text: str) -> "Type":
        text = text.strip()
        optional = text.endswith("?")
        if optional:
            text = text[:-1]
        m = re.fullmatch(r"sequence<(.+)>", text)
        if m:
            return Type("sequence", optional, Type.parse(m.group(1)))
        m = re.fullmatch(r"record<\s*string\s*,\s*(.+)>", text)
        if m:
            return Type("record", optional, Type.parse(m.group(1)))
        assert re.fullmatch(r"\w+", text), f"unsupported UDL type {text!r}"
        return Type(text, optional)

    def required(self) -> "Type":
        return Type(self.name, False, self.inner)


@dataclass
class Arg:
    name: str
    type: Type
    default: str | None = None


@dataclass
class Field:
    name: str
    type: Type
    default: str | None
    doc: list[str]


@dataclass
class Method:
    name: str
    args: list[Arg]
    returns: Type | None
    is_async: bool
    throws: bool
    doc: list[str]


@dataclass
class Decl:
    kind: str  # "enum", "dictionary", "interface", "callback", "error"
    name: str
    doc: list[str] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)
    methods: list[Method] = field(default_factory=list)


@dataclass
class EnumVariant:
    name: str
    value: int
    doc: str


@dataclass
class ErrorCode:
    names: list[str]  # Tencent's names: the first is Android's, the others aliases (iOS)
    value: int
    doc: str


def _split_top(text: str) -> list[str]:
    """Splits at commas outside <...>."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += {"<": 1, ">": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _split_args(text: str) -> list[Arg]:
    args = []
    for part in _split_top(text):
        if not part:
            continue
        default = None
        if "=" in part:
            part, default = (s.strip() for s in part.split("=", 1))
        if part.startswith("optional "):
            part = part[len("optional "):]
        m = re.fullmatch(r"(.+?)\s+(\w+)", part)
        assert m, f"cannot read argument {part!r}"
        args.append(Arg(m.group(2), Type.parse(m.group(1)), default))
    return args


def parse_udl(text: str | None = None) -> list[Decl]:
    """Every declaration of the UDL, in order."""
    text = UDL.read_text() if text is None else text
    decls: list[Decl] = []
    doc: list[str] = []
    attrs = ""
    current: Decl | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("///"):
            doc.append(line[3:].strip())
            continue
        if not line or line.startswith("//"):
            if not line.startswith("//"):
                doc = []
            continue
        if line.startswith("["):
            attrs = line
            continue
        if current is None:
            m = re.match(r"typedef\s+enum\s+(\w+)\s*;", line)
            if m:
                decls.append(Decl("enum", m.group(1), doc))
                doc = []
                continue
            m = re.match(r"(\[[^\]]*\]\s*)?(callback\s+interface|interface|dictionary|namespace)\s+(\w+)\s*\{", line)
            if m:
                kind = m.group(2)
                kind = "callback" if kind.startswith("callback") else kind
                if "Error" in (m.group(1) or attrs):
                    kind = "error"
                current = Decl(kind, m.group(3), doc)
                doc = []
                attrs = ""
                continue
            raise SystemExit(f"udl: cannot read {line!r}")
        if line.startswith("};"):
            decls.append(current)
            current = None
            doc = []
            continue
        if current.kind == "dictionary":
            m = re.fullmatch(r"(.+?)\s+(\w+)\s*(?:=\s*(.+?))?\s*;", line)
            assert m, f"udl: cannot read field {line!r}"
            current.fields.append(Field(m.group(2), Type.parse(m.group(1)), m.group(3), doc))
        elif current.kind == "error":
            pass
        else:
            m = re.fullmatch(r"(?:(.+?)\s+)?(\w+)\s*\((.*)\)\s*;", line)
            assert m, f"udl: cannot read method {line!r}"
            returns, name, args = m.group(1), m.group(2), m.group(3)
            if returns is None and name != "constructor":
                raise SystemExit(f"udl: cannot read method {line!r}")
            current.methods.append(Method(
                "new" if name == "constructor" else name,
                _split_args(args),
                None if returns in (None, "void") else Type.parse(returns),
                "Async" in attrs,
                "Throws" in attrs,
                doc,
            ))
        doc = []
        attrs = ""
    return decls


def by_name(decls: list[Decl]) -> dict[str, Decl]:
    return {d.name: d for d in decls}


def parse_enums(text: str | None = None) -> dict[str, list[EnumVariant]]:
    """V2TIM's enums declared in bindings/src/enums.rs: name -> variants with their numbers."""
    text = ENUMS.read_text() if text is None else text
    enums: dict[str, list[EnumVariant]] = {}
    blocks = re.finditer(r"pub enum (\w+) \{(.*?)\n\}", text, re.S)
    macro_blocks = re.finditer(r"v2tim_int_enum!\(\s*(?:///[^\n]*\n\s*)*(\w+), default \w+ \{(.*?)\n    \}\n\);", text, re.S)
    for m in list(blocks) + list(macro_blocks):
        name, body = m.group(1), m.group(2)
        if name.startswith("$"):
            continue
        variants, doc = [], ""
        for line in body.splitlines():
            line = line.strip()
            if line.startswith("///"):
                doc = line[3:].strip()
                continue
            v = re.fullmatch(r"(\w+) = (-?\d+),", line)
            if v:
                variants.append(EnumVariant(v.group(1), int(v.group(2)), doc))
                doc = ""
        assert variants, f"enums.rs: no variants for {name}"
        enums[name] = variants
    return enums


def parse_error_codes(text: str | None = None) -> list[ErrorCode]:
    """The error table of proto/src/code.rs: codes whose doc comment starts with Tencent's name."""
    text = CODES.read_text() if text is None else text
    codes = []
    for m in re.finditer(r"((?:///[^\n]*\n)+)pub const \w+: i32 = (-?\d+);", text):
        first = m.group(1).splitlines()[0]
        names = re.findall(r"`(ERR_\w+)`", first.split(":")[0] + ":" if ":" in first else first)
        if not names:
            continue
        doc = " ".join(line[3:].strip() for line in m.group(1).splitlines())
        doc = doc.split(": ", 1)[1] if ": " in doc else doc
        codes.append(ErrorCode(names, int(m.group(2)), doc))
    return codes


# ---- V2TIM's spelling of names -----------------------------------------------------------------

# Words V2TIM writes in capitals (both platforms).
ACRONYMS = {"id": "ID", "c2c": "C2C", "sdk": "SDK", "url": "URL", "uuid": "UUID", "imsdk": "IMSDK"}


def camel(snake: str, acronyms: dict[str, str] = ACRONYMS) -> str:
    """V2TIM's lowerCamel name for a snake_case UDL name (the first word stays lower case)."""
    words = snake.split("_")
    return words[0] + "".join(acronyms.get(w, w[:1].upper() + w[1:]) for w in words[1:])


def upper_first(name: str) -> str:
    return name[:1].upper() + name[1:]


# Where V2TIM itself is inconsistent, the exact name wins: "Type.member" -> name. The UniFFI layer
# (both languages) takes FFI_NAME_EXCEPTIONS; Swift, whose generated types are the public ones,
# also SWIFT_NAME_EXCEPTIONS (Tencent's iOS headers).
FFI_NAME_EXCEPTIONS = {
    "V2TIMConversation.face_url": "faceUrl",
    "V2TIMOfflinePushInfo.ios_sound": "iOSSound",
    "V2TIMOfflinePushInfo.ignore_ios_badge": "ignoreIOSBadge",
    "V2TIMOfflinePushInfo.android_oppo_channel_id": "androidOPPOChannelID",
    "V2TIMOfflinePushConfig.is_tpns_token": "isTPNSToken",
}
SWIFT_NAME_EXCEPTIONS = {
    "V2TIMFileElem.file_name": "filename",
    "V2TIMMergerElem.is_layers_over_limit": "layersOverLimit",
    "V2TIMReceiveMessageOptInfo.c2c_receive_message_opt": "receiveOpt",
}


def ffi_member_name(owner: str, snake: str, language: str = "kotlin") -> str:
    """The name UniFFI gives a member (field, method or argument) with bindings/uniffi.toml."""
    key = f"{owner}.{snake}"
    if language == "swift" and key in SWIFT_NAME_EXCEPTIONS:
        return SWIFT_NAME_EXCEPTIONS[key]
    return FFI_NAME_EXCEPTIONS.get(key, camel(snake))


def naive_type(name: str) -> str:
    """What UniFFI makes of a type name it does not rename (UpperCamelCase re-casing): the
    callback interfaces (V2TIMSDKListener -> V2timsdkListener)."""
    chunks = re.findall(r"[A-Z][A-Z0-9]*(?![a-z])|[A-Z][a-z0-9]*|[a-z0-9]+", name)
    return "".join(c[:1].upper() + c[1:].lower() for c in chunks)
