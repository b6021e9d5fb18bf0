/* Signing and verification figures, in one process on the sample office:
 *   - rendering a notice with maps, signing included, against signing that notice once more
 *     (pdfsig_sign on the finished PDF: the same work as its first signature — parse, update with
 *     the seal appearance, hash, CMS), so the share signing adds to rendering;
 *   - pdfsig_verify on the notice (documents per second on one core, with the trust chain), and
 *     with a pdfsig_verifier (the trust file and the office's certificate read once);
 *   - the CLI: `tuban verify --office … f1 … fN` on N copies in one process, against one process
 *     per file; per core is files over the child's CPU time (user + sys), so other load on the
 *     machine does not count against it;
 *   - pdfsig_verify on the same notice carrying 1, 10, 50 and 100 signatures (time against file
 *     size: linear, not quadratic).
 * Usage: bench_sign [N] [office dir] [patch file] */
#include "tb_features.h"

#include "docs_int.h"
#include "patch_source.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* This process's CPU time: verification figures are per core whatever else the machine runs. */
static double
cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
verify_ms(const tb_buf *pdf, const pdfsig_verify_opts *vo, int reps)
{
    pdfsig_info info;
    tb_err err = {0};
    double t = cpu_s();
    for (int i = 0; i < reps; i++)
        if (pdfsig_verify(pdf->data, pdf->len, vo, &info, &err) != TB_OK || !info.ok) {
            fprintf(stderr, "bench: verify failed: %s %s\n", err.msg, info.detail);
            exit(1);
        }
    return (cpu_s() - t) * 1000.0 / reps;
}

static double
verifier_ms(const tb_buf *pdf, const pdfsig_verifier *v, int reps)
{
    pdfsig_info info;
    tb_err err = {0};
    double t = cpu_s();
    for (int i = 0; i < reps; i++)
        if (pdfsig_verifier_check(v, pdf->data, pdf->len, &info, &err) != TB_OK || !info.ok) {
            fprintf(stderr, "bench: verify failed: %s %s\n", err.msg, info.detail);
            exit(1);
        }
    return (cpu_s() - t) * 1000.0 / reps;
}

static double
child_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* Runs argv (output to /dev/null); exits the bench unless it exits 0. */
static void
run_quiet(char **argv)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int status = 0;
    if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0 ||
        waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench: %s verify failed (status %d)\n", argv[0], status);
        exit(1);
    }
    posix_spawn_file_actions_destroy(&fa);
}

/* tuban verify on `files` copies of pdf: all in one call, then one call per file (at most 20). */
static void
cli_verify(const tb_buf *pdf, const char *office, int files)
{
    char dir[] = "/tmp/bench_sign.XXXXXX";
    if (mkdtemp(dir) == NULL) {
        perror("bench: mkdtemp");
        exit(1);
    }
    char **argv = tb_xcalloc((size_t)files + 5, sizeof *argv);
    argv[0] = TUBAN_BINARY, argv[1] = "verify", argv[2] = "--office", argv[3] = (char *)office;
    for (int i = 0; i < files; i++) {
        argv[4 + i] = tb_xmalloc(sizeof dir + 16);
        snprintf(argv[4 + i], sizeof dir + 16, "%s/%d.pdf", dir, i);
        FILE *f = fopen(argv[4 + i], "wb");
        if (f == NULL || fwrite(pdf->data, 1, pdf->len, f) != pdf->len || fclose(f) != 0) {
            perror("bench: writing a copy");
            exit(1);
        }
    }
    double cpu = child_cpu_s(), t = now_s();
    run_quiet(argv);
    double wall = now_s() - t;
    cpu = child_cpu_s() - cpu;
    printf("tuban verify --office … on %d files in one call: %.2f s wall, %.2f s CPU = %.0f "
           "documents/s per core\n", files, wall, cpu, files / cpu);
    int singles = files < 20 ? files : 20;
    cpu = child_cpu_s(), t = now_s();
    for (int i = 0; i < singles; i++) {
        char *one[] = {argv[0], argv[1], argv[2], argv[3], argv[4 + i], NULL};
        run_quiet(one);
    }
    wall = now_s() - t;
    cpu = child_cpu_s() - cpu;
    printf("tuban verify --office … one process per file (%d files): %.2f s wall, %.2f s CPU = "
           "%.0f documents/s per core\n", singles, wall, cpu, singles / cpu);
    for (int i = 0; i < files; i++) {
        unlink(argv[4 + i]);
        free(argv[4 + i]);
    }
    free(argv);
    rmdir(dir);
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
    printf("pdfsig_verify (in process, chain and office read and checked each call): %.3f ms "
           "CPU per notice = %.0f documents/s on one core\n", v1, 1000.0 / v1);
    pdfsig_verifier *verifier = pdfsig_verifier_new(&vo, &err);
    if (verifier == NULL) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    double v0 = verifier_ms(&doc, verifier, 10 * n);
    printf("pdfsig_verifier_check (trust and office read once): %.3f ms CPU per notice = %.0f "
           "documents/s on one core\n", v0, 1000.0 / v0);
    pdfsig_verifier_free(verifier);
    cli_verify(&doc, office, 10 * n);

    tb_buf many = TB_BUF_INIT;
    tb_buf_append(&many, doc.data, doc.len);
    int sigs = 1;
    const int marks[] = {10, 50, 100};
    printf("signatures  file KB  verify ms (CPU)  ms per MB\n");
    printf("%10d %8zu %16.3f %10.3f\n", sigs, many.len / 1024, v1, v1 / (many.len / 1048576.0));
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
        printf("%10d %8zu %16.3f %10.3f\n", sigs, many.len / 1024, v,
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
