/* `tuban import`: read a patch file, check every record, and apply it to the store as one
 * transaction — all or nothing.  Refusals list every problem (file, record, patch id, field) as
 * text and as JSON; the store is then unchanged. */
#ifndef TB_IMPORTER_H
#define TB_IMPORTER_H

#include "patch_source.h"
#include "store.h"
#include "tb_arena.h"
#include "tb_err.h"

#include <stdio.h>

typedef struct import_request {
    const char *file;
    ingest_options opt;       /* layer, srs, encoding, repair (mapping is loaded from below) */
    const char *mapping_path; /* mapping profile XML, or NULL */
    const char *batch;        /* "2022" or "2019Q3"; NULL = from the data's NF/JD */
    const char *source;       /* "部" or "省"; NULL = 部 */
    const char *db_path;
    const char *townships_csv; /* "code,name" lines registering the county's townships */
    const char *who;           /* recorded in the history; NULL = $USER */
    const char *at;            /* when the export was taken: "YYYY-MM-DD[Thh:mm:ss]", NULL = now */
    FILE *progress;            /* progress lines (NULL = quiet) */
} import_request;

typedef struct import_outcome {
    ingest_report *report;
    store_batch batch;
    const char *batch_label;
    bool refused;               /* problems found: nothing was written */
    store_import_result result; /* when not refused */
    char **changes;             /* "new|changed|missing <id>: what", the first 1000 */
    size_t change_count;
} import_outcome;

/* Runs the import.  Returns TB_OK when the file was read to the end (then out->refused says
 * whether it was applied); an error when it could not be read at all (err set). */
tb_code importer_run(const import_request *req, tb_arena *a, import_outcome *out, tb_err *err)
    TB_MUST_CHECK;

/* The report as text a clerk can act on. */
void importer_print(FILE *f, const import_outcome *o);

/* The same as JSON (schema in docs/import-report.md), written atomically. */
tb_code importer_write_json(const char *path, const import_outcome *o, tb_err *err)
    TB_MUST_CHECK;

/* Parses "2022" / "2019Q3" / "2019-Q3" into a batch (source set separately). */
bool importer_parse_batch(const char *label, store_batch *out);

#endif
