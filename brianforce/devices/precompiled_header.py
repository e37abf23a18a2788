"""A precompiled header for Brian2's ``cpp_standalone`` projects (GCC).

Every generated source file of a project includes ``objects.h`` and the standard headers it
needs; parsing them takes most of the compiler's time for a small code object (about 0.3 s of
0.4 s here). :func:`precompiled_header` makes the project compile those headers once: it writes
``bf_pch.h`` (the standard headers and ``objects.h``) into the project and adds to Brian2's
makefile a rule building ``bf_pch.h.gch`` with the project's own flags, on which every object
file depends, and ``-include bf_pch.h`` to the compiler flags. Each source file then starts
from the compiled headers; its own ``#include`` lines are skipped by the headers' include
guards, so the program is the same (its results are bit-identical, tested). ``objects.cpp``, the
largest file, is compiled without it, in parallel with the header. Every object then depends on
every header, so Brian2's serial dependency scan (``make.deps``, one ``-MM`` pass over all
sources before anything compiles) is skipped. A ``.gch`` that
does not match the flags is ignored by GCC, which then reads the headers as before.

Brian2 only rewrites a file whose text changed, so the makefile is patched before it is
written: an unchanged project recompiles nothing.
"""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
from contextlib import contextmanager

__all__ = ["PCH_HEADER", "PCH_TEXT", "patch_makefile", "compiler_is_gcc", "precompiled_header"]

#: Name of the header compiled once per project.
PCH_HEADER = "bf_pch.h"
#: Its text: the standard headers of Brian2's generated code, then the project's ``objects.h``.
PCH_TEXT = "".join(f"#include<{h}>\n" for h in ("cmath", "ctime", "iostream", "fstream", "climits", "vector",
                                                 "random", "algorithm", "map", "set", "utility", "thread")) \
    + '#include "objects.h"\n#include "brianlib/common_math.h"\n'

_MARK = "DEPS = make.deps\n"
_DEPS_RULE = "\t$(CXX) $(CXXFLAGS) -MM $(SRCS) > make.deps"


def patch_makefile(text: str) -> str:
    """Brian2's makefile ``text`` with the precompiled-header rule (unchanged if already patched)."""
    if PCH_HEADER in text or _MARK not in text:
        return text
    flags = (f"PCH = {PCH_HEADER}\n"
             "PCHFLAGS := $(CXXFLAGS)\n"
             "CXXFLAGS += -include $(PCH) -Winvalid-pch\n")
    # objects.cpp (the largest file) compiles without the header, alongside it
    rules = ("\n$(PCH).gch: $(PCH) $(H_SRCS) makefile\n"
             "\t$(CXX) $(PCHFLAGS) -x c++-header $(PCH) -o $@\n"
             "\n$(filter-out objects.o,$(OBJS)): $(PCH).gch\n"
             "objects.o: CXXFLAGS := $(PCHFLAGS)\n")
    # Brian2 lists each object's headers in make.deps with one serial `-MM` pass over every source
    # before anything compiles; with the header rule every object already depends on every header
    # (objects.o directly), so the list is written without it
    if _DEPS_RULE in text:
        text = text.replace(_DEPS_RULE, "\t@echo '# every object depends on every header (rules below)' > make.deps")
        rules += "objects.o: $(H_SRCS)\n"
    return text.replace(_MARK, _MARK + flags, 1) + rules


@functools.lru_cache(maxsize=None)
def compiler_is_gcc(cxx: str | None = None) -> bool:
    """Whether ``cxx`` (default ``$CXX``, else ``g++``, make's default) is GCC."""
    exe = shutil.which(cxx or os.environ.get("CXX") or "g++")
    if exe is None:
        return False
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "Free Software Foundation" in out and "clang" not in out.lower()


@contextmanager
def precompiled_header(device, enabled: bool = True):
    """While active, ``device.build`` writes a project compiled with a precompiled header.

    Only for Brian2's own ``cpp_standalone`` device with GCC (not MSVC, clang or Brian2CUDA);
    otherwise, or with ``enabled=False``, the project is left as Brian2 writes it.
    """
    from brian2.devices.cpp_standalone.device import CPPStandaloneDevice

    if not (enabled and type(device) is CPPStandaloneDevice and compiler_is_gcc()):
        yield
        return
    original = device.generate_makefile

    def generate_makefile(writer, compiler, *args, **kwargs):
        if compiler == "msvc":
            return original(writer, compiler, *args, **kwargs)
        write = writer.write

        def patched_write(filename, contents):
            if filename == "makefile":
                write(PCH_HEADER, PCH_TEXT)
                contents = patch_makefile(contents)
            return write(filename, contents)

        writer.write = patched_write
        try:
            return original(writer, compiler, *args, **kwargs)
        finally:
            del writer.write

    device.generate_makefile = generate_makefile
    try:
        yield
    finally:
        del device.generate_makefile
