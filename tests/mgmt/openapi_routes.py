#!/usr/bin/env python3
"""The route table of `shrike mgmt` against docs/openapi.yaml, for tests/mgmt/run.

    shrike mgmt --routes | openapi_routes.py docs/openapi.yaml

Every route must be documented and every documented operation routed, with the same method and path. A path
parameter whose schema is an enum ({action} of /v1/host/{action}) stands for one route per value; any other
({name}) must appear as it is. The role must agree too: an operation whose summary ends in "(admin)" is for admin
certificates only, any other one for readers as well. Prints what disagrees, or "routes N" when nothing does; the
exit status is 1 when something disagrees.
"""
import itertools
import re
import sys

import yaml

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def resolve(spec, obj):
    """Follows a local $ref ("#/components/parameters/GuestName")."""
    while isinstance(obj, dict) and "$ref" in obj:
        node = spec
        for part in obj["$ref"].lstrip("#/").split("/"):
            node = node[part]
        obj = node
    return obj


def documented(spec):
    """{(METHOD, path): role} for every operation, enum path parameters expanded."""
    ops, problems = {}, []
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            params = {}
            for p in [resolve(spec, p) for p in item.get("parameters", []) + op.get("parameters", [])]:
                if p.get("in") == "path":
                    params[p["name"]] = p.get("schema", {}).get("enum")
            names = re.findall(r"{([^}]+)}", path)
            choices = []
            for name in names:
                if name not in params:
                    problems.append(f"{method.upper()} {path}: path parameter {{{name}}} is not described")
                    choices.append([f"{{{name}}}"])
                else:
                    choices.append(params[name] or [f"{{{name}}}"])
            role = "admin" if op.get("summary", "").rstrip().endswith("(admin)") else "reader"
            for values in itertools.product(*choices):
                concrete = path
                for name, value in zip(names, values):
                    if value != f"{{{name}}}":
                        concrete = concrete.replace(f"{{{name}}}", str(value), 1)
                ops[(method.upper(), concrete)] = role
    return ops, problems


def routed(lines):
    """{(METHOD, path): role} from `shrike mgmt --routes`."""
    routes, problems = {}, []
    for line in lines:
        if not line.strip():
            continue
        words = line.split()
        if len(words) != 3 or words[2] not in ("admin", "reader"):
            problems.append(f"unexpected line from shrike mgmt --routes: {line.rstrip()}")
            continue
        if (words[0], words[1]) in routes:
            problems.append(f"routed twice: {words[0]} {words[1]}")
        routes[(words[0], words[1])] = words[2]
    return routes, problems


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    docs, problems = documented(spec)
    routes, more = routed(sys.stdin)
    problems += more
    if not routes:
        problems.append("shrike mgmt --routes printed no routes")
    for key in sorted(routes.keys() - docs.keys()):
        problems.append(f"routed but not in openapi.yaml: {' '.join(key)}")
    for key in sorted(docs.keys() - routes.keys()):
        problems.append(f"in openapi.yaml but not routed: {' '.join(key)}")
    for key in sorted(routes.keys() & docs.keys()):
        if routes[key] != docs[key]:
            problems.append(f"{' '.join(key)}: routed for {routes[key]}, documented for {docs[key]}")
    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"routes {len(routes)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
