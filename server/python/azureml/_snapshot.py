"""Packing a `source_directory` as the server takes it: a tar.gz of its files that
honours `.amlignore`, else `.gitignore` (the top-level file, with git's pattern rules),
never packs `.git/`, and stops at the SDK's 300 MB limit."""

import io
import os
import re
import tarfile

from azureml.exceptions import SnapshotException

LIMIT = 300 * 1024 * 1024


def _rule(line):
    """One ignore-file line as (negated, directory only, regex), or None."""
    line = line.rstrip("\n").rstrip()
    if not line or line.startswith("#"):
        return None
    negated = line.startswith("!")
    if negated:
        line = line[1:]
    dir_only = line.endswith("/")
    line = line.rstrip("/")
    anchored = "/" in line
    line = line.lstrip("/")
    out, i = "", 0
    while i < len(line):
        if line.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif line.startswith("/**", i) and i + 3 == len(line):
            out += "/.*"
            i += 3
        elif line[i] == "*":
            out += "[^/]*"
            i += 1
        elif line[i] == "?":
            out += "[^/]"
            i += 1
        elif line[i] == "[":
            end = line.find("]", i + 1)
            if end < 0:
                out += re.escape(line[i])
                i += 1
            else:
                out += "[" + line[i + 1 : end].replace("!", "^", 1) + "]"
                i = end + 1
        else:
            out += re.escape(line[i])
            i += 1
    prefix = "^" if anchored else "^(?:.*/)?"
    return negated, dir_only, re.compile(prefix + out + "$")


def _rules(src):
    for name in (".amlignore", ".gitignore"):
        path = os.path.join(src, name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8", errors="replace") as f:
                return [r for r in map(_rule, f) if r]
    return []


def _ignored(rules, rel, is_dir):
    ignored = False
    for negated, dir_only, regex in rules:
        if dir_only and not is_dir:
            continue
        if regex.match(rel):
            ignored = not negated
    return ignored


def files(src):
    """The relative paths (POSIX) of what would be packed, folders first, sorted."""
    if not os.path.isdir(src):
        raise SnapshotException(
            "source_directory {!r} does not exist or is not a folder (relative paths start "
            "from {})".format(src, os.getcwd())
        )
    rules = _rules(src)
    out = []
    for folder, dirs, names in os.walk(src):
        rel_folder = os.path.relpath(folder, src).replace(os.sep, "/")
        rel_folder = "" if rel_folder == "." else rel_folder + "/"
        keep = []
        for d in sorted(dirs):
            rel = rel_folder + d
            if d == ".git" or _ignored(rules, rel, True):
                continue
            keep.append(d)
            out.append(rel)
        dirs[:] = keep
        for n in sorted(names):
            rel = rel_folder + n
            if not _ignored(rules, rel, False):
                out.append(rel)
    return out


def pack(src):
    """The tar.gz of `src`'s files, as bytes."""
    paths = files(src)
    total = 0
    for rel in paths:
        full = os.path.join(src, rel)
        if os.path.isfile(full) and not os.path.islink(full):
            total += os.path.getsize(full)
    if total > LIMIT:
        raise SnapshotException(
            "source_directory {!r} holds {:.0f} MB, over the 300 MB limit: put large data in a "
            "datastore, or list it in .amlignore".format(src, total / 1e6)
        )
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as tar:
        for rel in paths:
            tar.add(os.path.join(src, rel), arcname=rel, recursive=False)
    return buffer.getvalue()
