/* Renders N 整改通知书 from the sample data in one process (office, fonts, seal, key and
 * imagery loaded once, as the daemon will) and prints notices/s and peak RSS.  Each notice is
 * typeset, mapped and signed in full; nothing is written to disk.
 * Usage: bench_notices [N] [office dir] [patch file] */
#include "tb_features.h"

#include "patch_source.h"
#include "render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long
peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

int
main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 50;
    const char *office = argc > 2 ? argv[2] : TUBAN_SOURCE_DIR "/templates/sample-office";
    const char *patches = argc > 3 ? argv[3] : TUBAN_SOURCE_DIR "/samples/patches.gpkg";
    tb_err err = {0};
    tb_arena *a = tb_arena_new(0);

    double t0 = now_s();
    patch_set *set = patch_set_load(patches, NULL, a, &err);
    render_ctx *rc = set ? render_ctx_open(office, NULL, &err) : NULL;
    if (rc == NULL) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    double t_open = now_s() - t0;

    /* The sample's largest township (城关镇: 5 illegal patches → 8 pages with 5 maps). */
    const patch *ill[64];
    size_t k = 0;
    for (size_t i = 0; i < set->count && k < 64; i++)
        if (set->items[i].legality == LEGALITY_ILLEGAL &&
            strcmp(set->items[i].admin_code, "139901100") == 0)
            ill[k++] = &set->items[i];
    render_options opt = {.date = {2024, 11, 20}, .first_number = 1, .signing_time = 1732060800};

    size_t bytes = 0;
    double t1 = now_s();
    for (int i = 0; i < n; i++) {
        tb_buf pdf = TB_BUF_INIT;
        if (notice_render(rc, ill, k, &opt, i + 1, NULL, &pdf, &err) != TB_OK) {
            fprintf(stderr, "bench: %s\n", err.msg);
            return 1;
        }
        bytes += pdf.len;
        tb_buf_release(&pdf);
    }
    double t_render = now_s() - t1;
    printf("notices: %d (each %zu patches, %zu KB average)\n", n, k, bytes / (size_t)n / 1024);
    printf("start-up (load patches, office, fonts, key, imagery): %.3f s\n", t_open);
    printf("render+sign: %.3f s total, %.1f ms per notice, %.1f notices/s\n", t_render,
           1000 * t_render / n, n / t_render);
    printf("peak RSS: %.1f MB\n", peak_rss_kb() / 1024.0);
    render_ctx_close(rc);
    tb_arena_free(a);
    return 0;
}
