#!/usr/bin/env python3
"""Syntax-check Kotlin files with tree-sitter-kotlin, for Kotlin this machine cannot compile (the
Android sample app needs AndroidX and Compose, which only CI reaches).

    scripts/check-kotlin.py [--self-test] FILE...   exit 1 if any file has a syntax error;
                                                    --self-test also proves an injected error
                                                    in the first file is caught
"""

import sys

import tree_sitter
import tree_sitter_kotlin

PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_kotlin.language()))


def errors(source: str):
    found = []

    def walk(node):
        if node.type == "ERROR" or node.is_missing:
            found.append((node.start_point[0] + 1, node.start_point[1] + 1, node.type))
            return
        for child in node.children:
            walk(child)

    walk(PARSER.parse(source.encode()).root_node)
    return found


def main(argv):
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
    print(f"{len(files)} Kotlin files: {'syntax errors' if failed else 'ok'}")
    if "--self-test" in argv:
        source = open(files[0], encoding="utf-8").read()
        if not errors(source + "\nfun broken( {\n"):
            print("self-test FAILED: an injected syntax error was not detected")
            return 1
        print("self-test: an injected syntax error is detected")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
