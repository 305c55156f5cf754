/* tools/lexrag-ingest.c -- the command line of lexrag-ingest, the one writer of lexrag's data:
 *   migrate   apply the SQL migrations compiled into the binary (sql/NNN_*.sql)
 *   load      parse statutes, upsert them into PostgreSQL, embed what is new or changed,
 *             update the BM25 index, rebuild the vector index
 *   reindex   rebuild both indexes from PostgreSQL and swap them in
 *   stats     what the database and the index files hold
 * The worker's config file configures it too ([postgres], [embedder], [index], [retrieval]).
 * The phases are in tools/ingest_*.c (see tools/ingest.h). Exit status: 0 success, 1 a
 * failure while working (database, bad input lines, embedding, indexes), 2 a usage error. */
#include "ingest.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../shared/cfg.h"
#include "../shared/log.h"

#define EXIT_USAGE 2

struct opts {
    const char *config, *docs, *doc_id, *title;
    enum ing_prune prune;
    int skip_bad, quiet;
};

static void usage(FILE *f)
{
    fprintf(f, "usage: lexrag-ingest [--config PATH] COMMAND [OPTIONS] [FILE...]\n"
               "\n"
               "commands:\n"
               "  migrate          apply the database migrations not applied yet\n"
               "  load FILE...     load statutes: JSON Lines records (*.jsonl, the format of\n"
               "                   id-law-corpus.jsonl) or plain-text/Markdown statutes (*.txt,\n"
               "                   *.md) split at their \"Pasal N\" headings; migrates if needed,\n"
               "                   embeds new and changed units, updates the indexes. Loading\n"
               "                   the same input again changes nothing.\n"
               "  reindex          rebuild the BM25 and vector indexes from the database\n"
               "  stats            units per kind and doc_type, vectors per model, index files\n"
               "\n"
               "load options:\n"
               "  --docs FILE      documents (the format of id-law-docs.jsonl): titles, tentang,\n"
               "                   source, flags; without it documents come from the records\n"
               "  --doc-id ID      the document of one text file (UU-1-2031); else its title line\n"
               "  --title TITLE    its title (\"Undang-Undang Nomor 1 Tahun 2031 tentang ...\")\n"
               "  --prune          also delete the units of each loaded document that the input\n"
               "                   no longer has (from the database and the BM25 index)\n"
               "  --prune-all      delete every unit and document the input does not have\n"
               "  --skip-bad       report bad input lines but do not fail because of them\n"
               "  --quiet          no progress display (the summary is still printed)\n"
               "\n"
               "Without --prune nothing is ever deleted, except the definitions of a loaded\n"
               "Ketentuan Umum article that its new text no longer has. The config path may also\n"
               "come from LEXRAG_CONFIG; without one the embedded defaults are used.\n"
               "Exit status: 0 success, 1 failure (database, bad lines, embedding, indexes),\n"
               "2 usage or configuration error.\n");
}

static int is_jsonl(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot != NULL && (strcasecmp(dot, ".jsonl") == 0 || strcasecmp(dot, ".ndjson") == 0 ||
                        strcasecmp(dot, ".json") == 0))
        return 1;
    if (dot != NULL && (strcasecmp(dot, ".txt") == 0 || strcasecmp(dot, ".md") == 0 ||
                        strcasecmp(dot, ".markdown") == 0))
        return 0;
    FILE *f = fopen(path, "r"); /* no telling name: a JSON line starts with '{' */
    int c = EOF;
    if (f != NULL) {
        while ((c = fgetc(f)) == ' ' || c == '\n' || c == '\r' || c == '\t')
            ;
        fclose(f);
    }
    return c == '{';
}

static PGconn *connect_locked(const struct cfg *cfg)
{
    PGconn *c = db_connect(cfg->pg_conninfo);
    if (c != NULL && db_lock(c) != 0) {
        db_close(c);
        return NULL;
    }
    return c;
}

/* ---- migrate ---------------------------------------------------------------------------- */

static int cmd_migrate(const struct cfg *cfg)
{
    PGconn *c = connect_locked(cfg);
    if (c == NULL)
        return 1;
    int applied;
    int rc = db_migrate(c, &applied);
    if (rc == 0)
        printf("schema version %d (%d migration%s applied now)\n", db_schema_version(c), applied,
               applied == 1 ? "" : "s");
    db_close(c);
    return rc == 0 ? 0 : 1;
}

/* ---- load ------------------------------------------------------------------------------- */

struct times {
    double parse, database, embed, bm25, ann, total;
};

static int set_pending(void *ud)
{
    return pending_set(ud);
}

static int parse_inputs(struct ing_set *s, const struct opts *o, char **files, int nfiles,
                        double *secs)
{
    uint64_t total = 0;
    for (int i = 0; i < nfiles; i++) {
        struct stat st;
        if (is_jsonl(files[i]) && stat(files[i], &st) == 0)
            total += (uint64_t)st.st_size;
    }
    struct ing_progress p;
    prog_start(&p, "parse", total, "records");
    int rc = o->docs ? parse_docs_file(s, o->docs) : 0;
    struct ing_text_opts to = {o->doc_id, o->title};
    for (int i = 0; i < nfiles && rc == 0; i++) {
        if (is_jsonl(files[i])) {
            rc = parse_jsonl(s, files[i], &p);
        } else {
            rc = parse_text(s, files[i], &to);
            prog_update(&p, p.done, s->records);
        }
    }
    if (rc == 0 && set_finish(s) != 0) {
        prog_msg("%s: out of memory\n", ING_PROG);
        rc = -1;
    }
    prog_update(&p, p.done, s->records);
    *secs = prog_end(&p);
    return rc;
}

static void print_load_summary(const struct ing_set *s, const struct ing_db_stats *d,
                               const struct ing_embed_stats *e, const struct ing_index_stats *ix,
                               const struct cfg *cfg, const struct times *t, int bm25_touched,
                               int ann_touched)
{
    printf("lexrag-ingest load: %s in %.2f s\n", s->bad ? "done with bad lines" : "done", t->total);
    printf("  documents  %zu: %zu inserted, %zu updated, %zu unchanged\n", s->ndocs,
           d->docs_inserted, d->docs_updated, d->docs_unchanged);
    printf("  units      %zu: %zu articles, %zu definitions, %zu containers (from %zu records, "
           "%zu bad lines)\n",
           s->nunits, s->articles, s->definitions, s->containers, s->records, s->bad);
    printf("  changes    inserted %zu, updated %zu, unchanged %zu, deleted %zu\n", d->inserted,
           d->updated, d->unchanged, d->deleted);
    printf("  embedded   %zu of %zu needed (model %s, dim %lu)%s\n", e->embedded, e->wanted,
           cfg->emb_model, cfg->emb_dim, e->failed ? ", SOME FAILED" : "");
    if (bm25_touched)
        printf("  bm25       %zu put, %zu deleted%s; %zu units in the index\n", ix->bm25_put,
               ix->bm25_deleted, ix->bm25_rebuilt ? " (rebuilt)" : "", ix->bm25_docs);
    else
        printf("  bm25       untouched (nothing changed)\n");
    if (ann_touched)
        printf("  ann        %zu vectors in dense.ann%s\n", ix->ann_vectors,
               ix->ann_built ? "" : " (FAILED)");
    else
        printf("  ann        untouched (nothing changed)\n");
    printf("  seconds    parse %.2f, database %.2f, embed %.2f, bm25 %.2f, ann %.2f\n", t->parse,
           t->database, t->embed, t->bm25, t->ann);
    printf("  rate       %.0f units/s overall\n", t->total > 0 ? s->nunits / t->total : 0.0);
}

static int cmd_load(const struct cfg *cfg, const struct opts *o, char **files, int nfiles)
{
    double t0 = now_s();
    struct times t = {0};
    struct ing_set *s = set_new();
    struct ing_db_stats d = {0};
    struct ing_embed_stats e = {0};
    struct ing_index_stats ix = {0};
    struct ing_paths ph;
    struct ing_progress p;
    PGconn *c = NULL;
    int rc = 1, failed = 0, bm25_touched = 0, ann_touched = 0, index_failed = 0;
    if (s == NULL) {
        prog_msg("%s: out of memory\n", ING_PROG);
        return 1;
    }
    if (parse_inputs(s, o, files, nfiles, &t.parse) != 0)
        goto out;
    if (s->nunits == 0) {
        prog_msg("%s: no units in the input%s\n", ING_PROG, s->bad ? " (only bad lines)" : "");
        goto out;
    }
    if (paths_init(&ph, cfg->index_dir, 1) != 0 || (c = connect_locked(cfg)) == NULL)
        goto out;
    int applied;
    if (db_migrate(c, &applied) != 0)
        goto out;
    int full = pending_exists(&ph) || !path_exists(ph.bm25);
    if (pending_exists(&ph))
        prog_msg("%s: an earlier ingest did not finish: rebuilding the indexes\n", ING_PROG);

    prog_start(&p, "database", s->nunits, "units");
    int drc = db_upsert(c, s, o->prune, &d, set_pending, &ph, &p);
    prog_update(&p, s->nunits, s->nunits);
    t.database = prog_end(&p);
    if (drc != 0)
        goto out;
    int changed = d.inserted + d.updated + d.deleted > 0;

    prog_start(&p, "embed", 0, "units");
    failed |= embed_missing(c, cfg, &e, &p) != 0;
    t.embed = prog_end(&p);

    if (full || changed) {
        bm25_touched = 1;
        prog_start(&p, "bm25", full ? 0 : d.inserted + d.updated + d.deleted, "units");
        index_failed |=
            (full ? bm25_rebuild(c, &ph, &ix, &p) : bm25_incremental(&ph, s, &d, &ix, &p)) != 0;
        t.bm25 = prog_end(&p);
    }
    if (full || changed || e.embedded > 0 || !path_exists(ph.ann)) {
        ann_touched = 1;
        prog_start(&p, "ann", 0, "vectors");
        index_failed |= ann_rebuild(c, &ph, cfg->emb_model, (unsigned)cfg->emb_dim, &ix, &p) != 0;
        t.ann = prog_end(&p);
    }
    if (!index_failed) /* the indexes match the database (but for vectors that failed) */
        pending_clear(&ph);
    failed |= index_failed;
    t.total = now_s() - t0;
    print_load_summary(s, &d, &e, &ix, cfg, &t, bm25_touched, ann_touched);
    if (s->bad > 0 && !o->skip_bad)
        prog_msg("%s: %zu bad input line%s (see above): exit status 1 (--skip-bad accepts them)\n",
                 ING_PROG, s->bad, s->bad == 1 ? "" : "s");
    rc = failed || (s->bad > 0 && !o->skip_bad) ? 1 : 0;
out:
    db_close(c);
    db_stats_free(&d);
    set_free(s);
    return rc;
}

/* ---- reindex ---------------------------------------------------------------------------- */

static int cmd_reindex(const struct cfg *cfg)
{
    double t0 = now_s();
    struct ing_paths ph;
    struct ing_index_stats ix = {0};
    struct ing_progress p;
    if (paths_init(&ph, cfg->index_dir, 1) != 0)
        return 1;
    PGconn *c = connect_locked(cfg);
    if (c == NULL)
        return 1;
    int rc = 1, v = db_schema_version(c);
    if (v <= 0) {
        if (v == 0)
            prog_msg("%s: the database has no schema yet: run lexrag-ingest migrate, then load\n",
                     ING_PROG);
        goto out;
    }
    if (pending_set(&ph) != 0)
        goto out;
    prog_start(&p, "bm25", 0, "units");
    int failed = bm25_rebuild(c, &ph, &ix, &p) != 0;
    double tb = prog_end(&p);
    prog_start(&p, "ann", 0, "vectors");
    failed |= ann_rebuild(c, &ph, cfg->emb_model, (unsigned)cfg->emb_dim, &ix, &p) != 0;
    double ta = prog_end(&p);
    if (!failed)
        pending_clear(&ph);
    long missing = db_count_missing_vectors(c, cfg->emb_model, (unsigned)cfg->emb_dim);
    printf("lexrag-ingest reindex: %s in %.2f s\n", failed ? "FAILED" : "done", now_s() - t0);
    printf("  bm25       %zu units (%.2f s)\n", ix.bm25_docs, tb);
    printf("  ann        %zu vectors of model %s (%.2f s)\n", ix.ann_vectors, cfg->emb_model, ta);
    if (missing > 0)
        printf("  note       %ld units have no current vector for this model: run load to "
               "embed them\n",
               missing);
    rc = failed ? 1 : 0;
out:
    db_close(c);
    return rc;
}

/* ---- stats ------------------------------------------------------------------------------ */

static int cmd_stats(const struct cfg *cfg)
{
    PGconn *c = db_connect(cfg->pg_conninfo);
    if (c == NULL)
        return 1;
    int rc = db_print_stats(c, cfg) == 0 ? 0 : 1;
    db_close(c);
    struct ing_paths ph;
    if (paths_init(&ph, cfg->index_dir, 0) == 0)
        index_print_stats(&ph, (unsigned)cfg->emb_dim);
    return rc;
}

/* ---- main ------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    enum { O_DOCS = 256, O_DOC_ID, O_TITLE, O_PRUNE, O_PRUNE_ALL, O_SKIP_BAD, O_QUIET };
    static const struct option lopts[] = {{"config", required_argument, NULL, 'c'},
                                          {"docs", required_argument, NULL, O_DOCS},
                                          {"doc-id", required_argument, NULL, O_DOC_ID},
                                          {"title", required_argument, NULL, O_TITLE},
                                          {"prune", no_argument, NULL, O_PRUNE},
                                          {"prune-all", no_argument, NULL, O_PRUNE_ALL},
                                          {"skip-bad", no_argument, NULL, O_SKIP_BAD},
                                          {"quiet", no_argument, NULL, O_QUIET},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    struct opts o = {.config = getenv("LEXRAG_CONFIG")};
    int ch;
    while ((ch = getopt_long(argc, argv, "c:hq", lopts, NULL)) != -1) {
        switch (ch) {
        case 'c': o.config = optarg; break;
        case O_DOCS: o.docs = optarg; break;
        case O_DOC_ID: o.doc_id = optarg; break;
        case O_TITLE: o.title = optarg; break;
        case O_PRUNE: o.prune = ING_PRUNE_DOCS; break;
        case O_PRUNE_ALL: o.prune = ING_PRUNE_ALL; break;
        case O_SKIP_BAD: o.skip_bad = 1; break;
        case 'q':
        case O_QUIET: o.quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[optind++];
    char **files = argv + optind;
    int nfiles = argc - optind;
    int is_load = strcmp(cmd, "load") == 0;
    if (!is_load && strcmp(cmd, "migrate") != 0 && strcmp(cmd, "reindex") != 0 &&
        strcmp(cmd, "stats") != 0) {
        fprintf(stderr, "%s: unknown command \"%s\"\n", ING_PROG, cmd);
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!is_load && (nfiles > 0 || o.docs || o.doc_id || o.title || o.prune || o.skip_bad)) {
        fprintf(stderr, "%s: %s takes no files and no load options\n", ING_PROG, cmd);
        return EXIT_USAGE;
    }
    if (is_load && nfiles == 0) {
        fprintf(stderr, "%s: load: no input files\n", ING_PROG);
        return EXIT_USAGE;
    }
    int ntext = 0;
    for (int i = 0; i < nfiles; i++) {
        struct stat st;
        if (stat(files[i], &st) != 0 || !S_ISREG(st.st_mode)) {
            fprintf(stderr, "%s: %s: %s\n", ING_PROG, files[i],
                    access(files[i], F_OK) != 0 ? strerror(errno) : "not a regular file");
            return EXIT_USAGE;
        }
        ntext += !is_jsonl(files[i]);
    }
    if ((o.doc_id || o.title) && ntext != 1) {
        fprintf(stderr, "%s: --doc-id and --title describe exactly one text file (%d given)\n",
                ING_PROG, ntext);
        return EXIT_USAGE;
    }
    if (o.docs != NULL && access(o.docs, R_OK) != 0) {
        fprintf(stderr, "%s: --docs %s: %s\n", ING_PROG, o.docs, strerror(errno));
        return EXIT_USAGE;
    }

    struct cfg *cfg = malloc(sizeof *cfg);
    char *err = NULL;
    if (cfg == NULL || cfg_load(cfg, o.config, &err) != 0) {
        fprintf(stderr, "%s: config: %s\n", ING_PROG, err ? err : "out of memory");
        free(err);
        free(cfg);
        return EXIT_USAGE;
    }
    enum log_level lvl;
    if (log_level_parse(cfg->log_level, &lvl) == 0)
        log_set_level(lvl);
    signal(SIGPIPE, SIG_IGN);
    prog_init(o.quiet);

    int rc;
    if (strcmp(cmd, "migrate") == 0)
        rc = cmd_migrate(cfg);
    else if (is_load)
        rc = cmd_load(cfg, &o, files, nfiles);
    else if (strcmp(cmd, "reindex") == 0)
        rc = cmd_reindex(cfg);
    else
        rc = cmd_stats(cfg);
    free(cfg);
    return rc;
}
