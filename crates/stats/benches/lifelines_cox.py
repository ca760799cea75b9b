"""Times lifelines' CoxPHFitter (Efron) on the data set of the Rust benchmark
`cox_efron_100000_rows_10_covariates` (crates/stats/benches/stats.rs), generated with the same
SplitMix64 stream so both fit identical numbers.

    pip install lifelines numpy pandas
    python3 crates/stats/benches/lifelines_cox.py

Prints the median of 3 fits and the coefficients (to compare with cryoseed's)."""

import math
import sys
import time

import lifelines
import numpy as np
import pandas as pd
from lifelines import CoxPHFitter

MASK = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform(self):
        return ((self.next_u64() >> 11) + 0.5) / float(1 << 53)


def cox_data(n, p, seed):
    rng = SplitMix64(seed)
    beta = [0.5 * (j - (p - 1) / 2.0) / p for j in range(p)]
    x = np.empty((n, p))
    t_out = np.empty(n)
    e_out = np.empty(n, dtype=int)
    for i in range(n):
        eta = 0.0
        for j in range(p):
            u1, u2 = rng.uniform(), rng.uniform()
            v = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
            x[i, j] = v
            eta += beta[j] * v
        t = math.ceil(-math.log(rng.uniform()) / (0.01 * math.exp(eta)))
        c = math.ceil(rng.uniform() * 365.0)
        t_out[i] = min(t, c)
        e_out[i] = 1 if t <= c else 0
    df = pd.DataFrame(x, columns=[f"x{j}" for j in range(p)])
    df["time"] = t_out
    df["event"] = e_out
    return df


def main():
    df = cox_data(100_000, 10, 20261128)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        cph = CoxPHFitter().fit(df, duration_col="time", event_col="event")
        times.append(time.perf_counter() - start)
    print(f"lifelines {lifelines.__version__}, numpy {np.__version__}, pandas {pd.__version__}, Python {sys.version.split()[0]}")
    print(f"events: {int(df['event'].sum())} of {len(df)}; distinct times: {df['time'].nunique()}")
    print("fit times (s):", ", ".join(f"{t:.3f}" for t in times), f"median {sorted(times)[1]:.3f}")
    print("coefficients:", " ".join(f"{v:.6f}" for v in cph.params_.to_numpy()))
    print(f"log-likelihood: {cph.log_likelihood_:.6f}; concordance: {cph.concordance_index_:.6f}")


if __name__ == "__main__":
    main()
