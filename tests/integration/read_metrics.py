#!/usr/bin/python3
"""Reads an admin listener's /metrics with the Prometheus client's own text
parser (Debian's python3-prometheus-client) and prints it as one JSON
object: {family: {"type": ..., "help": ..., "samples": [{"name", "labels",
"value"}]}}. A page the parser rejects is an error (exit 1), so a test that
reads its counters through this also checks the format."""

import json
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def main():
    url = sys.argv[1]
    with urllib.request.urlopen(url, timeout=10) as response:
        if response.status != 200:
            sys.exit(f"read_metrics: {url}: status {response.status}")
        content_type = response.headers.get("Content-Type", "")
        if not content_type.startswith("text/plain; version=0.0.4"):
            sys.exit(f"read_metrics: {url}: content type {content_type!r}")
        text = response.read().decode("utf-8")
    families = {}
    for family in text_string_to_metric_families(text):
        if family.name in families:
            sys.exit(f"read_metrics: family {family.name} appears twice")
        families[family.name] = {
            "type": family.type,
            "help": family.documentation,
            "samples": [{"name": s.name, "labels": s.labels, "value": s.value}
                        for s in family.samples],
        }
    json.dump(families, sys.stdout)


if __name__ == "__main__":
    main()
