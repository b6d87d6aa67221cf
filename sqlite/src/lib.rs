//! How Oxim opens SQLite and migrates its schemas: one definition for the SDK's local store
//! (`oxim-core`) and the server's embedded store (`oxim-server`).
//!
//! - [`open`]: a read-write connection in WAL mode with Oxim's pragmas, a statement cache of the
//!   size asked for, and plans that never depend on bound values (QPSG).
//! - [`open_buffered`]: the same, for a connection that answers only after its commits are on
//!   the disk (`synchronous = FULL`), with each commit's WAL writes gathered into writes of up
//!   to 124 KiB ([`wal_buffer`]).
//! - [`open_reader`]: a read-only connection with the same cache and plans (WAL readers).
//! - [`sync_database_file`]: fsyncs a connection's database file through SQLite's own handle
//!   (a checkpoint that stops short of the WAL's end leaves what it copied unsynced).
//! - [`migrate`]: applies the schema migrations not yet applied, each in its own transaction,
//!   counting them in `PRAGMA user_version`; refuses a database whose schema is newer than the
//!   migrations this binary knows ([`MigrateError::TooNew`]), instead of running against
//!   tables it does not understand.
//!
//! ```no_run
//! const MIGRATIONS: &[&str] = &["CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);"];
//! let settings = oxim_sqlite::Settings { statement_cache: 128, busy_timeout: None };
//! let mut conn = oxim_sqlite::open(std::path::Path::new("oxim.db"), &settings)?;
//! oxim_sqlite::migrate(&mut conn, MIGRATIONS)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

pub mod wal_buffer;

/// What differs between the connections Oxim opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Prepared statements kept per connection. rusqlite keeps 16 by default, fewer than one
    /// message's way through either store uses, so the cache thrashed and SQL was parsed again
    /// on every call. The SDK uses 128, the server 256.
    pub statement_cache: usize,
    /// How long a statement waits for a lock held by another connection before failing with
    /// `SQLITE_BUSY` (`None`: it fails at once, SQLite's default). The server's connections
    /// share one file between threads and wait up to 10 s.
    pub busy_timeout: Option<Duration>,
}

/// Opens (creating if needed) the database at `path` for reading and writing: WAL (readers
/// never block the writer), `synchronous = NORMAL` (a commit survives a process crash; a power
/// cut can lose the last commits that the OS had not flushed yet), temporary tables in memory
/// (Android cannot always create temporary files), then [`Settings`] and stable plans.
pub fn open(path: &Path, settings: &Settings) -> rusqlite::Result<Connection> {
    prepare(Connection::open(path)?, "NORMAL", settings)
}

/// [`open`], with `synchronous = FULL` (every commit fsyncs the WAL before it returns) and the
/// WAL's writes gathered into writes of up to 124 KiB ([`wal_buffer`]; it needs `FULL`).
/// For a connection that writes much and answers only after its commits are on the disk.
pub fn open_buffered(path: &Path, settings: &Settings) -> rusqlite::Result<Connection> {
    wal_buffer::register()?;
    let conn = Connection::open_with_flags_and_vfs(path, OpenFlags::default(), wal_buffer::NAME)?;
    prepare(conn, "FULL", settings)
}

/// Oxim's pragmas and [`Settings`] on a newly opened read-write connection.
fn prepare(conn: Connection, synchronous: &str, settings: &Settings) -> rusqlite::Result<Connection> {
    if let Some(timeout) = settings.busy_timeout {
        conn.busy_timeout(timeout)?;
    }
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", synchronous)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    tune(&conn, settings)?;
    Ok(conn)
}

/// Opens the database at `path` read-only (no mutex: each reader is used by one thread at a
/// time), with the same statement cache, busy timeout and stable plans as [`open`]. The
/// database must exist and be in WAL mode already (a writer opened it with [`open`]).
pub fn open_reader(path: &Path, settings: &Settings) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    if let Some(timeout) = settings.busy_timeout {
        conn.busy_timeout(timeout)?;
    }
    tune(&conn, settings)?;
    Ok(conn)
}

/// Flushes the database file of `conn` (its `main` database) to the disk, through the file
/// handle SQLite holds (closing a second handle to the file would drop SQLite's POSIX locks).
///
/// A WAL checkpoint fsyncs the database only when it copies the WAL up to its end; one that stops
/// short (a PASSIVE checkpoint while a writer goes on committing) leaves the pages it copied
/// dirty in the OS, and whichever checkpoint next reaches the end pays for writing all of them.
/// Calling this after such a checkpoint moves that work onto the caller's thread.
pub fn sync_database_file(conn: &Connection) -> rusqlite::Result<()> {
    use rusqlite::ffi;
    let mut file: *mut ffi::sqlite3_file = std::ptr::null_mut();
    // SAFETY: `conn` is open for as long as this borrow lasts and is used by this thread only
    // meanwhile (`Connection` is not `Sync`); SQLITE_FCNTL_FILE_POINTER writes one pointer to
    // the `sqlite3_file` it keeps for `main`, valid while the connection is open.
    let rc = unsafe {
        ffi::sqlite3_file_control(
            conn.handle(),
            c"main".as_ptr(),
            ffi::SQLITE_FCNTL_FILE_POINTER,
            (&mut file as *mut *mut ffi::sqlite3_file).cast(),
        )
    };
    if rc != ffi::SQLITE_OK {
        return Err(rusqlite::Error::SqliteFailure(ffi::Error::new(rc), Some("no database file to sync".into())));
    }
    // SAFETY: `file` came from SQLite just above and the connection still holds it; its methods
    // are set once the file is open (null for a database without a file, as in memory).
    let sync = unsafe { file.as_ref().and_then(|f| f.pMethods.as_ref()).and_then(|m| m.xSync) };
    let Some(sync) = sync else { return Ok(()) };
    // SAFETY: as above; xSync is called on the connection's own thread, outside any statement.
    let rc = unsafe { sync(file, ffi::SQLITE_SYNC_NORMAL) };
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(rusqlite::Error::SqliteFailure(ffi::Error::new(rc), Some("fsync of the database file failed".into())))
    }
}

fn tune(conn: &Connection, settings: &Settings) -> rusqlite::Result<()> {
    conn.set_prepared_statement_cache_capacity(settings.statement_cache);
    // Plans that never depend on bound values. Without this SQLite compares a bound `?` with the
    // WHERE clause of each partial index (and propagates it through joins), then prepares the
    // statement again whenever the binding changes: a full parse on nearly every call of the
    // hot statements.
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true).map(drop)
}

/// A migration failed, or the database is newer than this binary.
#[derive(Debug)]
pub enum MigrateError {
    /// The database's schema version is above the number of migrations known here: it was
    /// written by a newer release. Nothing was changed.
    TooNew {
        /// The database's `user_version`.
        found: usize,
        /// The migrations this binary knows.
        known: usize,
    },
    /// SQLite failed (the migration that failed was rolled back; earlier ones stay applied).
    Sqlite(rusqlite::Error),
}

impl fmt::Display for MigrateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MigrateError::TooNew { found, known } => write!(
                f,
                "the database has schema version {found}, newer than this binary (which knows {known}): \
                 it was written by a newer release"
            ),
            MigrateError::Sqlite(e) => write!(f, "migration failed: {e}"),
        }
    }
}

impl std::error::Error for MigrateError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            MigrateError::Sqlite(e) => Some(e),
            MigrateError::TooNew { .. } => None,
        }
    }
}

impl From<rusqlite::Error> for MigrateError {
    fn from(e: rusqlite::Error) -> Self {
        MigrateError::Sqlite(e)
    }
}

/// The schema version recorded in the database (how many migrations ran).
pub fn schema_version(conn: &Connection) -> rusqlite::Result<usize> {
    Ok(conn.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))? as usize)
}

/// Applies `migrations[version..]` in order, each in its own transaction that also moves
/// `PRAGMA user_version` on, so a crash between two leaves a consistent, resumable database.
/// Migrations are only ever appended to the list, never edited or reordered.
pub fn migrate(conn: &mut Connection, migrations: &[&str]) -> Result<(), MigrateError> {
    let done = schema_version(conn)?;
    if done > migrations.len() {
        return Err(MigrateError::TooNew { found: done, known: migrations.len() });
    }
    for (i, sql) in migrations.iter().enumerate().skip(done) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SETTINGS: Settings = Settings { statement_cache: 64, busy_timeout: Some(Duration::from_secs(1)) };
    const V1: &[&str] = &["CREATE TABLE a (x INTEGER NOT NULL);"];
    const V2: &[&str] = &["CREATE TABLE a (x INTEGER NOT NULL);", "ALTER TABLE a ADD COLUMN y TEXT;"];

    #[test]
    fn open_sets_wal_normal_sync_and_memory_temp_store() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(&dir.path().join("t.db"), &SETTINGS).unwrap();
        let get = |p: &str| conn.pragma_query_value(None, p, |r| r.get::<_, rusqlite::types::Value>(0)).unwrap();
        assert_eq!(get("journal_mode"), rusqlite::types::Value::Text("wal".into()));
        assert_eq!(get("synchronous"), rusqlite::types::Value::Integer(1), "NORMAL");
        assert_eq!(get("temp_store"), rusqlite::types::Value::Integer(2), "MEMORY");
        assert!(conn.db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG).unwrap());
        let reader = open_reader(&dir.path().join("t.db"), &SETTINGS).unwrap();
        assert!(reader.db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG).unwrap());
        assert!(reader.execute_batch("CREATE TABLE b (x)").is_err(), "readers cannot write");
    }

    #[test]
    fn a_database_file_is_synced_and_one_in_memory_has_nothing_to_sync() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE a (x); INSERT INTO a VALUES (1);").unwrap();
        sync_database_file(&conn).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let on_disk = open(&dir.path().join("t.db"), &SETTINGS).unwrap();
        on_disk.execute_batch("CREATE TABLE a (x); INSERT INTO a VALUES (1);").unwrap();
        sync_database_file(&on_disk).unwrap();
    }

    #[test]
    fn migrations_run_once_and_resume_where_they_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut conn = open(&path, &SETTINGS).unwrap();
        migrate(&mut conn, V1).unwrap();
        migrate(&mut conn, V1).unwrap();
        assert_eq!(schema_version(&conn).unwrap(), 1);
        conn.execute("INSERT INTO a (x) VALUES (1)", []).unwrap();
        migrate(&mut conn, V2).unwrap();
        assert_eq!(schema_version(&conn).unwrap(), 2);
        let y: Option<String> = conn.query_row("SELECT y FROM a", [], |r| r.get(0)).unwrap();
        assert_eq!(y, None, "the row survived the second migration");
    }

    #[test]
    fn a_failing_migration_changes_nothing_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open(&dir.path().join("t.db"), &SETTINGS).unwrap();
        let broken = &[V1[0], "CREATE TABLE b (x); THIS IS NOT SQL;"];
        assert!(matches!(migrate(&mut conn, broken), Err(MigrateError::Sqlite(_))));
        assert_eq!(schema_version(&conn).unwrap(), 1, "the first migration stays, the second rolled back");
        assert!(conn.prepare("SELECT * FROM b").is_err());
    }

    #[test]
    fn a_schema_newer_than_this_binary_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut conn = open(&path, &SETTINGS).unwrap();
        migrate(&mut conn, V2).unwrap();
        drop(conn);
        let mut older = open(&path, &SETTINGS).unwrap();
        let err = migrate(&mut older, V1).unwrap_err();
        assert!(matches!(err, MigrateError::TooNew { found: 2, known: 1 }), "{err:?}");
        assert!(err.to_string().contains("newer than this binary"), "{err}");
        assert_eq!(schema_version(&older).unwrap(), 2, "nothing was changed");
    }
}
