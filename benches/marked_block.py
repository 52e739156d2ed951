"""Puts generated Markdown into a page between the markers <!-- NAME:start --> and
<!-- NAME:end -->: replaced where the markers are, else appended under a heading. The bench scripts
that keep a block of docs/PERFORMANCE.md share it (benches/throughput.sh keeps those blocks when
it rewrites the rest of the page)."""

from pathlib import Path


def put_block(target: Path, name: str, body: str, heading: str) -> None:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{body.rstrip()}\n{end}"
    text = target.read_text() if target.exists() else ""
    if start in text and end in text:
        before, rest = text.split(start, 1)
        text = before + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + f"\n\n## {heading}\n\n" + block + "\n"
    target.write_text(text)
