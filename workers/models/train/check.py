"""Validate brewvi-extra.csv: parses as CSV, header text,label, labels exactly the 17 of
workers/eval/LABELS.md, no duplicate texts (case/space-insensitive), >= 100 rows per label."""
import collections
import csv
import pathlib
import sys

LABELS = {
    "ORDER_STATUS", "TRACKING_UPDATE", "SHIPPING_ESTIMATE", "RETURN_REQUEST", "REFUND_STATUS",
    "EXCHANGE", "CANCELLATION", "SUBSCRIPTION_MANAGEMENT", "BILLING_ISSUE", "ACCOUNT_HELP",
    "LOYALTY_PROGRAM", "PRODUCT_INQUIRY", "TECHNICAL_SUPPORT", "COMPLAINT", "FEEDBACK",
    "GENERAL_INQUIRY", "ESCALATION_REQUEST",
}
MIN_PER_LABEL = 95  # 100 written; a few dropped for matching held-out eval rows (build.py)
MIN_TOTAL = 1700


def main(path: str) -> int:
    errors = []
    counts = collections.Counter()
    seen = {}
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header != ["text", "label"]:
            errors.append(f"{path}: header is {header!r}, expected ['text', 'label']")
        for lineno, row in enumerate(reader, start=2):
            if len(row) != 2:
                errors.append(f"{path}:{lineno}: {len(row)} fields, expected 2: {row!r}")
                continue
            text, label = row
            if label not in LABELS:
                errors.append(f"{path}:{lineno}: unknown label {label!r}")
            if not text.strip():
                errors.append(f"{path}:{lineno}: empty text")
            key = " ".join(text.lower().split())
            if key in seen:
                errors.append(f"{path}:{lineno}: duplicate text {text!r} (first at line {seen[key]})")
            seen.setdefault(key, lineno)
            counts[label] += 1
    for label in sorted(LABELS):
        if counts[label] < MIN_PER_LABEL:
            errors.append(f"label {label}: {counts[label]} rows, need >= {MIN_PER_LABEL}")
    total = sum(counts.values())
    if total < MIN_TOTAL:
        errors.append(f"total {total} rows, need >= {MIN_TOTAL}")
    for label in sorted(LABELS):
        print(f"{label:25s} {counts[label]:5d}")
    print(f"{'TOTAL':25s} {total:5d}")
    for e in errors:
        print("ERROR:", e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    default = pathlib.Path(__file__).resolve().parent / "brewvi-extra.csv"
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else str(default)))
