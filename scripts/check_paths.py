#!/usr/bin/env python3
"""Checks that every repository path cited in comments and docs exists.

    python3 scripts/check_paths.py          # exit 0: all found; 1: lists file:line and the path

What is scanned (files tracked by git, plus new files git does not ignore):
  - comments of C++/CUDA sources (// and /* */), CMake files, shell scripts (# ...);
  - comments and triple-quoted strings (docstrings) of Python files;
  - the whole text of markdown files.
String literals and code are not scanned: a path in code is the program's business.

What counts as a path:
  - `dir/.../name.ext` or `dir/.../` where `dir` is a top-level folder of the repository
    (engine/, docs/, tests/, ...): resolved from the repository root;
  - a bare all-capitals markdown name (README.md, CONTRIBUTING.md): a top-level file;
  - the target of a markdown link or image, `[text](target)`: resolved from the markdown
    file's own folder, as a browser would;
  - a path that starts with `../`: outside the repository, an error unless allowed below.
A path stops at characters that cannot be in a file name here (space, `*`, `<`, `{`, `:`),
so `losses/<name>.cpp`, `tests/<area>/*.cpp` and `engine/ops/{conv,pool}.cpp` check only
the folder before the placeholder: write a file that does not exist yet with a <placeholder>.

The allow-list (paths that are right to cite although they are not in the repository):
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Outputs of a build or a run, cited in commands; never in the repository.
OUTPUT_PREFIXES = ("build/", "build-", "runs/", "results/")
# Optional data beside the repository: tests and benchmarks skip without it. Only the
# dataset folder itself may be cited.
OPTIONAL_OUTSIDE = ("../shared", "../shared/data/VOCdevkit", "../shared/data/VOCdevkit/")
# Paths in other projects' repositories, cited with the project's name on the same line.
FOREIGN = {"tests/test_ops/test_focal_loss.py": "mmcv"}
# Generated files that may be cited although not committed (none at present; add a file
# here with the command that makes it).
GENERATED = set()

__doc__ += """
  - build and run outputs: {}
  - optional data outside the repository: {}
  - paths in other projects, named on the same line: {}
  - generated files: {}
""".format(", ".join(OUTPUT_PREFIXES), ", ".join(OPTIONAL_OUTSIDE),
           ", ".join("%s (%s)" % kv for kv in sorted(FOREIGN.items())), ", ".join(sorted(GENERATED)) or "none")

CPP_EXT = (".h", ".hpp", ".cpp", ".cc", ".cu", ".cuh", ".inc")
HASH_EXT = (".cmake", ".sh")
HASH_NAMES = ("CMakeLists.txt", "run")  # .ci/run is a shell script


def repository_files():
    try:
        out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                             check=True, capture_output=True, text=True).stdout
        return sorted(f for f in out.splitlines() if os.path.isfile(os.path.join(ROOT, f)))
    except (OSError, subprocess.CalledProcessError):
        files = []
        for folder, dirs, names in os.walk(ROOT):
            dirs[:] = [d for d in dirs if d != ".git" and not d.startswith("build") and d not in ("runs", "results")]
            files += [os.path.relpath(os.path.join(folder, n), ROOT) for n in names]
        return sorted(files)


def cpp_comments(text):
    """(line, text) of each comment, skipping string and character literals."""
    out, i, n, line = [], 0, len(text), 1
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append((line, text[i:end]))
            i = end
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            for k, part in enumerate(text[i:end].split("\n")):
                out.append((line + k, part))
            line += text.count("\n", i, end)
            i = end
            continue
        elif c == 'R' and text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            if m:
                end = text.find(")" + m.group(1) + '"', i)
                end = n if end < 0 else end + len(m.group(1)) + 2
                line += text.count("\n", i, end)
                i = end
                continue
        elif c in "\"'":
            if c == "'" and i > 0 and text[i - 1].isalnum():  # a digit separator, 1'000
                i += 1
                continue
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        i += 1
    return out


def hash_comments(text):
    out = []
    for number, line in enumerate(text.split("\n"), 1):
        if number == 1 and line.startswith("#!"):
            continue
        m = re.search(r'(^|\s)#', line)
        if m and line[:m.start()].count('"') % 2 == 0:
            out.append((number, line[m.start():]))
    return out


def python_comments(text):
    out = hash_comments(text)
    for m in re.finditer(r'("""|\'\'\')(.*?)\1', text, re.S):
        first = text.count("\n", 0, m.start()) + 1
        for k, part in enumerate(m.group(2).split("\n")):
            out.append((first + k, part))
    return out


def markdown_lines(text):
    return list(enumerate(text.split("\n"), 1))


URL = re.compile(r'[a-zA-Z][a-zA-Z0-9+.-]*://\S+')
LINK = re.compile(r'\]\(([^)\s]+)\)')
BARE_DOC = re.compile(r'(?<![\w./-])([A-Z][A-Z0-9_-]*\.md)\b')
OUTSIDE = re.compile(r'(?<![\w.-])(\.\./[\w.-][\w./-]*)')


def repo_path_pattern():
    tops = sorted(d for d in os.listdir(ROOT) if os.path.isdir(os.path.join(ROOT, d)) and d != ".git"
                  and not d.startswith("build") and d not in ("runs", "results"))
    names = "|".join(re.escape(d) for d in tops)
    return re.compile(r'(?<![\w./-])((?:%s)/[\w./+-]*)' % names)


def check_file(rel, lines, paths, is_markdown):
    problems = []
    here = os.path.dirname(rel)
    for number, text in lines:
        text = URL.sub(" ", text)
        if is_markdown:
            for target in LINK.findall(text):
                target = target.split("#")[0]
                if not target or target.startswith("mailto:"):
                    continue
                resolved = os.path.normpath(os.path.join(here, target))
                if resolved.startswith(".."):
                    if os.path.normpath(target) not in [os.path.normpath(p) for p in OPTIONAL_OUTSIDE]:
                        problems.append((number, target, "outside the repository"))
                elif not os.path.exists(os.path.join(ROOT, resolved)):
                    problems.append((number, target, "missing (link, from %s/)" % (here or ".")))
            text = LINK.sub("](link)", text)
        for token in OUTSIDE.findall(text):
            token = token.rstrip(".")
            if token not in OPTIONAL_OUTSIDE:
                problems.append((number, token, "outside the repository"))
        for token in paths.findall(text):
            token = token.rstrip(".")
            if token.startswith(OUTPUT_PREFIXES) or token in GENERATED:
                continue
            if token in FOREIGN and FOREIGN[token] in text:
                continue
            last = token.rstrip("/").rsplit("/", 1)[-1]
            if not token.endswith("/") and not re.search(r'[\w-]\.[A-Za-z0-9]+$', last):
                continue  # neither dir/ nor dir/file.ext: a word such as "data/voc", not a path
            if not os.path.exists(os.path.join(ROOT, token)):
                problems.append((number, token, "missing"))
        for token in BARE_DOC.findall(text):
            if not os.path.exists(os.path.join(ROOT, token)):
                problems.append((number, token, "missing (a top-level file)"))
    return problems


def main():
    paths = repo_path_pattern()
    problems = []
    scanned = 0
    for rel in repository_files():
        name = os.path.basename(rel)
        try:
            with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
                text = f.read()
        except (UnicodeDecodeError, OSError):
            continue
        if rel.endswith(CPP_EXT):
            lines, md = cpp_comments(text), False
        elif rel.endswith(".py"):
            lines, md = python_comments(text), False
        elif rel.endswith(HASH_EXT) or name in HASH_NAMES:
            lines, md = hash_comments(text), False
        elif rel.endswith(".md"):
            lines, md = markdown_lines(text), True
        else:
            continue
        scanned += 1
        for number, token, why in check_file(rel, lines, paths, md):
            problems.append("%s:%d: %s: %s" % (rel, number, token, why))
    for p in problems:
        print(p)
    print("check_paths: %d files scanned, %d missing path%s" % (scanned, len(problems), "" if len(problems) == 1 else "s"),
          file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
