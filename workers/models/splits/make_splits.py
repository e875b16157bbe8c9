#!/usr/bin/env python3
"""Freezes the held-out parts of the shared data sets (run once; the output is committed).

Bitext: a row is held out when a stable hash (SHA-256) of its text is 0 mod 5. Its rows are
generated from templates, so near-copies differ by a word or an order number: every other
row of the same intent whose word set has Jaccard >= 0.6 with a held-out row is excluded
from training too, so no held-out row has a near-copy in the training part.
Output: bitext-heldout.txt and bitext-excluded.txt, one 0-based data-row index per line.

Usage: python3 workers/models/splits/make_splits.py ../shared/data
"""
import csv, hashlib, re, sys, os
from collections import defaultdict

NEAR = 0.6

def words(text):
    t = re.sub(r"\{\{[^}]*\}\}", " slot ", text.lower())
    t = re.sub(r"\d+", " num ", t)
    return set(re.findall(r"[a-z]+", t))

def main(data):
    rows = list(csv.DictReader(open(os.path.join(data, "bitext/bitext_customer_support_sample_6480.csv"), encoding="utf-8")))
    by_intent = defaultdict(list)
    for i, r in enumerate(rows):
        by_intent[r["intent"]].append(i)
    ws = [words(r["instruction"]) for r in rows]
    held = [i for i, r in enumerate(rows)
            if int(hashlib.sha256(r["instruction"].encode()).hexdigest(), 16) % 5 == 0]
    held_set = set(held)
    excluded = []
    for i, r in enumerate(rows):
        if i in held_set:
            continue
        for j in by_intent[r["intent"]]:
            if j in held_set:
                union = len(ws[i] | ws[j]) or 1
                if len(ws[i] & ws[j]) / union >= NEAR:
                    excluded.append(i)
                    break
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bitext-heldout.txt")
    with open(out, "w") as f:
        f.write("# Bitext held-out rows (0-based data-row index), frozen by make_splits.py; never train or tune on these\n")
        f.writelines(f"{i}\n" for i in held)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bitext-excluded.txt")
    with open(out, "w") as f:
        f.write("# Bitext rows kept out of training: near-copies (word Jaccard >= 0.6) of a held-out row\n")
        f.writelines(f"{i}\n" for i in excluded)
    print(f"{len(held)} of {len(rows)} rows held out, {len(excluded)} near-copies excluded from training")

main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
