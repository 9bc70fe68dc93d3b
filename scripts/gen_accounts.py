#!/usr/bin/env python3
"""Write N synthetic accounts for load tests of the account directory.

One line per account, "acct-<n>,<CC>" (n = 0..N-1), in the file format of
maps/file_directory.h. Countries follow a phone vendor's user base: a few big
markets hold most accounts and every other country in maps/country_table.inc
gets a small share, so the directory sees every code. The output is
deterministic for a given seed.

    scripts/gen_accounts.py 1000000 -o /tmp/accounts-1m.csv
    scripts/gen_accounts.py 10 --seed 7          # to stdout
"""

import argparse
import pathlib
import random
import re
import sys

# Rough shares (percent) of a global Android vendor's accounts; the rest is
# spread evenly over every other country in the table.
BIG_MARKETS = {
    "CN": 26.0, "IN": 18.0, "ID": 6.0, "US": 5.0, "BR": 5.0, "PK": 3.0,
    "NG": 2.5, "BD": 2.5, "RU": 2.5, "MX": 2.0, "PH": 2.0, "VN": 2.0,
    "JP": 1.5, "TR": 1.5, "EG": 1.5, "DE": 1.2, "GB": 1.2, "FR": 1.0,
    "TH": 1.0, "IT": 0.8, "ZA": 0.8, "KE": 0.6, "MY": 0.6, "AU": 0.5,
    "SA": 0.5, "ES": 0.5, "KR": 0.4, "SG": 0.3,
}
REST_PERCENT = 100.0 - sum(BIG_MARKETS.values())

COUNTRY_TABLE = pathlib.Path(__file__).resolve().parent.parent / "maps" / "country_table.inc"
CHUNK = 100_000


def all_codes():
    codes = re.findall(r'^\{"([A-Z]{2})"', COUNTRY_TABLE.read_text(), re.MULTILINE)
    if not codes:
        sys.exit(f"no country codes found in {COUNTRY_TABLE}")
    return codes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, help="number of accounts")
    parser.add_argument("-o", "--output", help="file to write (default: stdout)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    args = parser.parse_args()
    if args.count < 0:
        parser.error("count must be >= 0")

    rest = [c for c in all_codes() if c not in BIG_MARKETS]
    codes = list(BIG_MARKETS) + rest
    weights = list(BIG_MARKETS.values()) + [REST_PERCENT / len(rest)] * len(rest)
    rng = random.Random(args.seed)

    out = open(args.output, "w", newline="\n") if args.output else sys.stdout
    with out:
        out.write(f"# {args.count} synthetic accounts from scripts/gen_accounts.py "
                  f"(seed {args.seed})\n")
        for start in range(0, args.count, CHUNK):
            n = min(CHUNK, args.count - start)
            picks = rng.choices(codes, weights=weights, k=n)
            out.write("".join(f"acct-{start + i},{cc}\n" for i, cc in enumerate(picks)))


if __name__ == "__main__":
    main()
