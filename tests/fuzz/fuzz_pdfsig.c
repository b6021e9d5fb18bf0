/* libFuzzer target: pdfsig_verify on arbitrary bytes (the PDF parser, xref reader and CMS check)
 * and pdfsig_places (the signature widgets countersigning places a seal beside).
 * When TUBAN_FUZZ_KEY and TUBAN_FUZZ_CERT name a test key and certificate, every input that
 * pdfsig_sign accepts is also signed and re-verified, checking that signing keeps the verdict:
 * a new signature that covers the whole file and, if the input verified, one more of them. */
#include "pdfsig.h"
#include "tb_buf.h"
#include "tb_err.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static pdfsig_signer *signer;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *key = getenv("TUBAN_FUZZ_KEY"), *cert = getenv("TUBAN_FUZZ_CERT");
    if (key && cert) {
        tb_err e = {0};
        signer = pdfsig_signer_load(key, cert, NULL, NULL, &e);
        if (!signer)
            abort(); /* a misconfigured run should not silently fuzz less */
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pdfsig_info info;
    tb_err err = {0};
    tb_code vrc = pdfsig_verify(data, size, NULL, &info, &err);
    if (vrc != TB_OK && (info.count != 0 || info.all_valid))
        abort(); /* documented: on error, no verdict */
    pdfsig_place places[4]; /* where countersigning looks for the first seal */
    int nplaces = -1;
    tb_err pe = {0};
    if (pdfsig_places(data, size, places, 4, &nplaces, &pe) == TB_OK &&
        (nplaces < 0 || nplaces > 4))
        abort();
    for (int i = 0; i < nplaces; i++)
        if (places[i].page < 1 || places[i].w_pt < 0 || places[i].h_pt < 0)
            abort();
    if (!signer)
        return 0;

    tb_buf b = TB_BUF_INIT;
    tb_buf_append(&b, data, size);
    pdfsig_field f = {.page = 1, .x_pt = 10, .y_pt = 10, .w_pt = 10, .h_pt = 10, .name = "Fz",
                      .signing_time = 1700000000}; /* inside the sample certificate's validity */
    tb_err e2 = {0};
    if (pdfsig_sign(&b, signer, &f, &e2) == TB_OK) {
        pdfsig_info i2;
        tb_err e3 = {0};
        tb_code v2 = pdfsig_verify(b.data, b.len, NULL, &i2, &e3);
        if (v2 != TB_OK && vrc == TB_OK)
            abort();
        if (v2 == TB_OK && !i2.covers_whole_file)
            abort();
        if (v2 == TB_OK && vrc == TB_OK && i2.count != info.count + 1)
            abort();
        if (v2 == TB_OK && vrc == TB_OK && info.all_valid && !i2.all_valid)
            abort();
    }
    tb_buf_release(&b);
    return 0;
}
