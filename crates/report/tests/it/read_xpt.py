"""Reads a SAS transport file with two independent readers (pyreadstat and pandas) and prints
the values as JSON: {"pyreadstat": {...}, "pandas": {...}, "labels": {...}}. Test tool only."""
import json
import math
import sys

import pandas
import pyreadstat

path = sys.argv[1]
df, meta = pyreadstat.read_xport(path)
pdf = pandas.read_sas(path, format="xport", encoding="ascii")


def clean(frame):
    out = {}
    for col in frame.columns:
        vals = []
        for v in frame[col].tolist():
            if isinstance(v, float) and math.isnan(v):
                vals.append(None)
            elif isinstance(v, bytes):
                vals.append(v.decode("ascii"))
            else:
                vals.append(v)
        out[col] = vals
    return out


print(json.dumps({
    "pyreadstat": clean(df),
    "pandas": clean(pdf),
    "labels": dict(zip(meta.column_names, meta.column_labels)),
    "table_name": meta.table_name,
}))
