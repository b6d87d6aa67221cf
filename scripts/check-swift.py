#!/usr/bin/env python3
"""Syntax-check Swift files with tree-sitter-swift (there is no Swift compiler on Linux here).

    scripts/check-swift.py FILE...     exit 1 if any file has a syntax error
    scripts/check-swift.py --self-test FILE
                                       also prove the checker catches an error injected into FILE

tree-sitter-swift misreads two constructs that UniFFI emits and that swiftc accepts: a lone
`@_documentation(visibility: private)` inside `#if swift(>=5.8) ... #endif`, and the empty
closure `{ () }`. They are blanked (line numbers kept) before parsing.
"""

import re
import sys

import tree_sitter
import tree_sitter_swift

PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_swift.language()))


def neutralise(source: str) -> str:
    source = re.sub(r"^(\s*)@_documentation\(visibility: private\)\s*$",
                    lambda m: m.group(1), source, flags=re.M)
    return source.replace("{ () }", "{    }")


def errors(source: str):
    tree = PARSER.parse(neutralise(source).encode())
    found = []

    def walk(node):
        if node.type == "ERROR" or node.is_missing:
            found.append((node.start_point[0] + 1, node.start_point[1] + 1, node.type))
            return
        for child in node.children:
            walk(child)

    walk(tree.root_node)
    return found


def main(argv):
    self_test = "--self-test" in argv
    files = [a for a in argv if not a.startswith("--")]
    if not files:
        print(__doc__)
        return 2
    failed = False
    for path in files:
        source = open(path, encoding="utf-8").read()
        problems = errors(source)
        for line, col, kind in problems[:20]:
            print(f"{path}:{line}:{col}: syntax error ({kind})")
        failed |= bool(problems)
        if not problems:
            print(f"{path}: ok ({source.count(chr(10))} lines)")
    if self_test:
        source = open(files[0], encoding="utf-8").read()
        broken = source.replace("public func ", "public func func ", 1)
        if not errors(broken):
            print("self-test FAILED: an injected syntax error was not detected")
            return 1
        print("self-test: an injected syntax error is detected")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
