"""Resident memory of this process: what the engine budgets its tiles against, and the peak
that tests, benchmarks and the export probe compare with the cap."""
from __future__ import annotations

import os

MB = 1 << 20


def _ru_maxrss_mb() -> float:
    if os.name == "nt":
        return _windows_memory()[1]
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (MB if os.uname().sysname == "Darwin" else 1024)


def _windows_memory() -> tuple[float, float]:
    """(working set, peak working set) in MB, from GetProcessMemoryInfo."""
    import ctypes
    from ctypes import wintypes

    class Counters(ctypes.Structure):
        _fields_ = [("cb", wintypes.DWORD), ("PageFaultCount", wintypes.DWORD),
                    ("PeakWorkingSetSize", ctypes.c_size_t), ("WorkingSetSize", ctypes.c_size_t),
                    ("QuotaPeakPagedPoolUsage", ctypes.c_size_t), ("QuotaPagedPoolUsage", ctypes.c_size_t),
                    ("QuotaPeakNonPagedPoolUsage", ctypes.c_size_t), ("QuotaNonPagedPoolUsage", ctypes.c_size_t),
                    ("PagefileUsage", ctypes.c_size_t), ("PeakPagefileUsage", ctypes.c_size_t)]

    c = Counters()
    c.cb = ctypes.sizeof(c)
    handle = ctypes.windll.kernel32.GetCurrentProcess()  # type: ignore[attr-defined]
    ctypes.windll.psapi.GetProcessMemoryInfo(handle, ctypes.byref(c), c.cb)  # type: ignore[attr-defined]
    return c.WorkingSetSize / MB, c.PeakWorkingSetSize / MB


def rss_mb() -> float:
    """Current resident memory (Linux: exact; elsewhere the peak, which errs on the safe,
    smaller-tile side)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MB
    except (OSError, ValueError, AttributeError):
        return _windows_memory()[0] if os.name == "nt" else _ru_maxrss_mb()


def peak_rss_mb() -> float:
    """Peak resident memory of this process image. Linux: VmHWM, which starts afresh at exec;
    getrusage's ru_maxrss does not, and reports a big parent's peak in a small child."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return _ru_maxrss_mb()


def steady_heap() -> None:
    """glibc raises its mmap threshold each time a large block is freed, so later page-sized
    buffers come from the heap and stay resident after they are freed: a batch's later pages
    would find earlier pages' memory still taken. A fixed threshold returns them to the system.
    Called by the CLI (it owns its process); a no-op where the C library is not glibc."""
    import ctypes
    import ctypes.util
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        mallopt = libc.mallopt if libc is not None else None
    except (OSError, AttributeError):
        return
    if mallopt is not None:
        mallopt(-3, 256 << 10)  # M_MMAP_THRESHOLD: blocks from 256 KB on are mapped, and unmapped when freed
        mallopt(-1, 4 << 20)  # M_TRIM_THRESHOLD: give back heap tops beyond 4 MB
