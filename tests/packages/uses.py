# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""What the build, the tests and the demo use from outside the source tree: files the configured
build found (the CMake cache, pkg-config modules, headers from the compilers' dependency files)
and the programs the scripts and tests run.  Each use is (path, who needed it)."""
import ast
import glob
import os
import re
import shlex
import shutil
import subprocess

SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
KERNEL_FILES = ("/sys/", "/proc/")  # the running kernel's, no package's
# dash's builtins and keywords: never a program from a package
SHELL_WORDS = set("""alias bg cd command echo eval exec exit export false fc fg getopts hash jobs
    kill local printf pwd read readonly return set shift test times trap true type ulimit umask
    unalias unset wait if then else elif fi for in do done case esac while until [ ! { }""".split())
BARE_WORD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
# Programs that run the command given in their arguments: their arguments are looked at too.
WRAPPERS = {"timeout", "taskset", "setpriv", "unshare", "nsenter", "chroot", "env", "nice",
            "stdbuf", "xargs", "exec"}
SEPARATORS = {";", "|", "||", "&&", "&", "(", ")", "{", "}", "!", "then", "do", "else", "elif",
              "if", "while", "until", "$", ";;"}


def read(path):
    with open(path) as f:
        return f.read()


def _outside(path, trees):
    return os.path.isabs(path) and not any(
        os.path.realpath(path).startswith(os.path.realpath(t) + "/") for t in trees) \
        and not path.startswith(KERNEL_FILES)


def cache_files(build):
    """Files the configure step found: every FILEPATH in the CMake cache, the Python interpreter,
    and the .pc file of every pkg-config module."""
    uses = []
    with open(os.path.join(build, "CMakeCache.txt")) as f:
        for line in f:
            m = re.match(r"^([^#/][^:]*):(FILEPATH|INTERNAL)=(.*)$", line.rstrip("\n"))
            if not m:
                continue
            key, kind, value = m.groups()
            if kind == "FILEPATH" or key == "_Python3_EXECUTABLE":
                if os.path.exists(value) and not value.startswith(KERNEL_FILES):
                    uses.append((value, f"the CMake cache's {key}"))
            elif key.startswith("__pkg_config_arguments_"):
                for module in value.split(";"):
                    module = re.split(r"[<>=\s]", module, 1)[0]
                    if module and module not in ("REQUIRED", "QUIET", "IMPORTED_TARGET",
                                                 "GLOBAL", "NO_CMAKE_PATH",
                                                 "NO_CMAKE_ENVIRONMENT_PATH"):
                        pc = subprocess.run(["pkg-config", "--path", module],
                                            capture_output=True, text=True).stdout.strip()
                        uses.append((pc or module, f"pkg-config module {module}"))
    return uses


def depfile_headers(build, source):
    """Files outside the trees that each compiled source included, from the compilers' .d files
    (C objects and BPF objects): [(path, source file)]."""
    uses = []
    for depfile in glob.glob(os.path.join(build, "**", "*.d"), recursive=True):
        with open(depfile) as f:
            text = f.read().replace("\\\n", " ")
        _, sep, deps = text.partition(": ")
        words = deps.split()
        if not sep or not words:
            continue
        needer = os.path.relpath(words[0], source) if words[0].startswith(source) else words[0]
        uses += [(w, needer) for w in words[1:] if _outside(w, (source, build))]
    return uses


def _argv_programs(argv, wrappers=WRAPPERS):
    """The words of one command that may name a program: the command itself and, after a
    program that runs a command (ip netns exec NAME, timeout, ...), the words after it."""
    if argv and (argv[0] in wrappers or argv[:3] == ["ip", "netns", "exec"]):
        return argv
    return argv[:1]


def _python_words(path):
    """String constants that name programs: the argv lists (list and tuple literals that start
    with a string), and the arguments of which() and require_programs()."""
    tree = ast.parse(read(path), path)
    for node in ast.walk(tree):
        if isinstance(node, (ast.List, ast.Tuple)) and node.elts and \
                isinstance(node.elts[0], ast.Constant) and isinstance(node.elts[0].value, str):
            argv = [e.value if isinstance(e, ast.Constant) else None for e in node.elts]
            for word in _argv_programs(argv):
                if isinstance(word, str):
                    yield word, node.lineno, False
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name in ("which", "require_programs"):
                for arg in node.args:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        yield arg.value, arg.lineno, True


def _shell_commands(text):
    """The simple commands of a line of shell, as word lists (assignments left out)."""
    lex = shlex.shlex(text, posix=True, punctuation_chars=True)
    lex.whitespace_split = True
    try:
        words = list(lex)
    except ValueError:  # a quote that spans lines
        words = text.split()
    command = []
    for word in words + [";"]:
        if word in SEPARATORS or (word.endswith(")") and not command):
            if command:
                yield command
            command = []
        elif command or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", word):
            command.append(word)


def _shell_words(path):
    """The programs a shell script runs: the command word of each simple command (in $(...)
    too), the commands that wrappers and the script's own functions are given."""
    text = read(path)
    functions = set(re.findall(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(\)", text, re.M))
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split(" #", 1)[0] if not line.lstrip().startswith("#") else ""
        for part in [line] + re.findall(r"\$\(([^()]*)\)", line):
            for argv in _shell_commands(part):
                for word in _argv_programs(argv, WRAPPERS | functions):
                    if word not in SHELL_WORDS and word not in functions:
                        yield word, number, False


def programs(files, source):
    """The programs these scripts and test files run, resolved where Debian installs programs:
    [(path or name, "file:line runs NAME")]; a name that must be a program (which(),
    require_programs()) and is not found is returned as the bare name."""
    uses = []
    for path in files:
        with open(path, "rb") as f:
            python = path.endswith(".py") or b"python" in f.readline()
        words = _python_words(path) if python else _shell_words(path)
        where = os.path.relpath(path, source)
        for word, line, must_be_program in words:
            if not BARE_WORD.match(word):
                continue
            found = shutil.which(word, path=SYSTEM_PATH)
            if found or must_be_program:
                uses.append((found or word, f"{where}:{line} runs {word}"))
    return uses
