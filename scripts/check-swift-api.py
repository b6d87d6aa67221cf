#!/usr/bin/env python3
"""Check Swift that uses the SDK against the generated Swift API, where no Swift compiler runs
(this machine): every call of an SDK method or record initialiser must use argument labels that
one of its declarations has, every `.v2tim...` enum case must exist, and a call that looks like an
SDK method (getX, setX, addX, createX, sendX, ...) must name something declared.

    scripts/check-swift-api.py --api API.swift... --check FILE... [--self-test]

The API files are the generated bindings and the hand-written extras (target/bindings/swift); the
checked files may declare functions of their own, which count as declared (a sample's model may
have `accept()` beside the SDK's `accept(inviteID:data:)`).
"""

import re
import sys

import tree_sitter
import tree_sitter_swift

PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_swift.language()))
SDK_LIKE = re.compile(r"^(get|set|add|remove|create|send|mark|revoke|download|init|unInit|join|quit|invite|pin|find|delete)"
                      r"\w*(Manager|Listener|Message|Conversation|Group|Signaling|SDK|Sdk|Attribute|Invit|C2C)")
CASE_LIKE = re.compile(r"^(v2tim|signalingActionType)[A-Z]")


def split_params(params: str):
    """Top-level comma split of a parameter list."""
    out, depth, cur = [], 0, ""
    for ch in params:
        if ch in "([<":
            depth += 1
        elif ch in ")]>":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur)
    return out


def signature(params: str):
    """[(label, has_default)] of a declaration's parameter list."""
    sig = []
    for p in split_params(params):
        head = p.split(":", 1)[0].split()
        if not head:
            continue
        label = head[0].strip("`")
        sig.append((label, "=" in p.split(":", 1)[1] if ":" in p else False))
    return sig


def body_of(source: str, start: int) -> str:
    """The braces-delimited body that starts at or after `start`."""
    begin = source.find("{", start)
    depth, i = 0, begin
    while i < len(source):
        depth += {"{": 1, "}": -1}.get(source[i], 0)
        if depth == 0:
            break
        i += 1
    return source[begin:i]


FUNC = re.compile(r"\bfunc\s+`?(\w+)`?\s*(?:<[^>]*>)?\s*\(((?:[^()]|\([^()]*\))*)\)")


def declarations(source: str, generated: bool = False):
    """Functions and initialisers (by type name) declared in Swift source, and enum cases. In
    UniFFI's generated file only the API counts: the methods of its public protocols (the
    objects' and the callback interfaces') and the top-level public functions, not the FFI
    converters' helpers."""
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    source = re.sub(r"//[^\n]*", "", source)
    funcs, inits, cases = {}, {}, set()
    if generated:
        scopes = [body_of(source, m.end()) for m in re.finditer(r"^public protocol \w+", source, flags=re.M)]
        scopes += re.findall(r"^public func [^\n]*", source, flags=re.M)
    else:
        scopes = [source]
    for scope in scopes:
        for m in FUNC.finditer(scope):
            if not m.group(1).startswith(("FfiConverter", "uniffi")):
                funcs.setdefault(m.group(1), []).append(signature(m.group(2)))
    for m in re.finditer(r"\b(?:struct|class|enum|actor)\s+(\w+)", source):
        body = body_of(source, m.end())
        for init in re.finditer(r"\binit\??\s*\(((?:[^()]|\([^()]*\))*)\)", body):
            inits.setdefault(m.group(1), []).append(signature(init.group(1)))
    for m in re.finditer(r"\bcase\s+([^\n{]+)", source):
        for part in split_params(m.group(1)):
            name = re.match(r"\s*`?(\w+)", part)
            if name:
                cases.add(name.group(1))
    return funcs, inits, cases


def matches(call_labels, sig):
    """The call's labels fit the declaration, parameters with defaults being optional."""
    i = 0
    for label, has_default in sig:
        if i < len(call_labels) and call_labels[i] == label:
            i += 1
        elif not has_default:
            return False
    return i == len(call_labels)


def check(path, source, funcs, inits, cases, own_funcs=None):
    own_funcs = own_funcs or {}
    problems = []
    tree = PARSER.parse(source.encode())

    def text(n):
        return n.text.decode()

    def walk(node):
        if node.type == "call_expression" and node.child_count >= 2:
            callee, suffix = node.children[0], node.children[1]
            if callee.type == "navigation_expression":
                name_node = callee.children[-1].children[-1]
                name, kind = text(name_node), "method"
            else:
                name, kind = text(callee), "init" if text(callee)[:1].isupper() else "function"
            args = next((c for c in suffix.children if c.type == "value_arguments"), None)
            trailing = any(c.type in ("lambda_literal", "annotated_lambda") for c in suffix.children)
            labels = []
            if args is not None:
                for a in args.children:
                    if a.type == "value_argument":
                        lab = next((c for c in a.children if c.type == "value_argument_label"), None)
                        labels.append(text(lab) if lab is not None else "_")
            line = node.start_point[0] + 1
            def fits(sigs):
                return any(matches(labels, s) or (trailing and s and matches(labels + [s[-1][0]], s)) for s in sigs)
            if kind == "init" and name in inits:
                if not fits(inits[name]):
                    problems.append(f"{path}:{line}: {name}({', '.join(l + ':' for l in labels)}) matches no initialiser")
            elif kind != "init" and name in funcs:
                if (args is not None or trailing) and not fits(funcs[name] + own_funcs.get(name, [])):
                    problems.append(f"{path}:{line}: {name}({', '.join(l + ':' for l in labels)}) matches no declaration")
            elif kind == "method" and SDK_LIKE.match(name) and name not in own_funcs:
                problems.append(f"{path}:{line}: {name} is not declared in the SDK's Swift API")
        case = None
        if node.type == "prefix_expression" and node.child_count == 2 and text(node.children[0]) == ".":
            case = text(node.children[1])
        elif node.type == "navigation_suffix":
            case = text(node.children[-1])
        if case is not None:
            if CASE_LIKE.match(case) and case not in cases:
                problems.append(f"{path}:{node.start_point[0] + 1}: .{case} is not an enum case of the SDK")
        for c in node.children:
            walk(c)

    walk(tree.root_node)
    return problems


def main(argv):
    if "--api" not in argv or "--check" not in argv:
        print(__doc__)
        return 2
    api = argv[argv.index("--api") + 1:argv.index("--check")]
    files = [a for a in argv[argv.index("--check") + 1:] if not a.startswith("--")]
    funcs, inits, cases = {}, {}, set()
    for path in api:
        f, i, c = declarations(open(path, encoding="utf-8").read(), generated="OximExtras" not in path)
        for k, v in f.items():
            funcs.setdefault(k, []).extend(v)
        for k, v in i.items():
            inits.setdefault(k, []).extend(v)
        cases |= c
    # The checked files' own functions (a model's `accept()` beside the SDK's `accept(inviteID:data:)`).
    sources = {p: open(p, encoding="utf-8").read() for p in files}
    own_funcs = {}
    for src in sources.values():
        for k, v in declarations(src)[0].items():
            own_funcs.setdefault(k, []).extend(v)
    problems = [p for path, src in sources.items() for p in check(path, src, funcs, inits, cases, own_funcs)]
    for p in problems:
        print(p)
    print(f"{len(files)} Swift files checked against the SDK's Swift API: {len(problems) or 'no'} problems")
    if "--self-test" in argv:
        broken = "func f() async throws { try await sdk.login(user: a, userSig: b); _ = V2TIMLogLevel.v2timLogLoud }"
        found = check("self-test", broken, funcs, inits, cases)
        if len(found) != 2:
            print(f"self-test FAILED: a wrong label and a wrong enum case gave {found}")
            return 1
        print("self-test: a wrong argument label and a wrong enum case are detected")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
