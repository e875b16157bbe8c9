"""Assemble brewvi-extra.csv from the hand-written rows/<LABEL>.txt files (one text per line).

Rows whose normalised text equals a row of the held-out eval sets (workers/eval/intents.csv,
screening.csv) are left out, so no held-out message is ever trained on.
"""
import csv
import pathlib
import re

HERE = pathlib.Path(__file__).resolve().parent


def norm(text: str) -> str:
    return re.sub(r"[^a-z0-9 ]", "", text.lower()).strip()


def held_out() -> set:
    evals = HERE.parent.parent / "eval"
    out = set()
    for name in ("intents.csv", "screening.csv"):
        path = evals / name
        if path.exists():
            out |= {norm(r["text"]) for r in csv.DictReader(open(path, encoding="utf-8"))}
    return out


def main() -> None:
    held = held_out()
    rows = []
    for path in sorted((HERE / "rows").glob("*.txt")):
        label = path.stem
        for line in path.read_text(encoding="utf-8").splitlines():
            text = line.strip()
            if text and not text.startswith("##") and norm(text) not in held:
                rows.append((text, label))
    with open(HERE / "brewvi-extra.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        w.writerow(["text", "label"])
        w.writerows(rows)
    print(f"wrote {len(rows)} rows")


if __name__ == "__main__":
    main()
