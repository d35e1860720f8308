"""Validates Kubernetes manifests offline, for tests/deploy.rs.

    python validate.py [--kubernetes-version V]... FILE...

Built-in kinds go through kubernetes-validate (PyPI; it ships the Kubernetes
OpenAPI schemas) in strict mode, so an unknown field is an error. Kinds of a
CRD are validated against a schema of this directory named
<kind>-<group>-<version>.json. A kind with neither is an error (the
kubernetes-validate command only warns). Prints one `OK` line per resource
and version, or `ERROR` lines and exits 1. With --dump-json FILE, writes the
resources as one JSON array for the caller's own checks.
"""

import argparse
import json
import pathlib
import sys

import jsonschema
import yaml
from kubernetes_validate import utils

HERE = pathlib.Path(__file__).resolve().parent


def crd_schema(resource):
    group, _, version = resource["apiVersion"].rpartition("/")
    if not group or group.endswith(".k8s.io") or "." not in group:
        return None
    path = HERE / f"{resource['kind'].lower()}-{group.split('.')[0]}-{version}.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kubernetes-version", action="append", dest="versions")
    parser.add_argument("--dump-json")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    versions = args.versions or [utils.latest_version()]
    errors = 0
    everything = []
    for name in args.files:
        with open(name) as f:
            resources = [r for r in yaml.safe_load_all(f) if r]
        if not resources:
            print(f"ERROR {name}: no resources")
            errors += 1
        for resource in resources:
            everything.append(resource)
            what = f"{name} {resource.get('kind')}/{resource.get('metadata', {}).get('name')}"
            schema = crd_schema(resource)
            if schema is not None:
                try:
                    jsonschema.Draft202012Validator(schema).validate(resource)
                    print(f"OK {what} against {resource['apiVersion']} (CRD schema)")
                except jsonschema.ValidationError as e:
                    path = ".".join(str(p) for p in e.absolute_path)
                    print(f"ERROR {what}: {path}: {e.message}")
                    errors += 1
                continue
            for version in versions:
                try:
                    checked = utils.validate(resource, version, strict=True)
                    print(f"OK {what} against Kubernetes {checked}")
                except utils.ValidationError as e:
                    path = ".".join(str(p) for p in e.path)
                    print(f"ERROR {what} against Kubernetes {e.version}: {path}: {e.message}")
                    errors += 1
                except (utils.SchemaNotFoundError, utils.VersionNotSupportedError) as e:
                    print(f"ERROR {what}: {e.message}")
                    errors += 1
    if args.dump_json:
        pathlib.Path(args.dump_json).write_text(json.dumps(everything))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
