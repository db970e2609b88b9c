# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""What Debian's package database says: which package owns a file, and which packages a fresh
machine has after `apt-get install --no-install-recommends` of a list.

The database is the installed one (dpkg-query), so the answers are about this machine's
packages; a package the setup list names that is not installed makes the check fail anyway.
"""
import os
import re
import subprocess

# A fresh Debian image (debootstrap's or mmdebstrap's minbase variant, the official container
# image) has the Essential packages, those of priority "required", and apt.
BASE_PACKAGES = {"apt"}
FIELDS = ["Package", "Essential", "Priority", "Pre-Depends", "Depends", "Provides"]


def _names(relation):
    """Package names in one alternative of a relation field: "libc6 (>= 2.34)" -> "libc6";
    "python3:any" -> "python3"."""
    name = relation.strip().split(" ", 1)[0]
    return name.split(":", 1)[0]


class PackageDatabase:
    def __init__(self):
        fmt = "\t".join("${%s}" % f for f in FIELDS) + "\t${db:Status-Status}\n"
        out = subprocess.run(["dpkg-query", "-W", "-f", fmt], check=True, capture_output=True,
                             text=True).stdout
        self.depends = {}
        self.providers = {}
        self.base = set(BASE_PACKAGES)
        for line in out.splitlines():
            name, essential, priority, predepends, depends, provides, status = line.split("\t")
            if status != "installed":
                continue
            self.depends[name] = [
                [_names(alt) for alt in group.split("|")]
                for group in (predepends + "," + depends).split(",") if group.strip()]
            for virtual in provides.split(","):
                if virtual.strip():
                    self.providers.setdefault(_names(virtual), []).append(name)
            if essential == "yes" or priority == "required":
                self.base.add(name)

    def installed(self, name):
        return name in self.depends

    def _choose(self, group, chosen):
        """The package apt installs for one dependency "a | b": one already there, else the
        first alternative (a virtual one by its provider)."""
        for alt in group:
            if alt in chosen or any(p in chosen for p in self.providers.get(alt, [])):
                return None
        for alt in group:
            if alt in self.depends:
                return alt
            if self.providers.get(alt):
                return self.providers[alt][0]
        return group[0]

    def closure(self, packages):
        """The packages a fresh machine has after installing these (without recommends)."""
        chosen = self.base | set(packages)
        todo = list(chosen)
        while todo:
            for group in self.depends.get(todo.pop(), []):
                pick = self._choose(group, chosen)
                if pick and pick not in chosen:
                    chosen.add(pick)
                    todo.append(pick)
        return chosen


def _aliases(path):
    """The names dpkg may have recorded for a file on a merged-/usr system."""
    names = [path]
    m = re.match(r"^/(bin|sbin|lib|lib32|lib64|libx32)(/.*)$", path)
    if m:
        names.append("/usr/" + m.group(1) + m.group(2))
    m = re.match(r"^/usr/(bin|sbin|lib|lib32|lib64|libx32)(/.*)$", path)
    if m:
        names.append("/" + m.group(1) + m.group(2))
    return names


def owners(paths):
    """{path: [packages]} for each path: one set of packages for each file it names, the path
    itself and, when it is a symbolic link, the file the link resolves to (both must be
    installed); merged-/usr aliases count as the same file.  A path no package owns, nor the
    file it resolves to, is absent."""
    files = {path: [path] + ([os.path.realpath(path)] if os.path.islink(path) else [])
             for path in paths}
    names = sorted({alias for names in files.values() for name in names
                    for alias in _aliases(name)})
    by_name = {}
    for i in range(0, len(names), 500):
        out = subprocess.run(["dpkg-query", "-S", *names[i:i + 500]], capture_output=True,
                             text=True).stdout
        for line in out.splitlines():
            packages, sep, name = line.partition(": ")
            if sep and not line.startswith("diversion by"):
                by_name.setdefault(name, set()).update(
                    p.strip().split(":", 1)[0] for p in packages.split(","))
    found = {}
    for path, names in files.items():
        sets = [set().union(*(by_name.get(a, set()) for a in _aliases(name))) for name in names]
        sets = [s for s in sets if s]
        if sets:
            found[path] = sets
    return found
