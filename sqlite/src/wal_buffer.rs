//! A VFS that gathers a commit's WAL writes into a few large ones.
//!
//! SQLite writes every WAL frame as two `pwrite`s (its 24-byte header, then the page), so a
//! commit of 400 pages made 800 system calls, each taking the file's lock and walking the page
//! cache for a few bytes. This VFS wraps the default one: the main database and every other file
//! are the default VFS's own, untouched; only the WAL gets a buffer in front of it. Writes that
//! continue the buffered bytes are appended to it, and it is written out in as few calls as the
//! default VFS takes (pieces of 124 KiB: it writes at most 128 KiB − 1 per call) before anything that needs the file as written: a
//! sync, a read of the buffered range, a size or truncate, a file control, closing, or a write
//! that would take it past [`FLUSH_AT`] bytes. Measured on this machine: 4.4 → 0.9 µs of CPU per
//! frame, fsync included (docs/benchmarks.md, eighth round).
//!
//! Only for connections with `synchronous = FULL` ([`crate::open_buffered`] sets it): SQLite
//! publishes new frames to other connections through the shared-memory index, which this VFS
//! never sees, and only `FULL` syncs the WAL (writing the buffer) before every publication. The
//! same holds only where SQLite does not pad commits to sector boundaries (the database file
//! reports power-safe overwrite, as the default VFS does unless told otherwise, e.g. by the URI
//! parameter `psow=0`); the WAL of a database that does not passes every write straight on.

use std::ffi::{CStr, c_int, c_void};
use std::sync::OnceLock;

use rusqlite::ffi;

/// The VFS's registered name.
pub(crate) const NAME: &CStr = c"oxim-wal-buffer";

/// Bytes gathered before they are written out without waiting for a sync: a commit of ~1,000
/// pages; bounds the memory of each WAL file open through this VFS.
pub const FLUSH_AT: usize = 4 << 20;

/// An open WAL file: SQLite's file header, where the default VFS's file is, and the buffer.
/// The default VFS's file lives in the same allocation, right after this struct (this VFS's
/// `szOsFile` asks SQLite for room for both).
#[repr(C)]
struct WalFile {
    base: ffi::sqlite3_file,
    real: *mut ffi::sqlite3_file,
    pending: *mut Pending,
}

/// Bytes written but not yet passed on: they go at `start` of the file.
struct Pending {
    /// Whether writes are gathered at all.
    gather: bool,
    start: i64,
    bytes: Vec<u8>,
}

/// Writes passed on to the default VFS's WAL files (tests of the gathering).
#[cfg(test)]
static PASSED_ON: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Most bytes passed on in one write: the default unix VFS writes at most 128 KiB − 1 per call
/// (it masks larger lengths, and reports the rest as a full disk).
const PIECE: usize = 124 * 1024;

/// Where the default VFS's file starts in the allocation (8-byte aligned, as SQLite's are).
const REAL_AT: usize = std::mem::size_of::<WalFile>().next_multiple_of(8);

/// Registers the VFS once per process (wrapping the default VFS of that moment).
pub(crate) fn register() -> rusqlite::Result<()> {
    static REGISTERED: OnceLock<c_int> = OnceLock::new();
    let rc = *REGISTERED.get_or_init(|| {
        // SAFETY: sqlite3_vfs_find and sqlite3_vfs_register are thread-safe; the default VFS
        // lives for the whole process, and the copy registered here is leaked so it does too.
        unsafe {
            let real = ffi::sqlite3_vfs_find(std::ptr::null());
            if real.is_null() {
                return ffi::SQLITE_ERROR;
            }
            let mut vfs = *real;
            vfs.szOsFile = (REAL_AT + (*real).szOsFile as usize) as c_int;
            vfs.zName = NAME.as_ptr();
            vfs.pAppData = real.cast();
            vfs.pNext = std::ptr::null_mut();
            vfs.xOpen = Some(open);
            ffi::sqlite3_vfs_register(Box::leak(Box::new(vfs)), 0)
        }
    });
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(rusqlite::Error::SqliteFailure(ffi::Error::new(rc), Some("cannot register the WAL-buffer VFS".into())))
    }
}

/// The default VFS this one wraps.
///
/// # Safety
/// `vfs` is this VFS (whose `pAppData` is the default VFS, set by [`register`]).
unsafe fn real_vfs(vfs: *mut ffi::sqlite3_vfs) -> *mut ffi::sqlite3_vfs {
    unsafe { (*vfs).pAppData.cast() }
}

/// `xOpen`: every file but a WAL is the default VFS's own file, at the start of the allocation;
/// a WAL is that file behind a buffer.
unsafe extern "C" fn open(
    vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    // SAFETY: SQLite hands an allocation of this VFS's szOsFile bytes (room for a WalFile and
    // the default VFS's file after it) and calls this file's methods on one thread at a time.
    unsafe {
        let real_vfs = real_vfs(vfs);
        let Some(real_open) = (*real_vfs).xOpen else { return ffi::SQLITE_ERROR };
        if flags & ffi::SQLITE_OPEN_WAL == 0 {
            return real_open(real_vfs, name, file, flags, out_flags);
        }
        let wal = file.cast::<WalFile>();
        let real = file.cast::<u8>().add(REAL_AT).cast::<ffi::sqlite3_file>();
        (*wal).base.pMethods = std::ptr::null();
        let rc = real_open(real_vfs, name, real, flags, out_flags);
        if rc != ffi::SQLITE_OK || (*real).pMethods.is_null() {
            // SQLite closes only what reports methods (ours: none), so a half-open file of the
            // default VFS is closed here.
            if let Some(close) = (*real).pMethods.as_ref().and_then(|m| m.xClose) {
                close(real);
            }
            return if rc == ffi::SQLITE_OK { ffi::SQLITE_CANTOPEN } else { rc };
        }
        // Where SQLite pads commits to sector boundaries it writes past the last sync point
        // after that sync: such a WAL passes every write straight on. SQLite decides that from
        // the database file's characteristics (not the WAL's), so they are asked here too.
        let db = ffi::sqlite3_database_file_object(name);
        let characteristics = match db.as_ref().and_then(|db| db.pMethods.as_ref()) {
            Some(methods) => methods.xDeviceCharacteristics.map_or(0, |f| f(db)),
            None => 0,
        };
        let gather = characteristics & ffi::SQLITE_IOCAP_POWERSAFE_OVERWRITE != 0;
        (*wal).real = real;
        (*wal).pending = Box::into_raw(Box::new(Pending { gather, start: 0, bytes: Vec::new() }));
        (*wal).base.pMethods = &WAL_METHODS;
        ffi::SQLITE_OK
    }
}

/// The default VFS's file behind `file`, its methods, and the buffer.
///
/// # Safety
/// `file` was opened by [`open`] as a buffered WAL and not closed yet.
unsafe fn parts<'a>(
    file: *mut ffi::sqlite3_file,
) -> (*mut ffi::sqlite3_file, &'a ffi::sqlite3_io_methods, &'a mut Pending) {
    unsafe {
        let wal = file.cast::<WalFile>();
        let real = (*wal).real;
        (real, &*(*real).pMethods, &mut *(*wal).pending)
    }
}

/// Writes out what is buffered, in pieces of [`PIECE`] (kept if that fails, so the error comes
/// back at every later attempt, the sync of the commit included).
///
/// # Safety
/// `real` and `methods` are the buffered file's ([`parts`]).
unsafe fn flush(real: *mut ffi::sqlite3_file, methods: &ffi::sqlite3_io_methods, pending: &mut Pending) -> c_int {
    let Some(write) = methods.xWrite else { return ffi::SQLITE_IOERR_WRITE };
    let mut done = 0;
    while done < pending.bytes.len() {
        let piece = &pending.bytes[done..(done + PIECE).min(pending.bytes.len())];
        #[cfg(test)]
        PASSED_ON.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // SAFETY: the piece is valid for its length, which PIECE keeps within a c_int.
        let rc = unsafe { write(real, piece.as_ptr().cast(), piece.len() as c_int, pending.start + done as i64) };
        if rc != ffi::SQLITE_OK {
            // What was written stays written; the rest is tried again.
            pending.bytes.drain(..done);
            pending.start += done as i64;
            return rc;
        }
        done += piece.len();
    }
    pending.bytes.clear();
    ffi::SQLITE_OK
}

/// Writes out what is buffered, then runs `then` on the default VFS's file.
///
/// # Safety
/// As [`parts`].
unsafe fn flushed(
    file: *mut ffi::sqlite3_file,
    then: impl FnOnce(*mut ffi::sqlite3_file, &ffi::sqlite3_io_methods) -> c_int,
) -> c_int {
    unsafe {
        let (real, methods, pending) = parts(file);
        match flush(real, methods, pending) {
            ffi::SQLITE_OK => then(real, methods),
            rc => rc,
        }
    }
}

unsafe extern "C" fn close(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: called once, last, on a file `open` buffered; the buffer is freed here.
    unsafe {
        let (real, methods, pending) = parts(file);
        let written = flush(real, methods, pending);
        let closed = methods.xClose.map_or(ffi::SQLITE_OK, |f| f(real));
        drop(Box::from_raw((*file.cast::<WalFile>()).pending));
        (*file).pMethods = std::ptr::null();
        if written != ffi::SQLITE_OK { written } else { closed }
    }
}

unsafe extern "C" fn read(file: *mut ffi::sqlite3_file, buf: *mut c_void, amount: c_int, offset: i64) -> c_int {
    // SAFETY: as `parts`; SQLite's buffer holds `amount` bytes.
    unsafe {
        let (real, methods, pending) = parts(file);
        let end = pending.start + pending.bytes.len() as i64;
        // Only a read of buffered bytes waits for them to be written (reads of earlier
        // commits, the writer's usual ones, do not).
        if !pending.bytes.is_empty() && offset < end && offset + i64::from(amount) > pending.start {
            let rc = flush(real, methods, pending);
            if rc != ffi::SQLITE_OK {
                return rc;
            }
        }
        match methods.xRead {
            Some(f) => f(real, buf, amount, offset),
            None => ffi::SQLITE_IOERR_READ,
        }
    }
}

unsafe extern "C" fn write(file: *mut ffi::sqlite3_file, data: *const c_void, amount: c_int, offset: i64) -> c_int {
    // SAFETY: as `parts`; SQLite's data holds `amount` bytes.
    unsafe {
        let (real, methods, pending) = parts(file);
        let bytes = std::slice::from_raw_parts(data.cast::<u8>(), amount.max(0) as usize);
        let continues = offset == pending.start + pending.bytes.len() as i64;
        if !pending.bytes.is_empty() && continues && pending.bytes.len() + bytes.len() <= FLUSH_AT {
            pending.bytes.extend_from_slice(bytes);
            return ffi::SQLITE_OK;
        }
        // Anything else (a frame rewritten, a write elsewhere): what came before goes first.
        let rc = flush(real, methods, pending);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        if !pending.gather {
            return methods.xWrite.map_or(ffi::SQLITE_IOERR_WRITE, |f| f(real, data, amount, offset));
        }
        pending.start = offset;
        pending.bytes.extend_from_slice(bytes);
        ffi::SQLITE_OK
    }
}

unsafe extern "C" fn truncate(file: *mut ffi::sqlite3_file, size: i64) -> c_int {
    // SAFETY: as `parts`.
    unsafe { flushed(file, |real, m| m.xTruncate.map_or(ffi::SQLITE_IOERR_TRUNCATE, |f| f(real, size))) }
}

unsafe extern "C" fn sync(file: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    // SAFETY: as `parts`.
    unsafe { flushed(file, |real, m| m.xSync.map_or(ffi::SQLITE_IOERR_FSYNC, |f| f(real, flags))) }
}

unsafe extern "C" fn file_size(file: *mut ffi::sqlite3_file, size: *mut i64) -> c_int {
    // SAFETY: as `parts`.
    unsafe { flushed(file, |real, m| m.xFileSize.map_or(ffi::SQLITE_IOERR_FSTAT, |f| f(real, size))) }
}

unsafe extern "C" fn file_control(file: *mut ffi::sqlite3_file, op: c_int, arg: *mut c_void) -> c_int {
    // SAFETY: as `parts`.
    unsafe { flushed(file, |real, m| m.xFileControl.map_or(ffi::SQLITE_NOTFOUND, |f| f(real, op, arg))) }
}

unsafe extern "C" fn lock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    // SAFETY: as `parts`.
    unsafe {
        let (real, m, _) = parts(file);
        m.xLock.map_or(ffi::SQLITE_OK, |f| f(real, level))
    }
}

unsafe extern "C" fn unlock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    // SAFETY: as `parts`.
    unsafe {
        let (real, m, _) = parts(file);
        m.xUnlock.map_or(ffi::SQLITE_OK, |f| f(real, level))
    }
}

unsafe extern "C" fn check_reserved_lock(file: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    // SAFETY: as `parts`.
    unsafe {
        let (real, m, _) = parts(file);
        m.xCheckReservedLock.map_or(ffi::SQLITE_OK, |f| f(real, out))
    }
}

unsafe extern "C" fn sector_size(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: as `parts`.
    unsafe {
        let (real, m, _) = parts(file);
        m.xSectorSize.map_or(4096, |f| f(real))
    }
}

unsafe extern "C" fn device_characteristics(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: as `parts`.
    unsafe {
        let (real, m, _) = parts(file);
        m.xDeviceCharacteristics.map_or(0, |f| f(real))
    }
}

unsafe extern "C" fn shm_map(
    file: *mut ffi::sqlite3_file,
    region: c_int,
    size: c_int,
    extend: c_int,
    out: *mut *mut c_void,
) -> c_int {
    // SAFETY: as `parts`. (SQLite maps the index through the database file, not the WAL:
    // these only pass on.)
    unsafe {
        let (real, m, _) = parts(file);
        m.xShmMap.map_or(ffi::SQLITE_IOERR_SHMMAP, |f| f(real, region, size, extend, out))
    }
}

unsafe extern "C" fn shm_lock(file: *mut ffi::sqlite3_file, offset: c_int, n: c_int, flags: c_int) -> c_int {
    // SAFETY: as `parts`.
    unsafe {
        let (real, m, _) = parts(file);
        m.xShmLock.map_or(ffi::SQLITE_IOERR_SHMLOCK, |f| f(real, offset, n, flags))
    }
}

unsafe extern "C" fn shm_barrier(file: *mut ffi::sqlite3_file) {
    // SAFETY: as `parts`.
    unsafe {
        let (real, m, _) = parts(file);
        if let Some(f) = m.xShmBarrier {
            f(real)
        }
    }
}

unsafe extern "C" fn shm_unmap(file: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
    // SAFETY: as `parts`.
    unsafe {
        let (real, m, _) = parts(file);
        m.xShmUnmap.map_or(ffi::SQLITE_OK, |f| f(real, delete))
    }
}

unsafe extern "C" fn fetch(
    _file: *mut ffi::sqlite3_file,
    _offset: i64,
    _amount: c_int,
    out: *mut *mut c_void,
) -> c_int {
    // SAFETY: SQLite passes somewhere to put the mapping; none (null) sends it to `read`.
    unsafe { *out = std::ptr::null_mut() };
    ffi::SQLITE_OK
}

unsafe extern "C" fn unfetch(_file: *mut ffi::sqlite3_file, _offset: i64, _page: *mut c_void) -> c_int {
    ffi::SQLITE_OK
}

/// The buffered WAL's methods.
static WAL_METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock),
    xUnlock: Some(unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: Some(shm_map),
    xShmLock: Some(shm_lock),
    xShmBarrier: Some(shm_barrier),
    xShmUnmap: Some(shm_unmap),
    xFetch: Some(fetch),
    xUnfetch: Some(unfetch),
};

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Mutex;
    use std::sync::atomic::Ordering;

    use rusqlite::Connection;

    use super::*;
    use crate::{Settings, open, open_buffered};

    const SETTINGS: Settings = Settings { statement_cache: 16, busy_timeout: None };

    /// The tests count writes passed on by every buffered WAL of the process: one at a time.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

    fn buffered(dir: &Path, cache_kib: i64) -> Connection {
        let conn = open_buffered(&dir.join("t.db"), &SETTINGS).unwrap();
        conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        conn.pragma_update(None, "cache_size", -cache_kib).unwrap();
        conn.execute_batch("CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v BLOB NOT NULL)").unwrap();
        conn
    }

    /// Inserts `n` rows of `size` bytes after the last.
    fn insert(conn: &Connection, n: usize, size: usize) {
        let mut stmt = conn.prepare_cached("INSERT INTO t (v) VALUES (randomblob(?1))").unwrap();
        for _ in 0..n {
            stmt.execute([size as i64]).unwrap();
        }
    }

    /// What a crash right now would leave: the database and its WAL as the files hold them,
    /// copied and opened by the default VFS (which recovers the WAL). Its rows and whether it
    /// is intact.
    fn after_a_crash(dir: &Path) -> (i64, String) {
        let copy = tempfile::tempdir().unwrap();
        for name in ["t.db", "t.db-wal"] {
            std::fs::copy(dir.join(name), copy.path().join(name)).unwrap();
        }
        let conn = open(&copy.path().join("t.db"), &SETTINGS).unwrap();
        let rows = conn.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
        let check = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        (rows, check)
    }

    fn rows(conn: &Connection) -> i64 {
        conn.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn a_commit_of_many_pages_is_passed_on_in_a_few_large_writes() {
        let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        let dir = tempfile::tempdir().unwrap();
        let conn = buffered(dir.path(), 8 * 1024);
        insert(&conn, 1, 10);
        let wal_size = || std::fs::metadata(dir.path().join("t.db-wal")).unwrap().len() as usize;
        let (size_before, before) = (wal_size(), PASSED_ON.load(Ordering::Relaxed));
        conn.execute_batch("BEGIN").unwrap();
        insert(&conn, 300, 3000);
        conn.execute_batch("COMMIT").unwrap();
        let writes = PASSED_ON.load(Ordering::Relaxed) - before;
        let bytes = wal_size() - size_before;
        let frames = bytes / (24 + 4096);
        assert!(frames > 250, "the commit wrote {frames} frames");
        // SQLite alone makes two writes per frame; gathered, the commit goes in pieces of PIECE.
        assert_eq!(writes, bytes.div_ceil(PIECE), "{frames} frames, {writes} writes");
    }

    #[test]
    fn a_wal_without_power_safe_overwrite_is_written_straight_through() {
        let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        let dir = tempfile::tempdir().unwrap();
        // `psow=0`: SQLite pads commits to sector boundaries and writes past the last sync
        // point after that sync, so nothing may wait in a buffer.
        let uri = format!("file:{}?psow=0", dir.path().join("t.db").display());
        let conn = open_buffered(Path::new(&uri), &SETTINGS).unwrap();
        conn.execute_batch("CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB NOT NULL)").unwrap();
        let before = PASSED_ON.load(Ordering::Relaxed);
        conn.execute_batch("BEGIN").unwrap();
        insert(&conn, 300, 3000);
        conn.execute_batch("COMMIT").unwrap();
        assert_eq!(PASSED_ON.load(Ordering::Relaxed) - before, 0, "nothing was gathered");
        assert_eq!(after_a_crash(dir.path()), (300, "ok".to_owned()));
    }

    #[test]
    fn every_commit_is_in_the_files_when_it_returns() {
        let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        let dir = tempfile::tempdir().unwrap();
        let conn = buffered(dir.path(), 64 * 1024);
        let reader = crate::open_reader(&dir.path().join("t.db"), &SETTINGS).unwrap();
        let mut expected = 0;
        // Small commits, commits of many pages, and one past FLUSH_AT (written out before its
        // sync as well as at it).
        for (n, size) in [(1, 10), (50, 1000), (300, 3000), (1, 10), (1500, 4000), (20, 100)] {
            conn.execute_batch("BEGIN").unwrap();
            insert(&conn, n, size);
            conn.execute_batch("COMMIT").unwrap();
            expected += n as i64;
            assert_eq!(rows(&reader), expected, "another connection sees the commit");
            assert_eq!(after_a_crash(dir.path()), (expected, "ok".to_owned()), "after {n} rows of {size} bytes");
        }
        // Folded into the database, and the WAL started over from its first frame.
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
        for _ in 0..3 {
            conn.execute_batch("BEGIN").unwrap();
            insert(&conn, 100, 2000);
            conn.execute_batch("COMMIT").unwrap();
            expected += 100;
            assert_eq!(after_a_crash(dir.path()), (expected, "ok".to_owned()), "after the WAL started over");
        }
        drop(reader);
        drop(conn);
        let conn = open(&dir.path().join("t.db"), &SETTINGS).unwrap();
        assert_eq!(rows(&conn), expected, "reopened");
    }

    #[test]
    fn a_transaction_larger_than_the_cache_reads_its_own_pages_back_and_rolls_back() {
        let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        let dir = tempfile::tempdir().unwrap();
        // 64 KiB of cache: the transaction's pages spill into the WAL before it commits, and
        // SQLite reads them back from there.
        let conn = buffered(dir.path(), 64);
        conn.execute_batch("BEGIN").unwrap();
        insert(&conn, 500, 1000);
        conn.execute_batch("COMMIT").unwrap();
        conn.execute_batch("BEGIN").unwrap();
        insert(&conn, 2000, 1000);
        let seen: i64 = conn.query_row("SELECT count(*) FROM t WHERE length(v) = 1000", [], |r| r.get(0)).unwrap();
        assert_eq!(seen, 2500, "the spilled pages read back");
        conn.execute_batch("ROLLBACK").unwrap();
        assert_eq!(rows(&conn), 500);
        assert_eq!(after_a_crash(dir.path()), (500, "ok".to_owned()));
        conn.execute_batch("BEGIN; SAVEPOINT a").unwrap();
        insert(&conn, 1000, 1000);
        conn.execute_batch("ROLLBACK TO a; RELEASE a").unwrap();
        insert(&conn, 700, 1000);
        conn.execute_batch("COMMIT").unwrap();
        assert_eq!(rows(&conn), 1200);
        assert_eq!(after_a_crash(dir.path()), (1200, "ok".to_owned()));
    }
}
