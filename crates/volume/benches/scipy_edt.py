"""Times SciPy's exact EDT on the mask of the Rust benchmark `edt_512x512x200`.

The mask is the union of the ellipsoids listed in `EDT_BLOBS` of benches/volume.rs (keep the two
lists equal) on a 512 x 512 x 200 grid with spacing 0.9 x 0.9 x 2.5 mm, voxel (0, 0, 0) at the
origin. Like `cryoseed_volume::distance_to(&mask)`, it computes for every voxel the distance in mm
to the nearest voxel inside the mask. Prints the median wall time of three runs, in seconds.

    pip install numpy scipy
    python3 crates/volume/benches/scipy_edt.py
"""

import statistics
import time

import numpy as np
import scipy
from scipy import ndimage

# (centre mm, semi-axes mm), x y z.
EDT_BLOBS = [
    ((230.0, 230.0, 250.0), (165.0, 125.0, 215.0)),
    ((110.0, 140.0, 140.0), (70.0, 55.0, 90.0)),
    ((350.0, 310.0, 330.0), (75.0, 85.0, 110.0)),
    ((230.0, 400.0, 90.0), (100.0, 45.0, 70.0)),
    ((310.0, 110.0, 420.0), (85.0, 65.0, 60.0)),
    ((95.0, 360.0, 390.0), (55.0, 75.0, 95.0)),
]
DIMS = (512, 512, 200)  # nx, ny, nz
SPACING = (0.9, 0.9, 2.5)  # mm, x y z


def mask() -> np.ndarray:
    """The mask as a (nz, ny, nx) array, so that x is the fastest axis as in the Rust grid."""
    nx, ny, nz = DIMS
    sx, sy, sz = SPACING
    x = np.arange(nx)[None, None, :] * sx
    y = np.arange(ny)[None, :, None] * sy
    z = np.arange(nz)[:, None, None] * sz
    inside = np.zeros((nz, ny, nx), dtype=bool)
    for (cx, cy, cz), (a, b, c) in EDT_BLOBS:
        inside |= ((x - cx) / a) ** 2 + ((y - cy) / b) ** 2 + ((z - cz) / c) ** 2 <= 1.0
    return inside


def main() -> None:
    inside = mask()
    sampling = (SPACING[2], SPACING[1], SPACING[0])  # array axis order z, y, x
    times = []
    for _ in range(3):
        start = time.perf_counter()
        distance = ndimage.distance_transform_edt(~inside, sampling=sampling)
        times.append(time.perf_counter() - start)
    print(f"numpy {np.__version__}, scipy {scipy.__version__}")
    print(f"mask: {DIMS[0]}x{DIMS[1]}x{DIMS[2]} voxels, {inside.mean():.1%} inside, spacing {SPACING} mm")
    print(f"max distance {distance.max():.3f} mm")
    print(f"scipy.ndimage.distance_transform_edt: median of 3 runs {statistics.median(times):.3f} s")


if __name__ == "__main__":
    main()
