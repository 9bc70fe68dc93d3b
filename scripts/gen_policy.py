#!/usr/bin/env python3
"""Write a residency policy with N rules, for measuring how long a large
policy takes to check and to reload.

The services are the example's (shop, account, cloud, messaging); the rules
cover every country of maps/country_table.inc except CN, each service, and
consecutive monthly windows from 2020-01-01, one rule per (country, service,
month), so that no two rules overlap. Each allows Singapore and the US, in
one order or the other. Use it with examples/datacenters.yaml.

    scripts/gen_policy.py 10000 -o /tmp/policy-10k.yaml
"""

import argparse
import pathlib
import re
import sys

COUNTRY_TABLE = pathlib.Path(__file__).resolve().parent.parent / "maps" / "country_table.inc"
SERVICES = {
    "shop": "shop.example.com",
    "account": "account.example.com",
    "cloud": "cloud.example.com",
    "messaging": "msg.example.com",
}


def month(k):
    return f"{2020 + k // 12:04d}-{k % 12 + 1:02d}-01"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rules", type=int, help="number of rules")
    parser.add_argument("-o", "--output", help="file to write (default: stdout)")
    args = parser.parse_args()
    codes = [c for c in re.findall(r'^\{"([A-Z]{2})"', COUNTRY_TABLE.read_text(), re.MULTILINE)
             if c != "CN"]
    if not codes:
        sys.exit(f"no country codes found in {COUNTRY_TABLE}")
    out = open(args.output, "w", newline="\n") if args.output else sys.stdout
    with out:
        out.write(f"# {args.rules} rules from scripts/gen_policy.py\nversion: 1\n\nservices:\n")
        for name, host in SERVICES.items():
            out.write(f"  {name}:\n    match:\n      - host: {host}\n")
        out.write("\nrules:\n")
        per_month = len(codes) * len(SERVICES)
        for n in range(args.rules):
            k, rest = divmod(n, per_month)
            country, service = divmod(rest, len(SERVICES))
            allow = "[SG, US]" if (n // len(SERVICES)) % 2 == 0 else "[US, SG]"
            out.write(f"  - id: r{n}\n    accounts: {codes[country]}\n"
                      f"    services: {list(SERVICES)[service]}\n"
                      f"    from: {month(k)}\n    until: {month(k + 1)}\n    allow: {allow}\n")


if __name__ == "__main__":
    main()
