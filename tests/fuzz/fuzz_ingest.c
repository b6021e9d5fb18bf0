/* libFuzzer target: the real ingest path (patch_source_open + patch_source_next) on a GeoJSON or
 * CSV file held in GDAL's /vsimem/.  Input layout: byte 0 chooses the format (even = GeoJSON,
 * odd = CSV with --srs EPSG:4490), byte 1 bit 0 toggles --repair, the rest is the file.  The
 * seeds use printable prefixes: "J0"/"J1" GeoJSON without/with repair, "C0"/"C1" CSV.
 * TUBAN_FUZZ_VERBOSE=1 prints what each input gave (to check that seeds reach the record code). */
#include "patch_source.h"
#include "tb_arena.h"
#include "tb_err.h"

#include <cpl_error.h>
#include <cpl_vsi.h>
#include <gdal.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool verbose;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    verbose = getenv("TUBAN_FUZZ_VERBOSE") != NULL;
    CPLSetErrorHandler(CPLQuietErrorHandler);
    GDALAllRegister();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const bool csv = data[0] & 1;
    const bool repair = data[1] & 1;
    const char *path = csv ? "/vsimem/fuzz.csv" : "/vsimem/fuzz.geojson";
    data += 2;
    size -= 2;

    /* GDAL reads the buffer in place and does not take ownership (bTakeOwnership FALSE). */
    VSILFILE *f = VSIFileFromMemBuffer(path, (GByte *)data, (vsi_l_offset)size, FALSE);
    if (!f)
        return 0;
    VSIFCloseL(f);

    tb_arena *a = tb_arena_new(0);
    ingest_report *report = ingest_report_new(a);
    ingest_options opts = {0};
    opts.srs = csv ? "EPSG:4490" : NULL;
    opts.repair = repair;
    tb_err err = {0};
    patch_source *src = patch_source_open(path, &opts, report, &err);
    if (src) {
        (void)patch_source_count(src);
        long good = 0, bad = 0;
        int rc = 0;
        for (long n = 0; n < 100000; n++) {
            patch p;
            memset(&p, 0, sizeof p);
            tb_err rerr = {0};
            rc = patch_source_next(src, a, &p, report, &rerr);
            if (rc <= 0)
                break;
            if (rc == 1)
                good++;
            else
                bad++;
        }
        patch_source_close(src);
        if (verbose)
            fprintf(stderr, "fuzz_ingest: %s repair=%d: %ld good, %ld with errors, last rc %d; "
                    "report: %ld errors, %ld warnings, %ld repaired%s%s\n", path, repair, good,
                    bad, rc, report->errors, report->warnings, report->repaired,
                    report->count ? "; first: " : "",
                    report->count ? report->items[0].message : "");
    } else if (verbose) {
        fprintf(stderr, "fuzz_ingest: %s: not opened: %s\n", path, err.msg);
    }
    tb_arena_free(a);
    VSIUnlink(path);
    return 0;
}
