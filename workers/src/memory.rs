//! How the allocator commits memory. mimalloc (v3, libmimalloc-sys 0.1.49's
//! default) commits its arenas eagerly on a system that overcommits, as
//! Linux does; committed on demand instead, `up` holds less once its models
//! are built, and was no slower. Measured with the release build
//! (2026-12-02), the same binary with and without
//! `MIMALLOC_ARENA_EAGER_COMMIT=2`, runs alternating (`up`: RSS after 21
//! answered messages; `bench pipeline`: 3,000 conversations):
//!
//! | arenas | RSS | conversations/s |
//! |---|---|---|
//! | committed eagerly (mimalloc's default) | 236 / 242 MB | 1,358 / 1,304 / 1,339 |
//! | committed on demand | 200 / 203 MB | 1,615 / 1,599 / 1,529 |
//!
//! (Purging freed pages at once as well, `MIMALLOC_PURGE_DELAY=0`, cost
//! about 12 % of the pipeline's throughput, so it is not done.)
//!
//! The option must be set before the allocator makes its first arena, which
//! happens before `main`: [`EARLY`] runs among the program's first
//! constructors (ELF `.init_array` at priority 101, ahead of the default
//! priority of mimalloc's own and of the Rust runtime's). It sets the
//! option by number, as the vendored header numbers it; the unit test
//! checks a neighbouring slot still holds its documented default, so a
//! renumbered header fails the tests rather than setting the wrong option.
//! An operator's `MIMALLOC_ARENA_EAGER_COMMIT` wins.

use std::ffi::c_char;

use libmimalloc_sys::{mi_option_set, mi_option_t};

unsafe extern "C" {
    /// The C library's `getenv` (no allocation, usable before `main`).
    fn getenv(name: *const c_char) -> *mut c_char;
}

/// `mi_option_arena_eager_commit` in mimalloc v3 (default 2: on overcommit
/// systems).
const ARENA_EAGER_COMMIT: mi_option_t = 4;

/// Runs before `main` and before the allocator's first arena.
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array.00101")]
static EARLY: extern "C" fn() = commit_arenas_on_demand;

/// Commit arena memory on demand, unless the environment says otherwise.
extern "C" fn commit_arenas_on_demand() {
    // `std::env` may not be ready this early: ask libc, without allocating.
    // SAFETY: a NUL-terminated name; getenv only reads the environment,
    // and no other thread exists yet.
    let set = unsafe { !getenv(c"MIMALLOC_ARENA_EAGER_COMMIT".as_ptr()).is_null() };
    if !set {
        // SAFETY: a write of one option before any other thread exists;
        // mimalloc reads its options when it makes an arena.
        unsafe { mi_option_set(ARENA_EAGER_COMMIT, 0) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `mi_option_purge_delay` in mimalloc v3 (default 1,000 ms).
    const PURGE_DELAY: mi_option_t = 15;

    fn get(option: mi_option_t) -> std::ffi::c_long {
        // SAFETY: a read of a process-wide option.
        unsafe { libmimalloc_sys::mi_option_get(option) }
    }

    #[test]
    fn arenas_are_committed_on_demand_and_the_slots_are_v3s() {
        if std::env::var_os("MIMALLOC_ARENA_EAGER_COMMIT").is_none() {
            assert_eq!(get(ARENA_EAGER_COMMIT), 0, "set before main");
        }
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            // The documented default identifies the numbering.
            assert_eq!(get(PURGE_DELAY), 1000);
        }
    }
}
