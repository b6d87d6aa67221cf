//! A power cut for SQLite, inside one process: a VFS over the platform's own that passes every
//! call through, but remembers for each file under a directory what its writes overwrote since
//! the file's last `fsync` (SQLite's `xSync`). [`lose_unsynced_writes`] puts those bytes back
//! and cuts each file to its length at its last `fsync`: the files are then what a disk would
//! hold after the power went out, had the OS flushed nothing on its own (the worst case a
//! durable store must survive). The process should die right after (the caller kills it); the
//! next process opens the files as a server does after a power cut.
//!
//! Only SQLite's own files are covered (the database, its WAL and journals). The shared-memory
//! index (`-shm`) is left alone: SQLite rebuilds it from the WAL when the first connection
//! opens the database after a crash.
//!
//! Used by the `oxim-lossy-server` binary (the server on this VFS) and its test.

use std::collections::HashMap;
use std::ffi::{CStr, c_char, c_int, c_void};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};

use rusqlite::ffi;

/// What an unsynced change overwrote, to be put back.
struct Undo {
    offset: u64,
    bytes: Vec<u8>,
}

/// A file's changes since its last fsync.
struct Unsynced {
    /// Its length at the last fsync (or when first changed after it).
    synced_len: u64,
    /// What each change overwrote, oldest first.
    undo: Vec<Undo>,
}

struct Vfs {
    /// The platform's VFS every call goes to.
    base: *mut ffi::sqlite3_vfs,
    /// Files under this directory are tracked.
    dir: PathBuf,
    /// Per file path: what was written since its last fsync. Held while a tracked file is
    /// written or synced, so a power cut falls between two calls, never inside one.
    unsynced: Mutex<HashMap<PathBuf, Unsynced>>,
}

// SAFETY: `base` points to SQLite's static default VFS, which is thread-safe.
unsafe impl Send for Vfs {}
unsafe impl Sync for Vfs {}

static VFS: OnceLock<Vfs> = OnceLock::new();

fn vfs() -> &'static Vfs {
    VFS.get().expect("power_loss::install ran")
}

fn lock() -> MutexGuard<'static, HashMap<PathBuf, Unsynced>> {
    vfs().unsynced.lock().unwrap_or_else(|p| p.into_inner())
}

/// The file SQLite holds: our header, then the base VFS's file.
#[repr(C)]
struct File {
    base: ffi::sqlite3_file,
    /// Set when the file is under the tracked directory.
    path: Option<Box<PathBuf>>,
}

unsafe fn inner(f: *mut ffi::sqlite3_file) -> *mut ffi::sqlite3_file {
    unsafe { (f as *mut u8).add(std::mem::size_of::<File>()) as *mut ffi::sqlite3_file }
}

unsafe fn methods(f: *mut ffi::sqlite3_file) -> &'static ffi::sqlite3_io_methods {
    unsafe { &*(*inner(f)).pMethods }
}

unsafe fn tracked(f: *mut ffi::sqlite3_file) -> Option<&'static Path> {
    unsafe { (*(f as *mut File)).path.as_deref().map(|p| &*(p.as_path() as *const Path)) }
}

/// Makes this VFS SQLite's default for the whole process, tracking files under `dir`.
/// Call it once, before any connection is opened.
pub fn install(dir: &Path) {
    unsafe {
        let base = ffi::sqlite3_vfs_find(std::ptr::null());
        assert!(!base.is_null(), "SQLite has a default VFS");
        let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned());
        assert!(VFS.set(Vfs { base, dir, unsynced: Mutex::new(HashMap::new()) }).is_ok(), "installed once");
        // A copy of the base VFS (its other calls work unchanged) that opens and deletes files
        // through us.
        let mut ours: ffi::sqlite3_vfs = *base;
        ours.zName = c"oxim-power-loss".as_ptr();
        ours.szOsFile = (*base).szOsFile + std::mem::size_of::<File>() as c_int;
        ours.pNext = std::ptr::null_mut();
        ours.xOpen = Some(x_open);
        ours.xDelete = Some(x_delete);
        let ours = Box::leak(Box::new(ours));
        assert_eq!(ffi::sqlite3_vfs_register(ours, 1), ffi::SQLITE_OK);
    }
}

/// Puts every tracked file back as it was at its last fsync, and holds every tracked file's
/// writes and syncs from then on (they wait forever): the power is out. Returns how many bytes
/// were lost.
pub fn lose_unsynced_writes() -> u64 {
    let mut unsynced = lock();
    let mut lost = 0;
    for (path, changes) in unsynced.drain() {
        let file = std::fs::OpenOptions::new().write(true).open(&path).expect("a tracked file");
        for undo in changes.undo.iter().rev() {
            file.write_all_at(&undo.bytes, undo.offset).expect("put back");
        }
        let len = file.metadata().expect("metadata").len();
        lost += changes.undo.iter().map(|u| u.bytes.len() as u64).sum::<u64>() + len.saturating_sub(changes.synced_len);
        file.set_len(changes.synced_len).expect("cut back");
    }
    // The power stays out: writers wait here until the process is killed.
    std::mem::forget(unsynced);
    lost
}

unsafe extern "C" fn x_open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    f: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    unsafe {
        let v = vfs();
        let file = f as *mut File;
        std::ptr::write(file, File { base: ffi::sqlite3_file { pMethods: std::ptr::null() }, path: None });
        let rc = ((*v.base).xOpen.expect("xOpen"))(v.base, name, inner(f), flags, out_flags);
        if rc != ffi::SQLITE_OK || (*inner(f)).pMethods.is_null() {
            return rc;
        }
        let main_or_journal = flags
            & (ffi::SQLITE_OPEN_MAIN_DB
                | ffi::SQLITE_OPEN_MAIN_JOURNAL
                | ffi::SQLITE_OPEN_WAL
                | ffi::SQLITE_OPEN_SUPER_JOURNAL)
            != 0;
        if main_or_journal && !name.is_null() {
            let path = PathBuf::from(CStr::from_ptr(name).to_string_lossy().into_owned());
            if path.starts_with(&v.dir) {
                (*file).path = Some(Box::new(path));
            }
        }
        (*file).base.pMethods = io_methods((*inner(f)).pMethods);
        rc
    }
}

unsafe extern "C" fn x_delete(_vfs: *mut ffi::sqlite3_vfs, name: *const c_char, sync_dir: c_int) -> c_int {
    unsafe {
        let v = vfs();
        // A deleted file loses its pending changes with it (the power cut cannot bring it back).
        let path = PathBuf::from(CStr::from_ptr(name).to_string_lossy().into_owned());
        let mut unsynced = lock();
        let rc = ((*v.base).xDelete.expect("xDelete"))(v.base, name, sync_dir);
        unsynced.remove(&path);
        rc
    }
}

/// Our methods over the base VFS's `base`, built once for each (the base has one set per
/// locking style).
fn io_methods(base: *const ffi::sqlite3_io_methods) -> *const ffi::sqlite3_io_methods {
    static METHODS: Mutex<Vec<(usize, usize)>> = Mutex::new(Vec::new());
    let mut known = METHODS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, ours)) = known.iter().find(|(b, _)| *b == base as usize) {
        return *ours as *const ffi::sqlite3_io_methods;
    }
    let ours = {
        let mut m: ffi::sqlite3_io_methods = unsafe { *base };
        m.xClose = Some(x_close);
        m.xRead = Some(x_read);
        m.xWrite = Some(x_write);
        m.xTruncate = Some(x_truncate);
        m.xSync = Some(x_sync);
        m.xFileSize = Some(x_file_size);
        m.xLock = Some(x_lock);
        m.xUnlock = Some(x_unlock);
        m.xCheckReservedLock = Some(x_check_reserved_lock);
        m.xFileControl = Some(x_file_control);
        m.xSectorSize = Some(x_sector_size);
        m.xDeviceCharacteristics = Some(x_device_characteristics);
        if m.iVersion >= 2 {
            m.xShmMap = Some(x_shm_map);
            m.xShmLock = Some(x_shm_lock);
            m.xShmBarrier = Some(x_shm_barrier);
            m.xShmUnmap = Some(x_shm_unmap);
        }
        if m.iVersion >= 3 {
            m.xFetch = Some(x_fetch);
            m.xUnfetch = Some(x_unfetch);
        }
        Box::leak(Box::new(m)) as *const ffi::sqlite3_io_methods
    };
    known.push((base as usize, ours as usize));
    ours
}

unsafe fn size_of(f: *mut ffi::sqlite3_file) -> Option<u64> {
    let mut size: ffi::sqlite3_int64 = 0;
    let rc = unsafe { (methods(f).xFileSize.expect("xFileSize"))(inner(f), &mut size) };
    (rc == ffi::SQLITE_OK).then_some(size as u64)
}

/// Remembers what `[offset, offset + len)` of `f` holds now (the part inside the file).
unsafe fn remember(
    unsynced: &mut HashMap<PathBuf, Unsynced>,
    path: &Path,
    f: *mut ffi::sqlite3_file,
    offset: u64,
    len: u64,
) -> Result<(), c_int> {
    let size = unsafe { size_of(f) }.ok_or(ffi::SQLITE_IOERR_FSTAT)?;
    let entry = unsynced.entry(path.to_owned()).or_insert(Unsynced { synced_len: size, undo: Vec::new() });
    let end = (offset + len).min(size);
    if end > offset {
        let mut bytes = vec![0u8; (end - offset) as usize];
        let rc = unsafe {
            (methods(f).xRead.expect("xRead"))(
                inner(f),
                bytes.as_mut_ptr() as *mut c_void,
                bytes.len() as c_int,
                offset as i64,
            )
        };
        if rc != ffi::SQLITE_OK {
            return Err(rc);
        }
        entry.undo.push(Undo { offset, bytes });
    }
    Ok(())
}

unsafe extern "C" fn x_close(f: *mut ffi::sqlite3_file) -> c_int {
    unsafe {
        let rc = (methods(f).xClose.expect("xClose"))(inner(f));
        // Unsynced changes of a closed file stay pending (they are keyed by path).
        drop((*(f as *mut File)).path.take());
        rc
    }
}

unsafe extern "C" fn x_read(f: *mut ffi::sqlite3_file, buf: *mut c_void, n: c_int, off: ffi::sqlite3_int64) -> c_int {
    unsafe { (methods(f).xRead.expect("xRead"))(inner(f), buf, n, off) }
}

unsafe extern "C" fn x_write(
    f: *mut ffi::sqlite3_file,
    buf: *const c_void,
    n: c_int,
    off: ffi::sqlite3_int64,
) -> c_int {
    unsafe {
        let Some(path) = tracked(f) else {
            return (methods(f).xWrite.expect("xWrite"))(inner(f), buf, n, off);
        };
        let mut unsynced = lock();
        if let Err(rc) = remember(&mut unsynced, path, f, off as u64, n as u64) {
            return rc;
        }
        (methods(f).xWrite.expect("xWrite"))(inner(f), buf, n, off)
    }
}

unsafe extern "C" fn x_truncate(f: *mut ffi::sqlite3_file, size: ffi::sqlite3_int64) -> c_int {
    unsafe {
        let Some(path) = tracked(f) else {
            return (methods(f).xTruncate.expect("xTruncate"))(inner(f), size);
        };
        let mut unsynced = lock();
        // What the cut removes comes back if the cut is lost.
        let current = size_of(f).unwrap_or(0);
        if let Err(rc) = remember(&mut unsynced, path, f, size as u64, current.saturating_sub(size as u64)) {
            return rc;
        }
        (methods(f).xTruncate.expect("xTruncate"))(inner(f), size)
    }
}

unsafe extern "C" fn x_sync(f: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    unsafe {
        let Some(path) = tracked(f) else {
            return (methods(f).xSync.expect("xSync"))(inner(f), flags);
        };
        let mut unsynced = lock();
        let rc = (methods(f).xSync.expect("xSync"))(inner(f), flags);
        if rc == ffi::SQLITE_OK {
            // Durable now: nothing of it can be lost any more.
            unsynced.remove(path);
        }
        rc
    }
}

unsafe extern "C" fn x_file_size(f: *mut ffi::sqlite3_file, size: *mut ffi::sqlite3_int64) -> c_int {
    unsafe { (methods(f).xFileSize.expect("xFileSize"))(inner(f), size) }
}

unsafe extern "C" fn x_lock(f: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    unsafe { (methods(f).xLock.expect("xLock"))(inner(f), level) }
}

unsafe extern "C" fn x_unlock(f: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    unsafe { (methods(f).xUnlock.expect("xUnlock"))(inner(f), level) }
}

unsafe extern "C" fn x_check_reserved_lock(f: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    unsafe { (methods(f).xCheckReservedLock.expect("xCheckReservedLock"))(inner(f), out) }
}

unsafe extern "C" fn x_file_control(f: *mut ffi::sqlite3_file, op: c_int, arg: *mut c_void) -> c_int {
    unsafe {
        let Some(path) = tracked(f) else {
            return (methods(f).xFileControl.expect("xFileControl"))(inner(f), op, arg);
        };
        // File controls may grow the file (size hints); a growth since the last fsync is cut
        // back like any other change, so the length before it is what counts.
        let mut unsynced = lock();
        if !unsynced.contains_key(path)
            && let Some(size) = size_of(f)
        {
            unsynced.insert(path.to_owned(), Unsynced { synced_len: size, undo: Vec::new() });
        }
        (methods(f).xFileControl.expect("xFileControl"))(inner(f), op, arg)
    }
}

unsafe extern "C" fn x_sector_size(f: *mut ffi::sqlite3_file) -> c_int {
    unsafe { (methods(f).xSectorSize.expect("xSectorSize"))(inner(f)) }
}

unsafe extern "C" fn x_device_characteristics(f: *mut ffi::sqlite3_file) -> c_int {
    unsafe { (methods(f).xDeviceCharacteristics.expect("xDeviceCharacteristics"))(inner(f)) }
}

unsafe extern "C" fn x_shm_map(
    f: *mut ffi::sqlite3_file,
    page: c_int,
    size: c_int,
    extend: c_int,
    out: *mut *mut c_void,
) -> c_int {
    unsafe { (methods(f).xShmMap.expect("xShmMap"))(inner(f), page, size, extend, out) }
}

unsafe extern "C" fn x_shm_lock(f: *mut ffi::sqlite3_file, offset: c_int, n: c_int, flags: c_int) -> c_int {
    unsafe { (methods(f).xShmLock.expect("xShmLock"))(inner(f), offset, n, flags) }
}

unsafe extern "C" fn x_shm_barrier(f: *mut ffi::sqlite3_file) {
    unsafe { (methods(f).xShmBarrier.expect("xShmBarrier"))(inner(f)) }
}

unsafe extern "C" fn x_shm_unmap(f: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
    unsafe { (methods(f).xShmUnmap.expect("xShmUnmap"))(inner(f), delete) }
}

unsafe extern "C" fn x_fetch(
    f: *mut ffi::sqlite3_file,
    off: ffi::sqlite3_int64,
    n: c_int,
    out: *mut *mut c_void,
) -> c_int {
    unsafe { (methods(f).xFetch.expect("xFetch"))(inner(f), off, n, out) }
}

unsafe extern "C" fn x_unfetch(f: *mut ffi::sqlite3_file, off: ffi::sqlite3_int64, p: *mut c_void) -> c_int {
    unsafe { (methods(f).xUnfetch.expect("xUnfetch"))(inner(f), off, p) }
}
