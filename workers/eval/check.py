#!/usr/bin/env python3
"""Validates the held-out evaluation sets in workers/eval/.

Checks that the CSV files parse with the expected header and valid labels,
that the JSON-lines files parse with the expected fields, that every
expected source id exists in the knowledge-base files of its tenant (and,
for a query with a `language`, in a passage file of that language), and
that each knowledge-base file has valid front matter and passage headings.
Prints the counts per label and class (the figures in README.md) and exits
non-zero naming the file, line and field of every problem.

Run from anywhere: python3 workers/eval/check.py
"""
import csv
import json
import re
import sys
from collections import Counter
from pathlib import Path

EVAL = Path(__file__).resolve().parent
WORKERS = EVAL.parent
INTENTS = {
    "ORDER_STATUS", "TRACKING_UPDATE", "SHIPPING_ESTIMATE", "RETURN_REQUEST",
    "REFUND_STATUS", "EXCHANGE", "CANCELLATION", "SUBSCRIPTION_MANAGEMENT",
    "BILLING_ISSUE", "ACCOUNT_HELP", "LOYALTY_PROGRAM", "PRODUCT_INQUIRY",
    "TECHNICAL_SUPPORT", "COMPLAINT", "FEEDBACK", "GENERAL_INQUIRY",
    "ESCALATION_REQUEST",
}
WORDINGS = {"clean", "misspelled", "slang", "formal", "jargon"}
BLOCK_CLASSES = {
    "injection", "roleplay", "hypothetical", "authority", "markers",
    "template", "encoding", "language", "others_data", "fraud",
}
ALLOW_CLASSES = {"ordinary", "lookalike"}
HEADING = re.compile(r"^## ([A-Za-z0-9._-]+): (\S.*)$")
TENANT_KB = {
    "brewvi": [WORKERS / "kb" / "brewvi", EVAL / "tenants" / "brewvi-i18n" / "kb"],
    "pedalworks": [EVAL / "tenants" / "pedalworks" / "kb"],
}

errors = []


def err(where, msg):
    errors.append(f"{where}: {msg}")


def read_csv(name, header):
    path = EVAL / name
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f, strict=True)
        rows = list(reader)
    if not rows or rows[0] != header:
        err(name, f"header is {rows[:1]}, expected {header}")
        return []
    out, seen = [], {}
    for n, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            err(f"{name}:{n}", f"{len(row)} fields, expected {len(header)}")
            continue
        rec = dict(zip(header, row))
        text = rec["text"].strip()
        if not text:
            err(f"{name}:{n}", "empty text")
        key = text.lower()
        if key in seen:
            err(f"{name}:{n}", f"duplicate text of line {seen[key]}")
        seen[key] = n
        rec["_line"] = n
        out.append(rec)
    return out


def check_intents():
    rows = read_csv("intents.csv", ["text", "label", "wording"])
    for r in rows:
        if r["label"] not in INTENTS:
            err(f"intents.csv:{r['_line']}", f"label {r['label']!r} is not a known intent")
        if r["wording"] not in WORDINGS:
            err(f"intents.csv:{r['_line']}", f"wording {r['wording']!r} is not one of {sorted(WORDINGS)}")
    labels = Counter(r["label"] for r in rows)
    wordings = Counter(r["wording"] for r in rows)
    for label in INTENTS:
        if labels[label] < 20:
            err("intents.csv", f"label {label} has {labels[label]} rows, fewer than 20")
    noisy = sum(v for k, v in wordings.items() if k != "clean")
    if len(rows) < 360:
        err("intents.csv", f"{len(rows)} rows, fewer than 360")
    if rows and noisy / len(rows) < 0.40:
        err("intents.csv", f"only {noisy / len(rows):.0%} noisy rows, fewer than 40%")
    print(f"intents.csv: {len(rows)} rows, {noisy} noisy ({noisy / max(len(rows), 1):.0%})")
    print("  labels:  " + ", ".join(f"{k} {v}" for k, v in sorted(labels.items())))
    print("  wording: " + ", ".join(f"{k} {v}" for k, v in sorted(wordings.items())))


def check_screening():
    rows = read_csv("screening.csv", ["text", "label", "class"])
    for r in rows:
        allowed = {"BLOCK": BLOCK_CLASSES, "ALLOW": ALLOW_CLASSES}.get(r["label"])
        if allowed is None:
            err(f"screening.csv:{r['_line']}", f"label {r['label']!r} is not ALLOW or BLOCK")
        elif r["class"] not in allowed:
            err(f"screening.csv:{r['_line']}", f"class {r['class']!r} is not valid for {r['label']}")
    by = Counter((r["label"], r["class"]) for r in rows)
    block = sum(v for (l, _), v in by.items() if l == "BLOCK")
    allow = sum(v for (l, _), v in by.items() if l == "ALLOW")
    for c in BLOCK_CLASSES:
        if by[("BLOCK", c)] < 10:
            err("screening.csv", f"BLOCK class {c} has {by[('BLOCK', c)]} rows, fewer than 10")
    if block < 130:
        err("screening.csv", f"{block} BLOCK rows, fewer than 130")
    if allow < 350:
        err("screening.csv", f"{allow} ALLOW rows, fewer than 350")
    if by[("ALLOW", "lookalike")] < 80:
        err("screening.csv", f"{by[('ALLOW', 'lookalike')]} lookalike rows, fewer than 80")
    print(f"screening.csv: {len(rows)} rows, BLOCK {block}, ALLOW {allow}")
    print("  " + ", ".join(f"{l}/{c} {v}" for (l, c), v in sorted(by.items())))


def read_jsonl(name):
    out = []
    with (EVAL / name).open(encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                out.append((n, json.loads(line)))
            except json.JSONDecodeError as e:
                err(f"{name}:{n}", f"not JSON: {e}")
    return out


def check_escalation():
    rows = read_jsonl("escalation.jsonl")
    ids = set()
    for n, o in rows:
        where = f"escalation.jsonl:{n}"
        if set(o) != {"id", "turns", "human", "why"}:
            err(where, f"fields {sorted(o)}, expected id, turns, human, why")
            continue
        if not re.fullmatch(r"esc-\d{3}", str(o["id"])) or o["id"] in ids:
            err(where, f"id {o['id']!r} malformed or repeated")
        ids.add(o["id"])
        t = o["turns"]
        if not isinstance(t, list) or not 1 <= len(t) <= 4 or not all(isinstance(x, str) and x.strip() for x in t):
            err(where, "turns must be 1-4 non-empty strings")
        if not isinstance(o["human"], bool):
            err(where, "human must be true or false")
        if not isinstance(o["why"], str) or not o["why"].strip():
            err(where, "why must be a non-empty string")
    true = sum(1 for _, o in rows if o.get("human") is True)
    if len(rows) < 70:
        err("escalation.jsonl", f"{len(rows)} cases, fewer than 70")
    if rows and not 0.45 <= true / len(rows) <= 0.55:
        err("escalation.jsonl", f"{true / len(rows):.0%} human, outside 45-55%")
    turns = Counter(len(o.get("turns", [])) for _, o in rows)
    print(f"escalation.jsonl: {len(rows)} cases, human {true}, not human {len(rows) - true}")
    print("  turns per case: " + ", ".join(f"{k}: {v}" for k, v in sorted(turns.items())))


def parse_kb_file(path):
    """Returns (language, {source id: title}); front matter is optional only for workers/kb."""
    text = path.read_text(encoding="utf-8")
    where = str(path.relative_to(WORKERS))
    language = "en"
    lines = text.split("\n")
    if lines[0] == "---":
        try:
            end = lines.index("---", 1)
        except ValueError:
            err(where, "front matter is not closed by ---")
            return language, {}
        meta = dict(l.split(":", 1) for l in lines[1:end] if ":" in l)
        meta = {k.strip(): v.strip() for k, v in meta.items()}
        for key in ("title", "language", "tags"):
            if not meta.get(key):
                err(where, f"front matter lacks {key}")
        if not re.fullmatch(r"\[[^\]]*\]", meta.get("tags", "[]")):
            err(where, "front matter tags must be a [list]")
        language = meta.get("language", "en")
        lines = lines[end + 1:]
    elif EVAL in path.parents:
        err(where, "missing YAML front matter")
    ids, current, body = {}, None, []
    for n, line in enumerate(lines + ["## end.sentinel: end"], start=1):
        if line.startswith("## "):
            if current is not None and not " ".join(body).strip():
                err(where, f"passage {current} has no text")
            m = HEADING.match(line)
            if not m:
                err(where, f"bad passage heading {line!r}")
                current = None
                continue
            current, body = m.group(1), []
            if current != "end.sentinel":
                if current in ids:
                    err(where, f"source id {current} appears twice")
                ids[current] = m.group(2)
        elif current is not None:
            body.append(line)
    return language, ids


def load_kbs():
    kb = {}
    for tenant, dirs in TENANT_KB.items():
        by_lang = {}
        for d in dirs:
            for path in sorted(d.glob("*.md")):
                if path.name == "README.md":
                    continue
                lang, ids = parse_kb_file(path)
                for i in ids:
                    if i in by_lang.get(lang, {}):
                        err(str(path.relative_to(WORKERS)), f"source id {i} already in another {lang} file")
                by_lang.setdefault(lang, {}).update(ids)
        kb[tenant] = by_lang
    return kb


def check_retrieval(kb):
    rows = read_jsonl("retrieval.jsonl")
    counts = Counter()
    en = kb["brewvi"].get("en", {})
    for lang, ids in kb["brewvi"].items():
        for i in ids:
            if lang != "en" and i not in en:
                err("brewvi-i18n", f"{lang} source id {i} translates no English passage")
    for n, o in rows:
        where = f"retrieval.jsonl:{n}"
        tenant, lang = o.get("tenant"), o.get("language", "en")
        extra = set(o) - {"tenant", "query", "expected", "language"}
        if extra:
            err(where, f"unknown fields {sorted(extra)}")
        if tenant not in kb:
            err(where, f"tenant {tenant!r} has no knowledge base")
            continue
        if not isinstance(o.get("query"), str) or not o["query"].strip():
            err(where, "query must be a non-empty string")
        exp = o.get("expected")
        if not isinstance(exp, list) or not exp:
            err(where, "expected must be a non-empty list")
            continue
        ids = kb[tenant].get(lang)
        if ids is None:
            err(where, f"tenant {tenant} has no {lang} passages")
            continue
        for e in exp:
            if e not in ids:
                err(where, f"expected source id {e!r} is not a {lang} passage of {tenant}")
        counts[(tenant, lang)] += 1
    need = {("brewvi", "en"): 60, ("pedalworks", "en"): 25, ("brewvi", "fr"): 10, ("brewvi", "es"): 10}
    for k, v in need.items():
        if counts[k] < v:
            err("retrieval.jsonl", f"{k[0]}/{k[1]} has {counts[k]} queries, fewer than {v}")
    passages = {t: {l: len(i) for l, i in by.items()} for t, by in kb.items()}
    if sum(passages["pedalworks"].values()) < 25:
        err("pedalworks kb", "fewer than 25 passages")
    print(f"retrieval.jsonl: {len(rows)} queries")
    print("  " + ", ".join(f"{t}/{l} {v}" for (t, l), v in sorted(counts.items())))
    print(f"  passages: {passages}")


def main():
    check_intents()
    check_screening()
    check_escalation()
    check_retrieval(load_kbs())
    if errors:
        print(f"\n{len(errors)} problem(s):", file=sys.stderr)
        for e in errors:
            print("  " + e, file=sys.stderr)
        return 1
    print("\nall eval files valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
