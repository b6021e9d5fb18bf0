#!/usr/bin/env python3
"""Test helper: writes incremental updates the way an attacker would, with the standard library.

  pdfedit.py paint IN OUT       page 1 gets a second content stream painting white over its body
  pdfedit.py strip IN OUT       the catalog loses /AcroForm and every page its /Annots
  pdfedit.py manysigs IN OUT N  an update adding N signature fields (each with a /Sig value)
  pdfedit.py truncate IN OUT    only the first revision (what the file was before signing)
"""
import re
import sys


def objects(data):
    """Latest definition text of every object number (by scanning; fine for these files)."""
    out = {}
    for m in re.finditer(rb"(?m)^(\d+) 0 obj\s*(<<.*?>>)\s*(?:endobj|stream)", data, re.S):
        out[int(m.group(1))] = m.group(2)
    return out


def trailer(data):
    t = data[data.rindex(b"trailer"):]
    size = int(re.search(rb"/Size (\d+)", t).group(1))
    root = int(re.search(rb"/Root (\d+) 0 R", t).group(1))
    prev = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    return size, root, prev


def update(data, objs, size, root, prev):
    """Appends objs {num: body bytes} as one revision."""
    out = bytearray(data)
    if not out.endswith(b"\n"):
        out += b"\n"
    offs = {}
    for num in sorted(objs):
        offs[num] = len(out)
        out += b"%d 0 obj\n" % num + objs[num] + b"\nendobj\n"
    x = len(out)
    out += b"xref\n0 1\n0000000000 65535 f \n"
    for num in sorted(offs):
        out += b"%d 1\n%010d 00000 n \n" % (num, offs[num])
    out += b"trailer\n<< /Size %d /Root %d 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        max(size, max(objs) + 1), root, prev, x)
    return bytes(out)


# An inline AcroForm without nested dictionaries (as tuban writes it), or a reference to one.
ACROFORM = rb"/AcroForm\s*<<[^<>]*>>|/AcroForm \d+ 0 R"


def pages(objs):
    return [n for n, body in sorted(objs.items()) if re.search(rb"/Type\s*/Page\b", body)]


def main():
    cmd, src, dst = sys.argv[1], sys.argv[2], sys.argv[3]
    data = open(src, "rb").read()
    objs = objects(data)
    size, root, prev = trailer(data)
    if cmd == "paint":
        page = pages(objs)[0]
        body = objs[page]
        paint = b"q 1 1 1 rg 60 80 480 560 re f Q\n"
        new = size
        m = re.search(rb"/Contents\s+(\d+ 0 R|\[[^\]]*\])", body)
        old = m.group(1).strip(b"[]")
        body = body[:m.start()] + b"/Contents [ " + old + b" %d 0 R ]" % new + body[m.end():]
        out = update(data, {new: b"<< /Length %d >>\nstream\n" % len(paint) + paint +
                            b"endstream", page: body}, size + 1, root, prev)
    elif cmd == "strip":
        upd = {root: re.sub(ACROFORM, b"", objs[root])}
        for p in pages(objs):
            if b"/Annots" in objs[p]:
                upd[p] = re.sub(rb"/Annots\s*\[[^\]]*\]", b"", objs[p])
        out = update(data, upd, size, root, prev)
    elif cmd == "manysigs":
        n = int(sys.argv[4])
        page = pages(objs)[0]
        upd, fields = {}, []
        for i in range(n):
            sig, field = size + 2 * i, size + 2 * i + 1
            upd[sig] = (b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached"
                        b" /ByteRange [0 10 20 30] /Contents <3000> >>")
            upd[field] = (b"<< /FT /Sig /T (Flood%d) /V %d 0 R /Type /Annot /Subtype /Widget"
                          b" /Rect [0 0 0 0] /P %d 0 R >>" % (i, sig, page))
            fields.append(b"%d 0 R" % field)
        cat = re.sub(ACROFORM, b"", objs[root])
        upd[root] = cat[:-2] + b" /AcroForm << /Fields [ " + b" ".join(fields) + b" ] /SigFlags 3 >> >>"
        out = update(data, upd, size + 2 * n, root, prev)
    elif cmd == "truncate":
        m = re.search(rb"%%EOF\r?\n?", data)
        out = data[:m.end()]
    else:
        sys.exit("unknown command " + cmd)
    open(dst, "wb").write(out)


main()
