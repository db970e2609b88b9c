# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The symbolizer, through stallsym --json, against ground truth.

Fixture programs (fixtures/*.c, *.cpp) are built by the tests into their temporary directory.
What the symbolizer must answer comes from them, not from numbers written here: each function
of interest stores a mark of its own (an immediate no other instruction has) into a volatile,
so the address is found in the disassembly (objdump -d: one instruction with that immediate,
whatever the compiler did around it), and its source line is the one carrying the comment
"/* @tag */".  Processes print the runtime addresses of their functions; the mark's offset into
its function comes from the disassembly.  glibc is checked against eu-addr2line and GNU
addr2line.

Tests of files need no privileges (harness.Unprivileged); tests of processes and of the kernel
need root (harness.Test).
"""
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import time

from harness import ATTACH_TIMEOUT, Test, Unprivileged, assert_no_sanitizer_report, tool

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
STALLSYM = tool("stallsym")

INNER_MARK = 0x5A17C0DE  # fixtures/inline.c
ALPHA_MARK = 0xA1FA0001  # fixtures/target.c
BETA_MARK = 0xBE7A0002
ALPHA_LINE, BETA_LINE = "alpha-store", "beta-store"


def fixture(name):
    return os.path.join(FIXTURES, name)


def marked_line(source, tag):
    """The number of the line of source that carries the comment /* @tag */."""
    with open(source) as f:
        hits = [n for n, text in enumerate(f, 1) if f"/* @{tag} */" in text]
    assert len(hits) == 1, f"{source}: {len(hits)} lines marked @{tag}"
    return hits[0]


def run(*argv, **kwargs):
    """Runs a build step; its output is the failure message when it fails."""
    p = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    assert p.returncode == 0, f"{' '.join(argv)}: exit {p.returncode}\n{p.stdout}{p.stderr}"
    return p.stdout


def mark_address(binary, mark):
    """(address, function start) of the one instruction of binary with the immediate mark:
    ELF virtual addresses."""
    function, hits = None, []
    for line in run("objdump", "-d", "-w", "--no-show-raw-insn", binary).splitlines():
        header = re.match(r"^([0-9a-f]+) <(.*)>:$", line)
        if header:
            function = int(header.group(1), 16)
        elif re.search(rf"\$0x{mark:x},", line):
            hits.append((int(line.split(":")[0], 16), function))
    assert len(hits) == 1, f"{binary}: {len(hits)} instructions with the mark {mark:#x}"
    return hits[0]


def file_offset(binary, vaddr):
    """The file offset of a virtual address, from the program headers."""
    for line in run("readelf", "-lW", binary).splitlines():
        words = line.split()
        if words[:1] == ["LOAD"]:
            offset, start, filesz = int(words[1], 16), int(words[2], 16), int(words[4], 16)
            if start <= vaddr < start + filesz:
                return vaddr - start + offset
    raise AssertionError(f"{binary}: {vaddr:#x} is in no loaded segment")


def build_id(binary):
    m = re.search(r"Build ID: ([0-9a-f]+)", run("readelf", "-n", binary))
    return m.group(1) if m else None


def frames_of(doc):
    """(function, file, line, inlined) of each frame: what the tests compare."""
    return [(f["function"], f["file"], f["line"], f["inlined"]) for f in doc["frames"]]


class Symbolizer:
    """What the symbolizer tests share: building fixtures, and stallsym --json."""

    def build(self, source, name, *flags, compiler=None):
        """A fixture, compiled into the test's temporary directory (never into the tree)."""
        compiler = compiler or ("g++" if source.endswith(".cpp") else "gcc")
        self.require_programs(compiler, "objdump", "objcopy", "strip", "readelf")
        out = os.path.join(self.tmp.name, name)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        run(compiler, "-g", "-O2", *flags, "-o", out, fixture(source))
        return out

    def stallsym(self, *args, input=None):
        """stallsym --json ARGS, which must succeed: the parsed array of {addr, frames}."""
        p = subprocess.run([STALLSYM, "--json", *args], input=input, capture_output=True,
                           text=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def resolve_file(self, binary, addr, *args):
        (doc,) = self.stallsym(*args, "-e", binary, hex(addr))
        self.assertEqual(doc["addr"], hex(addr))
        return doc

    def assertSourceFrame(self, doc, function, source, tag, module, offset=None):
        """One frame, not inlined: function at source's line marked tag."""
        self.assertEqual(frames_of(doc), [(function, source, marked_line(source, tag), False)],
                         doc)
        frame = doc["frames"][0]
        self.assertEqual(frame["module"], module)
        self.assertFalse(frame["kernel"])
        if offset is not None:
            self.assertEqual(frame["offset"], offset)

    def assertModuleOnly(self, doc, module, module_offset):
        """No function, no line: the module and the offset in it, no borrowed name."""
        (frame,) = doc["frames"]
        self.assertEqual((frame["function"], frame["file"], frame["line"]), (None, None, 0), doc)
        self.assertEqual((frame["module"], frame["module_offset"]), (module, module_offset))


class InlinedCalls(Symbolizer, Unprivileged):
    def test_nested_always_inline(self):
        """outer() -> middle() -> inner(), both inlined at -O2: the address of inner's store
        is inner (inlined) at its line, middle (inlined) at its call of inner, outer at its
        call of middle."""
        self.assertNestedInline(self.build("inline.c", "inline"))

    def test_nested_always_inline_by_clang(self):
        """The same built by clang, whose DWARF 5 has no .debug_aranges: the units' own
        address ranges say which unit holds an address."""
        binary = self.build("inline.c", "inline-clang", compiler="clang-16")
        self.assertNotIn(".debug_aranges", run("readelf", "-SW", binary))
        self.assertNestedInline(binary)

    def test_asked_again_as_a_return_address(self):
        """The same code asked as where the thread was (X), then twice as a return address
        (X + 1, looked up at X): the same frames each time, each with its own offsets (what
        is kept of an answer must not lend the offsets of the first ask to the next)."""
        binary = self.build("inline.c", "inline")
        addr, outer_start = mark_address(binary, INNER_MARK)
        asked = (addr, addr + 1, addr + 1)
        docs = self.stallsym("-e", binary, "--stack", *map(hex, asked))
        self.assertEqual(len({str(frames_of(d)) for d in docs}), 1, docs)
        self.assertEqual(len(docs[0]["frames"]), 3)
        for doc, at in zip(docs, asked):
            self.assertEqual(doc["addr"], hex(at))
            self.assertEqual(doc["frames"][0]["offset"], at - outer_start)
            for frame in doc["frames"]:
                self.assertEqual(frame["module_offset"], file_offset(binary, at))

    def assertNestedInline(self, binary):
        source = fixture("inline.c")
        addr, outer_start = mark_address(binary, INNER_MARK)
        expected = [
            ("inner", source, marked_line(source, "inner-store"), True),
            ("middle", source, marked_line(source, "middle-calls-inner"), True),
            ("outer", source, marked_line(source, "outer-calls-middle"), False),
        ]
        doc = self.resolve_file(binary, addr)
        self.assertEqual(frames_of(doc), expected)
        for frame in doc["frames"]:
            self.assertEqual(frame["module"], binary)
            self.assertEqual(frame["module_offset"], file_offset(binary, addr))
            self.assertEqual(frame["build_id"], build_id(binary))
        # the innermost frame says where in the out-of-line function the address is
        self.assertEqual(doc["frames"][0]["offset"], addr - outer_start)

        # the same code by file offset (-o)
        (by_offset,) = self.stallsym("-e", binary, "-o", hex(file_offset(binary, addr)))
        self.assertEqual(frames_of(by_offset), expected)


class SeparateDebugFiles(Symbolizer, Unprivileged):
    """Stripped binaries whose debug information is in another file."""

    def setUp(self):
        super().setUp()
        self.source = fixture("target.c")
        self.empty_root = os.path.join(self.tmp.name, "no-debug-files")
        os.mkdir(self.empty_root)

    def split(self, binary, debug_file, strip="--strip-all"):
        """binary's debug information moved to debug_file; binary stripped."""
        os.makedirs(os.path.dirname(debug_file), exist_ok=True)
        run("objcopy", "--only-keep-debug", binary, debug_file)
        run("strip", strip, binary)
        self.assertNotIn(".debug_info", run("readelf", "-SW", binary))

    def debuglink(self, binary, debug_file):
        """A .gnu_debuglink to debug_file (its name, and the CRC of what it holds now)."""
        run("objcopy", f"--add-gnu-debuglink={debug_file}", binary)
        self.assertIn(".gnu_debuglink", run("readelf", "-SW", binary))

    def marks(self, binary):
        return {mark: mark_address(binary, mark) for mark in (ALPHA_MARK, BETA_MARK)}

    def assertResolves(self, binary, marks, *args):
        for mark, (function, tag) in ((ALPHA_MARK, ("target_alpha", ALPHA_LINE)),
                                      (BETA_MARK, ("target_beta", BETA_LINE))):
            addr, start = marks[mark]
            doc = self.resolve_file(binary, addr, *args)
            self.assertSourceFrame(doc, function, self.source, tag, binary, addr - start)
            self.assertEqual(doc["frames"][0]["module_offset"], file_offset(binary, addr))

    def test_debuglink_next_to_the_binary(self):
        binary = self.build("target.c", "next/target")
        marks = self.marks(binary)
        self.split(binary, binary + ".debug")
        self.debuglink(binary, binary + ".debug")
        self.assertResolves(binary, marks, "--debug-root", self.empty_root)

    def test_debuglink_in_debug_subdirectory(self):
        binary = self.build("target.c", "sub/target")
        marks = self.marks(binary)
        debug_file = os.path.join(self.tmp.name, "sub", ".debug", "target.debug")
        self.split(binary, debug_file)
        self.debuglink(binary, debug_file)
        self.assertResolves(binary, marks, "--debug-root", self.empty_root)

    def test_build_id_directory(self):
        """No debuglink: only the build-id directory under the debug root finds it."""
        binary = self.build("target.c", "bin/target")
        marks = self.marks(binary)
        bid = build_id(binary)
        self.assertIsNotNone(bid)
        root = os.path.join(self.tmp.name, "debug-root")
        self.split(binary, os.path.join(root, ".build-id", bid[:2], bid[2:] + ".debug"))
        self.assertNotIn(".gnu_debuglink", run("readelf", "-SW", binary))
        self.assertResolves(binary, marks, "--debug-root", root)
        # and without that root, nothing finds it
        addr, _ = marks[ALPHA_MARK]
        self.assertModuleOnly(self.resolve_file(binary, addr, "--debug-root", self.empty_root),
                              binary, file_offset(binary, addr))

    def test_debuglink_with_wrong_crc_is_not_used(self):
        """No build-id, so the CRC is all that tells the debug file is another build's: it must
        not be used.  Stripped whole: the module and offset; stripped of debug information
        only: the symbol table's name, without a line."""
        for strip, name in (("--strip-all", None), ("--strip-debug", "target_alpha")):
            with self.subTest(strip=strip):
                d = strip.lstrip("-")
                binary = self.build("target.c", f"{d}/target", "-Wl,--build-id=none")
                stale = self.build("target.c", f"{d}/stale", "-DSTALE", "-Wl,--build-id=none")
                self.assertIsNone(build_id(binary))
                addr, start = mark_address(binary, ALPHA_MARK)
                debug_file = binary + ".debug"
                self.split(binary, debug_file, strip)
                self.debuglink(binary, debug_file)
                # the right debug file is found and used ...
                doc = self.resolve_file(binary, addr, "--debug-root", self.empty_root)
                self.assertSourceFrame(doc, "target_alpha", self.source, ALPHA_LINE, binary)
                # ... and another build's, under the same name, is not
                run("objcopy", "--only-keep-debug", stale, debug_file)
                doc = self.resolve_file(binary, addr, "--debug-root", self.empty_root)
                (frame,) = doc["frames"]
                self.assertEqual((frame["function"], frame["file"], frame["line"]),
                                 (name, None, 0), doc)
                self.assertEqual((frame["module"], frame["module_offset"]),
                                 (binary, file_offset(binary, addr)))
                if name:
                    self.assertEqual(frame["offset"], addr - start)

    def test_debug_file_of_another_build_id_is_not_used(self):
        """With a build-id, a debug file of the same name but another build is not used."""
        binary = self.build("target.c", "bid/target")
        stale = self.build("target.c", "bid/stale", "-DSTALE")
        self.assertNotEqual(build_id(binary), build_id(stale))
        addr, _ = mark_address(binary, ALPHA_MARK)
        self.split(binary, binary + ".debug")
        self.debuglink(binary, binary + ".debug")
        run("objcopy", "--only-keep-debug", stale, binary + ".debug")
        self.assertModuleOnly(self.resolve_file(binary, addr, "--debug-root", self.empty_root),
                              binary, file_offset(binary, addr))


class MiniDebugInfo(Symbolizer, Unprivileged):
    def test_gnu_debugdata_names_functions(self):
        """Stripped, with .gnu_debugdata as Fedora builds it (an xz-compressed ELF holding the
        symbols of the functions that .dynsym lacks): function names, no lines."""
        self.require_programs("xz", "nm")
        binary = self.build("target.c", "mini/target")
        marks = {m: mark_address(binary, m) for m in (ALPHA_MARK, BETA_MARK)}
        d = os.path.dirname(binary)

        def defined(*args):
            return {line.split()[0]: line.split()[1]
                    for line in run("nm", *args, "--format=posix", "--defined-only",
                                    binary).splitlines()}

        dynamic = defined("-D")
        keep = sorted(s for s, t in defined().items() if t in "Tt" and s not in dynamic)
        self.assertIn("target_alpha", keep)
        with open(os.path.join(d, "keep_symbols"), "w") as f:
            f.write("\n".join(keep) + "\n")
        run("objcopy", "--only-keep-debug", binary, os.path.join(d, "debug"))
        run("objcopy", "-S", "--remove-section", ".gdb_index", "--remove-section", ".comment",
            f"--keep-symbols={os.path.join(d, 'keep_symbols')}", os.path.join(d, "debug"),
            os.path.join(d, "mini_debuginfo"))
        run("strip", "--strip-all", "-R", ".comment", binary)
        run("xz", os.path.join(d, "mini_debuginfo"))
        run("objcopy", f"--add-section=.gnu_debugdata={os.path.join(d, 'mini_debuginfo.xz')}",
            binary)
        os.unlink(os.path.join(d, "debug"))
        sections = run("readelf", "-SW", binary)
        self.assertIn(".gnu_debugdata", sections)
        self.assertNotIn(".symtab", sections)

        empty_root = os.path.join(self.tmp.name, "no-debug-files")
        os.mkdir(empty_root)
        for mark, function in ((ALPHA_MARK, "target_alpha"), (BETA_MARK, "target_beta")):
            addr, start = marks[mark]
            doc = self.resolve_file(binary, addr, "--debug-root", empty_root)
            (frame,) = doc["frames"]
            self.assertEqual((frame["function"], frame["file"], frame["line"]),
                             (function, None, 0), doc)
            self.assertEqual(frame["offset"], addr - start)
            self.assertEqual((frame["module"], frame["module_offset"]),
                             (binary, file_offset(binary, addr)))


class CppNames(Symbolizer, Unprivileged):
    # mark -> (demangled name, line tag) in fixtures/widget.cpp
    NAMES = {
        0x70C1004: ("ns::Widget<int>::poke(int)", "poke-int"),
        0x70C2004: ("ns::Widget<int>::poke(double)", "poke-double"),
        0x70C1008: ("ns::Widget<double>::poke(int)", "poke-int"),
        0x70C2008: ("ns::Widget<double>::poke(double)", "poke-double"),
        0x70C3004: ("ns::Widget<int>::operator==(ns::Widget<int> const&) const", "operator-eq"),
        0x70C3008: ("ns::Widget<double>::operator==(ns::Widget<double> const&) const",
                    "operator-eq"),
        0x70C4001: ("ns::detail::tune(char const*)", "tune-chars"),
        0x70C4002: ("ns::detail::tune(long)", "tune-long"),
    }

    def test_demangled_from_dwarf(self):
        """Namespaces, templates, overloads, an operator: demangled, with file and line."""
        binary = self.build("widget.cpp", "widget")
        source = fixture("widget.cpp")
        for mark, (name, tag) in self.NAMES.items():
            with self.subTest(name=name):
                addr, start = mark_address(binary, mark)
                self.assertSourceFrame(self.resolve_file(binary, addr), name, source, tag,
                                       binary, addr - start)

    def test_demangled_from_the_symbol_table(self):
        """Without debug information, the symbol table's names are demangled, as nm -C
        demangles them."""
        self.require_programs("nm")
        binary = self.build("widget.cpp", "widget")
        marks = {mark: mark_address(binary, mark) for mark in self.NAMES}
        run("strip", "--strip-debug", binary)
        demangled = {}
        for line in run("nm", "-C", "--defined-only", binary).splitlines():
            words = line.split(maxsplit=2)
            if len(words) == 3 and words[1] in "TtWw":
                demangled.setdefault(int(words[0], 16), words[2])
        empty_root = os.path.join(self.tmp.name, "no-debug-files")
        os.mkdir(empty_root)
        for mark, (addr, start) in marks.items():
            with self.subTest(name=self.NAMES[mark][0]):
                (frame,) = self.resolve_file(binary, addr, "--debug-root", empty_root)["frames"]
                self.assertEqual((frame["function"], frame["file"], frame["offset"]),
                                 (demangled[start], None, addr - start))
                self.assertTrue(frame["function"].startswith(self.NAMES[mark][0]),
                                frame["function"])


class Processes(Symbolizer, Test):
    """Live processes whose binary is not where its path says: stallsym -p PID ADDR."""

    def setUp(self):
        super().setUp()
        self.source = fixture("target.c")
        self.binary = self.build("target.c", "built/target")
        self.marks = {m: mark_address(self.binary, m) for m in (ALPHA_MARK, BETA_MARK)}

    def start_target(self, argv, **kwargs):
        """fixtures/target.c started: (process, runtime addresses of alpha's and beta's
        marks)."""
        proc = self.start(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                          **kwargs)
        printed = {}
        for _ in range(2):
            line = proc.stdout.readline()
            self.assertRegex(line, r"^(alpha|beta) 0x[0-9a-f]+$", "the target did not start")
            printed[line.split()[0]] = int(line.split()[1], 16)
        runtime = {}
        for mark, name in ((ALPHA_MARK, "alpha"), (BETA_MARK, "beta")):
            addr, start = self.marks[mark]
            runtime[mark] = printed[name] + addr - start
        return proc, runtime

    def maps_path(self, pid, addr):
        with open(f"/proc/{pid}/maps") as f:
            for line in f:
                words = line.split(maxsplit=5)
                lo, hi = (int(x, 16) for x in words[0].split("-"))
                if lo <= addr < hi:
                    return words[5].rstrip("\n") if len(words) > 5 else ""
        raise AssertionError(f"{addr:#x} is not mapped in {pid}")

    def assertResolves(self, docs, runtime, module):
        self.assertEqual([d["addr"] for d in docs], [hex(runtime[ALPHA_MARK]),
                                                     hex(runtime[BETA_MARK])])
        for doc, mark, function, tag in ((docs[0], ALPHA_MARK, "target_alpha", ALPHA_LINE),
                                         (docs[1], BETA_MARK, "target_beta", BETA_LINE)):
            addr, start = self.marks[mark]
            self.assertSourceFrame(doc, function, self.source, tag, module, addr - start)
            self.assertEqual(doc["frames"][0]["module_offset"], file_offset(self.binary, addr))
            self.assertEqual(doc["frames"][0]["build_id"], build_id(self.binary))

    def query(self, pid, runtime):
        return self.stallsym("-p", str(pid), hex(runtime[ALPHA_MARK]), hex(runtime[BETA_MARK]))

    def test_memfd(self):
        """Run from a memfd: a process copies the binary into a memfd and fexecve()s it
        (execveat(fd, "", AT_EMPTY_PATH)); the code has no path on any file system."""
        launch = ("import os, sys\n"
                  "fd = os.memfd_create('stallkit-target')\n"
                  "data = open(sys.argv[1], 'rb').read()\n"
                  "while data:\n"
                  "    data = data[os.write(fd, data):]\n"
                  "os.execve(fd, ['stallkit-target'], os.environ)\n")
        proc, runtime = self.start_target([sys.executable, "-c", launch, self.binary])
        module = self.maps_path(proc.pid, runtime[ALPHA_MARK])
        self.assertEqual(module, "/memfd:stallkit-target (deleted)")
        self.assertResolves(self.query(proc.pid, runtime), runtime, module)

    def test_deleted_binary(self):
        exe = os.path.join(self.tmp.name, "deleted-target")
        shutil.copy(self.binary, exe)
        proc, runtime = self.start_target([exe])
        os.unlink(exe)
        module = self.maps_path(proc.pid, runtime[ALPHA_MARK])
        self.assertEqual(module, exe + " (deleted)")
        self.assertResolves(self.query(proc.pid, runtime), runtime, module)

    def test_private_mount_namespace(self):
        """The binary is on a tmpfs mounted only in the process's own mount namespace (unshare
        -m, private propagation: the host's mounts are not touched, and the tmpfs goes with
        the namespace when the process ends)."""
        self.require_programs("unshare")
        mountpoint = os.path.join(self.tmp.name, "private")
        os.mkdir(mountpoint)
        script = 'mount -t tmpfs stallkit-test "$1" && cp "$2" "$1/target" && exec "$1/target"'
        proc, runtime = self.start_target(["unshare", "--mount", "--propagation", "private",
                                           "sh", "-c", script, "sh", mountpoint, self.binary])
        exe = os.path.join(mountpoint, "target")
        self.assertFalse(os.path.exists(exe), "the tmpfs is not mounted in our namespace")
        module = self.maps_path(proc.pid, runtime[ALPHA_MARK])
        self.assertEqual(module, exe)
        self.assertResolves(self.query(proc.pid, runtime), runtime, module)

    def test_exited_before_the_report(self):
        """stallsym notes the process, then reads addresses from standard input; the process
        is killed, reaped and its binary deleted before the addresses come."""
        exe = os.path.join(self.tmp.name, "exiting-target")
        shutil.copy(self.binary, exe)
        target, runtime = self.start_target([exe])
        sym = self.start([STALLSYM, "--json", "-p", str(target.pid)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.wait_reading_stdin(sym)
        target.kill()
        target.wait()
        os.unlink(exe)
        self.assertFalse(os.path.exists(f"/proc/{target.pid}"))
        out, err = sym.communicate(f"{runtime[ALPHA_MARK]:#x}\n{runtime[BETA_MARK]:#x}\n",
                                   timeout=60)
        self.assertEqual(sym.returncode, 0, err)
        self.assertResolves(json.loads(out), runtime, exe)

    def wait_reading_stdin(self, proc):
        """Until proc waits in read(0, ...): it has done what comes before reading."""
        read_nr = {"x86_64": 0, "aarch64": 63}.get(os.uname().machine)
        if read_nr is None:
            self.skipTest(f"the number of read() on {os.uname().machine} is not known here")
        deadline = time.monotonic() + ATTACH_TIMEOUT
        while time.monotonic() < deadline:
            self.assertIsNone(proc.poll(), "stallsym ended early")
            try:
                with open(f"/proc/{proc.pid}/syscall") as f:
                    if f.read().startswith(f"{read_nr} 0x0 "):  # read(0, ...)
                        return
            except OSError:
                pass
            time.sleep(0.02)
        self.fail("stallsym does not read its standard input")

    def test_vdso(self):
        """__vdso_clock_gettime of a live process: its offset from the vDSO's own ELF (copied
        out of the process's memory), its runtime address from /proc/PID/maps."""
        proc, _ = self.start_target([self.binary])
        with open(f"/proc/{proc.pid}/maps") as f:
            (line,) = [l for l in f if l.rstrip().endswith("[vdso]")]
        lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
        with open(f"/proc/{proc.pid}/mem", "rb") as mem:
            mem.seek(lo)
            image = mem.read(hi - lo)
        symbols, base = elf_dynamic_symbols(image)
        value, size = symbols["__vdso_clock_gettime"]
        self.assertGreater(size, 4)
        addr = lo + value - base + 4
        (doc,) = self.stallsym("-p", str(proc.pid), hex(addr))
        (frame,) = doc["frames"]
        self.assertIn("clock_gettime", frame["function"] or "", doc)
        self.assertEqual((frame["module"], frame["offset"], frame["kernel"]), ("[vdso]", 4, False))


def elf_dynamic_symbols(image):
    """({name: (value, size)} of .dynsym, virtual address of file offset 0) of an ELF64
    little-endian image."""
    assert image[:4] == b"\x7fELF" and image[4] == 2 and image[5] == 1, "not ELF64 LE"
    (phoff, shoff) = struct.unpack_from("<QQ", image, 0x20)
    phentsize, phnum, shentsize, shnum = struct.unpack_from("<HHHH", image, 0x36)
    sections = [struct.unpack_from("<IIQQQQIIQQ", image, shoff + i * shentsize)
                for i in range(shnum)]
    symbols = {}
    for _, kind, _, _, offset, size, link, _, _, entsize in sections:
        if kind != 11:  # SHT_DYNSYM
            continue
        strings = sections[link][4]
        for k in range(size // entsize):
            name, _, _, _, value, length = struct.unpack_from("<IBBHQQ", image,
                                                              offset + k * entsize)
            end = image.index(b"\0", strings + name)
            symbols[image[strings + name:end].decode()] = (value, length)
    for i in range(phnum):
        kind, _, offset, vaddr = struct.unpack_from("<IIQQ", image, phoff + i * phentsize)
        if kind == 1:  # PT_LOAD
            return symbols, vaddr - offset
    raise AssertionError("no PT_LOAD")


class JitMap(Symbolizer, Test):
    def test_perf_map_in_pid_namespace(self):
        """A JIT in its own PID namespace names its code in /tmp/perf-1.map, 1 being its PID
        as it sees it; the rest of the system knows it by another."""
        self.require_programs("unshare")
        self.build("jit.c", "jit")
        created = []

        def remove_map():
            for path in created:
                if os.path.exists(path):
                    os.unlink(path)
        self.addCleanup(remove_map)
        # --kill-child: the JIT dies with unshare, which cleanup kills if it must
        proc = self.start(["unshare", "--pid", "--fork", "--mount-proc", "--kill-child",
                           os.path.join(self.tmp.name, "jit")],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        facts = {}
        for _ in range(3):
            words = proc.stdout.readline().split(maxsplit=1)
            self.assertEqual(len(words), 2, "the JIT did not start")
            facts[words[0]] = words[1]
        self.assertEqual(set(facts), {"pid", "code", "name"})
        nspid = int(facts["pid"])
        perf_map = f"/tmp/perf-{nspid}.map"
        created.append(perf_map)
        start, size = (int(x, 0) for x in facts["code"].split())
        name = facts["name"].strip()
        # the JIT is the child of unshare; its PID here is not the one it sees
        with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as f:
            (host_pid,) = (int(p) for p in f.read().split())
        self.assertNotEqual(host_pid, nspid)
        self.assertFalse(os.path.exists(f"/tmp/perf-{host_pid}.map"))
        self.assertTrue(os.path.exists(perf_map))

        (doc,) = self.stallsym("-p", str(host_pid), hex(start + size // 2))
        (frame,) = doc["frames"]
        self.assertEqual((frame["function"], frame["offset"], frame["module"], frame["file"]),
                         (name, size // 2, "[jit]", None))
        proc.stdin.close()
        self.assertEqual(proc.wait(30), 0)


class GlibcGroundTruth(Symbolizer, Unprivileged):
    ADDRESSES = 3000

    def sample(self):
        """The system glibc, its debug file (libc6-dbg), the seed (STALLKIT_SEED, 1 by default),
        ADDRESSES random addresses of its .text, sorted, and them as input lines."""
        libc = loaded_libc()
        bid = build_id(libc)
        debug = f"/usr/lib/debug/.build-id/{bid[:2]}/{bid[2:]}.debug"
        if not os.path.exists(debug):
            self.skipTest(f"no debug file for {libc} (libc6-dbg; scripts/setup test)")
        m = re.search(r"\.text\s+PROGBITS\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)",
                      run("readelf", "-SW", libc))
        text_start, text_size = int(m.group(1), 16), int(m.group(2), 16)
        seed = int(os.environ.get("STALLKIT_SEED", "1"))
        addrs = sorted(random.Random(seed).sample(range(text_start, text_start + text_size),
                                                  self.ADDRESSES))
        return libc, debug, seed, addrs, "".join(f"{a:#x}\n" for a in addrs)

    def test_agrees_with_eu_addr2line(self):
        """3000 random addresses of the system glibc's .text (debug information from
        libc6-dbg): function, file and line of every frame, inlined ones too, as
        eu-addr2line -a -f -i has them.

        eu-addr2line 0.188 looks up the inline callers (-i) at the start of the line-table row
        that holds the address, not at the address: where that start lies in another inlined
        instance, its callers contradict its own first line ("X inlined at F:L in Y").  There,
        the first line is the truth for the address: frame 0 must agree with it, and our first
        caller's file:line with its "inlined at F:L" (or there is no caller when it names
        none).  Such addresses must stay under 1%."""
        self.require_programs("eu-addr2line", "readelf")
        libc, _, seed, addrs, text = self.sample()
        eu = parse_eu_addr2line(run("eu-addr2line", "-a", "-f", "-i", "-e", libc, input=text))
        ours = self.stallsym("-e", libc, input=text)
        self.assertEqual([r.addr for r in eu], addrs)
        self.assertEqual([int(d["addr"], 16) for d in ours], addrs)

        mismatches, contradictions, inlined = [], [], 0
        for e, doc in zip(eu, ours):
            got = [(f["function"] or "??", f["file"], f["line"]) for f in doc["frames"]]
            inlined += len(got) > 1
            if e.contradicts_itself():
                contradictions.append(e.addr)
                want = "frame 0 and the first caller's file:line of eu's first line"
                ok = got[:1] == e.frames[:1] and (
                    [g[1:] for g in got[1:2]] == [e.pass1_call] if e.pass1_call else
                    len(got) == 1)
            else:
                want = "every frame of eu"
                ok = got == e.frames
            if not ok:
                mismatches.append(f"{e.addr:#x}: want {want}\n  eu-addr2line: {e.frames} "
                                  f"(first line: inlined at {e.pass1_call})\n  stallsym:     "
                                  f"{got}")
        self.assertEqual(mismatches, [], f"seed {seed}: {len(mismatches)} of {len(addrs)} "
                         "addresses differ:\n" + "\n".join(mismatches[:10]))
        self.assertLess(len(contradictions), len(addrs) / 100,
                        f"seed {seed}: eu-addr2line contradicts itself at "
                        f"{[hex(a) for a in contradictions]}")
        # the check means something: inlined code is common in glibc
        self.assertGreater(inlined, len(addrs) / 20)


    def test_agrees_with_gnu_addr2line(self):
        """The same addresses against GNU addr2line -a -f -i, which reads DWARF with its own
        code (BFD), not libdw as eu-addr2line and stallsym do: for every address both name,
        the same function (or an alias of it: the same symbol value, as nm has them) and line
        for each frame of the inline chain.  GNU names the nearest symbol below an address
        even past the symbol's end (the padding between functions), where stallsym names none;
        any other address one of them names, the other names too."""
        self.require_programs("addr2line", "nm", "readelf")
        libc, debug, seed, addrs, text = self.sample()
        gnu = parse_gnu_addr2line(run("addr2line", "-a", "-f", "-i", "-e", libc, input=text))
        ours = self.stallsym("-e", libc, input=text)
        self.assertEqual(len(gnu), len(addrs))
        symbols = {}  # name -> [(value, size)], from the debug file's .symtab and the .dynsym
        for line in (run("nm", "-S", debug) + run("nm", "-S", "-D", libc)).splitlines():
            words = line.split()
            if len(words) == 4:
                symbols.setdefault(words[3].split("@")[0], []).append(
                    (int(words[0], 16), int(words[1], 16)))

        def same_function(a, b):
            return a == b or any(v == w for v, _ in symbols.get(a, [])
                                 for w, _ in symbols.get(b, []))

        mismatches, padding, compared = [], 0, 0
        for addr, theirs, doc in zip(addrs, gnu, ours):
            got = [(f["function"], f["line"]) for f in doc["frames"]]
            if got[0][0] is None and theirs[0][0] != "??":
                # their symbol must end before the address
                inside = [(v, n) for v, n in symbols.get(theirs[0][0], []) if v <= addr < v + n]
                padding += not inside
                if inside:
                    mismatches.append(f"{addr:#x}: GNU {theirs[0][0]}, stallsym nothing")
                continue
            if got[0][0] is None or theirs[0][0] == "??":
                if (got[0][0] is None) != (theirs[0][0] == "??"):
                    mismatches.append(f"{addr:#x}: GNU {theirs}, stallsym {got}")
                continue
            compared += 1
            if len(got) != len(theirs) or not all(
                    same_function(g[0], t[0]) and g[1] == t[2] for g, t in zip(got, theirs)):
                mismatches.append(f"{addr:#x}: GNU {theirs}\n  stallsym {got}")
        self.assertEqual(mismatches, [], f"seed {seed}: {len(mismatches)} differ:\n"
                         + "\n".join(mismatches[:10]))
        self.assertGreater(compared, len(addrs) * 0.9)
        self.assertLess(padding, len(addrs) / 20)


def parse_gnu_addr2line(text):
    """addr2line -a -f -i output: per address, [(function, file, line)] innermost first."""
    records = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("0x"):
            records.append([])
            i += 1
            continue
        where = re.match(r"^(.*?):(\d+|\?)", lines[i + 1])
        records[-1].append((lines[i], where.group(1) if where else None,
                            int(where.group(2)) if where and where.group(2).isdigit() else 0))
        i += 2
    return records


def loaded_libc():
    """The C library this Python runs with: the system's glibc."""
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            if os.path.basename(path) == "libc.so.6":
                return os.path.realpath(path)
    raise AssertionError("no libc.so.6 in /proc/self/maps")


class EuRecord:
    """One address in eu-addr2line -a -f -i output."""

    INLINED = re.compile(r"^(?P<name>.*?) inlined (?:at (?P<file>.*?):(?P<line>\d+)(?::\d+)?"
                         r"|from (?P<from>.*)) in .*$")

    def __init__(self, addr, pairs):
        self.addr = addr
        self.frames = []  # (function, file, line): the first line's frame, then the -i callers
        self.pass1_call = None  # (file, line) of the first line's "inlined at F:L"
        for i, (name, where) in enumerate(pairs):
            m = self.INLINED.match(name) if i == 0 else None
            if m:
                name = m.group("name")
                self.pass1_call = ((m.group("file"), int(m.group("line"))) if m.group("file")
                                   else (m.group("from"), 0))
            src = re.match(r"^(.*?):(\d+)(?::\d+)?$", where)
            self.frames.append((name, None, 0) if where == "??:0" or not src else
                               (name, src.group(1), int(src.group(2))))

    def contradicts_itself(self):
        """The -i callers disagree with the first line about the first call site."""
        callers = self.frames[1:]
        if self.pass1_call is None:
            return bool(callers)
        return not callers or callers[0][1:] != self.pass1_call


def parse_eu_addr2line(text):
    records, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        assert re.match(r"^0x[0-9a-f]+$", lines[i]), lines[i]
        addr, i, pairs = int(lines[i], 16), i + 1, []
        while i < len(lines) and not re.match(r"^0x[0-9a-f]+$", lines[i]):
            pairs.append((lines[i], lines[i + 1]))
            i += 2
        records.append(EuRecord(addr, pairs))
    return records


class KernelAddresses(Symbolizer, Test):
    def kallsyms(self):
        """{name: address} of the kernel's own text symbols, and the end of its text."""
        text, etext = {}, None
        with open("/proc/kallsyms") as f:
            for line in f:
                words = line.split()
                if len(words) != 3:
                    continue  # a module's
                addr = int(words[0], 16)
                if words[2] == "_etext":
                    etext = addr
                if words[1] in "tTwW":
                    text.setdefault(words[2], []).append(addr)
        if not any(a for addrs in text.values() for a in addrs):
            self.skipTest("kallsyms hides the addresses (kptr_restrict)")
        return text, etext

    def test_function_and_inside_it(self):
        text, _ = self.kallsyms()
        (addr,) = text["do_sys_poll"]
        following = min(a for addrs in text.values() for a in addrs if a > addr)
        self.assertGreater(following, addr + 4)
        docs = self.stallsym("-k", hex(addr), hex(addr + 4))
        for doc, offset in zip(docs, (0, 4)):
            (frame,) = doc["frames"]
            self.assertEqual((frame["function"], frame["offset"], frame["module"],
                              frame["kernel"], frame["file"]),
                             ("do_sys_poll", offset, "[kernel]", True, None))

    def test_beyond_the_text_borrows_no_name(self):
        """Past the last text symbol (_etext, _etext + 0x100: read-only data) there is no
        function."""
        text, etext = self.kallsyms()
        self.assertIsNotNone(etext)
        addr = etext + 0x100
        self.assertFalse([n for n, addrs in text.items() for a in addrs
                          if etext < a <= addr], "no text symbol is there")
        for doc in self.stallsym("-k", hex(etext), hex(addr)):
            (frame,) = doc["frames"]
            self.assertEqual((frame["function"], frame["module"], frame["kernel"]),
                             (None, None, True), doc)


class BadInput(Symbolizer, Unprivileged):
    def sym(self, *args, input=None):
        p = subprocess.run([STALLSYM, *args], input=input, capture_output=True, text=True,
                           timeout=60)
        assert_no_sanitizer_report(p.stderr)
        return p.returncode, p.stderr

    def test_process_that_does_not_exist(self):
        gone = subprocess.Popen(["true"])
        gone.wait()
        rc, err = self.sym("-p", str(gone.pid), "0x1000")
        self.assertEqual(rc, 1, err)
        self.assertIn(f"no process with PID {gone.pid}", err)

    def test_no_target(self):
        for args in ((), ("0x1000",), ("--json", "0x1000")):
            with self.subTest(args=args):
                rc, err = self.sym(*args)
                self.assertEqual(rc, 2, err)
                self.assertTrue(err.startswith("stallsym: say whose addresses"), err)

    def test_address_not_hexadecimal(self):
        for addr in ("xyz", "0x", "12g", "+5", "0x-1", "10000000000000000"):
            with self.subTest(addr=addr):
                rc, err = self.sym("-e", "/bin/true", addr)
                self.assertEqual(rc, 2, err)
                self.assertIn("not a hexadecimal address", err)
                rc, err = self.sym("-e", "/bin/true", input=f"0x1000 {addr}\n")
                self.assertEqual(rc, 2, err)

    def test_not_an_elf_file(self):
        rc, err = self.sym("-e", "/etc/passwd", "0x1000")
        self.assertEqual(rc, 1, err)
        self.assertIn("/etc/passwd", err)


class HugePageHeap(Unprivileged):
    """The tools run with glibc's malloc on transparent huge pages (libbpf-common/heap.c): a
    tool started without malloc tunables runs itself again with them, the same process with
    the same arguments; a malloc tunable the user set is left as it is."""

    def environment_of_running_stallsym(self, env):
        """GLIBC_TUNABLES as a running stallsym has it, and the answer it then gives."""
        p = subprocess.Popen([STALLSYM, "-e", "/bin/true"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            p.stdin.write("0x1000\n")
            p.stdin.flush()
            first = p.stdout.readline()  # it has started and answered: main() ran
            with open(f"/proc/{p.pid}/environ", "rb") as f:
                environ = dict(v.split(b"=", 1) for v in f.read().split(b"\0") if b"=" in v)
        finally:
            out, err = p.communicate("", timeout=30)
        self.assertEqual(p.returncode, 0, err)
        self.assertEqual(first, "0x1000\n")
        return environ.get(b"GLIBC_TUNABLES", b"").decode()

    def test_tunables_added(self):
        """(ld.so rewrites the variable as it parses it, and /proc/PID/environ shows what it
        kept: the first tunable, or none of ours where others were set before.  The release
        build's heap is marked for huge pages all the same, which a sanitizer build, whose
        allocator is not glibc's, cannot show.)"""
        env = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"}
        self.assertTrue(self.environment_of_running_stallsym(env).startswith(
            "glibc.malloc.hugetlb=1"))

    def test_users_malloc_tunable_kept(self):
        env = dict(os.environ, GLIBC_TUNABLES="glibc.malloc.tcache_count=0")
        self.assertEqual(self.environment_of_running_stallsym(env), "glibc.malloc.tcache_count=0")
