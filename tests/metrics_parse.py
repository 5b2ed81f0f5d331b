#!/usr/bin/python3
"""Parses sockd's /metrics text (the file named by argv[1]) with Debian's
python3-prometheus-client and prints each sample as NAME{labels} VALUE,
labels sorted, each family as "type NAME TYPE", then "histograms
consistent" when every histogram's buckets are cumulative and end in a
+Inf bucket equal to its _count. Exits 1 when the parser refuses the text
or a histogram is inconsistent."""
import sys

from prometheus_client.parser import text_string_to_metric_families


def num(v):
    return str(int(v)) if v == int(v) else repr(v)


def histogram_ok(fam):
    series = {}
    for s in fam.samples:
        key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
        h = series.setdefault(key, {"buckets": [], "count": None})
        if s.name.endswith("_bucket"):
            h["buckets"].append((float(s.labels["le"]), s.value))
        elif s.name.endswith("_count"):
            h["count"] = s.value
    for key, h in series.items():
        b = h["buckets"]
        if not b or b[-1][0] != float("inf") or b[-1][1] != h["count"]:
            return False
        if any(b[i][0] >= b[i + 1][0] or b[i][1] > b[i + 1][1]
               for i in range(len(b) - 1)):
            return False
    return True


def main():
    text = open(sys.argv[1]).read()
    ok = True
    try:
        families = list(text_string_to_metric_families(text))
    except ValueError as e:
        print("parse error: %s" % e)
        return 1
    for fam in families:
        print("type %s %s" % (fam.name, fam.type))
        for s in fam.samples:
            labels = ",".join('%s="%s"' % kv for kv in sorted(s.labels.items()))
            print("%s{%s} %s" % (s.name, labels, num(s.value)) if labels
                  else "%s %s" % (s.name, num(s.value)))
        if fam.type == "histogram" and not histogram_ok(fam):
            print("inconsistent histogram %s" % fam.name)
            ok = False
    if ok:
        print("histograms consistent")
    return 0 if ok else 1


sys.exit(main())
