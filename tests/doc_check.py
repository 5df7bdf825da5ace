#!/usr/bin/env python3
"""Documentation checks (issue 15, defects 10 and 12), run by ctest.

  doc_check.py SRC tags   every public function of include/pinexec.h and
                          include/pinexec/glfw.h has a doc comment with a
                          \\param for each named parameter, a \\return (with
                          its errnos when it can fail) and a \\threadsafety,
                          and docs/errors.md has a row for it;
  doc_check.py SRC paths  every repository path that docs/*.md, README.md and
                          bench/README.md name exists;
  doc_check.py SRC names  every px_/px__ function that a comment or a doc
                          names is defined or declared in the sources.

Exit 0 when all hold; otherwise one line per problem and exit 1.
"""
import os
import re
import sys

HEADERS = ["include/pinexec.h", "include/pinexec/glfw.h"]


def read(src, rel):
    with open(os.path.join(src, rel), encoding="utf-8") as f:
        return f.read()


# ---- tags ---------------------------------------------------------------------

DECL = re.compile(r"PX_EXTERN\s+([^;{]*?)\b(px_\w+)\s*\(([^;{]*?)\)\s*(?:__attribute__\(\(.*?\)\))?\s*;",
                  re.S)


def param_names(params):
    params = params.strip()
    if params in ("", "void"):
        return []
    names = []
    depth = 0
    cur = ""
    for ch in params:  # split on top-level commas (function-pointer params nest)
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            names.append(cur)
            cur = ""
        else:
            cur += ch
    names.append(cur)
    out = []
    for p in names:
        p = p.strip()
        if p == "...":
            continue
        m = re.search(r"\(\s*\*\s*(\w+)\s*\)", p)  # void (*wake)(void *ctx)
        if m:
            out.append(m.group(1))
            continue
        m = re.search(r"(\w+)\s*$", p)
        if m:
            out.append(m.group(1))
    return out


def check_tags(src):
    problems = []
    errors_md = read(src, "docs/errors.md") if os.path.exists(os.path.join(src, "docs/errors.md")) else None
    if errors_md is None:
        problems.append("docs/errors.md: missing")
    count = 0
    for rel in HEADERS:
        text = read(src, rel)
        for m in DECL.finditer(text):
            ret, name, params = m.group(1).strip(), m.group(2), m.group(3)
            count += 1
            before = text[: m.start()]
            end = before.rstrip()
            if not end.endswith("*/"):
                problems.append(f"{rel}: {name}: no doc comment right before it")
                continue
            start = before.rfind("/**")
            doc = before[start:]
            for p in param_names(params):
                if not re.search(r"\\param\s+" + re.escape(p) + r"\b", doc):
                    problems.append(f"{rel}: {name}: no \\param {p}")
            if ret != "void" and "\\return" not in doc:
                problems.append(f"{rel}: {name}: no \\return")
            # A function that returns int or long can fail: its \return names
            # the errnos (the text from \return to the next tag).
            if re.match(r"^(int|long)$", ret):
                r = re.search(r"\\return(.*?)(\\threadsafety|\\note|\\memory|\\sa|\*/)", doc, re.S)
                if r and not re.search(r"-E[A-Z]+", r.group(1)):
                    problems.append(f"{rel}: {name}: \\return names no errno")
            if "\\threadsafety" not in doc:
                problems.append(f"{rel}: {name}: no \\threadsafety")
            if errors_md is not None and not re.search(r"^\|\s*`" + re.escape(name) + r"`", errors_md, re.M):
                problems.append(f"docs/errors.md: no row for {name}")
    if count < 30:
        problems.append(f"only {count} public functions found: the declaration pattern is stale")
    return problems, f"{count} public functions"


# ---- paths ----------------------------------------------------------------------

DOCS_TOP = ["README.md", "bench/README.md"]
# A path as docs write it: under a top-level folder of the repository, or a
# top-level file.
TOP_DIRS = ("src", "include", "executors", "tests", "tools", "bench", "docs", "examples",
            "scripts", "fuzz", "cmake")


def doc_files(src):
    files = [f for f in DOCS_TOP if os.path.exists(os.path.join(src, f))]
    for f in sorted(os.listdir(os.path.join(src, "docs"))):
        if f.endswith(".md"):
            files.append("docs/" + f)
    for root, _, names in os.walk(os.path.join(src, "docs")):
        for f in names:
            rel = os.path.relpath(os.path.join(root, f), src)
            if f.endswith(".md") and rel not in files:
                files.append(rel)
    return files


PATH = re.compile(r"(?<![\w./-])((?:%s)/[\w./*-]*[\w*])" % "|".join(TOP_DIRS))


def check_paths(src):
    problems = []
    n = 0
    for rel in doc_files(src):
        base = os.path.dirname(rel)
        for lineno, line in enumerate(read(src, rel).splitlines(), 1):
            for m in PATH.finditer(line):
                p = m.group(1).rstrip(".")
                if "*" in p or "<" in p:
                    continue
                n += 1
                # A path relative to the repository, or to the doc's folder
                # (a Markdown link in docs/model/README.md).
                if not (os.path.exists(os.path.join(src, p)) or
                        os.path.exists(os.path.join(src, base, p))):
                    problems.append(f"{rel}:{lineno}: names {p}, which does not exist")
            for m in re.finditer(r"\]\(([^)#\s]+)", line):  # Markdown links
                p = m.group(1)
                if re.match(r"^[a-z]+:", p):
                    continue
                n += 1
                if not os.path.exists(os.path.normpath(os.path.join(src, base, p))):
                    problems.append(f"{rel}:{lineno}: links {p}, which does not exist")
            if (re.search(r"\.(?:c|h|pml|sh|cpp):\d", line) or re.search(r"\(:\d+", line) or
                    (re.search(r"\b(?:line|lines)\s+\d+", line) and re.search(r"\.(c|h|pml)\b", line))):
                problems.append(f"{rel}:{lineno}: cites a line number; cite the function")
    return problems, f"{n} paths"


# ---- names ------------------------------------------------------------------------

SOURCE_DIRS = ["src", "include", "executors", "tools", "bench", "tests", "examples", "fuzz"]
SOURCE_EXT = (".c", ".h", ".cpp")


def sources(src):
    for d in SOURCE_DIRS:
        for root, _, names in os.walk(os.path.join(src, d)):
            for f in names:
                if f.endswith(SOURCE_EXT):
                    yield os.path.relpath(os.path.join(root, f), src)


COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
NAME = re.compile(r"\b(px__?[a-z]\w*)\s*\(")   # a function as cited: name(
BARE = re.compile(r"`(px__?[a-z]\w*)`")        # or `name` in a doc


def check_names(src):
    code = {}
    for rel in sources(src):
        code[rel] = read(src, rel)
    # What exists: every identifier the sources define, declare or #define.
    defined = set()
    for rel, text in code.items():
        stripped = COMMENT.sub(" ", text)
        defined.update(re.findall(r"\b(px_{1,2}\w+)\b", stripped))
    problems = []
    n = 0
    for rel, text in code.items():
        for c in COMMENT.finditer(text):
            for m in NAME.finditer(c.group(0)):
                n += 1
                if m.group(1) not in defined:
                    lineno = text.count("\n", 0, c.start() + m.start()) + 1
                    problems.append(f"{rel}:{lineno}: a comment cites {m.group(1)}(), which does not exist")
    for rel in doc_files(src):
        text = read(src, rel)
        for lineno, line in enumerate(text.splitlines(), 1):
            for m in list(NAME.finditer(line)) + list(BARE.finditer(line)):
                n += 1
                if m.group(1) not in defined:
                    problems.append(f"{rel}:{lineno}: cites {m.group(1)}, which does not exist")
    return problems, f"{n} citations"


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in ("tags", "paths", "names"):
        print(__doc__.strip().splitlines()[0])
        print("usage: doc_check.py SOURCE_DIR tags|paths|names")
        return 2
    src, what = sys.argv[1], sys.argv[2]
    problems, summary = {"tags": check_tags, "paths": check_paths, "names": check_names}[what](src)
    for p in problems:
        print(p)
    print(f"doc_check {what}: {summary}, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
