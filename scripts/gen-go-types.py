#!/usr/bin/env python3
"""Write kpb/src/go_types.tsv: the columns of the recorded Go API types table
(tests/fixtures/kube-apiserver-v1.36/go-types/fields.tsv) that say how the Go
API server writes each field in protobuf and in JSON, for the messages the
codec decodes (those of kpb/src/schema.txt) and every message they reach.

The rows are copied, never computed: `kpb`'s tests check that this file is
the fixture table cut down to these columns and messages.

Usage: python3 scripts/gen-go-types.py
"""
import csv
import os

COLUMNS = ["message", "field_number", "json_name", "pointer", "container",
           "underlying", "proto_type", "proto_label_actual", "json_when"]

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.join(here, "..")
fields = os.path.join(root, "tests", "fixtures", "kube-apiserver-v1.36", "go-types", "fields.tsv")
schema = os.path.join(root, "kpb", "src", "schema.txt")
target = os.path.join(root, "kpb", "src", "go_types.tsv")

rows = {}
with open(fields, newline="") as f:
    for r in csv.DictReader(f, delimiter="\t"):
        r["message"] = r["proto_package"] + "." + r["message"]
        rows.setdefault(r["message"], []).append(r)

wanted = [line[2:].strip() for line in open(schema) if line.startswith("M ")]
seen = set()
while wanted:
    name = wanted.pop()
    if name in seen or name not in rows:
        continue
    seen.add(name)
    for r in rows[name]:
        t = r["proto_type"].lstrip(".")
        if t.startswith("map<"):
            t = t[4:-1].split(",", 1)[1].lstrip(".")
        if t in rows:
            wanted.append(t)

with open(target, "w") as out:
    out.write("# Cut from go-types/fields.tsv by scripts/gen-go-types.py. Do not edit.\n")
    out.write("\t".join(COLUMNS) + "\n")
    for name in sorted(seen):
        for r in rows[name]:
            out.write("\t".join(r[c] for c in COLUMNS) + "\n")
print(f"{target}: {len(seen)} messages")
