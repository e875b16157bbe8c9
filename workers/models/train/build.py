"""Assemble brewvi-extra.csv from the hand-written rows/<LABEL>.txt files (one text per line)."""
import csv
import pathlib

HERE = pathlib.Path(__file__).resolve().parent


def main() -> None:
    rows = []
    for path in sorted((HERE / "rows").glob("*.txt")):
        label = path.stem
        for line in path.read_text(encoding="utf-8").splitlines():
            text = line.strip()
            if text and not text.startswith("##"):
                rows.append((text, label))
    with open(HERE / "brewvi-extra.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        w.writerow(["text", "label"])
        w.writerows(rows)
    print(f"wrote {len(rows)} rows")


if __name__ == "__main__":
    main()
