/* Signing and verification figures, in one process on the sample office:
 *   - rendering a notice with maps, signing included, against signing that notice once more
 *     (pdfsig_sign on the finished PDF: the same work as its first signature — parse, update with
 *     the seal appearance, hash, CMS), so the share signing adds to rendering;
 *   - pdfsig_verify on the notice (documents per second on one core, with the trust chain);
 *   - pdfsig_verify on the same notice carrying 1, 10, 50 and 100 signatures (time against file
 *     size: linear, not quadratic).
 * Usage: bench_sign [N] [office dir] [patch file] */
#include "tb_features.h"

#include "docs_int.h"
#include "patch_source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
verify_ms(const tb_buf *pdf, const pdfsig_verify_opts *vo, int reps)
{
    pdfsig_info info;
    tb_err err = {0};
    double t = now_s();
    for (int i = 0; i < reps; i++)
        if (pdfsig_verify(pdf->data, pdf->len, vo, &info, &err) != TB_OK || !info.ok) {
            fprintf(stderr, "bench: verify failed: %s %s\n", err.msg, info.detail);
            exit(1);
        }
    return (now_s() - t) * 1000.0 / reps;
}

int
main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 20;
    const char *office = argc > 2 ? argv[2] : TUBAN_SOURCE_DIR "/templates/sample-office";
    const char *patches = argc > 3 ? argv[3] : TUBAN_SOURCE_DIR "/samples/patches.gpkg";
    tb_err err = {0};
    tb_arena *a = tb_arena_new(0);
    patch_set *set = patch_set_load(patches, NULL, a, &err);
    render_ctx *rc = set ? render_ctx_open(office, NULL, &err) : NULL;
    if (rc == NULL) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    const patch **ill = tb_xmalloc_array(set->count + 1, sizeof *ill);
    size_t k = 0;
    for (size_t i = 0; i < set->count; i++)
        if (set->items[i].legality == LEGALITY_ILLEGAL &&
            strcmp(set->items[i].admin_code, "139901100") == 0)
            ill[k++] = &set->items[i];
    render_options opt = {.date = {2024, 11, 20}, .first_number = 1, .signing_time = 1732060800};

    tb_buf doc = TB_BUF_INIT;
    double t = now_s();
    for (int i = 0; i < n; i++) {
        doc.len = 0;
        if (notice_render(rc, ill, k, &opt, i + 1, NULL, &doc, &err) != TB_OK) {
            fprintf(stderr, "bench: %s\n", err.msg);
            return 1;
        }
    }
    double render_ms = (now_s() - t) * 1000.0 / n;

    tb_buf copy = TB_BUF_INIT;
    pdfsig_field f = {.page = 1, .x_pt = 300, .y_pt = 100, .w_pt = 119, .h_pt = 119,
                      .name = "Bench", .signing_time = 1732060800, .appearance = rc->seal_image};
    t = now_s();
    for (int i = 0; i < n; i++) {
        copy.len = 0;
        tb_buf_append(&copy, doc.data, doc.len);
        if (pdfsig_sign(&copy, rc->signer, &f, &err) != TB_OK) {
            fprintf(stderr, "bench: %s\n", err.msg);
            return 1;
        }
    }
    double sign_ms = (now_s() - t) * 1000.0 / n;
    printf("notice with %zu maps (%zu KB): render+sign %.1f ms, of which signing %.2f ms "
           "(signing adds %.1f%% to rendering)\n",
           k, doc.len / 1024, render_ms, sign_ms, 100.0 * sign_ms / (render_ms - sign_ms));

    pdfsig_verify_opts vo = {rc->office->chain_path, rc->office->cert_path};
    double v1 = verify_ms(&doc, &vo, 10 * n);
    printf("tuban verify (in process, chain and office checked): %.3f ms per notice = %.0f "
           "documents/s on one core\n", v1, 1000.0 / v1);

    tb_buf many = TB_BUF_INIT;
    tb_buf_append(&many, doc.data, doc.len);
    int sigs = 1;
    const int marks[] = {10, 50, 100};
    printf("signatures  file KB  verify ms  ms per MB\n");
    printf("%10d %8zu %10.3f %10.3f\n", sigs, many.len / 1024, v1, v1 / (many.len / 1048576.0));
    for (size_t m = 0; m < sizeof marks / sizeof marks[0]; m++) {
        while (sigs < marks[m]) {
            pdfsig_field g = f;
            g.name = NULL;
            g.appearance = NULL;
            if (pdfsig_sign(&many, rc->signer, &g, &err) != TB_OK) {
                fprintf(stderr, "bench: %s\n", err.msg);
                return 1;
            }
            sigs++;
        }
        double v = verify_ms(&many, &vo, 20);
        printf("%10d %8zu %10.3f %10.3f\n", sigs, many.len / 1024, v,
               v / (many.len / 1048576.0));
    }
    tb_buf_release(&many);
    tb_buf_release(&copy);
    tb_buf_release(&doc);
    free(ill);
    render_ctx_close(rc);
    tb_arena_free(a);
    return 0;
}
