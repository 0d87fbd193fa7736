#!/usr/bin/env python3
"""Write kpb/src/schema.txt: the protobuf field numbers and types of
the Kubernetes messages Timoneiro decodes (the 18 built-in kinds' lists,
PartialObjectMetadataList, Status, WatchEvent, runtime.Unknown) and every
message they reach.

The source is the `k8s-pb` crate (prost bindings generated from the
Kubernetes 1.36 .proto files): its `#[prost(...)]` attributes carry each
field's number and type. Run after changing the k8s-pb version:

    scripts/gen-kube-pb-schema.py ~/.cargo/registry/src/*/k8s-pb-0.9.0/src

Output format, one line per message and field:

    M <package>.<Message>
    F <tag> <field> <type>      type: string | bool | int32 | int64 | double | bytes
                                      | message:<package>.<Message>
                                      | map:<key>:<value type>
    prefix `*` on the type = repeated
"""

import os
import re
import sys

ROOTS = [
    "k8s.io.api.core.v1.PodList",
    "k8s.io.api.core.v1.ServiceList",
    "k8s.io.api.core.v1.NamespaceList",
    "k8s.io.api.core.v1.ConfigMapList",
    "k8s.io.api.core.v1.PersistentVolumeClaimList",
    "k8s.io.api.core.v1.PersistentVolumeList",
    "k8s.io.api.core.v1.NodeList",
    "k8s.io.api.core.v1.EventList",
    "k8s.io.api.core.v1.ServiceAccountList",
    "k8s.io.api.apps.v1.DeploymentList",
    "k8s.io.api.apps.v1.StatefulSetList",
    "k8s.io.api.apps.v1.DaemonSetList",
    "k8s.io.api.apps.v1.ReplicaSetList",
    "k8s.io.api.batch.v1.JobList",
    "k8s.io.api.batch.v1.CronJobList",
    "k8s.io.api.networking.v1.IngressList",
    "k8s.io.api.autoscaling.v2.HorizontalPodAutoscalerList",
    "k8s.io.apimachinery.pkg.apis.meta.v1.PartialObjectMetadataList",
    "k8s.io.apimachinery.pkg.apis.meta.v1.Status",
    "k8s.io.apimachinery.pkg.apis.meta.v1.WatchEvent",
    "k8s.io.apimachinery.pkg.runtime.Unknown",
]

ATTR = re.compile(r'#\[prost\((.*)\)\]')
STRUCT = re.compile(r'^pub struct (\w+) \{')
FIELD = re.compile(r'^\s*pub (?:r#)?(\w+):\s*(.*)$')


def parse_module(path, package, messages):
    """Collect the messages of one generated module."""
    lines = open(path, encoding="utf-8").read().splitlines()
    current = None
    attr = None
    i = 0
    while i < len(lines):
        line = lines[i]
        m = STRUCT.match(line)
        if m:
            current = package + "." + m.group(1)
            messages[current] = []
        elif line.startswith("}"):
            current = None
        elif current:
            a = ATTR.search(line)
            if a:
                attr = a.group(1)
            else:
                f = FIELD.match(line)
                if f and attr:
                    # The Rust type may span lines (maps): join until the closing ','.
                    rust_type = f.group(2)
                    while not rust_type.rstrip().endswith(",") or rust_type.count("<") != rust_type.count(">"):
                        i += 1
                        rust_type += lines[i].strip()
                    messages[current].append((f.group(1), attr, rust_type, package))
                    attr = None
        i += 1


def resolve(package, rust_path):
    """`super::super::x::y::Name` seen from `package` → a full message name."""
    parts = rust_path.split("::")
    base = package.split(".")
    while parts and parts[0] == "super":
        base = base[:-1]
        parts = parts[1:]
    return ".".join(base + parts)


def field_type(attr, rust_type, package):
    tag = re.search(r'tag = "(\d+)"', attr).group(1)
    kind = attr.split(",")[0].strip()
    repeated = "repeated" in attr
    if kind.startswith("btree_map"):
        key, value = re.search(r'btree_map = "(\w+), (\w+)"', attr).groups()
        if value == "message":
            inner = re.sub(r"\s", "", rust_type)
            # BTreeMap<String, path::Message>,
            value_path = inner.split(",")[1].rstrip(">,").rstrip(">")
            value = "message:" + resolve(package, value_path)
        return tag, "map:%s:%s" % (key, value)
    if kind == "message":
        inner = re.sub(r"\s", "", rust_type)
        for wrapper in ("::core::option::Option<", "::prost::alloc::vec::Vec<", "::prost::alloc::boxed::Box<"):
            inner = inner.replace(wrapper, "")
        path = re.match(r"((?:\w+::)*\w+)", inner).group(1)
        ty = "message:" + resolve(package, path)
    elif kind.startswith("bytes"):
        ty = "bytes"
    else:
        ty = kind
    return tag, ("*" if repeated else "") + ty


def main():
    src = sys.argv[1]
    messages = {}
    for dirpath, _, files in os.walk(src):
        if "mod.rs" not in files:
            continue
        rel = os.path.relpath(dirpath, src)
        if rel == ".":
            continue
        package = "k8s.io." + rel.replace(os.sep, ".")
        parse_module(os.path.join(dirpath, "mod.rs"), package, messages)
    # Messages are UpperCamel in Rust (HostIp for proto HostIP); references use the same names.
    out = {}
    todo = list(ROOTS)
    while todo:
        name = todo.pop()
        if name in out:
            continue
        if name not in messages:
            sys.exit("unknown message %s" % name)
        fields = []
        for field, attr, rust_type, package in messages[name]:
            tag, ty = field_type(attr, rust_type, package)
            fields.append((int(tag), field, ty))
            for ref in re.findall(r"message:([\w.]+)", ty):
                todo.append(ref)
        out[name] = sorted(fields)
    here = os.path.dirname(os.path.abspath(__file__))
    target = os.path.join(here, "..", "kpb", "src", "schema.txt")
    with open(target, "w", encoding="utf-8") as f:
        f.write("# Generated by scripts/gen-kube-pb-schema.py from k8s-pb 0.9.0 (Kubernetes 1.36). Do not edit.\n")
        for name in sorted(out):
            f.write("M %s\n" % name)
            for tag, field, ty in out[name]:
                f.write("F %d %s %s\n" % (tag, field, ty))
    print("%d messages, %d fields -> %s" % (len(out), sum(len(v) for v in out.values()), os.path.normpath(target)))


if __name__ == "__main__":
    main()
