/* shared/spool.h -- a durable on-disk spool for exchanges that could not be written to
 * PostgreSQL (the database was down when a chat stream ended). A record is an opaque byte
 * string (the exchange's JSON) kept as DIR/<id>.json, keyed by the caller's id (a message id:
 * [A-Za-z0-9-]{1,64}; anything else is refused). A put writes DIR/.tmp-<id>-<pid>, fsyncs it,
 * renames it over DIR/<id>.json and fsyncs the directory, so after a crash a record is either
 * whole or absent; putting an id again replaces its record.
 *
 * Several worker processes may share one directory. Two of them may hand out the same record;
 * that is fine because the database write is idempotent by message id, and a remove that finds
 * the record already gone succeeds. Temporary files left by a process that died mid-put
 * (older than LX_SPOOL_TMP_STALE_S, their pid not alive) are removed at open.
 *
 * BLOCKING: every call does small synchronous file operations (put: two fsyncs; next: a
 * directory read per scan pass and one file read). The spool is only used while PostgreSQL is
 * down, and callers must keep its volume small: a modest max_records, and retry scans paced by
 * a timer, never in a tight loop on the event loop.
 *
 * Conventions: an opaque handle; errors as char **err (NULL on entry; a malloc'ed message on
 * failure, which replaces any message already there) or as -1 with errno set. */
#ifndef LX_SHARED_SPOOL_H
#define LX_SHARED_SPOOL_H

#include <stddef.h>

/* Ids are message ids: [A-Za-z0-9-], 1 to this many bytes (a UUID is 36). */
#define LX_SPOOL_ID_MAX_BYTES 64
/* One record (an exchange: question, answer, references) is far below this; a larger put is
 * refused, and a larger file found in the directory is not read. */
#define LX_SPOOL_RECORD_MAX_BYTES (16 * 1024 * 1024)
/* A put holds its temporary file for milliseconds: one this old belongs to a dead process. */
#define LX_SPOOL_TMP_STALE_S 60

struct spool;

/* Open the spool in dir, creating dir (mode 0700; its parent must exist) if missing, and
 * count the records already there (after a restart, or those of other workers). At most
 * max_records records may be held (0: no limit). NULL + *err if dir cannot be created or
 * opened, or is not writable. */
struct spool *spool_open(const char *dir, size_t max_records, char **err);
void spool_close(struct spool *s); /* NULL is a no-op */

/* 1 if id is a valid record id, else 0. */
int spool_id_valid(const char *id);

/* Store data[0..len) under id, durably (see above). 0, or -1 + *err: a bad id, len over
 * LX_SPOOL_RECORD_MAX_BYTES, the spool full (max_records records, and id not among them), or
 * an I/O error (no temporary file is left behind; only when the final fsync of the directory
 * fails is the record in place, though perhaps not durably). The limit holds per directory:
 * a handle that counts max_records reads the directory again before it refuses; processes
 * putting at the same moment may overshoot it by a record each. */
int spool_put(struct spool *s, const char *id, const void *data, size_t len, char **err);

/* The oldest record (by mtime, then id) not yet handed out in this scan: 1 and id_out (cap
 * must exceed LX_SPOOL_ID_MAX_BYTES), *data (malloc'ed, the caller frees it; a NUL follows
 * its len bytes) and *len filled; 0 when every record has been handed out; -1 on error, with
 * errno set (ERANGE: cap too small, nothing handed out). A record that cannot be read gives -1
 * with its id in id_out, and counts as handed out, so the next call goes on with the next one;
 * a directory that cannot be read gives -1 and id_out "". Records put during a scan are
 * handed out in the same scan; records removed meanwhile (by another process) are skipped.
 * A record handed out stays in the spool until spool_remove(). */
int spool_next(struct spool *s, char *id_out, size_t cap, void **data, size_t *len);
/* Start a new scan: every record may be handed out again. */
void spool_rewind(struct spool *s);

/* Delete the record id (once it is in the database). 0, also when it was already gone (another
 * process removed it); -1 with errno set (EINVAL for a bad id). Not fsynced: a remove lost to
 * a crash only means the record is written again, which is idempotent. */
int spool_remove(struct spool *s, const char *id);

/* Records in the spool as this handle last saw it: counted at open, at each directory read of
 * a scan and when a put finds the spool full, then changed by this handle's puts and removes
 * (other processes' puts and removes show at the next directory read). For metrics. */
size_t spool_count(const struct spool *s);

#endif
