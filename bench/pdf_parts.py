#!/usr/bin/env python3
"""Bytes per part of a tuban PDF (issue 11, item 4): each object's bytes, from its "N G obj" to
the next object (or the xref), put in one of: fonts (programs, descriptors, widths, ToUnicode),
seal (the signature appearance's image and mask), map imagery (JPEG), signature (the /Sig
dictionary with its /Contents reservation), page content, other (catalogue, pages, xref,
outline, metadata).  Usage: bench/pdf_parts.py file.pdf ..."""
import re
import sys


def parts(data):
    starts = [(m.start(), int(m.group(1))) for m in re.finditer(rb"(?m)^(\d+) \d+ obj\b", data)]
    refs = lambda key: {int(n) for n in re.findall(rb"/" + key + rb" (\d+) \d+ R", data)}
    to_unicode, contents, smask = refs(b"ToUnicode"), refs(b"Contents"), refs(b"SMask")
    seal_forms = set()
    for m in re.finditer(rb"/AP << /N (\d+) \d+ R", data):
        seal_forms.add(int(m.group(1)))
    sums = {}
    ends = [s for s, _ in starts[1:]] + [len(data)]
    for (start, num), end in zip(starts, ends):
        body = data[start:end]
        x = body.find(b"endobj")
        size = x + 6 if x >= 0 else end - start
        head = body[:400]
        if b"/FontFile3" in head or b"/Subtype /CIDFontType0C" in head or b"/Type /Font" in head \
                or b"/FontDescriptor" in head or num in to_unicode:
            k = "fonts"
        elif b"/Type /Sig" in head:
            k = "signature"
        elif b"/Subtype /Image" in head and b"/DCTDecode" in head:
            k = "map imagery"
        elif b"/Subtype /Image" in head and (b"/SMask" in head or num in smask) or num in seal_forms:
            k = "seal"
        elif num in contents:
            k = "page content"
        else:
            k = "other"
        sums[k] = sums.get(k, 0) + size
    sums["other"] = sums.get("other", 0) + len(data) - sum(sums.values())
    return sums


order = ["fonts", "seal", "map imagery", "signature", "page content", "other"]
print("%-28s %8s " % ("file", "total KB") + " ".join("%12s" % k for k in order))
for path in sys.argv[1:]:
    data = open(path, "rb").read()
    s = parts(data)
    print("%-28s %8.1f " % (path.split("/")[-1], len(data) / 1024) +
          " ".join("%12.1f" % (s.get(k, 0) / 1024) for k in order))
