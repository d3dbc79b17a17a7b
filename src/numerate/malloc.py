"""Process-wide glibc allocator settings for the two kinds of long work: streaming (`solve`) and proofs.

Both are set only by the commands that need them, since each would slow other work in the same process.
"""

from __future__ import annotations

import os


def _libc():
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to tune
        return None


def configure_for_streaming() -> None:
    """Process-wide settings that keep a long `solve` at constant memory; call before torch is imported.

    - oneDNN caches a compiled kernel per tensor shape it meets, and a long input meets ever more shapes: memory grew
      about 0.6 MB a batch (516, 659, 800 MB peak for 1, 4, 16 MB of input). Uncached kernels cost ~4% time here.
    - Blocks of 1 MB or more (batch tensors) are served from mmap and returned when freed; glibc otherwise raises this
      threshold as blocks are freed and serves them from a heap that batches of varying shapes fragment.
    Both would slow other work in the same process, so only the `solve` command sets them.
    """
    os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "0")
    libc = _libc()
    if libc is not None:
        libc.mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD; setting it also turns off glibc's dynamic adjustment


def release_free_memory() -> None:
    """Hand freed heap pages back to the system after each batch (glibc only)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


def keep_freed_memory() -> None:
    """A proof allocates and frees the same large batch tensors class after class; glibc serves blocks of 128 KB
    and more from mmap and unmaps them when freed, so every batch paid page faults again (about half the wall time
    of `numerate verify models/add-proof` was system time). Keep them in the heap instead, and keep it grown."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(-3, 1 << 30)  # M_MMAP_THRESHOLD: only blocks of 1 GiB and more from mmap
        libc.mallopt(-1, -1 & 0x7FFFFFFF)  # M_TRIM_THRESHOLD: do not hand the heap's top back
        libc.mallopt(-2, 256 << 20)  # M_TOP_PAD: grow the heap 256 MB at a time
