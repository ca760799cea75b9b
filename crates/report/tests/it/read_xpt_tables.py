"""Reads SAS transport files with pyreadstat (an independent reader, PyPI) and prints, per
dataset, its name, variable labels and values as JSON. Test tool only."""
import json
import math
import sys

import pyreadstat

out = {}
for path in sys.argv[1:]:
    df, meta = pyreadstat.read_xport(path)
    columns = {}
    for col in df.columns:
        vals = []
        for v in df[col].tolist():
            if isinstance(v, float) and math.isnan(v):
                vals.append(None)
            else:
                vals.append(v)
        columns[col] = vals
    out[meta.table_name] = {
        "table_name": meta.table_name,
        "labels": dict(zip(meta.column_names, meta.column_labels)),
        "columns": columns,
    }
print(json.dumps(out))
